//! A test runtime with balances and the providers pallet.

use frame_support::{
    derive_impl, parameter_types,
    traits::{ConstU32, ConstU64},
};
use frame_system::EnsureRoot;
use sp_runtime::{BuildStorage, Permill};
use tessera_primitives::reputation::ReputationParams;

use crate as pallet_providers;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Balance = u64;

#[frame_support::runtime]
mod runtime {
    #[runtime::runtime]
    #[runtime::derive(RuntimeCall, RuntimeEvent, RuntimeError, RuntimeOrigin, RuntimeHoldReason, RuntimeFreezeReason, RuntimeTask, RuntimeViewFunction)]
    pub struct Test;

    #[runtime::pallet_index(0)]
    pub type System = frame_system;
    #[runtime::pallet_index(1)]
    pub type Balances = pallet_balances;
    #[runtime::pallet_index(2)]
    pub type Providers = pallet_providers;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
    type Block = Block;
    type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
    type AccountStore = System;
    type Balance = Balance;
    type ExistentialDeposit = ConstU64<1>;
    type RuntimeHoldReason = RuntimeHoldReason;
}

pub const TREASURY: AccountId = 99;
pub const MIN_STAKE: Balance = 1_000;
pub const UNBONDING: u64 = 50;
pub const DEFERRAL: u64 = 10;
pub const HEARTBEAT_TIMEOUT: u64 = 20;
pub const ADMIN: AccountId = 100;

parameter_types! {
    pub const Treasury: AccountId = TREASURY;
    pub const Reputation: ReputationParams = ReputationParams {
        success_gain: Permill::from_percent(5),
        fault_loss: Permill::from_percent(10),
        slash_loss: Permill::from_percent(50),
        half_life: 1_000,
    };
}

impl crate::Config for Test {
    type Currency = Balances;
    type RuntimeHoldReason = RuntimeHoldReason;
    type MinStake = ConstU64<MIN_STAKE>;
    type UnbondingPeriod = ConstU64<UNBONDING>;
    type MaxUnbondingChunks = ConstU32<4>;
    type MaxProviders = ConstU32<8>;
    type MaxCapacity = ConstU32<16>;
    type MaxRegionLen = ConstU32<16>;
    type MaxLabels = ConstU32<4>;
    type MaxLabelLen = ConstU32<8>;
    type HeartbeatTimeout = ConstU64<HEARTBEAT_TIMEOUT>;
    type SlashDeferral = ConstU64<DEFERRAL>;
    type MaxSlashesPerBlock = ConstU32<2>;
    type ReapAfter = ConstU64<{ 2 * HEARTBEAT_TIMEOUT }>;
    type ReputationParams = Reputation;
    type Treasury = Treasury;
    type SlashCancelOrigin = EnsureRoot<AccountId>;
    type AdminOrigin = EnsureRoot<AccountId>;
    type WeightInfo = ();
}

/// Accounts 1..=12 hold 100,000 each; the treasury holds 1.
pub fn new_test_ext() -> sp_io::TestExternalities {
    let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
    let mut balances: Vec<(AccountId, Balance)> = (1..=12).map(|a| (a, 100_000)).collect();
    balances.push((TREASURY, 1));
    pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
        .assimilate_storage(&mut t)
        .unwrap();
    let mut ext = sp_io::TestExternalities::new(t);
    ext.execute_with(|| System::set_block_number(1));
    ext
}

/// Runs blocks up to `n`, calling the pallet's hooks and checking its invariants each block.
pub fn run_to_block(n: u64) {
    use frame_support::traits::Hooks;
    while System::block_number() < n {
        let next = System::block_number() + 1;
        System::set_block_number(next);
        Providers::on_initialize(next);
        Providers::do_try_state().expect("invariants hold");
    }
}
