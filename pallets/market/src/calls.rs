//! The bodies of the calls. Each checks its preconditions first (so a failing call changes
//! nothing), then changes the job, moving it to its next phase through
//! [`Pallet::transition`] when the call completes one (the last claim, commitment or reveal,
//! a challenge, the last sealed vote or reveal of a vote).

use frame_support::{
    pallet_prelude::*,
    traits::{
        fungible::{Mutate, MutateHold},
        tokens::Preservation,
    },
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_crypto_hashing::blake2_256;
use sp_runtime::traits::{Saturating, Zero};
use tessera_primitives::{commitment, vote_commitment, ExitStatus, JobId, Receipt};
use tessera_traits::{ProgramRegistry, ProviderRegistry};

use crate::{pallet::*, types::*};

impl<T: Config> Pallet<T> {
    /// The current block.
    pub(crate) fn now() -> BlockNumberFor<T> {
        frame_system::Pallet::<T>::block_number()
    }

    /// The live job `id`, or why there is none: [`Error::JobEnded`] while its result is kept
    /// in [`ResultOf`], [`Error::JobNotFound`] when the id was never used or its result was
    /// pruned.
    pub(crate) fn live_job(id: JobId) -> Result<Job<T>, Error<T>> {
        JobOf::<T>::get(id).ok_or_else(|| {
            if ResultOf::<T>::contains_key(id) {
                Error::<T>::JobEnded
            } else {
                Error::<T>::JobNotFound
            }
        })
    }

    /// The live job `id` in dispute, with its `Disputed` deadline and its dispute record, or
    /// why not ([`Pallet::live_job`]'s errors, [`Error::NotDisputed`]).
    pub(crate) fn disputed(id: JobId) -> Result<(Job<T>, BlockNumberFor<T>, Dispute<T>), DispatchError> {
        let job = Self::live_job(id)?;
        let Phase::Disputed(deadline) = job.phase else { return Err(Error::<T>::NotDisputed.into()) };
        let dispute = DisputeOf::<T>::get(id).ok_or(Error::<T>::NotDisputed)?;
        Ok((job, deadline, dispute))
    }

    /// What every revealed receipt of `job` (a replica's or a juror's) must satisfy: no more
    /// fuel than the job's limit, and an out-of-fuel receipt reports exactly the limit.
    pub(crate) fn check_receipt(job: &Job<T>, receipt: &Receipt) -> DispatchResult {
        ensure!(receipt.fuel_used <= job.terms.fuel_limit, Error::<T>::FuelAboveLimit);
        ensure!(
            receipt.status != ExitStatus::OutOfFuel || receipt.fuel_used == job.terms.fuel_limit,
            Error::<T>::InconsistentReceipt
        );
        Ok(())
    }

    /// `post_job`: checks the terms, placement and input, pays the posting fee, holds escrow and
    /// deposit, stores the job in `Open` until `now + claim_timeout`.
    pub(crate) fn do_post_job(requester: T::AccountId, mut spec: JobSpec<T>) -> Result<JobId, DispatchError> {
        Self::check_job_terms(&spec.terms)?;
        let placement = Self::bound_placement(core::mem::take(&mut spec.placement))?;
        let (quote, deposit) = Self::quote_spec(&spec, &placement)?;
        let JobSpec { terms, input, .. } = spec;
        let input = Self::bound_input(input)?;
        let (input_hash, input_len) = Self::input_digest(&input);
        ensure!(T::Programs::exists(&terms.program), Error::<T>::ProgramNotFound);
        ensure!(JobOf::<T>::count() < T::MaxLiveJobs::get(), Error::<T>::TooManyJobs);

        let posting_fee = Self::posting_fee();
        if !posting_fee.is_zero() {
            T::Currency::transfer(&requester, &T::Treasury::get(), posting_fee, Preservation::Preserve)
                .map_err(|_| Error::<T>::CannotAffordPostingFee)?;
        }
        T::Currency::hold(&HoldReason::Escrow.into(), &requester, quote.escrow)
            .map_err(|_| Error::<T>::CannotAffordEscrow)?;
        T::Currency::hold(&HoldReason::StorageDeposit.into(), &requester, deposit)
            .map_err(|_| Error::<T>::CannotAffordEscrow)?;
        T::Programs::acquire(&terms.program)?;

        let id = NextJobId::<T>::get();
        NextJobId::<T>::put(id.wrapping_add(1));
        let now = Self::now();
        let claim_until = now.saturating_add(terms.claim_timeout);
        let program = terms.program;
        let job = Job::<T> {
            requester: requester.clone(),
            terms,
            input_hash,
            input_len,
            escrow: quote.escrow,
            deposit,
            posted_at: now,
            phase: Phase::Open(claim_until),
            slots: BoundedVec::new(),
            reopens: 0,
        };
        Self::start(id, &job);
        JobOf::<T>::insert(id, job);
        InputOf::<T>::insert(id, input);
        if !placement.is_empty() {
            PlacementOf::<T>::insert(id, placement);
        }
        Self::deposit_event(Event::JobPosted {
            job: id,
            requester,
            program,
            escrow: quote.escrow,
            deposit,
            posting_fee,
            claim_until,
        });
        Ok(id)
    }

    /// `cancel_job`: ends a job the requester no longer wants, before any replica revealed.
    /// Returns how many slots were claimed (for the weight).
    pub(crate) fn do_cancel(who: T::AccountId, id: JobId) -> Result<u32, DispatchError> {
        let job = Self::live_job(id)?;
        ensure!(job.requester == who, Error::<T>::NotRequester);
        ensure!(matches!(job.phase, Phase::Open(_) | Phase::Committing(_)), Error::<T>::TooLateToCancel);
        let slots = job.slots.len() as u32;
        // No dispute before the reveals, so no challenge to settle.
        Self::end_unsettled(id, job, Outcome::Cancelled, None);
        Ok(slots)
    }

    /// `claim_slot`: gives an eligible provider a slot; the last claim starts execution.
    pub(crate) fn do_claim(who: T::AccountId, id: JobId) -> DispatchResult {
        let mut job = Self::live_job(id)?;
        let Phase::Open(deadline) = job.phase else { return Err(Error::<T>::NotOpen.into()) };
        let now = Self::now();
        ensure!(now <= deadline, Error::<T>::DeadlinePassed);
        ensure!(who != job.requester, Error::<T>::OwnJob);
        ensure!(job.slot_of(&who).is_none(), Error::<T>::AlreadyClaimed);
        ensure!(!ForfeitedOf::<T>::get(id).providers.contains(&who), Error::<T>::SlotForfeited);
        let price = T::Providers::check_eligible(&who, &Self::requirements(id, &job)).map_err(Self::ineligible_error)?;
        job.slots
            .try_push(Replica { provider: who.clone(), price_per_fuel: price, commitment: None, receipt: None })
            .map_err(|_| Error::<T>::NotOpen)?;
        T::Providers::assign(&who)?;
        Self::deposit_event(Event::SlotClaimed { job: id, provider: who, price_per_fuel: price });
        if job.is_full() {
            let commit_until = now.saturating_add(job.terms.execution_timeout);
            Self::transition(id, &mut job, Phase::Committing(commit_until));
            Self::deposit_event(Event::JobAssigned { job: id, commit_until });
        }
        JobOf::<T>::insert(id, job);
        Ok(())
    }

    /// `release_slot`: takes a replica's uncommitted slot back without penalty and bars the
    /// provider from claiming the job again. A job whose slots were all taken is open for
    /// claims again, until at least `ReopenTimeout` blocks from now.
    pub(crate) fn do_release(who: T::AccountId, id: JobId) -> DispatchResult {
        let mut job = Self::live_job(id)?;
        let deadline = match job.phase {
            Phase::Open(d) | Phase::Committing(d) => d,
            _ => return Err(Error::<T>::NotCommitting.into()),
        };
        let now = Self::now();
        ensure!(now <= deadline, Error::<T>::DeadlinePassed);
        let i = job.slot_of(&who).ok_or(Error::<T>::NotReplica)?;
        ensure!(job.slots[i].commitment.is_none(), Error::<T>::AlreadyCommitted);
        let mut forfeits = ForfeitedOf::<T>::get(id);
        ensure!(forfeits.releases < T::MaxReplicas::get(), Error::<T>::TooManyReleases);
        forfeits.releases = forfeits.releases.saturating_add(1);
        forfeits.providers.try_push(who.clone()).map_err(|_| Error::<T>::TooManyReleases)?;
        ForfeitedOf::<T>::insert(id, forfeits);
        job.slots.remove(i);
        T::Providers::release(&who);
        let claim_until = match job.phase {
            Phase::Open(d) => d.max(now.saturating_add(T::ReopenTimeout::get())),
            _ => now.saturating_add(T::ReopenTimeout::get()),
        };
        if claim_until != deadline || !matches!(job.phase, Phase::Open(_)) {
            Self::transition(id, &mut job, Phase::Open(claim_until));
        }
        JobOf::<T>::insert(id, job);
        Self::deposit_event(Event::SlotReleased { job: id, provider: who, claim_until });
        Ok(())
    }

    /// `commit`: records a replica's commitment; the last one, once every slot is claimed,
    /// opens the reveals. A replica may commit as soon as it holds its slot, while the job is
    /// still open for other claims: a commitment hides the result, so committing early tells
    /// nobody anything, and a worker that executed before claiming can claim and commit in one
    /// block (`utility::batch_all`).
    pub(crate) fn do_commit(who: T::AccountId, id: JobId, commitment: H256) -> DispatchResult {
        let mut job = Self::live_job(id)?;
        let deadline = match job.phase {
            Phase::Open(d) | Phase::Committing(d) => d,
            _ => return Err(Error::<T>::NotCommitting.into()),
        };
        let now = Self::now();
        ensure!(now <= deadline, Error::<T>::DeadlinePassed);
        let i = job.slot_of(&who).ok_or(Error::<T>::NotReplica)?;
        ensure!(job.slots[i].commitment.is_none(), Error::<T>::AlreadyCommitted);
        job.slots[i].commitment = Some(commitment);
        Self::deposit_event(Event::Committed { job: id, provider: who });
        if job.is_full() && job.slots.iter().all(|s| s.commitment.is_some()) {
            let reveal_until = now.saturating_add(T::RevealTimeout::get());
            Self::transition(id, &mut job, Phase::Revealing(reveal_until));
            Self::deposit_event(Event::RevealOpened { job: id, reveal_until });
        }
        JobOf::<T>::insert(id, job);
        Ok(())
    }

    /// `reveal`: checks a replica's receipt against its commitment and keeps it (and the
    /// output, once per distinct receipt); the last reveal compares the receipts.
    pub(crate) fn do_reveal(
        who: T::AccountId,
        id: JobId,
        receipt: Receipt,
        salt: [u8; 32],
        output: BoundedVec<u8, T::MaxOutputLen>,
    ) -> DispatchResult {
        let mut job = Self::live_job(id)?;
        let Phase::Revealing(deadline) = job.phase else { return Err(Error::<T>::NotRevealing.into()) };
        let now = Self::now();
        ensure!(now <= deadline, Error::<T>::DeadlinePassed);
        let i = job.slot_of(&who).ok_or(Error::<T>::NotReplica)?;
        ensure!(job.slots[i].receipt.is_none(), Error::<T>::AlreadyRevealed);
        Self::check_receipt(&job, &receipt)?;
        ensure!(
            job.slots[i].commitment == Some(commitment(id, &who, &receipt, &salt)),
            Error::<T>::CommitmentMismatch
        );
        if !output.is_empty() {
            ensure!(output.len() as u32 <= job.terms.max_output_len, Error::<T>::OutputTooLong);
            ensure!(H256(blake2_256(&output)) == receipt.output_hash, Error::<T>::OutputHashMismatch);
            let digest = receipt.digest();
            if !OutputOf::<T>::contains_key(id, digest) {
                OutputOf::<T>::insert(id, digest, output);
            }
        }
        job.slots[i].receipt = Some(receipt);
        Self::deposit_event(Event::Revealed { job: id, provider: who, receipt });
        if job.slots.iter().all(|s| s.receipt.is_some()) {
            Self::conclude_reveals(id, &mut job, now);
        }
        JobOf::<T>::insert(id, job);
        Ok(())
    }

    /// `challenge`: holds the bond and opens a dispute over an agreed result.
    pub(crate) fn do_challenge(who: T::AccountId, id: JobId) -> DispatchResult {
        let mut job = Self::live_job(id)?;
        let Phase::Challengeable(deadline, _) = job.phase else {
            return Err(Error::<T>::NotChallengeable.into())
        };
        let now = Self::now();
        ensure!(now <= deadline, Error::<T>::DeadlinePassed);
        ensure!(job.slot_of(&who).is_none(), Error::<T>::ReplicaCannotChallenge);
        let bond = T::ChallengeBond::get();
        T::Currency::hold(&HoldReason::ChallengeBond.into(), &who, bond).map_err(|_| Error::<T>::CannotAffordBond)?;
        Self::open_dispute(id, &mut job, Some(Challenge { challenger: who, bond }), now);
        JobOf::<T>::insert(id, job);
        Ok(())
    }

    /// `vote`: records a juror's sealed vote; once every juror voted, the reveals of votes
    /// open at once.
    pub(crate) fn do_vote(who: T::AccountId, id: JobId, sealed: H256) -> DispatchResult {
        let (mut job, deadline, mut dispute) = Self::disputed(id)?;
        let now = Self::now();
        ensure!(now <= deadline, Error::<T>::DeadlinePassed);
        match dispute.stage {
            DisputeStage::Drawing => return Err(Error::<T>::CommitteeNotDrawn.into()),
            DisputeStage::Revealing => return Err(Error::<T>::NotVoting.into()),
            DisputeStage::Voting => {},
        }
        let seat = dispute.committee.iter_mut().find(|j| j.who == who).ok_or(Error::<T>::NotJuror)?;
        ensure!(seat.sealed.is_none(), Error::<T>::AlreadyVoted);
        seat.sealed = Some(sealed);
        Self::deposit_event(Event::Voted { job: id, juror: who });
        if dispute.committee.iter().all(|j| j.sealed.is_some()) {
            Self::open_vote_reveals(id, &mut job, &mut dispute, now);
            JobOf::<T>::insert(id, job);
        }
        DisputeOf::<T>::insert(id, dispute);
        Ok(())
    }

    /// `reveal_vote`: opens a juror's sealed vote, checking the receipt as a replica's reveal
    /// is checked; once every juror who voted has revealed, the tally moves to the next block.
    pub(crate) fn do_reveal_vote(who: T::AccountId, id: JobId, receipt: Receipt, salt: [u8; 32]) -> DispatchResult {
        let (mut job, deadline, mut dispute) = Self::disputed(id)?;
        let now = Self::now();
        ensure!(now <= deadline, Error::<T>::DeadlinePassed);
        ensure!(dispute.stage == DisputeStage::Revealing, Error::<T>::NotRevealingVotes);
        let round = dispute.round;
        let seat = dispute.committee.iter_mut().find(|j| j.who == who).ok_or(Error::<T>::NotJuror)?;
        let sealed = seat.sealed.ok_or(Error::<T>::VoteNotCast)?;
        ensure!(seat.vote.is_none(), Error::<T>::VoteAlreadyRevealed);
        Self::check_receipt(&job, &receipt)?;
        ensure!(sealed == vote_commitment(id, round, &who, &receipt, &salt), Error::<T>::VoteCommitmentMismatch);
        seat.vote = Some(receipt);
        Self::deposit_event(Event::VoteRevealed { job: id, juror: who, receipt });
        let next = now.saturating_add(1u32.into());
        let all_in = dispute.committee.iter().all(|j| j.sealed.is_none() || j.vote.is_some());
        if all_in && deadline > next {
            // Every juror who voted has revealed: tally in the next block rather than wait.
            Self::transition(id, &mut job, Phase::Disputed(next));
            JobOf::<T>::insert(id, job);
        }
        DisputeOf::<T>::insert(id, dispute);
        Ok(())
    }
}
