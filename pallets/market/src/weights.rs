//! Weights of the market pallet.
//!
//! NOT YET GENERATED: conservative estimates (storage reads/writes counted by hand from the
//! code, 25 µs of computation per item) that stand in until `benchmarking.rs` is run through
//! the benchmark CLI and this file is regenerated from its output.
#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
    traits::Get,
    weights::{constants::RocksDbWeight, Weight},
};

/// Weights of this pallet's calls and hooks.
pub trait WeightInfo {
    fn post_job(i: u32) -> Weight;
    fn cancel_job(r: u32) -> Weight;
    fn claim_slot() -> Weight;
    fn commit() -> Weight;
    fn reveal(o: u32) -> Weight;
    fn challenge() -> Weight;
    fn vote() -> Weight;
    fn on_initialize_idle() -> Weight;
    fn expire_job(r: u32) -> Weight;
    fn commit_deadline(r: u32) -> Weight;
    fn reveal_deadline(r: u32) -> Weight;
    fn settle(r: u32) -> Weight;
    fn draw_committee(p: u32) -> Weight;
    fn resolve_dispute(r: u32, c: u32) -> Weight;
    fn prune_result() -> Weight;
}

const BASE: u64 = 25_000_000;

/// Weights for a runtime with database weights `T::DbWeight`.
pub struct SubstrateWeight<T>(PhantomData<T>);

macro_rules! weights_impl {
    ($db:expr) => {
        fn post_job(i: u32) -> Weight {
            Weight::from_parts(BASE * 2, 8_000)
                .saturating_add(Weight::from_parts(2_000, 1).saturating_mul(i.into()))
                .saturating_add($db.reads_writes(6, 7))
        }
        fn cancel_job(r: u32) -> Weight {
            Weight::from_parts(BASE * 2, 8_000)
                .saturating_add(Weight::from_parts(BASE, 4_000).saturating_add($db.reads_writes(3, 3)).saturating_mul(r.into()))
                .saturating_add($db.reads_writes(8, 10))
        }
        fn claim_slot() -> Weight { Weight::from_parts(BASE, 8_000).saturating_add($db.reads_writes(3, 3)) }
        fn commit() -> Weight { Weight::from_parts(BASE, 8_000).saturating_add($db.reads_writes(1, 3)) }
        fn reveal(o: u32) -> Weight {
            Weight::from_parts(BASE * 2, 8_000)
                .saturating_add(Weight::from_parts(2_000, 1).saturating_mul(o.into()))
                .saturating_add($db.reads_writes(2, 4))
        }
        fn challenge() -> Weight { Weight::from_parts(BASE, 8_000).saturating_add($db.reads_writes(3, 6)) }
        fn vote() -> Weight { Weight::from_parts(BASE, 8_000).saturating_add($db.reads_writes(2, 4)) }
        fn on_initialize_idle() -> Weight { Weight::from_parts(5_000_000, 1_000).saturating_add($db.reads_writes(2, 1)) }
        fn expire_job(r: u32) -> Weight { Self::cancel_job(r) }
        fn commit_deadline(r: u32) -> Weight {
            Weight::from_parts(BASE * 2, 8_000)
                .saturating_add(Weight::from_parts(BASE * 2, 8_000).saturating_add($db.reads_writes(6, 6)).saturating_mul(r.into()))
                .saturating_add($db.reads_writes(8, 10))
        }
        fn reveal_deadline(r: u32) -> Weight { Self::commit_deadline(r) }
        fn settle(r: u32) -> Weight {
            Weight::from_parts(BASE * 2, 8_000)
                .saturating_add(Weight::from_parts(BASE * 3, 8_000).saturating_add($db.reads_writes(8, 8)).saturating_mul(r.into()))
                .saturating_add($db.reads_writes(12, 14))
        }
        fn draw_committee(p: u32) -> Weight {
            Weight::from_parts(BASE, 8_000)
                .saturating_add(Weight::from_parts(5_000_000, 2_000).saturating_add($db.reads(2)).saturating_mul(p.into()))
                .saturating_add($db.reads_writes(4, 3))
        }
        fn resolve_dispute(r: u32, c: u32) -> Weight {
            Self::settle(r)
                .saturating_add(Weight::from_parts(BASE * 2, 8_000).saturating_add($db.reads_writes(6, 6)).saturating_mul(c.into()))
        }
        fn prune_result() -> Weight { Weight::from_parts(BASE, 70_000).saturating_add($db.reads_writes(3, 3)) }
    };
}

impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
    weights_impl!(T::DbWeight::get());
}

impl WeightInfo for () {
    weights_impl!(RocksDbWeight::get());
}
