//! Weights of the programs pallet.
//!
//! NOT YET GENERATED: conservative estimates (storage accesses counted from the code; upload
//! charged 100 ns per byte for hashing and validation, about 10× the cost measured for
//! `validate` in the primitives tests) that stand in until `benchmarking.rs` is run through
//! the benchmark CLI and this file is regenerated.
#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
    traits::Get,
    weights::{constants::RocksDbWeight, Weight},
};

/// Weights of this pallet's calls.
pub trait WeightInfo {
    fn upload_program(n: u32) -> Weight;
    fn remove_program() -> Weight;
}

/// Weights for a runtime with database weights `T::DbWeight`.
pub struct SubstrateWeight<T>(PhantomData<T>);

macro_rules! weights_impl {
    ($db:expr) => {
        fn upload_program(n: u32) -> Weight {
            Weight::from_parts(40_000_000, 4_000)
                .saturating_add(Weight::from_parts(100_000, 2).saturating_mul(n.into()))
                .saturating_add($db.reads_writes(3, 4))
        }
        fn remove_program() -> Weight {
            Weight::from_parts(30_000_000, 4_000).saturating_add($db.reads_writes(3, 4))
        }
    };
}

impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
    weights_impl!(T::DbWeight::get());
}

impl WeightInfo for () {
    weights_impl!(RocksDbWeight::get());
}
