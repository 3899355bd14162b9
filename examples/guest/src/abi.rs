//! The Tessera host ABI as seen from a Rust program.

#[link(wasm_import_module = "tessera")]
extern "C" {
    #[link_name = "input_len"]
    fn host_input_len() -> i32;
    #[link_name = "read_input"]
    fn host_read_input(dst: *mut u8, offset: i32, len: i32) -> i32;
    #[link_name = "write_output"]
    fn host_write_output(src: *const u8, len: i32);
    #[link_name = "abort"]
    fn host_abort(code: i32) -> !;
}

/// Reads the whole input into `buf`; aborts with code 1 if it does not fit.
pub fn input(buf: &mut [u8]) -> &[u8] {
    // SAFETY: the host writes at most `buf.len()` bytes into `buf`.
    unsafe {
        let len = host_input_len() as usize;
        if len > buf.len() {
            host_abort(1);
        }
        let n = host_read_input(buf.as_mut_ptr(), 0, len as i32) as usize;
        &buf[..n]
    }
}

/// Appends `bytes` to the output.
pub fn output(bytes: &[u8]) {
    // SAFETY: the host only reads `bytes`.
    unsafe { host_write_output(bytes.as_ptr(), bytes.len() as i32) }
}

/// Ends the program with an abort code.
pub fn abort(code: i32) -> ! {
    // SAFETY: `abort` never returns.
    unsafe { host_abort(code) }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    abort(101)
}
