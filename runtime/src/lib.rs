//! # Tessera runtime
//!
//! The state transition function of the Tessera chain: a verifiable compute marketplace built
//! from FRAME pallets. This crate compiles twice: natively (`std`, for tests and for the node to
//! embed the blob) and to WASM by its build script; the node always executes the WASM blob.
//!
//! - [`configs`]: one module per concern (system, consensus, monetary, governance).
//! - [`apis`]: the runtime APIs the node and clients call.
//! - `views`: the answers of the Tessera runtime API (jobs, providers, quotes).
//! - [`genesis_config_presets`]: the `development`, `local_testnet` and `four_validators` presets.
#![cfg_attr(not(feature = "std"), no_std)]
// `#[frame_support::runtime]` and `impl_runtime_apis!` expand to large nested code.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

use alloc::vec::Vec;

pub mod apis;
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benchmarks;
pub mod configs;
pub mod genesis_config_presets;
mod views;

use sp_runtime::{
    generic, impl_opaque_keys,
    traits::{BlakeTwo256, IdentifyAccount, Verify},
    MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// Opaque types: what the node needs to know about blocks without knowing the runtime's calls.
pub mod opaque {
    use super::*;
    use sp_runtime::traits::Hash as HashT;

    pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

    /// Opaque block header type.
    pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
    /// Opaque block type.
    pub type Block = generic::Block<Header, UncheckedExtrinsic>;
    /// Opaque block hash type.
    pub type Hash = <BlakeTwo256 as HashT>::Output;
}

impl_opaque_keys! {
    /// The session keys of a validator: Aura for authoring, GRANDPA for finality, and the
    /// auditor key its off-chain worker signs challenges with.
    pub struct SessionKeys {
        pub aura: Aura,
        pub grandpa: Grandpa,
        pub audit: Audit,
    }
}

/// The runtime's version. Bump `spec_version` on every change of runtime logic and
/// `transaction_version` on every change of call or extension encoding (in both consts: the
/// `next-spec-version` build is the same runtime one spec version later, which the network test
/// enacts on a live network; see build.rs).
#[cfg(not(feature = "next-spec-version"))]
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
    spec_name: alloc::borrow::Cow::Borrowed("tessera"),
    impl_name: alloc::borrow::Cow::Borrowed("tessera-node"),
    authoring_version: 1,
    spec_version: 106,
    impl_version: 1,
    apis: apis::RUNTIME_API_VERSIONS,
    transaction_version: 2,
    system_version: 1,
};

/// [`VERSION`] of the next spec version (feature `next-spec-version`).
#[cfg(feature = "next-spec-version")]
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
    spec_name: alloc::borrow::Cow::Borrowed("tessera"),
    impl_name: alloc::borrow::Cow::Borrowed("tessera-node"),
    authoring_version: 1,
    spec_version: 107,
    impl_version: 1,
    apis: apis::RUNTIME_API_VERSIONS,
    transaction_version: 2,
    system_version: 1,
};

/// The next spec version's blob (`WASM_BINARY` etc., see build.rs), for upgrade tests.
#[cfg(feature = "std")]
pub mod next {
    include!(concat!(env!("OUT_DIR"), "/wasm_binary_next.rs"));
}

/// Time and token units.
pub mod units {
    use super::{Balance, BlockNumber};

    /// Target block time. Aura slots have the same length.
    pub const MILLI_SECS_PER_BLOCK: u64 = 6000;
    /// Aura slot duration in milliseconds.
    pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;

    /// Blocks per minute, hour and day at the target block time.
    pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
    pub const HOURS: BlockNumber = MINUTES * 60;
    pub const DAYS: BlockNumber = HOURS * 24;

    /// Decimals of the native token (`TSR`).
    pub const TOKEN_DECIMALS: u8 = 12;
    /// Symbol of the native token.
    pub const TOKEN_SYMBOL: &str = "TSR";
    /// One whole token: 10^12 plancks.
    pub const UNIT: Balance = 1_000_000_000_000;
    pub const MILLI_UNIT: Balance = UNIT / 1_000;
    pub const MICRO_UNIT: Balance = UNIT / 1_000_000;

