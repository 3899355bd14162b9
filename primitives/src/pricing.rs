//! What a job costs.
//!
//! A requester offers a maximum price per unit of fuel. Each replica is paid for the fuel its
//! receipt reports at the price the provider advertised when it claimed the slot (never above
//! the offer). The protocol fee is a fraction of what is paid to providers, charged on top.
//! The escrow held at posting covers the worst case: every replica uses the whole fuel limit
//! at the maximum price, plus the fee on that. Settlement can therefore always pay from escrow.

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
    /// Protocol fee on `payment_max`.
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
    let protocol_fee_max = fee_on(payment_max, protocol_fee);
    let escrow = payment_max.checked_add(&protocol_fee_max)?;
    Some(Quote { per_replica_max, payment_max, protocol_fee_max, escrow })
}

/// Payment for `fuel_used` at `price_per_fuel`, or `None` on overflow.
pub fn replica_payment<B: AtLeast32BitUnsigned + Copy>(fuel_used: Fuel, price_per_fuel: B) -> Option<B> {
    B::try_from(fuel_used).ok()?.checked_mul(&price_per_fuel)
}

/// The protocol fee on a payment (rounded down, so it is monotone in the payment and the fee
/// on any payment ≤ `payment_max` is ≤ the fee on `payment_max`).
pub fn fee_on<B: AtLeast32BitUnsigned + Copy>(payment: B, protocol_fee: Perbill) -> B {
    protocol_fee.mul_floor(payment)
}

/// A provider's compensation when a requester cancels after the provider claimed a slot:
/// `share` of the slot's maximum payment.
pub fn cancellation_compensation<B: AtLeast32BitUnsigned + Copy>(per_replica_max: B, share: Perbill) -> B {
    share.mul_floor(per_replica_max)
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
            let mut paid = 0u128;
            for (f, p) in used.iter().take(replicas as usize) {
                let fuel = f % (fuel_limit + 1);
                let price = p % (max_price + 1);
                paid += replica_payment(fuel, price).unwrap();
            }
            prop_assert!(paid <= q.payment_max);
            prop_assert!(paid + fee_on(paid, fee) <= q.escrow);
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
