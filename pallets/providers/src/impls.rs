//! Internal logic of the providers pallet and its [`ProviderRegistry`] implementation.

use frame_support::{
    defensive, ensure,
    pallet_prelude::*,
    traits::{
        fungible::{InspectHold, MutateHold},
        tokens::{Fortitude, Precision, Restriction},
    },
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
    traits::{Saturating, Zero},
    Perbill, SaturatedConversion,
};
use tessera_primitives::reputation::Outcome;
use tessera_traits::{Ineligible, Placement, PlacementTooLarge, ProviderRegistry, SlashReason};

use crate::{pallet::*, BalanceOf, JobRequirements, PendingSlash, Profile, ProfileSpec, ProviderInfo, ProviderProfile, SlashId};

impl<T: Config> Pallet<T> {
    /// Block numbers as the `u32` the reputation maths uses.
    pub(crate) fn block_u32(n: BlockNumberFor<T>) -> u32 {
        n.saturated_into::<u32>()
    }

    /// `profile` as the registry keeps it, or which of its fields is too long.
    /// A profile's region and labels are bounded as a job's placement is (one set of checks,
    /// so a job can require whatever a profile can advertise).
    pub(crate) fn bound_profile(profile: ProfileSpec<T>) -> Result<Profile<T>, Error<T>> {
        let ProviderProfile { capacity, price_per_fuel, region, labels } = profile;
        let Placement { region, labels } = Placement { region: Some(region), labels }
            .bounded::<T::MaxRegionLen, T::MaxLabels, T::MaxLabelLen>()
            .map_err(|e| match e {
                PlacementTooLarge::RegionTooLong => Error::<T>::RegionTooLong,
                PlacementTooLarge::TooManyLabels => Error::<T>::TooManyLabels,
                PlacementTooLarge::LabelTooLong => Error::<T>::LabelTooLong,
            })?;
        // `Some` went in, so `Some` came out.
        let region = region.unwrap_or_default();
        Ok(ProviderProfile { capacity, price_per_fuel, region, labels })
    }

    pub(crate) fn check_profile(profile: &Profile<T>, live_assignments: u32) -> DispatchResult {
        ensure!(
            profile.capacity > 0 && profile.capacity <= T::MaxCapacity::get(),
            Error::<T>::BadCapacity
        );
        ensure!(profile.capacity >= live_assignments, Error::<T>::CapacityBelowAssignments);
        ensure!(!profile.price_per_fuel.is_zero(), Error::<T>::ZeroPrice);
        Ok(())
    }

    /// Removes `who` (at `index`) keeping `ProviderAt` dense: the last provider moves into
    /// the freed index.
    pub(crate) fn remove_provider(who: &T::AccountId, index: u32) {
        ProviderOf::<T>::remove(who);
        let last = ProviderOf::<T>::count();
        if index != last {
            if let Some(moved) = ProviderAt::<T>::get(last) {
                ProviderAt::<T>::insert(index, &moved);
                ProviderOf::<T>::mutate(&moved, |p| {
                    if let Some(p) = p {
                        p.index = index;
                    }
                });
            }
        }
        ProviderAt::<T>::remove(last);
    }

    /// Whether `p` has heartbeated within `HeartbeatTimeout` at `now`.
    pub fn is_live(p: &ProviderInfo<T>, now: BlockNumberFor<T>) -> bool {
        now.saturating_sub(p.last_heartbeat) <= T::HeartbeatTimeout::get()
    }

    /// Whether a provider record is available for any work at `now`: not in maintenance,
    /// live, staked at least `MinStake`. What a juror must be; the first checks of a claim.
    pub fn availability(p: &ProviderInfo<T>, now: BlockNumberFor<T>) -> Result<(), Ineligible> {
        ensure!(!p.maintenance, Ineligible::InMaintenance);
        ensure!(Self::is_live(p, now), Ineligible::Inactive);
        ensure!(p.stake >= T::MinStake::get(), Ineligible::StakeTooLow);
        Ok(())
    }

    /// Eligibility of a provider record for new work under `req`, at `now`: available, then
    /// the job's placement (region, labels), reputation, price and free capacity.
    pub fn eligibility(
        p: &ProviderInfo<T>,
        req: &JobRequirements<T>,
        now: BlockNumberFor<T>,
    ) -> Result<BalanceOf<T>, Ineligible> {
        Self::availability(p, now)?;
        req.placement.met_by(&p.profile.region, &p.profile.labels)?;
        let score = p.reputation.score_at(Self::block_u32(now), &T::ReputationParams::get());
        ensure!(score >= req.min_reputation, Ineligible::ReputationTooLow);
        ensure!(p.profile.price_per_fuel <= req.max_price_per_fuel, Ineligible::PriceTooHigh);
        ensure!(p.live_assignments < p.profile.capacity, Ineligible::NoCapacity);
        Ok(p.profile.price_per_fuel)
    }

