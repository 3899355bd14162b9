//! # Audit pallet
//!
//! Validators' off-chain auditors. On every block, the `offchain_worker` of a node that holds
//! an auditor key (key type `audt`) looks at the results the market agreed in that block and
//! picks each with probability `AuditRate` (or the node's own rate, see [`RATE_KEY`]), using
//! the node's local randomness ([`sp_io::offchain::random_seed`]): no provider and no other
//! validator can tell which results a node will check. It re-executes the picked results with
//! the referee engine ([`tessera_traits::Referee`], the same code the runtime's referee runs),
//! at most `AuditFuelPerBlock` fuel per block, and when its receipt differs from the agreed
//! one it submits, signed by the auditor key's account, a `challenge` of the job and (for a
//! refereeable job) the `referee` call that decides it at once.
//!
//! The auditor's account holds the challenge bond and earns what any challenger earns:
//! the bond back and `ChallengerShare` of the liars' slashes. An auditor never challenges a
//! result its own re-execution confirmed, so an honest auditor cannot lose its bond to the
//! referee. See docs/PROTOCOL.md ("Audits") for the rate, the budget and the arithmetic that
//! makes a lie lose money.
//!
//! The pallet has no calls and no storage on chain: its state (the queue of picked results,
//! the node's rate) lives in the node's offchain local storage.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub use pallet::*;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod worker;

use sp_core::crypto::KeyTypeId;

/// Key type of auditor keys.
pub const KEY_TYPE: KeyTypeId = KeyTypeId(*b"audt");

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::audit";

/// Offchain local storage (`PERSISTENT`) key of a node's own audit rate: a SCALE `u32` of
/// parts per billion (e.g. `0x00ca9a3b`, 10^9, audits every result). Set it with the
/// `offchain_localStorageSet` RPC; without it the runtime's `AuditRate` applies.
pub const RATE_KEY: &[u8] = b"tessera/audit/rate";

/// Offchain local storage key of the queue of picked results.
pub const QUEUE_KEY: &[u8] = b"tessera/audit/queue";

/// Auditor keys: sr25519, signing the auditor account's transactions.
pub mod crypto {
    use sp_runtime::{
        app_crypto::{app_crypto, sr25519},
        MultiSignature, MultiSigner,
    };
    app_crypto!(sr25519, super::KEY_TYPE);

    /// The auditor key as the offchain signer sees it.
    pub struct AuditorId;

    impl frame_system::offchain::AppCrypto<MultiSigner, MultiSignature> for AuditorId {
        type RuntimeAppPublic = Public;
        type GenericSignature = sp_core::sr25519::Signature;
        type GenericPublic = sp_core::sr25519::Public;
    }
}

#[frame_support::pallet]
pub mod pallet {
    use frame_support::pallet_prelude::*;
    use frame_system::{
        offchain::{AppCrypto, CreateSignedTransaction},
        pallet_prelude::*,
    };
    use sp_runtime::Perbill;
    use tessera_primitives::Fuel;

    #[pallet::pallet]
    pub struct Pallet<T>(_);

    #[pallet::config]
    pub trait Config:
        CreateSignedTransaction<pallet_market::Call<Self>>
        + pallet_market::Config
        + frame_system::Config<RuntimeEvent: TryInto<pallet_market::Event<Self>>>
    {
        /// The auditor key's crypto.
        type AuthorityId: AppCrypto<Self::Public, Self::Signature>;

        /// Share of agreed results an auditor re-executes, unless its node sets its own.
        #[pallet::constant]
        type AuditRate: Get<Perbill>;

        /// Most fuel an auditor re-executes per block; results with a larger fuel limit are
        /// never audited (they are left to challengers and committees).
        #[pallet::constant]
        type AuditFuelPerBlock: Get<Fuel>;

        /// Most picked results an auditor keeps waiting for its budget.
        #[pallet::constant]
        type MaxAuditQueue: Get<u32>;
    }

    #[pallet::hooks]
    impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
        fn offchain_worker(now: BlockNumberFor<T>) {
            Self::audit(now);
        }

        fn integrity_test() {
            assert!(T::AuditFuelPerBlock::get() > 0, "AuditFuelPerBlock must be positive");
            assert!(T::MaxAuditQueue::get() > 0, "MaxAuditQueue must be positive");
        }
    }

    impl<T: Config> sp_runtime::BoundToRuntimeAppPublic for Pallet<T> {
        type Public = crate::crypto::Public;
    }
}
