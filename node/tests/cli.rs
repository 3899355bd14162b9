//! The node's command line: chain specs, and clear errors (not panics) for bad input.

use std::process::Command;

use serde_json::Value;

/// The node binary cargo built for these tests.
const NODE_BIN: &str = env!("CARGO_BIN_EXE_tessera-node");

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(NODE_BIN).args(args).output().expect("run tessera-node");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn unknown_chain_is_a_clear_error() {
    let dir = std::env::temp_dir().join("tessera-cli-unknown-chain");
    let (code, _, stderr) =
        run(&["--chain", "no-such-chain", "--base-path", dir.to_str().unwrap()]);
    assert_ne!(code, Some(0));
    assert!(stderr.contains("unknown chain `no-such-chain`"), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

#[test]
fn bad_argument_is_a_clear_error() {
    let (code, _, stderr) = run(&["--no-such-flag"]);
    assert_eq!(code, Some(2), "clap exits 2 on usage errors");
    assert!(stderr.contains("unexpected argument '--no-such-flag'"), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");

    let (code, _, stderr) = run(&["--rpc-port", "not-a-number"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("invalid value 'not-a-number'"), "stderr: {stderr}");
}

#[test]
fn build_spec_names_the_token_and_validators() {
    for (chain, validators) in [("dev", 1usize), ("local", 2), ("four", 4)] {
        let (code, stdout, stderr) =
            run(&["build-spec", "--chain", chain, "--disable-default-bootnode"]);
        assert_eq!(code, Some(0), "build-spec --chain {chain}: {stderr}");
        let spec: Value = serde_json::from_str(&stdout).expect("build-spec prints JSON");
        assert_eq!(spec["properties"]["tokenSymbol"], "TSR");
        assert_eq!(spec["properties"]["tokenDecimals"], 12);
        let patch = &spec["genesis"]["runtimeGenesis"]["patch"];
        assert_eq!(patch["aura"]["authorities"].as_array().map(Vec::len), Some(validators));
        assert_eq!(patch["grandpa"]["authorities"].as_array().map(Vec::len), Some(validators));
    }
}

#[test]
fn raw_build_spec_contains_the_runtime_code() {
    let (code, stdout, stderr) =
        run(&["build-spec", "--chain", "local", "--raw", "--disable-default-bootnode"]);
    assert_eq!(code, Some(0), "{stderr}");
    let spec: Value = serde_json::from_str(&stdout).expect("JSON");
    let top = &spec["genesis"]["raw"]["top"];
    let code_hex = top["0x3a636f6465"].as_str().expect(":code in the raw genesis");
    assert!(code_hex.len() > 100_000, "runtime code is implausibly small");
}
