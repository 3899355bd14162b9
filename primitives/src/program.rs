//! Job programs: the host ABI and the validation every program passes at upload.
//!
//! A program is a WebAssembly module that
//! - imports only functions of the host module [`HOST_MODULE`] listed in [`HostFunction`], each
//!   with exactly its signature (it need not import all of them);
//! - defines exactly one memory (not imported, not shared, 32-bit) of at most
//!   `max_memory_pages` initial and maximum pages, exported as [`MEMORY_EXPORT`];
//! - exports the entry point [`ENTRY_POINT`] of type `[] -> []`;
//! - has no start function (all work happens inside the metered entry point);
//! - uses only the deterministic core: MVP plus mutable globals, sign extension, saturating
//!   float-to-int, multi-value, bulk memory and floats (NaNs are canonicalized by the
//!   executor). No SIMD, threads, reference types, tail calls, exceptions, GC or memory64.
//!
//! The same function runs in the runtime (at upload) and in the worker (before execution), so
//! a module either is a program everywhere or nowhere.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use wasmparser::{
    types::EntityType, CompositeInnerType, FuncType, Parser, Payload, ValType, Validator,
    WasmFeatures,
};

/// The import module of the host functions.
pub const HOST_MODULE: &str = "tessera";
/// The exported entry point.
pub const ENTRY_POINT: &str = "run";
/// The exported linear memory.
pub const MEMORY_EXPORT: &str = "memory";
/// Size of a WebAssembly page.
pub const PAGE_SIZE: u64 = 65_536;

/// The host functions a program may import from [`HOST_MODULE`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HostFunction {
    /// `input_len() -> i32`: the input's length in bytes.
    InputLen,
    /// `read_input(dst: i32, offset: i32, len: i32) -> i32`: copies up to `len` input bytes
    /// from `offset` into memory at `dst`; returns how many were copied.
    ReadInput,
    /// `write_output(src: i32, len: i32)`: appends `len` bytes from memory at `src` to the
    /// output (traps past the output limit).
    WriteOutput,
    /// `abort(code: i32)`: ends the run with [`crate::ExitStatus::Aborted`]`(code)`.
    Abort,
}

impl HostFunction {
    /// Every host function.
    pub const ALL: [HostFunction; 4] =
        [HostFunction::InputLen, HostFunction::ReadInput, HostFunction::WriteOutput, HostFunction::Abort];

    /// The import name.
    pub fn name(self) -> &'static str {
        match self {
            HostFunction::InputLen => "input_len",
            HostFunction::ReadInput => "read_input",
            HostFunction::WriteOutput => "write_output",
            HostFunction::Abort => "abort",
        }
    }

    /// Parameter and result types.
    pub fn signature(self) -> (&'static [ValType], &'static [ValType]) {
        use ValType::I32;
        match self {
            HostFunction::InputLen => (&[], &[I32]),
            HostFunction::ReadInput => (&[I32, I32, I32], &[I32]),
            HostFunction::WriteOutput => (&[I32, I32], &[]),
            HostFunction::Abort => (&[I32], &[]),
        }
    }

    /// The host function of that import name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// Bounds a program must respect. Runtime constants.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ProgramLimits {
    /// Largest module in bytes.
    pub max_code_len: u32,
    /// Most 64 KiB pages of linear memory (initial and maximum).
    pub max_memory_pages: u32,
    /// Most table elements (initial and maximum, summed over tables).
    pub max_table_elements: u32,
}

/// What validation learned about a program.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct ProgramInfo {
    /// Initial memory pages.
    pub initial_pages: u32,
    /// Declared maximum pages (the executor caps at the limit when none is declared).
    pub max_pages: Option<u32>,
}

/// Why a module is not a valid program.
#[derive(
    Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
)]
pub enum ProgramError {
    /// Larger than `max_code_len`.
    TooLarge,
    /// Not a valid WebAssembly module, or uses a feature outside the deterministic core.
    InvalidModule,
    /// Imports something other than a host function of [`HOST_MODULE`].
    ForbiddenImport,
    /// Imports a host function with the wrong signature.
    BadImportSignature,
    /// Does not export [`ENTRY_POINT`] as a function.
    MissingEntryPoint,
    /// The entry point is not of type `[] -> []`.
    BadEntryPointSignature,
    /// Does not define exactly one exported memory.
    BadMemory,
    /// Memory larger than `max_memory_pages`.
    MemoryTooLarge,
    /// Tables larger than `max_table_elements`.
    TableTooLarge,
    /// Has a start function.
    HasStartFunction,
}

/// The WebAssembly features a program may use.
pub fn allowed_features() -> WasmFeatures {
    WasmFeatures::MUTABLE_GLOBAL |
        WasmFeatures::SATURATING_FLOAT_TO_INT |
        WasmFeatures::SIGN_EXTENSION |
        WasmFeatures::MULTI_VALUE |
        WasmFeatures::BULK_MEMORY |
        WasmFeatures::FLOATS |
        WasmFeatures::CALL_INDIRECT_OVERLONG
}

