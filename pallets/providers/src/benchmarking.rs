//! Benchmarks of the providers pallet (frame-benchmarking v2).

use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, EnsureOrigin, Get, Hooks};
use frame_system::RawOrigin;
use sp_runtime::{Perbill, Saturating};
use tessera_traits::{ProviderRegistry, SlashReason};

use crate::*;

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
    let who: T::AccountId = account(name, index, 0);
    let amount = T::MinStake::get().saturating_mul(1_000u32.into());
    T::Currency::set_balance(&who, amount);
    who
}

/// The largest profile: every bounded field full.
fn big_profile<T: Config>() -> ProfileSpec<T> {
    let label = alloc::vec![b'l'; T::MaxLabelLen::get() as usize];
    ProfileSpec::<T> {
        capacity: T::MaxCapacity::get(),
        price_per_fuel: 1u32.into(),
        region: alloc::vec![b'r'; T::MaxRegionLen::get() as usize],
        labels: alloc::vec![label; T::MaxLabels::get() as usize],
    }
}

fn registered<T: Config>(name: &'static str, index: u32) -> T::AccountId {
    let who = funded::<T>(name, index);
    let stake = T::MinStake::get().saturating_mul(10u32.into());
    Pallet::<T>::register(RawOrigin::Signed(who.clone()).into(), stake, big_profile::<T>())
        .expect("registering a funded account succeeds");
    who
}

#[benchmarks]
mod benches {
    use super::*;

    #[benchmark]
    fn register() {
        // Fill the registry up to one below the bound: the count and index writes are the same
        // at any size, but a fuller map is the realistic worst case.
        for i in 0..T::MaxProviders::get().saturating_sub(1).min(50) {
            registered::<T>("other", i);
        }
        let who = funded::<T>("caller", 0);
        let stake = T::MinStake::get();
        #[extrinsic_call]
        _(RawOrigin::Signed(who.clone()), stake, big_profile::<T>());
        assert!(ProviderOf::<T>::contains_key(&who));
    }

    #[benchmark]
    fn update_profile() {
        let who = registered::<T>("caller", 0);
        #[extrinsic_call]
        _(RawOrigin::Signed(who), big_profile::<T>());
    }

    #[benchmark]
    fn bond_more() {
        let who = registered::<T>("caller", 0);
        #[extrinsic_call]
        _(RawOrigin::Signed(who.clone()), T::MinStake::get());
    }

    #[benchmark]
    fn unbond() {
        let who = registered::<T>("caller", 0);
        // Worst case: one chunk below the bound already there.
        for _ in 0..T::MaxUnbondingChunks::get().saturating_sub(1) {
            Pallet::<T>::unbond(RawOrigin::Signed(who.clone()).into(), 1u32.into()).unwrap();
        }
        #[extrinsic_call]
        _(RawOrigin::Signed(who), 1u32.into());
    }

    #[benchmark]
    fn withdraw_unbonded(c: Linear<1, { T::MaxUnbondingChunks::get() }>) {
        let who = registered::<T>("caller", 0);
        for _ in 0..c {
            Pallet::<T>::unbond(RawOrigin::Signed(who.clone()).into(), 1u32.into()).unwrap();
        }
        let later = frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
        frame_system::Pallet::<T>::set_block_number(later);
        #[extrinsic_call]
        _(RawOrigin::Signed(who.clone()));
        assert!(ProviderOf::<T>::get(&who).unwrap().unbonding.is_empty());
    }

    #[benchmark]
    fn deregister() {
        // Worst case: the provider is not the last, so another provider's index moves.
        let who = registered::<T>("caller", 0);
        registered::<T>("other", 1);
        let stake = ProviderOf::<T>::get(&who).unwrap().stake;
        Pallet::<T>::unbond(RawOrigin::Signed(who.clone()).into(), stake).unwrap();
        let later = frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
        frame_system::Pallet::<T>::set_block_number(later);
        Pallet::<T>::withdraw_unbonded(RawOrigin::Signed(who.clone()).into()).unwrap();
        #[extrinsic_call]
        _(RawOrigin::Signed(who.clone()));
        assert!(!ProviderOf::<T>::contains_key(&who));
    }

    #[benchmark]
    fn set_maintenance() {
        let who = registered::<T>("caller", 0);
        #[extrinsic_call]
        _(RawOrigin::Signed(who), true);
    }

    #[benchmark]
    fn heartbeat() {
        let who = registered::<T>("caller", 0);
        #[extrinsic_call]
        _(RawOrigin::Signed(who));
    }

    /// A provider abandoned with stake both active and unbonding, and the registry's last
    /// provider moved into its index.
    #[benchmark]
    fn reap() {
        let who = registered::<T>("caller", 0);
        registered::<T>("other", 1);
        let half = ProviderOf::<T>::get(&who).unwrap().stake / 2u32.into();
        Pallet::<T>::unbond(RawOrigin::Signed(who.clone()).into(), half).unwrap();
        let later = frame_system::Pallet::<T>::block_number()
            .saturating_add(T::ReapAfter::get())
            .saturating_add(1u32.into());
        frame_system::Pallet::<T>::set_block_number(later);
        let reaper = funded::<T>("reaper", 0);
        #[extrinsic_call]
        _(RawOrigin::Signed(reaper), who.clone());
        assert!(!ProviderOf::<T>::contains_key(&who));
    }

    #[benchmark]
    fn cancel_slash() -> Result<(), BenchmarkError> {
        let who = registered::<T>("caller", 0);
        Pallet::<T>::slash(&who, Perbill::from_percent(10), None, SlashReason::WrongResult);
        let origin = T::SlashCancelOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
        #[extrinsic_call]
        _(origin as T::RuntimeOrigin, 0);
        assert!(PendingSlashOf::<T>::get(0).is_none());
        Ok(())
    }

    #[benchmark]
    fn set_slashing_enabled() -> Result<(), BenchmarkError> {
        let origin = T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
        #[extrinsic_call]
        _(origin as T::RuntimeOrigin, false);
        Ok(())
    }

    /// Applying `n` due slashes, each with a beneficiary (two transfers).
    #[benchmark]
    fn on_initialize_slashes(n: Linear<0, { T::MaxSlashesPerBlock::get() }>) {
        let beneficiary = funded::<T>("beneficiary", 0);
        T::Currency::set_balance(&T::Treasury::get(), T::MinStake::get());
        for i in 0..n {
            let who = registered::<T>("slashed", i);
            Pallet::<T>::slash(&who, Perbill::from_percent(10), Some((beneficiary.clone(), Perbill::from_percent(50))), SlashReason::WrongResult);
        }
        let due = frame_system::Pallet::<T>::block_number()
            .saturating_add(T::SlashDeferral::get())
            .saturating_add(1u32.into());
        #[block]
        {
            Pallet::<T>::on_initialize(due);
        }
        assert_eq!(PendingSlashOf::<T>::iter().count(), 0);
    }

    impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
