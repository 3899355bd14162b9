//! Tessera's example job programs, ready to upload, with encoders for their inputs and native
//! builds of the same algorithms (for reference results and benchmarks).
//!
//! | program | source | input | output |
//! |---|---|---|---|
//! | [`HASH_CHAIN`] | `wat/hash_chain.wat` | rounds (u32), data | final link (u64) |
//! | [`MANDELBROT`] | `guest/src/lib.rs` | width, height, max_iter, view | PGM image |
//! | [`MONTE_CARLO`] | `guest/src/lib.rs` | seed, samples | hits (u64), π estimate (f64) |
//! | [`MATMUL`] | `guest/src/lib.rs` | n, seed | row sums, checksum |

pub use tessera_algorithms as native;

/// The hash chain program (WAT).
pub const HASH_CHAIN: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/hash_chain.wasm"));
/// The Mandelbrot renderer (Rust).
pub const MANDELBROT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/mandelbrot.wasm"));
/// The Monte Carlo π estimate (Rust).
pub const MONTE_CARLO: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/monte_carlo.wasm"));
/// The matrix multiply (Rust).
pub const MATMUL: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/matmul.wasm"));

/// Every example, by name.
pub const ALL: [(&str, &[u8]); 4] =
    [("hash_chain", HASH_CHAIN), ("mandelbrot", MANDELBROT), ("monte_carlo", MONTE_CARLO), ("matmul", MATMUL)];

/// The example called `name`.
pub fn by_name(name: &str) -> Option<&'static [u8]> {
    ALL.iter().find(|(n, _)| *n == name).map(|(_, code)| *code)
}

/// Input encoders.
pub mod input {
    /// Hash chain: `rounds` mixes over `data`.
    pub fn hash_chain(rounds: u32, data: &[u8]) -> Vec<u8> {
        let mut v = rounds.to_le_bytes().to_vec();
        v.extend_from_slice(data);
        v
    }

    /// Mandelbrot: image size and iteration cap over the whole set.
    pub fn mandelbrot(width: u32, height: u32, max_iter: u32) -> Vec<u8> {
        [width, height, max_iter].iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// Monte Carlo: seed and number of samples.
    pub fn monte_carlo(seed: u32, samples: u32) -> Vec<u8> {
        [seed, samples].iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// Matrix multiply: side and seed.
    pub fn matmul(n: u32, seed: u32) -> Vec<u8> {
        [n, seed].iter().flat_map(|v| v.to_le_bytes()).collect()
    }
}

/// The output each program produces, computed natively.
pub mod reference {
    use super::native;

    fn collect(f: impl FnOnce(&mut dyn FnMut(&[u8]))) -> Vec<u8> {
        let mut out = Vec::new();
        f(&mut |b: &[u8]| out.extend_from_slice(b));
        out
    }

    /// Mandelbrot's output for `input`.
    pub fn mandelbrot(input: &[u8]) -> Vec<u8> {
        collect(|out| {
            native::mandelbrot::render(input, &mut |b| out(b));
        })
    }

    /// Monte Carlo's output for `input`.
    pub fn monte_carlo(input: &[u8]) -> Vec<u8> {
        collect(|out| native::monte_carlo::estimate(input, &mut |b| out(b)))
    }

    /// Matrix multiply's output for `input`.
    pub fn matmul(input: &[u8]) -> Vec<u8> {
        collect(|out| {
            native::matmul::multiply(input, &mut |b| out(b));
        })
    }

    /// Hash chain's output for `input`.
    pub fn hash_chain(input: &[u8]) -> Vec<u8> {
        let rounds = native::field(input, 0, 0);
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in input.get(4..).unwrap_or(&[]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        for i in 1..=u64::from(rounds) {
            let mut z = h ^ i;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            h = z ^ (z >> 31);
        }
        h.to_le_bytes().to_vec()
    }
}
