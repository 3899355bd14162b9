//! Storage and call types of the market pallet.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{BoundedVec, CloneNoBound, DebugNoBound, DefaultNoBound, EqNoBound, PartialEqNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::Permill;
pub use tessera_primitives::verdict::DisputeStage;
use tessera_primitives::{Fuel, ProgramId, Receipt};
use tessera_traits::{BoundedPlacement, PlacementSpec, ProviderRegistry, Requirements};

use crate::{BalanceOf, Config};

/// Where a job's input comes from: the bytes themselves, or where to fetch them. Generic over
/// its byte containers, so one definition serves the call and the storage: a requester sends an
/// [`InputSpec`] (plain vectors, so an over-long input still decodes and gets a named error,
/// `InputTooLong` or `UriTooLong`, against `MaxInputLen` and `MaxUriLen`), the job keeps a
/// [`StoredInput`] (bounded).
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub enum Input<Bytes, Uri> {
    /// Small input stored on chain until the job ends (a deposit per byte is held).
    Inline(Bytes),
    /// Large input kept off chain: workers fetch it from `uri` and check it against `hash`
    /// (blake2-256) before running anything.
    Remote {
        /// blake2-256 of the input bytes.
        hash: H256,
        /// Length of the input in bytes.
        len: u64,
        /// Where to fetch it (e.g. `https://…`, `ipfs://…`).
        uri: Uri,
    },
}

/// A job's input as `post_job` takes it.
pub type InputSpec = Input<alloc::vec::Vec<u8>, alloc::vec::Vec<u8>>;

/// A job's input as the chain keeps it (in [`crate::InputOf`]).
pub type StoredInput<T> = Input<BoundedVec<u8, <T as Config>::MaxInputLen>, BoundedVec<u8, <T as Config>::MaxUriLen>>;

/// The provider registry of the market's configuration.
type RegistryOf<T> = <T as Config>::Providers;
/// A placement as the chain keeps it (in [`crate::PlacementOf`]): bounded by the provider
/// registry's own bounds on profiles, so the market takes no requirement that no provider could
/// ever meet.
pub type StoredPlacement<T> = BoundedPlacement<
    <RegistryOf<T> as ProviderRegistry<<T as frame_system::Config>::AccountId>>::MaxRegionLen,
    <RegistryOf<T> as ProviderRegistry<<T as frame_system::Config>::AccountId>>::MaxLabels,
    <RegistryOf<T> as ProviderRegistry<<T as frame_system::Config>::AccountId>>::MaxLabelLen,
>;

/// What a provider must meet to claim a slot of a job: its terms and its placement.
pub type RequirementsOf<T> = Requirements<BalanceOf<T>, StoredPlacement<T>>;

/// The terms of a job: what the requester asks for, and what every provider agrees to by
/// claiming a slot. Given once in the [`JobSpec`] of `post_job` and kept unchanged in the
/// [`Job`], so the two cannot drift apart.
#[derive(
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
    CloneNoBound,
    PartialEqNoBound,
    EqNoBound,
    DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound(T: Config))]
pub struct JobTerms<T: Config> {
    /// The program to run (its code hash).
    pub program: ProgramId,
    /// Fuel each replica may use at most.
    pub fuel_limit: Fuel,
    /// Independent providers that must run the job (1..=`MaxReplicas`).
    pub replicas: u32,
    /// Highest price per unit of fuel the requester pays.
    pub max_price_per_fuel: BalanceOf<T>,
    /// Lowest reputation a provider must have to claim a slot.
    pub min_reputation: Permill,
    /// Longest output to keep on chain (0: only its hash is recorded).
    pub max_output_len: u32,
    /// Blocks the replica slots stay open for claims after posting.
    pub claim_timeout: BlockNumberFor<T>,
    /// Blocks from the last claim until commitments are due (time to execute).
    pub execution_timeout: BlockNumberFor<T>,
    /// Blocks during which an agreed result may be challenged.
    pub challenge_window: BlockNumberFor<T>,
}

