//! A test runtime with balances, the real providers and programs pallets, and the market.

use frame_support::{
    assert_ok, derive_impl, parameter_types,
    traits::{ConstU32, ConstU64, Hooks, Randomness},
};
use frame_system::EnsureRoot;
use sp_core::H256;
use sp_runtime::{BuildStorage, Perbill, Permill};
use tessera_primitives::{program::synthetic_program, reputation::ReputationParams, ProgramId};

use crate as pallet_market;

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
    #[runtime::pallet_index(3)]
    pub type Programs = pallet_programs;
    #[runtime::pallet_index(4)]
    pub type Market = pallet_market;
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
pub const SLASH_DEFERRAL: u64 = 10;

parameter_types! {
    pub const Treasury: AccountId = TREASURY;
    pub const Reputation: ReputationParams = ReputationParams {
        success_gain: Permill::from_percent(5),
        fault_loss: Permill::from_percent(10),
        slash_loss: Permill::from_percent(50),
        half_life: 1_000,
    };
}

impl pallet_providers::Config for Test {
    type Currency = Balances;
    type RuntimeHoldReason = RuntimeHoldReason;
    type MinStake = ConstU64<MIN_STAKE>;
    type UnbondingPeriod = ConstU64<200>;
    type MaxUnbondingChunks = ConstU32<4>;
    type MaxProviders = ConstU32<32>;
    type MaxCapacity = ConstU32<8>;
    type MaxRegionLen = ConstU32<16>;
    type MaxLabels = ConstU32<4>;
    type MaxLabelLen = ConstU32<8>;
    type HeartbeatTimeout = ConstU64<10_000>;
    type SlashDeferral = ConstU64<SLASH_DEFERRAL>;
    type MaxSlashesPerBlock = ConstU32<16>;
    type ReapAfter = ConstU64<20_000>;
    type ReputationParams = Reputation;
    type Treasury = Treasury;
    type SlashCancelOrigin = EnsureRoot<AccountId>;
    type AdminOrigin = EnsureRoot<AccountId>;
    type WeightInfo = ();
}

impl pallet_programs::Config for Test {
    type Currency = Balances;
    type RuntimeHoldReason = RuntimeHoldReason;
    type MaxProgramSize = ConstU32<{ 64 * 1024 }>;
    type MaxMemoryPages = ConstU32<16>;
    type MaxTableElements = ConstU32<64>;
    type DepositBase = ConstU64<10>;
    type DepositPerByte = ConstU64<1>;
    type WeightInfo = ();
}

/// Randomness for tests: a hash of the subject and the block number, so draws differ per job,
/// round and block but every run of a test is the same.
pub struct TestRandomness;
impl Randomness<H256, u64> for TestRandomness {
    fn random(subject: &[u8]) -> (H256, u64) {
        let block = System::block_number();
        (H256(sp_crypto_hashing::blake2_256(&(subject, block).using_encoded_vec())), block)
    }
}

trait EncodedVec {
    fn using_encoded_vec(&self) -> Vec<u8>;
}
impl<T: codec::Encode> EncodedVec for T {
    fn using_encoded_vec(&self) -> Vec<u8> {
        self.encode()
    }
}

pub const MAX_REPLICAS: u32 = 4;
pub const MAX_OUTPUT: u32 = 256;
pub const REVEAL_TIMEOUT: u64 = 5;
pub const REOPEN_TIMEOUT: u64 = 5;
pub const VOTE_TIMEOUT: u64 = 5;
pub const REFEREE_TIMEOUT: u64 = 4;
pub const VOTE_REVEAL_TIMEOUT: u64 = 3;
pub const MAX_REFEREE_INPUT: u32 = 2_048;
pub const CHALLENGE_BOND: Balance = 500;
pub const DEPOSIT_BASE: Balance = 10;
pub const RETENTION: u64 = 20;
pub const ERA_LENGTH: u32 = 100;
pub const ERA0_EMISSION: Balance = 10_000;
pub const FUEL_PER_BLOCK: u64 = 100_000;

