//! Conformance: a corpus of programs — normal, trapping, aborting, out of fuel, memory-hungry,
//! deeply recursive, float-using — runs on both engines, which must agree on the receipt (status,
//! fuel used, output hash) and the output, at every fuel limit tried.

use std::time::Duration;

use tessera_executor::{
    prepare, Compiler, Engine, ExitStatus, Execution, Instrumented, Interpreter, ProgramLimits, RunLimits,
};

const LIMITS: ProgramLimits = ProgramLimits { max_code_len: 256 * 1024, max_memory_pages: 256, max_table_elements: 4096 };


fn program(wat: &str) -> Instrumented {
    prepare(&wat::parse_str(wat).expect("valid WAT"), &LIMITS).expect("a valid program")
}

struct Engines {
    compiler: Compiler,
    interpreter: Interpreter,
}

impl Engines {
    fn new() -> Self {
        Engines { compiler: Compiler::new(Duration::from_secs(60)).expect("engine"), interpreter: Interpreter::new() }
    }

    /// Runs on both engines, asserts they agree, returns the execution.
    fn both(&self, program: &Instrumented, input: &[u8], limits: RunLimits) -> Execution {
        let fast = self.compiler.execute(program, input, &limits).expect("compiler runs");
        let slow = self.interpreter.execute(program, input, &limits).expect("interpreter runs");
        assert_eq!(fast, slow, "engines disagree at fuel {}", limits.fuel);
        assert!(fast.receipt.fuel_used <= limits.fuel);
        fast
    }
}

use tessera_executor::corpus::{limits, memory_grower, module, COUNTER, ECHO, ENDINGS, NANS, RECURSION};

#[test]
fn the_corpus_gives_one_receipt_on_every_engine() {
    let e = Engines::new();
    let limits = ProgramLimits { max_code_len: 1024 * 1024, ..LIMITS };
    for case in tessera_executor::corpus::cases() {
        let fast = e.both(&prepare(&case.code, &limits).expect("valid"), &case.input, case.limits);
        let refereed = tessera_executor::referee(&case.code, &limits, &case.input, &case.limits).expect("referee runs");
        assert_eq!(refereed, fast, "{}: the referee disagrees", case.name);
    }
}

#[test]
fn echo_copies_input_to_output() {
    let e = Engines::new();
    let p = program(&module(ECHO));
    let run = e.both(&p, b"hello, tessera", limits(1_000));
    assert_eq!(run.receipt.status, ExitStatus::Ok);
    assert_eq!(run.output, b"hello, tessera");
    // Three host calls (32 each), per-byte charges for read_input and write_output (14 bytes / 8
    // = 1 each) and six plain instructions (three i32.const, local.set, local.get, end): the
    // exact figure pins the schedule down.
    assert_eq!(run.receipt.fuel_used, 32 * 3 + 2 + 6);
}

#[test]
fn the_example_programs_match_their_native_builds() {
    use tessera_examples::{input, reference};
    let e = Engines::new();
    let cases: Vec<(&[u8], Vec<u8>, Vec<u8>)> = vec![
        (tessera_examples::HASH_CHAIN, input::hash_chain(1000, b"seed"), reference::hash_chain(&input::hash_chain(1000, b"seed"))),
        (tessera_examples::MANDELBROT, input::mandelbrot(64, 48, 100), reference::mandelbrot(&input::mandelbrot(64, 48, 100))),
        (tessera_examples::MONTE_CARLO, input::monte_carlo(7, 20_000), reference::monte_carlo(&input::monte_carlo(7, 20_000))),
        (tessera_examples::MATMUL, input::matmul(24, 3), reference::matmul(&input::matmul(24, 3))),
    ];
    for (code, input, expected) in cases {
        let p = prepare(code, &LIMITS).expect("example programs are valid");
        let run = e.both(&p, &input, limits(1_000_000_000));
        assert_eq!(run.receipt.status, ExitStatus::Ok);
        assert_eq!(run.output, expected);
    }
}

#[test]
fn out_of_fuel_stops_at_the_same_point_on_both_engines() {
    let e = Engines::new();
    // Writes a byte per iteration, so how far it got is visible in the output.
    let p = program(&module(COUNTER));
    let full = e.both(&p, &[], limits(1_000_000));
    assert_eq!(full.receipt.status, ExitStatus::Ok);
    assert_eq!(full.output.len(), 200);
    let mut previous_len = 0;
    for fuel in (0..full.receipt.fuel_used).step_by(97) {
        let run = e.both(&p, &[], limits(fuel));
        assert_eq!(run.receipt.status, ExitStatus::OutOfFuel, "fuel {fuel}");
        assert_eq!(run.receipt.fuel_used, fuel);
        assert!(run.output.len() >= previous_len, "more fuel never yields less output");
        previous_len = run.output.len();
    }
    // Exactly enough fuel finishes; one less does not.
    let exact = e.both(&p, &[], limits(full.receipt.fuel_used));
    assert_eq!(exact.receipt, full.receipt);
    let short = e.both(&p, &[], limits(full.receipt.fuel_used - 1));
    assert_eq!(short.receipt.status, ExitStatus::OutOfFuel);
}

