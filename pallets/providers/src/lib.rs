//! # Providers pallet
//!
//! The registry of compute providers: who sells compute, at what price and capacity, with how
//! much stake at risk, and how reliable they have been.
//!
//! ## Calls
//!
//! | call | origin | effect |
//! |---|---|---|
//! | [`register`](Pallet::register) | signed | hold a stake (≥ `MinStake`) and publish a profile |
//! | [`update_profile`](Pallet::update_profile) | provider | change capacity, price, region, labels |
//! | [`bond_more`](Pallet::bond_more) | provider | hold more stake |
//! | [`unbond`](Pallet::unbond) | provider | move stake into unbonding (still held and slashable) |
//! | [`withdraw_unbonded`](Pallet::withdraw_unbonded) | provider | release unbonded stake after `UnbondingPeriod` |
//! | [`deregister`](Pallet::deregister) | provider | remove the registration once nothing is held or owed |
//! | [`set_maintenance`](Pallet::set_maintenance) | provider | take no new work (not penalized) |
//! | [`heartbeat`](Pallet::heartbeat) | provider | prove liveness; missing `HeartbeatTimeout` makes a provider inactive |
//! | [`reap`](Pallet::reap) | anyone | remove a registration abandoned for `ReapAfter`, returning its stake |
//! | [`cancel_slash`](Pallet::cancel_slash) | `SlashCancelOrigin` | cancel a slash during its deferral |
//! | [`set_slashing_enabled`](Pallet::set_slashing_enabled) | `AdminOrigin` | the global slashing switch |
//!
//! ## Slashing
//!
//! Other pallets slash through [`tessera_traits::ProviderRegistry::slash`]. A slash is not
//! applied at once: it is recorded as a [`PendingSlash`] due `SlashDeferral` blocks later,
//! during which `SlashCancelOrigin` can cancel it (a bug in the protocol must not burn honest
//! stake irrecoverably). When due, what is still held is taken: the beneficiary's share to the
//! beneficiary, the rest to the treasury account. While slashing is switched off nothing is
//! scheduled and due slashes are discarded. A provider with pending slashes cannot withdraw or
//! deregister, and unbonding stake stays slashable, so a slash cannot be escaped.
//!
//! ## Liveness and reputation
//!
//! Liveness is derived, not stored: a provider is live while its last heartbeat is at most
//! `HeartbeatTimeout` blocks old, so no per-block sweep over providers is ever needed.
//! Reputation (see [`tessera_primitives::reputation`]) decays lazily towards neutral and moves
//! with outcomes the market reports.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::providers";

/// The balance type of the configured currency.
pub type BalanceOf<T> = <<T as Config>::Currency as frame_support::traits::fungible::Inspect<
    <T as frame_system::Config>::AccountId,
>>::Balance;

#[frame_support::pallet]
pub mod pallet {
    use super::*;
    use frame_support::{
        pallet_prelude::*,
        traits::{
            fungible::{Inspect, InspectHold, Mutate, MutateHold},
            tokens::Precision,
        },
    };
    use frame_system::pallet_prelude::*;
    use sp_runtime::traits::{Saturating, Zero};
    use tessera_primitives::reputation::{Reputation, ReputationParams};
    use tessera_traits::SlashReason;

    /// The in-code storage version.
    const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

    #[pallet::pallet]
    #[pallet::storage_version(STORAGE_VERSION)]
    pub struct Pallet<T>(_);

    /// Why this pallet holds funds.
    #[pallet::composite_enum]
    pub enum HoldReason {
        /// A provider's stake, active or unbonding.
        Stake,
    }

    #[pallet::config]
    pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
        /// The native currency; stake is held through it.
        type Currency: Inspect<Self::AccountId>
            + Mutate<Self::AccountId>
            + MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
            + InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

        /// The runtime's hold reasons.
        type RuntimeHoldReason: From<HoldReason>;

        /// Least active stake a provider must keep to be registered and take work.
        #[pallet::constant]
        type MinStake: Get<BalanceOf<Self>>;

        /// Blocks between `unbond` and the earliest `withdraw_unbonded`. Must exceed the
        /// longest a job can live plus `SlashDeferral`, so stake cannot leave before a slash
        /// for that job is applied.
        #[pallet::constant]
        type UnbondingPeriod: Get<BlockNumberFor<Self>>;

