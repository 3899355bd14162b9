//! The conformance corpus (feature `corpus`): programs that exercise every way an execution can
//! end (normal, trapping, aborting, out of fuel at many points, memory growth up to the cap,
//! deep recursion, floats and NaNs, the example programs, the referee's worst case), each with
//! an input and limits. Every engine must give each case the same receipt and output: the
//! executor's conformance tests run it on wasmtime, on wasmi and through [`crate::referee`];
//! the runtime's tests run it through the referee inside the runtime's WASM.

use std::{format, string::String, vec, vec::Vec};

use crate::RunLimits;

/// One case of the corpus.
#[derive(Clone, Debug)]
pub struct Case {
    /// What it exercises.
    pub name: String,
    /// The program (a WASM binary).
    pub code: Vec<u8>,
    /// Its input.
    pub input: Vec<u8>,
    /// Fuel, memory cap and output cap of the run.
    pub limits: RunLimits,
}

/// The host imports every WAT case starts with.
pub const IO: &str = r#"
  (import "tessera" "input_len" (func $input_len (result i32)))
  (import "tessera" "read_input" (func $read_input (param i32 i32 i32) (result i32)))
  (import "tessera" "write_output" (func $write_output (param i32 i32)))
  (import "tessera" "abort" (func $abort (param i32)))
"#;

/// A module with the host imports and one page of memory (growable to 256) around `body`.
pub fn module(body: &str) -> String {
    format!("(module {IO} (memory (export \"memory\") 1 256) {body})")
}

/// The WASM binary of a WAT text.
pub fn wasm(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).expect("the corpus is valid WAT")
}

/// Limits with `fuel`, the protocol's largest memory (256 pages) and 64 KiB of output.
pub fn limits(fuel: u64) -> RunLimits {
    RunLimits { fuel, max_memory_pages: 256, max_output_len: 64 * 1024 }
}

/// Echoes its input.
pub const ECHO: &str = r#"(func (export "run") (local $n i32)
     (local.set $n (call $read_input (i32.const 0) (i32.const 0) (call $input_len)))
     (call $write_output (i32.const 0) (local.get $n)))"#;

/// Writes one byte per iteration, 200 iterations: how far it got shows in the output.
pub const COUNTER: &str = r#"(func (export "run") (local $i i32)
     (loop $l
       (i32.store8 (i32.const 0) (local.get $i))
       (call $write_output (i32.const 0) (i32.const 1))
       (local.set $i (i32.add (local.get $i) (i32.const 1)))
       (br_if $l (i32.lt_u (local.get $i) (i32.const 200)))))"#;

/// Bodies that trap or abort.
pub const ENDINGS: [&str; 7] = [
    "(func (export \"run\") (drop (i32.div_u (i32.const 1) (i32.const 0))))",
    "(func (export \"run\") unreachable)",
    "(func (export \"run\") (drop (i32.load (i32.const -4))))",
    "(func (export \"run\") (call $write_output (i32.const 65530) (i32.const 100)))",
    "(func (export \"run\") (call $write_output (i32.const 0) (i32.const 70000)))",
    "(func (export \"run\") (call $abort (i32.const 7)))",
    r#"(data (i32.const 0) "partial")
       (func (export "run") (call $write_output (i32.const 0) (i32.const 7)) unreachable)"#,
];

/// Grows memory one page at a time until refused and outputs how many pages it got.
pub fn memory_grower() -> String {
    format!(
        "(module {IO} (memory (export \"memory\") 1)
           (func (export \"run\") (local $n i32)
             (block $full (loop $grow
               (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
               (local.set $n (i32.add (local.get $n) (i32.const 1)))
               (br $grow)))
             (i32.store (i32.const 0) (local.get $n))
             (call $write_output (i32.const 0) (i32.const 4))))"
    )
}

/// Recurses as deep as its input (a u32) says.
pub const RECURSION: &str = r#"(func $down (param $n i32) (result i32)
     (if (result i32) (i32.eqz (local.get $n))
       (then (i32.const 0))
       (else (i32.add (i32.const 1) (call $down (i32.sub (local.get $n) (i32.const 1)))))))
   (func (export "run")
     (drop (call $read_input (i32.const 0) (i32.const 0) (i32.const 4)))
     (i32.store (i32.const 0) (call $down (i32.load (i32.const 0))))
     (call $write_output (i32.const 0) (i32.const 4)))"#;

