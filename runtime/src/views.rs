//! The answers of [`tessera_runtime_api::TesseraApi`]: views of the market's and the providers'
//! storage, built here where both pallets' concrete types are known.

use alloc::vec::Vec;
use frame_support::traits::Get;
use pallet_market::{Job, JobResult, Outcome, Phase};
use pallet_providers::ProviderInfo;
use tessera_runtime_api::{
    DisputeView, InputSize, JobId, JobPage, JobStatus, JobView, LiveView, ProviderView, QuoteError, QuoteParams,
    QuoteView, Reason, Refusal, ReplicaView, ResultView, Unmatched, MAX_PAGE,
};
use tessera_traits::{Ineligible, PlacementSpec, Requirements};

use crate::{AccountId, Balance, BlockNumber, Runtime, System};

type Market = pallet_market::Pallet<Runtime>;
type Providers = pallet_providers::Pallet<Runtime>;

fn now() -> BlockNumber {
    System::block_number()
}

fn status_of(phase: &Phase<BlockNumber>) -> JobStatus {
    match phase {
        Phase::Open(_) => JobStatus::Open,
        Phase::Committing(_) => JobStatus::Committing,
        Phase::Revealing(_) => JobStatus::Revealing,
        Phase::Challengeable(..) => JobStatus::Challengeable,
        Phase::Disputed(_) => JobStatus::Disputed,
    }
}

fn status_of_outcome(outcome: Outcome) -> JobStatus {
    match outcome {
        Outcome::Settled => JobStatus::Settled,
        Outcome::Cancelled => JobStatus::Cancelled,
        Outcome::Expired => JobStatus::Expired,
        Outcome::Inconclusive => JobStatus::Inconclusive,
    }
}

fn reason_of(e: Ineligible) -> Reason {
    match e {
        Ineligible::NotProvider => Reason::NotProvider,
        Ineligible::Inactive => Reason::Inactive,
        Ineligible::InMaintenance => Reason::InMaintenance,
        Ineligible::StakeTooLow => Reason::StakeTooLow,
        Ineligible::ReputationTooLow => Reason::ReputationTooLow,
        Ineligible::PriceTooHigh => Reason::PriceTooHigh,
        Ineligible::NoCapacity => Reason::NoCapacity,
        Ineligible::WrongRegion => Reason::WrongRegion,
        Ineligible::MissingLabel => Reason::MissingLabel,
    }
}

fn live_view(id: JobId, job: Job<Runtime>) -> JobView {
    let dispute = pallet_market::DisputeOf::<Runtime>::get(id).map(|d| DisputeView {
        challenger: d.challenge.as_ref().map(|c| c.challenger.clone()),
        bond: d.challenge.as_ref().map_or(0, |c| c.bond),
        round: d.round,
        stage: d.stage,
        jurors: d.committee.iter().map(|j| j.who.clone()).collect(),
        voted: d.committee.iter().filter(|j| j.sealed.is_some()).map(|j| j.who.clone()).collect(),
        revealed: d.committee.iter().filter(|j| j.vote.is_some()).map(|j| j.who.clone()).collect(),
    });
    JobView {
        id,
        requester: job.requester,
        program: job.terms.program,
        status: status_of(&job.phase),
        live: Some(LiveView {
            input_hash: job.input_hash,
            input_len: job.input_len,
            fuel_limit: job.terms.fuel_limit,
            replicas: job.terms.replicas,
            max_price_per_fuel: job.terms.max_price_per_fuel,
            min_reputation: job.terms.min_reputation,
            max_output_len: job.terms.max_output_len,
            escrow: job.escrow,
            deposit: job.deposit,
            posted_at: job.posted_at,
            deadline: job.phase.deadline(),
            reopens: job.reopens,
            slots: job
                .slots
                .into_iter()
                .map(|s| ReplicaView {
                    provider: s.provider,
                    price_per_fuel: s.price_per_fuel,
                    committed: s.commitment.is_some(),
                    receipt: s.receipt,
                })
                .collect(),
            dispute,
        }),
        result: None,
    }
}

fn ended_view(id: JobId, r: JobResult<Runtime>) -> JobView {
    JobView {
        id,
        requester: r.requester,
        program: r.program,
        status: status_of_outcome(r.outcome),
        live: None,
        result: Some(ResultView {
            receipt: r.receipt,
            output: r.output.map(|o| o.into_inner()),
            paid: r.paid,
            fee: r.fee,
            refunded: r.refunded,
            deposit: r.deposit,
            ended_at: r.ended_at,
        }),
    }
}

/// `TesseraApi::job`.
pub fn job(id: JobId) -> Option<JobView> {
    if let Some(job) = pallet_market::JobOf::<Runtime>::get(id) {
        return Some(live_view(id, job));
    }
    pallet_market::ResultOf::<Runtime>::get(id).map(|r| ended_view(id, r))
}