impl<T: Config> JobTerms<T> {
    /// What a provider must meet to claim a slot under these terms and `placement`.
    pub fn requirements(&self, placement: StoredPlacement<T>) -> RequirementsOf<T> {
        Requirements { min_reputation: self.min_reputation, max_price_per_fuel: self.max_price_per_fuel, placement }
    }
}

/// What a requester posts: the terms, the input and where the job must run.
#[derive(
    Encode,
    Decode,
    DecodeWithMemTracking,
    TypeInfo,
    CloneNoBound,
    PartialEqNoBound,
    EqNoBound,
    DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct JobSpec<T: Config> {
    /// The terms, stored unchanged as [`Job::terms`].
    pub terms: JobTerms<T>,
    /// The input (the job keeps its hash and length; an inline input is stored in `InputOf`).
    pub input: InputSpec,
    /// The region and labels a provider must advertise to claim a slot (checked against the
    /// registry's bounds: `RegionTooLong`, `TooManyLabels`, `LabelTooLong`). Kept in
    /// `PlacementOf` unless it is empty.
    pub placement: PlacementSpec,
}

/// One replica of a job, held by the provider that claimed it.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound(T: Config))]
pub struct Replica<T: Config> {
    /// The provider.
    pub provider: T::AccountId,
    /// The provider's price per fuel when it claimed (never above the job's maximum).
    pub price_per_fuel: BalanceOf<T>,
    /// The commitment, once made.
    pub commitment: Option<H256>,
    /// The revealed receipt, once revealed.
    pub receipt: Option<Receipt>,
}

/// Where a job is in its life. Each phase ends at its deadline block at the latest.
#[derive(
    Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
)]
pub enum Phase<BlockNumber> {
    /// Replica slots are open for claims until the deadline.
    Open(BlockNumber),
    /// Every slot is taken; assigned providers execute and commit until the deadline.
    Committing(BlockNumber),
    /// Every commitment is in (or its deadline passed); providers reveal until the deadline.
    Revealing(BlockNumber),
    /// `Challengeable(deadline, receipt)`: every replica revealed `receipt` (compared once, when
    /// the reveals ended); anyone but a replica may challenge it until the deadline, when the
    /// job settles by it.
    Challengeable(BlockNumber, Receipt),
    /// In dispute: the referee, a committee draw, sealed votes or their reveals (the
    /// [`Dispute`]'s stage) are due by the deadline.
    Disputed(BlockNumber),
}

impl<B: Copy> Phase<B> {
    /// The block at which this phase ends at the latest.
    pub fn deadline(&self) -> B {
        match self {
            Phase::Open(b) |
            Phase::Committing(b) |
            Phase::Revealing(b) |
            Phase::Challengeable(b, _) |
            Phase::Disputed(b) => *b,
        }
    }
}

/// What one account should hold for the market, by hold reason (see `Pallet::hold_books`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct HoldBooks<Balance> {
    /// `HoldReason::Escrow`: escrow of the account's live jobs.
    pub escrow: Balance,
    /// `HoldReason::StorageDeposit`: deposits of its live jobs and retained results.
    pub deposit: Balance,
    /// `HoldReason::ChallengeBond`: bonds of its open challenges.
    pub bond: Balance,
}

/// A live job.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound(T: Config))]
pub struct Job<T: Config> {
    /// Who posted and pays.
    pub requester: T::AccountId,
    /// The terms it was posted with.
    pub terms: JobTerms<T>,
    /// blake2-256 of the input (inline or remote).
    pub input_hash: H256,
    /// Length of the input in bytes.
    pub input_len: u64,
    /// Amount still held from the requester in escrow for this job (payments and fee).
    pub escrow: BalanceOf<T>,
    /// Storage deposit held from the requester for this job.
    pub deposit: BalanceOf<T>,
    /// Block the job was posted.
    pub posted_at: BlockNumberFor<T>,
    /// Where the job is (changed only through `Pallet::transition`, which moves its deadline
    /// in `Deadlines` with it).
    pub phase: Phase<BlockNumberFor<T>>,
    /// Claimed replica slots (at most `terms.replicas`).
    pub slots: BoundedVec<Replica<T>, T::MaxReplicas>,
    /// How often missed commitments reopened slots.
    pub reopens: u32,
}