    /// The minimum balance an account must keep to exist.
    pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;
}
pub use units::*;

/// SS58 address format. 42 is the generic Substrate prefix, so well-known development
/// accounts (`//Alice`, …) show the addresses every tool already knows.
pub const SS58_PREFIX: u16 = 42;

/// Number of block hashes kept for mortality checks.
pub const BLOCK_HASH_COUNT: BlockNumber = 2400;

/// Signature type of transactions.
pub type Signature = MultiSignature;
/// An account id: the public key behind a [`Signature`].
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// An amount of the native token.
pub type Balance = u128;
/// Per-account transaction counter.
pub type Nonce = u32;
/// Hash type of blocks and tries.
pub type Hash = sp_core::H256;
/// A block's height.
pub type BlockNumber = u32;
/// How transactions address accounts.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header type.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block type.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// A block with its justifications.
pub type SignedBlock = generic::SignedBlock<Block>;

/// The transaction extensions: checks and payments applied to every signed transaction.
pub type TxExtension = (
    frame_system::CheckNonZeroSender<Runtime>,
    frame_system::CheckSpecVersion<Runtime>,
    frame_system::CheckTxVersion<Runtime>,
    frame_system::CheckGenesis<Runtime>,
    frame_system::CheckEra<Runtime>,
    frame_system::CheckNonce<Runtime>,
    frame_system::CheckWeight<Runtime>,
    pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
    frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
    frame_system::WeightReclaim<Runtime>,
);

/// An extrinsic as it comes off the wire.
pub type UncheckedExtrinsic =
    generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload a signer signs.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Storage migrations run on runtime upgrade: each checks the pallet's storage version, so it
/// runs once and is a no-op on a chain that starts at the new version.
type Migrations = (pallet_market::migrations::v2::MigrateV1ToV2<Runtime>,);

/// Dispatches calls to the pallets and runs the block lifecycle hooks.
pub type Executive = frame_executive::Executive<
    Runtime,
    Block,
    frame_system::ChainContext<Runtime>,
    Runtime,
    AllPalletsWithSystem,
    Migrations,
>;

#[frame_support::runtime]
mod runtime {
    #[runtime::runtime]
    #[runtime::derive(
        RuntimeCall,
        RuntimeEvent,
        RuntimeError,
        RuntimeOrigin,
        RuntimeFreezeReason,
        RuntimeHoldReason,
        RuntimeSlashReason,
        RuntimeLockId,
        RuntimeTask,
        RuntimeViewFunction
    )]
    pub struct Runtime;

    #[runtime::pallet_index(0)]
    pub type System = frame_system;

    #[runtime::pallet_index(1)]
    pub type Timestamp = pallet_timestamp;

    #[runtime::pallet_index(2)]
    pub type Aura = pallet_aura;

    #[runtime::pallet_index(3)]
    pub type Grandpa = pallet_grandpa;

    #[runtime::pallet_index(4)]
    pub type Balances = pallet_balances;

    #[runtime::pallet_index(5)]
    pub type TransactionPayment = pallet_transaction_payment;

    #[runtime::pallet_index(6)]
    pub type Sudo = pallet_sudo;

    #[runtime::pallet_index(7)]
    pub type RandomnessCollectiveFlip = pallet_insecure_randomness_collective_flip;

    #[runtime::pallet_index(8)]
    pub type Utility = pallet_utility;

    // Tessera's marketplace pallets.
    #[runtime::pallet_index(20)]
    pub type Providers = pallet_providers;

    #[runtime::pallet_index(21)]
    pub type Programs = pallet_programs;

    #[runtime::pallet_index(22)]
    pub type Market = pallet_market;

    #[runtime::pallet_index(23)]
    pub type Audit = pallet_audit;
}
