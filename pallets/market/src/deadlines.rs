//! The deadline machine: the [`Deadlines`] queue, the one helper that moves a job's phase
//! together with its queue entry, and what `on_initialize` does when a phase's deadline
//! comes.
//!
//! Queue discipline: a live job has exactly one entry, at `job.phase.deadline()`; a retained
//! result has exactly one, at its pruning block. Only [`Pallet::start`] (a new job),
//! [`Pallet::transition`] (every phase change) and [`Pallet::retire`] (a job ending) add
//! entries, each removing the entry it replaces, and [`Pallet::process_deadlines`] pops the
//! entries that came due. No other code writes the queue.

use alloc::vec::Vec;
use frame_support::{defensive, pallet_prelude::*};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{Saturating, Zero};
use tessera_primitives::{
    verdict::{self, Agreement},
    JobId,
};
use tessera_traits::{Outcome as Reputation, ProviderRegistry, SlashReason};

use crate::{pallet::*, types::*, WeightInfo};

/// Most empty blocks the deadline cursor skips in one `on_initialize` (a chain that was halted
/// catches up over several blocks instead of in one).
pub const MAX_CURSOR_STEPS: u32 = 64;

impl<T: Config> Pallet<T> {
    // ---------------------------------------------------------------------------------------
    // The queue
    // ---------------------------------------------------------------------------------------

    /// Moves job `id`'s queue entry from `from` (when it has one) to `to`.
    fn move_deadline(id: JobId, from: Option<BlockNumberFor<T>>, to: BlockNumberFor<T>) {
        if let Some(from) = from {
            Deadlines::<T>::remove(from, id);
        }
        Deadlines::<T>::insert(to, id, ());
    }

    /// Queues the deadline of a new job's first phase.
    pub(crate) fn start(id: JobId, job: &Job<T>) {
        Self::move_deadline(id, None, job.phase.deadline());
    }

    /// Moves `job` into phase `to` and its queue entry from the old phase's deadline to the
    /// new one's. Every phase change goes through here. (When `on_initialize` handles a
    /// deadline it has already popped the entry; removing it again is a no-op.)
    pub(crate) fn transition(id: JobId, job: &mut Job<T>, to: Phase<BlockNumberFor<T>>) {
        Self::move_deadline(id, Some(job.phase.deadline()), to.deadline());
        job.phase = to;
    }

    /// Ends `job`'s place in the queue: its phase deadline is replaced by `prune_at`, when its
    /// retained [`JobResult`] is removed.
    pub(crate) fn retire(id: JobId, job: &Job<T>, prune_at: BlockNumberFor<T>) {
        Self::move_deadline(id, Some(job.phase.deadline()), prune_at);
    }

