//! Internal logic of the market pallet: the calls' bodies, the deadline queue, settlement and
//! the invariants. The decisions themselves (prices, agreement, tallies, sampling, emission)
//! are pure functions of `tessera_primitives`.

use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
    ensure,
    pallet_prelude::*,
    traits::{
        fungible::{Mutate, MutateHold},
        tokens::{Fortitude, Precision, Restriction},
        Randomness,
    },
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_crypto_hashing::blake2_256;
use sp_runtime::{
    traits::{Saturating, Zero},
    SaturatedConversion,
};
use tessera_primitives::{
    commitment, emission, pricing, sampling,
    verdict::{self, Agreement},
    ExitStatus, Fuel, JobId, Receipt,
};
use tessera_traits::{Ineligible, Outcome as Reputation, ProgramRegistry, ProviderRegistry, Requirements, SlashReason};

use crate::{pallet::*, types::*, BalanceOf, WeightInfo, LOG_TARGET};

/// Most empty blocks the deadline cursor skips in one `on_initialize` (a chain that was halted
/// catches up over several blocks instead of in one).
pub const MAX_CURSOR_STEPS: u32 = 64;

/// Domain separator of committee seeds.
const JURY_DOMAIN: &[u8] = b"tessera/jury/v1";

impl<T: Config> Pallet<T> {
    fn now() -> BlockNumberFor<T> {
        frame_system::Pallet::<T>::block_number()
    }

    /// The storage deposit for `bytes` bytes.
    pub fn deposit_for(bytes: u64) -> BalanceOf<T> {
        let bytes: BalanceOf<T> = bytes.saturated_into();
        T::DepositBase::get().saturating_add(T::DepositPerByte::get().saturating_mul(bytes))
    }

    /// What posting `spec` holds: the escrow breakdown and the storage deposit.
    pub fn quote_spec(spec: &JobSpec<T>) -> Result<(pricing::Quote<BalanceOf<T>>, BalanceOf<T>), Error<T>> {
        let stored_input = match &spec.input {
            InputSpec::Inline(bytes) => bytes.len() as u64,
            InputSpec::Remote { uri, .. } => Self::remote_input_bytes(uri.len() as u32),
        };
        Self::quote_terms(spec.fuel_limit, spec.max_price_per_fuel, spec.replicas, stored_input, spec.max_output_len)
    }

    /// Bytes stored for a remote input with a URI of `uri_len` bytes: the hash, the length
    /// and the URI.
    pub fn remote_input_bytes(uri_len: u32) -> u64 {
        40u64.saturating_add(u64::from(uri_len))
    }

    /// The escrow breakdown and storage deposit of a job with these terms, `stored_input`
    /// being the input bytes kept on chain.
    pub fn quote_terms(
        fuel_limit: Fuel,
        max_price_per_fuel: BalanceOf<T>,
        replicas: u32,
        stored_input: u64,
        max_output_len: u32,
    ) -> Result<(pricing::Quote<BalanceOf<T>>, BalanceOf<T>), Error<T>> {
        let q = pricing::quote(fuel_limit, max_price_per_fuel, replicas, T::ProtocolFee::get())
            .ok_or(Error::<T>::PriceOverflow)?;
        Ok((q, Self::deposit_for(stored_input.saturating_add(u64::from(max_output_len)))))
    }

    /// Checks the terms every job must meet, whatever its input and timing.
    pub fn check_terms(
        fuel_limit: Fuel,
        max_price_per_fuel: BalanceOf<T>,
        replicas: u32,
        max_output_len: u32,
    ) -> Result<(), Error<T>> {
        ensure!(replicas >= 1 && replicas <= T::MaxReplicas::get(), Error::<T>::BadReplicas);
        ensure!(fuel_limit >= 1 && fuel_limit <= T::MaxFuel::get(), Error::<T>::BadFuelLimit);
        ensure!(!max_price_per_fuel.is_zero(), Error::<T>::ZeroPrice);
        ensure!(max_output_len <= T::MaxOutputLen::get(), Error::<T>::OutputLimitTooLarge);
        Ok(())
    }

    fn ineligible_error(e: Ineligible) -> Error<T> {
        match e {
            Ineligible::NotProvider => Error::<T>::NotProvider,
            Ineligible::Inactive => Error::<T>::ProviderInactive,
            Ineligible::InMaintenance => Error::<T>::ProviderInMaintenance,
            Ineligible::StakeTooLow => Error::<T>::StakeTooLow,
            Ineligible::ReputationTooLow => Error::<T>::ReputationTooLow,
            Ineligible::PriceTooHigh => Error::<T>::PriceTooHigh,
            Ineligible::NoCapacity => Error::<T>::NoCapacity,
        }
    }

    /// The requirements a provider must meet to claim a slot of `job`.
    pub fn requirements(job: &Job<T>) -> Requirements<BalanceOf<T>> {
        Requirements { min_reputation: job.min_reputation, max_price_per_fuel: job.max_price_per_fuel }
    }

