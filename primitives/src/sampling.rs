//! Deterministic, weighted sampling of distinct members (jurors) from a population.
//!
//! Given a seed (the runtime's randomness for a dispute round), draw up to `k` distinct
//! indices below `population`, each next one with probability proportional to its weight
//! capped at `cap`, among the indices not drawn yet (sampling without replacement). Jurors are
//! weighted by their capped stake: stake above the cap buys no more seats, and splitting stake
//! over many accounts buys no more weight than it had in one.
//!
//! How: rejection sampling first. A probe (a blake2 hash of the seed and a counter) names a
//! uniform index and a uniform number below `cap`; the index is drawn when that number is
//! below its capped weight, i.e. with probability `weight / cap`. Probes are cheap (each reads
//! one member) but may all miss when most members are light or ineligible, so after
//! `PROBES_PER_SEAT × k` of them a single pass over the whole population completes the draw
//! exactly: it reads every member not read yet and picks the remaining seats in proportion to
//! weight. The result always has `min(k, members with weight > 0)` members, every member's
//! weight is read at most once, and the work is bounded by `population` reads.

use alloc::{collections::btree_map::BTreeMap, vec::Vec};
use codec::Encode;
use sp_crypto_hashing::blake2_256;

/// Domain separator of the probe hash chain (a new scheme gets a new tag).
const DOMAIN: &[u8] = b"tessera/sample/v2";

/// Rejection probes per seat before the exact pass over the whole population.
pub const PROBES_PER_SEAT: u32 = 16;

fn hash(seed: &[u8; 32], counter: u32) -> [u8; 32] {
    (DOMAIN, seed, counter).using_encoded(blake2_256)
}

fn u64_at(h: &[u8; 32], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&h[at..at + 8]);
    u64::from_le_bytes(b)
}

fn u128_at(h: &[u8; 32], at: usize) -> u128 {
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[at..at + 16]);
    u128::from_le_bytes(b)
}

