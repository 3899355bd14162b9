//! # Market pallet
//!
//! The job lifecycle of Tessera: requesters post jobs with escrowed payment, staked providers
//! claim replica slots, execute the program off chain, commit to their receipts, reveal them,
//! and are paid once the challenge window closes, unless a dispute, decided by a committee of
//! randomly drawn providers, finds them wrong, in which case they are slashed.
//!
//! ## Calls
//!
//! | call | origin | phase | effect |
//! |---|---|---|---|
//! | [`post_job`](Pallet::post_job) | signed | – | hold escrow and deposit, open `replicas` slots |
//! | [`cancel_job`](Pallet::cancel_job) | requester | Open, Committing | refund; claimers get `CancellationCompensation` |
//! | [`claim_slot`](Pallet::claim_slot) | eligible provider | Open | take a replica slot (one per provider) |
//! | [`release_slot`](Pallet::release_slot) | replica | Open, Committing (before its commitment) | give the slot back, no penalty, no second claim |
//! | [`commit`](Pallet::commit) | replica | Committing | submit `commitment(job, provider, receipt, salt)` |
//! | [`reveal`](Pallet::reveal) | replica | Revealing | reveal receipt, salt and (optionally) the output |
//! | [`challenge`](Pallet::challenge) | anyone but a replica | Challengeable | hold `ChallengeBond`, open a dispute |
//! | [`vote`](Pallet::vote) | drawn juror | Disputed (voting) | seal `vote_commitment(job, round, juror, receipt, salt)` |
//! | [`reveal_vote`](Pallet::reveal_vote) | juror who voted | Disputed (revealing) | open the sealed vote |
//! | [`referee`](Pallet::referee) | anyone | Disputed (refereeable, before a draw) | the runtime re-executes the job and settles it |
//!
//! ## Phases and deadlines
//!
//! Every live job has exactly one deadline in [`Deadlines`], the end of its current
//! [`Phase`]; one helper (`transition`) changes the phase and moves the deadline together, so
//! the two cannot fall out of step. Calls move a job on early (the last claim, commitment or
//! reveal); otherwise `on_initialize` handles the deadline: it expires unfilled jobs, faults
//! replicas that missed a commitment or reveal (small slash, slot reopened), settles jobs
//! whose challenge window closed, draws committees and tallies their votes. It processes at
//! most `MaxTransitionsPerBlock` deadlines per block, in block order, so its work is
//! proportional to the jobs whose deadline came, never to all jobs. A job's storage is removed
//! when it ends; a bounded [`JobResult`] stays for `ResultRetention` blocks, and calls on the
//! job fail with `JobEnded` until it is pruned.
//!
//! ## Assignment: claims
//!
//! Providers *claim* slots first come, first served, and the chain checks their eligibility
//! (registered, live, not in maintenance, the job's placement, reputation, price ≤ offer, free
//! capacity). A job's [`Placement`](tessera_traits::Placement) asks for one region and a set
//! of labels that the provider's profile must advertise (exact bytes), within the registry's
//! own bounds on profiles; it is kept in [`PlacementOf`] only when it asks for something.
//! Committees are drawn from every active provider whatever the placement.
//! A claim comes from a worker that has the capacity right now, so no deadline is wasted on an
//! offline provider; a provider holds at most one slot per job; commit–reveal stops replicas
//! copying each other; and the committee that checks a disputed result is drawn at random, so
//! a provider who claims many jobs gains nothing against verification. See docs/PROTOCOL.md.
//!
//! ## Money
//!
//! The escrow of a job ([`tessera_primitives::pricing::quote`]) covers every replica using the
//! whole fuel limit at the highest price, plus the protocol fee. Settlement pays each replica
//! `fuel_used × its price`, the fee on that to the treasury, and releases the rest. Verified
//! work also earns an emission reward from a per-era budget
//! ([`tessera_primitives::emission`]), the only way this pallet creates funds, all of it
//! counted in [`TotalEmitted`].
//!
//! ## Code layout
//!
//! `lib.rs` declares (config, storage, events, errors, and calls that delegate to `do_*`);
//! [`types`] holds the stored types, among them the [`JobTerms`] that a [`JobSpec`] brings
//! and a [`Job`] keeps. The bodies, each an `impl Pallet` block, are split by role:
//! `calls.rs` (the calls' `do_*`), `terms.rs` (checks, quotes, deposits, requirements),
//! `deadlines.rs` (the queue, `transition`, what happens at each deadline), `disputes.rs`
//! (opening, committee draws, tallies), `settlement.rs` (how jobs end; all fund movements) and
//! `invariants.rs` (`do_try_state`, the hold books).
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod attacks;
mod calls;
mod deadlines;
mod disputes;
pub mod migrations;
#[cfg(any(feature = "try-runtime", feature = "std", test))]
mod invariants;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod proptests;
mod referee;
#[cfg(test)]
mod referee_tests;
mod settlement;
mod terms;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

