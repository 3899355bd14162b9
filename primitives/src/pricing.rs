//! What a job costs.
//!
//! A requester offers a maximum price per unit of fuel. Each replica is paid for the fuel its
//! receipt reports at the price the provider advertised when it claimed the slot (never above
//! the offer). The protocol fee is a fraction of what is paid to providers, charged on top.
//! The fee is charged per replica and rounded up, so no payment, however small, is fee-free
//! (a job of 1 planck pays 1 planck of fee). The escrow held at posting covers the worst case:
//! every replica uses the whole fuel limit at the maximum price, plus the fee on each. Settlement
//! can therefore always pay from escrow.

use codec::{Decode, Encode};
use scale_info::TypeInfo;
use sp_arithmetic::{traits::AtLeast32BitUnsigned, Perbill};

use crate::Fuel;

/// A price breakdown for posting a job (what `quote_job` answers).
#[derive(Encode, Decode, TypeInfo, Clone, Copy, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct Quote<Balance> {
    /// Most one replica can be paid: `fuel_limit × max_price_per_fuel`.
    pub per_replica_max: Balance,
    /// Most all replicas together can be paid.
    pub payment_max: Balance,
    /// Protocol fee on `payment_max`: the fee on `per_replica_max`, once per replica.
    pub protocol_fee_max: Balance,
    /// What is held from the requester: `payment_max + protocol_fee_max`.
    pub escrow: Balance,
}

/// The escrow and its parts for a job, or `None` on overflow.
pub fn quote<B: AtLeast32BitUnsigned + Copy>(
    fuel_limit: Fuel,
    max_price_per_fuel: B,
    replicas: u32,
    protocol_fee: Perbill,
) -> Option<Quote<B>> {
    let per_replica_max = replica_payment(fuel_limit, max_price_per_fuel)?;
    let payment_max = per_replica_max.checked_mul(&B::from(replicas))?;
    let protocol_fee_max = fee_on(per_replica_max, protocol_fee).checked_mul(&B::from(replicas))?;
    let escrow = payment_max.checked_add(&protocol_fee_max)?;
    Some(Quote { per_replica_max, payment_max, protocol_fee_max, escrow })
}

/// Payment for `fuel_used` at `price_per_fuel`, or `None` on overflow.
pub fn replica_payment<B: AtLeast32BitUnsigned + Copy>(fuel_used: Fuel, price_per_fuel: B) -> Option<B> {
    B::try_from(fuel_used).ok()?.checked_mul(&price_per_fuel)
}

/// The protocol fee on one replica's payment, rounded up: a non-zero payment pays a non-zero
/// fee whenever the fee rate is not zero (so splitting work into dust payments avoids no fee).
/// Monotone in the payment, so the fee on any payment ≤ `per_replica_max` is ≤ the fee on it.
pub fn fee_on<B: AtLeast32BitUnsigned + Copy>(payment: B, protocol_fee: Perbill) -> B {
    protocol_fee.mul_ceil(payment)
}

/// A provider's compensation when a requester cancels after the provider claimed a slot:
/// `share` of the slot's maximum payment.
pub fn cancellation_compensation<B: AtLeast32BitUnsigned + Copy>(per_replica_max: B, share: Perbill) -> B {
    share.mul_floor(per_replica_max)
}

