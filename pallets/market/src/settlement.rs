//! How jobs end and money moves: settlement of a verified result, the ends without one
//! (cancelled, expired, inconclusive), the removal of a job's storage, and the only three ways
//! this pallet moves funds (releasing a hold, paying from a hold, minting a reward).

use frame_support::{
    defensive,
    pallet_prelude::*,
    traits::{
        fungible::{Mutate, MutateHold},
        tokens::{Fortitude, Precision, Restriction},
    },
};
use sp_runtime::{
    traits::{Saturating, Zero},
    SaturatedConversion,
};
use tessera_primitives::{emission, pricing, JobId, Receipt};
use tessera_traits::{Outcome as Reputation, ProgramRegistry, ProviderRegistry, SlashReason};

use crate::{pallet::*, types::*, BalanceOf};

impl<T: Config> Pallet<T> {
    // ---------------------------------------------------------------------------------------
    // Ending a job
    // ---------------------------------------------------------------------------------------

    /// Settles a job whose result is `verdict`: replicas that reported it are paid for its fuel
    /// at their price, the protocol fee on each payment goes to the treasury and the replica is
    /// minted `EmissionMatch` of that fee; the other replicas are slashed. A challenge is upheld
    /// (bond back, `ChallengerShare` of the slashes) or rejected: its bond pays `jurors`, the
    /// committee majority that re-executed the job (the treasury when the referee decided),
    /// never the replicas, so challenging a job served by one's own account costs the bond.
    /// The majority jurors also share `EmissionMatch` of what the slashes pay the treasury. The
    /// rest of the escrow returns to the requester.
    pub(crate) fn settle(
        id: JobId,
        job: Job<T>,
        verdict: Receipt,
        challenge: Option<Challenge<T>>,
        jurors: &[T::AccountId],
    ) {
        let requester = job.requester.clone();
        let mut left = job.escrow;
        let (mut paid, mut fee) = (BalanceOf::<T>::zero(), BalanceOf::<T>::zero());
        let mut right = 0u32;
        let mut any_wrong = false;
        let mut slashes_to_treasury = BalanceOf::<T>::zero();
        let beneficiary = challenge.as_ref().map(|c| (c.challenger.clone(), T::ChallengerShare::get()));
        for s in job.slots.iter() {
            T::Providers::release(&s.provider);
            match s.receipt {
                Some(r) if r == verdict => {
                    let (payment, fee_paid) = Self::pay_replica(&requester, s, verdict.fuel_used, &mut left);
                    paid = paid.saturating_add(payment);
                    fee = fee.saturating_add(fee_paid);
                    let reward = Self::mint_matched(&s.provider, fee_paid);
                    T::Providers::record_outcome(&s.provider, Reputation::Success);
                    right = right.saturating_add(1);
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
                    let to_challenger = beneficiary.as_ref().map_or_else(Zero::zero, |(_, share)| share.mul_floor(slashed));
                    slashes_to_treasury = slashes_to_treasury.saturating_add(slashed.saturating_sub(to_challenger));
                    T::Providers::record_outcome(&s.provider, Reputation::Fault);
                    Self::deposit_event(Event::WrongResult { job: id, provider: s.provider.clone(), slashed });
                },
            }
        }

        let mut bond_share = BalanceOf::<T>::zero();
        if let Some(c) = challenge {
            if any_wrong || right == 0 {
                Self::release_hold(HoldReason::ChallengeBond, &c.challenger, c.bond);
                Self::deposit_event(Event::ChallengeUpheld { job: id, challenger: c.challenger });
            } else {
                if !jurors.is_empty() {
                    let parts: BalanceOf<T> = (jurors.len() as u32).into();
                    bond_share = c.bond / parts;
                }
                let mut forfeited = BalanceOf::<T>::zero();
                for who in jurors {
                    forfeited = forfeited
                        .saturating_add(Self::pay_from_hold(HoldReason::ChallengeBond, &c.challenger, who, bond_share));
                }
                let rest = c.bond.saturating_sub(forfeited);
                let to_treasury = Self::pay_from_hold(HoldReason::ChallengeBond, &c.challenger, &T::Treasury::get(), rest);
                // Whatever could not be paid out (dust below the existential deposit) goes back.
                Self::release_hold(HoldReason::ChallengeBond, &c.challenger, rest.saturating_sub(to_treasury));
                Self::deposit_event(Event::ChallengeRejected { job: id, challenger: c.challenger, bond: c.bond });
            }
        }

        if !jurors.is_empty() {
            let parts: BalanceOf<T> = (jurors.len() as u32).into();
            let matched_each = slashes_to_treasury / parts;
            for juror in jurors {
                let reward = Self::mint_matched(juror, matched_each);
                T::Providers::record_outcome(juror, Reputation::Success);
                Self::deposit_event(Event::JurorRewarded { job: id, juror: juror.clone(), bond_share, reward });
            }
        }
        Self::finish(id, job, Outcome::Settled, Some(verdict), paid, fee, left);
    }

