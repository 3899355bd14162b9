//! The referee's cost inside the runtime, measured in the executor a node runs blocks with
//! (`sc-executor`, compiled), next to native wasmi (the same referee code, not compiled to
//! WASM) and wasmtime (the workers' engine), on the same programs. Prints nanoseconds per unit
//! of fuel and per byte of code, and the ratios (wasmtime's runs exclude its compilation, which
//! a worker does once per program; the referee's include everything); docs/PROTOCOL.md ("The referee") quotes them
//! and the market's `referee` weight is set from them.
//!
//!     cargo bench -p tessera-runtime --bench referee
//!
//! Worst case: `tessera_executor::worst_case::program`, random loads and stores over the
//! largest memory and a host call per iteration until the fuel runs out.

#[path = "../tests/wasm/mod.rs"]
mod wasm;

use std::time::{Duration, Instant};

use tessera_executor::{prepare, Compiler, Engine, ProgramLimits, RunLimits};
use tessera_examples::input;

/// Median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn ns(d: Duration) -> f64 {
    d.as_secs_f64() * 1e9
}

fn main() {
    let mut runtime = wasm::Runtime::new();
    let compiler = Compiler::new(Duration::from_secs(600)).expect("engine");
    let limits: ProgramLimits = tessera_runtime::Programs::limits();
    let pages = limits.max_memory_pages;
    let run = |fuel: u64| RunLimits { fuel, max_memory_pages: pages, max_output_len: 64 * 1024 };
    let runs = std::env::var("RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(5);

    // Warm the executor's module cache so instantiation is not timed as referee work.
    let _ = runtime.referee(&tessera_executor::worst_case::program(1, 0), &[0; 8], 10, 8);

    println!("execution, worst case ({pages} pages, 4 KiB of code): ns per fuel");
    println!("{:>12} {:>12} {:>12} {:>12} {:>10} {:>10}", "fuel", "runtime", "native wasmi", "wasmtime", "rt/wasmi", "rt/wasmtime");
    let code = tessera_executor::worst_case::program(pages, 4_096);
    let mut per_fuel = Vec::new();
    for fuel in [1_000_000u64, 2_000_000, 5_000_000, 10_000_000] {
        let input = [7u8; 8];
        let rt = median(runs, || {
            let (receipt, _) = runtime.referee(&code, &input, fuel, 64).expect("runs");
            assert_eq!(receipt.fuel_used, fuel);
        });
        let wasmi = median(runs, || {
            tessera_executor::referee(&code, &limits, &input, &run(fuel)).expect("runs");
        });
        // Wasmtime compiles once per program (a worker caches it): only the run is timed.
        let compiled = compiler.compile(&prepare(&code, &limits).expect("valid")).expect("compiles");
        let fast = median(runs, || {
            compiler.run(&compiled, &input, &run(fuel)).expect("runs");
        });
        let f = fuel as f64;
        per_fuel.push(ns(rt) / f);
        println!(
            "{:>12} {:>12.2} {:>12.2} {:>12.3} {:>10.2} {:>10.1}",
            fuel, ns(rt) / f, ns(wasmi) / f, ns(fast) / f, ns(rt) / ns(wasmi), ns(rt) / ns(fast)
        );
    }

    println!("\ncompilation (validation, instrumentation, translation), fuel 1: ns per byte of code");
    println!("{:>12} {:>12} {:>12} {:>10}", "code bytes", "runtime", "native wasmi", "rt/wasmi");
    for code_len in [64 * 1024u32, 256 * 1024, 1024 * 1024 - 4_096] {
        let code = tessera_executor::worst_case::program(1, code_len);
        let bytes = code.len() as f64;
        let rt = median(runs, || {
            runtime.referee(&code, &[0; 8], 1, 64).expect("runs");
        });
        let wasmi = median(runs, || {
            tessera_executor::referee(&code, &limits, &[0; 8], &run(1)).expect("runs");
        });
        println!("{:>12} {:>12.1} {:>12.1} {:>10.2}", code.len(), ns(rt) / bytes, ns(wasmi) / bytes, ns(rt) / ns(wasmi));
    }

    println!("\nexample programs: ns per fuel");
    println!("{:<12} {:>12} {:>12} {:>12} {:>10} {:>10}", "program", "fuel", "runtime", "wasmtime", "rt/wasmi", "rt/wasmtime");
    let cases: [(&str, &[u8], Vec<u8>); 4] = [
        ("hash chain", tessera_examples::HASH_CHAIN, input::hash_chain(20_000, b"seed")),
        ("mandelbrot", tessera_examples::MANDELBROT, input::mandelbrot(64, 48, 100)),
        ("monte carlo", tessera_examples::MONTE_CARLO, input::monte_carlo(7, 20_000)),
        ("matmul", tessera_examples::MATMUL, input::matmul(24, 3)),
    ];
    for (name, code, input) in cases {
        let program = prepare(code, &limits).expect("valid");
        let full = run(1_000_000_000);
        let fuel = compiler.execute(&program, &input, &full).expect("runs").receipt.fuel_used;
        let rt = median(runs, || {
            runtime.referee(code, &input, full.fuel, full.max_output_len).expect("runs");
        });
        let wasmi = median(runs, || {
            tessera_executor::referee(code, &limits, &input, &full).expect("runs");
        });
        let compiled = compiler.compile(&program).expect("compiles");
        let fast = median(runs, || {
            compiler.run(&compiled, &input, &full).expect("runs");
        });
        let f = fuel as f64;
        println!(
            "{:<12} {:>12} {:>12.2} {:>12.3} {:>10.2} {:>10.1}",
            name, fuel, ns(rt) / f, ns(fast) / f, ns(rt) / ns(wasmi), ns(rt) / ns(fast)
        );
    }
    let worst = per_fuel.iter().cloned().fold(0.0f64, f64::max);
    println!("\nworst execution cost inside the runtime: {worst:.2} ns per fuel");
}
