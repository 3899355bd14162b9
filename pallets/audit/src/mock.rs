//! A test runtime with the real providers, programs and market pallets and the auditor, whose
//! accounts are sr25519 keys (the auditor signs with its key's account).

use frame_support::{
    assert_ok, derive_impl, parameter_types,
    traits::{ConstU32, ConstU64, Hooks, Randomness},
};
use frame_system::EnsureRoot;
use sp_core::{sr25519, H256};
use sp_runtime::{
    testing::TestXt,
    traits::{IdentifyAccount, IdentityLookup, Verify},
    AccountId32, BuildStorage, MultiSignature, Perbill, Permill,
};
use tessera_primitives::reputation::ReputationParams;

use crate as pallet_audit;

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = AccountId32;
pub type Balance = u64;
pub type Extrinsic = TestXt<RuntimeCall, ()>;

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
    #[runtime::pallet_index(5)]
    pub type Audit = pallet_audit;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
    type Block = Block;
    type AccountId = AccountId;
    type Lookup = IdentityLookup<AccountId>;
    type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
    type AccountStore = System;
    type Balance = Balance;
    type ExistentialDeposit = ConstU64<1>;
    type RuntimeHoldReason = RuntimeHoldReason;
}

parameter_types! {
    pub Treasury: AccountId = AccountId32::new([99; 32]);
    pub const Reputation: ReputationParams = ReputationParams {
        success_gain: Permill::from_percent(5),
        fault_loss: Permill::from_percent(10),
        slash_loss: Permill::from_percent(50),
        half_life: 1_000,
    };
    pub const ProtocolFee: Perbill = Perbill::from_percent(10);
    pub const EmissionMatch: Perbill = Perbill::zero();
    pub const MaxDeadlineWeight: frame_support::weights::Weight = frame_support::weights::Weight::MAX;
    pub const CancellationCompensation: Perbill = Perbill::from_percent(20);
    pub const WrongResultSlash: Perbill = Perbill::from_percent(10);
    pub const MissedDeadlineSlash: Perbill = Perbill::from_percent(1);
    pub const MinorityVoteSlash: Perbill = Perbill::from_percent(5);
    pub const ChallengerShare: Perbill = Perbill::from_percent(50);
    pub const EmissionDecay: Perbill = Perbill::from_percent(10);
    pub static AuditRate: Perbill = Perbill::one();
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
    type SlashDeferral = ConstU64<10>;
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

pub struct TestRandomness;
impl Randomness<H256, u64> for TestRandomness {
    fn random(subject: &[u8]) -> (H256, u64) {
        let block = System::block_number();
        (H256(sp_crypto_hashing::blake2_256(&codec::Encode::encode(&(subject, block)))), block)
    }
}

pub const MIN_STAKE: Balance = 1_000;
pub const STAKE: Balance = 10_000;
pub const ENDOWMENT: Balance = 10_000_000;
pub const CHALLENGE_BOND: Balance = 500;
pub const FUEL_BUDGET: u64 = 250_000;

impl pallet_market::Config for Test {
    type Currency = Balances;
    type RuntimeHoldReason = RuntimeHoldReason;
    type Providers = Providers;
    type Programs = Programs;
    type Referee = Programs;
    type RefereeFuelLimit = ConstU64<100_000>;
    type MaxRefereeInputLen = ConstU32<2_048>;
    type RefereeTimeout = ConstU64<4>;
    type Randomness = TestRandomness;
    type Treasury = Treasury;
    type MaxReplicas = ConstU32<4>;
    type MaxInputLen = ConstU32<1_024>;
    type MaxUriLen = ConstU32<64>;
    type MaxOutputLen = ConstU32<256>;
    type MaxFuel = ConstU64<10_000_000>;
    type MaxLiveJobs = ConstU32<16>;
    type MaxTimeout = ConstU64<100>;
    type MinChallengeWindow = ConstU64<1>;
    type MaxChallengeWindow = ConstU64<50>;
    type RevealTimeout = ConstU64<5>;
    type ReopenTimeout = ConstU64<5>;
    type MaxReopens = ConstU32<1>;
    type CommitteeSize = ConstU32<3>;
    type DrawDelay = ConstU64<1>;
    type JurorStakeCap = ConstU64<{ 10 * MIN_STAKE }>;
    type VoteTimeout = ConstU64<5>;
    type VoteRevealTimeout = ConstU64<3>;
    type MinorityVoteSlash = MinorityVoteSlash;
    type MaxDisputeRounds = ConstU32<2>;
    type ChallengeBond = ConstU64<CHALLENGE_BOND>;
    type ProtocolFee = ProtocolFee;
    type CancellationCompensation = CancellationCompensation;
    type WrongResultSlash = WrongResultSlash;
    type MissedDeadlineSlash = MissedDeadlineSlash;
    type ChallengerShare = ChallengerShare;
    type DepositBase = ConstU64<10>;
    type DepositPerByte = ConstU64<1>;
    type ResultRetention = ConstU64<20>;
    type MaxTransitionsPerBlock = ConstU32<8>;
    type EraLength = ConstU32<100>;
    type InitialEraEmission = ConstU64<10_000>;
    type EmissionDecay = EmissionDecay;
    type EmissionMatch = EmissionMatch;
    type PostingFee = ConstU64<0>;
    type FuelPerBlock = ConstU64<1_000_000_000>;
    type MaxDeadlineWeight = MaxDeadlineWeight;
    type WeightInfo = ();
}

impl frame_system::offchain::SigningTypes for Test {
    type Public = <MultiSignature as Verify>::Signer;
    type Signature = MultiSignature;
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Test
where
    RuntimeCall: From<C>,
{
    type Extrinsic = Extrinsic;
    type RuntimeCall = RuntimeCall;
}

impl<C> frame_system::offchain::CreateSignedTransaction<C> for Test
where
    RuntimeCall: From<C>,
{
    fn create_signed_transaction<A: frame_system::offchain::AppCrypto<Self::Public, Self::Signature>>(
        call: RuntimeCall,
        _public: Self::Public,
        _account: AccountId,
        nonce: u32,
    ) -> Option<Extrinsic> {
        Some(Extrinsic::new_signed(call, nonce.into(), (), ()))
    }
}

impl pallet_audit::Config for Test {
    type AuthorityId = crate::crypto::AuditorId;
    type AuditRate = AuditRate;
    type AuditFuelPerBlock = ConstU64<FUEL_BUDGET>;
    type MaxAuditQueue = ConstU32<4>;
}

/// The account of an sr25519 key.
pub fn account_of(key: &sr25519::Public) -> AccountId {
    sp_runtime::MultiSigner::from(*key).into_account()
}

pub fn acc(n: u8) -> AccountId {
    AccountId32::new([n; 32])
}

pub fn requester() -> AccountId {
    acc(1)
}

pub fn provider(i: u8) -> AccountId {
    acc(10 + i)
}

/// Balances for the requester, four providers and `extra` accounts (the auditor's).
pub fn new_test_ext(extra: &[AccountId]) -> sp_io::TestExternalities {
    let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
    let mut balances: Vec<(AccountId, Balance)> = vec![(requester(), ENDOWMENT), (Treasury::get(), 1)];
    balances.extend((0..4).map(|i| (provider(i), ENDOWMENT)));
    balances.extend(extra.iter().map(|a| (a.clone(), ENDOWMENT)));
    pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
        .assimilate_storage(&mut t)
        .unwrap();
    let mut ext = sp_io::TestExternalities::new(t);
    ext.execute_with(|| {
        System::set_block_number(1);
        for i in 0..4 {
            let profile = pallet_providers::ProfileSpec::<Test> {
                capacity: 4,
                price_per_fuel: 1,
                region: b"eu".to_vec().try_into().unwrap(),
                labels: Default::default(),
            };
            assert_ok!(Providers::register(RuntimeOrigin::signed(provider(i)), STAKE, profile));
        }
    });
    ext
}

/// Runs the on-chain hooks of blocks up to `n`.
pub fn run_to_block(n: u64) {
    while System::block_number() < n {
        let next = System::block_number() + 1;
        System::set_block_number(next);
        System::reset_events();
        Providers::on_initialize(next);
        Market::on_initialize(next);
    }
}
