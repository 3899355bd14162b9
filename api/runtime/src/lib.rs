//! # Tessera runtime API
//!
//! What the node asks the runtime on behalf of clients, and the views it answers with. The
//! node's `tessera_*` JSON-RPC methods (see `node/src/rpc.rs`) are thin wrappers over
//! [`TesseraApi`]; the `tessera` CLI and any other client decode the same views from JSON.
//!
//! The views are flat, self-describing snapshots built from the market's and the providers'
//! storage, so a client needs neither the runtime's storage layout nor its metadata. In JSON,
//! fields are camelCase, balances are decimal strings (a `u128` does not fit a JavaScript
//! number), accounts are SS58 and hashes hex.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use codec::{Decode, Encode};
use scale_info::TypeInfo;
use sp_core::H256;
pub use sp_runtime::Permill;
use sp_runtime::AccountId32;
pub use tessera_primitives::{verdict::DisputeStage, Fuel, JobId, ProgramId, Receipt};

#[cfg(feature = "std")]
use serde::{Deserialize, Serialize};

/// Accounts, as on the Tessera chain.
pub type AccountId = AccountId32;
/// Token amounts, as on the Tessera chain.
pub type Balance = u128;
/// Block numbers, as on the Tessera chain.
pub type BlockNumber = u32;

/// Most jobs one [`TesseraApi::jobs`] page holds.
pub const MAX_PAGE: u32 = 100;

/// Where a job is: its live phase, or how it ended.
#[derive(Encode, Decode, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(Serialize, Deserialize), serde(rename_all = "camelCase"))]
pub enum JobStatus {
    /// Replica slots open for claims.
    Open,
    /// Every slot taken; providers execute and commit.
    Committing,
    /// Providers reveal their receipts.
    Revealing,
    /// The replicas agreed; the challenge window is open.
    Challengeable,
    /// A committee re-executes and votes.
    Disputed,
    /// Verified and paid.
    Settled,
    /// Cancelled by the requester.
    Cancelled,
    /// Too few providers claimed, committed or revealed; refunded.
    Expired,
    /// A dispute reached no majority; refunded.
    Inconclusive,
}

impl JobStatus {
    /// Whether the job has ended (only its kept result remains).
    pub fn is_final(self) -> bool {
        matches!(self, JobStatus::Settled | JobStatus::Cancelled | JobStatus::Expired | JobStatus::Inconclusive)
    }
}

/// One replica slot of a live job.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(Serialize, Deserialize), serde(rename_all = "camelCase"))]
pub struct ReplicaView {
    /// The provider holding the slot.
    pub provider: AccountId,
    /// Its price per fuel, fixed when it claimed.
    #[cfg_attr(feature = "std", serde(with = "balance"))]
    pub price_per_fuel: Balance,
    /// Whether its commitment is in.
    pub committed: bool,
    /// Its revealed receipt.
    pub receipt: Option<Receipt>,
}

/// An open dispute.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(Serialize, Deserialize), serde(rename_all = "camelCase"))]
pub struct DisputeView {
    /// Who challenged; `None` when the replicas disagreed among themselves.
    pub challenger: Option<AccountId>,
    /// The challenger's bond.
    #[cfg_attr(feature = "std", serde(with = "balance"))]
    pub bond: Balance,
    /// Committee draws so far.
    pub round: u32,
    /// Where the round is.
    pub stage: DisputeStage,
    /// The committee (empty until drawn).
    pub jurors: Vec<AccountId>,
    /// Jurors who submitted a sealed vote.
    pub voted: Vec<AccountId>,
    /// Jurors who revealed their vote (what they voted is in the `VoteRevealed` events).
    pub revealed: Vec<AccountId>,
}