    // ---------------------------------------------------------------------------------------
    // Handling deadlines
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
            let budget = max.saturating_sub(done);
            let due: Vec<JobId> = Deadlines::<T>::iter_key_prefix(cursor).take(budget.saturating_add(1)).collect();
            weight.saturating_accrue(T::DbWeight::get().reads(due.len() as u64 + 1));
            for id in due.iter().take(budget) {
                Deadlines::<T>::remove(cursor, id);
                weight.saturating_accrue(Self::process_deadline(*id, now));
                done = done.saturating_add(1);
            }
            if due.len() > budget {
                break;
            }
            cursor = cursor.saturating_add(1u32.into());
            steps = steps.saturating_add(1);
        }
        DeadlineCursor::<T>::put(cursor);
        weight
    }

    /// Handles job `id`'s deadline (already popped from the queue): the end of its phase, or
    /// the pruning of its result.
    fn process_deadline(id: JobId, now: BlockNumberFor<T>) -> Weight {
        let Some(job) = JobOf::<T>::get(id) else {
            if let Some(result) = ResultOf::<T>::take(id) {
                Self::release_hold(HoldReason::StorageDeposit, &result.requester, result.deposit);
                Self::deposit_event(Event::ResultPruned { job: id });
                return T::WeightInfo::prune_result();
            }
            defensive!("a deadline of neither a live job nor a retained result", id);
            return T::DbWeight::get().reads(2);
        };
        let replicas = job.slots.len() as u32;
        match job.phase {
            Phase::Open(_) => {
                // Not enough claims in time. Replicas that committed before a reopen did their
                // work and are compensated; plain claimers are not.
                Self::end_unsettled(id, job, Outcome::Expired, |s| s.commitment.is_some(), None);
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
            Phase::Challengeable(_, agreed) => {
                Self::settle(id, job, agreed, None);
                T::WeightInfo::settle(replicas)
            },
            Phase::Disputed(_) => {
                let Some(dispute) = DisputeOf::<T>::get(id) else {
                    defensive!("a disputed job without a dispute record", id);
                    Self::end_unsettled(id, job, Outcome::Inconclusive, |_| false, None);
                    return T::WeightInfo::settle(replicas);
                };
                let weight = match dispute.stage {
                    DisputeStage::Drawing => T::WeightInfo::draw_committee(T::Providers::provider_count()),
                    DisputeStage::Voting | DisputeStage::Revealing => {
                        T::WeightInfo::resolve_dispute(replicas, dispute.committee.len() as u32)
                    },
                };
                Self::on_dispute_deadline(id, job, dispute, now);
                weight
            },
        }
    }

    /// Penalizes `who` for missing `duty` on job `id`.
    ///
    /// A juror who sealed a vote and did not reveal it loses at least `MinorityVoteSlash`:
    /// otherwise a lazy juror could seal a guess, watch the others' reveals, and withhold its
    /// own whenever it would be outvoted, paying the smaller `MissedDeadlineSlash` instead.
    pub(crate) fn fault(id: JobId, who: &T::AccountId, duty: Duty) {
        let fraction = match duty {
            Duty::RevealVote => T::MissedDeadlineSlash::get().max(T::MinorityVoteSlash::get()),
            Duty::Commit | Duty::Reveal | Duty::Vote => T::MissedDeadlineSlash::get(),
        };
        let slashed = T::Providers::slash(who, fraction, None, SlashReason::MissedDeadline);
        T::Providers::record_outcome(who, Reputation::Fault);
        Self::deposit_event(Event::Faulted { job: id, who: who.clone(), duty, slashed });
    }

    /// Commitments were due: replicas that did not commit are faulted and lose their slots,
    /// which reopen for claims (at most `MaxReopens` times; then the job expires).
    fn on_commit_deadline(id: JobId, mut job: Job<T>, now: BlockNumberFor<T>) {
        let mut missed = 0u32;
        for s in job.slots.iter().filter(|s| s.commitment.is_none()) {
            Self::fault(id, &s.provider, Duty::Commit);
            T::Providers::release(&s.provider);
            missed = missed.saturating_add(1);
        }
        job.slots.retain(|s| s.commitment.is_some());
        if missed == 0 {
            defensive!("a commit deadline with every commitment in (the last one moves the job on)", id);
            let reveal_until = now.saturating_add(T::RevealTimeout::get());
            Self::transition(id, &mut job, Phase::Revealing(reveal_until));
            JobOf::<T>::insert(id, job);
        } else if job.reopens < T::MaxReopens::get() {
            job.reopens = job.reopens.saturating_add(1);
            let claim_until = now.saturating_add(T::ReopenTimeout::get());
            Self::transition(id, &mut job, Phase::Open(claim_until));
            JobOf::<T>::insert(id, job);
            Self::deposit_event(Event::SlotsReopened { job: id, slots: missed, claim_until });
        } else {
            Self::end_unsettled(id, job, Outcome::Expired, |s| s.commitment.is_some(), None);
        }
    }

    /// Reveals were due: replicas that did not reveal are faulted and dropped; the others'
    /// receipts are compared (or the job expires when nobody revealed).
    fn on_reveal_deadline(id: JobId, mut job: Job<T>, now: BlockNumberFor<T>) {
        for s in job.slots.iter().filter(|s| s.receipt.is_none()) {
            Self::fault(id, &s.provider, Duty::Reveal);
            T::Providers::release(&s.provider);
        }
        // A slot cannot be reopened once others revealed: their answers are public.
        job.slots.retain(|s| s.receipt.is_some());
        if job.slots.is_empty() {
            Self::end_unsettled(id, job, Outcome::Expired, |_| false, None);
        } else {
            Self::conclude_reveals(id, &mut job, now);
            JobOf::<T>::insert(id, job);
        }
    }

    /// Moves a job whose remaining replicas all revealed on, comparing their receipts once:
    /// agreement opens the challenge window with the agreed receipt kept in the phase,
    /// disagreement opens a dispute.
    pub(crate) fn conclude_reveals(id: JobId, job: &mut Job<T>, now: BlockNumberFor<T>) {
        match verdict::agreement(job.slots.iter().filter_map(|s| s.receipt.as_ref())) {
            Agreement::Unanimous(receipt) => {
                let challenge_until = now.saturating_add(job.terms.challenge_window);
                Self::transition(id, job, Phase::Challengeable(challenge_until, receipt));
                Self::deposit_event(Event::ResultAgreed { job: id, receipt, challenge_until });
            },
            // `Empty` cannot happen (the callers keep at least one revealed slot); a dispute
            // is the safe answer to anything but agreement.
            Agreement::Split | Agreement::Empty => Self::open_dispute(id, job, None, now),
        }
    }
}