        /// Most unbonding chunks a provider can have at once.
        #[pallet::constant]
        type MaxUnbondingChunks: Get<u32>;

        /// Most registered providers.
        #[pallet::constant]
        type MaxProviders: Get<u32>;

        /// Most replica slots one provider may advertise.
        #[pallet::constant]
        type MaxCapacity: Get<u32>;

        /// Longest region string.
        #[pallet::constant]
        type MaxRegionLen: Get<u32>;

        /// Most labels.
        #[pallet::constant]
        type MaxLabels: Get<u32>;

        /// Longest label.
        #[pallet::constant]
        type MaxLabelLen: Get<u32>;

        /// A provider whose last heartbeat is older than this is inactive.
        #[pallet::constant]
        type HeartbeatTimeout: Get<BlockNumberFor<Self>>;

        /// Blocks between scheduling a slash and applying it.
        #[pallet::constant]
        type SlashDeferral: Get<BlockNumberFor<Self>>;

        /// Most slashes applied in one block (more are scheduled for later blocks).
        #[pallet::constant]
        type MaxSlashesPerBlock: Get<u32>;

        /// A provider without a heartbeat for this long, with no live assignments and no
        /// pending slashes, may be removed by anyone (`reap`), its stake returned: an
        /// abandoned registration must not hold a registry slot forever. Must exceed
        /// `HeartbeatTimeout` plus the longest a juror's duties last.
        #[pallet::constant]
        type ReapAfter: Get<BlockNumberFor<Self>>;

        /// How reputation moves.
        #[pallet::constant]
        type ReputationParams: Get<ReputationParams>;

        /// Receives the non-beneficiary part of every slash.
        #[pallet::constant]
        type Treasury: Get<Self::AccountId>;

        /// May cancel a pending slash.
        type SlashCancelOrigin: EnsureOrigin<Self::RuntimeOrigin>;

        /// May switch slashing on and off.
        type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