/// The terms and state of a job that has not ended.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(Serialize, Deserialize), serde(rename_all = "camelCase"))]
pub struct LiveView {
    /// blake2-256 of the input.
    pub input_hash: H256,
    /// Input length in bytes.
    pub input_len: u64,
    /// Fuel limit per replica.
    pub fuel_limit: Fuel,
    /// Replicas wanted.
    pub replicas: u32,
    /// Highest price per fuel the requester pays.
    #[cfg_attr(feature = "std", serde(with = "balance"))]
    pub max_price_per_fuel: Balance,
    /// Lowest provider reputation accepted.
    pub min_reputation: Permill,
    /// Longest output kept on chain.
    pub max_output_len: u32,
    /// Still held in escrow for payments and the fee.
    #[cfg_attr(feature = "std", serde(with = "balance"))]
    pub escrow: Balance,
    /// Storage deposit held.
    #[cfg_attr(feature = "std", serde(with = "balance"))]
    pub deposit: Balance,
    /// Block it was posted.
    pub posted_at: BlockNumber,
    /// Block the current phase ends at the latest.
    pub deadline: BlockNumber,
    /// Times missed commitments reopened slots.
    pub reopens: u32,
    /// Claimed slots.
    pub slots: Vec<ReplicaView>,
    /// The dispute, when disputed.
    pub dispute: Option<DisputeView>,
}

/// How a job ended (kept for the result retention period).
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(Serialize, Deserialize), serde(rename_all = "camelCase"))]
pub struct ResultView {
    /// The verified receipt (settled jobs).
    pub receipt: Option<Receipt>,
    /// The output, when it was revealed on chain and matches the verified receipt.
    #[cfg_attr(feature = "std", serde(with = "opt_hex"))]
    pub output: Option<Vec<u8>>,
    /// Paid to providers.
    #[cfg_attr(feature = "std", serde(with = "balance"))]
    pub paid: Balance,
    /// Protocol fee.
    #[cfg_attr(feature = "std", serde(with = "balance"))]
    pub fee: Balance,
    /// Refunded to the requester.
    #[cfg_attr(feature = "std", serde(with = "balance"))]
    pub refunded: Balance,
    /// Storage deposit still held for the record.
    #[cfg_attr(feature = "std", serde(with = "balance"))]
    pub deposit: Balance,
    /// Block it ended.
    pub ended_at: BlockNumber,
}

/// A job, live or ended.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(Serialize, Deserialize), serde(rename_all = "camelCase"))]
pub struct JobView {
    /// Its id.
    pub id: JobId,
    /// Who posted it.
    pub requester: AccountId,
    /// The program.
    pub program: ProgramId,
    /// Where it is.
    pub status: JobStatus,
    /// Terms and state, while live.
    pub live: Option<LiveView>,
    /// The outcome, once ended.
    pub result: Option<ResultView>,
}

/// One page of jobs, in ascending id order.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "std", derive(Serialize, Deserialize), serde(rename_all = "camelCase"))]
pub struct JobPage {
    /// The jobs.
    pub jobs: Vec<JobView>,
    /// Where the next page starts (`from`), if there is one.
    pub next: Option<JobId>,
}

/// Why a provider cannot take a job's slot.
#[derive(Encode, Decode, TypeInfo, Clone, Copy, PartialEq, Eq, Ord, PartialOrd, Debug)]
#[cfg_attr(feature = "std", derive(Serialize, Deserialize), serde(rename_all = "camelCase"))]
pub enum Reason {
    /// Not a registered provider.
    NotProvider,
    /// No heartbeat within the liveness timeout (its worker is not running).
    Inactive,
    /// In maintenance mode.
    InMaintenance,
    /// Active stake below the minimum.
    StakeTooLow,
    /// Reputation below the job's minimum.
    ReputationTooLow,
    /// Advertised price above the job's maximum price per fuel.
    PriceTooHigh,
    /// Every unit of its capacity is in use.
    NoCapacity,
    /// It already holds a slot of this job.
    AlreadyClaimed,
    /// It posted the job (a requester cannot serve its own job).
    OwnJob,
    /// The job takes no claims: it does not exist, its slots are all taken, its claim
    /// deadline has passed, or it has ended.
    JobNotOpen,
    /// It released or missed a slot of this job before and may not claim it again.
    SlotForfeited,
    /// Its region is not the one the job's placement requires.
    WrongRegion,
    /// It lacks a label the job's placement requires.
    MissingLabel,
}

