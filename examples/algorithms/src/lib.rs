//! The algorithms of Tessera's example job programs. Each is a plain function over an input
//! byte slice that emits output through a callback, so the same code runs natively (benchmarks,
//! reference results) and as a Tessera program (`../guest` glues it to the host ABI).
//!
//! Inputs are little-endian fields; a short input means defaults for the missing fields.
#![no_std]

/// Reads the `i`-th little-endian u32 of `input`, or `default` when the input is shorter.
pub fn field(input: &[u8], i: usize, default: u32) -> u32 {
    input
        .get(i * 4..i * 4 + 4)
        .map_or(default, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Mandelbrot renderer. Input: `width, height, max_iter` (u32 LE; defaults 256, 192, 256) and
/// optionally the view as `center_x, center_y, span_x` (f64 bits as two u32 halves each, low
/// first; default the whole set). Output: a binary PGM (P5) image, one grey byte per pixel,
/// brighter = escaped later.
pub mod mandelbrot {
    use super::field;

    /// Largest width or height accepted (the output is one row buffer wide).
    pub const MAX_SIDE: u32 = 1024;

    fn f64_field(input: &[u8], i: usize, default: f64) -> f64 {
        if input.len() < (i + 2) * 4 {
            return default;
        }
        let lo = u64::from(field(input, i, 0));
        let hi = u64::from(field(input, i + 1, 0));
        f64::from_bits(hi << 32 | lo)
    }

    /// Renders, calling `out` with the header and then each row. Returns `false` for a bad size.
    pub fn render(input: &[u8], out: &mut impl FnMut(&[u8])) -> bool {
        let width = field(input, 0, 256);
        let height = field(input, 1, 192);
        let max_iter = field(input, 2, 256).max(1);
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            return false;
        }
        let cx = f64_field(input, 3, -0.75);
        let cy = f64_field(input, 5, 0.0);
        let span_x = f64_field(input, 7, 3.5);
        let scale = span_x / f64::from(width);

        let mut header = [0u8; 32];
        let n = write_header(&mut header, width, height);
        out(&header[..n]);
        let mut row = [0u8; MAX_SIDE as usize];
        for py in 0..height {
            let y0 = cy + (f64::from(py) - f64::from(height) / 2.0) * scale;
            for px in 0..width {
                let x0 = cx + (f64::from(px) - f64::from(width) / 2.0) * scale;
                let (mut x, mut y, mut i) = (0.0f64, 0.0f64, 0u32);
                while i < max_iter {
                    let (x2, y2) = (x * x, y * y);
                    if x2 + y2 > 4.0 {
                        break;
                    }
                    y = 2.0 * x * y + y0;
                    x = x2 - y2 + x0;
                    i += 1;
                }
                row[px as usize] = if i >= max_iter { 0 } else { (i * 255 / max_iter) as u8 };
            }
            out(&row[..width as usize]);
        }
        true
    }

    fn write_header(buf: &mut [u8; 32], width: u32, height: u32) -> usize {
        let mut n = 0;
        for part in [b"P5\n" as &[u8]] {
            buf[n..n + part.len()].copy_from_slice(part);
            n += part.len();
        }
        n += write_decimal(&mut buf[n..], width);
        buf[n] = b' ';
        n += 1;
        n += write_decimal(&mut buf[n..], height);
        buf[n..n + 5].copy_from_slice(b"\n255\n");
        n + 5
    }

    fn write_decimal(buf: &mut [u8], mut v: u32) -> usize {
        let mut digits = [0u8; 10];
        let mut len = 0;
        loop {
            digits[len] = b'0' + (v % 10) as u8;
            len += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        for i in 0..len {
            buf[i] = digits[len - 1 - i];
        }
        len
    }
}

/// A deterministic 64-bit generator (SplitMix64): the seeded randomness of Monte Carlo and the
/// matrix inputs.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A float in [0, 1) with 53 random bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// Seeded Monte Carlo estimate of π. Input: `seed, samples` (u32 LE; defaults 1, 1,000,000).
/// Output: the hits inside the quarter circle (u64 LE) and the estimate (f64 LE bits).
pub mod monte_carlo {
    use super::{field, SplitMix64};

    /// Runs the estimate.
    pub fn estimate(input: &[u8], out: &mut impl FnMut(&[u8])) {
        let seed = field(input, 0, 1);
        let samples = field(input, 1, 1_000_000);
        let mut rng = SplitMix64(u64::from(seed));
        let mut hits = 0u64;
        for _ in 0..samples {
            let (x, y) = (rng.next_f64(), rng.next_f64());
            if x * x + y * y < 1.0 {
                hits += 1;
            }
        }
        let pi = 4.0 * hits as f64 / f64::from(samples.max(1));
        out(&hits.to_le_bytes());
        out(&pi.to_bits().to_le_bytes());
    }
}

/// Integer matrix multiply. Input: `n, seed` (u32 LE; defaults 64, 1; n ≤ [`matmul::MAX_N`]).
/// Two n×n matrices of u32 are drawn from the seed, multiplied with wrapping arithmetic, and the
/// output is the product's row sums (n × u32 LE) followed by a checksum of all entries (u64 LE).
pub mod matmul {
    use super::{field, SplitMix64};

    /// Largest side accepted.
    pub const MAX_N: usize = 128;

    /// Multiplies; `false` for a bad size.
    pub fn multiply(input: &[u8], out: &mut impl FnMut(&[u8])) -> bool {
        let n = field(input, 0, 64) as usize;
        let seed = field(input, 1, 1);
        if n == 0 || n > MAX_N {
            return false;
        }
        let mut a = [[0u32; MAX_N]; MAX_N];
        let mut b = [[0u32; MAX_N]; MAX_N];
        let mut rng = SplitMix64(u64::from(seed));
        for i in 0..n {
            for j in 0..n {
                a[i][j] = rng.next_u64() as u32;
                b[i][j] = rng.next_u64() as u32;
            }
        }
        let mut checksum = 0u64;
        for i in 0..n {
            let mut row_sum = 0u32;
            for j in 0..n {
                let mut acc = 0u32;
                for k in 0..n {
                    acc = acc.wrapping_add(a[i][k].wrapping_mul(b[k][j]));
                }
                row_sum = row_sum.wrapping_add(acc);
                checksum = checksum.rotate_left(5) ^ u64::from(acc);
            }
            out(&row_sum.to_le_bytes());
        }
        out(&checksum.to_le_bytes());
        true
    }
}
