//! The order in which a worker takes up the open jobs it may claim.
//!
//! When more jobs are open than a worker has free slots, it claims (or, for small jobs,
//! executes before claiming) the first ones in this order. Ascending job ids made every worker
//! pick the same jobs: with five workers of 64 slots and 1,000 one-replica jobs posted at once,
//! all five executed the same lowest 64, one won each race and the other four had executed for
//! nothing, so the market was served about one worker's capacity at a time.
//!
//! Instead each provider ranks the jobs by `blake2_256(domain, provider, job)` (rendezvous
//! hashing): every provider's order is a different pseudo-random permutation, two providers'
//! first `k` of `n` jobs overlap in about `k²/n` jobs, and a job's own ranking by the providers
//! is independent of the other jobs, so whenever there is capacity every job is near the front
//! of some provider's order. The order is public and fixed (anyone can compute it), which
//! gives nobody anything: claims are open to every eligible provider whatever order they use.

use std::collections::BTreeSet;

use codec::Encode;
use sp_crypto_hashing::blake2_256;
use tessera_primitives::JobId;

/// Domain separator of the ranking hash.
const DOMAIN: &[u8] = b"tessera/claim-order/v1";

/// `provider`'s rank of `job`: lower is taken up first.
pub fn rank(provider: &[u8; 32], job: JobId) -> [u8; 32] {
    (DOMAIN, provider, job).using_encoded(blake2_256)
}

/// `jobs` in the order `provider` takes them up: by [`rank`], ties (never seen: a blake2
/// collision) by id.
pub fn claim_order(provider: &[u8; 32], jobs: BTreeSet<JobId>) -> Vec<JobId> {
    let mut ranked: Vec<([u8; 32], JobId)> = jobs.into_iter().map(|j| (rank(provider, j), j)).collect();
    ranked.sort_unstable();
    ranked.into_iter().map(|(_, j)| j).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn provider(i: u8) -> [u8; 32] {
        [i; 32]
    }

    proptest! {
        /// Every job exactly once, whatever the set.
        #[test]
        fn is_a_permutation(jobs in proptest::collection::btree_set(any::<JobId>(), 0..300), p in any::<[u8; 32]>()) {
            let ordered = claim_order(&p, jobs.clone());
            prop_assert_eq!(ordered.len(), jobs.len());
            prop_assert_eq!(ordered.into_iter().collect::<BTreeSet<_>>(), jobs);
        }

        /// A job's place relative to another does not depend on which other jobs are open:
        /// adding jobs never reorders the ones already there.
        #[test]
        fn relative_order_is_stable(jobs in proptest::collection::btree_set(any::<JobId>(), 2..200), extra in proptest::collection::btree_set(any::<JobId>(), 0..100), p in any::<[u8; 32]>()) {
            let alone = claim_order(&p, jobs.clone());
            let mut all = jobs.clone();
            all.extend(extra);
            let together: Vec<JobId> = claim_order(&p, all).into_iter().filter(|j| jobs.contains(j)).collect();
            prop_assert_eq!(alone, together);
        }
    }

    /// The case that motivated it: five workers of 64 slots, 1,000 open jobs. Their first 64
    /// overlap pairwise in about 64²/1000 ≈ 4 jobs (ascending ids: in all 64), so together
    /// they take up about 1000 × (1 − 0.936⁵) ≈ 282 distinct jobs at once, not 64.
    #[test]
    fn providers_spread_over_the_open_jobs() {
        let jobs: BTreeSet<JobId> = (0..1_000).collect();
        let firsts: Vec<BTreeSet<JobId>> =
            (0..5).map(|i| claim_order(&provider(i), jobs.clone()).into_iter().take(64).collect()).collect();
        for a in 0..5 {
            for b in a + 1..5 {
                let overlap = firsts[a].intersection(&firsts[b]).count();
                assert!(overlap < 16, "providers {a} and {b} share {overlap} of their first 64 jobs");
            }
        }
        let distinct: BTreeSet<JobId> = firsts.iter().flatten().copied().collect();
        assert!(distinct.len() > 250, "five providers' first 64 cover only {} distinct jobs", distinct.len());
    }

    /// Different providers, different orders; the same provider, the same order.
    #[test]
    fn order_is_per_provider_and_deterministic() {
        let jobs: BTreeSet<JobId> = (0..100).collect();
        assert_eq!(claim_order(&provider(1), jobs.clone()), claim_order(&provider(1), jobs.clone()));
        assert_ne!(claim_order(&provider(1), jobs.clone()), claim_order(&provider(2), jobs.clone()));
        assert_ne!(claim_order(&provider(1), jobs.clone()), jobs.into_iter().collect::<Vec<_>>());
    }
}
