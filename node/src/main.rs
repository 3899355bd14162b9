//! `tessera-node`: a Tessera validator or full node.
//!
//! Aura block production, GRANDPA finality, JSON-RPC, off-chain workers and Prometheus metrics,
//! executing the Tessera runtime's WASM blob.

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
    command::run()
}
