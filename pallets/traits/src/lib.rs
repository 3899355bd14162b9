//! # Tessera traits
//!
//! The small interfaces through which Tessera's pallets reach each other. The market pallet
//! is configured with *a* provider registry and *a* program registry; it never names the
//! providers or programs pallet, so either can be replaced (or mocked in tests).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_runtime::{
    traits::{Get, Zero},
    BoundedVec, DispatchError, DispatchResult, Perbill, Permill,
};
pub use tessera_primitives::{reputation::Outcome, ProgramId};

/// What a job asks of the providers that serve it: terms (reputation, price) and a
/// [`Placement`].
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct Requirements<Balance, Placement> {
    /// Lowest acceptable reputation score.
    pub min_reputation: Permill,
    /// Highest acceptable price per unit of fuel.
    pub max_price_per_fuel: Balance,
    /// Where the job must run (a [`BoundedPlacement`] in the registry's bounds).
    pub placement: Placement,
}

/// Where a job must run: in one region (when `region` is `Some`) and on a provider that
/// advertises every one of `labels`. Regions and labels are free-form bytes, compared
/// exactly, against the `region` and `labels` of the provider's profile. Generic over its
/// containers, so one definition serves the call and the storage: a requester sends a
/// [`PlacementSpec`] (plain vectors, so an over-long region or label still decodes and gets a
/// named error), the chain keeps a [`BoundedPlacement`] in the provider registry's own bounds
/// (a requirement no profile could meet is refused when the job is posted).
#[derive(
    Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug, Default,
)]
pub struct Placement<Region, Labels> {
    /// The one region the provider must advertise; `None`: any region.
    pub region: Option<Region>,
    /// Labels the provider must all advertise (in any order, among others); empty: none.
    pub labels: Labels,
}

/// A placement as a call takes it.
pub type PlacementSpec = Placement<Vec<u8>, Vec<Vec<u8>>>;

/// A placement bounded as the provider registry bounds profiles: a region of at most
/// `RegionLen` bytes, at most `MaxLabels` labels of at most `LabelLen` bytes each.
pub type BoundedPlacement<RegionLen, MaxLabels, LabelLen> =
    Placement<BoundedVec<u8, RegionLen>, BoundedVec<BoundedVec<u8, LabelLen>, MaxLabels>>;

/// Why a [`PlacementSpec`] does not fit the registry's bounds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PlacementTooLarge {
    /// The region is longer than the registry's longest region.
    RegionTooLong,
    /// More labels than a profile may have.
    TooManyLabels,
    /// A label is longer than the registry's longest label.
    LabelTooLong,
}

impl PlacementSpec {
    /// Whether this asks for nothing (any provider meets it).
    pub fn is_empty(&self) -> bool {
        self.region.is_none() && self.labels.is_empty()
    }

    /// The placement in the bounds `RegionLen`, `MaxLabels`, `LabelLen`, or which part is too
    /// large.
    pub fn bounded<RegionLen: Get<u32>, MaxLabels: Get<u32>, LabelLen: Get<u32>>(
        self,
    ) -> Result<BoundedPlacement<RegionLen, MaxLabels, LabelLen>, PlacementTooLarge> {
        let Placement { region, labels } = self;
        let region = region.map(|r| r.try_into().map_err(|_| PlacementTooLarge::RegionTooLong)).transpose()?;
        if labels.len() > MaxLabels::get() as usize {
            return Err(PlacementTooLarge::TooManyLabels);
        }
        let labels: Vec<BoundedVec<u8, LabelLen>> = labels
            .into_iter()
            .map(|l| l.try_into().map_err(|_| PlacementTooLarge::LabelTooLong))
            .collect::<Result<_, _>>()?;
        let labels = labels.try_into().map_err(|_| PlacementTooLarge::TooManyLabels)?;
        Ok(Placement { region, labels })
    }
}

impl<RegionLen, MaxLabels, LabelLen> BoundedPlacement<RegionLen, MaxLabels, LabelLen> {
    /// Whether this asks for nothing (any provider meets it).
    pub fn is_empty(&self) -> bool {
        self.region.is_none() && self.labels.is_empty()
    }

    /// Whether a provider advertising `region` and `labels` meets this placement: its region
    /// is the required one ([`Ineligible::WrongRegion`] otherwise) and it has every required
    /// label ([`Ineligible::MissingLabel`] otherwise). Bytes are compared exactly.
    pub fn met_by<Label: AsRef<[u8]>>(&self, region: &[u8], labels: &[Label]) -> Result<(), Ineligible> {
        if self.region.as_ref().is_some_and(|r| r.as_slice() != region) {
            return Err(Ineligible::WrongRegion);
        }
        for wanted in self.labels.iter() {
            if !labels.iter().any(|l| l.as_ref() == wanted.as_slice()) {
                return Err(Ineligible::MissingLabel);
            }
        }
        Ok(())
    }
}

