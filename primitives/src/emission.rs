//! Token rewards for verified work.
//!
//! Time is cut into eras of a fixed number of blocks. Each era has an emission budget that
//! shrinks geometrically: `budget(era) = initial × (1 − decay)^era`. Every settled job mints a
//! reward of `reward_per_fuel × fuel` for each paid replica, until the era's budget is spent.
//! Emission is therefore bounded per era and in total (a geometric series), and every minted
//! unit is accounted for in the market pallet's `TotalEmitted`.

use sp_arithmetic::{
    traits::{AtLeast32BitUnsigned, Saturating},
    Perbill,
};

use crate::Fuel;

/// The emission budget of `era`.
pub fn era_budget<B: AtLeast32BitUnsigned + Copy>(initial: B, decay_per_era: Perbill, era: u32) -> B {
    let keep = Perbill::one().saturating_sub(decay_per_era);
    keep.saturating_pow(era as usize).mul_floor(initial)
}

/// The era a block belongs to.
pub fn era_of(block: u32, era_length: u32) -> u32 {
    block.checked_div(era_length).unwrap_or(0)
}

/// The reward for `fuel` of verified work, capped by what is left of the era's budget.
pub fn work_reward<B: AtLeast32BitUnsigned + Copy>(fuel: Fuel, reward_per_fuel: B, remaining: B) -> B {
    let full = B::try_from(fuel).ok().and_then(|f| f.checked_mul(&reward_per_fuel)).unwrap_or_else(B::max_value);
    full.min(remaining)
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
            fuel in any::<u64>(), rpf in any::<u64>(), remaining in any::<u64>(),
        ) {
            let d = Perbill::from_parts(decay);
            let initial = u128::from(initial);
            prop_assert!(era_budget(initial, d, era + 1) <= era_budget(initial, d, era));
            prop_assert!(era_budget(initial, d, era) <= initial);
            let r = work_reward(fuel, u128::from(rpf), u128::from(remaining));
            prop_assert!(r <= u128::from(remaining));
        }
    }
}
