//! Calls into the runtime's WASM blob the way a node does (`sc-executor`, compiled with
//! wasmtime), for tests and benchmarks of what only the real blob can show: the referee's
//! receipts and its speed inside the runtime.

use codec::{Decode, Encode};
use sc_executor::{HeapAllocStrategy, WasmExecutionMethod, WasmExecutor};
use sp_core::traits::{CallContext, CodeExecutor, RuntimeCode, WrappedRuntimeCode};
use tessera_primitives::Receipt;
use tessera_runtime_api::RefereeRefusal;

/// The runtime's WASM in a node's executor.
pub struct Runtime {
    executor: WasmExecutor<sp_io::SubstrateHostFunctions>,
    code: WrappedRuntimeCode<'static>,
    ext: sp_io::TestExternalities,
}

impl Runtime {
    /// The runtime built by this crate's build script, in the executor a node uses for blocks
    /// (compiled, the default heap).
    pub fn new() -> Runtime {
        Runtime::of(tessera_runtime::WASM_BINARY.expect("the runtime's wasm is built"))
    }

    /// Another blob (the next spec version's) in the same executor.
    pub fn of(blob: &'static [u8]) -> Runtime {
        let executor = WasmExecutor::builder()
            .with_execution_method(WasmExecutionMethod::default())
            .with_onchain_heap_alloc_strategy(HeapAllocStrategy::Static { extra_pages: 2048 })
            .with_offchain_heap_alloc_strategy(HeapAllocStrategy::Static { extra_pages: 2048 })
            .build();
        Runtime { executor, code: WrappedRuntimeCode(blob.into()), ext: sp_io::TestExternalities::default() }
    }

    #[allow(dead_code)]
    /// `TesseraApi_referee`: the referee's dry run, the same function the market's referee call
    /// executes, inside the runtime.
    pub fn referee(&mut self, code: &[u8], input: &[u8], fuel: u64, max_output_len: u32) -> Result<(Receipt, Vec<u8>), RefereeRefusal> {
        let runtime_code = RuntimeCode { code_fetcher: &self.code, heap_pages: None, hash: vec![0x7e; 32] };
        let args = (code.to_vec(), input.to_vec(), fuel, max_output_len).encode();
        let mut ext = self.ext.ext();
        let (result, _) = self.executor.call(&mut ext, &runtime_code, "TesseraApi_referee", &args, CallContext::Onchain { import: false });
        let bytes = result.expect("the runtime answers");
        Decode::decode(&mut &bytes[..]).expect("the answer decodes")
    }

    /// `Core_version`: the version the blob reports when called (not its embedded section).
    #[allow(dead_code)]
    pub fn version(&mut self) -> sp_version::RuntimeVersion {
        let runtime_code = RuntimeCode { code_fetcher: &self.code, heap_pages: None, hash: vec![0x7f; 32] };
        let mut ext = self.ext.ext();
        let (result, _) = self.executor.call(&mut ext, &runtime_code, "Core_version", &[], CallContext::Offchain);
        let bytes = result.expect("the runtime answers");
        Decode::decode(&mut &bytes[..]).expect("the version decodes")
    }
}