#[test]
fn traps_and_aborts_are_receipts() {
    let e = Engines::new();
    let statuses = [
        ExitStatus::Trapped,
        ExitStatus::Trapped,
        ExitStatus::Trapped,
        ExitStatus::Trapped,
        ExitStatus::Trapped,
        ExitStatus::Aborted(7),
    ];
    for (body, status) in ENDINGS.iter().zip(statuses) {
        let run = e.both(&program(&module(body)), &[], limits(10_000));
        assert_eq!(run.receipt.status, status, "{body}");
        assert!(run.receipt.fuel_used > 0);
    }
    // Output written before a trap is part of the receipt.
    let p = program(&module(ENDINGS[6]));
    let run = e.both(&p, &[], limits(10_000));
    assert_eq!((run.receipt.status, run.output.as_slice()), (ExitStatus::Trapped, &b"partial"[..]));
}

#[test]
fn memory_growth_stops_at_the_cap_on_both_engines() {
    let e = Engines::new();
    // Grows one page at a time until refused; outputs how many pages it got.
    let p = program(&memory_grower());
    let capped = RunLimits { max_memory_pages: 40, ..limits(10_000_000) };
    let run = e.both(&p, &[], capped);
    assert_eq!(run.receipt.status, ExitStatus::Ok);
    assert_eq!(run.output, 39u32.to_le_bytes());
    // Every page asked for costs fuel, including the refused one.
    assert!(run.receipt.fuel_used > 40 * 1024);
}

#[test]
fn deep_recursion_traps_at_the_budget_not_the_engine_stack() {
    let e = Engines::new();
    // Recurses `input` levels deep; traps (identically) once past the call-depth budget.
    let p = program(&module(RECURSION));
    let shallow = e.both(&p, &100u32.to_le_bytes(), limits(10_000_000));
    assert_eq!((shallow.receipt.status, shallow.output.clone()), (ExitStatus::Ok, 100u32.to_le_bytes().to_vec()));
    let deep = e.both(&p, &1_000_000u32.to_le_bytes(), limits(100_000_000));
    assert_eq!(deep.receipt.status, ExitStatus::Trapped);
}

#[test]
fn nans_are_canonical_on_both_engines() {
    let e = Engines::new();
    // 0/0, sqrt(-1) and a NaN with a payload through arithmetic, bits escaping through
    // reinterpret and copysign's sign operand: all come out as the canonical NaN, whatever the
    // CPU would have produced.
    let p = program(&module(NANS));
    let run = e.both(&p, &[], limits(10_000));
    let f32_at = |i: usize| u32::from_le_bytes(run.output[i..i + 4].try_into().expect("4 bytes"));
    let f64_at = |i: usize| u64::from_le_bytes(run.output[i..i + 8].try_into().expect("8 bytes"));
    assert_eq!(f32_at(0), 0x7fc0_0000);
    assert_eq!(f64_at(4), 0x7ff8_0000_0000_0000);
    assert_eq!(f64_at(12), 0x7ff8_0000_0000_0000);
    assert_eq!(f32_at(20), 0x7fc0_0000);
    assert_eq!(f64::from_bits(f64_at(24)), 3.0);
    assert_eq!(f64_at(32), 0x7ff8_0000_0000_0000);
    // The canonical NaN is positive, so the sign copied from it is too.
    assert_eq!(f64::from_bits(f64_at(40)), 1.0);
}

#[test]
fn invalid_modules_are_refused_before_any_engine() {
    assert!(prepare(b"\0asm\x01\0\0\0garbage", &LIMITS).is_err());
    let forbidden = format!(
        "(module (import \"env\" \"clock\" (func)) (memory (export \"memory\") 1) (func (export \"run\")))"
    );
    assert!(prepare(&wat::parse_str(forbidden).expect("wat"), &LIMITS).is_err());
}

#[test]
fn wall_clock_cap_gives_no_receipt() {
    let compiler = Compiler::new(Duration::from_millis(50)).expect("engine");
    let p = program(&module("(func (export \"run\") (loop $l (br $l)))"));
    let started = std::time::Instant::now();
    let result = compiler.execute(&p, &[], &limits(u64::MAX / 2));
    assert_eq!(result, Err(tessera_executor::ExecError::Timeout));
    assert!(started.elapsed() < Duration::from_secs(10));
}