/// The fee for posting a job while `live` of `max` live-job places are taken: `base` below
/// nine sixteenths of occupancy, then doubling with every further sixteenth (128 × `base` in
/// the last one). Honest requesters pay `base` in a market with room; whoever tries to fill the
/// market (and lock everyone else out) pays about `16.4 × max × base` to fill it from empty,
/// most of it for the last places.
pub fn posting_fee<B: AtLeast32BitUnsigned + Copy>(base: B, live: u32, max: u32) -> B {
    if max == 0 {
        return base;
    }
    let sixteenths = (u64::from(live).saturating_mul(16) / u64::from(max)).min(15) as u32;
    let doublings = sixteenths.saturating_sub(8);
    base.saturating_mul(B::from(1u32 << doublings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn worked_example() {
        // 1,000,000 fuel at 10 per fuel, 2 replicas, 5 % fee.
        let q = quote(1_000_000u64, 10u128, 2, Perbill::from_percent(5)).unwrap();
        assert_eq!(q.per_replica_max, 10_000_000);
        assert_eq!(q.payment_max, 20_000_000);
        assert_eq!(q.protocol_fee_max, 1_000_000);
        assert_eq!(q.escrow, 21_000_000);
    }

    #[test]
    fn filling_the_market_costs_about_16_times_its_size_in_base_fees() {
        let max = 10_000u32;
        let total: u128 = (0..max).map(|live| posting_fee(1u128, live, max)).sum();
        assert_eq!(posting_fee(1u128, 0, max), 1);
        assert_eq!(posting_fee(1u128, max / 2, max), 1);
        assert_eq!(posting_fee(1u128, max - 1, max), 128);
        assert_eq!(total, 164_375);
    }

    /// The smallest job still pays a fee: 1 fuel at 1 planck, 5 % fee, is 1 planck of fee
    /// per replica (rounded down it would be nothing, and dust jobs would be fee-free).
    #[test]
    fn the_fee_never_rounds_to_zero() {
        let q = quote(1u64, 1u128, 3, Perbill::from_percent(5)).unwrap();
        assert_eq!(q.protocol_fee_max, 3);
        assert_eq!(q.escrow, 6);
        assert_eq!(fee_on(1u128, Perbill::from_percent(5)), 1);
        assert_eq!(fee_on(0u128, Perbill::from_percent(5)), 0);
        assert_eq!(fee_on(1_000u128, Perbill::zero()), 0);
    }

    #[test]
    fn overflow_is_none_not_wrap() {
        assert!(quote(u64::MAX, u128::MAX, 2, Perbill::from_percent(5)).is_none());
        assert!(replica_payment(u64::MAX, u32::MAX).is_none());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        /// Whatever the replicas report (fuel ≤ limit, price ≤ offer), payments plus fee fit
        /// in the escrow: settlement never needs funds that were not held.
        #[test]
        fn escrow_covers_every_settlement(
            fuel_limit in 1u64..=1_000_000_000_000,
            max_price in 1u128..=1_000_000_000_000,
            replicas in 1u32..=16,
            fee_ppb in 0u32..=1_000_000_000,
            used in proptest::collection::vec((any::<u64>(), any::<u128>()), 1..=16),
        ) {
            let fee = Perbill::from_parts(fee_ppb);
            let q = quote(fuel_limit, max_price, replicas, fee).unwrap();
            let (mut paid, mut fees) = (0u128, 0u128);
            for (f, p) in used.iter().take(replicas as usize) {
                let fuel = f % (fuel_limit + 1);
                let price = p % (max_price + 1);
                let payment = replica_payment(fuel, price).unwrap();
                paid += payment;
                fees += fee_on(payment, fee);
            }
            prop_assert!(paid <= q.payment_max);
            prop_assert!(fees <= q.protocol_fee_max);
            prop_assert!(paid + fees <= q.escrow);
        }

        #[test]
        fn posting_fee_grows_with_occupancy_within_its_bounds(
            base in 0u64..=1_000_000_000, a in 0u32..=20_000, b in 0u32..=20_000, max in 1u32..=20_000,
        ) {
            let (lo, hi) = (a.min(b), a.max(b));
            let base = u128::from(base);
            let (f_lo, f_hi) = (posting_fee(base, lo, max), posting_fee(base, hi, max));
            prop_assert!(f_lo <= f_hi);
            prop_assert!(base <= f_lo && f_hi <= 128 * base);
            if u64::from(hi) * 2 <= u64::from(max) {
                prop_assert_eq!(f_hi, base);
            }
        }

        #[test]
        fn fee_is_monotone(a in any::<u64>(), b in any::<u64>(), fee_ppb in 0u32..=1_000_000_000) {
            let fee = Perbill::from_parts(fee_ppb);
            let (lo, hi) = (u128::from(a.min(b)), u128::from(a.max(b)));
            prop_assert!(fee_on(lo, fee) <= fee_on(hi, fee));
            prop_assert!(fee_on(hi, fee) <= hi);
        }
    }
}
