//! `tessera-try-runtime on-runtime-upgrade`: what happens to a live network's state when a new
//! runtime is enacted, checked before anyone submits `set_code`.
//!
//! 1. Downloads the whole state at a block (the latest finalized by default) over JSON-RPC
//!    (`state_getKeysPaged`, `state_queryStorageAt`) and checks its root against the block's
//!    header, so nothing is missing.
//! 2. Reads the running runtime's version, puts the new runtime in `:code` and checks it is an
//!    upgrade of the same chain (same `spec_name`, higher `spec_version`).
//! 3. Calls the new runtime's `TryRuntime_on_runtime_upgrade` (the runtime must be built with
//!    the `try-runtime` feature): every migration runs with its `pre_upgrade`/`post_upgrade`
//!    checks, then every pallet's `try_state` invariants; a failed check panics in the runtime
//!    and is reported here as an error.
//! 4. Runs the upgrade hook a second time on the migrated state: it must change nothing
//!    (migrations are idempotent, guarded by storage versions).
//! 5. Prints the upgrade's weight against the block's limit, which it must fit in.
//!
//! It needs nothing but the node's public JSON-RPC and the new runtime's file; it links no
//! runtime (the runtime's own code runs, in the same executor a node uses).

use std::{collections::BTreeMap, path::PathBuf, time::Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};
use clap::Parser;
use codec::{Decode, Encode};
use jsonrpsee::{
    core::client::ClientT,
    rpc_params,
    ws_client::{WsClient, WsClientBuilder},
};
use sc_executor::WasmExecutor;
use sp_core::{
    storage::{well_known_keys, StateVersion, Storage},
    traits::CallContext,
    H256,
};
use sp_runtime::traits::BlakeTwo256;
use sp_state_machine::{
    backend::{BackendRuntimeCode, TryPendingCode},
    OverlayedChanges, StateMachine, TestExternalities,
};
use sp_version::RuntimeVersion;
use sp_weights::Weight;

#[derive(Parser, Debug)]
#[command(name = "tessera-try-runtime", version, about = "Checks a runtime upgrade against a live network's state.")]
enum Cli {
    /// Runs the new runtime's migrations and checks on the state of a live network.
    OnRuntimeUpgrade(UpgradeArgs),
}

#[derive(clap::Args, Debug)]
struct UpgradeArgs {
    /// A node's WebSocket JSON-RPC endpoint.
    #[arg(long, default_value = "ws://127.0.0.1:9944")]
    uri: String,
    /// The new runtime (a `.compact.compressed.wasm`), built with the `try-runtime` feature.
    #[arg(long)]
    runtime: PathBuf,
    /// The block whose state to use (default: the latest finalized).
    #[arg(long)]
    at: Option<H256>,
    /// Which checks the runtime runs: all, pre-and-post, try-state or none.
    #[arg(long, default_value = "all")]
    checks: Checks,
}

/// What `TryRuntime_on_runtime_upgrade` takes: the same encoding as FRAME's
/// `UpgradeCheckSelect` (which only exists in try-runtime builds of frame-support).
#[derive(clap::ValueEnum, Encode, Clone, Copy, Debug)]
enum Checks {
    None,
    All,
    PreAndPost,
    TryState,
}

type Ext = TestExternalities<BlakeTwo256>;

#[tokio::main]
async fn main() -> Result<()> {
    let Cli::OnRuntimeUpgrade(args) = Cli::parse();
    // The runtime's own log lines (which migrations and checks ran, what failed) at info.
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", "info");
    }
    sp_tracing::try_init_simple();
    on_runtime_upgrade(args).await
}