/// `TesseraApi::jobs`. Live jobs are at most `MaxLiveJobs` and kept results at most what ended
/// within `ResultRetention`; both maps are hashed, so the ids are collected and sorted first.
pub fn jobs(status: Option<JobStatus>, from: JobId, limit: u32) -> JobPage {
    let limit = limit.clamp(1, MAX_PAGE) as usize;
    let wanted = |s: JobStatus| status.is_none_or(|w| w == s);
    let mut ids: Vec<JobId> = Vec::new();
    if status.is_none_or(|s| !s.is_final()) {
        ids.extend(
            pallet_market::JobOf::<Runtime>::iter()
                .filter(|(id, job)| *id >= from && wanted(status_of(&job.phase)))
                .map(|(id, _)| id),
        );
    }
    if status.is_none_or(JobStatus::is_final) {
        ids.extend(
            pallet_market::ResultOf::<Runtime>::iter()
                .filter(|(id, r)| *id >= from && wanted(status_of_outcome(r.outcome)))
                .map(|(id, _)| id),
        );
    }
    ids.sort_unstable();
    ids.dedup();
    let next = ids.get(limit).copied();
    JobPage { jobs: ids.into_iter().take(limit).filter_map(job).collect(), next }
}

fn provider_view(account: AccountId, p: ProviderInfo<Runtime>) -> ProviderView {
    let now = now();
    let params = <Runtime as pallet_providers::Config>::ReputationParams::get();
    ProviderView {
        stake: p.stake,
        unbonding: p.unbonding.iter().map(|c| c.amount).fold(0, Balance::saturating_add),
        capacity: p.profile.capacity,
        live_assignments: p.live_assignments,
        price_per_fuel: p.profile.price_per_fuel,
        region: p.profile.region.to_vec(),
        labels: p.profile.labels.iter().map(|l| l.to_vec()).collect(),
        maintenance: p.maintenance,
        last_heartbeat: p.last_heartbeat,
        registered_at: p.registered_at,
        unavailable: Providers::availability(&p, now).err().map(reason_of),
        reputation: p.reputation.score_at(now, &params),
        completed: p.reputation.completed,
        faults: p.reputation.faults,
        slashed: p.reputation.slashed,
        pending_slashes: p.pending_slashes,
        account,
    }
}

/// `TesseraApi::provider`.
pub fn provider(who: AccountId) -> Option<ProviderView> {
    pallet_providers::ProviderOf::<Runtime>::get(&who).map(|p| provider_view(who, p))
}

/// Every registered provider with its record (at most `MaxProviders`).
fn all_providers() -> impl Iterator<Item = (AccountId, ProviderInfo<Runtime>)> {
    pallet_providers::ProviderOf::<Runtime>::iter()
}

/// `TesseraApi::quote_job`.
pub fn quote_job(params: QuoteParams) -> Result<QuoteView, QuoteError> {
    use pallet_market::Error;
    let to_quote_error = |e: Error<Runtime>| match e {
        Error::BadReplicas => QuoteError::BadReplicas,
        Error::BadFuelLimit => QuoteError::BadFuelLimit,
        Error::ZeroPrice => QuoteError::ZeroPrice,
        Error::OutputLimitTooLarge => QuoteError::OutputLimitTooLarge,
        Error::RegionTooLong => QuoteError::RegionTooLong,
        Error::TooManyLabels => QuoteError::TooManyLabels,
        Error::LabelTooLong => QuoteError::LabelTooLong,
        _ => QuoteError::PriceOverflow,
    };
    Market::check_terms(params.fuel_limit, params.max_price_per_fuel, params.replicas, params.max_output_len)
        .map_err(to_quote_error)?;
    // Bounded as `post_job` bounds it, so the quote refuses what posting would.
    let placement = Market::bound_placement(PlacementSpec { region: params.region, labels: params.labels })
        .map_err(to_quote_error)?;
    let stored_input = match params.input {
        InputSize::Inline(len) => {
            let max: u32 = <Runtime as pallet_market::Config>::MaxInputLen::get();
            if len > max {
                return Err(QuoteError::InputTooLarge);
            }
            u64::from(len)
        },
        InputSize::Remote(uri_len) => {
            let max: u32 = <Runtime as pallet_market::Config>::MaxUriLen::get();
            if uri_len == 0 || uri_len > max {
                return Err(QuoteError::BadUri);
            }
            Market::remote_input_bytes(uri_len)
        },
    }
    .saturating_add(Market::stored_placement_bytes(&placement));
    let (q, deposit) = Market::quote_terms(
        params.fuel_limit,
        params.max_price_per_fuel,
        params.replicas,
        stored_input,
        params.max_output_len,
    )
    .map_err(to_quote_error)?;

    // Providers that pass every requirement (placement included) but the price; of those, the
    // eligible ones are the ones whose price is within the offer.
    let now = now();
    let any_price = Requirements { min_reputation: params.min_reputation, max_price_per_fuel: Balance::MAX, placement };
    let mut eligible_providers = 0u32;
    let mut lowest_price_per_fuel: Option<Balance> = None;
    for (_, p) in all_providers() {
        if let Ok(price) = Providers::eligibility(&p, &any_price, now) {
            if price <= params.max_price_per_fuel {
                eligible_providers += 1;
            }
            lowest_price_per_fuel = Some(lowest_price_per_fuel.map_or(price, |l| l.min(price)));
        }
    }
    Ok(QuoteView {
        per_replica_max: q.per_replica_max,
        payment_max: q.payment_max,
        protocol_fee_max: q.protocol_fee_max,
        escrow: q.escrow,
        deposit,
        total_held: q.escrow.saturating_add(deposit),
        eligible_providers,
        lowest_price_per_fuel,
    })
}

