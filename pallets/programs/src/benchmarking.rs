//! Benchmarks of the programs pallet (frame-benchmarking v2).

use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, Get};
use frame_system::RawOrigin;
use sp_runtime::Saturating;
use tessera_primitives::program::synthetic_program;

use crate::*;

fn funded<T: Config>() -> T::AccountId {
    let who: T::AccountId = whitelisted_caller();
    let amount = Pallet::<T>::deposit_for(T::MaxProgramSize::get()).saturating_mul(10u32.into());
    T::Currency::set_balance(&who, amount);
    who
}

#[benchmarks]
mod benches {
    use super::*;

    /// Uploading an `n`-byte program whose every byte is an instruction to validate.
    #[benchmark]
    fn upload_program(n: Linear<64, { T::MaxProgramSize::get() }>) {
        let who = funded::<T>();
        let code = synthetic_program(n);
        #[extrinsic_call]
        _(RawOrigin::Signed(who), code);
        assert_eq!(ProgramOf::<T>::iter().count(), 1);
    }

    #[benchmark]
    fn remove_program() {
        let who = funded::<T>();
        let code = synthetic_program(T::MaxProgramSize::get());
        let id = tessera_primitives::ProgramId::from(sp_io::hashing::blake2_256(&code));
        Pallet::<T>::upload_program(RawOrigin::Signed(who.clone()).into(), code)
            .expect("a funded upload of a valid program succeeds");
        #[extrinsic_call]
        _(RawOrigin::Signed(who), id);
        assert!(ProgramOf::<T>::get(id).is_none());
    }

    impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
