//! Disputes: opening one (replicas disagreed, or a challenge), drawing committees, sealed
//! votes and their reveals, and the tally. A dispute's record lives in [`DisputeOf`] only while
//! the job is `Disputed`; whoever ends the job gets the challenge passed along, not read back.
//!
//! A round goes through [`DisputeStage`]s, each ending at the job's `Disputed` deadline at the
//! latest: `Drawing` (the referee may decide a refereeable job in round 0; at the deadline a
//! committee is drawn), `Voting` (sealed votes; the last one ends it early), `Revealing` (jurors
//! open their votes; the last one moves the tally to the next block). No majority starts the
//! next round with a new `Drawing` stage.

use codec::Encode;
use frame_support::{pallet_prelude::*, traits::Randomness};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_crypto_hashing::blake2_256;
use alloc::vec::Vec;
use sp_runtime::{
    traits::{Saturating, Zero},
    SaturatedConversion,
};
use tessera_primitives::{sampling, verdict, JobId};
use tessera_traits::{Outcome as Reputation, ProviderRegistry, SlashReason};

use crate::{pallet::*, types::*};

/// Domain separator of committee seeds.
const JURY_DOMAIN: &[u8] = b"tessera/jury/v1";

impl<T: Config> Pallet<T> {
    /// Opens a dispute over `job` (with the `challenge` that caused it, if any). A refereeable
    /// job waits `RefereeTimeout` blocks for a `referee` call, any other job `DrawDelay` blocks;
    /// then `on_initialize` draws the committee, so the call that opens a dispute stays cheap
    /// whatever the number of providers, and the draw's seed is not known when it is opened.
    pub(crate) fn open_dispute(id: JobId, job: &mut Job<T>, challenge: Option<Challenge<T>>, now: BlockNumberFor<T>) {
        let challenger = challenge.as_ref().map(|c| c.challenger.clone());
        DisputeOf::<T>::insert(
            id,
            Dispute { challenge, committee: BoundedVec::new(), round: 0, stage: DisputeStage::Drawing },
        );
        let wait = if Self::is_refereeable(job) { T::RefereeTimeout::get().max(T::DrawDelay::get()) } else { T::DrawDelay::get() };
        Self::transition(id, job, Phase::Disputed(now.saturating_add(wait)));
        Self::deposit_event(Event::DisputeOpened { job: id, challenger });
    }

    /// A `Disputed` deadline came: the dispute's stage says what is due.
    pub(crate) fn on_dispute_deadline(id: JobId, mut job: Job<T>, mut dispute: Dispute<T>, now: BlockNumberFor<T>) {
        match dispute.stage {
            DisputeStage::Drawing => Self::draw_or_give_up(id, job, dispute, now),
            DisputeStage::Voting if dispute.committee.iter().any(|j| j.sealed.is_some()) => {
                Self::open_vote_reveals(id, &mut job, &mut dispute, now);
                DisputeOf::<T>::insert(id, dispute);
                JobOf::<T>::insert(id, job);
            },
            // Nobody voted (nothing to reveal), or the reveals are over.
            DisputeStage::Voting | DisputeStage::Revealing => Self::tally(id, job, dispute, now),
        }
    }

    /// Draws a committee for the dispute's next round and gives it `VoteTimeout` blocks, or
    /// ends the job as inconclusive when no eligible juror is left.
    pub(crate) fn draw_or_give_up(id: JobId, mut job: Job<T>, mut dispute: Dispute<T>, now: BlockNumberFor<T>) {
        dispute.round = dispute.round.saturating_add(1);
        let committee = Self::draw_committee(id, &job, &dispute);
        if committee.is_empty() {
            Self::end_unsettled(id, job, Outcome::Inconclusive, dispute.challenge);
            return;
        }
        let vote_until = now.saturating_add(T::VoteTimeout::get());
        let jurors: BoundedVec<T::AccountId, T::CommitteeSize> =
            BoundedVec::truncate_from(committee.iter().map(|j| j.who.clone()).collect());
        dispute.committee = committee;
        dispute.stage = DisputeStage::Voting;
        Self::transition(id, &mut job, Phase::Disputed(vote_until));
        let round = dispute.round;
        DisputeOf::<T>::insert(id, dispute);
        JobOf::<T>::insert(id, job);
        Self::deposit_event(Event::CommitteeDrawn { job: id, round, jurors, vote_until });
    }

    /// The seed of a dispute round's draw: the runtime's randomness as of the block that draws
    /// (at least `DrawDelay` blocks after the round began), mixed with the job and round.
    pub(crate) fn committee_seed(id: JobId, round: u32) -> [u8; 32] {
        let subject = (JURY_DOMAIN, id, round).encode();
        let (random, _) = T::Randomness::random(&subject);
        blake2_256(&(JURY_DOMAIN, random, id, round).encode())
    }

