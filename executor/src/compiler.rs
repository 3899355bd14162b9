//! The fast engine (wasmtime/cranelift) used by workers.
//!
//! On top of the protocol's fuel limit, [`Compiler::new`] has a wall-clock cap: an epoch ticker
//! advances every [`TICK`], and a run whose deadline passes ends with [`ExecError::Timeout`] (no
//! receipt — the machine, not the program, gave up). The epoch checks cost up to half the speed
//! of float-heavy loops, so workers use [`Compiler::unbounded`] inside a
//! [`Sandbox`](crate::sandbox::Sandbox) process that is killed at the cap instead. Runs happen on a
//! dedicated thread with a large stack, so callers may sit on small async-runtime threads.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use wasmtime::{Caller, Config, Linker, Module, Store, StoreLimits, StoreLimitsBuilder, Trap, Val};

use crate::{
    conclude,
    host::HostState,
    instantiation_trap,
    metering::{FUEL_EXPORT, STATUS_EXPORT},
    Ended, Engine, ExecError, Execution, Instrumented, RunLimits,
};
use tessera_primitives::program::{HostFunction, ENTRY_POINT, HOST_MODULE, MEMORY_EXPORT};

/// Granularity of the wall-clock cap.
pub const TICK: Duration = Duration::from_millis(10);
/// Native stack wasm code may use. Far above what the metering's call-depth budget needs.
const MAX_WASM_STACK: usize = 8 << 20;
/// Stack of the thread a run happens on (wasm stack plus room for the host).
const RUN_THREAD_STACK: usize = MAX_WASM_STACK + (8 << 20);

/// The wasmtime engine.
pub struct Compiler {
    engine: wasmtime::Engine,
    linker: Linker<Data>,
    /// The wall-clock cap, when epochs are on.
    timeout: Option<Duration>,
    stop: Arc<AtomicBool>,
}

struct Data {
    host: HostState,
    limits: StoreLimits,
}

fn engine_err(e: impl ToString) -> ExecError {
    ExecError::Engine(e.to_string())
}

fn memory_of(caller: &mut Caller<'_, Data>) -> wasmtime::Result<wasmtime::Memory> {
    caller
        .get_export(MEMORY_EXPORT)
        .and_then(|e| e.into_memory())
        .ok_or_else(|| wasmtime::Error::msg("program has no memory"))
}

impl Compiler {
    /// A compiler whose runs stop after `timeout` of wall-clock time.
    pub fn new(timeout: Duration) -> Result<Self, ExecError> {
        Self::build(Some(timeout))
    }

    /// A compiler without a wall-clock cap (and without the epoch checks that enforce one):
    /// only the fuel limit ends a run. For a process whose lifetime is capped from outside,
    /// such as a [`Sandbox`](crate::sandbox::Sandbox) child.
    pub fn unbounded() -> Result<Self, ExecError> {
        Self::build(None)
    }

    fn build(timeout: Option<Duration>) -> Result<Self, ExecError> {
        let mut config = Config::new();
        config.epoch_interruption(timeout.is_some());
        config.max_wasm_stack(MAX_WASM_STACK);
        // NaNs are canonicalized by the instrumentation, identically for every engine.
        config.cranelift_nan_canonicalization(false);
        let engine = wasmtime::Engine::new(&config).map_err(engine_err)?;
        let linker = link(&engine)?;
        let stop = Arc::new(AtomicBool::new(false));
        if timeout.is_some() {
            let (ticker_engine, ticker_stop) = (engine.clone(), stop.clone());
            std::thread::Builder::new()
                .name("tessera-epoch".into())
                .spawn(move || {
                    while !ticker_stop.load(Ordering::Relaxed) {
                        std::thread::sleep(TICK);
                        ticker_engine.increment_epoch();
                    }
                })
                .map_err(engine_err)?;
        }
        Ok(Compiler { engine, linker, timeout, stop })
    }

    /// Compiles an instrumented module's bytes.
    pub(crate) fn compile_code(&self, code: &[u8]) -> Result<Module, ExecError> {
        Module::new(&self.engine, code).map_err(engine_err)
    }