    fn schedule(job: JobId, at: BlockNumberFor<T>) {
        Deadlines::<T>::insert(at, job, ());
    }

    fn reschedule(job: JobId, from: BlockNumberFor<T>, to: BlockNumberFor<T>) {
        Deadlines::<T>::remove(from, job);
        Deadlines::<T>::insert(to, job, ());
    }

    // ---------------------------------------------------------------------------------------
    // Calls
    // ---------------------------------------------------------------------------------------

    pub(crate) fn do_post_job(requester: T::AccountId, spec: JobSpec<T>) -> Result<JobId, DispatchError> {
        Self::check_terms(spec.fuel_limit, spec.max_price_per_fuel, spec.replicas, spec.max_output_len)?;
        let max_timeout = T::MaxTimeout::get();
        ensure!(
            !spec.claim_timeout.is_zero() &&
                spec.claim_timeout <= max_timeout &&
                !spec.execution_timeout.is_zero() &&
                spec.execution_timeout <= max_timeout,
            Error::<T>::BadTimeout
        );
        ensure!(
            spec.challenge_window >= T::MinChallengeWindow::get() &&
                spec.challenge_window <= T::MaxChallengeWindow::get(),
            Error::<T>::BadChallengeWindow
        );
        let (input_hash, input_len) = match &spec.input {
            InputSpec::Inline(bytes) => (H256(blake2_256(bytes)), bytes.len() as u64),
            InputSpec::Remote { hash, len, uri } => {
                ensure!(!uri.is_empty(), Error::<T>::EmptyUri);
                (*hash, *len)
            },
        };
        ensure!(T::Programs::exists(&spec.program), Error::<T>::ProgramNotFound);
        ensure!(JobOf::<T>::count() < T::MaxLiveJobs::get(), Error::<T>::TooManyJobs);
        let (quote, deposit) = Self::quote_spec(&spec)?;

        T::Currency::hold(&HoldReason::Escrow.into(), &requester, quote.escrow)
            .map_err(|_| Error::<T>::CannotAffordEscrow)?;
        T::Currency::hold(&HoldReason::StorageDeposit.into(), &requester, deposit)
            .map_err(|_| Error::<T>::CannotAffordEscrow)?;
        T::Programs::acquire(&spec.program)?;

        let id = NextJobId::<T>::get();
        NextJobId::<T>::put(id.wrapping_add(1));
        let claim_until = Self::now().saturating_add(spec.claim_timeout);
        let job = Job::<T> {
            requester: requester.clone(),
            program: spec.program,
            input_hash,
            input_len,
            fuel_limit: spec.fuel_limit,
            replicas: spec.replicas,
            max_price_per_fuel: spec.max_price_per_fuel,
            min_reputation: spec.min_reputation,
            max_output_len: spec.max_output_len,
            execution_timeout: spec.execution_timeout,
            challenge_window: spec.challenge_window,
            escrow: quote.escrow,
            deposit,
            posted_at: Self::now(),
            phase: Phase::Open(claim_until),
            slots: BoundedVec::new(),
            reopens: 0,
        };
        JobOf::<T>::insert(id, job);
        InputOf::<T>::insert(id, spec.input);
        Self::schedule(id, claim_until);
        Self::deposit_event(Event::JobPosted {
            job: id,
            requester,
            program: spec.program,
            escrow: quote.escrow,
            deposit,
            claim_until,
        });
        Ok(id)
    }

    pub(crate) fn do_claim(who: T::AccountId, id: JobId) -> DispatchResult {
        let mut job = JobOf::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
        let Phase::Open(deadline) = job.phase else { return Err(Error::<T>::NotOpen.into()) };
        let now = Self::now();
        ensure!(now <= deadline, Error::<T>::DeadlinePassed);
        ensure!(who != job.requester, Error::<T>::OwnJob);
        ensure!(job.slot_of(&who).is_none(), Error::<T>::AlreadyClaimed);
        let price = T::Providers::check_eligible(&who, &Self::requirements(&job)).map_err(Self::ineligible_error)?;
        job.slots
            .try_push(Replica { provider: who.clone(), price_per_fuel: price, commitment: None, receipt: None })
            .map_err(|_| Error::<T>::NotOpen)?;
        T::Providers::assign(&who)?;
        Self::deposit_event(Event::SlotClaimed { job: id, provider: who, price_per_fuel: price });
        if job.slots.len() as u32 >= job.replicas {
            let commit_until = now.saturating_add(job.execution_timeout);
            Self::reschedule(id, deadline, commit_until);
            job.phase = Phase::Committing(commit_until);
            Self::deposit_event(Event::JobAssigned { job: id, commit_until });
        }
        JobOf::<T>::insert(id, job);
        Ok(())
    }

