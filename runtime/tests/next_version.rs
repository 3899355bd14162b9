//! The next spec version's blob (build.rs, feature `next-spec-version`), which the network test
//! enacts with `set_code`, is this runtime one spec version later and nothing else: the two
//! `VERSION` consts in lib.rs cannot drift apart unnoticed.

mod wasm;

#[test]
fn the_next_blob_is_this_runtime_one_spec_version_later() {
    let this = wasm::Runtime::new().version();
    let next = wasm::Runtime::of(tessera_runtime::next::WASM_BINARY.expect("the next blob is built")).version();
    assert_eq!(this, tessera_runtime::VERSION, "the blob reports the crate's VERSION");
    assert_eq!(next.spec_version, this.spec_version + 1);
    let same = sp_version::RuntimeVersion { spec_version: this.spec_version, ..next.clone() };
    assert_eq!(same, this, "only spec_version differs");
}