fn func_type<'a>(types: &'a wasmparser::types::Types, id: wasmparser::types::CoreTypeId) -> Option<&'a FuncType> {
    match &types[id].composite_type.inner {
        CompositeInnerType::Func(f) => Some(f),
        _ => None,
    }
}

/// A program's id: the blake2-256 hash of its code (what `upload_program` stores it under).
pub fn program_id(code: &[u8]) -> crate::ProgramId {
    crate::ProgramId::from(sp_crypto_hashing::blake2_256(code))
}

/// Validates `code` as a Tessera program.
pub fn validate(code: &[u8], limits: &ProgramLimits) -> Result<ProgramInfo, ProgramError> {
    if code.len() > limits.max_code_len as usize {
        return Err(ProgramError::TooLarge);
    }
    let types = Validator::new_with_features(allowed_features())
        .validate_all(code)
        .map_err(|_| ProgramError::InvalidModule)?;
    // The validator accepted the module, so its sections parse; only look for `start`.
    for payload in Parser::new(0).parse_all(code) {
        if let Ok(Payload::StartSection { .. }) = payload {
            return Err(ProgramError::HasStartFunction);
        }
    }
    let t = types.as_ref();
    let imports = t.core_imports().ok_or(ProgramError::InvalidModule)?;
    for (module, name, ty) in imports {
        let host = (module == HOST_MODULE).then(|| HostFunction::from_name(name)).flatten();
        let (Some(host), EntityType::Func(id)) = (host, ty) else {
            return Err(ProgramError::ForbiddenImport);
        };
        let f = func_type(&types, id).ok_or(ProgramError::BadImportSignature)?;
        let (params, results) = host.signature();
        if f.params() != params || f.results() != results {
            return Err(ProgramError::BadImportSignature);
        }
    }

    let mut entry = None;
    let mut memory_exported = false;
    for (name, ty) in t.core_exports().ok_or(ProgramError::InvalidModule)? {
        match (name, ty) {
            (ENTRY_POINT, EntityType::Func(id)) => entry = Some(id),
            (MEMORY_EXPORT, EntityType::Memory(_)) => memory_exported = true,
            _ => {},
        }
    }
    let entry = entry.ok_or(ProgramError::MissingEntryPoint)?;
    let f = func_type(&types, entry).ok_or(ProgramError::BadEntryPointSignature)?;
    if !f.params().is_empty() || !f.results().is_empty() {
        return Err(ProgramError::BadEntryPointSignature);
    }

    if t.memory_count() != 1 || !memory_exported {
        return Err(ProgramError::BadMemory);
    }
    let memory = t.memory_at(0);
    if memory.memory64 || memory.shared {
        return Err(ProgramError::BadMemory);
    }
    let max_pages = u64::from(limits.max_memory_pages);
    if memory.initial > max_pages || memory.maximum.is_some_and(|m| m > max_pages) {
        return Err(ProgramError::MemoryTooLarge);
    }

    let mut table_elements = 0u64;
    for i in 0..t.table_count() {
        let table = t.table_at(i);
        table_elements = table_elements.saturating_add(table.maximum.unwrap_or(table.initial).max(table.initial));
    }
    if table_elements > u64::from(limits.max_table_elements) {
        return Err(ProgramError::TableTooLarge);
    }

    Ok(ProgramInfo {
        initial_pages: memory.initial as u32,
        max_pages: memory.maximum.map(|m| m as u32),
    })
}

