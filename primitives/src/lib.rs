//! # Tessera primitives
//!
//! The protocol's pure logic, shared by the pallets (on chain), the worker and the CLI (off
//! chain), so both sides compute commitments, prices and sampling bit for bit alike. Everything
//! here is a plain function of its inputs: no storage, no I/O, `no_std`.
//!
//! - [`receipt`]: what an execution yields ([`Receipt`]), the commitment that binds it and a
//!   juror's sealed vote.
//! - [`pricing`]: escrow, payment and protocol fee of a job ([`pricing::quote`]).
//! - [`reputation`]: a provider's decayed reputation score.
//! - [`sampling`]: deterministic, stake-weighted sampling of distinct jurors from a seed.
//! - [`emission`]: the per-era budget of rewards for verified work.
//! - [`verdict`]: whether replicas agree, and what a committee decided.
//! - [`program`]: the host ABI of job programs and the validation every program passes.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod audit;
pub mod emission;
pub mod pricing;
pub mod program;
pub mod receipt;
pub mod reputation;
pub mod sampling;
pub mod verdict;

pub use receipt::{commitment, vote_commitment, ExitStatus, Receipt};

/// A job's id: a counter, never reused.
pub type JobId = u64;
/// A program's id: the blake2-256 hash of its WASM code.
pub type ProgramId = sp_core::H256;
/// Units of metered work, as counted by the protocol's instrumentation.
pub type Fuel = u64;
