//! The marketplace: providers (stake, profile, reputation, slashing), programs (WASM uploads
//! validated in the runtime) and the market (jobs, attestation, disputes, settlement,
//! emission). Every parameter here is documented with its default in docs/PROTOCOL.md.

use frame_support::{parameter_types, traits::ConstU32, PalletId};
use frame_system::EnsureRoot;
use sp_runtime::{traits::AccountIdConversion, Perbill, Permill};
use tessera_primitives::reputation::ReputationParams;

use crate::{
    AccountId, Balance, Balances, BlockNumber, Programs, Providers, RandomnessCollectiveFlip, Runtime, RuntimeHoldReason,
    DAYS, HOURS, MINUTES, UNIT,
};

/// The protocol treasury: receives protocol fees and slashed stake.
pub const TREASURY_PALLET_ID: PalletId = PalletId(*b"tsr/trsy");

parameter_types! {
    pub TreasuryAccount: AccountId = TREASURY_PALLET_ID.into_account_truncating();
    pub const MinProviderStake: Balance = 1_000 * UNIT;
    pub const UnbondingPeriod: BlockNumber = 7 * DAYS;
    pub const HeartbeatTimeout: BlockNumber = HOURS;
    pub const SlashDeferral: BlockNumber = DAYS;
    pub const ReapAfter: BlockNumber = 7 * DAYS;
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
    /// A week without a heartbeat (and nothing live or owed) frees a registry slot.
    type ReapAfter = ReapAfter;
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

parameter_types! {
    pub const MaxFuel: u64 = 50_000_000_000;
    pub const MaxJobTimeout: BlockNumber = DAYS;
    pub const MinChallengeWindow: BlockNumber = MINUTES;
    pub const MaxChallengeWindow: BlockNumber = DAYS;
    pub const RevealTimeout: BlockNumber = 2 * MINUTES;
    pub const ReopenTimeout: BlockNumber = 5 * MINUTES;
    pub const VoteTimeout: BlockNumber = 10 * MINUTES;
    /// A committee is drawn 3 blocks after its round began: the draw's seed mixes in block
    /// hashes that did not exist when the dispute was opened (see PROTOCOL.md, "The seed").
    pub const DrawDelay: BlockNumber = 3;
    pub const VoteRevealTimeout: BlockNumber = 2 * MINUTES;
    /// Stake above 10 × the minimum buys no more weight in committee draws.
    pub const JurorStakeCap: Balance = 10 * MinProviderStake::get();
    /// Above the 1 % of a silent juror: guessing a vote and being outvoted costs more than
    /// staying silent, and both cost more than re-executing.
    pub const MinorityVoteSlash: Perbill = Perbill::from_percent(5);
    pub const ChallengeBond: Balance = 100 * UNIT;
    pub const ProtocolFee: Perbill = Perbill::from_percent(5);
    pub const CancellationCompensation: Perbill = Perbill::from_percent(10);
    pub const WrongResultSlash: Perbill = Perbill::from_percent(10);
    pub const MissedDeadlineSlash: Perbill = Perbill::from_percent(1);
    pub const ChallengerShare: Perbill = Perbill::from_percent(50);
    pub const JobDepositBase: Balance = UNIT / 10;
    pub const JobDepositPerByte: Balance = UNIT / 100_000;
    pub const ResultRetention: BlockNumber = DAYS;
    pub const InitialEraEmission: Balance = 10_000 * UNIT;
    pub const EmissionDecay: Perbill = Perbill::from_percent(1);
    /// Disputes over jobs of at most this much fuel are decided by the referee: the heaviest
    /// referee call (this fuel, the largest program, the longest input) stays under half of a
    /// block's normal-class weight (see the tests below and PROTOCOL.md).
    pub const RefereeFuelLimit: u64 = 10_000_000;
    pub const RefereeTimeout: BlockNumber = 2 * MINUTES;
    /// Half of every protocol fee (and of what losers' slashes pay the treasury) is matched
    /// by emission: nobody earns more from emission than it paid in (docs/PROTOCOL.md,
    /// "Economics").
    pub const EmissionMatch: Perbill = Perbill::from_percent(50);
    /// 0.01 TSR while the market has room (see `pricing::posting_fee` for a full one).
    pub const PostingFee: Balance = UNIT / 100;
    /// The slowest execution a job's timeout must allow for: 10^9 fuel per 6-second block
    /// (the metered interpreter on a slow core runs several times faster).
    pub const FuelPerBlock: u64 = 1_000_000_000;
    /// A quarter of a block for the deadline hook.
    pub MaxDeadlineWeight: frame_support::weights::Weight =
        crate::configs::system::RuntimeBlockWeights::get().max_block / 4;
}

impl pallet_market::Config for Runtime {
    type Currency = Balances;
    type RuntimeHoldReason = RuntimeHoldReason;
    type Providers = Providers;
    type Programs = Programs;
    /// The program registry runs its own programs with its own limits.
    type Referee = Programs;
    type RefereeFuelLimit = RefereeFuelLimit;
    /// 1 MiB, like the largest program: a remote input supplied with a referee call.
    type MaxRefereeInputLen = ConstU32<{ 1024 * 1024 }>;
    type RefereeTimeout = RefereeTimeout;
    /// Block-hash randomness: biasable by block authors, so committees are drawn from it mixed
    /// with the job id and round, and never by the party who benefits (see PROTOCOL.md).
    type Randomness = RandomnessCollectiveFlip;
    type Treasury = TreasuryAccount;
    type MaxReplicas = ConstU32<8>;
    type MaxInputLen = ConstU32<{ 64 * 1024 }>;
    type MaxUriLen = ConstU32<256>;
    type MaxOutputLen = ConstU32<{ 64 * 1024 }>;
    type MaxFuel = MaxFuel;
    type MaxLiveJobs = ConstU32<10_000>;
    type MaxTimeout = MaxJobTimeout;
    type MinChallengeWindow = MinChallengeWindow;
    type MaxChallengeWindow = MaxChallengeWindow;
    type RevealTimeout = RevealTimeout;
    type ReopenTimeout = ReopenTimeout;
    type MaxReopens = ConstU32<2>;
    type CommitteeSize = ConstU32<5>;
    type DrawDelay = DrawDelay;
    type JurorStakeCap = JurorStakeCap;
    type VoteTimeout = VoteTimeout;
    type VoteRevealTimeout = VoteRevealTimeout;
    type MinorityVoteSlash = MinorityVoteSlash;
    type MaxDisputeRounds = ConstU32<2>;
    type ChallengeBond = ChallengeBond;
    type ProtocolFee = ProtocolFee;
    type CancellationCompensation = CancellationCompensation;
    type WrongResultSlash = WrongResultSlash;
    type MissedDeadlineSlash = MissedDeadlineSlash;
    type ChallengerShare = ChallengerShare;
    type DepositBase = JobDepositBase;
    type DepositPerByte = JobDepositPerByte;
    type ResultRetention = ResultRetention;
    type MaxTransitionsPerBlock = ConstU32<512>;
    type EraLength = ConstU32<DAYS>;
    type InitialEraEmission = InitialEraEmission;
    type EmissionDecay = EmissionDecay;
    type EmissionMatch = EmissionMatch;
    type PostingFee = PostingFee;
    type FuelPerBlock = FuelPerBlock;
    type MaxDeadlineWeight = MaxDeadlineWeight;
    type WeightInfo = pallet_market::weights::SubstrateWeight<Runtime>;
    #[cfg(feature = "runtime-benchmarks")]
    type BenchmarkHelper = MarketBenchmarkHelper;
}

/// Registers providers and uploads programs for the market's benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct MarketBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_market::BenchmarkHelper<AccountId> for MarketBenchmarkHelper {
    fn register_provider(who: &AccountId) {
        use frame_support::traits::fungible::Mutate;
        Balances::set_balance(who, 1_000_000 * UNIT);
        let widest = pallet_market::widest_placement::<Runtime>();
        let profile = pallet_providers::ProfileSpec::<Runtime> {
            capacity: 64,
            price_per_fuel: 1,
            region: widest.region.unwrap_or_default(),
            labels: widest.labels,
        };
        Providers::register(crate::RuntimeOrigin::signed(who.clone()), 10 * MinProviderStake::get(), profile)
            .expect("a funded account can register");
    }

    fn program(owner: &AccountId) -> tessera_primitives::ProgramId {
        let code = tessera_primitives::program::synthetic_program(1024);
        let id = <sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash(&code);
        if pallet_programs::ProgramOf::<Runtime>::contains_key(id) {
            return id;
        }
        Programs::upload_program(crate::RuntimeOrigin::signed(owner.clone()), code)
            .expect("the synthetic program is valid");
        id
    }

    fn max_providers() -> u32 {
        1_024
    }

    fn make_ineligible(who: &AccountId) {
        Providers::set_maintenance(crate::RuntimeOrigin::signed(who.clone()), true)
            .expect("a registered provider can enter maintenance");
    }

    fn referee_program(owner: &AccountId, code_len: u32) -> tessera_primitives::ProgramId {
        use frame_support::traits::Get;
        let pages = <Runtime as pallet_programs::Config>::MaxMemoryPages::get();
        let code = tessera_executor::worst_case::program(pages, code_len);
        let id = <sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash(&code);
        if !pallet_programs::ProgramOf::<Runtime>::contains_key(id) {
            Programs::upload_program(crate::RuntimeOrigin::signed(owner.clone()), code)
                .expect("the worst-case program is valid");
        }
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frame_support::traits::Get;
    use frame_support::weights::Weight;
    use pallet_market::WeightInfo as _;

    /// Stake that backs a job must still be held when a slash for that job is applied: the
    /// unbonding period exceeds the longest a job can live plus the slash deferral.
    #[test]
    fn unbonding_outlasts_any_job_and_its_slash() {
        let timeout: BlockNumber = MaxJobTimeout::get();
        let reopens: BlockNumber = <Runtime as pallet_market::Config>::MaxReopens::get();
        let rounds: BlockNumber = <Runtime as pallet_market::Config>::MaxDisputeRounds::get();
        let longest_job = timeout // claims
            + timeout // execution
            + reopens * (ReopenTimeout::get() + timeout)
            + RevealTimeout::get()
            + MaxChallengeWindow::get()
            + RefereeTimeout::get().max(DrawDelay::get()) // first draw
            + rounds * (VoteTimeout::get() + VoteRevealTimeout::get())
            + (rounds - 1) * DrawDelay::get(); // later draws
        assert!(longest_job + SlashDeferral::get() < UnbondingPeriod::get(), "{longest_job} blocks");
    }

    /// The deadline hook spends at most `MaxDeadlineWeight` (a quarter of a block) on
    /// deadlines, and every kind of deadline, at its worst, fits in that budget, so the rule
    /// that the first due deadline is always handled never takes the hook past it.
    #[test]
    fn every_deadline_fits_in_the_hooks_quarter_block() {
        type W = pallet_market::weights::SubstrateWeight<Runtime>;
        let replicas: u32 = <Runtime as pallet_market::Config>::MaxReplicas::get();
        let jurors: u32 = <Runtime as pallet_market::Config>::CommitteeSize::get();
        let providers: u32 = <Runtime as pallet_providers::Config>::MaxProviders::get();
        let worst = [
            W::expire_job(replicas - 1),
            W::commit_deadline(replicas),
            W::reveal_deadline(replicas),
            W::settle(replicas),
            W::draw_committee(providers),
            W::resolve_dispute(replicas, jurors),
            W::prune_result(),
        ]
        .into_iter()
        .fold(Weight::zero(), |a, w| a.max(w));
        let budget = MaxDeadlineWeight::get();
        let block = crate::configs::system::RuntimeBlockWeights::get().max_block;
        assert!(worst.all_lte(budget), "worst deadline {worst:?} vs budget {budget:?}");
        assert!(budget.ref_time() <= block.ref_time() / 4, "budget {budget:?} vs block {block:?}");
    }

    /// The lockout attack's second half: a full market of jobs nobody claims, all expiring in
    /// the same block, used to hold up every other settlement for `MaxLiveJobs / 16` blocks
    /// (625, about an hour). With the weight budget the hook clears them in under 100 blocks
    /// (34, under four minutes, at the committed weights from a release benchmark node: 300
    /// expiries per block), and filling the market costs the
    /// attacker 16.4 × `MaxLiveJobs` posting fees (1,644 TSR).
    #[test]
    fn a_market_full_of_unclaimed_jobs_expires_within_minutes() {
        type W = pallet_market::weights::SubstrateWeight<Runtime>;
        let live: u32 = <Runtime as pallet_market::Config>::MaxLiveJobs::get();
        let per_block_by_weight = MaxDeadlineWeight::get().ref_time() / W::expire_job(0).ref_time();
        let cap: u32 = <Runtime as pallet_market::Config>::MaxTransitionsPerBlock::get();
        let per_block = per_block_by_weight.min(u64::from(cap));
        let blocks = u64::from(live).div_ceil(per_block);
        assert!(blocks <= 100, "{live} expiries take {blocks} blocks at {per_block} per block");
        let fill: Balance = (0..live).map(|n| tessera_primitives::pricing::posting_fee(PostingFee::get(), n, live)).sum();
        assert!(fill >= 1_600 * UNIT, "filling the market costs {fill}");
    }

    /// The heaviest referee call (the referee's fuel limit, the largest program, the longest
    /// input, settlement of the most replicas) fits in half of a normal extrinsic, so a
    /// referee call never crowds a block, and its fee is covered many times by the bond.
    #[test]
    fn the_heaviest_referee_call_fits_in_half_an_extrinsic_and_the_bond_pays_for_it() {
        use frame_support::dispatch::DispatchClass;
        type W = pallet_market::weights::SubstrateWeight<Runtime>;
        let replicas: u32 = <Runtime as pallet_market::Config>::MaxReplicas::get();
        let heaviest = pallet_market::Pallet::<Runtime>::max_referee_weight().saturating_add(W::settle(replicas));
        let normal = crate::configs::system::RuntimeBlockWeights::get()
            .get(DispatchClass::Normal)
            .max_extrinsic
            .expect("normal extrinsics are bounded");
        assert!(heaviest.all_lte(normal.saturating_div(2)), "referee {heaviest:?} vs extrinsic {normal:?}");
        let fee: Balance = pallet_transaction_payment::Pallet::<Runtime>::weight_to_fee(heaviest);
        assert!(fee.saturating_mul(10) <= ChallengeBond::get(), "referee fee {fee} vs bond {}", ChallengeBond::get());
    }
}