    /// Ends a job without a verified result: slots are released, the `challenge` of an ended
    /// dispute gets its bond back, the requester gets what is left of the escrow.
    /// - `Cancelled`: every claimer gets `CancellationCompensation` of its slot's maximum
    ///   payment (a requester cannot waste providers' time for free).
    /// - `Expired`: nobody is paid; a commitment is not work anyone can check.
    /// - `Inconclusive`: every replica that revealed is paid for the fuel its receipt reports,
    ///   with the protocol fee: the requester has seen the results, so it cannot have them for
    ///   free by forcing a dispute that finds no majority. Nobody is rewarded or slashed.
    pub(crate) fn end_unsettled(id: JobId, job: Job<T>, outcome: Outcome, challenge: Option<Challenge<T>>) {
        let requester = job.requester.clone();
        let mut left = job.escrow;
        let (mut paid, mut fee) = (BalanceOf::<T>::zero(), BalanceOf::<T>::zero());
        for s in job.slots.iter() {
            T::Providers::release(&s.provider);
            match (outcome, s.receipt) {
                (Outcome::Cancelled, _) => {
                    let slot_max =
                        pricing::replica_payment(job.terms.fuel_limit, s.price_per_fuel).unwrap_or(left);
                    let due =
                        pricing::cancellation_compensation(slot_max, T::CancellationCompensation::get()).min(left);
                    let payment = Self::pay_from_hold(HoldReason::Escrow, &requester, &s.provider, due);
                    left = left.saturating_sub(payment);
                    paid = paid.saturating_add(payment);
                },
                (Outcome::Inconclusive, Some(r)) => {
                    let (payment, fee_paid) = Self::pay_replica(&requester, s, r.fuel_used, &mut left);
                    paid = paid.saturating_add(payment);
                    fee = fee.saturating_add(fee_paid);
                },
                _ => {},
            }
        }
        if let Some(c) = challenge {
            Self::release_hold(HoldReason::ChallengeBond, &c.challenger, c.bond);
        }
        Self::finish(id, job, outcome, None, paid, fee, left);
    }

    /// Pays replica `s` for `fuel` at its price from the requester's escrow, and the protocol
    /// fee on that payment to the treasury; takes both from `left`. Returns (payment, fee).
    fn pay_replica(
        requester: &T::AccountId,
        s: &Replica<T>,
        fuel: u64,
        left: &mut BalanceOf<T>,
    ) -> (BalanceOf<T>, BalanceOf<T>) {
        let due = pricing::replica_payment(fuel, s.price_per_fuel).unwrap_or(*left).min(*left);
        let payment = Self::pay_from_hold(HoldReason::Escrow, requester, &s.provider, due);
        *left = left.saturating_sub(payment);
        let fee_due = pricing::fee_on(payment, T::ProtocolFee::get()).min(*left);
        let fee = Self::pay_from_hold(HoldReason::Escrow, requester, &T::Treasury::get(), fee_due);
        *left = left.saturating_sub(fee);
        (payment, fee)
    }

    /// Removes a job's storage (and its dispute record, if any), releases what is left of its
    /// escrow and deposit, and keeps a [`JobResult`] until `ResultRetention` blocks from now;
    /// the job's deadline in the queue becomes the result's pruning.
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
        PlacementOf::<T>::remove(id);
        DisputeOf::<T>::remove(id);
        ForfeitedOf::<T>::remove(id);
        JobOf::<T>::remove(id);
        T::Programs::release(&job.terms.program);
        let prune_at = now.saturating_add(T::ResultRetention::get().max(1u32.into()));
        Self::retire(id, &job, prune_at);

        let kept = Self::deposit_for(output.as_ref().map_or(0, |o| o.len() as u64)).min(job.deposit);
        Self::release_hold(HoldReason::StorageDeposit, &job.requester, job.deposit.saturating_sub(kept));
        ResultOf::<T>::insert(
            id,
            JobResult {
                requester: job.requester,
                program: job.terms.program,
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
        Self::deposit_event(Event::JobEnded { job: id, outcome, paid, fee, refunded });
    }

    // ---------------------------------------------------------------------------------------
    // Money
    // ---------------------------------------------------------------------------------------

    /// Releases `amount` of `who`'s hold for `reason`; returns what was released.
    pub(crate) fn release_hold(reason: HoldReason, who: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
        if amount.is_zero() {
            return amount;
        }
        T::Currency::release(&reason.into(), who, amount, Precision::BestEffort).unwrap_or_else(|e| {
            // The market's books equal its holds (see `do_try_state`), so what it releases is held.
            defensive!("release of a booked hold failed", (who, amount, e));
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

    /// Mints to `who` the emission matched to `paid_in` (what its verified work paid the
    /// treasury): `EmissionMatch` of it, within the era's budget.
    pub(crate) fn mint_matched(who: &T::AccountId, paid_in: BalanceOf<T>) -> BalanceOf<T> {
        let era = emission::era_of(Self::now().saturated_into::<u32>(), T::EraLength::get());
        let (mut current, mut emitted) = EraEmission::<T>::get();
        if current != era {
            current = era;
            emitted = Zero::zero();
        }
        let budget = emission::era_budget(T::InitialEraEmission::get(), T::EmissionDecay::get(), era);
        let reward = emission::matched_reward(paid_in, T::EmissionMatch::get(), budget.saturating_sub(emitted));
        if reward.is_zero() {
            return reward;
        }
        let minted = T::Currency::mint_into(who, reward).unwrap_or_else(|_| Zero::zero());
        emitted = emitted.saturating_add(minted);
        EraEmission::<T>::put((current, emitted));
        TotalEmitted::<T>::mutate(|t| *t = t.saturating_add(minted));
        minted
    }
}