impl<T: Config> Job<T> {
    /// Index of `who`'s replica, if it holds one.
    pub fn slot_of(&self, who: &T::AccountId) -> Option<usize> {
        self.slots.iter().position(|s| &s.provider == who)
    }

    /// Whether every slot is taken.
    pub fn is_full(&self) -> bool {
        self.slots.len() as u32 >= self.terms.replicas
    }
}

/// A challenge of a job's result.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound(T: Config))]
pub struct Challenge<T: Config> {
    /// Who challenged.
    pub challenger: T::AccountId,
    /// The bond held from the challenger.
    pub bond: BalanceOf<T>,
}

/// A juror's seat.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound(T: Config))]
pub struct Juror<T: Config> {
    /// The juror (an active provider).
    pub who: T::AccountId,
    /// The juror's sealed vote ([`tessera_primitives::vote_commitment`]), once cast.
    pub sealed: Option<H256>,
    /// The receipt the juror revealed, once it opened its sealed vote.
    pub vote: Option<Receipt>,
}

/// A dispute over a job's result.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound(T: Config))]
pub struct Dispute<T: Config> {
    /// The challenge that opened it, or `None` when the replicas disagreed.
    pub challenge: Option<Challenge<T>>,
    /// The drawn committee (empty while the round is `Drawing`).
    pub committee: BoundedVec<Juror<T>, T::CommitteeSize>,
    /// Draws so far (a committee without a majority is replaced, up to `MaxDisputeRounds`).
    pub round: u32,
    /// Where the current round is.
    pub stage: DisputeStage,
}

/// How a job ended.
#[derive(
    Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
)]
pub enum Outcome {
    /// The result was verified (by agreement and an unchallenged window, or by a committee)
    /// and providers were paid.
    Settled,
    /// The requester cancelled.
    Cancelled,
    /// Not enough providers claimed, committed or revealed in time; the requester was refunded.
    Expired,
    /// A dispute found no majority in any round; the requester was refunded, nobody slashed.
    Inconclusive,
}

/// What is kept of a job after it ends, for `ResultRetention` blocks.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound(T: Config))]
pub struct JobResult<T: Config> {
    /// Who posted the job.
    pub requester: T::AccountId,
    /// The program.
    pub program: ProgramId,
    /// How it ended.
    pub outcome: Outcome,
    /// The verified receipt (when settled).
    pub receipt: Option<Receipt>,
    /// The output, when it was revealed inline and matches the verified receipt.
    pub output: Option<BoundedVec<u8, T::MaxOutputLen>>,
    /// Paid to providers.
    pub paid: BalanceOf<T>,
    /// Protocol fee paid to the treasury.
    pub fee: BalanceOf<T>,
    /// Refunded to the requester from escrow.
    pub refunded: BalanceOf<T>,
    /// Storage deposit still held for this record (released when it is pruned).
    pub deposit: BalanceOf<T>,
    /// Block the job ended.
    pub ended_at: BlockNumberFor<T>,
}

/// The most providers that can forfeit a slot of one job: `MaxReplicas` releases, plus the
/// replicas that miss their commitments at each of the `MaxReopens + 1` commit deadlines.
pub struct MaxForfeits<T>(core::marker::PhantomData<T>);

impl<T: Config> frame_support::traits::Get<u32> for MaxForfeits<T> {
    fn get() -> u32 {
        let replicas = T::MaxReplicas::get();
        replicas.saturating_mul(T::MaxReopens::get().saturating_add(2))
    }
}

/// Providers that gave up a slot of a live job (released it, or missed its commitment) and
/// may not claim that job again: otherwise one staked account could claim a reopened slot,
/// miss it, and claim it again until the job expires.
#[derive(
    Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, DefaultNoBound,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound(T: Config))]
pub struct Forfeits<T: Config> {
    /// How many of them released their slot (at most `MaxReplicas`).
    pub releases: u32,
    /// Who.
    pub providers: BoundedVec<T::AccountId, MaxForfeits<T>>,
}