impl Reason {
    /// A sentence for people.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::NotProvider => "not a registered provider",
            Reason::Inactive => "no recent heartbeat: its worker is not running",
            Reason::InMaintenance => "in maintenance mode",
            Reason::StakeTooLow => "active stake below the minimum",
            Reason::ReputationTooLow => "reputation below the job's minimum",
            Reason::PriceTooHigh => "its price per fuel is above the job's maximum",
            Reason::NoCapacity => "all of its capacity is in use",
            Reason::AlreadyClaimed => "already holds a slot of this job",
            Reason::OwnJob => "it posted the job",
            Reason::JobNotOpen => "the job takes no claims (unknown, full, past its claim deadline or ended)",
            Reason::SlotForfeited => "it released or missed a slot of this job before",
            Reason::WrongRegion => "its region is not the one the job requires",
            Reason::MissingLabel => "it lacks a label the job requires",
        }
    }
}

/// A provider and why it cannot claim.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(Serialize, Deserialize), serde(rename_all = "camelCase"))]
pub struct Refusal {
    /// The provider.
    pub provider: AccountId,
    /// The first requirement it fails.
    pub reason: Reason,
}

/// How many providers fail for one reason.
#[derive(Encode, Decode, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(Serialize, Deserialize), serde(rename_all = "camelCase"))]
pub struct ReasonCount {
    /// The reason.
    pub reason: Reason,
    /// Providers failing for it.
    pub count: u32,
}

/// Why a job's slots are (still) not all taken.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(Serialize, Deserialize), serde(rename_all = "camelCase"))]
pub struct Unmatched {
    /// Where the job is. Only an `open` job can be unmatched; for any other status the
    /// lists below are empty.
    pub status: JobStatus,
    /// Slots still free.
    pub open_slots: u32,
    /// Last block a slot can be claimed (open jobs).
    pub claim_deadline: Option<BlockNumber>,
    /// Registered providers.
    pub providers: u32,
    /// Providers that could claim a slot right now but have not (yet): their workers will
    /// likely claim within a block or two, unless they are filtered by the worker's own
    /// configuration (e.g. it does not accept this program).
    pub eligible: Vec<AccountId>,
    /// Providers that cannot claim, each with the first requirement it fails.
    pub refusals: Vec<Refusal>,
    /// The refusals counted by reason, most common first.
    pub summary: Vec<ReasonCount>,
}

/// A provider as requesters see it.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(Serialize, Deserialize), serde(rename_all = "camelCase"))]
pub struct ProviderView {
    /// The provider's account.
    pub account: AccountId,
    /// Active stake.
    #[cfg_attr(feature = "std", serde(with = "balance"))]
    pub stake: Balance,
    /// Stake unbonding (still slashable).
    #[cfg_attr(feature = "std", serde(with = "balance"))]
    pub unbonding: Balance,
    /// Replica slots it serves at once.
    pub capacity: u32,
    /// Slots it holds now.
    pub live_assignments: u32,
    /// Advertised price per fuel.
    #[cfg_attr(feature = "std", serde(with = "balance"))]
    pub price_per_fuel: Balance,
    /// Free-form region.
    #[cfg_attr(feature = "std", serde(with = "text"))]
    pub region: Vec<u8>,
    /// Free-form labels.
    #[cfg_attr(feature = "std", serde(with = "texts"))]
    pub labels: Vec<Vec<u8>>,
    /// In maintenance mode.
    pub maintenance: bool,
    /// Block of the last heartbeat.
    pub last_heartbeat: BlockNumber,
    /// Block of registration.
    pub registered_at: BlockNumber,
    /// Why it takes no new work at all (inactive, in maintenance, under-staked), if so.
    pub unavailable: Option<Reason>,
    /// Reputation score now (decayed to the current block).
    pub reputation: Permill,
    /// Jobs verified and paid.
    pub completed: u32,
    /// Deadlines missed.
    pub faults: u32,
    /// Slashes for wrong results.
    pub slashed: u32,
    /// Slashes scheduled and not yet applied.
    pub pending_slashes: u32,
}