/// Why a provider may not take a job. Each maps to a named error of the caller.
#[derive(
    Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
)]
pub enum Ineligible {
    /// Not a registered provider.
    NotProvider,
    /// No heartbeat within the liveness timeout.
    Inactive,
    /// In maintenance mode: takes no new work.
    InMaintenance,
    /// Active stake below the minimum.
    StakeTooLow,
    /// Reputation below the job's minimum.
    ReputationTooLow,
    /// Advertised price above the job's maximum.
    PriceTooHigh,
    /// Every unit of advertised capacity is in use.
    NoCapacity,
    /// The provider's region is not the one the job's placement requires.
    WrongRegion,
    /// The provider lacks a label the job's placement requires.
    MissingLabel,
}

/// Why a slash happens (recorded with it, shown in events).
#[derive(
    Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
)]
pub enum SlashReason {
    /// Revealed a result the dispute resolution found wrong.
    WrongResult,
    /// Missed a commit, reveal or vote deadline.
    MissedDeadline,
    /// Voted, as a juror, a receipt other than the one the committee's majority decided.
    MinorityVote,
}

/// The provider registry as the market sees it.
pub trait ProviderRegistry<AccountId> {
    /// The currency amount type.
    type Balance: Zero;

    /// Longest region of a profile (and so of a placement anyone can meet).
    type MaxRegionLen: Get<u32>;
    /// Most labels of a profile.
    type MaxLabels: Get<u32>;
    /// Longest label of a profile.
    type MaxLabelLen: Get<u32>;

    /// Checks that `who` may take a replica slot under `req` (terms and placement); returns
    /// its price per fuel.
    fn check_eligible(
        who: &AccountId,
        req: &Requirements<Self::Balance, BoundedPlacement<Self::MaxRegionLen, Self::MaxLabels, Self::MaxLabelLen>>,
    ) -> Result<Self::Balance, Ineligible>;

    /// Whether `who` is registered, live, not in maintenance and staked at least the minimum
    /// (what a juror must be; a job's placement does not restrict its jurors, who only verify).
    fn is_active(who: &AccountId) -> bool;

    /// Takes one unit of `who`'s capacity for a live assignment.
    fn assign(who: &AccountId) -> DispatchResult;

    /// Gives back one unit of capacity.
    fn release(who: &AccountId);

    /// Updates `who`'s reputation.
    fn record_outcome(who: &AccountId, outcome: Outcome);

    /// Schedules a slash of `fraction` of `who`'s stake (active and unbonding). A `beneficiary`
    /// gets its share of what is slashed, the treasury the rest. Returns the amount scheduled
    /// (zero when slashing is switched off).
    fn slash(
        who: &AccountId,
        fraction: Perbill,
        beneficiary: Option<(AccountId, Perbill)>,
        reason: SlashReason,
    ) -> Self::Balance {
        Self::slash_at_least(who, fraction, Zero::zero(), beneficiary, reason)
    }

    /// Schedules a slash of `fraction` of `who`'s stake, but at least `floor` (and at most
    /// everything held): for a fault whose harm is the value of what was abandoned rather than
    /// a share of the stake. Otherwise as [`Self::slash`].
    fn slash_at_least(
        who: &AccountId,
        fraction: Perbill,
        floor: Self::Balance,
        beneficiary: Option<(AccountId, Perbill)>,
        reason: SlashReason,
    ) -> Self::Balance;

    /// `who`'s active stake (held and not unbonding); zero when `who` is not registered.
    /// Weighs the committee draw.
    fn stake_of(who: &AccountId) -> Self::Balance;

    /// Number of registered providers.
    fn provider_count() -> u32;

    /// The provider at `index` in `0..provider_count()` (dense, order unspecified).
    fn provider_at(index: u32) -> Option<AccountId>;
}

/// The program registry as the market sees it.
pub trait ProgramRegistry<AccountId> {
    /// Checks the program exists and marks one more live job using it (it cannot be removed
    /// while jobs use it).
    fn acquire(program: &ProgramId) -> Result<(), DispatchError>;

    /// One job fewer uses the program.
    fn release(program: &ProgramId);

    /// Whether the program exists.
    fn exists(program: &ProgramId) -> bool;
}

/// What the referee found: the receipt of its own execution, and the size of the code it had
/// to compile (a referee call's weight depends on both).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Refereed {
    /// The receipt, final for the dispute.
    pub receipt: tessera_primitives::Receipt,
    /// Length of the program's code in bytes.
    pub code_len: u32,
}

/// Why the referee gave no receipt. Either way the dispute falls back to a committee.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RefereeError {
    /// The program is not in the registry (it cannot be removed while a job uses it, so this
    /// is a defect, reported rather than panicking).
    ProgramNotFound,
    /// The engine could not run the program (instrumentation or engine failure: the machine,
    /// not the program, decided).
    Unrunnable,
}

/// The on-chain referee: re-executes a job's program with the protocol's metering, inside the
/// runtime, without side effects. The market calls it for disputes of small jobs; the
/// validators' auditors call it off chain.
pub trait Referee {
    /// The largest program the referee may have to compile (bounds a referee call's weight).
    fn max_code_len() -> u32;

    /// Runs `program` on `input` with `fuel` and an output limit of `max_output_len` bytes.
    fn execute(
        program: &ProgramId,
        input: &[u8],
        fuel: tessera_primitives::Fuel,
        max_output_len: u32,
    ) -> Result<Refereed, RefereeError>;
}
