//! Compiles this crate to WASM with `substrate-wasm-builder` and exposes the blob to the `std`
//! build as `WASM_BINARY`.
//!
//! It also builds the same runtime as the *next* spec version (feature `next-spec-version`:
//! `spec_version` + 1, nothing else differs), `wasm_binary_next.rs.compact.compressed.wasm` next
//! to the runtime's blob: what the network test enacts with `set_code` on a live network. Only
//! this crate is compiled twice (its dependencies are shared), and the two blobs have different
//! file names, so neither overwrites the other.
fn main() {
    #[cfg(feature = "std")]
    {
        substrate_wasm_builder::WasmBuilder::build_using_defaults();
        substrate_wasm_builder::WasmBuilder::init_with_defaults()
            .enable_feature("next-spec-version")
            .set_file_name("wasm_binary_next.rs")
            .build();
    }
}
