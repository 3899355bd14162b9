//! Integer matrix multiply (see `tessera_algorithms::matmul`).
#![no_std]
#![no_main]

use tessera_guest::{abi, algorithms::matmul};

static mut INPUT: [u8; 64] = [0; 64];

#[no_mangle]
pub extern "C" fn run() {
    // SAFETY: single-threaded program; `run` is entered once.
    let input = abi::input(unsafe { &mut *core::ptr::addr_of_mut!(INPUT) });
    if !matmul::multiply(input, &mut |bytes| abi::output(bytes)) {
        abi::abort(2);
    }
}
