//! Starts a real `tessera-node --dev --tmp` and checks it over JSON-RPC: blocks are authored,
//! GRANDPA finalizes them, metadata is served and the runtime code in state is the WASM blob
//! this build produced. Then stops the node by its PID.

mod common;

use std::time::Duration;

use common::{hex_bytes, Node};
use serde_json::json;

/// A debug node compiles the runtime with wasmtime before RPC answers; be generous.
const STARTUP: Duration = Duration::from_secs(300);

#[test]
fn dev_node_authors_finalizes_and_serves_metadata() {
    let mut node = Node::start_dev(&[]);
    node.wait_for_rpc(STARTUP);

    let chain = node.rpc("system_chain", json!([])).expect("system_chain");
    assert_eq!(chain, json!("Tessera Development"));

    let props = node.rpc("system_properties", json!([])).expect("system_properties");
    assert_eq!(props["tokenSymbol"], json!("TSR"));
    assert_eq!(props["tokenDecimals"], json!(12));
    assert_eq!(props["ss58Format"], json!(42));

    // GRANDPA finalizes a block beyond genesis (Aura authors every 6 s).
    let finalized = node.wait_for("a finalized block above genesis", Duration::from_secs(120), |n| {
        let head = n.rpc("chain_getFinalizedHead", json!([])).ok()?;
        let number = n.block_number(&head)?;
        (number >= 1).then_some(number)
    });
    assert!(finalized >= 1);

    // Metadata: SCALE-encoded, starting with the magic "meta" and a supported version (14..=16).
    let metadata = hex_bytes(&node.rpc("state_getMetadata", json!([])).expect("state_getMetadata"));
    assert_eq!(&metadata[..4], b"meta", "metadata magic");
    assert!((14..=16).contains(&metadata[4]), "metadata version {}", metadata[4]);
    assert!(metadata.len() > 10_000, "metadata is implausibly small: {} bytes", metadata.len());

    // The runtime in state (`:code`) is exactly the blob this build embedded, and that blob
    // decompresses to a real WASM module.
    let code = hex_bytes(
        &node.rpc("state_getStorage", json!(["0x3a636f6465"])).expect("state_getStorage(:code)"),
    );
    let built = tessera_runtime::WASM_BINARY.expect("the runtime was built to wasm");
    assert_eq!(code, built, "on-chain runtime differs from the built WASM_BINARY");
    let wasm = sp_maybe_compressed_blob::decompress(&code, 64 * 1024 * 1024)
        .expect("the runtime blob decompresses");
    assert_eq!(&wasm[..4], b"\0asm", "runtime code is not a WASM module");

    let status = node.stop(Duration::from_secs(60));
    assert!(status.success() || status.code().is_none(), "unclean exit: {status}");
}
