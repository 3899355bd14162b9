//! The marketplace: providers (stake, profile, reputation, slashing) and programs (WASM
//! uploads validated in the runtime). Every parameter here is
//! documented with its default in docs/PROTOCOL.md.

use frame_support::{parameter_types, traits::ConstU32, PalletId};
use frame_system::EnsureRoot;
use sp_runtime::{traits::AccountIdConversion, Permill};
use tessera_primitives::reputation::ReputationParams;

use crate::{AccountId, Balance, Balances, BlockNumber, Runtime, RuntimeHoldReason, DAYS, HOURS, UNIT};

/// The protocol treasury: receives protocol fees and slashed stake.
pub const TREASURY_PALLET_ID: PalletId = PalletId(*b"tsr/trsy");

parameter_types! {
    pub TreasuryAccount: AccountId = TREASURY_PALLET_ID.into_account_truncating();
    pub const MinProviderStake: Balance = 1_000 * UNIT;
    pub const UnbondingPeriod: BlockNumber = 7 * DAYS;
    pub const HeartbeatTimeout: BlockNumber = HOURS;
    pub const SlashDeferral: BlockNumber = DAYS;
    pub const ProgramDepositBase: Balance = UNIT;
    pub const ProgramDepositPerByte: Balance = UNIT / 100_000;
    pub const ProviderReputation: ReputationParams = ReputationParams {
        success_gain: Permill::from_percent(2),
        fault_loss: Permill::from_percent(10),
        slash_loss: Permill::from_percent(50),
        half_life: 30 * DAYS,
    };
}

impl pallet_providers::Config for Runtime {
    type Currency = Balances;
    type RuntimeHoldReason = RuntimeHoldReason;
    type MinStake = MinProviderStake;
    type UnbondingPeriod = UnbondingPeriod;
    type MaxUnbondingChunks = ConstU32<16>;
    type MaxProviders = ConstU32<1_024>;
    type MaxCapacity = ConstU32<64>;
    type MaxRegionLen = ConstU32<32>;
    type MaxLabels = ConstU32<8>;
    type MaxLabelLen = ConstU32<32>;
    type HeartbeatTimeout = HeartbeatTimeout;
    type SlashDeferral = SlashDeferral;
    type MaxSlashesPerBlock = ConstU32<32>;
    type ReputationParams = ProviderReputation;
    type Treasury = TreasuryAccount;
    /// Root (sudo today, governance later) cancels slashes and flips the switch.
    type SlashCancelOrigin = EnsureRoot<AccountId>;
    type AdminOrigin = EnsureRoot<AccountId>;
    type WeightInfo = pallet_providers::weights::SubstrateWeight<Runtime>;
}

impl pallet_programs::Config for Runtime {
    type Currency = Balances;
    type RuntimeHoldReason = RuntimeHoldReason;
    /// 1 MiB: well inside a block's normal-class length (3.75 MiB).
    type MaxProgramSize = ConstU32<{ 1024 * 1024 }>;
    /// 16 MiB of linear memory.
    type MaxMemoryPages = ConstU32<256>;
    type MaxTableElements = ConstU32<4_096>;
    type DepositBase = ProgramDepositBase;
    type DepositPerByte = ProgramDepositPerByte;
    type WeightInfo = pallet_programs::weights::SubstrateWeight<Runtime>;
}
