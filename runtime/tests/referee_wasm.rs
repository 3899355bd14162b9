//! The referee inside the runtime's WASM gives the conformance corpus the same receipts and
//! outputs as wasmtime, the workers' engine (and so, by the executor's conformance tests, as
//! native wasmi): a dispute decided on chain is decided as the honest replicas computed it.

mod wasm;

use std::time::Duration;

use tessera_executor::{prepare, Compiler, Engine, ProgramLimits};

#[test]
fn the_corpus_gets_the_same_receipts_from_the_runtimes_referee_as_from_wasmtime() {
    let mut runtime = wasm::Runtime::new();
    let compiler = Compiler::new(Duration::from_secs(120)).expect("engine");
    let limits: ProgramLimits = tessera_runtime::Programs::limits();
    let cases = tessera_executor::corpus::cases();
    assert!(cases.len() > 20);
    for case in cases {
        // The runtime runs every program with the protocol's memory cap.
        let run = tessera_executor::RunLimits { max_memory_pages: limits.max_memory_pages, ..case.limits };
        let expected = compiler.execute(&prepare(&case.code, &limits).expect("valid"), &case.input, &run).expect("runs");
        let (receipt, output) = runtime
            .referee(&case.code, &case.input, run.fuel, run.max_output_len)
            .unwrap_or_else(|e| panic!("{}: the runtime's referee refused: {e:?}", case.name));
        assert_eq!(receipt, expected.receipt, "{}", case.name);
        assert_eq!(output, expected.output, "{}", case.name);
    }
}

#[test]
fn the_runtimes_referee_refuses_an_invalid_program() {
    let mut runtime = wasm::Runtime::new();
    assert_eq!(
        runtime.referee(b"\0asm\x01\0\0\0garbage", &[], 1_000, 64),
        Err(tessera_runtime_api::RefereeRefusal::InvalidProgram)
    );
}

#[test]
fn the_runtimes_referee_instruments_the_largest_program() {
    // A program of the registry's largest size, one huge function: instrumenting it inside the
    // runtime must stay within the runtime allocator's largest allocation (it once collected
    // the whole function's operators and trapped the runtime).
    let mut runtime = wasm::Runtime::new();
    let limits: ProgramLimits = tessera_runtime::Programs::limits();
    let code = tessera_executor::worst_case::program(1, limits.max_code_len - 4_096);
    assert!(code.len() as u32 <= limits.max_code_len && code.len() > 1_000_000);
    let (receipt, _) = runtime.referee(&code, &[1; 8], 1_000, 8).expect("a receipt");
    assert_eq!(receipt.fuel_used, 1_000);
}
