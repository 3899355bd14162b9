//! The protocol's deterministic metering: a program is rewritten before it runs so that fuel,
//! call depth and float results are decided by the module itself, not by the engine running
//! it. Any correct WebAssembly engine executes the instrumented module identically — same
//! output, same fuel used, same point of running out — which is what lets a wasmtime worker
//! and a wasmi referee agree bit for bit.
//!
//! What [`instrument`] does to a valid program (see [`tessera_primitives::program::validate`]):
//!
//! - **Fuel.** Each function body is cut into metered segments at control flow (`block`,
//!   `loop`, `if`, `else`, `end`, `br`, `br_if`, `br_table`, `return`, `unreachable`). At the
//!   start of each segment the cost of all its instructions ([`Schedule`]) is subtracted from
//!   the exported global [`FUEL_EXPORT`]; if less fuel is left than the segment costs, the
//!   global [`STATUS_EXPORT`] is set to [`STATUS_OUT_OF_FUEL`] and the program traps before
//!   executing any of the segment. Work proportional to a run-time length is charged just
//!   before it happens: `memory.grow` per page, `memory.fill`/`copy`/`init` and the host's
//!   `read_input`/`write_output` per [`Schedule::bytes_per_fuel`] bytes.
//! - **Call depth.** Every call adds the callee's frame cost (1 + its locals + its deepest
//!   operand stack + its constants) to a call-depth global and traps once the total passes
//!   [`Schedule::stack_budget`], so deep recursion traps at the same point on every engine,
//!   long before any engine's own stack limit.
//! - **NaNs.** A NaN's bits (sign and payload) differ between CPUs and engines, but a program
//!   can only observe them where a float's bits escape: `f32.store`/`f64.store`,
//!   `i32.reinterpret_f32`/`i64.reinterpret_f64`, and the sign operand of `copysign`. Right
//!   before each of those the value is passed through a select that replaces any NaN by the
//!   canonical one (`0x7fc00000` / `0x7ff8000000000000`). Everything else a program can do with
//!   a NaN (compare, convert, compute) depends only on its being a NaN, so results are
//!   identical everywhere while float arithmetic itself runs at full speed.
//! - **Exports** are reduced to `run`, `memory` and the two metering globals; custom sections
//!   are dropped.

use alloc::{string::String, vec::Vec};

use tessera_primitives::program::{self, HostFunction, ProgramError, ProgramLimits, HOST_MODULE};
use wasm_encoder::{
    reencode::{Reencode, RoundtripReencoder},
    BlockType, ConstExpr, ExportKind, ExportSection, Function, GlobalSection, GlobalType,
    Instruction, Module, RawSection, ValType,
};
use wasmparser::{
    ExternalKind, FuncValidatorAllocations, FunctionBody, Operator, Parser, Payload, TypeRef,
    ValidPayload, Validator,
};

/// Export name of the remaining-fuel global (`i64`, mutable): set by the host to the fuel limit
/// before `run`, read afterwards.
pub const FUEL_EXPORT: &str = "__tessera_fuel";
/// Export name of the status global (`i32`, mutable): [`STATUS_OUT_OF_FUEL`] after running out.
pub const STATUS_EXPORT: &str = "__tessera_status";
/// Status value of a program that ran out of fuel.
pub const STATUS_OUT_OF_FUEL: i32 = 1;

/// Fuel prices and limits of the metering. Part of the protocol: changing any value changes
/// receipts, so a new schedule is a new protocol version.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Schedule {
    /// Every instruction not priced below.
    pub instruction: u64,
    /// A call to a function of the program (`call`, `call_indirect`).
    pub call: u64,
    /// A call to a host function, on top of its per-byte price.
    pub host_call: u64,
    /// Each page `memory.grow` is asked for (charged also when the grow fails).
    pub grow_per_page: u64,
    /// Bulk memory operations and host input/output cost one fuel per this many bytes
    /// (a power of two).
    pub bytes_per_fuel: u64,
    /// Total frame cost of the call stack before a call traps.
    pub stack_budget: u32,
}