    fn run_here(&self, module: &Module, input: &[u8], limits: &RunLimits) -> Result<Execution, ExecError> {
        let data = Data {
            host: HostState::new(input.to_vec(), limits.max_output_len),
            limits: StoreLimitsBuilder::new()
                .memory_size(limits.memory_bytes())
                .memories(1)
                .instances(1)
                .build(),
        };
        let mut store = Store::new(&self.engine, data);
        store.limiter(|d| &mut d.limits);
        if let Some(timeout) = self.timeout {
            let ticks = (timeout.as_millis() / TICK.as_millis()).max(1) as u64 + 1;
            store.set_epoch_deadline(ticks);
            store.epoch_deadline_trap();
        }

        let instance = match self.linker.instantiate(&mut store, module) {
            Ok(instance) => instance,
            Err(_) => return Ok(instantiation_trap()),
        };
        let fuel = instance.get_global(&mut store, FUEL_EXPORT).ok_or_else(|| engine_err("not instrumented"))?;
        let status = instance.get_global(&mut store, STATUS_EXPORT).ok_or_else(|| engine_err("not instrumented"))?;
        fuel.set(&mut store, Val::I64(limits.fuel as i64)).map_err(engine_err)?;
        let run = instance.get_typed_func::<(), ()>(&mut store, ENTRY_POINT).map_err(engine_err)?;
        let ended = match run.call(&mut store, ()) {
            Ok(()) => Ended::Returned,
            Err(e) => match e.downcast_ref::<Trap>() {
                Some(Trap::Interrupt) => return Err(ExecError::Timeout),
                // The metering's call-depth budget keeps programs far from the native stack;
                // reaching it means this engine would disagree with others, so no receipt.
                Some(Trap::StackOverflow) => return Err(engine_err("native stack exhausted")),
                _ => Ended::Trapped,
            },
        };
        let fuel_left = fuel.get(&mut store).i64().ok_or_else(|| engine_err("fuel global is not i64"))? as u64;
        let status = status.get(&mut store).i32().ok_or_else(|| engine_err("status global is not i32"))?;
        Ok(conclude(ended, limits, fuel_left, status, store.into_data().host))
    }
}

impl Drop for Compiler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn link(engine: &wasmtime::Engine) -> Result<Linker<Data>, ExecError> {
    let mut linker = Linker::<Data>::new(engine);
    linker
        .func_wrap(HOST_MODULE, HostFunction::InputLen.name(), |caller: Caller<'_, Data>| -> i32 {
            caller.data().host.input_len()
        })
        .map_err(engine_err)?;
    linker
        .func_wrap(
            HOST_MODULE,
            HostFunction::ReadInput.name(),
            |mut caller: Caller<'_, Data>, dst: i32, offset: i32, len: i32| -> wasmtime::Result<i32> {
                let memory = memory_of(&mut caller)?;
                let (bytes, data) = memory.data_and_store_mut(&mut caller);
                Ok(data.host.read_input(bytes, dst, offset, len)?)
            },
        )
        .map_err(engine_err)?;
    linker
        .func_wrap(
            HOST_MODULE,
            HostFunction::WriteOutput.name(),
            |mut caller: Caller<'_, Data>, src: i32, len: i32| -> wasmtime::Result<()> {
                let memory = memory_of(&mut caller)?;
                let (bytes, data) = memory.data_and_store_mut(&mut caller);
                Ok(data.host.write_output(bytes, src, len)?)
            },
        )
        .map_err(engine_err)?;
    linker
        .func_wrap(HOST_MODULE, HostFunction::Abort.name(), |mut caller: Caller<'_, Data>, code: i32| -> wasmtime::Result<()> {
            Err(caller.data_mut().host.abort(code).into())
        })
        .map_err(engine_err)?;
    Ok(linker)
}

impl Engine for Compiler {
    type Compiled = Module;

    fn compile(&self, program: &Instrumented) -> Result<Module, ExecError> {
        self.compile_code(&program.code)
    }

    fn run(&self, module: &Module, input: &[u8], limits: &RunLimits) -> Result<Execution, ExecError> {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("tessera-run".into())
                .stack_size(RUN_THREAD_STACK)
                .spawn_scoped(scope, || self.run_here(module, input, limits))
                .map_err(engine_err)?
                .join()
                .map_err(|_| engine_err("execution thread panicked"))?
        })
    }
}
