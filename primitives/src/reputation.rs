//! A provider's reputation: a score in parts per million that rises with verified work, falls
//! with faults and slashes, and decays towards neutral while nothing happens, so that old
//! history counts for less than recent behaviour.
//!
//! The score is updated lazily: every update first applies the decay for the blocks elapsed
//! since the last update, so no per-block work over all providers is ever needed.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_arithmetic::Permill;

/// Where scores start and where they decay to.
pub const NEUTRAL: Permill = Permill::from_percent(50);

/// How scores move. Runtime constants.
#[derive(Encode, Decode, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct ReputationParams {
    /// Share of the distance to a perfect score gained per verified job.
    pub success_gain: Permill,
    /// Share of the score lost per fault (missed commit, reveal or vote).
    pub fault_loss: Permill,
    /// Share of the score lost per slash for a wrong result.
    pub slash_loss: Permill,
    /// Blocks after which the distance to [`NEUTRAL`] halves.
    pub half_life: u32,
}

/// What happened to a provider.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Outcome {
    /// A result was verified and paid.
    Success,
    /// A deadline was missed.
    Fault,
    /// A wrong result was slashed.
    Slashed,
}

/// A provider's reputation and the counts behind it.
#[derive(
    Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct Reputation {
    /// The decayed score, as of `updated_at`.
    pub score: Permill,
    /// Jobs verified and paid.
    pub completed: u32,
    /// Deadlines missed.
    pub faults: u32,
    /// Slashes for wrong results.
    pub slashed: u32,
    /// Block of the last update.
    pub updated_at: u32,
}

impl Reputation {
    /// A reputation of score [`NEUTRAL`] at block `now`.
    pub fn new(now: u32) -> Self {
        Reputation { score: NEUTRAL, completed: 0, faults: 0, slashed: 0, updated_at: now }
    }

    /// A new provider's reputation at block `now`: the lowest score. It rises with verified
    /// work (and drifts towards neutral with time), so a provider with a bad record gains
    /// nothing by leaving and registering again under a fresh account or the same one.
    pub fn newcomer(now: u32) -> Self {
        Reputation { score: Permill::zero(), ..Self::new(now) }
    }

    /// The score at block `now` (decay applied, nothing stored).
    pub fn score_at(&self, now: u32, params: &ReputationParams) -> Permill {
        decay(self.score, now.saturating_sub(self.updated_at), params.half_life)
    }

    /// Applies the decay up to `now`, then `outcome`.
    pub fn record(&mut self, outcome: Outcome, now: u32, params: &ReputationParams) {
        let score = self.score_at(now, params);
        self.score = apply(score, outcome, params);
        match outcome {
            Outcome::Success => self.completed = self.completed.saturating_add(1),
            Outcome::Fault => self.faults = self.faults.saturating_add(1),
            Outcome::Slashed => self.slashed = self.slashed.saturating_add(1),
        }
        self.updated_at = now;
    }
}

/// The score after `outcome`, without decay.
pub fn apply(score: Permill, outcome: Outcome, params: &ReputationParams) -> Permill {
    let s = score.deconstruct();
    let one = Permill::one().deconstruct();
    Permill::from_parts(match outcome {
        Outcome::Success => s.saturating_add(params.success_gain.mul_floor(one - s)),
        Outcome::Fault => s.saturating_sub(params.fault_loss.mul_ceil(s)),
        Outcome::Slashed => s.saturating_sub(params.slash_loss.mul_ceil(s)),
    })
}

/// Moves `score` towards [`NEUTRAL`]: the distance halves every `half_life` blocks, linearly
/// interpolated within a half-life. Integer maths only, so every node agrees.
pub fn decay(score: Permill, elapsed: u32, half_life: u32) -> Permill {
    if half_life == 0 {
        return NEUTRAL;
    }
    let neutral = NEUTRAL.deconstruct() as u64;
    let s = score.deconstruct() as u64;
    let (above, mut distance) = if s >= neutral { (true, s - neutral) } else { (false, neutral - s) };
    let halvings = elapsed / half_life;
    if halvings >= 32 {
        return NEUTRAL;
    }
    distance >>= halvings;
    // Within a half-life: 2^-r ≈ 1 - r/2 for r in [0, 1).
    let r = (elapsed % half_life) as u64;
    distance -= distance * r / (2 * half_life as u64);
    let d = distance as u32;
    let n = NEUTRAL.deconstruct();
    Permill::from_parts(if above { n + d } else { n - d })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const P: ReputationParams = ReputationParams {
        success_gain: Permill::from_percent(5),
        fault_loss: Permill::from_percent(10),
        slash_loss: Permill::from_percent(50),
        half_life: 1000,
    };

    fn distance(p: Permill) -> u32 {
        p.deconstruct().abs_diff(NEUTRAL.deconstruct())
    }

    #[test]
    fn decay_halves_per_half_life() {
        let high = Permill::from_percent(90);
        assert_eq!(decay(high, 0, 1000), high);
        assert_eq!(decay(high, 1000, 1000), Permill::from_percent(70));
        assert_eq!(decay(high, 2000, 1000), Permill::from_percent(60));
        assert_eq!(decay(Permill::from_percent(10), 1000, 1000), Permill::from_percent(30));
        assert_eq!(decay(high, u32::MAX, 1000), NEUTRAL);
    }

    #[test]
    fn outcomes_move_the_score_the_right_way() {
        let mut r = Reputation::new(0);
        r.record(Outcome::Success, 0, &P);
        assert!(r.score > NEUTRAL);
        let after_success = r.score;
        r.record(Outcome::Fault, 0, &P);
        assert!(r.score < after_success);
        r.record(Outcome::Slashed, 0, &P);
        assert!(r.score < NEUTRAL);
        assert_eq!((r.completed, r.faults, r.slashed), (1, 1, 1));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        #[test]
        fn decay_never_moves_away_from_neutral(s in 0u32..=1_000_000, e1 in any::<u32>(), e2 in any::<u32>(), hl in 1u32..1_000_000) {
            let score = Permill::from_parts(s);
            let (lo, hi) = (e1.min(e2), e1.max(e2));
            let a = decay(score, lo, hl);
            let b = decay(score, hi, hl);
            prop_assert!(distance(a) <= distance(score));
            prop_assert!(distance(b) <= distance(a), "more time, no farther from neutral");
            // Never crosses neutral.
            prop_assert_eq!(a >= NEUTRAL, score >= NEUTRAL || a == NEUTRAL);
        }

        #[test]
        fn outcomes_stay_in_range_and_are_ordered(s in 0u32..=1_000_000) {
            let score = Permill::from_parts(s);
            let up = apply(score, Outcome::Success, &P);
            let fault = apply(score, Outcome::Fault, &P);
            let slash = apply(score, Outcome::Slashed, &P);
            prop_assert!(up >= score && fault <= score && slash <= fault);
        }
    }
}
