//! Privileged origins and chain-level services: sudo, batches of calls and the randomness
//! source.

use crate::{OriginCaller, Runtime, RuntimeCall, RuntimeEvent};

impl pallet_sudo::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    type RuntimeCall = RuntimeCall;
    type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

/// Batches of calls in one transaction (`batch`, `batch_all`, `force_batch`): requesters post
/// jobs in bulk, an operator funds many accounts at once, and a worker that executed a job
/// before claiming it claims and commits in one block (`batch_all(claim_slot, commit)`). Each
/// inner call is dispatched with the sender's origin and weighed as itself, plus the batch's
/// own small overhead; nothing a single call could not do is allowed.
impl pallet_utility::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    type RuntimeCall = RuntimeCall;
    type PalletsOrigin = OriginCaller;
    type WeightInfo = pallet_utility::weights::SubstrateWeight<Runtime>;
}

/// Randomness from the last 81 block hashes. Predictable and biasable by block authors: good
/// enough to spread work, not to resist an attacking author (docs/PROTOCOL.md threat model).
/// Pallets reach it only through `frame_support::traits::Randomness`, so a VRF source can
/// replace it without touching them.
impl pallet_insecure_randomness_collective_flip::Config for Runtime {}
