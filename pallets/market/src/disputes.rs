//! Disputes: opening one (replicas disagreed, or a challenge), drawing committees, and
//! tallying their votes. A dispute's record lives in [`DisputeOf`] only while the job is
//! `Disputed`; whoever ends the job gets the challenge passed along, not read back.

use codec::Encode;
use frame_support::{pallet_prelude::*, traits::Randomness};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_crypto_hashing::blake2_256;
use sp_runtime::traits::Saturating;
use tessera_primitives::{sampling, verdict, JobId};
use tessera_traits::{Outcome as Reputation, ProviderRegistry};

use crate::{pallet::*, types::*};

/// Domain separator of committee seeds.
const JURY_DOMAIN: &[u8] = b"tessera/jury/v1";

impl<T: Config> Pallet<T> {
    /// Opens a dispute over `job` (with the `challenge` that caused it, if any). A refereeable
    /// job waits `RefereeTimeout` blocks for a `referee` call; any other job's committee is
    /// drawn in the next block's `on_initialize`, so the call that opens a dispute stays cheap
    /// whatever the number of providers. Either way, a deadline with no committee yet draws one.
    pub(crate) fn open_dispute(id: JobId, job: &mut Job<T>, challenge: Option<Challenge<T>>, now: BlockNumberFor<T>) {
        let challenger = challenge.as_ref().map(|c| c.challenger.clone());
        DisputeOf::<T>::insert(id, Dispute { challenge, committee: BoundedVec::new(), round: 0 });
        let wait = if Self::is_refereeable(job) { T::RefereeTimeout::get() } else { 1u32.into() };
        Self::transition(id, job, Phase::Disputed(now.saturating_add(wait)));
        Self::deposit_event(Event::DisputeOpened { job: id, challenger });
    }

    /// Draws a committee for the dispute's next round and gives it `VoteTimeout` blocks, or
    /// ends the job as inconclusive when no eligible juror is left.
    pub(crate) fn draw_or_give_up(id: JobId, mut job: Job<T>, mut dispute: Dispute<T>, now: BlockNumberFor<T>) {
        dispute.round = dispute.round.saturating_add(1);
        let committee = Self::draw_committee(id, &job, &dispute);
        if committee.is_empty() {
            Self::end_unsettled(id, job, Outcome::Inconclusive, |_| false, dispute.challenge);
            return;
        }
        let vote_until = now.saturating_add(T::VoteTimeout::get());
        let jurors: BoundedVec<T::AccountId, T::CommitteeSize> =
            BoundedVec::truncate_from(committee.iter().map(|j| j.who.clone()).collect());
        dispute.committee = committee;
        Self::transition(id, &mut job, Phase::Disputed(vote_until));
        let round = dispute.round;
        DisputeOf::<T>::insert(id, dispute);
        JobOf::<T>::insert(id, job);
        Self::deposit_event(Event::CommitteeDrawn { job: id, round, jurors, vote_until });
    }

    /// Draws up to `CommitteeSize` distinct active providers, none of them the requester, a
    /// replica or the challenger, from the runtime's randomness mixed with the job and round.
    pub(crate) fn draw_committee(id: JobId, job: &Job<T>, dispute: &Dispute<T>) -> BoundedVec<Juror<T>, T::CommitteeSize> {
        let subject = (JURY_DOMAIN, id, dispute.round).encode();
        let (random, _) = T::Randomness::random(&subject);
        let seed = blake2_256(&(JURY_DOMAIN, random, id, dispute.round).encode());
        let challenger = dispute.challenge.as_ref().map(|c| &c.challenger);
        let excluded = |who: &T::AccountId| {
            who == &job.requester || job.slot_of(who).is_some() || challenger == Some(who)
        };
        // The accounts of the indices found eligible, so the drawn ones are not read again.
        let mut accounts: alloc::collections::btree_map::BTreeMap<u32, T::AccountId> = Default::default();
        let drawn = sampling::sample_distinct(&seed, T::Providers::provider_count(), T::CommitteeSize::get(), |i| {
            match T::Providers::provider_at(i) {
                Some(who) if !excluded(&who) && T::Providers::is_active(&who) => {
                    accounts.insert(i, who);
                    true
                },
                _ => false,
            }
        });
        BoundedVec::truncate_from(
            drawn
                .into_iter()
                .filter_map(|i| accounts.remove(&i))
                .map(|who| Juror { who, vote: None })
                .collect(),
        )
    }

    /// Counts a committee's votes: silent jurors are faulted; a strict majority of the drawn
    /// committee settles the job by its receipt; otherwise the next round is drawn, or after
    /// `MaxDisputeRounds` the job ends inconclusive.
    pub(crate) fn tally(id: JobId, job: Job<T>, mut dispute: Dispute<T>, now: BlockNumberFor<T>) {
        for juror in dispute.committee.iter().filter(|j| j.vote.is_none()) {
            Self::fault(id, &juror.who, Duty::Vote);
        }
        let size = dispute.committee.len() as u32;
        match verdict::tally(dispute.committee.iter().filter_map(|j| j.vote.as_ref()), size) {
            Some(receipt) => {
                Self::deposit_event(Event::DisputeResolved { job: id, receipt });
                for juror in dispute.committee.iter() {
                    match juror.vote {
                        Some(v) if v == receipt => {
                            let reward = Self::mint_reward(&juror.who, receipt.fuel_used);
                            T::Providers::record_outcome(&juror.who, Reputation::Success);
                            Self::deposit_event(Event::JurorRewarded { job: id, juror: juror.who.clone(), reward });
                        },
                        Some(_) => T::Providers::record_outcome(&juror.who, Reputation::Fault),
                        None => {},
                    }
                }
                Self::settle(id, job, receipt, dispute.challenge);
            },
            None => {
                Self::deposit_event(Event::NoMajority { job: id, round: dispute.round });
                if dispute.round < T::MaxDisputeRounds::get() {
                    dispute.committee.clear();
                    Self::draw_or_give_up(id, job, dispute, now);
                } else {
                    Self::end_unsettled(id, job, Outcome::Inconclusive, |_| false, dispute.challenge);
                }
            },
        }
    }
}