/// What the benchmarks need from the runtime: providers and programs to exist.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
    /// Funds and registers `who` as an active provider with plenty of stake and capacity, at
    /// a price of 1 per fuel, advertising the region and labels of [`widest_placement`] (so
    /// it meets the benchmarks' jobs, which require them all).
    fn register_provider(who: &AccountId);
    /// Uploads a program owned by `owner` and returns its id.
    fn program(owner: &AccountId) -> tessera_primitives::ProgramId;
    /// The most providers the registry can hold (bounds the committee-draw benchmark).
    fn max_providers() -> u32;
    /// Makes a registered provider ineligible as a juror (e.g. maintenance mode), for the
    /// committee draw's worst case.
    fn make_ineligible(who: &AccountId);
    /// Uploads the referee's worst case, a program of `code_len` bytes that loads and stores
    /// at random over the largest memory and calls the host until its fuel runs out
    /// ([`tessera_executor::worst_case::program`]), and returns its id.
    fn referee_program(owner: &AccountId, code_len: u32) -> tessera_primitives::ProgramId;
}

/// The largest placement the provider registry's bounds allow, for the benchmarks' worst case:
/// a region of `MaxRegionLen` bytes and `MaxLabels` distinct labels of `MaxLabelLen` bytes
/// that differ only in their last byte (so every comparison reads a whole label).
#[cfg(feature = "runtime-benchmarks")]
pub fn widest_placement<T: Config>() -> tessera_traits::PlacementSpec {
    use frame_support::traits::Get;
    use tessera_traits::ProviderRegistry;
    type R<T> = <T as Config>::Providers;
    type A<T> = <T as frame_system::Config>::AccountId;
    let region_len = <R<T> as ProviderRegistry<A<T>>>::MaxRegionLen::get() as usize;
    let labels = <R<T> as ProviderRegistry<A<T>>>::MaxLabels::get();
    let label_len = (<R<T> as ProviderRegistry<A<T>>>::MaxLabelLen::get() as usize).max(1);
    tessera_traits::Placement {
        region: Some(alloc::vec![b'r'; region_len]),
        labels: (0..labels)
            .map(|i| {
                let mut label = alloc::vec![b'l'; label_len];
                label[label_len - 1] = i as u8;
                label
            })
            .collect(),
    }
}

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::market";

/// The balance type of the configured currency.
pub type BalanceOf<T> = <<T as Config>::Currency as frame_support::traits::fungible::Inspect<
    <T as frame_system::Config>::AccountId,
>>::Balance;

#[frame_support::pallet]
pub mod pallet {
    use super::*;
    use alloc::boxed::Box;
    use frame_support::{
        pallet_prelude::*,
        traits::{
            fungible::{Inspect, InspectHold, Mutate, MutateHold},
            Randomness,
        },
    };
    use frame_system::pallet_prelude::*;
    use sp_core::H256;
    use sp_runtime::{traits::Zero, Perbill};
    use tessera_primitives::{Fuel, JobId, ProgramId, Receipt};
    use tessera_traits::{ProgramRegistry, ProviderRegistry, Referee};

    /// The in-code storage version.
    const STORAGE_VERSION: StorageVersion = StorageVersion::new(2);

    #[pallet::pallet]
    #[pallet::storage_version(STORAGE_VERSION)]
    pub struct Pallet<T>(_);

    /// Why this pallet holds funds.
    #[pallet::composite_enum]
    pub enum HoldReason {
        /// A job's escrow: the most its replicas can be paid plus the protocol fee.
        Escrow,
        /// The storage deposit of a job's input, and later of its retained result.
        StorageDeposit,
        /// A challenger's bond.
        ChallengeBond,
    }

    #[pallet::config]
    pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
        /// The native currency: escrow, deposits and bonds are held through it, rewards minted.
        type Currency: Inspect<Self::AccountId>
            + Mutate<Self::AccountId>
            + MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
            + InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

        /// The runtime's hold reasons.
        type RuntimeHoldReason: From<HoldReason>;

        /// The provider registry (eligibility, capacity, reputation, slashing).
        type Providers: ProviderRegistry<Self::AccountId, Balance = BalanceOf<Self>>;

        /// The program registry.
        type Programs: ProgramRegistry<Self::AccountId>;

        /// The on-chain referee that re-executes small disputed jobs.
        type Referee: Referee;

        /// Highest fuel limit of a job whose disputes the referee decides (its weight bounds
        /// the heaviest referee call, which must fit in a block).
        #[pallet::constant]
        type RefereeFuelLimit: Get<Fuel>;

        /// Longest input of a job whose disputes the referee decides.
        #[pallet::constant]
        type MaxRefereeInputLen: Get<u32>;

        /// Blocks a refereeable dispute waits for a `referee` call before it goes to a
        /// committee.
        #[pallet::constant]
        type RefereeTimeout: Get<BlockNumberFor<Self>>;

        /// Source of randomness for drawing committees.
        type Randomness: Randomness<Self::Hash, BlockNumberFor<Self>>;

        /// Receives protocol fees and the rest of forfeited bonds.
        #[pallet::constant]
        type Treasury: Get<Self::AccountId>;

        /// Most replicas a job can ask for.
        #[pallet::constant]
        type MaxReplicas: Get<u32>;