    /// Schedules a slash; see [`ProviderRegistry::slash_at_least`].
    ///
    /// A slash is never dropped: it is queued at `now + SlashDeferral + 1` or, when slashes
    /// scheduled earlier already reach past that block, at the last block holding slashes
    /// ([`SlashTail`]), or the one after it when that block's queue is full. Buckets fill in
    /// order, so the block after the tail is always empty; a flood of slashes is applied
    /// `MaxSlashesPerBlock` per block, later but complete, and the slashed provider cannot
    /// withdraw meanwhile (its pending slashes block it).
    pub(crate) fn do_slash(
        who: &T::AccountId,
        fraction: Perbill,
        floor: BalanceOf<T>,
        beneficiary: Option<(T::AccountId, Perbill)>,
        reason: SlashReason,
    ) -> BalanceOf<T> {
        if !SlashingEnabled::<T>::get() {
            Self::deposit_event(Event::SlashSkipped { who: who.clone(), reason });
            return Zero::zero();
        }
        let Some(mut p) = ProviderOf::<T>::get(who) else { return Zero::zero() };
        let held = p.total_held();
        let amount = fraction.mul_floor(held).max(floor).min(held);
        if amount.is_zero() {
            return amount;
        }
        let now = frame_system::Pallet::<T>::block_number();
        let earliest = now.saturating_add(T::SlashDeferral::get()).saturating_add(1u32.into());
        let mut due = earliest.max(SlashTail::<T>::get());
        let id = NextSlashId::<T>::get();
        if !SlashesDue::<T>::mutate(due, |ids| ids.try_push(id).is_ok()) {
            due = due.saturating_add(1u32.into());
            SlashesDue::<T>::mutate(due, |ids| {
                if ids.try_push(id).is_err() {
                    defensive!("the block after the slash tail holds slashes");
                }
            });
        }
        SlashTail::<T>::put(due);
        NextSlashId::<T>::put(id.wrapping_add(1));
        p.pending_slashes = p.pending_slashes.saturating_add(1);
        ProviderOf::<T>::insert(who, p);
        PendingSlashOf::<T>::insert(id, PendingSlash { provider: who.clone(), amount, beneficiary, reason, due });
        Self::deposit_event(Event::SlashScheduled { id, who: who.clone(), amount, reason, due });
        amount
    }

    pub(crate) fn note_slash_done(who: &T::AccountId) {
        ProviderOf::<T>::mutate(who, |p| {
            if let Some(p) = p {
                p.pending_slashes = p.pending_slashes.saturating_sub(1);
            }
        });
    }

    /// Applies a due slash: takes what is still held (active stake first, then the newest
    /// unbonding chunks), pays the beneficiary its share and the treasury the rest.
    pub(crate) fn apply_slash(id: SlashId) {
        let Some(slash) = PendingSlashOf::<T>::take(id) else { return };
        if !SlashingEnabled::<T>::get() {
            Self::note_slash_done(&slash.provider);
            Self::deposit_event(Event::SlashDiscarded { id });
            return;
        }
        let who = slash.provider.clone();
        let Some(mut p) = ProviderOf::<T>::get(&who) else { return };
        let reason = HoldReason::Stake.into();
        let amount = slash.amount.min(T::Currency::balance_on_hold(&reason, &who)).min(p.total_held());

        // Books first: take from active stake, then from the newest unbonding chunks.
        let mut left = amount;
        let from_stake = left.min(p.stake);
        p.stake = p.stake.saturating_sub(from_stake);
        left = left.saturating_sub(from_stake);
        for chunk in p.unbonding.iter_mut().rev() {
            let take = left.min(chunk.amount);
            chunk.amount = chunk.amount.saturating_sub(take);
            left = left.saturating_sub(take);
        }
        p.unbonding.retain(|c| !c.amount.is_zero());
        p.pending_slashes = p.pending_slashes.saturating_sub(1);
        // Only a wrong result is booked as a slash in the reputation: a missed deadline or an
        // overruled vote was already booked as a fault when it happened.
        if slash.reason == SlashReason::WrongResult {
            p.reputation.record(
                Outcome::Slashed,
                Self::block_u32(frame_system::Pallet::<T>::block_number()),
                &T::ReputationParams::get(),
            );
        }
        ProviderOf::<T>::insert(&who, p);

        let mut to_beneficiary = BalanceOf::<T>::zero();
        if let Some((beneficiary, share)) = &slash.beneficiary {
            let want = share.mul_floor(amount);
            if !want.is_zero() {
                to_beneficiary =
                    Self::pay_from_hold(&reason, &who, beneficiary, want).unwrap_or_else(|_| Zero::zero());
            }
        }
        let rest = amount.saturating_sub(to_beneficiary);
        let to_treasury = if rest.is_zero() {
            rest
        } else {
            match Self::pay_from_hold(&reason, &who, &T::Treasury::get(), rest) {
                Ok(paid) => paid,
                Err(_) => {
                    // The treasury cannot receive (e.g. it does not exist and `rest` is below
                    // the existential deposit): burn instead, so the books still balance.
                    let _ = T::Currency::burn_held(&reason, &who, rest, Precision::BestEffort, Fortitude::Force);
                    Zero::zero()
                },
            }
        };
        Self::deposit_event(Event::Slashed { id, who, amount, to_beneficiary, to_treasury });
    }

