//! Privileged origins and chain-level services: sudo and the randomness source.

use crate::{Runtime, RuntimeCall, RuntimeEvent};

impl pallet_sudo::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    type RuntimeCall = RuntimeCall;
    type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

/// Randomness from the last 81 block hashes. Predictable and biasable by block authors: good
/// enough to spread work, not to resist an attacking author (docs/PROTOCOL.md threat model).
/// Pallets reach it only through `frame_support::traits::Randomness`, so a VRF source can
/// replace it without touching them.
impl pallet_insecure_randomness_collective_flip::Config for Runtime {}
