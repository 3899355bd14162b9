//! Deciding what the right receipt of a job is.
//!
//! Two questions, both pure functions of what is on chain:
//! - Do the replicas agree? ([`agreement`]): the revealed receipts are compared as a whole
//!   (status, fuel used and output hash). Any difference opens a dispute.
//! - What did a committee decide? ([`tally`]): a receipt wins with votes from a strict majority
//!   of the *drawn* committee, not of the votes cast, so jurors who stay silent cannot let a
//!   minority decide.
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use crate::Receipt;

/// Where a dispute round is (the chain keeps it in the dispute; views report it). Each stage
/// ends at the job's deadline at the latest.
#[derive(
    Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "camelCase"))]
pub enum DisputeStage {
    /// No committee yet: the on-chain referee may decide (round 0 of a small job); at the
    /// deadline a committee is drawn from randomness of blocks that came after the stage began.
    Drawing,
    /// The committee re-executes and submits sealed votes.
    Voting,
    /// Jurors who sealed a vote open it.
    Revealing,
}

/// How the revealed receipts of a job's replicas relate.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Agreement {
    /// Nothing was revealed.
    Empty,
    /// Every revealed receipt is this one.
    Unanimous(Receipt),
    /// At least two revealed receipts differ.
    Split,
}

/// Compares the revealed receipts.
pub fn agreement<'a>(receipts: impl IntoIterator<Item = &'a Receipt>) -> Agreement {
    let mut first: Option<&Receipt> = None;
    for r in receipts {
        match first {
            None => first = Some(r),
            Some(f) if f != r => return Agreement::Split,
            Some(_) => {},
        }
    }
    first.map_or(Agreement::Empty, |r| Agreement::Unanimous(*r))
}

/// The receipt voted by a strict majority of a committee of `committee_size` jurors, if any.
/// `votes` holds the votes cast (absent jurors simply have none).
pub fn tally<'a>(votes: impl IntoIterator<Item = &'a Receipt>, committee_size: u32) -> Option<Receipt> {
    let mut counts: Vec<(Receipt, u32)> = Vec::new();
    for v in votes {
        match counts.iter_mut().find(|(r, _)| r == v) {
            Some((_, n)) => *n += 1,
            None => counts.push((*v, 1)),
        }
    }
    counts.into_iter().find(|(_, n)| u64::from(*n) * 2 > u64::from(committee_size)).map(|(r, _)| r)
}

/// Splits `amount` into `parts` equal shares: `(share, remainder)`, with
/// `share × parts + remainder = amount`. Zero parts give the whole amount as remainder.
pub fn split_evenly(amount: u128, parts: u32) -> (u128, u128) {
    if parts == 0 {
        return (0, amount);
    }
    let parts = u128::from(parts);
    (amount / parts, amount % parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ExitStatus;
    use proptest::prelude::*;

    fn r(fuel: u64) -> Receipt {
        Receipt::new(ExitStatus::Ok, fuel, b"out")
    }

    #[test]
    fn agreement_cases() {
        assert_eq!(agreement(&[]), Agreement::Empty);
        assert_eq!(agreement(&[r(1)]), Agreement::Unanimous(r(1)));
        assert_eq!(agreement(&[r(1), r(1), r(1)]), Agreement::Unanimous(r(1)));
        assert_eq!(agreement(&[r(1), r(1), r(2)]), Agreement::Split);
        // Same output, different status: still a disagreement.
        let trapped = Receipt::new(ExitStatus::Trapped, 1, b"out");
        assert_eq!(agreement(&[r(1), trapped]), Agreement::Split);
    }

    #[test]
    fn majority_is_of_the_committee_not_of_the_votes() {
        // One vote out of a committee of three decides nothing, even unopposed.
        assert_eq!(tally(&[r(1)], 3), None);
        assert_eq!(tally(&[r(1), r(1)], 3), Some(r(1)));
        assert_eq!(tally(&[r(1), r(2)], 2), None);
        assert_eq!(tally(&[r(1), r(1), r(2)], 3), Some(r(1)));
        assert_eq!(tally(&[r(1), r(2), r(3)], 3), None);
        assert_eq!(tally(&[], 0), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// A winner has more than half the committee; there is at most one; when every juror
        /// voted the same, that receipt wins.
        #[test]
        fn tally_is_a_strict_majority(votes in proptest::collection::vec(0u64..4, 0..9), extra in 0u32..4) {
            let receipts: Vec<Receipt> = votes.iter().map(|f| r(*f)).collect();
            let size = receipts.len() as u32 + extra;
            match tally(&receipts, size) {
                Some(w) => {
                    let n = receipts.iter().filter(|v| **v == w).count() as u32;
                    prop_assert!(2 * n > size);
                }
                None => {
                    for v in &receipts {
                        let n = receipts.iter().filter(|x| *x == v).count() as u32;
                        prop_assert!(2 * n <= size);
                    }
                }
            }
            if !receipts.is_empty() && extra == 0 && receipts.iter().all(|v| *v == receipts[0]) {
                prop_assert_eq!(tally(&receipts, size), Some(receipts[0]));
            }
        }

        #[test]
        fn agreement_matches_distinct_count(fuels in proptest::collection::vec(0u64..3, 0..6)) {
            let receipts: Vec<Receipt> = fuels.iter().map(|f| r(*f)).collect();
            let mut distinct = fuels.clone();
            distinct.sort();
            distinct.dedup();
            let expected = match distinct.len() {
                0 => Agreement::Empty,
                1 => Agreement::Unanimous(r(distinct[0])),
                _ => Agreement::Split,
            };
            prop_assert_eq!(agreement(&receipts), expected);
        }

        #[test]
        fn split_conserves(amount in any::<u128>(), parts in 0u32..100) {
            let (share, rem) = split_evenly(amount, parts);
            prop_assert_eq!(share * u128::from(parts) + rem, amount);
            prop_assert!(parts == 0 || rem < u128::from(parts));
        }
    }
}
