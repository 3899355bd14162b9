//! Token rewards for verified work.
//!
//! Time is cut into eras of a fixed number of blocks. Each era has an emission budget that
//! shrinks geometrically: `budget(era) = initial × (1 − decay)^era`. Emission *matches* what
//! verified work paid into the protocol: a paid replica is minted `match × the protocol fee its
//! payment paid`, and the majority jurors of a dispute share `match × what the losers paid the
//! treasury`, until the era's budget is spent. With `match < 100 %`, every minted planck was
//! preceded by more than one planck paid to the treasury, which nobody gets back: no strategy
//! (a requester serving itself, sybil jurors, forced disputes) earns from emission more than it
//! pays in, and only payments by other parties make emission a gain. Emission is bounded per era
//! and in total (a geometric series), and every minted unit is counted in the market pallet's
//! `TotalEmitted`.

use sp_arithmetic::{
    traits::{AtLeast32BitUnsigned, Saturating},
    Perbill,
};

/// The emission budget of `era`.
pub fn era_budget<B: AtLeast32BitUnsigned + Copy>(initial: B, decay_per_era: Perbill, era: u32) -> B {
    let keep = Perbill::one().saturating_sub(decay_per_era);
    keep.saturating_pow(era as usize).mul_floor(initial)
}

/// The era a block belongs to.
pub fn era_of(block: u32, era_length: u32) -> u32 {
    block.checked_div(era_length).unwrap_or(0)
}

/// The reward matched to `paid_in` (what the rewarded work paid the treasury): `matched` of it,
/// rounded down, capped by what is left of the era's budget.
pub fn matched_reward<B: AtLeast32BitUnsigned + Copy>(paid_in: B, matched: Perbill, remaining: B) -> B {
    matched.mul_floor(paid_in).min(remaining)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn schedule_decays() {
        let d = Perbill::from_percent(10);
        assert_eq!(era_budget(1_000u128, d, 0), 1_000);
        assert_eq!(era_budget(1_000u128, d, 1), 900);
        assert_eq!(era_budget(1_000u128, d, 2), 810);
        assert_eq!(era_budget(1_000u128, Perbill::zero(), 50), 1_000);
        assert_eq!(era_of(99, 100), 0);
        assert_eq!(era_of(100, 100), 1);
    }

    proptest! {
        #[test]
        fn budgets_never_grow_and_rewards_fit(
            initial in any::<u64>(), decay in 0u32..=1_000_000_000, era in 0u32..10_000,
            paid_in in any::<u64>(), matched in 0u32..1_000_000_000, remaining in any::<u64>(),
        ) {
            let d = Perbill::from_parts(decay);
            let initial = u128::from(initial);
            prop_assert!(era_budget(initial, d, era + 1) <= era_budget(initial, d, era));
            prop_assert!(era_budget(initial, d, era) <= initial);
            let r = matched_reward(u128::from(paid_in), Perbill::from_parts(matched), u128::from(remaining));
            prop_assert!(r <= u128::from(remaining));
            // Below 100 % the reward is strictly less than what was paid in (or both are zero).
            prop_assert!(r < u128::from(paid_in) || paid_in == 0);
        }
    }
}
