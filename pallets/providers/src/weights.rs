//! Weights of the providers pallet.
//!
//! NOT YET GENERATED: these are conservative estimates (storage reads/writes counted by hand
//! from the code, 25 µs of computation each) that stand in until `benchmarking.rs` is run
//! through the benchmark CLI and this file is regenerated from its output.
#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
    traits::Get,
    weights::{constants::RocksDbWeight, Weight},
};

/// Weights of this pallet's calls and hooks.
pub trait WeightInfo {
    fn register() -> Weight;
    fn update_profile() -> Weight;
    fn bond_more() -> Weight;
    fn unbond() -> Weight;
    fn withdraw_unbonded(c: u32) -> Weight;
    fn deregister() -> Weight;
    fn set_maintenance() -> Weight;
    fn heartbeat() -> Weight;
    fn cancel_slash() -> Weight;
    fn set_slashing_enabled() -> Weight;
    fn on_initialize_slashes(n: u32) -> Weight;
}

const BASE: u64 = 25_000_000;

/// Weights for a runtime with database weights `T::DbWeight`.
pub struct SubstrateWeight<T>(PhantomData<T>);

macro_rules! weights_impl {
    ($db:expr) => {
        fn register() -> Weight { Weight::from_parts(BASE, 4_000).saturating_add($db.reads_writes(4, 5)) }
        fn update_profile() -> Weight { Weight::from_parts(BASE, 4_000).saturating_add($db.reads_writes(1, 1)) }
        fn bond_more() -> Weight { Weight::from_parts(BASE, 4_000).saturating_add($db.reads_writes(3, 3)) }
        fn unbond() -> Weight { Weight::from_parts(BASE, 4_000).saturating_add($db.reads_writes(1, 1)) }
        fn withdraw_unbonded(c: u32) -> Weight {
            Weight::from_parts(BASE, 4_000)
                .saturating_add(Weight::from_parts(1_000_000, 0).saturating_mul(c.into()))
                .saturating_add($db.reads_writes(3, 3))
        }
        fn deregister() -> Weight { Weight::from_parts(BASE, 4_000).saturating_add($db.reads_writes(4, 4)) }
        fn set_maintenance() -> Weight { Weight::from_parts(BASE, 4_000).saturating_add($db.reads_writes(1, 1)) }
        fn heartbeat() -> Weight { Weight::from_parts(BASE, 4_000).saturating_add($db.reads_writes(1, 1)) }
        fn cancel_slash() -> Weight { Weight::from_parts(BASE, 4_000).saturating_add($db.reads_writes(3, 3)) }
        fn set_slashing_enabled() -> Weight { Weight::from_parts(BASE, 0).saturating_add($db.writes(1)) }
        fn on_initialize_slashes(n: u32) -> Weight {
            Weight::from_parts(5_000_000, 1_000)
                .saturating_add($db.reads_writes(1, 1))
                .saturating_add(Weight::from_parts(BASE * 2, 8_000).saturating_add($db.reads_writes(8, 7)).saturating_mul(n.into()))
        }
    };
}

impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
    weights_impl!(T::DbWeight::get());
}

impl WeightInfo for () {
    weights_impl!(RocksDbWeight::get());
}