/// The schedule of protocol version 1.
pub const SCHEDULE_V1: Schedule = Schedule {
    instruction: 1,
    call: 2,
    host_call: 32,
    grow_per_page: 1024,
    bytes_per_fuel: 8,
    stack_budget: 1 << 15,
};

/// Why a module could not be instrumented.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum InstrumentError {
    /// The module is not a valid program.
    Invalid(ProgramError),
    /// The module is valid but something in it could not be re-encoded (a bug: valid programs
    /// only use features the instrumentation supports).
    Encode(String),
}

impl From<ProgramError> for InstrumentError {
    fn from(e: ProgramError) -> Self {
        InstrumentError::Invalid(e)
    }
}

/// A validated, instrumented program, ready for any engine.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Instrumented {
    /// The instrumented module.
    pub code: Vec<u8>,
    /// What validation learned about the program.
    pub info: program::ProgramInfo,
}

fn encode_err<E: core::fmt::Debug>(e: E) -> InstrumentError {
    InstrumentError::Encode(alloc::format!("{e:?}"))
}

/// What the first pass learns about one defined function.
struct FuncFacts {
    /// Cost a call to it adds to the call depth.
    frame_cost: u32,
    /// Number of parameters plus declared locals (the first free local index).
    locals: u32,
}

/// Validates `code` as a program under `limits` and instruments it with `schedule`.
pub fn instrument(code: &[u8], limits: &ProgramLimits, schedule: &Schedule) -> Result<Instrumented, InstrumentError> {
    rewrite(code, limits, schedule, true)
}

/// The same rewrite without any charge, depth count or NaN canonicalization: what the engine
/// costs by itself. Only for measuring the metering's overhead (the engine benchmark); a run
/// of it is not a protocol execution.
#[doc(hidden)]
pub fn instrument_unmetered(code: &[u8], limits: &ProgramLimits) -> Result<Instrumented, InstrumentError> {
    rewrite(code, limits, &SCHEDULE_V1, false)
}

