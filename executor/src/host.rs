//! The host ABI, implemented once for every engine.
//!
//! Engines only move arguments in and out; the semantics — what is copied, when a call traps —
//! live here, so the interpreter and the compiler cannot differ. Fuel for host calls is charged
//! by the instrumented module before the call (see [`crate::metering`]), not here.

use alloc::vec::Vec;

/// Why a host call ended the program.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum HostTrap {
    /// The program called `abort(code)`.
    Abort(u32),
    /// `write_output` would pass the job's output limit.
    OutputLimit,
    /// A pointer argument points outside the program's memory.
    OutOfBounds,
}

/// Per-execution state of the host.
#[derive(Clone, Debug)]
pub struct HostState {
    /// The job's input.
    pub input: Vec<u8>,
    /// What the program has written so far.
    pub output: Vec<u8>,
    /// The job's output limit.
    pub max_output_len: u32,
    /// Set when the program called `abort`.
    pub aborted: Option<u32>,
}

impl HostState {
    /// State for a run on `input` with an output limit.
    pub fn new(input: Vec<u8>, max_output_len: u32) -> Self {
        HostState { input, output: Vec::new(), max_output_len, aborted: None }
    }

    /// `input_len() -> i32`.
    pub fn input_len(&self) -> i32 {
        self.input.len() as i32
    }

    /// `read_input(dst, offset, len) -> i32`: copies `min(len, input_len - offset)` bytes (none
    /// when `offset` is past the end) from the input at `offset` to `memory[dst..]` and returns
    /// the count. Traps if the destination range is outside memory.
    pub fn read_input(&self, memory: &mut [u8], dst: i32, offset: i32, len: i32) -> Result<i32, HostTrap> {
        let (dst, offset, len) = (dst as u32 as usize, offset as u32 as usize, len as u32 as usize);
        let available = self.input.len().saturating_sub(offset);
        let n = len.min(available);
        let target = dst.checked_add(n).and_then(|end| memory.get_mut(dst..end)).ok_or(HostTrap::OutOfBounds)?;
        // `n` is 0 whenever `offset` is past the end, so the start is clamped harmlessly.
        let start = offset.min(self.input.len());
        target.copy_from_slice(&self.input[start..start + n]);
        Ok(n as i32)
    }

    /// `write_output(src, len)`: appends `memory[src..src + len]` to the output. Traps if the
    /// range is outside memory or the output would pass the limit (nothing is appended then).
    pub fn write_output(&mut self, memory: &[u8], src: i32, len: i32) -> Result<(), HostTrap> {
        let (src, len) = (src as u32 as usize, len as u32 as usize);
        let source = src.checked_add(len).and_then(|end| memory.get(src..end)).ok_or(HostTrap::OutOfBounds)?;
        if self.output.len().saturating_add(len) > self.max_output_len as usize {
            return Err(HostTrap::OutputLimit);
        }
        self.output.extend_from_slice(source);
        Ok(())
    }

    /// `abort(code)`: always ends the program.
    pub fn abort(&mut self, code: i32) -> HostTrap {
        self.aborted = Some(code as u32);
        HostTrap::Abort(code as u32)
    }
}

impl core::fmt::Display for HostTrap {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            HostTrap::Abort(code) => write!(f, "program aborted with code {code}"),
            HostTrap::OutputLimit => write!(f, "output limit exceeded"),
            HostTrap::OutOfBounds => write!(f, "memory access out of bounds"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for HostTrap {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_input_copies_what_is_there() {
        let host = HostState::new(b"hello".to_vec(), 0);
        let mut memory = [0u8; 8];
        assert_eq!(host.read_input(&mut memory, 2, 1, 10), Ok(4));
        assert_eq!(&memory, b"\0\0ello\0\0");
        assert_eq!(host.read_input(&mut memory, 0, 9, 3), Ok(0));
        assert_eq!(host.read_input(&mut memory, 6, 0, 5), Err(HostTrap::OutOfBounds));
        assert_eq!(host.read_input(&mut memory, -1, 0, 1), Err(HostTrap::OutOfBounds));
    }

    #[test]
    fn write_output_respects_bounds_and_limit() {
        let mut host = HostState::new(Vec::new(), 4);
        let memory = *b"abcdef";
        assert_eq!(host.write_output(&memory, 1, 3), Ok(()));
        assert_eq!(host.write_output(&memory, 0, 2), Err(HostTrap::OutputLimit));
        assert_eq!(host.output, b"bcd");
        assert_eq!(host.write_output(&memory, 5, 2), Err(HostTrap::OutOfBounds));
        assert_eq!(host.write_output(&memory, 0, 1), Ok(()));
        assert_eq!(host.output, b"bcda");
    }
}
