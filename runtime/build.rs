//! Compiles this crate to WASM with `substrate-wasm-builder` and exposes the blob to the `std`
//! build as `WASM_BINARY`.
fn main() {
    #[cfg(feature = "std")]
    {
        substrate_wasm_builder::WasmBuilder::build_using_defaults();
    }
}