/// Whether `who`, registered as `p`, may claim a slot of the open `job` (the checks of
/// `claim_slot` after the phase and deadline).
fn claim_verdict(
    job: &Job<Runtime>,
    req: &pallet_market::RequirementsOf<Runtime>,
    who: &AccountId,
    p: &ProviderInfo<Runtime>,
    forfeited: &[AccountId],
    now: BlockNumber,
) -> Result<(), Reason> {
    if *who == job.requester {
        Err(Reason::OwnJob)
    } else if job.slot_of(who).is_some() {
        Err(Reason::AlreadyClaimed)
    } else if forfeited.contains(who) {
        Err(Reason::SlotForfeited)
    } else {
        Providers::eligibility(p, req, now).map(|_| ()).map_err(reason_of)
    }
}

/// `TesseraApi::can_claim`.
pub fn can_claim(id: JobId, who: AccountId) -> Result<(), Reason> {
    let job = pallet_market::JobOf::<Runtime>::get(id).ok_or(Reason::JobNotOpen)?;
    let Phase::Open(deadline) = job.phase else { return Err(Reason::JobNotOpen) };
    let now = now();
    if now > deadline || job.slots.len() as u32 >= job.terms.replicas {
        return Err(Reason::JobNotOpen);
    }
    let p = pallet_providers::ProviderOf::<Runtime>::get(&who).ok_or(Reason::NotProvider)?;
    let forfeited = pallet_market::ForfeitedOf::<Runtime>::get(id).providers;
    claim_verdict(&job, &Market::requirements(id, &job), &who, &p, &forfeited, now)
}

/// `TesseraApi::why_unmatched`.
pub fn why_unmatched(id: JobId) -> Option<Unmatched> {
    let providers = pallet_providers::ProviderOf::<Runtime>::count();
    // A job whose slots are not open for claims: nothing to explain.
    let not_open = |status| Unmatched {
        status,
        open_slots: 0,
        claim_deadline: None,
        providers,
        eligible: Vec::new(),
        refusals: Vec::new(),
        summary: Vec::new(),
    };
    let Some(job) = pallet_market::JobOf::<Runtime>::get(id) else {
        return pallet_market::ResultOf::<Runtime>::get(id).map(|r| not_open(status_of_outcome(r.outcome)));
    };
    let status = status_of(&job.phase);
    let Phase::Open(deadline) = job.phase else { return Some(not_open(status)) };
    let now = now();
    let req = Market::requirements(id, &job);
    let mut eligible = Vec::new();
    let mut refusals = Vec::new();
    let forfeited = pallet_market::ForfeitedOf::<Runtime>::get(id).providers;
    for (who, p) in all_providers() {
        match claim_verdict(&job, &req, &who, &p, &forfeited, now) {
            Ok(()) => eligible.push(who),
            Err(reason) => refusals.push(Refusal { provider: who, reason }),
        }
    }
    Some(Unmatched {
        status,
        open_slots: job.terms.replicas.saturating_sub(job.slots.len() as u32),
        claim_deadline: Some(deadline),
        providers,
        eligible,
        summary: tessera_runtime_api::summarize(refusals.iter().map(|r| r.reason)),
        refusals,
    })
}

/// The referee's dry run: `code` validated against the program registry's limits and run on
/// `input` by the same function the market's referee uses.
pub fn referee(
    code: Vec<u8>,
    input: Vec<u8>,
    fuel: tessera_primitives::Fuel,
    max_output_len: u32,
) -> Result<(tessera_primitives::Receipt, Vec<u8>), tessera_runtime_api::RefereeRefusal> {
    use tessera_executor::{ExecError, RunLimits};
    let limits = crate::Programs::limits();
    let run = RunLimits { fuel, max_memory_pages: limits.max_memory_pages, max_output_len };
    match tessera_executor::referee(&code, &limits, &input, &run) {
        Ok(e) => Ok((e.receipt, e.output)),
        Err(ExecError::Instrument(_)) => Err(tessera_runtime_api::RefereeRefusal::InvalidProgram),
        Err(_) => Err(tessera_runtime_api::RefereeRefusal::EngineFailed),
    }
}