        /// Longest inline input.
        #[pallet::constant]
        type MaxInputLen: Get<u32>;

        /// Longest URI of a remote input.
        #[pallet::constant]
        type MaxUriLen: Get<u32>;

        /// Longest output kept on chain.
        #[pallet::constant]
        type MaxOutputLen: Get<u32>;

        /// Highest fuel limit of a job.
        #[pallet::constant]
        type MaxFuel: Get<Fuel>;

        /// Most live jobs (posted and not yet ended).
        #[pallet::constant]
        type MaxLiveJobs: Get<u32>;

        /// Longest claim or execution timeout a job may ask for.
        #[pallet::constant]
        type MaxTimeout: Get<BlockNumberFor<Self>>;

        /// Shortest challenge window.
        #[pallet::constant]
        type MinChallengeWindow: Get<BlockNumberFor<Self>>;

        /// Longest challenge window.
        #[pallet::constant]
        type MaxChallengeWindow: Get<BlockNumberFor<Self>>;

        /// Blocks replicas have to reveal once every commitment is in.
        #[pallet::constant]
        type RevealTimeout: Get<BlockNumberFor<Self>>;

        /// Blocks a slot reopened after a missed commitment stays open for claims.
        #[pallet::constant]
        type ReopenTimeout: Get<BlockNumberFor<Self>>;

        /// How often a job's slots can be reopened before it expires.
        #[pallet::constant]
        type MaxReopens: Get<u32>;

        /// Jurors drawn per dispute round.
        #[pallet::constant]
        type CommitteeSize: Get<u32>;

        /// Blocks between a dispute round's start and its committee draw, so the draw's seed
        /// comes from blocks that did not exist when the dispute was opened.
        #[pallet::constant]
        type DrawDelay: Get<BlockNumberFor<Self>>;

        /// Stake above which a provider's weight in committee draws grows no further.
        #[pallet::constant]
        type JurorStakeCap: Get<BalanceOf<Self>>;

        /// Blocks a committee has to submit sealed votes.
        #[pallet::constant]
        type VoteTimeout: Get<BlockNumberFor<Self>>;

        /// Blocks jurors have to reveal their sealed votes once voting closed.
        #[pallet::constant]
        type VoteRevealTimeout: Get<BlockNumberFor<Self>>;

        /// Fraction of stake slashed from a juror whose revealed vote differs from the
        /// committee's verdict.
        #[pallet::constant]
        type MinorityVoteSlash: Get<Perbill>;

        /// Committees drawn at most per dispute before it is declared inconclusive.
        #[pallet::constant]
        type MaxDisputeRounds: Get<u32>;

        /// Bond a challenger puts at risk.
        #[pallet::constant]
        type ChallengeBond: Get<BalanceOf<Self>>;

        /// Protocol fee, as a fraction of what providers are paid, on top of it.
        #[pallet::constant]
        type ProtocolFee: Get<Perbill>;

        /// Share of a slot's maximum payment a claimer gets when the job is cancelled (or
        /// expires after it committed).
        #[pallet::constant]
        type CancellationCompensation: Get<Perbill>;

        /// Fraction of stake slashed from a provider whose result was found wrong.
        #[pallet::constant]
        type WrongResultSlash: Get<Perbill>;

        /// Fraction of stake slashed for a missed commitment, reveal or vote.
        #[pallet::constant]
        type MissedDeadlineSlash: Get<Perbill>;

        /// Share of a wrong provider's slash paid to the challenger who exposed it.
        #[pallet::constant]
        type ChallengerShare: Get<Perbill>;

        /// Storage deposit per job (and per retained result).
        #[pallet::constant]
        type DepositBase: Get<BalanceOf<Self>>;

        /// Storage deposit per byte of inline input and of the output limit.
        #[pallet::constant]
        type DepositPerByte: Get<BalanceOf<Self>>;

        /// Blocks a [`JobResult`] is kept after a job ends.
        #[pallet::constant]
        type ResultRetention: Get<BlockNumberFor<Self>>;

        /// Most deadlines `on_initialize` handles per block (more wait for the next block).
        #[pallet::constant]
        type MaxTransitionsPerBlock: Get<u32>;

        /// Blocks per emission era.
        #[pallet::constant]
        type EraLength: Get<u32>;

        /// Emission budget of era 0.
        #[pallet::constant]
        type InitialEraEmission: Get<BalanceOf<Self>>;

        /// How much smaller each era's budget is than the previous one.
        #[pallet::constant]
        type EmissionDecay: Get<Perbill>;

        /// Emission minted per unit paid into the treasury by verified work: a paid replica
        /// is minted this share of the protocol fee its payment paid, the majority jurors of
        /// a dispute share this share of what the losers' slashes pay the treasury (until the
        /// era's budget is spent). Below 100 %, nobody earns more from emission than it pays
        /// in ([`tessera_primitives::emission`]).
        #[pallet::constant]
        type EmissionMatch: Get<Perbill>;

