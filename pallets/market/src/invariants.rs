//! The pallet's invariants, checked by `try_state` and after every step of the tests, and the
//! market's books of what every account should hold.

use frame_support::ensure;
use sp_runtime::traits::{Saturating, Zero};
use tessera_primitives::JobId;

use crate::{pallet::*, types::*, BalanceOf};

impl<T: Config> Pallet<T> {
    /// Checks the pallet's invariants:
    /// - every live job has exactly its phase deadline in [`Deadlines`], every retained result
    ///   exactly one entry, and nothing else is there; no entry lies before the cursor;
    /// - phases agree with slots: open means a slot is free, committing means every slot is
    ///   taken, revealing means every slot committed, challengeable means every slot (at
    ///   least one) revealed the receipt the phase holds, disputed means a dispute record
    ///   exists (and only then);
    /// - every account's `Escrow`, `StorageDeposit` and `ChallengeBond` holds equal the sums
    ///   the jobs, results and disputes record for it;
    /// - only live jobs have a placement in [`PlacementOf`], and none is empty;
    /// - the era's emission never exceeds everything emitted.
    pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
        use alloc::collections::btree_map::BTreeMap;
        let cursor = DeadlineCursor::<T>::get();
        let mut entries: BTreeMap<JobId, u32> = BTreeMap::new();
        for (at, id, ()) in Deadlines::<T>::iter() {
            ensure!(cursor.is_zero() || at >= cursor, "a deadline lies before the cursor");
            let n = entries.entry(id).or_default();
            *n = n.saturating_add(1);
        }
        ensure!(
            entries.len() as u32 == JobOf::<T>::count().saturating_add(ResultOf::<T>::iter_keys().count() as u32),
            "deadline entries do not match live jobs and results"
        );
        ensure!(entries.values().all(|n| *n == 1), "a job has several deadlines");

        for (id, job) in JobOf::<T>::iter() {
            ensure!(Deadlines::<T>::contains_key(job.phase.deadline(), id), "job deadline not queued");
            ensure!(job.slots.len() as u32 <= job.terms.replicas, "more slots than replicas");
            ensure!(InputOf::<T>::contains_key(id), "live job without input");
            let disputed = DisputeOf::<T>::contains_key(id);
            match job.phase {
                Phase::Open(_) => ensure!(!job.is_full(), "open job is full"),
                Phase::Committing(_) => {
                    ensure!(job.slots.len() as u32 == job.terms.replicas, "committing job not full")
                },
                Phase::Revealing(_) => {
                    ensure!(job.slots.iter().all(|s| s.commitment.is_some()), "revealing without commitments")
                },
                Phase::Challengeable(_, agreed) => ensure!(
                    !job.slots.is_empty() && job.slots.iter().all(|s| s.receipt == Some(agreed)),
                    "challengeable without every replica revealing the agreed receipt"
                ),
                Phase::Disputed(_) => ensure!(disputed, "disputed without a dispute"),
            }
            ensure!(matches!(job.phase, Phase::Disputed(_)) || !disputed, "dispute record outside a dispute");
        }
        for (id, placement) in PlacementOf::<T>::iter() {
            ensure!(JobOf::<T>::contains_key(id), "placement of a job that is not live");
            ensure!(!placement.is_empty(), "an empty placement is stored");
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
