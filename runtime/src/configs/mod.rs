//! Pallet configurations, one module per concern.
//!
//! - [`system`]: frame-system, block limits, the runtime version.
//! - [`consensus`]: timestamp, Aura, GRANDPA.
//! - [`monetary`]: balances (holds and freezes), transaction payment.
//! - [`governance`]: sudo and the randomness source.
//! - [`market`]: the marketplace pallets (providers) and the treasury account.
//! - [`audit`]: validators' off-chain auditors and signing from off-chain workers.

pub mod audit;
pub mod consensus;
pub mod governance;
pub mod market;
pub mod monetary;
pub mod system;