impl crate::Config for Test {
    type Currency = Balances;
    type RuntimeHoldReason = RuntimeHoldReason;
    type Providers = Providers;
    type Programs = Programs;
    type Referee = Programs;
    type RefereeFuelLimit = RefereeFuelLimit;
    type MaxRefereeInputLen = ConstU32<MAX_REFEREE_INPUT>;
    type RefereeTimeout = ConstU64<REFEREE_TIMEOUT>;
    type Randomness = TestRandomness;
    type Treasury = Treasury;
    type MaxReplicas = ConstU32<MAX_REPLICAS>;
    type MaxInputLen = ConstU32<1_024>;
    type MaxUriLen = ConstU32<64>;
    type MaxOutputLen = ConstU32<MAX_OUTPUT>;
    type MaxFuel = ConstU64<1_000_000>;
    type MaxLiveJobs = ConstU32<16>;
    type MaxTimeout = ConstU64<100>;
    type MinChallengeWindow = ConstU64<1>;
    type MaxChallengeWindow = ConstU64<50>;
    type RevealTimeout = ConstU64<REVEAL_TIMEOUT>;
    type ReopenTimeout = ConstU64<REOPEN_TIMEOUT>;
    type MaxReopens = ConstU32<1>;
    type CommitteeSize = ConstU32<3>;
    type DrawDelay = DrawDelay;
    type JurorStakeCap = JurorStakeCap;
    type VoteTimeout = ConstU64<VOTE_TIMEOUT>;
    type VoteRevealTimeout = ConstU64<VOTE_REVEAL_TIMEOUT>;
    type MinorityVoteSlash = MinorityVoteSlash;
    type MaxDisputeRounds = ConstU32<2>;
    type ChallengeBond = ConstU64<CHALLENGE_BOND>;
    type ProtocolFee = ProtocolFee;
    type CancellationCompensation = CancellationCompensation;
    type WrongResultSlash = WrongResultSlash;
    type MissedDeadlineSlash = MissedDeadlineSlash;
    type ChallengerShare = ChallengerShare;
    type DepositBase = ConstU64<DEPOSIT_BASE>;
    type DepositPerByte = ConstU64<1>;
    type ResultRetention = ConstU64<RETENTION>;
    type MaxTransitionsPerBlock = ConstU32<8>;
    type EraLength = ConstU32<ERA_LENGTH>;
    type InitialEraEmission = ConstU64<ERA0_EMISSION>;
    type EmissionDecay = EmissionDecay;
    type EmissionMatch = EmissionMatch;
    type PostingFee = PostingFee;
    type FuelPerBlock = ConstU64<FUEL_PER_BLOCK>;
    type MaxDeadlineWeight = MaxDeadlineWeight;
    type WeightInfo = ();
    #[cfg(feature = "runtime-benchmarks")]
    type BenchmarkHelper = MockHelper;
}

/// Registers providers and uploads programs through the real pallets for the benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct MockHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for MockHelper {
    fn register_provider(who: &AccountId) {
        use frame_support::traits::fungible::Mutate;
        Balances::set_balance(who, ENDOWMENT);
        let widest = crate::widest_placement::<Test>();
        let profile = pallet_providers::ProfileSpec::<Test> {
            region: widest.region.unwrap_or_default(),
            labels: widest.labels,
            ..provider_profile(8, 1)
        };
        assert_ok!(Providers::register(RuntimeOrigin::signed(*who), STAKE, profile));
    }
    fn program(owner: &AccountId) -> ProgramId {
        if !pallet_programs::ProgramOf::<Test>::contains_key(program_id()) {
            upload_program(*owner);
        }
        program_id()
    }
    fn max_providers() -> u32 {
        32
    }
    fn make_ineligible(who: &AccountId) {
        assert_ok!(Providers::set_maintenance(RuntimeOrigin::signed(*who), true));
    }
    fn referee_program(owner: &AccountId, code_len: u32) -> ProgramId {
        let code = tessera_executor::worst_case::program(16, code_len);
        let id = H256(sp_crypto_hashing::blake2_256(&code));
        if !pallet_programs::ProgramOf::<Test>::contains_key(id) {
            assert_ok!(Programs::upload_program(RuntimeOrigin::signed(*owner), code.try_into().unwrap()));
        }
        id
    }
}

