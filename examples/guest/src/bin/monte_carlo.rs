//! Seeded Monte Carlo estimate of π (see `tessera_algorithms::monte_carlo`).
#![no_std]
#![no_main]

use tessera_guest::{abi, algorithms::monte_carlo};

static mut INPUT: [u8; 64] = [0; 64];

#[no_mangle]
pub extern "C" fn run() {
    // SAFETY: single-threaded program; `run` is entered once.
    let input = abi::input(unsafe { &mut *core::ptr::addr_of_mut!(INPUT) });
    monte_carlo::estimate(input, &mut |bytes| abi::output(bytes));
}