/// How a job's input would be stored (what its storage deposit covers).
#[derive(Encode, Decode, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(Serialize, Deserialize), serde(rename_all = "camelCase"))]
pub enum InputSize {
    /// Inline input of this many bytes.
    Inline(u32),
    /// Remote input, referenced by a URI of this many bytes.
    Remote(u32),
}

impl Default for InputSize {
    fn default() -> Self {
        InputSize::Inline(0)
    }
}

/// The parameters of a job to quote.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(Serialize, Deserialize), serde(rename_all = "camelCase"))]
pub struct QuoteParams {
    /// Fuel limit per replica.
    pub fuel_limit: Fuel,
    /// Replicas.
    pub replicas: u32,
    /// Highest price per fuel.
    #[cfg_attr(feature = "std", serde(with = "balance"))]
    pub max_price_per_fuel: Balance,
    /// Lowest provider reputation (default 0).
    #[cfg_attr(feature = "std", serde(default))]
    pub min_reputation: Permill,
    /// The input (default: empty inline input).
    #[cfg_attr(feature = "std", serde(default))]
    pub input: InputSize,
    /// Longest output kept on chain (default 0).
    #[cfg_attr(feature = "std", serde(default))]
    pub max_output_len: u32,
    /// The one region a provider must be in (default: any), as in the job's placement.
    #[cfg_attr(feature = "std", serde(default, with = "opt_text"))]
    pub region: Option<Vec<u8>>,
    /// Labels a provider must all advertise (default: none), as in the job's placement.
    #[cfg_attr(feature = "std", serde(default, with = "texts"))]
    pub labels: Vec<Vec<u8>>,
}

/// What posting a job would hold, and who could serve it.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(Serialize, Deserialize), serde(rename_all = "camelCase"))]
pub struct QuoteView {
    /// Most one replica can be paid: `fuelLimit × maxPricePerFuel`.
    #[cfg_attr(feature = "std", serde(with = "balance"))]
    pub per_replica_max: Balance,
    /// Most all replicas together can be paid.
    #[cfg_attr(feature = "std", serde(with = "balance"))]
    pub payment_max: Balance,
    /// The protocol fee on `paymentMax`.
    #[cfg_attr(feature = "std", serde(with = "balance"))]
    pub protocol_fee_max: Balance,
    /// Held in escrow: `paymentMax + protocolFeeMax`. What is not paid out is refunded.
    #[cfg_attr(feature = "std", serde(with = "balance"))]
    pub escrow: Balance,
    /// Storage deposit, returned when the result record is pruned.
    #[cfg_attr(feature = "std", serde(with = "balance"))]
    pub deposit: Balance,
    /// Everything held at posting: `escrow + deposit`.
    #[cfg_attr(feature = "std", serde(with = "balance"))]
    pub total_held: Balance,
    /// Providers that could claim a slot now at this price, reputation floor and placement.
    pub eligible_providers: u32,
    /// Lowest price per fuel among available providers meeting the reputation floor and the
    /// placement.
    #[cfg_attr(feature = "std", serde(with = "opt_balance"))]
    pub lowest_price_per_fuel: Option<Balance>,
}

/// Why parameters cannot be quoted: each is the market's error for posting such a job.
#[derive(Encode, Decode, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(Serialize, Deserialize), serde(rename_all = "camelCase"))]
pub enum QuoteError {
    /// Replicas outside `1..=MaxReplicas`.
    BadReplicas,
    /// Fuel limit outside `1..=MaxFuel`.
    BadFuelLimit,
    /// A zero price.
    ZeroPrice,
    /// `maxOutputLen` above `MaxOutputLen`.
    OutputLimitTooLarge,
    /// Inline input above `MaxInputLen`.
    InputTooLarge,
    /// A remote input's URI empty or above `MaxUriLen`.
    BadUri,
    /// The escrow overflows the balance type.
    PriceOverflow,
    /// The region is longer than any provider's can be.
    RegionTooLong,
    /// More labels than any provider can advertise.
    TooManyLabels,
    /// A label longer than any provider's can be.
    LabelTooLong,
}

