//! Block production and finality: timestamp, Aura, GRANDPA.

use frame_support::traits::{ConstBool, ConstU32, ConstU64};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;

use crate::{Aura, Runtime, RuntimeEvent, SLOT_DURATION};

/// Upper bound of the validator set (Aura and GRANDPA).
pub const MAX_AUTHORITIES: u32 = 32;

impl pallet_timestamp::Config for Runtime {
    /// Milliseconds since the Unix epoch.
    type Moment = u64;
    type OnTimestampSet = Aura;
    type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
    type WeightInfo = ();
}

impl pallet_aura::Config for Runtime {
    type AuthorityId = AuraId;
    type DisabledValidators = ();
    type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
    type AllowMultipleBlocksPerSlot = ConstBool<false>;
    type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    type WeightInfo = ();
    type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
    /// No nominated staking on this chain: validators are set by governance.
    type MaxNominators = ConstU32<0>;
    type MaxSetIdSessionEntries = ConstU64<0>;
    /// Equivocation reports need a session/historical pallet; not wired (see docs).
    type KeyOwnerProof = sp_core::Void;
    type EquivocationReportSystem = ();
}
