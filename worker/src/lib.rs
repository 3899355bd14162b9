//! The client side of Tessera: the provider daemon ([`worker`]), the requester CLI's logic, and
//! the chain client both use ([`client`]).

pub mod client;
pub mod config;
pub mod fetch;
pub mod metrics;
pub mod store;
pub mod worker;