fn rewrite(code: &[u8], limits: &ProgramLimits, schedule: &Schedule, meter: bool) -> Result<Instrumented, InstrumentError> {
    let info = program::validate(code, limits)?;
    let invalid = |_| InstrumentError::Invalid(ProgramError::InvalidModule);

    // Pass 1: the function types, the host imports, and each function's frame cost.
    let mut types: Vec<(u32, u32)> = Vec::new(); // (params, results) per type
    let mut imported_funcs: Vec<HostFunction> = Vec::new();
    let mut facts: Vec<FuncFacts> = Vec::new();
    let mut globals = 0u32;
    let mut validator = Validator::new_with_features(program::allowed_features());
    let mut allocs = FuncValidatorAllocations::default();
    for payload in Parser::new(0).parse_all(code) {
        let payload = payload.map_err(invalid)?;
        match &payload {
            Payload::TypeSection(reader) =>
                for ty in reader.clone().into_iter_err_on_gc_types() {
                    let ty = ty.map_err(invalid)?;
                    types.push((ty.params().len() as u32, ty.results().len() as u32));
                },
            Payload::ImportSection(reader) =>
                for import in reader.clone() {
                    let import = import.map_err(invalid)?;
                    if let (HOST_MODULE, TypeRef::Func(_)) = (import.module, import.ty) {
                        let host = HostFunction::from_name(import.name).ok_or(ProgramError::ForbiddenImport)?;
                        imported_funcs.push(host);
                    }
                },
            Payload::GlobalSection(reader) => globals = reader.count(),
            _ => {},
        }
        if let ValidPayload::Func(func, body) = validator.payload(&payload).map_err(invalid)? {
            let mut fv = func.into_validator(allocs);
            let mut locals = fv.len_locals();
            let mut reader = body.get_locals_reader().map_err(invalid)?;
            for _ in 0..reader.get_count() {
                let offset = reader.original_position();
                let (count, ty) = reader.read().map_err(invalid)?;
                fv.define_locals(offset, count, ty).map_err(invalid)?;
                locals = locals.saturating_add(count);
            }
            let mut ops = body.get_operators_reader().map_err(invalid)?;
            let (mut max_height, mut constants) = (0u32, 0u32);
            while !ops.eof() {
                let offset = ops.original_position();
                let op = ops.read().map_err(invalid)?;
                fv.op(offset, &op).map_err(invalid)?;
                max_height = max_height.max(fv.operand_stack_height());
                if matches!(
                    op,
                    Operator::I32Const { .. } |
                        Operator::I64Const { .. } |
                        Operator::F32Const { .. } |
                        Operator::F64Const { .. }
                ) {
                    constants += 1;
                }
            }
            // Five temporaries are added per function below.
            let frame_cost = 1u32
                .saturating_add(locals)
                .saturating_add(5)
                .saturating_add(max_height)
                .saturating_add(constants);
            facts.push(FuncFacts { frame_cost, locals });
            allocs = fv.into_allocations();
        }
    }
    let max_frame_cost = facts.iter().map(|f| f.frame_cost).max().unwrap_or(1);
    let globals = Globals { fuel: globals, status: globals + 1, depth: globals + 2 };
    let ctx = Context { schedule, imported_funcs: &imported_funcs, facts: &facts, max_frame_cost, globals, meter };

    // Pass 2: re-encode, section by section.
    let mut module = Module::new();
    let mut globals_emitted = false;
    let mut func_index = 0usize;
    let mut code_section = wasm_encoder::CodeSection::new();
    let emit_globals = |module: &mut Module, existing: Option<wasmparser::GlobalSectionReader>| {
        let mut section = GlobalSection::new();
        if let Some(reader) = existing {
            RoundtripReencoder.parse_global_section(&mut section, reader).map_err(encode_err)?;
        }
        let mutable_i64 = GlobalType { val_type: ValType::I64, mutable: true, shared: false };
        let mutable_i32 = GlobalType { val_type: ValType::I32, mutable: true, shared: false };
        section.global(mutable_i64, &ConstExpr::i64_const(0));
        section.global(mutable_i32, &ConstExpr::i32_const(0));
        section.global(mutable_i32, &ConstExpr::i32_const(0));
        module.section(&section);
        Ok::<(), InstrumentError>(())
    };
    for payload in Parser::new(0).parse_all(code) {
        let payload = payload.map_err(invalid)?;
        // Sections after the global section (in binary order) trigger the globals if the
        // module had none.
        let after_globals = matches!(
            payload,
            Payload::ExportSection(_) |
                Payload::ElementSection(_) |
                Payload::DataCountSection { .. } |
                Payload::CodeSectionStart { .. } |
                Payload::DataSection(_)
        );
        if after_globals && !globals_emitted {
            emit_globals(&mut module, None)?;
            globals_emitted = true;
        }
        match payload {
            Payload::TypeSection(ref r) => raw(&mut module, 1, code, r.range()),
            Payload::ImportSection(ref r) => raw(&mut module, 2, code, r.range()),
            Payload::FunctionSection(ref r) => raw(&mut module, 3, code, r.range()),
            Payload::TableSection(ref r) => raw(&mut module, 4, code, r.range()),
            Payload::MemorySection(ref r) => raw(&mut module, 5, code, r.range()),
            Payload::GlobalSection(r) => {
                emit_globals(&mut module, Some(r))?;
                globals_emitted = true;
            },
            Payload::ExportSection(r) => {
                let mut section = ExportSection::new();
                for export in r {
                    let export = export.map_err(invalid)?;
                    let kept = matches!(
                        (export.name, export.kind),
                        (program::ENTRY_POINT, ExternalKind::Func) | (program::MEMORY_EXPORT, ExternalKind::Memory)
                    );
                    if kept {
                        section.export(export.name, RoundtripReencoder.export_kind(export.kind).map_err(encode_err)?, export.index);
                    }
                }
                section.export(FUEL_EXPORT, ExportKind::Global, ctx.globals.fuel);
                section.export(STATUS_EXPORT, ExportKind::Global, ctx.globals.status);
                module.section(&section);
            },
            Payload::ElementSection(ref r) => raw(&mut module, 9, code, r.range()),
            Payload::DataCountSection { range, .. } => raw(&mut module, 12, code, range),
            Payload::CodeSectionEntry(body) => {
                let facts = ctx.facts.get(func_index).ok_or_else(|| encode_err("function without facts"))?;
                let function = ctx.function(&body, facts)?;
                code_section.function(&function);
                func_index += 1;
                if func_index == ctx.facts.len() {
                    module.section(&code_section);
                }
            },
            Payload::DataSection(ref r) => raw(&mut module, 11, code, r.range()),
            // Custom sections carry nothing the program needs at run time.
            _ => {},
        }
    }
    Ok(Instrumented { code: module.finish(), info })
}

