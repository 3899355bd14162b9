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
use sp_runtime::traits::{Bounded, Saturating, Zero};
use tessera_primitives::{
    pricing,
    verdict::{self, Agreement},
    JobId,
};
use tessera_traits::{Outcome as Reputation, ProviderRegistry, SlashReason};

use crate::{pallet::*, types::*, BalanceOf, WeightInfo};

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
    /// `MaxTransitionsPerBlock` of them and no more than `MaxDeadlineWeight` (the first one is
    /// always handled, so a heavy deadline cannot block the queue). Cheap deadlines (the expiry
    /// of a job nobody claimed) are handled many per block, so a flood of them cannot hold up
    /// the settlement of other jobs for long. Returns the weight used.
    pub(crate) fn process_deadlines(now: BlockNumberFor<T>) -> Weight {
        let mut weight = T::WeightInfo::on_initialize_idle();
        let budget = T::MaxDeadlineWeight::get();
        let mut cursor = DeadlineCursor::<T>::get();
        if cursor.is_zero() {
            cursor = now;
        }
        let max = T::MaxTransitionsPerBlock::get() as usize;
        let mut done = 0usize;
        let mut steps = 0u32;
        let mut spent = Weight::zero();
        'blocks: while cursor <= now && done < max && steps < MAX_CURSOR_STEPS {
            let take = max.saturating_sub(done);
            let due: Vec<JobId> = Deadlines::<T>::iter_key_prefix(cursor).take(take.saturating_add(1)).collect();
            weight.saturating_accrue(T::DbWeight::get().reads(due.len() as u64 + 1));
            for id in due.iter().take(take) {
                let left = if done == 0 { Weight::MAX } else { budget.saturating_sub(spent) };
                match Self::process_deadline(*id, cursor, now, left) {
                    Some(w) => {
                        spent.saturating_accrue(w);
                        done = done.saturating_add(1);
                    },
                    None => {
                        // Over the budget: it stays queued, but the reads that found out count.
                        weight.saturating_accrue(T::DbWeight::get().reads(2));
                        break 'blocks;
                    },
                }
            }
            if due.len() > take {
                break;
            }
            cursor = cursor.saturating_add(1u32.into());
            steps = steps.saturating_add(1);
        }
        DeadlineCursor::<T>::put(cursor);
        weight.saturating_add(spent)
    }

    /// What handling job `id`'s deadline costs at most, from its current state (the phase
    /// decides the kind of work), including the reads that found out.
    fn deadline_weight(job: Option<&Job<T>>, dispute: Option<&Dispute<T>>) -> Weight {
        let Some(job) = job else { return T::WeightInfo::prune_result() };
        let replicas = job.slots.len() as u32;
        match job.phase {
            Phase::Open(_) => T::WeightInfo::expire_job(replicas),
            Phase::Committing(_) => T::WeightInfo::commit_deadline(replicas),
            Phase::Revealing(_) => T::WeightInfo::reveal_deadline(replicas),
            Phase::Challengeable(..) => T::WeightInfo::settle(replicas),
            Phase::Disputed(_) => match dispute.map(|d| d.stage) {
                Some(DisputeStage::Drawing) | None => T::WeightInfo::draw_committee(T::Providers::provider_count()),
                Some(DisputeStage::Voting | DisputeStage::Revealing) => T::WeightInfo::resolve_dispute(
                    replicas,
                    dispute.map_or(0, |d| d.committee.len() as u32),
                )
                // No majority starts the next round, whose draw comes later: a redraw is not
                // done here, but a settlement after the tally is.
                .max(T::WeightInfo::settle(replicas)),
            },
        }
    }

    /// Handles job `id`'s deadline, queued at block `at`: the end of its phase, or the pruning
    /// of its result, if it costs at most `left`. Returns the weight used, or `None` (and
    /// leaves the deadline queued) when it would cost more.
    fn process_deadline(id: JobId, at: BlockNumberFor<T>, now: BlockNumberFor<T>, left: Weight) -> Option<Weight> {
        let job = JobOf::<T>::get(id);
        let dispute = job.as_ref().filter(|j| matches!(j.phase, Phase::Disputed(_))).and_then(|_| DisputeOf::<T>::get(id));
        let weight = Self::deadline_weight(job.as_ref(), dispute.as_ref());
        if weight.any_gt(left) {
            return None;
        }
        Deadlines::<T>::remove(at, id);
        let Some(job) = job else {
            if let Some(result) = ResultOf::<T>::take(id) {
                Self::release_hold(HoldReason::StorageDeposit, &result.requester, result.deposit);
                Self::deposit_event(Event::ResultPruned { job: id });
            } else {
                defensive!("a deadline of neither a live job nor a retained result", id);
            }
            return Some(weight);
        };
        match job.phase {
            // Not enough claims in time: the requester is refunded; nobody is paid (a
            // commitment made before a reopen is not work anyone can check).
            Phase::Open(_) => Self::end_unsettled(id, job, Outcome::Expired, None),
            Phase::Committing(_) => Self::on_commit_deadline(id, job, now),
            Phase::Revealing(_) => Self::on_reveal_deadline(id, job, now),
            Phase::Challengeable(_, agreed) => Self::settle(id, job, agreed, None, &[]),
            Phase::Disputed(_) => match dispute {
                Some(dispute) => Self::on_dispute_deadline(id, job, dispute, now),
                None => {
                    defensive!("a disputed job without a dispute record", id);
                    Self::end_unsettled(id, job, Outcome::Inconclusive, None);
                },
            },
        }
        Some(weight)
    }

    /// Penalizes `who` for missing `duty` on job `id`; `slot_value` is the most its slot could
    /// have been paid (for a replica's duties).
    ///
    /// Withholding must never be cheaper than the answer it hides:
    /// - a replica that committed and did not reveal loses at least `WrongResultSlash`, or a
    ///   lazy replica could commit a guess and stay silent whenever the others' reveals show
    ///   it wrong;
    /// - a juror who sealed a vote and did not reveal it loses at least `MinorityVoteSlash`,
    ///   for the same reason;
    /// - a replica that claimed and did not commit loses at least its slot's value, so killing
    ///   a job by claiming its slots and missing them costs the attacker what the job was
    ///   worth, round after round (an honest provider that cannot serve releases its slot
    ///   instead, without penalty).
    pub(crate) fn fault(id: JobId, who: &T::AccountId, duty: Duty, slot_value: BalanceOf<T>) {
        let missed = T::MissedDeadlineSlash::get();
        let (fraction, floor) = match duty {
            Duty::Commit => (missed, slot_value),
            Duty::Reveal => (missed.max(T::WrongResultSlash::get()), Zero::zero()),
            Duty::RevealVote => (missed.max(T::MinorityVoteSlash::get()), Zero::zero()),
            Duty::Vote => (missed, Zero::zero()),
        };
        let slashed = T::Providers::slash_at_least(who, fraction, floor, None, SlashReason::MissedDeadline);
        T::Providers::record_outcome(who, Reputation::Fault);
        Self::deposit_event(Event::Faulted { job: id, who: who.clone(), duty, slashed });
    }

    /// Commitments were due: replicas that did not commit are faulted, lose their slots and
    /// may not claim them again; the slots reopen for claims (at most `MaxReopens` times; then
    /// the job expires).
    fn on_commit_deadline(id: JobId, mut job: Job<T>, now: BlockNumberFor<T>) {
        let mut missed = 0u32;
        let mut forfeits = ForfeitedOf::<T>::get(id);
        for s in job.slots.iter().filter(|s| s.commitment.is_none()) {
            Self::fault(id, &s.provider, Duty::Commit, Self::slot_value(&job, s));
            T::Providers::release(&s.provider);
            if forfeits.providers.try_push(s.provider.clone()).is_err() {
                defensive!("more forfeits than MaxForfeits", id);
            }
            missed = missed.saturating_add(1);
        }
        ForfeitedOf::<T>::insert(id, &forfeits);
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
            Self::end_unsettled(id, job, Outcome::Expired, None);
        }
    }

    /// The most replica `s` of `job` could be paid: its price for the whole fuel limit.
    pub(crate) fn slot_value(job: &Job<T>, s: &Replica<T>) -> BalanceOf<T> {
        pricing::replica_payment(job.terms.fuel_limit, s.price_per_fuel).unwrap_or_else(BalanceOf::<T>::max_value)
    }

    /// Reveals were due: replicas that did not reveal are faulted and dropped; the others'
    /// receipts are compared (or the job expires when nobody revealed).
    fn on_reveal_deadline(id: JobId, mut job: Job<T>, now: BlockNumberFor<T>) {
        for s in job.slots.iter().filter(|s| s.receipt.is_none()) {
            Self::fault(id, &s.provider, Duty::Reveal, Self::slot_value(&job, s));
            T::Providers::release(&s.provider);
        }
        // A slot cannot be reopened once others revealed: their answers are public.
        job.slots.retain(|s| s.receipt.is_some());
        if job.slots.is_empty() {
            Self::end_unsettled(id, job, Outcome::Expired, None);
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