impl QuoteError {
    /// The name of the matching market error (`Market::…`), as a client shows it.
    pub fn name(self) -> &'static str {
        match self {
            QuoteError::BadReplicas => "BadReplicas",
            QuoteError::BadFuelLimit => "BadFuelLimit",
            QuoteError::ZeroPrice => "ZeroPrice",
            QuoteError::OutputLimitTooLarge => "OutputLimitTooLarge",
            QuoteError::InputTooLarge => "InputTooLarge",
            QuoteError::BadUri => "BadUri",
            QuoteError::PriceOverflow => "PriceOverflow",
            QuoteError::RegionTooLong => "RegionTooLong",
            QuoteError::TooManyLabels => "TooManyLabels",
            QuoteError::LabelTooLong => "LabelTooLong",
        }
    }
}

/// Counts `reasons` by reason, most common first (ties in declaration order).
pub fn summarize(reasons: impl IntoIterator<Item = Reason>) -> Vec<ReasonCount> {
    let mut counts: Vec<ReasonCount> = Vec::new();
    for reason in reasons {
        match counts.iter_mut().find(|c| c.reason == reason) {
            Some(c) => c.count += 1,
            None => counts.push(ReasonCount { reason, count: 1 }),
        }
    }
    counts.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(&b.reason)));
    counts
}

/// Why [`TesseraApi::referee`] gave no receipt.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "std", derive(Serialize, Deserialize))]
pub enum RefereeRefusal {
    /// The code is not a valid program under the registry's limits.
    InvalidProgram,
    /// The engine failed for a reason outside the program.
    EngineFailed,
}

sp_api::decl_runtime_apis! {
    /// Read-only queries over the market and the provider registry.
    ///
    /// Version 2 added [`TesseraApi::can_claim`], version 3 [`TesseraApi::referee`], version 4
    /// the claim refusal [`Reason::SlotForfeited`], version 5 placement: the refusals
    /// [`Reason::WrongRegion`] and [`Reason::MissingLabel`], a placement in [`QuoteParams`] and
    /// its errors in [`QuoteError`].
    #[api_version(5)]
    pub trait TesseraApi {
        /// A job by id, live or with its result still kept.
        fn job(id: JobId) -> Option<JobView>;

        /// Jobs with ids `>= from`, in ascending order, with `status` (any when `None`);
        /// `limit` of them, clamped to `1..=MAX_PAGE`.
        fn jobs(status: Option<JobStatus>, from: JobId, limit: u32) -> JobPage;

        /// A registered provider.
        fn provider(who: AccountId) -> Option<ProviderView>;

        /// What posting a job with these parameters would hold, or why it would be refused.
        fn quote_job(params: QuoteParams) -> Result<QuoteView, QuoteError>;

        /// Why a job's slots are not taken: every provider that cannot claim and the reason.
        /// `None` when there is no such job.
        fn why_unmatched(id: JobId) -> Option<Unmatched>;

        /// Whether `who` may claim a replica slot of job `id` now, with the checks
        /// `claim_slot` makes: `Ok`, or the first requirement it fails.
        fn can_claim(id: JobId, who: AccountId) -> Result<(), Reason>;

        /// Runs `code` on `input` as the on-chain referee would (the registry's validation
        /// and limits, the protocol's metering, the runtime's interpreter), without storing
        /// anything: the receipt and the output, or why the code cannot run. For conformance
        /// checks of the referee against the workers' engines, and to price a dispute.
        fn referee(code: Vec<u8>, input: Vec<u8>, fuel: Fuel, max_output_len: u32) -> Result<(Receipt, Vec<u8>), RefereeRefusal>;
    }
}

