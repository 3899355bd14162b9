//! `tessera-worker`, the provider daemon: the [`worker`] loop, its [`config`], durable
//! [`store`], remote-input [`fetch`]er and Prometheus [`metrics`]. It talks to the chain only
//! through `tessera-client`.

pub mod config;
pub mod fetch;
pub mod metrics;
pub mod store;
pub mod worker;
