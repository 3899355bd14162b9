//! # Tessera traits
//!
//! The small interfaces through which Tessera's pallets reach each other. The market pallet
//! is configured with *a* provider registry and *a* program registry; it never names the
//! providers or programs pallet, so either can be replaced (or mocked in tests).
#![cfg_attr(not(feature = "std"), no_std)]

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_runtime::{traits::Zero, DispatchError, DispatchResult, Perbill, Permill};
pub use tessera_primitives::{reputation::Outcome, ProgramId};

/// What a job asks of the providers that serve it.
#[derive(Encode, Decode, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct Requirements<Balance> {
    /// Lowest acceptable reputation score.
    pub min_reputation: Permill,
    /// Highest acceptable price per unit of fuel.
    pub max_price_per_fuel: Balance,
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

    /// Checks that `who` may take a replica slot under `req`; returns its price per fuel.
    fn check_eligible(who: &AccountId, req: &Requirements<Self::Balance>) -> Result<Self::Balance, Ineligible>;

    /// Whether `who` is registered, live, not in maintenance and staked at least the minimum
    /// (what a juror must be).
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
