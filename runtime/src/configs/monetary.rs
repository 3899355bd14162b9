//! The native token: balances with holds and freezes, and transaction fees.

use frame_support::{
    parameter_types,
    traits::{ConstU32, ConstU8, VariantCountOf},
    weights::IdentityFee,
};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_runtime::traits::One;

use crate::{
    Balance, Balances, Runtime, RuntimeEvent, RuntimeFreezeReason, RuntimeHoldReason, System,
    EXISTENTIAL_DEPOSIT,
};

impl pallet_balances::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    type RuntimeHoldReason = RuntimeHoldReason;
    type RuntimeFreezeReason = RuntimeFreezeReason;
    type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
    type Balance = Balance;
    /// Dust is burned (it reduces total issuance, which the market's accounting allows for).
    type DustRemoval = ();
    type ExistentialDeposit = frame_support::traits::ConstU128<EXISTENTIAL_DEPOSIT>;
    type AccountStore = System;
    type ReserveIdentifier = [u8; 8];
    type FreezeIdentifier = RuntimeFreezeReason;
    /// Locks and reserves are the deprecated currency API; Tessera uses holds and freezes.
    type MaxLocks = ConstU32<0>;
    type MaxReserves = ConstU32<0>;
    type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
    type DoneSlashHandler = ();
}

parameter_types! {
    pub FeeMultiplier: Multiplier = Multiplier::one();
}

impl pallet_transaction_payment::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    /// Fees are burned for now (no treasury pallet yet).
    type OnChargeTransaction = FungibleAdapter<Balances, ()>;
    type OperationalFeeMultiplier = ConstU8<5>;
    type WeightToFee = IdentityFee<Balance>;
    type LengthToFee = IdentityFee<Balance>;
    type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
    type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}