async fn on_runtime_upgrade(args: UpgradeArgs) -> Result<()> {
    let code = std::fs::read(&args.runtime).with_context(|| format!("reading {}", args.runtime.display()))?;
    let rpc = WsClientBuilder::default()
        .max_response_size(256 << 20)
        .build(&args.uri)
        .await
        .with_context(|| format!("connecting to {}", args.uri))?;
    let at = match args.at {
        Some(at) => at,
        None => rpc.request("chain_getFinalizedHead", rpc_params![]).await.context("chain_getFinalizedHead")?,
    };
    let header: serde_json::Value = rpc.request("chain_getHeader", rpc_params![at]).await.context("chain_getHeader")?;
    let number = header["number"].as_str().and_then(|n| u64::from_str_radix(n.trim_start_matches("0x"), 16).ok());
    let state_root: H256 = serde_json::from_value(header["stateRoot"].clone()).context("the header's state root")?;

    let started = Instant::now();
    let top = download(&rpc, at).await?;
    println!(
        "[try-runtime] state at block {} ({at:?}): {} keys, {} bytes, downloaded in {:.1} s",
        number.map_or("?".into(), |n| n.to_string()),
        top.len(),
        top.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>(),
        started.elapsed().as_secs_f64()
    );

    let executor: WasmExecutor<sp_io::SubstrateHostFunctions> = WasmExecutor::builder().build();
    // The state version the running runtime commits with decides the root.
    let old_code = top.get(well_known_keys::CODE).cloned().context("the state has no runtime code")?;
    let old = version(&state(&old_code, &top, StateVersion::V1), &executor)?;
    let mut ext = state(&old_code, &top, old.state_version());
    ext.commit_all().map_err(|e| anyhow!(e))?;
    ensure!(
        *ext.backend.root() == state_root,
        "the downloaded state's root {:?} is not the block's {state_root:?}: state is missing (child tries are not downloaded)",
        ext.backend.root()
    );

    let mut top = top;
    top.insert(well_known_keys::CODE.to_vec(), code.clone());
    let ext = state(&code, &top, old.state_version());
    let new = version(&ext, &executor)?;
    println!(
        "[try-runtime] upgrade {} {} -> {} {} (transaction version {} -> {})",
        old.spec_name, old.spec_version, new.spec_name, new.spec_version, old.transaction_version, new.transaction_version
    );
    ensure!(new.spec_name == old.spec_name, "the new runtime is for another chain ({} vs {})", new.spec_name, old.spec_name);
    ensure!(new.spec_version > old.spec_version, "spec_version must increase ({} -> {})", old.spec_version, new.spec_version);

    let started = Instant::now();
    let (changes, out) = call(&ext, &executor, "TryRuntime_on_runtime_upgrade", &args.checks.encode())
        .context("the upgrade's checks failed (the runtime's log above says which)")?;
    let (weight, max): (Weight, Weight) = Decode::decode(&mut &out[..]).context("decoding the upgrade's weight")?;
    println!(
        "[try-runtime] on_runtime_upgrade with checks {:?}: ok in {:.1} s; weight {} ps, {} bytes of proof = {:.2} % of the block's {} ps",
        args.checks,
        started.elapsed().as_secs_f64(),
        weight.ref_time(),
        weight.proof_size(),
        100.0 * weight.ref_time() as f64 / max.ref_time().max(1) as f64,
        max.ref_time()
    );
    ensure!(weight.all_lte(max), "the upgrade weighs more than a block can hold");

    // Idempotency: the migrated state, upgraded again, does not change.
    let mut migrated = apply(&ext, top, changes, new.state_version())?;
    migrated.commit_all().map_err(|e| anyhow!(e))?;
    let root = *migrated.backend.root();
    let (mut again, _) = call(&migrated, &executor, "TryRuntime_on_runtime_upgrade", &Checks::None.encode())?;
    let root_again = again.storage_root(&migrated.backend, new.state_version()).0;
    if root_again != root {
        let changed: Vec<String> = again
            .changes()
            .map(|(k, _)| hex::encode(&k[..k.len().min(32)]))
            .take(10)
            .collect();
        bail!("a second upgrade changes the state again: migrations are not idempotent (first keys: {changed:?})");
    }
    println!("[try-runtime] a second on_runtime_upgrade changes nothing: idempotent");
    Ok(())
}