        /// Non-refundable fee (to the treasury) for posting a job while at most half of
        /// `MaxLiveJobs` are live; it doubles with every further sixteenth of occupancy (128×
        /// in the last one, [`tessera_primitives::pricing::posting_fee`]), so filling the market
        /// is expensive for anyone who tries.
        #[pallet::constant]
        type PostingFee: Get<BalanceOf<Self>>;

        /// The slowest execution a job's terms must allow for: `execution_timeout` must be at
        /// least `ceil(fuel_limit / FuelPerBlock) + 1` blocks, so no job can be posted that an
        /// honest provider cannot finish before its commitment is due.
        #[pallet::constant]
        type FuelPerBlock: Get<Fuel>;

        /// Most weight `on_initialize` spends on deadlines in one block (the first due deadline
        /// is always handled); the rest wait for the next block.
        #[pallet::constant]
        type MaxDeadlineWeight: Get<Weight>;

        /// Weights of this pallet's calls and hooks.
        type WeightInfo: WeightInfo;

        /// Sets up providers and programs for the benchmarks, which reach the registries only
        /// through traits.
        #[cfg(feature = "runtime-benchmarks")]
        type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
    }

    /// The id the next job gets.
    #[pallet::storage]
    pub type NextJobId<T: Config> = StorageValue<_, JobId, ValueQuery>;

    /// Live jobs.
    ///
    /// Twox64Concat: job ids are assigned by the pallet, not chosen by users.
    #[pallet::storage]
    pub type JobOf<T: Config> = CountedStorageMap<_, Twox64Concat, JobId, Job<T>>;

    /// Input of live jobs.
    #[pallet::storage]
    pub type InputOf<T: Config> = StorageMap<_, Twox64Concat, JobId, StoredInput<T>>;

    /// Placement of live jobs that require one (a job without placement has no entry, and
    /// costs nothing here). Removed when the job ends.
    #[pallet::storage]
    pub type PlacementOf<T: Config> = StorageMap<_, Twox64Concat, JobId, StoredPlacement<T>>;

    /// Inline outputs revealed for live jobs, one per distinct receipt (at most `replicas`).
    ///
    /// Identity for the second key: it is a receipt digest, already a hash.
    #[pallet::storage]
    pub type OutputOf<T: Config> =
        StorageDoubleMap<_, Twox64Concat, JobId, Identity, H256, BoundedVec<u8, T::MaxOutputLen>>;

    /// Open disputes.
    #[pallet::storage]
    pub type DisputeOf<T: Config> = StorageMap<_, Twox64Concat, JobId, Dispute<T>>;

    /// What is kept of ended jobs, until `ResultRetention` blocks after they end.
    #[pallet::storage]
    pub type ResultOf<T: Config> = StorageMap<_, Twox64Concat, JobId, JobResult<T>>;

    /// Deadlines by block: one entry per live job (the end of its phase) and per retained
    /// result (its pruning). Work due at a block is found by prefix, never by scanning.
    #[pallet::storage]
    pub type Deadlines<T: Config> =
        StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Twox64Concat, JobId, (), OptionQuery>;

    /// The earliest block whose deadlines may not all have been handled yet.
    #[pallet::storage]
    pub type DeadlineCursor<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

    /// The current emission era and what was minted in it.
    #[pallet::storage]
    pub type EraEmission<T: Config> = StorageValue<_, (u32, BalanceOf<T>), ValueQuery>;

    /// Providers that released or missed a slot of a live job, who may not claim it again, and
    /// how many of them released (at most `MaxReplicas` releases per job). Removed when the
    /// job ends.
    #[pallet::storage]
    pub type ForfeitedOf<T: Config> = StorageMap<_, Twox64Concat, JobId, Forfeits<T>, ValueQuery>;

    /// Everything ever minted as rewards for verified work.
    #[pallet::storage]
    pub type TotalEmitted<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

    #[pallet::event]
    #[pallet::generate_deposit(pub(super) fn deposit_event)]
    pub enum Event<T: Config> {
        /// A job was posted; `escrow` and `deposit` are held from the requester.
        JobPosted {
            /// The job.
            job: JobId,
            /// Who posted it.
            requester: T::AccountId,
            /// Its program.
            program: ProgramId,
            /// Held for payments and fee.
            escrow: BalanceOf<T>,
            /// Held for storage.
            deposit: BalanceOf<T>,
            /// Paid to the treasury for posting (not refunded).
            posting_fee: BalanceOf<T>,
            /// Claims close at this block.
            claim_until: BlockNumberFor<T>,
        },
        /// A provider claimed a replica slot.
        SlotClaimed {
            /// The job.
            job: JobId,
            /// The provider.
            provider: T::AccountId,
            /// Its price per fuel for this job.
            price_per_fuel: BalanceOf<T>,
        },
        /// A replica gave its slot back before committing (no penalty); it may not claim this
        /// job again.
        SlotReleased {
            /// The job.
            job: JobId,
            /// The provider.
            provider: T::AccountId,
            /// Claims close at this block.
            claim_until: BlockNumberFor<T>,
        },
        /// Every slot is taken: replicas execute and commit until `commit_until`.
        JobAssigned {
            /// The job.
            job: JobId,
            /// Commitments are due by this block.
            commit_until: BlockNumberFor<T>,
        },
        /// A replica committed to its receipt.
        Committed {
            /// The job.
            job: JobId,
            /// The provider.
            provider: T::AccountId,
        },
        /// Every commitment is in: replicas reveal until `reveal_until`.
        RevealOpened {
            /// The job.
            job: JobId,
            /// Reveals are due by this block.
            reveal_until: BlockNumberFor<T>,
        },
        /// A replica revealed its receipt.
        Revealed {
            /// The job.
            job: JobId,
            /// The provider.
            provider: T::AccountId,
            /// What it reported.
            receipt: Receipt,
        },
        /// The replicas agree: the result can be challenged until `challenge_until`.
        ResultAgreed {
            /// The job.
            job: JobId,
            /// The receipt every replica revealed.
            receipt: Receipt,
            /// End of the challenge window.
            challenge_until: BlockNumberFor<T>,
        },
        /// A dispute was opened, by a challenger or because the replicas disagreed.
        DisputeOpened {
            /// The job.
            job: JobId,
            /// The challenger, if any.
            challenger: Option<T::AccountId>,
        },
        /// A committee was drawn; it submits sealed votes until `vote_until`.
        CommitteeDrawn {
            /// The job.
            job: JobId,
            /// Dispute round (1 for the first committee).
            round: u32,
            /// The jurors.
            jurors: BoundedVec<T::AccountId, T::CommitteeSize>,
            /// Votes are due by this block.
            vote_until: BlockNumberFor<T>,
        },
        /// A juror submitted a sealed vote.
        Voted {
            /// The job.
            job: JobId,
            /// The juror.
            juror: T::AccountId,
        },
        /// Voting closed: jurors who voted reveal until `reveal_until`.
        VoteRevealOpened {
            /// The job.
            job: JobId,
            /// Dispute round.
            round: u32,
            /// Reveals of votes are due by this block.
            reveal_until: BlockNumberFor<T>,
        },
        /// A juror opened its sealed vote.
        VoteRevealed {
            /// The job.
            job: JobId,
            /// The juror.
            juror: T::AccountId,
            /// The receipt it voted.
            receipt: Receipt,
        },
        /// A juror voted against the committee's verdict and was slashed.
        JurorSlashed {
            /// The job.
            job: JobId,
            /// The juror.
            juror: T::AccountId,
            /// Stake scheduled for slashing.
            slashed: BalanceOf<T>,
        },
        /// The referee re-executed a disputed job; its receipt decides the dispute.
        Refereed {
            /// The job.
            job: JobId,
            /// The referee's receipt.
            receipt: Receipt,
            /// Who submitted the referee call.
            by: T::AccountId,
        },
        /// A committee reached no majority.
        NoMajority {
            /// The job.
            job: JobId,
            /// The round that failed.
            round: u32,
        },
        /// A committee decided the result.
        DisputeResolved {
            /// The job.
            job: JobId,
            /// The receipt the majority voted.
            receipt: Receipt,
        },
        /// A replica or juror missed a deadline and was penalized.
        Faulted {
            /// The job.
            job: JobId,
            /// Who.
            who: T::AccountId,
            /// Which duty was missed.
            duty: Duty,
            /// Stake scheduled for slashing.
            slashed: BalanceOf<T>,
        },
        /// A replica's revealed result was found wrong.
        WrongResult {
            /// The job.
            job: JobId,
            /// The provider.
            provider: T::AccountId,
            /// Stake scheduled for slashing.
            slashed: BalanceOf<T>,
        },
        /// Slots freed by missed commitments are open again until `claim_until`.
        SlotsReopened {
            /// The job.
            job: JobId,
            /// Slots reopened.
            slots: u32,
            /// Claims close at this block.
            claim_until: BlockNumberFor<T>,
        },
        /// A replica was paid for verified work.
        ReplicaPaid {
            /// The job.
            job: JobId,
            /// The provider.
            provider: T::AccountId,
            /// Paid from escrow.
            payment: BalanceOf<T>,
            /// Minted as emission reward.
            reward: BalanceOf<T>,
        },
        /// A juror of the majority was rewarded.
        JurorRewarded {
            /// The job.
            job: JobId,
            /// The juror.
            juror: T::AccountId,
            /// Its share of a rejected challenger's bond.
            bond_share: BalanceOf<T>,
            /// Minted as emission reward.
            reward: BalanceOf<T>,
        },
        /// A challenge was upheld: the bond is back and the challenger gets a share of the slashes.
        ChallengeUpheld {
            /// The job.
            job: JobId,
            /// The challenger.
            challenger: T::AccountId,
        },
        /// A challenge was rejected: the bond went to the jurors who re-executed the job (to
        /// the treasury when the referee decided).
        ChallengeRejected {
            /// The job.
            job: JobId,
            /// The challenger.
            challenger: T::AccountId,
            /// The bond forfeited.
            bond: BalanceOf<T>,
        },
        /// A job ended; its storage is gone except the [`JobResult`].
        JobEnded {
            /// The job.
            job: JobId,
            /// How it ended.
            outcome: Outcome,
            /// Paid to providers.
            paid: BalanceOf<T>,
            /// Paid to the treasury.
            fee: BalanceOf<T>,
            /// Released to the requester from escrow.
            refunded: BalanceOf<T>,
        },
        /// A retained result was removed and its deposit released.
        ResultPruned {
            /// The job.
            job: JobId,
        },
    }

    /// A duty with a deadline.
    #[derive(
        Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
    )]
    pub enum Duty {
        /// Commit to a receipt.
        Commit,
        /// Reveal the committed receipt.
        Reveal,
        /// Vote as a juror.
        Vote,
        /// Reveal a juror's sealed vote.
        RevealVote,
    }

    #[pallet::error]
    pub enum Error<T> {
        /// No job has this id: it was never posted, or it ended and its result was pruned.
        JobNotFound,
        /// The program does not exist.
        ProgramNotFound,
        /// `replicas` must be between 1 and `MaxReplicas`.
        BadReplicas,
        /// `fuel_limit` must be between 1 and `MaxFuel`.
        BadFuelLimit,
        /// `max_price_per_fuel` must not be zero.
        ZeroPrice,
        /// `max_output_len` is above `MaxOutputLen`.
        OutputLimitTooLarge,
        /// Claim and execution timeouts must be between 1 and `MaxTimeout`.
        BadTimeout,
        /// The challenge window must be between `MinChallengeWindow` and `MaxChallengeWindow`.
        BadChallengeWindow,
        /// A remote input needs a URI.
        EmptyUri,
        /// The escrow of these parameters does not fit in a balance.
        PriceOverflow,
        /// `MaxLiveJobs` jobs are live.
        TooManyJobs,
        /// The requester cannot hold the escrow and deposit.
        CannotAffordEscrow,
        /// The requester cannot pay the posting fee.
        CannotAffordPostingFee,
        /// An inline input is longer than `MaxInputLen`, or a referee call's input longer than
        /// `MaxRefereeInputLen`.
        InputTooLong,
        /// A remote input's URI is longer than `MaxUriLen`.
        UriTooLong,
        /// The placement's region is longer than the provider registry's `MaxRegionLen` (no
        /// provider could advertise it).
        RegionTooLong,
        /// The placement asks for more labels than a provider may advertise (`MaxLabels`).
        TooManyLabels,
        /// A label of the placement is longer than the provider registry's `MaxLabelLen`.
        LabelTooLong,
        /// `execution_timeout` is shorter than `ceil(fuel_limit / FuelPerBlock) + 1` blocks.
        ExecutionTimeoutTooShort,
        /// The provider released or missed a slot of this job before: it cannot claim it again.
        SlotForfeited,
        /// `MaxReplicas` slots of this job were released already: commit or miss the deadline.
        TooManyReleases,
        /// Only the requester may do this.
        NotRequester,
        /// Once replicas reveal, the work is done: the job can no longer be cancelled.
        TooLateToCancel,
        /// The job is not open for claims.
        NotOpen,
        /// The job is not collecting commitments (it is past its claims and commitments).
        NotCommitting,
        /// The job is not collecting reveals.
        NotRevealing,
        /// The job's result is not open to challenges.
        NotChallengeable,
        /// The job is not in dispute.
        NotDisputed,
        /// The deadline of the job's current phase has passed.
        DeadlinePassed,
        /// The requester cannot serve its own job.
        OwnJob,
        /// The provider already holds a slot of this job.
        AlreadyClaimed,
        /// Not a registered provider.
        NotProvider,
        /// The provider has not sent a heartbeat within the liveness timeout.
        ProviderInactive,
        /// The provider is in maintenance mode.
        ProviderInMaintenance,
        /// The provider's active stake is below the minimum.
        StakeTooLow,
        /// The provider's reputation is below the job's minimum.
        ReputationTooLow,
        /// The provider's price is above the job's maximum.
        PriceTooHigh,
        /// The provider has no free capacity.
        NoCapacity,
        /// The provider's region is not the one the job's placement requires.
        WrongRegion,
        /// The provider lacks a label the job's placement requires.
        MissingLabel,
        /// The caller holds no slot of this job.
        NotReplica,
        /// This replica already committed.
        AlreadyCommitted,
        /// This replica already revealed.
        AlreadyRevealed,
        /// The receipt reports more fuel than the job's limit.
        FuelAboveLimit,
        /// An out-of-fuel receipt must report exactly the fuel limit.
        InconsistentReceipt,
        /// Receipt and salt do not hash to the commitment.
        CommitmentMismatch,
        /// The output is longer than the job keeps.
        OutputTooLong,
        /// The output does not hash to the receipt's output hash.
        OutputHashMismatch,
        /// A replica of the job cannot challenge it (its disagreement is its reveal).
        ReplicaCannotChallenge,
        /// The challenger cannot hold the bond.
        CannotAffordBond,
        /// The committee has not been drawn yet.
        CommitteeNotDrawn,
        /// The caller is not on the committee.
        NotJuror,
        /// This juror already voted.
        AlreadyVoted,
        /// The dispute is not collecting sealed votes.
        NotVoting,
        /// The dispute is not collecting reveals of votes.
        NotRevealingVotes,
        /// This juror did not submit a sealed vote in this round.
        VoteNotCast,
        /// This juror already revealed its vote.
        VoteAlreadyRevealed,
        /// Receipt and salt do not hash to the juror's sealed vote.
        VoteCommitmentMismatch,
        /// The job has ended; its result is in `ResultOf` (until it is pruned).
        JobEnded,
        /// The job's fuel limit or input is too large for the referee: a committee decides.
        NotRefereeable,
        /// A committee was drawn for this dispute: the referee no longer decides it.
        RefereeClosed,
        /// The job's input is remote: the referee call must carry its bytes.
        InputRequired,
        /// The job's input is on chain: the referee call must not carry one.
        InputNotNeeded,
        /// The supplied input does not match the job's input hash and length.
        InputMismatch,
        /// The referee's engine could not run the program (nothing was changed).
        RefereeFailed,
    }

    #[pallet::hooks]
    impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
        fn on_initialize(now: BlockNumberFor<T>) -> Weight {
            Self::process_deadlines(now)
        }

        fn integrity_test() {
            assert!(T::MaxReplicas::get() >= 1, "MaxReplicas must be at least 1");
            assert!(T::CommitteeSize::get() >= 1, "CommitteeSize must be at least 1");
            assert!(T::MaxDisputeRounds::get() >= 1, "MaxDisputeRounds must be at least 1");
            assert!(T::EraLength::get() >= 1, "EraLength must be at least 1");
            assert!(T::MaxTransitionsPerBlock::get() >= 1, "MaxTransitionsPerBlock must be at least 1");
            assert!(!T::RevealTimeout::get().is_zero(), "RevealTimeout must be at least 1");
            assert!(!T::VoteTimeout::get().is_zero(), "VoteTimeout must be at least 1");
            assert!(!T::VoteRevealTimeout::get().is_zero(), "VoteRevealTimeout must be at least 1");
            assert!(!T::DrawDelay::get().is_zero(), "DrawDelay must be at least 1");
            assert!(!T::JurorStakeCap::get().is_zero(), "JurorStakeCap must not be zero");
            assert!(!T::ReopenTimeout::get().is_zero(), "ReopenTimeout must be at least 1");
            assert!(!T::MinChallengeWindow::get().is_zero(), "MinChallengeWindow must be at least 1");
            assert!(T::MinChallengeWindow::get() <= T::MaxChallengeWindow::get(), "empty challenge window range");
            assert!(!T::RefereeTimeout::get().is_zero(), "RefereeTimeout must be at least 1");
        }

        #[cfg(feature = "try-runtime")]
        fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
            Self::do_try_state()
        }
    }

    #[pallet::call]
    impl<T: Config> Pallet<T> {
        /// Posts a job: checks the parameters, holds the escrow (see
        /// [`tessera_primitives::pricing::quote`]) and the storage deposit, and opens
        /// `spec.terms.replicas` slots for claims until `now + spec.terms.claim_timeout`.
        #[pallet::call_index(0)]
        #[pallet::weight(T::WeightInfo::post_job(Pallet::<T>::inline_len(spec)))]
        pub fn post_job(origin: OriginFor<T>, spec: Box<JobSpec<T>>) -> DispatchResult {
            let requester = ensure_signed(origin)?;
            Self::do_post_job(requester, *spec).map(|_| ())
        }

        /// Cancels a job before any replica revealed. Claimers get `CancellationCompensation`
        /// of their slot's maximum payment; the requester gets everything else back.
        #[pallet::call_index(1)]
        #[pallet::weight(T::WeightInfo::cancel_job(T::MaxReplicas::get()))]
        pub fn cancel_job(origin: OriginFor<T>, job: JobId) -> DispatchResultWithPostInfo {
            let who = ensure_signed(origin)?;
            let slots = Self::do_cancel(who, job)?;
            Ok(Some(T::WeightInfo::cancel_job(slots)).into())
        }

        /// Claims a replica slot of an open job. The caller must be eligible (see the
        /// provider registry); the last claim starts the execution phase. Free of fees when it
        /// succeeds, like every duty of a provider (its spam cost is the stake it risks).
        #[pallet::call_index(2)]
        #[pallet::weight(T::WeightInfo::claim_slot())]
        pub fn claim_slot(origin: OriginFor<T>, job: JobId) -> DispatchResultWithPostInfo {
            let who = ensure_signed(origin)?;
            Self::do_claim(who, job)?;
            Ok(Pays::No.into())
        }

        /// Commits to a receipt: `commitment = tessera_primitives::commitment(job, provider,
        /// receipt, salt)`, as soon as the replica holds its slot (while the job is open or
        /// committing). The last commitment of a full job opens the reveal phase. Free when it
        /// succeeds.
        #[pallet::call_index(3)]
        #[pallet::weight(T::WeightInfo::commit())]
        pub fn commit(origin: OriginFor<T>, job: JobId, commitment: H256) -> DispatchResultWithPostInfo {
            let who = ensure_signed(origin)?;
            Self::do_commit(who, job, commitment)?;
            Ok(Pays::No.into())
        }

        /// Reveals the committed receipt and salt, and optionally the output itself (at most
        /// the job's `max_output_len` bytes, hashing to the receipt's output hash). The last
        /// reveal compares the receipts: agreement opens the challenge window, disagreement
        /// a dispute. Free when it succeeds.
        /// `output` is at most the job's `max_output_len` (and `MaxOutputLen`) bytes:
        /// `OutputTooLong` otherwise.
        #[pallet::call_index(4)]
        #[pallet::weight(T::WeightInfo::reveal(output.len() as u32))]
        pub fn reveal(
            origin: OriginFor<T>,
            job: JobId,
            receipt: Receipt,
            salt: [u8; 32],
            output: alloc::vec::Vec<u8>,
        ) -> DispatchResultWithPostInfo {
            let who = ensure_signed(origin)?;
            let output: BoundedVec<u8, T::MaxOutputLen> = output.try_into().map_err(|_| Error::<T>::OutputTooLong)?;
            Self::do_reveal(who, job, receipt, salt, output)?;
            Ok(Pays::No.into())
        }

        /// Challenges an agreed result during its window, holding `ChallengeBond`. A committee
        /// is drawn in the next block.
        #[pallet::call_index(5)]
        #[pallet::weight(T::WeightInfo::challenge())]
        pub fn challenge(origin: OriginFor<T>, job: JobId) -> DispatchResult {
            let who = ensure_signed(origin)?;
            Self::do_challenge(who, job)
        }

        /// Votes, as a drawn juror, sealed: `commitment = tessera_primitives::vote_commitment(job,
        /// round, juror, receipt, salt)` over the receipt the juror's own execution produced.
        /// When every juror has voted, the reveals of votes open at once. Free when it
        /// succeeds.
        #[pallet::call_index(6)]
        #[pallet::weight(T::WeightInfo::vote())]
        pub fn vote(origin: OriginFor<T>, job: JobId, commitment: H256) -> DispatchResultWithPostInfo {
            let who = ensure_signed(origin)?;
            Self::do_vote(who, job, commitment)?;
            Ok(Pays::No.into())
        }

        /// Decides a dispute over a refereeable job (fuel limit at most `RefereeFuelLimit`)
        /// by re-executing it in the runtime: the referee's receipt settles the job. Anyone may
        /// call while the dispute waits for the referee; a remote input's bytes must come with
        /// the call (checked against the job's hash), an inline input must not. Charged for
        /// the job's fuel limit, refunded to the fuel used, and free when it decides.
        #[pallet::call_index(7)]
        #[pallet::weight(
            Pallet::<T>::referee_weight(
                T::RefereeFuelLimit::get(),
                T::Referee::max_code_len(),
                input.as_ref().map_or(T::MaxInputLen::get(), |i| (i.len() as u32).min(T::MaxRefereeInputLen::get())),
            )
            .saturating_add(T::WeightInfo::settle(T::MaxReplicas::get()))
        )]
        pub fn referee(
            origin: OriginFor<T>,
            job: JobId,
            input: Option<alloc::vec::Vec<u8>>,
        ) -> DispatchResultWithPostInfo {
            let who = ensure_signed(origin)?;
            let input: Option<BoundedVec<u8, T::MaxRefereeInputLen>> =
                input.map(|i| i.try_into().map_err(|_| Error::<T>::InputTooLong)).transpose()?;
            Self::do_referee(who, job, input)
        }

        /// Opens the caller's sealed vote: the receipt must pass a replica's reveal checks and,
        /// with the salt, hash to the sealed vote. When every juror who voted has revealed,
        /// the dispute is tallied in the next block. Free when it succeeds.
        #[pallet::call_index(8)]
        #[pallet::weight(T::WeightInfo::reveal_vote())]
        pub fn reveal_vote(
            origin: OriginFor<T>,
            job: JobId,
            receipt: Receipt,
            salt: [u8; 32],
        ) -> DispatchResultWithPostInfo {
            let who = ensure_signed(origin)?;
            Self::do_reveal_vote(who, job, receipt, salt)?;
            Ok(Pays::No.into())
        }

        /// Gives the caller's slot back before it committed, without penalty: the way out for
        /// a provider that finds it cannot serve the job (an input that cannot be fetched or
        /// does not match its hash, a machine that failed). The slot is open for claims again
        /// (until at least `ReopenTimeout` blocks from now) and the caller may not claim this
        /// job again. At most `MaxReplicas` releases per job. Free when it succeeds.
        #[pallet::call_index(9)]
        #[pallet::weight(T::WeightInfo::release_slot())]
        pub fn release_slot(origin: OriginFor<T>, job: JobId) -> DispatchResultWithPostInfo {
            let who = ensure_signed(origin)?;
            Self::do_release(who, job)?;
            Ok(Pays::No.into())
        }
    }
}
