//! Audit sampling and its deterrence arithmetic.
//!
//! A validator's auditor re-executes each agreed result with probability `rate`, deciding from
//! its node's local randomness, which no provider and no other validator can see. A liar
//! therefore cannot tell which of its results will be checked. With `n` independent auditors
//! a result escapes all of them with probability `(1 - rate)^n`.

use codec::Encode;
use sp_arithmetic::{traits::Saturating, Perbill};
use sp_crypto_hashing::blake2_256;

use crate::JobId;

/// Domain separator of audit draws.
const DOMAIN: &[u8] = b"tessera/audit/v1";

/// Whether the auditor with local randomness `seed` audits `job`: true with probability
/// `rate` over seeds (to one part in 10^9).
pub fn selected(seed: &[u8; 32], job: JobId, rate: Perbill) -> bool {
    let h = (DOMAIN, seed, job).using_encoded(blake2_256);
    // 64 bits reduced modulo 10^9: the bias of the reduction is below 10^-10.
    let draw = u64::from_le_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]) % 1_000_000_000;
    draw < u64::from(rate.deconstruct())
}

/// The probability that at least one of `auditors` independent auditors at `rate` checks a
/// result.
pub fn catch_probability(rate: Perbill, auditors: u32) -> Perbill {
    let escape = (Perbill::one() - rate).saturating_pow(auditors as usize);
    Perbill::one() - escape
}

/// A liar's expected loss from one lie: the slash it risks times the chance of being caught.
/// A lie pays only when this exceeds nothing it could gain, i.e. never when
/// `expected_loss(..) > gain`.
pub fn expected_loss(rate: Perbill, auditors: u32, slash: u128) -> u128 {
    catch_probability(rate, auditors).mul_floor(slash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_edges_are_exact() {
        let seed = [9u8; 32];
        for job in 0..1_000 {
            assert!(!selected(&seed, job, Perbill::zero()));
            assert!(selected(&seed, job, Perbill::one()));
        }
        assert_eq!(catch_probability(Perbill::from_percent(10), 0), Perbill::zero());
        assert_eq!(catch_probability(Perbill::from_percent(10), 1), Perbill::from_percent(10));
        // 1 - 0.9^4 = 0.3439
        assert_eq!(catch_probability(Perbill::from_percent(10), 4), Perbill::from_parts(343_900_000));
        assert_eq!(expected_loss(Perbill::from_percent(10), 1, 1_000), 100);
    }

    proptest! {
        /// Over many jobs the share audited is the rate, within a few standard deviations.
        #[test]
        fn the_audited_share_is_the_rate(seed in any::<[u8; 32]>(), percent in 1u32..100) {
            let rate = Perbill::from_percent(percent);
            let n = 4_000u64;
            let hits = (0..n).filter(|j| selected(&seed, *j, rate)).count() as f64;
            let p = f64::from(percent) / 100.0;
            let sd = (n as f64 * p * (1.0 - p)).sqrt();
            prop_assert!((hits - n as f64 * p).abs() <= 5.0 * sd, "{hits} of {n} at {percent}%");
        }

        /// More auditors never lower the chance of a catch.
        #[test]
        fn more_auditors_catch_more(parts in 0u32..=1_000_000_000, n in 0u32..64) {
            let rate = Perbill::from_parts(parts);
            prop_assert!(catch_probability(rate, n + 1) >= catch_probability(rate, n));
        }
    }
}
