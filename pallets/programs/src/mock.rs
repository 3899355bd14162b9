//! A test runtime with balances and the programs pallet.

use frame_support::{
    derive_impl,
    traits::{ConstU32, ConstU64},
};
use sp_runtime::BuildStorage;

use crate as pallet_programs;

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
    pub type Programs = pallet_programs;
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

pub const MAX_PROGRAM_SIZE: u32 = 64 * 1024;
pub const DEPOSIT_BASE: Balance = 100;
pub const DEPOSIT_PER_BYTE: Balance = 1;

impl crate::Config for Test {
    type Currency = Balances;
    type RuntimeHoldReason = RuntimeHoldReason;
    type MaxProgramSize = ConstU32<MAX_PROGRAM_SIZE>;
    type MaxMemoryPages = ConstU32<16>;
    type MaxTableElements = ConstU32<64>;
    type DepositBase = ConstU64<DEPOSIT_BASE>;
    type DepositPerByte = ConstU64<DEPOSIT_PER_BYTE>;
    type WeightInfo = ();
}

/// Accounts 1..=4 hold 1,000,000 each; account 5 holds 120 (less than any deposit of a
/// program with code, which is at least `DEPOSIT_BASE` + the code's bytes).
pub fn new_test_ext() -> sp_io::TestExternalities {
    let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
    let mut balances: Vec<(AccountId, Balance)> = (1..=4).map(|a| (a, 1_000_000)).collect();
    balances.push((5, 120));
    pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
        .assimilate_storage(&mut t)
        .unwrap();
    let mut ext = sp_io::TestExternalities::new(t);
    ext.execute_with(|| System::set_block_number(1));
    ext
}
