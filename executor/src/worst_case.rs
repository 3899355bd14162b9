//! The referee's worst case, for benchmarks: a valid program that makes the interpreter do as
//! much work per unit of fuel as the schedule allows, padded to a chosen code length so that
//! compilation (validation, instrumentation, translation) is charged per byte as well.
//!
//! The entry point loops until it runs out of fuel. Each iteration steps a linear
//! congruential generator, loads a word from a pseudo-random address anywhere in the largest
//! memory a program may have (cache misses, not cache hits), stores it back elsewhere, and
//! calls the host (`read_input` of 8 bytes, the costliest host call per fuel). The padding is a
//! second, never-called function of `i32.const`/`drop` pairs, which every stage before
//! execution must still read, check and rewrite.

use alloc::vec::Vec;

use tessera_primitives::program::{HostFunction, ENTRY_POINT, HOST_MODULE, MEMORY_EXPORT, PAGE_SIZE};
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, ImportSection, Instruction,
    MemArg, MemorySection, MemoryType, Module, TypeSection, ValType,
};

/// A worst-case program with `pages` pages of memory and at least `code_len` bytes of code.
pub fn program(pages: u32, code_len: u32) -> Vec<u8> {
    let pages = pages.max(1);
    let mut types = TypeSection::new();
    types.ty().function([], []); // 0: run, padding
    types.ty().function([ValType::I32, ValType::I32, ValType::I32], [ValType::I32]); // 1: read_input
    let mut imports = ImportSection::new();
    imports.import(HOST_MODULE, HostFunction::ReadInput.name(), EntityType::Function(1));
    let mut functions = FunctionSection::new();
    functions.function(0);
    functions.function(0);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType { minimum: pages.into(), maximum: Some(pages.into()), memory64: false, shared: false, page_size_log2: None });
    let mut exports = ExportSection::new();
    exports.export(ENTRY_POINT, ExportKind::Func, 1);
    exports.export(MEMORY_EXPORT, ExportKind::Memory, 0);

    // Word-aligned addresses below the end of memory, minus room for the 8-byte host copy.
    let span = (u64::from(pages) * PAGE_SIZE - 8) as u32;
    let mask = (span.next_power_of_two() >> 1).wrapping_sub(1) & !7;
    let mut run = Function::new([(2, ValType::I32)]); // $x (generator state), $a (address)
    let (x, a) = (0, 1);
    let mem = MemArg { offset: 0, align: 2, memory_index: 0 };
    run.instruction(&Instruction::Loop(wasm_encoder::BlockType::Empty));
    for i in [
        Instruction::LocalGet(x),
        Instruction::I32Const(1_664_525),
        Instruction::I32Mul,
        Instruction::I32Const(1_013_904_223),
        Instruction::I32Add,
        Instruction::LocalTee(x),
        Instruction::I32Const(mask as i32),
        Instruction::I32And,
        Instruction::LocalTee(a),
        // memory[a ^ 4] = memory[a]
        Instruction::LocalGet(a),
        Instruction::I32Const(4),
        Instruction::I32Xor,
        Instruction::LocalGet(a),
        Instruction::I32Load(mem),
        Instruction::I32Store(mem),
        // read_input(a, 0, 8)
        Instruction::I32Const(0),
        Instruction::I32Const(8),
        Instruction::Call(0),
        Instruction::Drop,
        Instruction::Br(0),
    ] {
        run.instruction(&i);
    }
    run.instruction(&Instruction::End);
    run.instruction(&Instruction::End);

    let mut padding = Function::new([]);
    // Each pair is 3 bytes (`i32.const` of a 6-bit value, `drop`).
    let pairs = code_len / 3;
    for k in 0..pairs {
        padding.instruction(&Instruction::I32Const((k & 63) as i32));
        padding.instruction(&Instruction::Drop);
    }
    padding.instruction(&Instruction::End);
    let mut code = CodeSection::new();
    code.function(&run);
    code.function(&padding);

    let mut module = Module::new();
    module.section(&types).section(&imports).section(&functions).section(&memories).section(&exports).section(&code);
    module.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{referee, ExitStatus, ProgramLimits, RunLimits};

    #[test]
    fn the_worst_case_is_valid_runs_out_of_fuel_and_has_the_asked_size() {
        let limits = ProgramLimits { max_code_len: 1 << 20, max_memory_pages: 16, max_table_elements: 0 };
        for len in [0u32, 1_000, 100_000] {
            let code = program(16, len);
            assert!(code.len() as u32 >= len, "{} < {len}", code.len());
            assert!(code.len() as u32 <= len + 200, "{} ≫ {len}", code.len());
            let run = RunLimits { fuel: 100_000, max_memory_pages: 16, max_output_len: 0 };
            let e = referee(&code, &limits, b"12345678", &run).expect("runs");
            assert_eq!(e.receipt.status, ExitStatus::OutOfFuel);
            assert_eq!(e.receipt.fuel_used, 100_000);
        }
    }
}
