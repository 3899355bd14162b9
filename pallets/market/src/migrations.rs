//! Storage migrations of the market pallet.

/// Version 1 → 2: sealed votes. A [`Dispute`](crate::Dispute) gains its `stage` and each
/// [`Juror`](crate::Juror) a `sealed` vote. A dispute without a committee is `Drawing`; one
/// with a committee is `Voting`, and the votes its jurors already cast in the open are kept as
/// cast and revealed (their seal is a placeholder no reveal is asked to open), so the jurors
/// who have not voted yet vote sealed and the tally counts everyone's vote.
pub mod v2 {
    use codec::{Decode, Encode, MaxEncodedLen};
    use frame_support::{
        migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade, BoundedVec,
    };
    use sp_core::H256;
    use tessera_primitives::Receipt;

    use crate::{Challenge, Config, Dispute, DisputeOf, DisputeStage, Juror, Pallet};

    /// A juror's seat before sealed votes.
    #[derive(Encode, Decode, MaxEncodedLen)]
    pub struct OldJuror<AccountId> {
        /// The juror.
        pub who: AccountId,
        /// Its public vote.
        pub vote: Option<Receipt>,
    }

    /// A dispute before sealed votes.
    #[derive(Encode, Decode)]
    pub struct OldDispute<T: Config> {
        /// The challenge, if any.
        pub challenge: Option<Challenge<T>>,
        /// The committee.
        pub committee: BoundedVec<OldJuror<T::AccountId>, T::CommitteeSize>,
        /// Draws so far.
        pub round: u32,
    }

    /// The translation, without the version check (see [`MigrateV1ToV2`]).
    pub struct SealedVotes<T>(core::marker::PhantomData<T>);

    impl<T: Config> UncheckedOnRuntimeUpgrade for SealedVotes<T> {
        fn on_runtime_upgrade() -> Weight {
            let mut translated = 0u64;
            DisputeOf::<T>::translate::<OldDispute<T>, _>(|_, old| {
                translated += 1;
                let stage = if old.committee.is_empty() { DisputeStage::Drawing } else { DisputeStage::Voting };
                let committee = old
                    .committee
                    .into_iter()
                    .map(|j| Juror { who: j.who, sealed: j.vote.map(|_| H256::zero()), vote: j.vote })
                    .collect::<alloc::vec::Vec<_>>();
                Some(Dispute { challenge: old.challenge, committee: BoundedVec::truncate_from(committee), round: old.round, stage })
            });
            T::DbWeight::get().reads_writes(translated.saturating_add(1), translated)
        }
    }

    /// Translates every open dispute (at most one per live job, `MaxLiveJobs`) once, when the
    /// on-chain storage version is 1.
    pub type MigrateV1ToV2<T> = VersionedMigration<1, 2, SealedVotes<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
}