    /// Draws up to `CommitteeSize` distinct active providers, none of them the requester, a
    /// replica or the challenger, each with probability proportional to its active stake
    /// capped at `JurorStakeCap` ([`sampling::sample_weighted`]). The job's placement does not
    /// restrict the draw: jurors only verify, and a narrow placement must not shrink the pool
    /// a committee is drawn from.
    pub(crate) fn draw_committee(id: JobId, job: &Job<T>, dispute: &Dispute<T>) -> BoundedVec<Juror<T>, T::CommitteeSize> {
        let seed = Self::committee_seed(id, dispute.round);
        let challenger = dispute.challenge.as_ref().map(|c| &c.challenger);
        let excluded = |who: &T::AccountId| {
            who == &job.requester || job.slot_of(who).is_some() || challenger == Some(who)
        };
        let cap: u128 = T::JurorStakeCap::get().saturated_into();
        // The accounts of the indices read with a positive weight, so drawn ones are not read again.
        let mut accounts: alloc::collections::btree_map::BTreeMap<u32, T::AccountId> = Default::default();
        let drawn = sampling::sample_weighted(&seed, T::Providers::provider_count(), T::CommitteeSize::get(), cap, |i| {
            match T::Providers::provider_at(i) {
                Some(who) if !excluded(&who) && T::Providers::is_active(&who) => {
                    let weight: u128 = T::Providers::stake_of(&who).saturated_into();
                    if weight > 0 {
                        accounts.insert(i, who);
                    }
                    weight
                },
                _ => 0,
            }
        });
        BoundedVec::truncate_from(
            drawn
                .into_iter()
                .filter_map(|i| accounts.remove(&i))
                .map(|who| Juror { who, sealed: None, vote: None })
                .collect(),
        )
    }

    /// Voting is over (every juror voted, or the deadline came with some votes): jurors who
    /// voted have `VoteRevealTimeout` blocks to open their votes.
    pub(crate) fn open_vote_reveals(id: JobId, job: &mut Job<T>, dispute: &mut Dispute<T>, now: BlockNumberFor<T>) {
        let reveal_until = now.saturating_add(T::VoteRevealTimeout::get());
        dispute.stage = DisputeStage::Revealing;
        Self::transition(id, job, Phase::Disputed(reveal_until));
        Self::deposit_event(Event::VoteRevealOpened { job: id, round: dispute.round, reveal_until });
    }

    /// Counts a committee's revealed votes. Jurors who did not vote, or did not reveal, are
    /// faulted. A strict majority of the drawn committee settles the job by its receipt: its
    /// jurors are paid in settlement (a rejected challenger's bond, emission matched to the
    /// losers' slashes), jurors who revealed another receipt lose `MinorityVoteSlash`.
    /// Otherwise the next round starts (its draw `DrawDelay` blocks later), or after
    /// `MaxDisputeRounds` the job ends inconclusive.
    pub(crate) fn tally(id: JobId, mut job: Job<T>, mut dispute: Dispute<T>, now: BlockNumberFor<T>) {
        for juror in dispute.committee.iter() {
            match (juror.sealed, juror.vote) {
                (None, _) => Self::fault(id, &juror.who, Duty::Vote, Zero::zero()),
                (Some(_), None) => Self::fault(id, &juror.who, Duty::RevealVote, Zero::zero()),
                (Some(_), Some(_)) => {},
            }
        }
        let size = dispute.committee.len() as u32;
        match verdict::tally(dispute.committee.iter().filter_map(|j| j.vote.as_ref()), size) {
            Some(receipt) => {
                Self::deposit_event(Event::DisputeResolved { job: id, receipt });
                let mut majority: Vec<T::AccountId> = Vec::new();
                for juror in dispute.committee.iter() {
                    match juror.vote {
                        Some(v) if v == receipt => majority.push(juror.who.clone()),
                        Some(_) => {
                            // Nobody was harmed by an overruled vote, so the slash goes to the
                            // treasury: paying the majority from it would reward outvoting.
                            let slashed = T::Providers::slash(
                                &juror.who,
                                T::MinorityVoteSlash::get(),
                                None,
                                SlashReason::MinorityVote,
                            );
                            T::Providers::record_outcome(&juror.who, Reputation::Fault);
                            Self::deposit_event(Event::JurorSlashed { job: id, juror: juror.who.clone(), slashed });
                        },
                        None => {},
                    }
                }
                Self::settle(id, job, receipt, dispute.challenge, &majority);
            },
            None => {
                Self::deposit_event(Event::NoMajority { job: id, round: dispute.round });
                if dispute.round < T::MaxDisputeRounds::get() {
                    dispute.committee.clear();
                    dispute.stage = DisputeStage::Drawing;
                    Self::transition(id, &mut job, Phase::Disputed(now.saturating_add(T::DrawDelay::get())));
                    DisputeOf::<T>::insert(id, dispute);
                    JobOf::<T>::insert(id, job);
                } else {
                    Self::end_unsettled(id, job, Outcome::Inconclusive, dispute.challenge);
                }
            },
        }
    }
}
