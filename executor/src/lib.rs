//! Tessera's executor: runs a job program on an input under a fuel limit and yields the
//! [`Receipt`] replicas commit to.
//!
//! - [`metering`] rewrites a program so that fuel, call depth and NaN bit patterns are decided
//!   by the module itself (the protocol's metering), so every engine agrees exactly.
//! - [`host`] implements the host ABI (`input_len`, `read_input`, `write_output`, `abort`) once,
//!   for every engine.
//! - [`Interpreter`] (wasmi) builds without std: the engine a runtime referee can embed.
//! - [`Compiler`] (wasmtime, feature `wasmtime`) is the workers' fast engine, with a wall-clock
//!   cap on top of the fuel limit.
//!
//! ```ignore
//! let program = tessera_executor::prepare(&code, &limits)?;
//! let execution = Compiler::new()?.execute(&program, &input, &run_limits)?;
//! ```
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod host;
pub mod interpreter;
pub mod metering;
#[cfg(feature = "wasmtime")]
pub mod compiler;
#[cfg(feature = "wasmtime")]
pub mod sandbox;

use alloc::{string::String, vec::Vec};

pub use interpreter::Interpreter;
#[cfg(feature = "wasmtime")]
pub use compiler::Compiler;
#[cfg(feature = "wasmtime")]
pub use sandbox::Sandbox;
pub use metering::{InstrumentError, Instrumented, Schedule, SCHEDULE_V1};
pub use tessera_primitives::{program::ProgramLimits, ExitStatus, Fuel, Receipt};

/// Limits of one execution. Everything here is part of the job (fuel, output) or of the
/// protocol (memory), so it is the same for every replica and referee.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RunLimits {
    /// Fuel the program may use.
    pub fuel: Fuel,
    /// Most 64 KiB pages the program's memory may grow to; `memory.grow` past it returns -1.
    pub max_memory_pages: u32,
    /// Most bytes the program may write as output; writing more traps.
    pub max_output_len: u32,
}

impl RunLimits {
    /// The memory cap in bytes, as engines' store limiters take it.
    pub fn memory_bytes(&self) -> usize {
        let bytes = u64::from(self.max_memory_pages).saturating_mul(tessera_primitives::program::PAGE_SIZE);
        usize::try_from(bytes).unwrap_or(usize::MAX)
    }
}

/// A finished execution: the receipt and the output it hashes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Execution {
    /// What replicas commit to.
    pub receipt: Receipt,
    /// Everything the program wrote (also when it trapped or ran out of fuel).
    pub output: Vec<u8>,
}

/// Why there is no receipt. A program that traps, aborts or runs out of fuel has a receipt;
/// these are the cases where the machine, not the program, decided.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ExecError {
    /// The module is not a valid program, or could not be instrumented.
    Instrument(InstrumentError),
    /// The wall-clock cap passed before the program finished (this machine is too slow for the
    /// job's fuel limit; another replica may still finish it).
    Timeout,
    /// The engine failed for a reason outside the program (compilation, resources).
    Engine(String),
}

impl From<InstrumentError> for ExecError {
    fn from(e: InstrumentError) -> Self {
        ExecError::Instrument(e)
    }
}

impl core::fmt::Display for ExecError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ExecError::Instrument(InstrumentError::Invalid(e)) => write!(f, "invalid program: {e:?}"),
            ExecError::Instrument(InstrumentError::Encode(e)) => write!(f, "instrumentation failed: {e}"),
            ExecError::Timeout => write!(f, "wall-clock limit reached"),
            ExecError::Engine(e) => write!(f, "engine error: {e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ExecError {}

/// Validates and instruments a program with the current schedule.
pub fn prepare(code: &[u8], limits: &ProgramLimits) -> Result<Instrumented, InstrumentError> {
    metering::instrument(code, limits, &SCHEDULE_V1)
}

/// An engine that runs instrumented programs.
pub trait Engine {
    /// A program compiled for this engine, reusable across executions.
    type Compiled;

    /// Compiles an instrumented program.
    fn compile(&self, program: &Instrumented) -> Result<Self::Compiled, ExecError>;

    /// Runs a compiled program on `input`.
    fn run(&self, compiled: &Self::Compiled, input: &[u8], limits: &RunLimits) -> Result<Execution, ExecError>;

    /// Compiles and runs once.
    fn execute(&self, program: &Instrumented, input: &[u8], limits: &RunLimits) -> Result<Execution, ExecError> {
        let compiled = self.compile(program)?;
        self.run(&compiled, input, limits)
    }
}

/// How the call of the entry point ended, as an engine sees it.
pub(crate) enum Ended {
    /// Returned normally.
    Returned,
    /// Trapped (for any reason: the host state and the status global tell which).
    Trapped,
}

/// Turns what an engine observed into the receipt. Shared by every engine so they classify
/// identically.
pub(crate) fn conclude(
    ended: Ended,
    limits: &RunLimits,
    fuel_left: u64,
    status: i32,
    host: host::HostState,
) -> Execution {
    let (status, fuel_used) = match ended {
        Ended::Returned => (ExitStatus::Ok, limits.fuel.saturating_sub(fuel_left)),
        Ended::Trapped if status == metering::STATUS_OUT_OF_FUEL => (ExitStatus::OutOfFuel, limits.fuel),
        Ended::Trapped => match host.aborted {
            Some(code) => (ExitStatus::Aborted(code), limits.fuel.saturating_sub(fuel_left)),
            None => (ExitStatus::Trapped, limits.fuel.saturating_sub(fuel_left)),
        },
    };
    let receipt = Receipt::new(status, fuel_used, &host.output);
    Execution { receipt, output: host.output }
}

/// The receipt of a program that could not even be instantiated (for example a data segment
/// outside its memory): a trap before any fuel was used.
pub(crate) fn instantiation_trap() -> Execution {
    Execution { receipt: Receipt::new(ExitStatus::Trapped, 0, &[]), output: Vec::new() }
}

/// The referee's execution: validates and instruments `code` against `limits`, then runs it on
/// the interpreter. One function for the runtime's dispute referee, the validators' auditors
/// and the workers' cross-checks, so all of them decide a job the same way.
pub fn referee(code: &[u8], limits: &ProgramLimits, input: &[u8], run: &RunLimits) -> Result<Execution, ExecError> {
    let program = prepare(code, limits)?;
    Interpreter::new().execute(&program, input, run)
}

pub mod worst_case;

#[cfg(feature = "corpus")]
pub mod corpus;
