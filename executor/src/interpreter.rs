//! The interpreter engine (wasmi). Builds without std, so the same engine can run inside the
//! runtime as the on-chain referee; workers use it to cross-check and in tests.

use alloc::{string::ToString, vec::Vec};

use wasmi::{Caller, Config, Linker, Module, StackLimits, Store, StoreLimits, StoreLimitsBuilder, Val};

use crate::{
    conclude,
    host::HostState,
    instantiation_trap,
    metering::{FUEL_EXPORT, STATUS_EXPORT},
    Ended, Engine, ExecError, Execution, Instrumented, RunLimits,
};
use tessera_primitives::program::{HostFunction, ENTRY_POINT, HOST_MODULE, MEMORY_EXPORT};

/// The wasmi engine.
pub struct Interpreter {
    engine: wasmi::Engine,
}

struct Data {
    host: HostState,
    limits: StoreLimits,
}

impl Interpreter {
    /// An interpreter whose own stack limits are far above what the metering's call-depth
    /// budget allows, so programs always hit the protocol's limit first.
    pub fn new() -> Self {
        let mut config = Config::default();
        // 4 Mi values (32 MiB at most, allocated as used) and 64 Ki frames: above the budget
        // of `SCHEDULE_V1.stack_budget` (every frame costs at least 5, and wasmi's registers
        // per frame are bounded by the locals, operand height and constants that the frame
        // cost already counts).
        let limits = StackLimits::new(1 << 10, 1 << 22, 1 << 16).expect("initial is below maximum; qed");
        config.set_stack_limits(limits);
        Interpreter { engine: wasmi::Engine::new(&config) }
    }
}

impl Default for Interpreter {
    fn default() -> Self {
        Self::new()
    }
}

fn engine_err(e: impl ToString) -> ExecError {
    ExecError::Engine(e.to_string())
}

fn memory_of(caller: &Caller<'_, Data>) -> Result<wasmi::Memory, wasmi::Error> {
    caller
        .get_export(MEMORY_EXPORT)
        .and_then(|e| e.into_memory())
        .ok_or_else(|| wasmi::Error::new("program has no memory"))
}

fn link(engine: &wasmi::Engine) -> Result<Linker<Data>, ExecError> {
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
            |mut caller: Caller<'_, Data>, dst: i32, offset: i32, len: i32| -> Result<i32, wasmi::Error> {
                let memory = memory_of(&caller)?;
                let (bytes, data) = memory.data_and_store_mut(&mut caller);
                data.host.read_input(bytes, dst, offset, len).map_err(|t| wasmi::Error::new(t.to_string()))
            },
        )
        .map_err(engine_err)?;
    linker
        .func_wrap(
            HOST_MODULE,
            HostFunction::WriteOutput.name(),
            |mut caller: Caller<'_, Data>, src: i32, len: i32| -> Result<(), wasmi::Error> {
                let memory = memory_of(&caller)?;
                let (bytes, data) = memory.data_and_store_mut(&mut caller);
                data.host.write_output(bytes, src, len).map_err(|t| wasmi::Error::new(t.to_string()))
            },
        )
        .map_err(engine_err)?;
    linker
        .func_wrap(
            HOST_MODULE,
            HostFunction::Abort.name(),
            |mut caller: Caller<'_, Data>, code: i32| -> Result<(), wasmi::Error> {
                Err(wasmi::Error::new(caller.data_mut().host.abort(code).to_string()))
            },
        )
        .map_err(engine_err)?;
    Ok(linker)
}

impl Engine for Interpreter {
    type Compiled = Module;

    fn compile(&self, program: &Instrumented) -> Result<Module, ExecError> {
        Module::new(&self.engine, &program.code).map_err(engine_err)
    }

    fn run(&self, module: &Module, input: &[u8], limits: &RunLimits) -> Result<Execution, ExecError> {
        let data = Data {
            host: HostState::new(Vec::from(input), limits.max_output_len),
            limits: StoreLimitsBuilder::new()
                .memory_size(limits.memory_bytes())
                .memories(1)
                .instances(1)
                .build(),
        };
        let mut store = Store::new(&self.engine, data);
        store.limiter(|d| &mut d.limits);
        let linker = link(&self.engine)?;
        let instance = match linker.instantiate(&mut store, module).and_then(|pre| pre.ensure_no_start(&mut store).map_err(Into::into)) {
            Ok(instance) => instance,
            Err(_) => return Ok(instantiation_trap()),
        };
        let fuel = instance.get_global(&store, FUEL_EXPORT).ok_or_else(|| engine_err("not instrumented"))?;
        let status = instance.get_global(&store, STATUS_EXPORT).ok_or_else(|| engine_err("not instrumented"))?;
        fuel.set(&mut store, Val::I64(limits.fuel as i64)).map_err(engine_err)?;
        let run = instance.get_typed_func::<(), ()>(&store, ENTRY_POINT).map_err(engine_err)?;
        let ended = match run.call(&mut store, ()) {
            Ok(()) => Ended::Returned,
            // The metering's call-depth budget keeps programs far from the interpreter's own
            // stack limits; reaching them means engines would disagree, so no receipt.
            Err(e) if e.as_trap_code() == Some(wasmi::core::TrapCode::StackOverflow) =>
                return Err(engine_err("interpreter stack exhausted")),
            Err(_) => Ended::Trapped,
        };
        let fuel_left = match fuel.get(&store) {
            Val::I64(v) => v as u64,
            _ => return Err(engine_err("fuel global is not i64")),
        };
        let status = match status.get(&store) {
            Val::I32(v) => v,
            _ => return Err(engine_err("status global is not i32")),
        };
        Ok(conclude(ended, limits, fuel_left, status, store.into_data().host))
    }
}
