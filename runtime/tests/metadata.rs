//! The metadata that off-chain crates are generated from (`client/metadata/tessera.scale`, read
//! by `tessera-client`'s `#[subxt::subxt]` module) must be this runtime's own: a call, event or
//! storage item changed here and not there would make every tool sign and decode stale types.
//!
//! Regenerate after a runtime change with `scripts/metadata.sh` (it runs this test with
//! `TESSERA_UPDATE_METADATA=1`, which writes the file instead of comparing).

use std::path::PathBuf;

/// The metadata version clients are generated from: the newest the runtime serves.
fn newest_metadata() -> (u32, Vec<u8>) {
    let version = *tessera_runtime::Runtime::metadata_versions().iter().max().expect("the runtime serves metadata");
    let metadata = tessera_runtime::Runtime::metadata_at_version(version).expect("listed versions are served");
    (version, metadata.to_vec())
}

#[test]
fn checked_in_metadata_is_the_runtimes() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../client/metadata/tessera.scale");
    let (version, current) = newest_metadata();
    if std::env::var_os("TESSERA_UPDATE_METADATA").is_some() {
        std::fs::write(&path, &current).expect("client/metadata is writable");
        eprintln!("wrote metadata v{version} ({} bytes) to {}", current.len(), path.display());
        return;
    }
    let checked_in = std::fs::read(&path).unwrap_or_default();
    assert!(
        checked_in == current,
        "client/metadata/tessera.scale ({} bytes) is not the runtime's metadata v{version} ({} bytes): \
         run scripts/metadata.sh and commit the file",
        checked_in.len(),
        current.len()
    );
}
