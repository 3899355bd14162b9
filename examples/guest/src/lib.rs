//! Glue between Tessera's host ABI and the example algorithms: each `src/bin/*.rs` is one
//! program. Built for wasm32v1-none by `../build.rs`.
#![no_std]

pub use tessera_algorithms as algorithms;

#[cfg(target_arch = "wasm32")]
pub mod abi;
