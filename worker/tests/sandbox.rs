//! The worker's sandbox: executions in a `tessera-worker --sandbox-exec` child process give the
//! same receipt and output as the in-process engine, large outputs cross the pipe intact, the
//! wall-clock cap kills a run that would spin on its fuel for hours, and a broken child is an
//! engine error, never a receipt.

use std::time::{Duration, Instant};

use tessera_executor::{prepare, Compiler, Engine, ExecError, ExitStatus, ProgramLimits, RunLimits, Sandbox};
use tessera_worker::worker::SANDBOX_ARG;

const WORKER_BIN: &str = env!("CARGO_BIN_EXE_tessera-worker");
const LIMITS: ProgramLimits = ProgramLimits { max_code_len: 256 * 1024, max_memory_pages: 256, max_table_elements: 4096 };

fn sandbox(timeout: Duration) -> Sandbox {
    Sandbox::new(WORKER_BIN, [SANDBOX_ARG], timeout)
}

#[test]
fn sandboxed_runs_match_the_in_process_engine_and_carry_large_outputs() {
    let program = prepare(tessera_examples::MANDELBROT, &LIMITS).expect("valid");
    // 400 × 300 pixels: a 120 kB image, more than a pipe buffer holds.
    let input = tessera_examples::input::mandelbrot(400, 300, 64);
    let limits = RunLimits { fuel: 5_000_000_000, max_memory_pages: 256, max_output_len: 1 << 20 };
    let inside = Compiler::new(Duration::from_secs(60)).expect("engine").execute(&program, &input, &limits).expect("runs");
    let outside = sandbox(Duration::from_secs(60)).execute(&program, &input, &limits).expect("runs");
    assert_eq!(outside, inside);
    assert_eq!(outside.receipt.status, ExitStatus::Ok);
    assert!(outside.output.len() > 120_000);
    assert_eq!(outside.output, tessera_examples::reference::mandelbrot(&input));

    // Out of fuel is a receipt like any other, identical too.
    let short = RunLimits { fuel: 100_000, ..limits };
    let inside = Compiler::new(Duration::from_secs(60)).expect("engine").execute(&program, &input, &short).expect("runs");
    let outside = sandbox(Duration::from_secs(60)).execute(&program, &input, &short).expect("runs");
    assert_eq!((outside.receipt.status, outside.receipt.fuel_used), (ExitStatus::OutOfFuel, 100_000));
    assert_eq!(outside, inside);
}

#[test]
fn the_wall_clock_cap_kills_a_spinning_run() {
    let code = wat::parse_str(
        r#"(module (memory (export "memory") 1) (func (export "run") (loop $spin (br $spin))))"#,
    )
    .expect("wat");
    let program = prepare(&code, &LIMITS).expect("valid");
    let limits = RunLimits { fuel: u64::MAX / 4, max_memory_pages: 1, max_output_len: 0 };
    let started = Instant::now();
    let result = sandbox(Duration::from_millis(500)).execute(&program, &[], &limits);
    assert_eq!(result, Err(ExecError::Timeout));
    assert!(started.elapsed() < Duration::from_secs(10), "killed promptly, took {:?}", started.elapsed());
}

#[test]
fn a_broken_child_is_an_engine_error() {
    let program = prepare(tessera_examples::HASH_CHAIN, &LIMITS).expect("valid");
    let limits = RunLimits { fuel: 1_000_000, max_memory_pages: 16, max_output_len: 64 };
    let no_such = Sandbox::new("/nonexistent/tessera-worker", [SANDBOX_ARG], Duration::from_secs(5));
    assert!(matches!(no_such.execute(&program, b"x", &limits), Err(ExecError::Engine(e)) if e.contains("cannot start")));
    // A child that does not speak the protocol (the daemon's own argument parser refuses it).
    let wrong = Sandbox::new(WORKER_BIN, ["--no-such-flag"], Duration::from_secs(5));
    assert!(matches!(wrong.execute(&program, b"x", &limits), Err(ExecError::Engine(e)) if e.contains("exited")));
}
