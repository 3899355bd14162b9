//! Storage types of the providers pallet.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_runtime::{traits::Saturating, Perbill};
use tessera_primitives::reputation::Reputation;
use tessera_traits::{BoundedPlacement, Requirements, SlashReason};

use crate::{BalanceOf, Config};

/// What a provider offers: advertised to requesters, checked at every claim. Generic over its
/// text containers, so one definition serves the calls and the storage: `register` and
/// `update_profile` take a [`ProfileSpec`] (plain vectors, so an over-long field still decodes
/// and gets a named error against `MaxRegionLen`, `MaxLabels` and `MaxLabelLen`), the registry
/// keeps a [`Profile`] (bounded).
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct ProviderProfile<Balance, Region, Labels> {
    /// How many replica slots (live assignments) the provider serves at once.
    pub capacity: u32,
    /// Price per unit of fuel. A provider only takes jobs that offer at least this much.
    pub price_per_fuel: Balance,
    /// Free-form region, e.g. `eu-west`.
    pub region: Region,
    /// Free-form labels, e.g. `gpu`, `sgx`.
    pub labels: Labels,
}

/// A profile as the registry keeps it.
pub type Profile<T> = ProviderProfile<
    BalanceOf<T>,
    BoundedVec<u8, <T as Config>::MaxRegionLen>,
    BoundedVec<BoundedVec<u8, <T as Config>::MaxLabelLen>, <T as Config>::MaxLabels>,
>;

/// A profile as `register` and `update_profile` take it.
pub type ProfileSpec<T> = ProviderProfile<BalanceOf<T>, alloc::vec::Vec<u8>, alloc::vec::Vec<alloc::vec::Vec<u8>>>;

/// A placement in the profiles' own bounds (`MaxRegionLen`, `MaxLabels`, `MaxLabelLen`):
/// what a job can require of a profile. A larger one could never be met.
pub type JobPlacement<T> =
    BoundedPlacement<<T as Config>::MaxRegionLen, <T as Config>::MaxLabels, <T as Config>::MaxLabelLen>;

/// What a job requires of a provider: its terms and its placement.
pub type JobRequirements<T> = Requirements<BalanceOf<T>, JobPlacement<T>>;

/// Stake on its way out: still held (and slashable) until `unlock_at`.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound(T: Config))]
pub struct Unbonding<T: Config> {
    /// Amount unbonding.
    pub amount: BalanceOf<T>,
    /// First block at which it can be withdrawn.
    pub unlock_at: BlockNumberFor<T>,
}

/// A registered provider.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound(T: Config))]
pub struct ProviderInfo<T: Config> {
    /// Active stake: held under `HoldReason::Stake`, counts for eligibility.
    pub stake: BalanceOf<T>,
    /// Stake unbonding: still held under `HoldReason::Stake` and slashable.
    pub unbonding: BoundedVec<Unbonding<T>, T::MaxUnbondingChunks>,
    /// What the provider offers.
    pub profile: Profile<T>,
    /// In maintenance: assigned no new work, not penalized for being offline.
    pub maintenance: bool,
    /// Block of the last heartbeat (or registration).
    pub last_heartbeat: BlockNumberFor<T>,
    /// Replica slots currently assigned (claimed, not yet settled or released).
    pub live_assignments: u32,
    /// Slashes scheduled and not yet applied or cancelled.
    pub pending_slashes: u32,
    /// Decayed reputation score and the counts behind it.
    pub reputation: Reputation,
    /// Position in the dense `ProviderAt` index (for juror sampling).
    pub index: u32,
    /// Block of registration.
    pub registered_at: BlockNumberFor<T>,
}

impl<T: Config> ProviderInfo<T> {
    /// Everything held: active stake plus unbonding chunks.
    pub fn total_held(&self) -> BalanceOf<T> {
        self.unbonding.iter().fold(self.stake, |acc, c| acc.saturating_add(c.amount))
    }
}

/// A slash waiting for its deferral to pass (during which `SlashCancelOrigin` may cancel it).
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound(T: Config))]
pub struct PendingSlash<T: Config> {
    /// Who is slashed.
    pub provider: T::AccountId,
    /// Amount computed when the slash was scheduled; at most what is still held is taken.
    pub amount: BalanceOf<T>,
    /// Who gets a share of it (e.g. the challenger who proved the provider wrong).
    pub beneficiary: Option<(T::AccountId, Perbill)>,
    /// Why.
    pub reason: SlashReason,
    /// Block at which it is applied.
    pub due: BlockNumberFor<T>,
}

/// Id of a pending slash.
pub type SlashId = u32;