/// Up to `k` distinct indices in `0..population`, in draw order, each drawn with probability
/// proportional to `min(weight(i), cap)` among the indices not drawn yet; an index of weight 0
/// (ineligible) is never drawn. `weight` is called at most once per index. The sum of the
/// capped weights should fit in a `u128` (it saturates otherwise, which only skews the draw).
pub fn sample_weighted(
    seed: &[u8; 32],
    population: u32,
    k: u32,
    cap: u128,
    mut weight: impl FnMut(u32) -> u128,
) -> Vec<u32> {
    let mut chosen: Vec<u32> = Vec::new();
    if population == 0 || k == 0 || cap == 0 {
        return chosen;
    }
    // Capped weights read so far, so no member is read twice.
    let mut read: BTreeMap<u32, u128> = BTreeMap::new();
    let mut weight_of = |i: u32| *read.entry(i).or_insert_with(|| weight(i).min(cap));

    // Rejection sampling: a uniform index, accepted with probability weight / cap.
    let probes = k.saturating_mul(PROBES_PER_SEAT);
    for counter in 0..probes {
        if chosen.len() as u32 == k {
            return chosen;
        }
        let h = hash(seed, counter);
        let i = (u64_at(&h, 0) % u64::from(population)) as u32;
        if chosen.contains(&i) {
            continue;
        }
        if u128_at(&h, 8) % cap < weight_of(i) {
            chosen.push(i);
        }
    }
    if chosen.len() as u32 == k {
        return chosen;
    }

    // The exact pass: every member not drawn yet, by weight.
    let mut pool: Vec<(u32, u128)> =
        (0..population).filter(|i| !chosen.contains(i)).map(|i| (i, weight_of(i))).filter(|(_, w)| *w > 0).collect();
    let mut total = pool.iter().fold(0u128, |t, (_, w)| t.saturating_add(*w));
    let mut counter = u32::MAX;
    while (chosen.len() as u32) < k && !pool.is_empty() && total > 0 {
        let mut r = u128_at(&hash(seed, counter), 0) % total;
        counter = counter.saturating_sub(1);
        let mut at = pool.len() - 1;
        for (j, (_, w)) in pool.iter().enumerate() {
            if r < *w {
                at = j;
                break;
            }
            r -= *w;
        }
        let (i, w) = pool.remove(at);
        total = total.saturating_sub(w);
        chosen.push(i);
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn seed(n: u32) -> [u8; 32] {
        blake2_256(&n.to_le_bytes())
    }

    /// How often each index is drawn (in any seat) over `runs` seeds.
    fn frequencies(population: u32, k: u32, cap: u128, runs: u32, weight: impl Fn(u32) -> u128) -> Vec<f64> {
        let mut counts = vec![0u32; population as usize];
        for s in 0..runs {
            for i in sample_weighted(&seed(s), population, k, cap, &weight) {
                counts[i as usize] += 1;
            }
        }
        counts.into_iter().map(|c| f64::from(c) / f64::from(runs)).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn draws_are_distinct_weighted_members_complete_and_read_each_member_once(
            seed in any::<[u8; 32]>(), population in 0u32..300, k in 0u32..20,
            cap in 1u128..1_000, weights in proptest::collection::vec(0u128..2_000, 64),
        ) {
            let w = |i: u32| weights[(i % 64) as usize];
            let mut reads = vec![0u32; population as usize];
            let drawn = sample_weighted(&seed, population, k, cap, |i| { reads[i as usize] += 1; w(i) });
            let positive = (0..population).filter(|i| w(*i) > 0).count() as u32;
            prop_assert_eq!(drawn.len() as u32, k.min(positive));
            let mut sorted = drawn.clone();
            sorted.sort();
            sorted.dedup();
            prop_assert_eq!(sorted.len(), drawn.len());
            prop_assert!(drawn.iter().all(|i| *i < population && w(*i) > 0));
            // Bounded work: no member is read twice, so at most `population` reads.
            prop_assert!(reads.iter().all(|n| *n <= 1));
            prop_assert_eq!(drawn, sample_weighted(&seed, population, k, cap, w));
        }
    }

    #[test]
    fn one_seat_is_drawn_in_proportion_to_capped_weight() {
        // Weights 1..=10 with a cap of 6: capped weights 1,2,3,4,5,6,6,6,6,6 (sum 45).
        let cap = 6u128;
        let f = frequencies(10, 1, cap, 20_000, |i| u128::from(i) + 1);
        for (i, got) in f.iter().enumerate() {
            let want = (i as f64 + 1.0).min(cap as f64) / 45.0;
            assert!((got - want).abs() < 0.012, "index {i}: {got:.4} drawn, {want:.4} expected");
        }
    }

    #[test]
    fn the_exact_pass_alone_is_proportional_too() {
        // A cap far above every weight: probes accept with probability ≤ 4/10^9, so the pass
        // over the population draws, and it must keep the proportions 1:2:3:4.
        let f = frequencies(4, 1, 1_000_000_000, 20_000, |i| u128::from(i) + 1);
        for (i, got) in f.iter().enumerate() {
            let want = (i as f64 + 1.0) / 10.0;
            assert!((got - want).abs() < 0.012, "index {i}: {got:.4} drawn, {want:.4} expected");
        }
    }

    #[test]
    fn stake_above_the_cap_buys_no_extra_seat() {
        // Index 0 holds 1,000 × the cap, the others exactly the cap: all are drawn equally
        // often (5 seats of 20: a quarter each).
        let f = frequencies(20, 5, 100, 10_000, |i| if i == 0 { 100_000 } else { 100 });
        assert!((f[0] - 0.25).abs() < 0.03, "the whale sits in {:.3} of committees", f[0]);
    }

    #[test]
    fn splitting_stake_over_many_accounts_buys_no_extra_weight() {
        // 10 honest members at the cap (100); an attacker holds 200 of stake, once in 2 capped
        // accounts, once as 20 accounts of 10. Its expected share of one seat is 200 / 1,200
        // either way.
        let whole = frequencies(12, 1, 100, 20_000, |_| 100);
        let swarm = frequencies(30, 1, 100, 20_000, |i| if i < 10 { 100 } else { 10 });
        let attacker_whole: f64 = whole[10..].iter().sum();
        let attacker_swarm: f64 = swarm[10..].iter().sum();
        let want = 200.0 / 1_200.0;
        assert!((attacker_whole - want).abs() < 0.012, "{attacker_whole:.4}");
        assert!((attacker_swarm - want).abs() < 0.012, "{attacker_swarm:.4}");
    }

    #[test]
    fn different_seeds_draw_differently_and_every_member_can_be_drawn() {
        let a = sample_weighted(&[1; 32], 1000, 5, 10, |_| 10);
        let b = sample_weighted(&[2; 32], 1000, 5, 10, |_| 10);
        assert_eq!(a.len(), 5);
        assert_ne!(a, b);
        let mut seen = [false; 10];
        for s in 0u8..=255 {
            seen[sample_weighted(&[s; 32], 10, 1, 10, |_| 3)[0] as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn an_attacker_wins_committees_as_the_table_says() {
        // docs/PROTOCOL.md, "What an attacker needs to win a committee", row 20 %: 100 providers
        // of equal capped stake, 20 of them the attacker's, committees of 5, a majority is 3.
        // Without replacement that is P(Hypergeometric(100, 20, 5) >= 3) = 5.32 %, under the
        // table's binomial bound of 5.79 %.
        let runs = 20_000u32;
        let won = (0..runs)
            .filter(|s| sample_weighted(&seed(*s), 100, 5, 10, |_| 10).iter().filter(|i| **i < 20).count() >= 3)
            .count() as f64
            / f64::from(runs);
        assert!((0.045..0.0579).contains(&won), "the attacker won {won:.4} of the committees");
    }

    #[test]
    fn mostly_ineligible_population_still_fills_the_committee_reading_each_member_once() {
        // 1,000 members, only 5 eligible: the probes almost surely miss, the pass finds them.
        let mut reads = 0u32;
        let drawn = sample_weighted(&[3; 32], 1_000, 5, 10, |i| {
            reads += 1;
            if i % 200 == 7 { 10 } else { 0 }
        });
        let mut sorted = drawn.clone();
        sorted.sort();
        assert_eq!(sorted, vec![7, 207, 407, 607, 807]);
        assert_eq!(reads, 1_000);
    }
}
