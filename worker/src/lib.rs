//! `tessera-worker`, the provider daemon: the [`worker`] loop, its [`config`], durable
//! [`store`], remote-input [`fetch`]er, Prometheus [`metrics`] and the [`order`] it takes up
//! open jobs in. It talks to the chain only through `tessera-client`.

pub mod config;
pub mod fetch;
pub mod metrics;
pub mod order;
pub mod store;
pub mod worker;