/// Balances as decimal strings (also accepts JSON numbers).
#[cfg(feature = "std")]
pub mod balance {
    use super::Balance;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    /// Writes the decimal string.
    pub fn serialize<S: Serializer>(v: &Balance, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    /// Reads a decimal string or a number.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Balance, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Text(String),
            Number(u64),
        }
        match Repr::deserialize(d)? {
            Repr::Text(s) => s.parse().map_err(|_| D::Error::custom(format!("not a balance: {s:?}"))),
            Repr::Number(n) => Ok(n.into()),
        }
    }
}

/// Optional balances as decimal strings or `null`.
#[cfg(feature = "std")]
pub mod opt_balance {
    use super::Balance;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the decimal string or `null`.
    pub fn serialize<S: Serializer>(v: &Option<Balance>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    /// Reads a decimal string, a number or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Balance>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::balance")] Balance);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

/// Optional bytes as `0x…` hex or `null`.
#[cfg(feature = "std")]
pub mod opt_hex {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    /// Writes `0x…` or `null`.
    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_str(&sp_core::bytes::to_hex(v, false)),
            None => s.serialize_none(),
        }
    }

    /// Reads `0x…` or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| sp_core::bytes::from_hex(&s).map_err(|e| D::Error::custom(format!("bad hex: {e}"))))
            .transpose()
    }
}

/// Free-form text kept as bytes on chain, shown as a string (invalid UTF-8 replaced).
#[cfg(feature = "std")]
pub mod text {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the string.
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&String::from_utf8_lossy(v))
    }

    /// Reads a string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        Ok(String::deserialize(d)?.into_bytes())
    }
}

/// Optional free-form text: a string or `null`.
#[cfg(feature = "std")]
pub mod opt_text {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the string or `null`.
    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_str(&String::from_utf8_lossy(v)),
            None => s.serialize_none(),
        }
    }

    /// Reads a string or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.map(String::into_bytes))
    }
}

/// A list of free-form texts.
#[cfg(feature = "std")]
pub mod texts {
    use serde::{ser::SerializeSeq, Deserialize, Deserializer, Serializer};