    fn pay_from_hold(
        reason: &T::RuntimeHoldReason,
        from: &T::AccountId,
        to: &T::AccountId,
        amount: BalanceOf<T>,
    ) -> Result<BalanceOf<T>, DispatchError> {
        T::Currency::transfer_on_hold(reason, from, to, amount, Precision::Exact, Restriction::Free, Fortitude::Force)
    }

    /// Checks the pallet's invariants:
    /// - `ProviderAt` is a dense index `0..count` whose entries point back at their records;
    /// - every provider's `Stake` hold equals its active plus unbonding stake;
    /// - no provider has more live assignments than capacity;
    /// - each provider's `pending_slashes` equals the pending slashes naming it, and every
    ///   pending slash is queued at its due block.
    #[cfg(any(feature = "try-runtime", feature = "std", test))]
    pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
        use alloc::collections::btree_map::BTreeMap;
        let count = ProviderOf::<T>::count();
        ensure!(ProviderAt::<T>::iter().count() as u32 == count, "ProviderAt is not dense");
        let mut pending: BTreeMap<T::AccountId, u32> = BTreeMap::new();
        for (id, s) in PendingSlashOf::<T>::iter() {
            *pending.entry(s.provider.clone()).or_default() += 1;
            ensure!(SlashesDue::<T>::get(s.due).contains(&id), "pending slash is not queued");
        }
        for (who, p) in ProviderOf::<T>::iter() {
            ensure!(p.index < count, "provider index out of range");
            ensure!(ProviderAt::<T>::get(p.index).as_ref() == Some(&who), "ProviderAt does not point back");
            ensure!(
                T::Currency::balance_on_hold(&HoldReason::Stake.into(), &who) == p.total_held(),
                "stake hold differs from the provider's books"
            );
            ensure!(p.live_assignments <= p.profile.capacity, "more assignments than capacity");
            ensure!(pending.get(&who).copied().unwrap_or(0) == p.pending_slashes, "pending slash count");
        }
        Ok(())
    }
}

impl<T: Config> ProviderRegistry<T::AccountId> for Pallet<T> {
    type Balance = BalanceOf<T>;
    type MaxRegionLen = T::MaxRegionLen;
    type MaxLabels = T::MaxLabels;
    type MaxLabelLen = T::MaxLabelLen;

    fn check_eligible(who: &T::AccountId, req: &JobRequirements<T>) -> Result<BalanceOf<T>, Ineligible> {
        let p = ProviderOf::<T>::get(who).ok_or(Ineligible::NotProvider)?;
        Self::eligibility(&p, req, frame_system::Pallet::<T>::block_number())
    }

    fn is_active(who: &T::AccountId) -> bool {
        ProviderOf::<T>::get(who)
            .is_some_and(|p| Self::availability(&p, frame_system::Pallet::<T>::block_number()).is_ok())
    }

    fn assign(who: &T::AccountId) -> DispatchResult {
        ProviderOf::<T>::try_mutate(who, |p| {
            let p = p.as_mut().ok_or(Error::<T>::NotRegistered)?;
            ensure!(p.live_assignments < p.profile.capacity, Error::<T>::CapacityBelowAssignments);
            p.live_assignments += 1;
            Ok(())
        })
    }

    fn release(who: &T::AccountId) {
        ProviderOf::<T>::mutate(who, |p| {
            if let Some(p) = p {
                p.live_assignments = p.live_assignments.saturating_sub(1);
            }
        });
    }

    fn record_outcome(who: &T::AccountId, outcome: Outcome) {
        let now = Self::block_u32(frame_system::Pallet::<T>::block_number());
        ProviderOf::<T>::mutate(who, |p| {
            if let Some(p) = p {
                p.reputation.record(outcome, now, &T::ReputationParams::get());
            }
        });
    }

    fn slash_at_least(
        who: &T::AccountId,
        fraction: Perbill,
        floor: BalanceOf<T>,
        beneficiary: Option<(T::AccountId, Perbill)>,
        reason: SlashReason,
    ) -> BalanceOf<T> {
        Self::do_slash(who, fraction, floor, beneficiary, reason)
    }

    fn stake_of(who: &T::AccountId) -> BalanceOf<T> {
        ProviderOf::<T>::get(who).map_or_else(Zero::zero, |p| p.stake)
    }

    fn provider_count() -> u32 {
        ProviderOf::<T>::count()
    }

    fn provider_at(index: u32) -> Option<T::AccountId> {
        ProviderAt::<T>::get(index)
    }
}