fn leb128(mut v: u32, out: &mut alloc::vec::Vec<u8>) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A valid program of exactly `len` bytes (at least 64): one `run` function whose body is a
/// run of `nop`s, one memory page. Every byte is an instruction the validator has to check,
/// which makes it the worst case per byte for benchmarks and size tests.
pub fn synthetic_program(len: u32) -> alloc::vec::Vec<u8> {
    let len = len.max(64);
    let mut head: alloc::vec::Vec<u8> = alloc::vec![0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    head.extend_from_slice(&[0x01, 0x04, 0x01, 0x60, 0x00, 0x00]); // type section: [] -> []
    head.extend_from_slice(&[0x03, 0x02, 0x01, 0x00]); // function section: one function, type 0
    head.extend_from_slice(&[0x05, 0x03, 0x01, 0x00, 0x01]); // memory section: min 1 page
    head.extend_from_slice(&[
        0x07, 0x10, 0x02, 0x03, b'r', b'u', b'n', 0x00, 0x00, 0x06, b'm', b'e', b'm', b'o', b'r',
        b'y', 0x02, 0x00,
    ]); // export section: run (func 0), memory (memory 0)
    // Code section: id, section size, count 1, body size, locals 0, nops…, end. Find the number
    // of nops that makes the whole module exactly `len` bytes (LEB sizes vary in width).
    let budget = len as usize - head.len();
    for nops in (0..budget as u32).rev() {
        let body_len = nops + 2; // locals vec + nops + end
        let mut body_size = alloc::vec::Vec::new();
        leb128(body_len, &mut body_size);
        let section_len = 1 + body_size.len() as u32 + body_len;
        let mut section_size = alloc::vec::Vec::new();
        leb128(section_len, &mut section_size);
        if 1 + section_size.len() + section_len as usize == budget {
            let mut code = head;
            code.push(0x0a);
            code.extend_from_slice(&section_size);
            code.push(0x01);
            code.extend_from_slice(&body_size);
            code.push(0x00);
            code.resize(code.len() + nops as usize, 0x01);
            code.push(0x0b);
            return code;
        }
    }
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_programs_are_valid_and_exact() {
        let limits = ProgramLimits { max_code_len: 2 * 1024 * 1024, max_memory_pages: 16, max_table_elements: 0 };
        for len in [64u32, 100, 127, 128, 129, 200, 16_384, 16_385, 1_000_000, 2 * 1024 * 1024] {
            let code = synthetic_program(len);
            assert_eq!(code.len(), len as usize, "length {len}");
            assert_eq!(validate(&code, &limits), Ok(ProgramInfo { initial_pages: 1, max_pages: None }), "length {len}");
        }
    }

    const LIMITS: ProgramLimits = ProgramLimits { max_code_len: 64 * 1024, max_memory_pages: 16, max_table_elements: 64 };

    fn check(wat: &str) -> Result<ProgramInfo, ProgramError> {
        validate(&wat::parse_str(wat).expect("test WAT parses"), &LIMITS)
    }

    const ECHO: &str = r#"(module
        (import "tessera" "input_len" (func $len (result i32)))
        (import "tessera" "read_input" (func $read (param i32 i32 i32) (result i32)))
        (import "tessera" "write_output" (func $write (param i32 i32)))
        (memory (export "memory") 1 2)
        (func (export "run")
            (drop (call $read (i32.const 0) (i32.const 0) (call $len)))
            (call $write (i32.const 0) (call $len))))"#;

    #[test]
    fn a_valid_program_passes() {
        assert_eq!(check(ECHO), Ok(ProgramInfo { initial_pages: 1, max_pages: Some(2) }));
        // Importing no host function at all is fine; floats are allowed.
        assert!(check(r#"(module (memory (export "memory") 1)
            (func (export "run") (drop (f64.sqrt (f64.const 2)))))"#).is_ok());
    }

    #[test]
    fn each_rule_has_its_error() {
        assert_eq!(validate(b"\0asm garbage", &LIMITS), Err(ProgramError::InvalidModule));
        assert_eq!(validate(&[], &LIMITS), Err(ProgramError::InvalidModule));
        assert_eq!(validate(&vec![0u8; 64 * 1024 + 1], &LIMITS), Err(ProgramError::TooLarge));
        assert_eq!(
            check(r#"(module (import "env" "clock" (func)) (memory (export "memory") 1) (func (export "run")))"#),
            Err(ProgramError::ForbiddenImport)
        );
        assert_eq!(
            check(r#"(module (import "tessera" "random" (func)) (memory (export "memory") 1) (func (export "run")))"#),
            Err(ProgramError::ForbiddenImport)
        );
        assert_eq!(
            check(r#"(module (import "tessera" "abort" (func (param i64))) (memory (export "memory") 1) (func (export "run")))"#),
            Err(ProgramError::BadImportSignature)
        );
        assert_eq!(
            check(r#"(module (import "tessera" "memory" (memory 1)) (func (export "run")))"#),
            Err(ProgramError::ForbiddenImport)
        );
        assert_eq!(check(r#"(module (memory (export "memory") 1) (func (export "main")))"#), Err(ProgramError::MissingEntryPoint));
        assert_eq!(
            check(r#"(module (memory (export "memory") 1) (func (export "run") (param i32)))"#),
            Err(ProgramError::BadEntryPointSignature)
        );
        assert_eq!(check(r#"(module (memory 1) (func (export "run")))"#), Err(ProgramError::BadMemory));
        assert_eq!(check(r#"(module (func (export "run")))"#), Err(ProgramError::BadMemory));
        assert_eq!(check(r#"(module (memory (export "memory") 17) (func (export "run")))"#), Err(ProgramError::MemoryTooLarge));
        assert_eq!(check(r#"(module (memory (export "memory") 1 100) (func (export "run")))"#), Err(ProgramError::MemoryTooLarge));
        assert_eq!(
            check(r#"(module (memory (export "memory") 1) (table 65 funcref) (func (export "run")))"#),
            Err(ProgramError::TableTooLarge)
        );
        assert_eq!(
            check(r#"(module (memory (export "memory") 1) (func $s) (start $s) (func (export "run")))"#),
            Err(ProgramError::HasStartFunction)
        );
    }

    #[test]
    fn nondeterministic_features_are_rejected() {
        // SIMD
        assert_eq!(
            check(r#"(module (memory (export "memory") 1) (func (export "run") (drop (v128.const i64x2 0 0))))"#),
            Err(ProgramError::InvalidModule)
        );
        // Threads (atomics on shared memory)
        assert_eq!(
            check(r#"(module (memory (export "memory") 1 1 shared) (func (export "run")))"#),
            Err(ProgramError::InvalidModule)
        );
        // Reference types beyond the MVP
        assert_eq!(
            check(r#"(module (memory (export "memory") 1) (func (export "run") (drop (ref.null extern))))"#),
            Err(ProgramError::InvalidModule)
        );
    }
}
