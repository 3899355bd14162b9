//! Deterministic sampling of distinct members (jurors) from a population.
//!
//! Given a seed (the runtime's randomness for a job), draw up to `k` distinct indices below
//! `population` that pass an eligibility check. Random probes first (a blake2 hash chain of the
//! seed); if those leave places unfilled, a scan from a seed-derived offset completes the draw,
//! so the result always has `min(k, eligible)` members and the work is bounded by `population`.

use alloc::vec::Vec;
use codec::Encode;
use sp_crypto_hashing::blake2_256;

/// Domain separator of the probe hash chain.
const DOMAIN: &[u8] = b"tessera/sample/v1";

fn probe(seed: &[u8; 32], counter: u32) -> u32 {
    let h = (DOMAIN, seed, counter).using_encoded(blake2_256);
    u32::from_le_bytes([h[0], h[1], h[2], h[3]])
}

/// Up to `k` distinct indices in `0..population` with `eligible(i)`, in draw order.
pub fn sample_distinct(
    seed: &[u8; 32],
    population: u32,
    k: u32,
    mut eligible: impl FnMut(u32) -> bool,
) -> Vec<u32> {
    let mut chosen: Vec<u32> = Vec::new();
    if population == 0 || k == 0 {
        return chosen;
    }
    let probes = k.saturating_mul(4);
    for counter in 0..probes {
        if chosen.len() as u32 == k {
            return chosen;
        }
        let i = probe(seed, counter) % population;
        if !chosen.contains(&i) && eligible(i) {
            chosen.push(i);
        }
    }
    let offset = probe(seed, u32::MAX) % population;
    for step in 0..population {
        if chosen.len() as u32 == k {
            break;
        }
        let i = (offset + step) % population;
        if !chosen.contains(&i) && eligible(i) {
            chosen.push(i);
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn draws_are_distinct_eligible_and_complete(
            seed in any::<[u8; 32]>(), population in 0u32..300, k in 0u32..20, mask in any::<u64>(),
        ) {
            let eligible = |i: u32| (mask >> (i % 64)) & 1 == 1;
            let drawn = sample_distinct(&seed, population, k, eligible);
            let eligible_count = (0..population).filter(|i| eligible(*i)).count() as u32;
            prop_assert_eq!(drawn.len() as u32, k.min(eligible_count));
            let mut sorted = drawn.clone();
            sorted.sort();
            sorted.dedup();
            prop_assert_eq!(sorted.len(), drawn.len());
            prop_assert!(drawn.iter().all(|i| *i < population && eligible(*i)));
            prop_assert_eq!(drawn, sample_distinct(&seed, population, k, eligible));
        }
    }

    #[test]
    fn different_seeds_draw_differently() {
        let a = sample_distinct(&[1; 32], 1000, 5, |_| true);
        let b = sample_distinct(&[2; 32], 1000, 5, |_| true);
        assert_eq!(a.len(), 5);
        assert_ne!(a, b);
    }

    #[test]
    fn every_member_can_be_drawn() {
        // Over many seeds each of 10 members is drawn first at least once: no member is
        // systematically excluded.
        let mut seen = [false; 10];
        for s in 0u8..=255 {
            let first = sample_distinct(&[s; 32], 10, 1, |_| true)[0];
            seen[first as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }
}