/// Every top-level key and value at `at`.
async fn download(rpc: &WsClient, at: H256) -> Result<BTreeMap<Vec<u8>, Vec<u8>>> {
    const PAGE: u32 = 1000;
    let mut keys: Vec<String> = Vec::new();
    loop {
        let start = keys.last().cloned();
        let page: Vec<String> =
            rpc.request("state_getKeysPaged", rpc_params!["0x", PAGE, start, at]).await.context("state_getKeysPaged")?;
        let done = page.len() < PAGE as usize;
        keys.extend(page);
        if done {
            break;
        }
    }
    // Values in batches; a batch whose response would be too large for the node's limit (the
    // runtime's code, large programs) is read key by key.
    let mut top = BTreeMap::new();
    for chunk in keys.chunks(64) {
        let batch: Result<Vec<serde_json::Value>, _> = rpc.request("state_queryStorageAt", rpc_params![chunk, at]).await;
        match batch {
            Ok(sets) => {
                for set in sets {
                    for change in set["changes"].as_array().into_iter().flatten() {
                        if let Some(value) = change[1].as_str() {
                            top.insert(unhex(&change[0])?, hex::decode(value.trim_start_matches("0x"))?);
                        }
                    }
                }
            },
            Err(_) => {
                for key in chunk {
                    let value: Option<String> =
                        rpc.request("state_getStorage", rpc_params![key, at]).await.with_context(|| format!("state_getStorage {key}"))?;
                    if let Some(value) = value {
                        top.insert(hex::decode(key.trim_start_matches("0x"))?, hex::decode(value.trim_start_matches("0x"))?);
                    }
                }
            },
        }
    }
    ensure!(top.len() == keys.len(), "{} keys listed but {} values read", keys.len(), top.len());
    Ok(top)
}

fn unhex(v: &serde_json::Value) -> Result<Vec<u8>> {
    let s = v.as_str().ok_or_else(|| anyhow!("not a hex string: {v}"))?;
    Ok(hex::decode(s.trim_start_matches("0x"))?)
}

/// Calls runtime API `method` of the code in `ext`'s state, off chain; returns what it changed
/// and what it returned.
fn call(
    ext: &Ext,
    executor: &WasmExecutor<sp_io::SubstrateHostFunctions>,
    method: &str,
    data: &[u8],
) -> Result<(OverlayedChanges<BlakeTwo256>, Vec<u8>)> {
    let mut changes = OverlayedChanges::default();
    let runtime_code = BackendRuntimeCode::new(&ext.backend, TryPendingCode::No);
    let runtime_code = runtime_code.runtime_code().map_err(|e| anyhow!("no runtime code in the state: {e}"))?;
    let mut extensions = Default::default();
    let out = StateMachine::new(&ext.backend, &mut changes, executor, method, data, &mut extensions, &runtime_code, CallContext::Offchain)
        .execute()
        .map_err(|e| anyhow!("{method} failed: {e}"))?;
    Ok((changes, out))
}

fn version(ext: &Ext, executor: &WasmExecutor<sp_io::SubstrateHostFunctions>) -> Result<RuntimeVersion> {
    let (_, out) = call(ext, executor, "Core_version", &[])?;
    RuntimeVersion::decode(&mut &out[..]).context("decoding the runtime version")
}

/// `top` (the state of `ext`) with `changes` applied.
fn apply(
    ext: &Ext,
    mut top: BTreeMap<Vec<u8>, Vec<u8>>,
    mut changes: OverlayedChanges<BlakeTwo256>,
    state_version: StateVersion,
) -> Result<Ext> {
    let drained = changes.drain_storage_changes(&ext.backend, state_version).map_err(|e| anyhow!(e))?;
    for (key, value) in drained.main_storage_changes {
        match value {
            Some(v) => top.insert(key, v),
            None => top.remove(&key),
        };
    }
    let code = top.get(well_known_keys::CODE).cloned().unwrap_or_default();
    Ok(state(&code, &top, state_version))
}

/// Externalities over `top` with `code` as the runtime (`TestExternalities` always sets `:code`).
fn state(code: &[u8], top: &BTreeMap<Vec<u8>, Vec<u8>>, version: StateVersion) -> Ext {
    Ext::new_with_code_and_state(code, Storage { top: top.clone(), children_default: Default::default() }, version)
}