    pub(crate) fn do_commit(who: T::AccountId, id: JobId, commitment: H256) -> DispatchResult {
        let mut job = JobOf::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
        let Phase::Committing(deadline) = job.phase else { return Err(Error::<T>::NotCommitting.into()) };
        let now = Self::now();
        ensure!(now <= deadline, Error::<T>::DeadlinePassed);
        let i = job.slot_of(&who).ok_or(Error::<T>::NotReplica)?;
        ensure!(job.slots[i].commitment.is_none(), Error::<T>::AlreadyCommitted);
        job.slots[i].commitment = Some(commitment);
        Self::deposit_event(Event::Committed { job: id, provider: who });
        if job.slots.iter().all(|s| s.commitment.is_some()) {
            let reveal_until = now.saturating_add(T::RevealTimeout::get());
            Self::reschedule(id, deadline, reveal_until);
            job.phase = Phase::Revealing(reveal_until);
            Self::deposit_event(Event::RevealOpened { job: id, reveal_until });
        }
        JobOf::<T>::insert(id, job);
        Ok(())
    }

    pub(crate) fn do_reveal(
        who: T::AccountId,
        id: JobId,
        receipt: Receipt,
        salt: [u8; 32],
        output: BoundedVec<u8, T::MaxOutputLen>,
    ) -> DispatchResult {
        let mut job = JobOf::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
        let Phase::Revealing(deadline) = job.phase else { return Err(Error::<T>::NotRevealing.into()) };
        let now = Self::now();
        ensure!(now <= deadline, Error::<T>::DeadlinePassed);
        let i = job.slot_of(&who).ok_or(Error::<T>::NotReplica)?;
        ensure!(job.slots[i].receipt.is_none(), Error::<T>::AlreadyRevealed);
        ensure!(receipt.fuel_used <= job.fuel_limit, Error::<T>::FuelAboveLimit);
        ensure!(
            receipt.status != ExitStatus::OutOfFuel || receipt.fuel_used == job.fuel_limit,
            Error::<T>::InconsistentReceipt
        );
        ensure!(
            job.slots[i].commitment == Some(commitment(id, &who, &receipt, &salt)),
            Error::<T>::CommitmentMismatch
        );
        if !output.is_empty() {
            ensure!(output.len() as u32 <= job.max_output_len, Error::<T>::OutputTooLong);
            ensure!(H256(blake2_256(&output)) == receipt.output_hash, Error::<T>::OutputHashMismatch);
            let digest = receipt.digest();
            if !OutputOf::<T>::contains_key(id, digest) {
                OutputOf::<T>::insert(id, digest, output);
            }
        }
        job.slots[i].receipt = Some(receipt);
        Self::deposit_event(Event::Revealed { job: id, provider: who, receipt });
        if job.slots.iter().all(|s| s.receipt.is_some()) {
            Deadlines::<T>::remove(deadline, id);
            Self::conclude_reveals(id, &mut job, now);
        }
        JobOf::<T>::insert(id, job);
        Ok(())
    }

    /// Moves a job whose replicas all revealed (at least one) on: agreement opens the challenge
    /// window, disagreement a dispute. Schedules the new deadline (the old one must be gone).
    fn conclude_reveals(id: JobId, job: &mut Job<T>, now: BlockNumberFor<T>) {
        match verdict::agreement(job.slots.iter().filter_map(|s| s.receipt.as_ref())) {
            Agreement::Unanimous(receipt) => {
                let challenge_until = now.saturating_add(job.challenge_window);
                job.phase = Phase::Challengeable(challenge_until);
                Self::schedule(id, challenge_until);
                Self::deposit_event(Event::ResultAgreed { job: id, receipt, challenge_until });
            },
            Agreement::Split | Agreement::Empty => {
                Self::open_dispute(id, job, None, now);
            },
        }
    }

    fn open_dispute(id: JobId, job: &mut Job<T>, challenge: Option<Challenge<T>>, now: BlockNumberFor<T>) {
        let challenger = challenge.as_ref().map(|c| c.challenger.clone());
        DisputeOf::<T>::insert(id, Dispute { challenge, committee: BoundedVec::new(), round: 0 });
        // The committee is drawn in the next block's `on_initialize`, so the call that opens a
        // dispute stays cheap whatever the number of providers.
        let draw_at = now.saturating_add(1u32.into());
        job.phase = Phase::Disputed(draw_at);
        Self::schedule(id, draw_at);
        Self::deposit_event(Event::DisputeOpened { job: id, challenger });
    }

    pub(crate) fn do_challenge(who: T::AccountId, id: JobId) -> DispatchResult {
        let mut job = JobOf::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
        let Phase::Challengeable(deadline) = job.phase else { return Err(Error::<T>::NotChallengeable.into()) };
        let now = Self::now();
        ensure!(now <= deadline, Error::<T>::DeadlinePassed);
        ensure!(job.slot_of(&who).is_none(), Error::<T>::ReplicaCannotChallenge);
        let bond = T::ChallengeBond::get();
        T::Currency::hold(&HoldReason::ChallengeBond.into(), &who, bond).map_err(|_| Error::<T>::CannotAffordBond)?;
        Deadlines::<T>::remove(deadline, id);
        Self::open_dispute(id, &mut job, Some(Challenge { challenger: who, bond }), now);
        JobOf::<T>::insert(id, job);
        Ok(())
    }