    /// Writes the strings.
    pub fn serialize<S: Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for t in v {
            seq.serialize_element(&String::from_utf8_lossy(t))?;
        }
        seq.end()
    }

    /// Reads strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Ok(Vec::<String>::deserialize(d)?.into_iter().map(String::into_bytes).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balances_are_strings_in_json_and_survive_a_round_trip() {
        let q = QuoteView {
            per_replica_max: u128::MAX,
            payment_max: 2,
            protocol_fee_max: 0,
            escrow: 2,
            deposit: 1,
            total_held: 3,
            eligible_providers: 1,
            lowest_price_per_fuel: None,
        };
        let json = serde_json::to_value(&q).unwrap();
        assert_eq!(json["perReplicaMax"], serde_json::json!(u128::MAX.to_string()));
        assert_eq!(json["lowestPricePerFuel"], serde_json::Value::Null);
        assert_eq!(serde_json::from_value::<QuoteView>(json).unwrap(), q);
    }

    #[test]
    fn quote_params_take_defaults_and_numbers() {
        let p: QuoteParams =
            serde_json::from_str(r#"{"fuelLimit": 1000, "replicas": 2, "maxPricePerFuel": 3}"#).unwrap();
        assert_eq!(p.max_price_per_fuel, 3);
        assert_eq!(p.input, InputSize::Inline(0));
        assert_eq!(p.min_reputation, Permill::zero());
        let p: QuoteParams = serde_json::from_str(
            r#"{"fuelLimit": 1, "replicas": 1, "maxPricePerFuel": "7", "input": {"remote": 20}, "maxOutputLen": 9}"#,
        )
        .unwrap();
        assert_eq!((p.max_price_per_fuel, p.input, p.max_output_len), (7, InputSize::Remote(20), 9));
        assert!(serde_json::from_str::<QuoteParams>(r#"{"fuelLimit": 1, "replicas": 1, "maxPricePerFuel": "x"}"#)
            .is_err());
    }

    #[test]
    fn quote_params_take_a_placement_as_strings() {
        let p: QuoteParams = serde_json::from_str(r#"{"fuelLimit": 1, "replicas": 1, "maxPricePerFuel": 1}"#).unwrap();
        assert_eq!((p.region, p.labels), (None, Vec::<Vec<u8>>::new()));
        let p: QuoteParams = serde_json::from_str(
            r#"{"fuelLimit": 1, "replicas": 1, "maxPricePerFuel": 1, "region": "eu-west", "labels": ["gpu", "sgx"]}"#,
        )
        .unwrap();
        assert_eq!(p.region, Some(b"eu-west".to_vec()));
        assert_eq!(p.labels, vec![b"gpu".to_vec(), b"sgx".to_vec()]);
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["region"], "eu-west");
        assert_eq!(json["labels"], serde_json::json!(["gpu", "sgx"]));
    }

    /// DAPP.md documents `tessera_quoteJob`'s parameters with an example; it must be what the
    /// node accepts (the input is a length, not bytes).
    #[test]
    fn the_documented_quote_parameters_are_accepted() {
        let doc = include_str!("../../../docs/DAPP.md");
        let marker = "<!-- quote-params:";
        let after = &doc[doc.find(marker).expect("DAPP.md has the quote-params example") ..];
        let start = after.find("```json\n").expect("a json block follows") + "```json\n".len();
        let block = &after[start..];
        let json = &block[..block.find("```").expect("the block ends")];
        let p: QuoteParams = serde_json::from_str(json).expect("DAPP.md's example is valid QuoteParams");
        assert_eq!((p.fuel_limit, p.replicas, p.max_price_per_fuel), (2_000_000_000, 2, 1));
        assert_eq!((p.input, p.max_output_len), (InputSize::Inline(1024), 65536));
    }

    /// Receipts, like every view, are camelCase in JSON.
    #[test]
    fn receipts_are_camel_case() {
        let r = Receipt::new(tessera_primitives::ExitStatus::OutOfFuel, 5, b"x");
        let v = serde_json::to_value(r).unwrap();
        assert_eq!(v["status"], "outOfFuel");
        assert_eq!(v["fuelUsed"], 5);
        assert!(v["outputHash"].is_string(), "{v}");
        let aborted = serde_json::to_value(tessera_primitives::ExitStatus::Aborted(3)).unwrap();
        assert_eq!(aborted, serde_json::json!({"aborted": 3}));
    }

    #[test]
    fn summary_counts_each_reason_most_common_first() {
        use Reason::*;
        let s = summarize([Inactive, PriceTooHigh, Inactive, OwnJob, PriceTooHigh, Inactive]);
        let pairs: Vec<_> = s.iter().map(|c| (c.reason, c.count)).collect();
        assert_eq!(pairs, vec![(Inactive, 3), (PriceTooHigh, 2), (OwnJob, 1)]);
        assert!(summarize([]).is_empty());
    }

    #[test]
    fn provider_text_fields_are_strings() {
        let v = ProviderView {
            account: AccountId::new([1; 32]),
            stake: 10,
            unbonding: 0,
            capacity: 1,
            live_assignments: 0,
            price_per_fuel: 1,
            region: b"eu-west".to_vec(),
            labels: vec![b"gpu".to_vec()],
            maintenance: false,
            last_heartbeat: 1,
            registered_at: 1,
            unavailable: Some(Reason::Inactive),
            reputation: Permill::from_percent(50),
            completed: 0,
            faults: 0,
            slashed: 0,
            pending_slashes: 0,
        };
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["region"], "eu-west");
        assert_eq!(json["labels"], serde_json::json!(["gpu"]));
        assert_eq!(json["unavailable"], "inactive");
        assert_eq!(serde_json::from_value::<ProviderView>(json).unwrap(), v);
    }
}