        /// Weights of this pallet's calls and hooks.
        type WeightInfo: WeightInfo;
    }

    /// Registered providers.
    ///
    /// Blake2_128Concat: keys are account ids chosen by users, so the hasher must resist
    /// crafted collisions.
    #[pallet::storage]
    pub type ProviderOf<T: Config> = CountedStorageMap<_, Blake2_128Concat, T::AccountId, ProviderInfo<T>>;

    /// Dense index `0..count` of registered providers, for sampling jurors.
    ///
    /// Twox64Concat: keys are indices the pallet assigns, not chosen by users.
    #[pallet::storage]
    pub type ProviderAt<T: Config> = StorageMap<_, Twox64Concat, u32, T::AccountId>;

    /// Slashes scheduled and not yet applied or cancelled.
    #[pallet::storage]
    pub type PendingSlashOf<T: Config> = StorageMap<_, Twox64Concat, SlashId, PendingSlash<T>>;

    /// The id the next slash gets.
    #[pallet::storage]
    pub type NextSlashId<T: Config> = StorageValue<_, SlashId, ValueQuery>;

    /// Slashes due at a block.
    #[pallet::storage]
    pub type SlashesDue<T: Config> =
        StorageMap<_, Twox64Concat, BlockNumberFor<T>, BoundedVec<SlashId, T::MaxSlashesPerBlock>, ValueQuery>;

    /// The latest block a slash is queued at: new slashes are queued no earlier, so a full
    /// block's queue spills into the next block instead of dropping the slash.
    #[pallet::storage]
    pub type SlashTail<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

    /// Default of [`SlashingEnabled`]: on.
    #[pallet::type_value]
    pub fn DefaultSlashingEnabled() -> bool {
        true
    }

    /// The global slashing switch.
    #[pallet::storage]
    pub type SlashingEnabled<T: Config> = StorageValue<_, bool, ValueQuery, DefaultSlashingEnabled>;

    #[pallet::event]
    #[pallet::generate_deposit(pub(super) fn deposit_event)]
    pub enum Event<T: Config> {
        /// A provider registered with `stake` held.
        Registered {
            /// The provider.
            who: T::AccountId,
            /// Stake held.
            stake: BalanceOf<T>,
        },
        /// A provider changed its profile.
        ProfileUpdated {
            /// The provider.
            who: T::AccountId,
        },
        /// A provider added stake.
        Bonded {
            /// The provider.
            who: T::AccountId,
            /// Added stake.
            amount: BalanceOf<T>,
        },
        /// Stake started unbonding.
        Unbonded {
            /// The provider.
            who: T::AccountId,
            /// Amount unbonding.
            amount: BalanceOf<T>,
            /// First block it can be withdrawn.
            unlock_at: BlockNumberFor<T>,
        },
        /// Unbonded stake was released to the provider's free balance.
        Withdrawn {
            /// The provider.
            who: T::AccountId,
            /// Amount released.
            amount: BalanceOf<T>,
        },
        /// A provider left the registry.
        Deregistered {
            /// The former provider.
            who: T::AccountId,
        },
        /// A provider entered or left maintenance mode.
        MaintenanceSet {
            /// The provider.
            who: T::AccountId,
            /// Whether it is now in maintenance.
            maintenance: bool,
        },
        /// A provider proved liveness.
        Heartbeat {
            /// The provider.
            who: T::AccountId,
        },
        /// A slash was scheduled.
        SlashScheduled {
            /// Its id.
            id: SlashId,
            /// The provider.
            who: T::AccountId,
            /// Amount to take.
            amount: BalanceOf<T>,
            /// Why.
            reason: SlashReason,
            /// When it is applied.
            due: BlockNumberFor<T>,
        },
        /// A slash was not scheduled because slashing is switched off.
        SlashSkipped {
            /// The provider.
            who: T::AccountId,
            /// Why it would have been slashed.
            reason: SlashReason,
        },
        /// A pending slash was cancelled.
        SlashCancelled {
            /// Its id.
            id: SlashId,
        },
        /// A due slash was dropped because slashing is switched off.
        SlashDiscarded {
            /// Its id.
            id: SlashId,
        },
        /// A slash was applied.
        Slashed {
            /// Its id.
            id: SlashId,
            /// The provider.
            who: T::AccountId,
            /// Amount taken (at most what was still held).
            amount: BalanceOf<T>,
            /// Part paid to the beneficiary.
            to_beneficiary: BalanceOf<T>,
            /// Part paid to the treasury.
            to_treasury: BalanceOf<T>,
        },
        /// An abandoned registration was removed and its stake returned.
        Reaped {
            /// The former provider.
            who: T::AccountId,
            /// Stake released to it.
            stake: BalanceOf<T>,
        },
        /// The slashing switch changed.
        SlashingSet {
            /// Whether slashing is now on.
            enabled: bool,
        },
    }

    #[pallet::error]
    pub enum Error<T> {
        /// The caller is already a registered provider.
        AlreadyRegistered,
        /// The caller is not a registered provider.
        NotRegistered,
        /// The stake (or what would remain of it) is below `MinStake`.
        StakeTooLow,
        /// Capacity must be between 1 and `MaxCapacity`.
        BadCapacity,
        /// The price per fuel must be above zero.
        ZeroPrice,
        /// The registry holds `MaxProviders` providers already.
        TooManyProviders,
        /// `MaxUnbondingChunks` chunks are unbonding already; withdraw first.
        TooManyUnbondingChunks,
        /// The amount must be above zero and at most the active stake.
        BadAmount,
        /// No unbonding chunk has reached its unlock block yet.
        NothingToWithdraw,
        /// The provider still has live assignments.
        HasLiveAssignments,
        /// The provider has slashes pending.
        HasPendingSlashes,
        /// Stake is still bonded or unbonding; unbond and withdraw everything first.
        StillStaked,
        /// No pending slash has this id.
        NoSuchSlash,
        /// The maintenance flag already has this value.
        MaintenanceUnchanged,
        /// The capacity cannot go below the live assignments.
        CapacityBelowAssignments,
        /// The provider sent a heartbeat within `ReapAfter` blocks: it cannot be reaped.
        RecentlyLive,
        /// The region is longer than `MaxRegionLen`.
        RegionTooLong,
        /// More labels than `MaxLabels`.
        TooManyLabels,
        /// A label is longer than `MaxLabelLen`.
        LabelTooLong,
    }

    #[pallet::hooks]
    impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
        fn on_initialize(now: BlockNumberFor<T>) -> Weight {
            let due = SlashesDue::<T>::take(now);
            let n = due.len() as u32;
            for id in due {
                Self::apply_slash(id);
            }
            T::WeightInfo::on_initialize_slashes(n)
        }

        fn integrity_test() {
            assert!(!T::MinStake::get().is_zero(), "MinStake must be above zero");
            assert!(T::MaxCapacity::get() > 0, "MaxCapacity must be above zero");
            assert!(T::MaxSlashesPerBlock::get() > 0, "MaxSlashesPerBlock must be above zero");
            assert!(
                T::UnbondingPeriod::get() > T::SlashDeferral::get(),
                "UnbondingPeriod must exceed SlashDeferral"
            );
            assert!(T::ReapAfter::get() > T::HeartbeatTimeout::get(), "ReapAfter must exceed HeartbeatTimeout");
        }

        #[cfg(feature = "try-runtime")]
        fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
            Self::do_try_state()
        }
    }

    #[pallet::call]
    impl<T: Config> Pallet<T> {
        /// Registers the caller as a provider, holding `stake` (≥ `MinStake`).
        ///
        /// Origin: signed, not yet a provider.
        #[pallet::call_index(0)]
        #[pallet::weight(T::WeightInfo::register())]
        pub fn register(origin: OriginFor<T>, stake: BalanceOf<T>, profile: ProfileSpec<T>) -> DispatchResult {
            let who = ensure_signed(origin)?;
            let profile = Self::bound_profile(profile)?;
            ensure!(!ProviderOf::<T>::contains_key(&who), Error::<T>::AlreadyRegistered);
            ensure!(stake >= T::MinStake::get(), Error::<T>::StakeTooLow);
            Self::check_profile(&profile, 0)?;
            let index = ProviderOf::<T>::count();
            ensure!(index < T::MaxProviders::get(), Error::<T>::TooManyProviders);

            T::Currency::hold(&HoldReason::Stake.into(), &who, stake)?;
            let now = frame_system::Pallet::<T>::block_number();
            ProviderOf::<T>::insert(
                &who,
                ProviderInfo {
                    stake,
                    unbonding: BoundedVec::new(),
                    profile,
                    maintenance: false,
                    last_heartbeat: now,
                    live_assignments: 0,
                    pending_slashes: 0,
                    // The lowest score, not the neutral one: reputation is earned, so
                    // leaving and registering again never washes a bad record.
                    reputation: Reputation::newcomer(Self::block_u32(now)),
                    index,
                    registered_at: now,
                },
            );
            ProviderAt::<T>::insert(index, &who);
            Self::deposit_event(Event::Registered { who, stake });
            Ok(())
        }

        /// Replaces the caller's profile.
        ///
        /// Origin: a provider.
        #[pallet::call_index(1)]
        #[pallet::weight(T::WeightInfo::update_profile())]
        pub fn update_profile(origin: OriginFor<T>, profile: ProfileSpec<T>) -> DispatchResult {
            let who = ensure_signed(origin)?;
            let profile = Self::bound_profile(profile)?;
            ProviderOf::<T>::try_mutate(&who, |p| -> DispatchResult {
                let p = p.as_mut().ok_or(Error::<T>::NotRegistered)?;
                Self::check_profile(&profile, p.live_assignments)?;
                p.profile = profile;
                Ok(())
            })?;
            Self::deposit_event(Event::ProfileUpdated { who });
            Ok(())
        }

        /// Holds `amount` more as active stake.
        ///
        /// Origin: a provider.
        #[pallet::call_index(2)]
        #[pallet::weight(T::WeightInfo::bond_more())]
        pub fn bond_more(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
            let who = ensure_signed(origin)?;
            ensure!(!amount.is_zero(), Error::<T>::BadAmount);
            ProviderOf::<T>::try_mutate(&who, |p| -> DispatchResult {
                let p = p.as_mut().ok_or(Error::<T>::NotRegistered)?;
                T::Currency::hold(&HoldReason::Stake.into(), &who, amount)?;
                p.stake = p.stake.saturating_add(amount);
                Ok(())
            })?;
            Self::deposit_event(Event::Bonded { who, amount });
            Ok(())
        }

        /// Starts unbonding `amount` of active stake. What remains active must be zero (the
        /// provider is leaving and takes no new work) or at least `MinStake`. Unbonding stake
        /// stays held and slashable for `UnbondingPeriod` blocks.
        ///
        /// Origin: a provider.
        #[pallet::call_index(3)]
        #[pallet::weight(T::WeightInfo::unbond())]
        pub fn unbond(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
            let who = ensure_signed(origin)?;
            let unlock_at = frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
            ProviderOf::<T>::try_mutate(&who, |p| -> DispatchResult {
                let p = p.as_mut().ok_or(Error::<T>::NotRegistered)?;
                ensure!(!amount.is_zero() && amount <= p.stake, Error::<T>::BadAmount);
                let remaining = p.stake.saturating_sub(amount);
                ensure!(remaining.is_zero() || remaining >= T::MinStake::get(), Error::<T>::StakeTooLow);
                p.unbonding
                    .try_push(Unbonding { amount, unlock_at })
                    .map_err(|_| Error::<T>::TooManyUnbondingChunks)?;
                p.stake = remaining;
                Ok(())
            })?;
            Self::deposit_event(Event::Unbonded { who, amount, unlock_at });
            Ok(())
        }

        /// Releases every unbonding chunk whose unlock block has come. Not while the provider
        /// has live assignments or pending slashes: that stake may still be owed.
        ///
        /// Origin: a provider.
        #[pallet::call_index(4)]
        #[pallet::weight(T::WeightInfo::withdraw_unbonded(T::MaxUnbondingChunks::get()))]
        pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
            let who = ensure_signed(origin)?;
            let now = frame_system::Pallet::<T>::block_number();
            let amount = ProviderOf::<T>::try_mutate(&who, |p| -> Result<BalanceOf<T>, DispatchError> {
                let p = p.as_mut().ok_or(Error::<T>::NotRegistered)?;
                ensure!(p.live_assignments == 0, Error::<T>::HasLiveAssignments);
                ensure!(p.pending_slashes == 0, Error::<T>::HasPendingSlashes);
                let mut amount = BalanceOf::<T>::zero();
                p.unbonding.retain(|c| {
                    if c.unlock_at <= now {
                        amount = amount.saturating_add(c.amount);
                        false
                    } else {
                        true
                    }
                });
                ensure!(!amount.is_zero(), Error::<T>::NothingToWithdraw);
                T::Currency::release(&HoldReason::Stake.into(), &who, amount, Precision::Exact)?;
                Ok(amount)
            })?;
            Self::deposit_event(Event::Withdrawn { who, amount });
            Ok(())
        }

        /// Removes the caller from the registry. Everything must be unbonded and withdrawn
        /// first, with no live assignments and no pending slashes.
        ///
        /// Origin: a provider.
        #[pallet::call_index(5)]
        #[pallet::weight(T::WeightInfo::deregister())]
        pub fn deregister(origin: OriginFor<T>) -> DispatchResult {
            let who = ensure_signed(origin)?;
            let p = ProviderOf::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
            ensure!(p.live_assignments == 0, Error::<T>::HasLiveAssignments);
            ensure!(p.pending_slashes == 0, Error::<T>::HasPendingSlashes);
            ensure!(p.total_held().is_zero(), Error::<T>::StillStaked);
            Self::remove_provider(&who, p.index);
            Self::deposit_event(Event::Deregistered { who });
            Ok(())
        }

        /// Enters or leaves maintenance mode: no new assignments, no liveness penalty.
        ///
        /// Origin: a provider.
        #[pallet::call_index(6)]
        #[pallet::weight(T::WeightInfo::set_maintenance())]
        pub fn set_maintenance(origin: OriginFor<T>, maintenance: bool) -> DispatchResult {
            let who = ensure_signed(origin)?;
            let now = frame_system::Pallet::<T>::block_number();
            ProviderOf::<T>::try_mutate(&who, |p| -> DispatchResult {
                let p = p.as_mut().ok_or(Error::<T>::NotRegistered)?;
                ensure!(p.maintenance != maintenance, Error::<T>::MaintenanceUnchanged);
                p.maintenance = maintenance;
                // Leaving maintenance counts as a heartbeat: the provider is evidently there.
                if !maintenance {
                    p.last_heartbeat = now;
                }
                Ok(())
            })?;
            Self::deposit_event(Event::MaintenanceSet { who, maintenance });
            Ok(())
        }

        /// Proves the provider is live. A provider without a heartbeat for
        /// `HeartbeatTimeout` blocks is inactive: it cannot claim work or serve as juror.
        ///
        /// Origin: a provider.
        ///
        /// Free of fees when the previous heartbeat is at least half a `HeartbeatTimeout` old
        /// (what a provider needs to stay live); more frequent heartbeats pay.
        #[pallet::call_index(7)]
        #[pallet::weight(T::WeightInfo::heartbeat())]
        pub fn heartbeat(origin: OriginFor<T>) -> DispatchResultWithPostInfo {
            let who = ensure_signed(origin)?;
            let now = frame_system::Pallet::<T>::block_number();
            let due = ProviderOf::<T>::try_mutate(&who, |p| -> Result<bool, DispatchError> {
                let p = p.as_mut().ok_or(Error::<T>::NotRegistered)?;
                let half: BlockNumberFor<T> = T::HeartbeatTimeout::get() / 2u32.into();
                let due = now.saturating_sub(p.last_heartbeat) >= half;
                p.last_heartbeat = now;
                Ok(due)
            })?;
            Self::deposit_event(Event::Heartbeat { who });
            Ok(if due { Pays::No } else { Pays::Yes }.into())
        }

        /// Cancels a pending slash.
        ///
        /// Origin: `SlashCancelOrigin`.
        #[pallet::call_index(8)]
        #[pallet::weight(T::WeightInfo::cancel_slash())]
        pub fn cancel_slash(origin: OriginFor<T>, id: SlashId) -> DispatchResult {
            T::SlashCancelOrigin::ensure_origin(origin)?;
            let slash = PendingSlashOf::<T>::take(id).ok_or(Error::<T>::NoSuchSlash)?;
            SlashesDue::<T>::mutate(slash.due, |ids| ids.retain(|x| *x != id));
            Self::note_slash_done(&slash.provider);
            Self::deposit_event(Event::SlashCancelled { id });
            Ok(())
        }

        /// Removes an abandoned registration: `who` sent no heartbeat for `ReapAfter` blocks
        /// and has no live assignments and no pending slashes, so nothing it did can still be
        /// slashed. Its whole stake (active and unbonding) is released to it and its registry
        /// slot freed. Anyone may call; free of fees when it succeeds.
        ///
        /// Origin: signed.
        #[pallet::call_index(10)]
        #[pallet::weight(T::WeightInfo::reap())]
        pub fn reap(origin: OriginFor<T>, who: T::AccountId) -> DispatchResultWithPostInfo {
            ensure_signed(origin)?;
            let p = ProviderOf::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
            let now = frame_system::Pallet::<T>::block_number();
            ensure!(now.saturating_sub(p.last_heartbeat) > T::ReapAfter::get(), Error::<T>::RecentlyLive);
            ensure!(p.live_assignments == 0, Error::<T>::HasLiveAssignments);
            ensure!(p.pending_slashes == 0, Error::<T>::HasPendingSlashes);
            let stake = p.total_held();
            T::Currency::release(&HoldReason::Stake.into(), &who, stake, Precision::Exact)?;
            Self::remove_provider(&who, p.index);
            Self::deposit_event(Event::Reaped { who, stake });
            Ok(Pays::No.into())
        }

        /// Switches slashing on or off for the whole chain.
        ///
        /// Origin: `AdminOrigin`.
        #[pallet::call_index(9)]
        #[pallet::weight(T::WeightInfo::set_slashing_enabled())]
        pub fn set_slashing_enabled(origin: OriginFor<T>, enabled: bool) -> DispatchResult {
            T::AdminOrigin::ensure_origin(origin)?;
            SlashingEnabled::<T>::put(enabled);
            Self::deposit_event(Event::SlashingSet { enabled });
            Ok(())
        }
    }
}