    pub(crate) fn do_vote(who: T::AccountId, id: JobId, receipt: Receipt) -> DispatchResult {
        let mut job = JobOf::<T>::get(id).ok_or(Error::<T>::JobNotFound)?;
        let Phase::Disputed(deadline) = job.phase else { return Err(Error::<T>::NotDisputed.into()) };
        let now = Self::now();
        ensure!(now <= deadline, Error::<T>::DeadlinePassed);
        let mut dispute = DisputeOf::<T>::get(id).ok_or(Error::<T>::NotDisputed)?;
        ensure!(!dispute.committee.is_empty(), Error::<T>::CommitteeNotDrawn);
        let seat = dispute.committee.iter_mut().find(|j| j.who == who).ok_or(Error::<T>::NotJuror)?;
        ensure!(seat.vote.is_none(), Error::<T>::AlreadyVoted);
        seat.vote = Some(receipt);
        Self::deposit_event(Event::Voted { job: id, juror: who });
        let next = now.saturating_add(1u32.into());
        if dispute.committee.iter().all(|j| j.vote.is_some()) && deadline > next {
            // Everyone voted: tally in the next block rather than wait for the deadline.
            Self::reschedule(id, deadline, next);
            job.phase = Phase::Disputed(next);
            JobOf::<T>::insert(id, job);
        }
        DisputeOf::<T>::insert(id, dispute);
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // Deadlines
    // ---------------------------------------------------------------------------------------

    /// Handles the deadlines due at or before `now`, oldest first, at most
    /// `MaxTransitionsPerBlock` of them. Returns the weight used.
    pub(crate) fn process_deadlines(now: BlockNumberFor<T>) -> Weight {
        let mut weight = T::WeightInfo::on_initialize_idle();
        let mut cursor = DeadlineCursor::<T>::get();
        if cursor.is_zero() {
            cursor = now;
        }
        let max = T::MaxTransitionsPerBlock::get() as usize;
        let mut done = 0usize;
        let mut steps = 0u32;
        while cursor <= now && done < max && steps < MAX_CURSOR_STEPS {
            let budget = max - done;
            let due: Vec<JobId> = Deadlines::<T>::iter_key_prefix(cursor).take(budget + 1).collect();
            weight.saturating_accrue(T::DbWeight::get().reads(due.len() as u64 + 1));
            for id in due.iter().take(budget) {
                Deadlines::<T>::remove(cursor, id);
                weight.saturating_accrue(Self::process_deadline(*id, now));
                done += 1;
            }
            if due.len() > budget {
                break;
            }
            cursor = cursor.saturating_add(1u32.into());
            steps += 1;
        }
        DeadlineCursor::<T>::put(cursor);
        weight
    }

    fn process_deadline(id: JobId, now: BlockNumberFor<T>) -> Weight {
        let Some(mut job) = JobOf::<T>::get(id) else {
            if let Some(result) = ResultOf::<T>::take(id) {
                Self::release_hold(HoldReason::StorageDeposit, &result.requester, result.deposit);
                Self::deposit_event(Event::ResultPruned { job: id });
                return T::WeightInfo::prune_result();
            }
            return T::DbWeight::get().reads(2);
        };
        let replicas = job.slots.len() as u32;
        match job.phase {
            Phase::Open(_) => {
                // Not enough claims in time. Replicas that committed before a reopen did their
                // work and are compensated; plain claimers are not.
                Self::end_unsettled(id, job, Outcome::Expired, |s| s.commitment.is_some());
                T::WeightInfo::expire_job(replicas)
            },
            Phase::Committing(_) => {
                Self::on_commit_deadline(id, job, now);
                T::WeightInfo::commit_deadline(replicas)
            },
            Phase::Revealing(_) => {
                Self::on_reveal_deadline(id, job, now);
                T::WeightInfo::reveal_deadline(replicas)
            },
            Phase::Challengeable(_) => {
                match verdict::agreement(job.slots.iter().filter_map(|s| s.receipt.as_ref())) {
                    Agreement::Unanimous(receipt) => Self::settle(id, job, receipt, None),
                    // Unreachable by construction (checked by `try_state`); end safely.
                    _ => {
                        log::error!(target: LOG_TARGET, "job {id} challengeable without agreement");
                        Self::end_unsettled(id, job, Outcome::Inconclusive, |_| false)
                    },
                }
                T::WeightInfo::settle(replicas)
            },
            Phase::Disputed(_) => {
                let Some(mut dispute) = DisputeOf::<T>::get(id) else {
                    log::error!(target: LOG_TARGET, "job {id} disputed without a dispute record");
                    Self::end_unsettled(id, job, Outcome::Inconclusive, |_| false);
                    return T::WeightInfo::settle(replicas);
                };
                if dispute.committee.is_empty() {
                    Self::draw_or_give_up(id, &mut job, &mut dispute, now);
                    T::WeightInfo::draw_committee(T::Providers::provider_count())
                } else {
                    let jurors = dispute.committee.len() as u32;
                    Self::tally(id, job, dispute, now);
                    T::WeightInfo::resolve_dispute(replicas, jurors)
                        .saturating_add(T::WeightInfo::draw_committee(T::Providers::provider_count()))
                }
            },
        }
    }

    /// Penalizes `who` for missing `duty` on job `id`.
    fn fault(id: JobId, who: &T::AccountId, duty: Duty) {
        let slashed = T::Providers::slash(who, T::MissedDeadlineSlash::get(), None, SlashReason::MissedDeadline);
        T::Providers::record_outcome(who, Reputation::Fault);
        Self::deposit_event(Event::Faulted { job: id, who: who.clone(), duty, slashed });
    }

    fn on_commit_deadline(id: JobId, mut job: Job<T>, now: BlockNumberFor<T>) {
        let mut missed = 0u32;
        for s in job.slots.iter().filter(|s| s.commitment.is_none()) {
            Self::fault(id, &s.provider, Duty::Commit);
            T::Providers::release(&s.provider);
            missed += 1;
        }
        job.slots.retain(|s| s.commitment.is_some());
        if missed == 0 {
            // Unreachable: the last commitment moves the job on. Be safe anyway.
            let reveal_until = now.saturating_add(T::RevealTimeout::get());
            job.phase = Phase::Revealing(reveal_until);
            Self::schedule(id, reveal_until);
            JobOf::<T>::insert(id, job);
        } else if job.reopens < T::MaxReopens::get() {
            job.reopens += 1;
            let claim_until = now.saturating_add(T::ReopenTimeout::get());
            job.phase = Phase::Open(claim_until);
            Self::schedule(id, claim_until);
            JobOf::<T>::insert(id, job);
            Self::deposit_event(Event::SlotsReopened { job: id, slots: missed, claim_until });
        } else {
            Self::end_unsettled(id, job, Outcome::Expired, |s| s.commitment.is_some());
        }
    }

    fn on_reveal_deadline(id: JobId, mut job: Job<T>, now: BlockNumberFor<T>) {
        for s in job.slots.iter().filter(|s| s.receipt.is_none()) {
            Self::fault(id, &s.provider, Duty::Reveal);
            T::Providers::release(&s.provider);
        }
        // A slot cannot be reopened once others revealed: their answers are public.
        job.slots.retain(|s| s.receipt.is_some());
        if job.slots.is_empty() {
            Self::end_unsettled(id, job, Outcome::Expired, |_| false);
        } else {
            Self::conclude_reveals(id, &mut job, now);
            JobOf::<T>::insert(id, job);
        }
    }

    /// Draws a committee for the dispute's next round, or ends the job as inconclusive when
    /// no eligible juror is left.
    fn draw_or_give_up(id: JobId, job: &mut Job<T>, dispute: &mut Dispute<T>, now: BlockNumberFor<T>) {
        dispute.round = dispute.round.saturating_add(1);
        let committee = Self::draw_committee(id, job, dispute);
        if committee.is_empty() {
            DisputeOf::<T>::insert(id, dispute.clone());
            Self::end_unsettled(id, job.clone(), Outcome::Inconclusive, |_| false);
            return;
        }
        let vote_until = now.saturating_add(T::VoteTimeout::get());
        let jurors: BoundedVec<T::AccountId, T::CommitteeSize> =
            BoundedVec::truncate_from(committee.iter().map(|j| j.who.clone()).collect());
        dispute.committee = committee;
        job.phase = Phase::Disputed(vote_until);
        Self::schedule(id, vote_until);
        DisputeOf::<T>::insert(id, dispute.clone());
        JobOf::<T>::insert(id, job.clone());
        Self::deposit_event(Event::CommitteeDrawn { job: id, round: dispute.round, jurors, vote_until });
    }

    /// Draws up to `CommitteeSize` distinct active providers, none of them the requester, a
    /// replica or the challenger, from the runtime's randomness mixed with the job and round.
    pub(crate) fn draw_committee(id: JobId, job: &Job<T>, dispute: &Dispute<T>) -> BoundedVec<Juror<T>, T::CommitteeSize> {
        let subject = (JURY_DOMAIN, id, dispute.round).encode();
        let (random, _) = T::Randomness::random(&subject);
        let seed = blake2_256(&(JURY_DOMAIN, random, id, dispute.round).encode());
        let challenger = dispute.challenge.as_ref().map(|c| &c.challenger);
        let excluded = |who: &T::AccountId| {
            who == &job.requester || job.slot_of(who).is_some() || challenger == Some(who)
        };
        // The accounts of the indices found eligible, so the drawn ones are not read again.
        let mut accounts: alloc::collections::btree_map::BTreeMap<u32, T::AccountId> = Default::default();
        let drawn = sampling::sample_distinct(&seed, T::Providers::provider_count(), T::CommitteeSize::get(), |i| {
            match T::Providers::provider_at(i) {
                Some(who) if !excluded(&who) && T::Providers::is_active(&who) => {
                    accounts.insert(i, who);
                    true
                },
                _ => false,
            }
        });
        BoundedVec::truncate_from(
            drawn
                .into_iter()
                .filter_map(|i| accounts.remove(&i))
                .map(|who| Juror { who, vote: None })
                .collect(),
        )
    }

    fn tally(id: JobId, mut job: Job<T>, mut dispute: Dispute<T>, now: BlockNumberFor<T>) {
        for juror in dispute.committee.iter().filter(|j| j.vote.is_none()) {
            Self::fault(id, &juror.who, Duty::Vote);
        }
        let size = dispute.committee.len() as u32;
        match verdict::tally(dispute.committee.iter().filter_map(|j| j.vote.as_ref()), size) {
            Some(receipt) => {
                Self::deposit_event(Event::DisputeResolved { job: id, receipt });
                for juror in dispute.committee.iter() {
                    match juror.vote {
                        Some(v) if v == receipt => {
                            let reward = Self::mint_reward(&juror.who, receipt.fuel_used);
                            T::Providers::record_outcome(&juror.who, Reputation::Success);
                            Self::deposit_event(Event::JurorRewarded { job: id, juror: juror.who.clone(), reward });
                        },
                        Some(_) => T::Providers::record_outcome(&juror.who, Reputation::Fault),
                        None => {},
                    }
                }
                Self::settle(id, job, receipt, dispute.challenge.take());
            },
            None => {
                Self::deposit_event(Event::NoMajority { job: id, round: dispute.round });
                if dispute.round < T::MaxDisputeRounds::get() {
                    dispute.committee.clear();
                    Self::draw_or_give_up(id, &mut job, &mut dispute, now);
                } else {
                    DisputeOf::<T>::insert(id, dispute);
                    Self::end_unsettled(id, job, Outcome::Inconclusive, |_| false);
                }
            },
        }
    }

    // ---------------------------------------------------------------------------------------
    // Money
    // ---------------------------------------------------------------------------------------

    fn release_hold(reason: HoldReason, who: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
        if amount.is_zero() {
            return amount;
        }
        T::Currency::release(&reason.into(), who, amount, Precision::BestEffort).unwrap_or_else(|e| {
            log::error!(target: LOG_TARGET, "release of {amount:?} from {who:?} failed: {e:?}");
            Zero::zero()
        })
    }

    /// Pays `amount` from `from`'s hold to `to`'s free balance; returns what was paid (zero if
    /// the transfer is impossible, e.g. below the existential deposit of a new account; the
    /// amount then stays held and is released with the rest).
    fn pay_from_hold(reason: HoldReason, from: &T::AccountId, to: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
        if amount.is_zero() {
            return amount;
        }
        T::Currency::transfer_on_hold(
            &reason.into(),
            from,
            to,
            amount,
            Precision::Exact,
            Restriction::Free,
            Fortitude::Force,
        )
        .unwrap_or_else(|_| Zero::zero())
    }

    /// Mints the emission reward for `fuel` of verified work to `who`, within the era budget.
    pub(crate) fn mint_reward(who: &T::AccountId, fuel: u64) -> BalanceOf<T> {
        let era = emission::era_of(Self::now().saturated_into::<u32>(), T::EraLength::get());
        let (mut current, mut emitted) = EraEmission::<T>::get();
        if current != era {
            current = era;
            emitted = Zero::zero();
        }
        let budget = emission::era_budget(T::InitialEraEmission::get(), T::EmissionDecay::get(), era);
        let reward = emission::work_reward(fuel, T::RewardPerFuel::get(), budget.saturating_sub(emitted));
        if reward.is_zero() {
            return reward;
        }
        let minted = T::Currency::mint_into(who, reward).unwrap_or_else(|_| Zero::zero());
        emitted = emitted.saturating_add(minted);
        EraEmission::<T>::put((current, emitted));
        TotalEmitted::<T>::mutate(|t| *t = t.saturating_add(minted));
        minted
    }

    /// Settles a job whose result is `verdict`: replicas that reported it are paid for its fuel
    /// at their price and rewarded; the others are slashed; the protocol fee goes to the
    /// treasury; a challenge is upheld or its bond forfeited; the rest of the escrow returns.
    fn settle(id: JobId, job: Job<T>, verdict: Receipt, challenge: Option<Challenge<T>>) {
        let requester = job.requester.clone();
        let mut left = job.escrow;
        let mut paid = BalanceOf::<T>::zero();
        let mut right: Vec<T::AccountId> = Vec::new();
        let mut any_wrong = false;
        let beneficiary = challenge.as_ref().map(|c| (c.challenger.clone(), T::ChallengerShare::get()));
        for s in job.slots.iter() {
            T::Providers::release(&s.provider);
            match s.receipt {
                Some(r) if r == verdict => {
                    let due = pricing::replica_payment(verdict.fuel_used, s.price_per_fuel)
                        .unwrap_or_else(|| left)
                        .min(left);
                    let payment = Self::pay_from_hold(HoldReason::Escrow, &requester, &s.provider, due);
                    left = left.saturating_sub(payment);
                    paid = paid.saturating_add(payment);
                    let reward = Self::mint_reward(&s.provider, verdict.fuel_used);
                    T::Providers::record_outcome(&s.provider, Reputation::Success);
                    right.push(s.provider.clone());
                    Self::deposit_event(Event::ReplicaPaid { job: id, provider: s.provider.clone(), payment, reward });
                },
                _ => {
                    any_wrong = true;
                    let slashed = T::Providers::slash(
                        &s.provider,
                        T::WrongResultSlash::get(),
                        beneficiary.clone(),
                        SlashReason::WrongResult,
                    );
                    T::Providers::record_outcome(&s.provider, Reputation::Fault);
                    Self::deposit_event(Event::WrongResult { job: id, provider: s.provider.clone(), slashed });
                },
            }
        }
        let fee_due = pricing::fee_on(paid, T::ProtocolFee::get()).min(left);
        let fee = Self::pay_from_hold(HoldReason::Escrow, &requester, &T::Treasury::get(), fee_due);
        left = left.saturating_sub(fee);

        if let Some(c) = challenge {
            if any_wrong || right.is_empty() {
                Self::release_hold(HoldReason::ChallengeBond, &c.challenger, c.bond);
                Self::deposit_event(Event::ChallengeUpheld { job: id, challenger: c.challenger });
            } else {
                let parts: BalanceOf<T> = (right.len() as u32).into();
                let share = c.bond / parts;
                let mut forfeited = BalanceOf::<T>::zero();
                for who in right.iter() {
                    forfeited = forfeited
                        .saturating_add(Self::pay_from_hold(HoldReason::ChallengeBond, &c.challenger, who, share));
                }
                let rest = c.bond.saturating_sub(forfeited);
                let to_treasury = Self::pay_from_hold(HoldReason::ChallengeBond, &c.challenger, &T::Treasury::get(), rest);
                // Whatever could not be paid out (dust below the existential deposit) goes back.
                Self::release_hold(HoldReason::ChallengeBond, &c.challenger, rest.saturating_sub(to_treasury));
                Self::deposit_event(Event::ChallengeRejected { job: id, challenger: c.challenger, bond: c.bond });
            }
        }
        Self::finish(id, job, Outcome::Settled, Some(verdict), paid, fee, left);
    }

    /// Ends a job without a verified result (cancelled, expired, inconclusive): slots are
    /// released, replicas for which `compensate` holds get `CancellationCompensation` of their
    /// slot's maximum payment, a challenger's bond is returned, the requester gets the rest.
    pub(crate) fn end_unsettled(id: JobId, job: Job<T>, outcome: Outcome, compensate: impl Fn(&Replica<T>) -> bool) {
        let requester = job.requester.clone();
        let mut left = job.escrow;
        let mut paid = BalanceOf::<T>::zero();
        for s in job.slots.iter() {
            T::Providers::release(&s.provider);
            if compensate(s) {
                let slot_max = pricing::replica_payment(job.fuel_limit, s.price_per_fuel).unwrap_or_else(|| left);
                let due = pricing::cancellation_compensation(slot_max, T::CancellationCompensation::get()).min(left);
                let payment = Self::pay_from_hold(HoldReason::Escrow, &requester, &s.provider, due);
                left = left.saturating_sub(payment);
                paid = paid.saturating_add(payment);
            }
        }
        if let Some(Dispute { challenge: Some(c), .. }) = DisputeOf::<T>::get(id) {
            Self::release_hold(HoldReason::ChallengeBond, &c.challenger, c.bond);
        }
        Self::finish(id, job, outcome, None, paid, Zero::zero(), left);
    }

    /// Removes a job's storage, releases what is left of its escrow and deposit, and keeps a
    /// [`JobResult`] until `ResultRetention` blocks from now.
    fn finish(
        id: JobId,
        job: Job<T>,
        outcome: Outcome,
        receipt: Option<Receipt>,
        paid: BalanceOf<T>,
        fee: BalanceOf<T>,
        escrow_left: BalanceOf<T>,
    ) {
        let now = Self::now();
        let refunded = Self::release_hold(HoldReason::Escrow, &job.requester, escrow_left);
        let output = receipt.and_then(|r| OutputOf::<T>::take(id, r.digest()));
        let _ = OutputOf::<T>::clear_prefix(id, T::MaxReplicas::get(), None);
        InputOf::<T>::remove(id);
        DisputeOf::<T>::remove(id);
        Deadlines::<T>::remove(job.phase.deadline(), id);
        JobOf::<T>::remove(id);
        T::Programs::release(&job.program);

        let kept = Self::deposit_for(output.as_ref().map_or(0, |o| o.len() as u64)).min(job.deposit);
        Self::release_hold(HoldReason::StorageDeposit, &job.requester, job.deposit.saturating_sub(kept));
        let prune_at = now.saturating_add(T::ResultRetention::get().max(1u32.into()));
        ResultOf::<T>::insert(
            id,
            JobResult {
                requester: job.requester,
                program: job.program,
                outcome,
                receipt,
                output,
                paid,
                fee,
                refunded,
                deposit: kept,
                ended_at: now,
            },
        );
        Self::schedule(id, prune_at);
        Self::deposit_event(Event::JobEnded { job: id, outcome, paid, fee, refunded });
    }

    // ---------------------------------------------------------------------------------------
    // Invariants
    // ---------------------------------------------------------------------------------------

    /// Checks the pallet's invariants:
    /// - every live job has exactly its phase deadline in [`Deadlines`], every retained result
    ///   exactly one entry, and nothing else is there; no entry lies before the cursor;
    /// - phases agree with slots: committing means every slot is taken, revealing means every
    ///   slot committed, challengeable means every slot revealed the same receipt, disputed
    ///   means a dispute record exists (and only then);
    /// - every account's `Escrow`, `StorageDeposit` and `ChallengeBond` holds equal the sums
    ///   the jobs, results and disputes record for it;
    /// - the era's emission never exceeds everything emitted.
    #[cfg(any(feature = "try-runtime", feature = "std", test))]
    pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
        use alloc::collections::btree_map::BTreeMap;
        let cursor = DeadlineCursor::<T>::get();
        let mut entries: BTreeMap<JobId, u32> = BTreeMap::new();
        for (at, id, ()) in Deadlines::<T>::iter() {
            ensure!(cursor.is_zero() || at >= cursor, "a deadline lies before the cursor");
            *entries.entry(id).or_default() += 1;
        }
        ensure!(
            entries.len() as u32 == JobOf::<T>::count() + ResultOf::<T>::iter_keys().count() as u32,
            "deadline entries do not match live jobs and results"
        );
        ensure!(entries.values().all(|n| *n == 1), "a job has several deadlines");

        for (id, job) in JobOf::<T>::iter() {
            ensure!(Deadlines::<T>::contains_key(job.phase.deadline(), id), "job deadline not queued");
            ensure!(job.slots.len() as u32 <= job.replicas, "more slots than replicas");
            ensure!(InputOf::<T>::contains_key(id), "live job without input");
            let disputed = DisputeOf::<T>::contains_key(id);
            match job.phase {
                Phase::Open(_) => ensure!((job.slots.len() as u32) < job.replicas, "open job is full"),
                Phase::Committing(_) => ensure!(job.slots.len() as u32 == job.replicas, "committing job not full"),
                Phase::Revealing(_) => {
                    ensure!(job.slots.iter().all(|s| s.commitment.is_some()), "revealing without commitments")
                },
                Phase::Challengeable(_) => ensure!(
                    matches!(
                        verdict::agreement(job.slots.iter().filter_map(|s| s.receipt.as_ref())),
                        Agreement::Unanimous(_)
                    ) && job.slots.iter().all(|s| s.receipt.is_some()),
                    "challengeable without agreement"
                ),
                Phase::Disputed(_) => ensure!(disputed, "disputed without a dispute"),
            }
            ensure!(matches!(job.phase, Phase::Disputed(_)) || !disputed, "dispute record outside a dispute");
        }
        for (who, books) in Self::hold_books() {
            for (reason, amount) in [
                (HoldReason::Escrow, books.escrow),
                (HoldReason::StorageDeposit, books.deposit),
                (HoldReason::ChallengeBond, books.bond),
            ] {
                ensure!(
                    <T::Currency as frame_support::traits::fungible::InspectHold<_>>::balance_on_hold(&reason.into(), &who) == amount,
                    "a hold differs from the market's books"
                );
            }
        }
        ensure!(EraEmission::<T>::get().1 <= TotalEmitted::<T>::get(), "era emission above total");
        Ok(())
    }

    /// What every account should hold by reason, according to the live jobs (escrow and
    /// deposit), the retained results (deposit) and the open disputes (bond). Accounts the
    /// books do not mention should hold nothing for the market.
    #[cfg(any(feature = "try-runtime", feature = "std", test))]
    pub fn hold_books() -> alloc::collections::btree_map::BTreeMap<T::AccountId, HoldBooks<BalanceOf<T>>> {
        let mut books: alloc::collections::btree_map::BTreeMap<T::AccountId, HoldBooks<BalanceOf<T>>> =
            Default::default();
        for (_, job) in JobOf::<T>::iter() {
            let b = books.entry(job.requester).or_default();
            b.escrow = b.escrow.saturating_add(job.escrow);
            b.deposit = b.deposit.saturating_add(job.deposit);
        }
        for (_, result) in ResultOf::<T>::iter() {
            let b = books.entry(result.requester).or_default();
            b.deposit = b.deposit.saturating_add(result.deposit);
        }
        for (_, dispute) in DisputeOf::<T>::iter() {
            if let Some(c) = dispute.challenge {
                let b = books.entry(c.challenger).or_default();
                b.bond = b.bond.saturating_add(c.bond);
            }
        }
        books
    }
}