parameter_types! {
    pub const ProtocolFee: Perbill = Perbill::from_percent(10);
    pub const CancellationCompensation: Perbill = Perbill::from_percent(20);
    pub const WrongResultSlash: Perbill = Perbill::from_percent(50);
    pub const MissedDeadlineSlash: Perbill = Perbill::from_percent(5);
    pub const MinorityVoteSlash: Perbill = Perbill::from_percent(20);
    /// The providers' default stake: above it, stake buys no extra weight in committee draws.
    pub static JurorStakeCap: Balance = STAKE;
    /// One block, so most tests see the committee drawn in the block after the dispute opened;
    /// the tests of the delayed draw raise it.
    pub static DrawDelay: u64 = 1;
    pub const ChallengerShare: Perbill = Perbill::from_percent(50);
    pub const EmissionDecay: Perbill = Perbill::from_percent(10);
    pub const EmissionMatch: Perbill = Perbill::from_percent(50);
    /// None, so the tests' balances need not count it; the tests of the fee raise it.
    pub static PostingFee: Balance = 0;
    /// Room for every deadline the tests queue in one block; the test of the budget lowers it.
    pub static MaxDeadlineWeight: frame_support::weights::Weight = frame_support::weights::Weight::MAX;
    /// Below the fuel limit of the tests' default job (1,000), so only tests that raise it
    /// (`RefereeFuelLimit::set`) see refereed disputes; the others exercise committees.
    pub static RefereeFuelLimit: u64 = 500;
}

/// Requesters.
pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
/// A challenger that is not a provider.
pub const CHARLIE: AccountId = 3;
/// An account with almost nothing.
pub const POOR: AccountId = 4;
/// Providers are accounts 10..=19 (registered by [`register_providers`]).
pub const P: [AccountId; 10] = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
pub const STAKE: Balance = 10_000;
pub const ENDOWMENT: Balance = 1_000_000;

/// Accounts 1..=3 and 10..=19 hold `ENDOWMENT`, account 4 holds 50, the treasury 1.
pub fn new_test_ext() -> sp_io::TestExternalities {
    let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
    let mut balances: Vec<(AccountId, Balance)> = vec![(ALICE, ENDOWMENT), (BOB, ENDOWMENT), (CHARLIE, ENDOWMENT)];
    balances.extend(P.iter().map(|p| (*p, ENDOWMENT)));
    balances.push((POOR, 50));
    balances.push((TREASURY, 1));
    pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
        .assimilate_storage(&mut t)
        .unwrap();
    let mut ext = sp_io::TestExternalities::new(t);
    ext.execute_with(|| System::set_block_number(1));
    ext
}

/// Registers the first `n` providers with `STAKE`, capacity 2 and price 2 per fuel.
pub fn register_providers(n: usize) {
    for who in P.iter().take(n) {
        assert_ok!(Providers::register(RuntimeOrigin::signed(*who), STAKE, provider_profile(2, 2)));
    }
}

pub fn provider_profile(capacity: u32, price: Balance) -> pallet_providers::ProfileSpec<Test> {
    pallet_providers::ProfileSpec::<Test> {
        capacity,
        price_per_fuel: price,
        region: b"eu".to_vec().try_into().unwrap(),
        labels: Default::default(),
    }
}

/// The id of the program [`upload_program`] uploads.
pub fn program_id() -> ProgramId {
    H256(sp_crypto_hashing::blake2_256(&synthetic_program(128)))
}

/// Uploads a small valid program as `who`; returns its id.
pub fn upload_program(who: AccountId) -> ProgramId {
    let code = synthetic_program(128);
    let id = program_id();
    assert_ok!(Programs::upload_program(RuntimeOrigin::signed(who), code.try_into().unwrap()));
    id
}

/// Everything `accounts` own: free and held.
pub fn wealth(accounts: &[AccountId]) -> Balance {
    use frame_support::traits::fungible::Inspect;
    accounts.iter().map(|a| Balances::total_balance(a)).sum()
}

/// What `accounts` own less the slashes scheduled against them (each provider's capped at what
/// it holds), so a slash counts from the moment it is decided.
pub fn net_worth(accounts: &[AccountId]) -> Balance {
    let owed: Balance = accounts
        .iter()
        .map(|who| {
            let due: Balance = pallet_providers::PendingSlashOf::<Test>::iter()
                .filter(|(_, s)| s.provider == *who)
                .map(|(_, s)| s.amount)
                .sum();
            due.min(pallet_providers::ProviderOf::<Test>::get(who).map_or(0, |p| p.total_held()))
        })
        .sum();
    wealth(accounts) - owed
}

/// Checks every pallet's invariants.
pub fn check_invariants() {
    pallet_providers::Pallet::<Test>::do_try_state().expect("providers invariants");
    Market::do_try_state().expect("market invariants");
}

/// Runs blocks up to `n`, calling the hooks of providers and market and checking invariants
/// after every block.
pub fn run_to_block(n: u64) {
    while System::block_number() < n {
        let next = System::block_number() + 1;
        System::set_block_number(next);
        Providers::on_initialize(next);
        Market::on_initialize(next);
        check_invariants();
    }
}
