//! Executions in a child process, killed at the wall-clock cap.
//!
//! wasmtime's own wall-clock mechanism (epoch interruption, see [`Compiler::new`]) puts a check
//! with a possible call into every loop header, and cranelift keeps registers free for that call:
//! float-heavy loops run about twice as slowly with it (the engine benchmark shows the Mandelbrot
//! renderer at 2.0× native with epochs and 1.0× without). A worker therefore runs each execution
//! in a child process with an [unbounded](Compiler::unbounded) engine and kills the process
//! when the cap passes. The child also isolates the worker from anything that goes wrong in
//! the engine (a crash or an allocation failure ends the child, not the worker).
//!
//! The child is any executable whose `main` calls [`serve`] when given its agreed argument
//! (`tessera-worker` uses `--sandbox-exec`). One request per process: the parent writes it to
//! the child's stdin, the child writes one answer to stdout. Both are SCALE-encoded.

use std::{
    ffi::OsString,
    io::{Read, Write},
    path::PathBuf,
    process::{Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

use codec::{Decode, Encode};
use tessera_primitives::Receipt;

use crate::{compiler::Compiler, Engine, ExecError, Execution, Instrumented, RunLimits};

/// How often the parent checks whether the child has finished.
const POLL: Duration = Duration::from_millis(2);

#[derive(Encode, Decode)]
struct Request {
    code: Vec<u8>,
    input: Vec<u8>,
    fuel: u64,
    max_memory_pages: u32,
    max_output_len: u32,
}

type Answer = Result<(Receipt, Vec<u8>), String>;

/// Runs executions in child processes of `program args…`.
#[derive(Clone, Debug)]
pub struct Sandbox {
    program: PathBuf,
    args: Vec<OsString>,
    timeout: Duration,
}

impl Sandbox {
    /// A sandbox that runs `program` with `args` (which must make it call [`serve`]) and kills
    /// it after `timeout`.
    pub fn new(program: impl Into<PathBuf>, args: impl IntoIterator<Item = impl Into<OsString>>, timeout: Duration) -> Self {
        Sandbox { program: program.into(), args: args.into_iter().map(Into::into).collect(), timeout }
    }

    /// Runs `program` on `input` in a fresh child process. [`ExecError::Timeout`] when the
    /// wall-clock cap passes first; [`ExecError::Engine`] when the child fails for any reason
    /// other than the program (it cannot start, crashes, or answers garbage).
    pub fn execute(&self, program: &Instrumented, input: &[u8], limits: &RunLimits) -> Result<Execution, ExecError> {
        let engine = |what: &str, e: &dyn std::fmt::Display| ExecError::Engine(format!("sandbox: {what}: {e}"));
        let request = Request {
            code: program.code.clone(),
            input: input.to_vec(),
            fuel: limits.fuel,
            max_memory_pages: limits.max_memory_pages,
            max_output_len: limits.max_output_len,
        }
        .encode();
        let started = Instant::now();
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| engine(&format!("cannot start {}", self.program.display()), &e))?;
        // Feed and drain the pipes on their own threads: either may exceed a pipe's buffer.
        let mut stdin = child.stdin.take().ok_or_else(|| ExecError::Engine("sandbox: no stdin".into()))?;
        let mut stdout = child.stdout.take().ok_or_else(|| ExecError::Engine("sandbox: no stdout".into()))?;
        let writer = std::thread::spawn(move || stdin.write_all(&request));
        let reader = std::thread::spawn(move || {
            let mut answer = Vec::new();
            stdout.read_to_end(&mut answer).map(|_| answer)
        });
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if started.elapsed() >= self.timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let _ = (writer.join(), reader.join());
                    return Err(ExecError::Timeout);
                },
                Ok(None) => std::thread::sleep(POLL),
                Err(e) => return Err(engine("waiting for the child", &e)),
            }
        };
        // A child that exits early may close stdin before reading it all; its answer says why.
        let _ = writer.join();
        let answer = reader
            .join()
            .map_err(|_| ExecError::Engine("sandbox: reader thread panicked".into()))?
            .map_err(|e| engine("reading the answer", &e))?;
        if !status.success() {
            return Err(ExecError::Engine(format!("sandbox: the child exited with {status}")));
        }
        match Answer::decode(&mut &answer[..]).map_err(|e| engine("undecodable answer", &e))? {
            Ok((receipt, output)) => Ok(Execution { receipt, output }),
            Err(e) => Err(ExecError::Engine(format!("sandbox: {e}"))),
        }
    }
}

/// The child's side: reads one request from stdin, runs it without a wall-clock cap (the parent
/// enforces it) and writes the answer to stdout.
pub fn serve() -> ExitCode {
    let mut request = Vec::new();
    if std::io::stdin().read_to_end(&mut request).is_err() {
        return ExitCode::FAILURE;
    }
    let answer: Answer = match Request::decode(&mut &request[..]) {
        Ok(r) => run(r),
        Err(e) => Err(format!("undecodable request: {e}")),
    };
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(&answer.encode()).and_then(|_| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

fn run(r: Request) -> Answer {
    let limits = RunLimits { fuel: r.fuel, max_memory_pages: r.max_memory_pages, max_output_len: r.max_output_len };
    let compiler = Compiler::unbounded().map_err(|e| e.to_string())?;
    let module = compiler.compile_code(&r.code).map_err(|e| e.to_string())?;
    let execution = compiler.run(&module, &r.input, &limits).map_err(|e| e.to_string())?;
    Ok((execution.receipt, execution.output))
}
