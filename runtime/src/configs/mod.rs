//! Pallet configurations, one module per concern.
//!
//! - [`system`]: frame-system, block limits, the runtime version.
//! - [`consensus`]: timestamp, Aura, GRANDPA.
//! - [`monetary`]: balances (holds and freezes), transaction payment.
//! - [`governance`]: sudo and the randomness source.

pub mod consensus;
pub mod governance;
pub mod monetary;
pub mod system;