fn raw(module: &mut Module, id: u8, code: &[u8], range: core::ops::Range<usize>) {
    module.section(&RawSection { id, data: &code[range] });
}

#[derive(Clone, Copy)]
struct Globals {
    fuel: u32,
    status: u32,
    depth: u32,
}

struct Context<'a> {
    schedule: &'a Schedule,
    imported_funcs: &'a [HostFunction],
    facts: &'a [FuncFacts],
    max_frame_cost: u32,
    globals: Globals,
    /// Off only for [`instrument_unmetered`].
    meter: bool,
}

/// The temporaries added to every function.
#[derive(Clone, Copy)]
struct Temps {
    i32: u32,
    i64: u32,
    f32: u32,
    f64: u32,
    /// The function's copy of the fuel global: charges read and update it in a register and
    /// write it through to the global, which is reloaded after every call. The global is
    /// therefore exact at every point (what a trap or the host observes), while the
    /// loop-carried dependency never goes through memory.
    fuel: u32,
}

fn ends_segment(op: &Operator) -> bool {
    matches!(
        op,
        Operator::Block { .. } |
            Operator::Loop { .. } |
            Operator::If { .. } |
            Operator::Else |
            Operator::End |
            Operator::Br { .. } |
            Operator::BrIf { .. } |
            Operator::BrTable { .. } |
            Operator::Return |
            Operator::Unreachable
    )
}

/// The float type of the value on top of the stack when `op` lets a float's bits escape.
enum NanEscape {
    F32,
    F64,
}

fn nan_escape(op: &Operator) -> Option<NanEscape> {
    use Operator::*;
    match op {
        F32Store { .. } | I32ReinterpretF32 | F32Copysign => Some(NanEscape::F32),
        F64Store { .. } | I64ReinterpretF64 | F64Copysign => Some(NanEscape::F64),
        _ => None,
    }
}

