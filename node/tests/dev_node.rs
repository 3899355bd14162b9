//! Starts a real `tessera-node --dev --tmp` and checks it over JSON-RPC, through
//! `tessera-client` like every other tool: blocks are authored, GRANDPA finalizes them,
//! metadata is served and the runtime code in state is the WASM blob this build produced. Then
//! stops the node by its PID.

use std::time::Duration;

use serde_json::{json, Value};
use tessera_client::{
    rpc_params,
    testing::{ok, until, DevNode},
};

/// A debug node compiles the runtime with wasmtime before RPC answers; be generous.
const STARTUP: Duration = Duration::from_secs(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_node_authors_finalizes_and_serves_metadata() {
    let dir = std::env::temp_dir();
    let mut node = DevNode::start(&dir, &format!("tessera-dev-node-{}", std::process::id()), &[]);
    let client = node.connect(STARTUP).await;

    let chain: String = ok("system_chain", client.request("system_chain", rpc_params![]).await);
    assert_eq!(chain, "Tessera Development");

    let props: Value =
        ok("system_properties", client.request("system_properties", rpc_params![]).await);
    assert_eq!(props["tokenSymbol"], json!("TSR"));
    assert_eq!(props["tokenDecimals"], json!(12));
    assert_eq!(props["ss58Format"], json!(42));

    // GRANDPA finalizes a block beyond genesis (Aura authors every 6 s).
    let finalized = until("a finalized block above genesis", Duration::from_secs(120), || async {
        let number = client.at_finalized().await.ok()?.block_number();
        (number >= 1).then_some(number)
    })
    .await;
    assert!(finalized >= 1);

    // Metadata: SCALE-encoded, starting with the magic "meta" and a supported version (14..=16).
    let metadata: String =
        ok("state_getMetadata", client.request("state_getMetadata", rpc_params![]).await);
    let metadata = sp_core::bytes::from_hex(&metadata).expect("metadata is hex");
    assert_eq!(&metadata[..4], b"meta", "metadata magic");
    assert!((14..=16).contains(&metadata[4]), "metadata version {}", metadata[4]);
    assert!(metadata.len() > 10_000, "metadata is implausibly small: {} bytes", metadata.len());

    // The runtime in state (`:code`) is exactly the blob this build embedded, and that blob
    // decompresses to a real WASM module.
    let best = ok("the best block", client.at_best().await);
    let code = best.storage().runtime_wasm_code().await.expect(":code is in state");
    let built = tessera_runtime::WASM_BINARY.expect("the runtime was built to wasm");
    assert_eq!(code, built, "on-chain runtime differs from the built WASM_BINARY");
    let wasm = sp_maybe_compressed_blob::decompress(&code, 64 * 1024 * 1024)
        .expect("the runtime blob decompresses");
    assert_eq!(&wasm[..4], b"\0asm", "runtime code is not a WASM module");

    drop((best, client));
    let status = node.process.stop(Duration::from_secs(60));
    assert!(status.success() || status.code().is_none(), "unclean exit: {status}");
}