/// NaNs from arithmetic, reinterpretation and copysign.
pub const NANS: &str = r#"(func (export "run")
     (f32.store (i32.const 0) (f32.div (f32.const 0) (f32.const 0)))
     (f64.store (i32.const 4) (f64.sqrt (f64.const -1)))
     (f64.store (i32.const 12) (f64.add (f64.const nan:0x4) (f64.const 1)))
     (f32.store (i32.const 20) (f32.demote_f64 (f64.const -nan:0x123)))
     (f64.store (i32.const 24) (f64.mul (f64.const 1.5) (f64.const 2)))
     (i64.store (i32.const 32) (i64.reinterpret_f64 (f64.div (f64.const 0) (f64.const 0))))
     (f64.store (i32.const 40) (f64.copysign (f64.const 1) (f64.div (f64.const 0) (f64.const 0))))
     (call $write_output (i32.const 0) (i32.const 48)))"#;

/// The whole corpus. Every case runs with the protocol's largest memory (256 pages), as the
/// runtime's referee does; `memory_cap` cases add a smaller cap for engines that take one.
pub fn cases() -> Vec<Case> {
    use tessera_examples::input;
    let case = |name: &str, code: Vec<u8>, input: Vec<u8>, fuel: u64| Case { name: name.into(), code, input, limits: limits(fuel) };
    let mut all = vec![case("echo", wasm(&module(ECHO)), b"hello, tessera".to_vec(), 1_000)];
    // The counter needs 200 iterations' fuel: run it short at many points, and exactly.
    let counter = wasm(&module(COUNTER));
    for fuel in [0, 1, 97, 500, 1_000, 5_000, 10_000, 1_000_000] {
        all.push(case(&format!("counter, fuel {fuel}"), counter.clone(), Vec::new(), fuel));
    }
    for (i, body) in ENDINGS.iter().enumerate() {
        all.push(case(&format!("ending {i}"), wasm(&module(body)), Vec::new(), 10_000));
    }
    all.push(case("memory growth to the cap", wasm(&memory_grower()), Vec::new(), 10_000_000));
    all.push(case("memory growth out of fuel", wasm(&memory_grower()), Vec::new(), 100_000));
    let recursion = wasm(&module(RECURSION));
    all.push(case("recursion 100 deep", recursion.clone(), 100u32.to_le_bytes().to_vec(), 10_000_000));
    all.push(case("recursion past the depth budget", recursion, 1_000_000u32.to_le_bytes().to_vec(), 100_000_000));
    all.push(case("nans", wasm(&module(NANS)), Vec::new(), 10_000));
    all.push(case("hash chain", tessera_examples::HASH_CHAIN.to_vec(), input::hash_chain(1000, b"seed"), 1_000_000_000));
    all.push(case("mandelbrot", tessera_examples::MANDELBROT.to_vec(), input::mandelbrot(64, 48, 100), 1_000_000_000));
    all.push(case("monte carlo", tessera_examples::MONTE_CARLO.to_vec(), input::monte_carlo(7, 20_000), 1_000_000_000));
    all.push(case("matmul", tessera_examples::MATMUL.to_vec(), input::matmul(24, 3), 1_000_000_000));
    all.push(case("mandelbrot out of fuel", tessera_examples::MANDELBROT.to_vec(), input::mandelbrot(64, 48, 100), 123_457));
    all.push(case("worst case, 1 MiB memory", crate::worst_case::program(16, 4_096), vec![7; 8], 200_000));
    all.push(case("worst case, largest memory", crate::worst_case::program(256, 64 * 1024), vec![9; 8], 1_000_000));
    all
}