impl Context<'_> {
    fn cost(&self, op: &Operator) -> u64 {
        match op {
            Operator::Call { function_index } if (*function_index as usize) < self.imported_funcs.len() =>
                self.schedule.host_call,
            Operator::Call { .. } | Operator::CallIndirect { .. } => self.schedule.call,
            _ => self.schedule.instruction,
        }
    }

    /// The host function a call goes to, if it is a host call.
    fn host_call(&self, op: &Operator) -> Option<HostFunction> {
        match op {
            Operator::Call { function_index } => self.imported_funcs.get(*function_index as usize).copied(),
            _ => None,
        }
    }

    fn function(&self, body: &FunctionBody, facts: &FuncFacts) -> Result<Function, InstrumentError> {
        let invalid = |_| InstrumentError::Invalid(ProgramError::InvalidModule);
        let mut locals: Vec<(u32, ValType)> = Vec::new();
        for local in body.get_locals_reader().map_err(invalid)? {
            let (count, ty) = local.map_err(invalid)?;
            locals.push((count, RoundtripReencoder.val_type(ty).map_err(encode_err)?));
        }
        let base = facts.locals;
        let temps = Temps { i32: base, i64: base + 1, f32: base + 2, f64: base + 3, fuel: base + 4 };
        locals.extend([(1, ValType::I32), (1, ValType::I64), (1, ValType::F32), (1, ValType::F64), (1, ValType::I64)]);
        let mut f = Function::new(locals);
        self.reload_fuel(&mut f, temps);

        // Segment by segment, reading each twice (the reader is a cheap cursor): once for its
        // cost, charged at its start, then to emit it. Nothing proportional to the function's
        // size is held besides the output, so a 1 MiB function fits the runtime's allocator
        // (whose largest single allocation is 32 MiB) when the referee instruments it on chain.
        let mut reader = body.get_operators_reader().map_err(invalid)?;
        while !reader.eof() {
            let mut probe = reader.clone();
            let (mut cost, mut len) = (0u64, 0usize);
            while !probe.eof() {
                let op = probe.read().map_err(invalid)?;
                cost = cost.saturating_add(self.cost(&op));
                len += 1;
                if ends_segment(&op) {
                    break;
                }
            }
            if self.meter {
                self.charge_static(&mut f, temps, cost);
            }
            for _ in 0..len {
                let op = reader.read().map_err(invalid)?;
                self.emit(&mut f, &op, temps)?;
            }
        }
        Ok(f)
    }

    fn out_of_fuel(&self, f: &mut Function) {
        f.instruction(&Instruction::If(BlockType::Empty));
        f.instruction(&Instruction::I32Const(STATUS_OUT_OF_FUEL));
        f.instruction(&Instruction::GlobalSet(self.globals.status));
        f.instruction(&Instruction::Unreachable);
        f.instruction(&Instruction::End);
    }

    /// `fuel_local = fuel` (at entry, and after a call, whose callee charged the global).
    fn reload_fuel(&self, f: &mut Function, temps: Temps) {
        f.instruction(&Instruction::GlobalGet(self.globals.fuel));
        f.instruction(&Instruction::LocalSet(temps.fuel));
    }

    /// `if fuel < cost { status = OUT_OF_FUEL; trap } fuel -= cost`, on the local copy,
    /// written through to the global.
    fn charge_static(&self, f: &mut Function, temps: Temps, cost: u64) {
        let cost = cost as i64;
        f.instruction(&Instruction::LocalGet(temps.fuel));
        f.instruction(&Instruction::I64Const(cost));
        f.instruction(&Instruction::I64LtU);
        self.out_of_fuel(f);
        f.instruction(&Instruction::LocalGet(temps.fuel));
        f.instruction(&Instruction::I64Const(cost));
        f.instruction(&Instruction::I64Sub);
        f.instruction(&Instruction::LocalTee(temps.fuel));
        f.instruction(&Instruction::GlobalSet(self.globals.fuel));
    }

    /// Charges for a run-time amount (the i64 on top of the stack, consumed).
    fn charge_dynamic(&self, f: &mut Function, temps: Temps) {
        f.instruction(&Instruction::LocalSet(temps.i64));
        f.instruction(&Instruction::LocalGet(temps.fuel));
        f.instruction(&Instruction::LocalGet(temps.i64));
        f.instruction(&Instruction::I64LtU);
        self.out_of_fuel(f);
        f.instruction(&Instruction::LocalGet(temps.fuel));
        f.instruction(&Instruction::LocalGet(temps.i64));
        f.instruction(&Instruction::I64Sub);
        f.instruction(&Instruction::LocalTee(temps.fuel));
        f.instruction(&Instruction::GlobalSet(self.globals.fuel));
    }

    /// Charges for the i32 length on top of the stack (left in place): `per_unit` fuel per unit
    /// when `per_unit` is set, otherwise one fuel per `bytes_per_fuel` bytes.
    fn charge_length(&self, f: &mut Function, temps: Temps, per_unit: Option<u64>) {
        f.instruction(&Instruction::LocalTee(temps.i32));
        f.instruction(&Instruction::I64ExtendI32U);
        match per_unit {
            Some(price) => {
                f.instruction(&Instruction::I64Const(price as i64));
                f.instruction(&Instruction::I64Mul);
            },
            None => {
                let shift = self.schedule.bytes_per_fuel.trailing_zeros();
                f.instruction(&Instruction::I64Const(i64::from(shift)));
                f.instruction(&Instruction::I64ShrU);
            },
        }
        self.charge_dynamic(f, temps);
        f.instruction(&Instruction::LocalGet(temps.i32));
    }

    fn depth(&self, f: &mut Function, cost: u32, enter: bool) {
        f.instruction(&Instruction::GlobalGet(self.globals.depth));
        f.instruction(&Instruction::I32Const(cost as i32));
        f.instruction(&if enter { Instruction::I32Add } else { Instruction::I32Sub });
        f.instruction(&Instruction::GlobalSet(self.globals.depth));
        if enter {
            f.instruction(&Instruction::GlobalGet(self.globals.depth));
            f.instruction(&Instruction::I32Const(self.schedule.stack_budget as i32));
            f.instruction(&Instruction::I32GtU);
            f.instruction(&Instruction::If(BlockType::Empty));
            f.instruction(&Instruction::Unreachable);
            f.instruction(&Instruction::End);
        }
    }

    fn emit(&self, f: &mut Function, op: &Operator, temps: Temps) -> Result<(), InstrumentError> {
        if !self.meter {
            let instruction = RoundtripReencoder.instruction(op.clone()).map_err(encode_err)?;
            f.instruction(&instruction);
            return Ok(());
        }
        // Charges that depend on run-time values, before the instruction.
        match op {
            Operator::MemoryGrow { .. } => self.charge_length(f, temps, Some(self.schedule.grow_per_page)),
            Operator::MemoryFill { .. } |
            Operator::MemoryCopy { .. } |
            Operator::MemoryInit { .. } |
            Operator::TableCopy { .. } |
            Operator::TableInit { .. } => self.charge_length(f, temps, None),
            _ => {},
        }
        match self.host_call(op) {
            Some(HostFunction::ReadInput | HostFunction::WriteOutput) => self.charge_length(f, temps, None),
            _ => {},
        }
        let frame = match op {
            Operator::Call { function_index } => (*function_index as usize)
                .checked_sub(self.imported_funcs.len())
                .map(|i| self.facts.get(i).map_or(self.max_frame_cost, |f| f.frame_cost)),
            Operator::CallIndirect { .. } => Some(self.max_frame_cost),
            _ => None,
        };
        if let Some(cost) = frame {
            self.depth(f, cost, true);
        }

        // Canonicalize the float whose bits are about to escape (always the top of the stack).
        match nan_escape(op) {
            Some(NanEscape::F32) => {
                f.instruction(&Instruction::LocalTee(temps.f32));
                f.instruction(&Instruction::F32Const(f32::from_bits(0x7fc0_0000).into()));
                f.instruction(&Instruction::LocalGet(temps.f32));
                f.instruction(&Instruction::LocalGet(temps.f32));
                f.instruction(&Instruction::F32Eq);
                f.instruction(&Instruction::Select);
            },
            Some(NanEscape::F64) => {
                f.instruction(&Instruction::LocalTee(temps.f64));
                f.instruction(&Instruction::F64Const(f64::from_bits(0x7ff8_0000_0000_0000).into()));
                f.instruction(&Instruction::LocalGet(temps.f64));
                f.instruction(&Instruction::LocalGet(temps.f64));
                f.instruction(&Instruction::F64Eq);
                f.instruction(&Instruction::Select);
            },
            None => {},
        }

        let instruction = RoundtripReencoder.instruction(op.clone()).map_err(encode_err)?;
        f.instruction(&instruction);

        if matches!(op, Operator::Call { .. } | Operator::CallIndirect { .. }) {
            self.reload_fuel(f, temps);
        }
        if let Some(cost) = frame {
            self.depth(f, cost, false);
        }
        Ok(())
    }
}
