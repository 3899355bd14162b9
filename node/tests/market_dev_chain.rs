//! The market on a real dev chain, driven only through signed extrinsics over JSON-RPC (as
//! polkadot.js or subxt would): a program is uploaded, providers register, jobs are posted,
//! claimed, committed and revealed; an honest job left alone settles by itself when its
//! challenge window closes; a job whose replicas disagree is decided by a drawn committee; a
//! cancelled job refunds. Every call's event is checked. Along the way the `tessera_*` RPC
//! namespace is checked against the same chain: quotes, providers, why a job is unmatched, and
//! job views before and after settlement.

mod common;

use std::time::Duration;

use common::{
    chain::{storage, Client, Events},
    Node,
};
use pallet_market::{Event as MarketEvent, InputSpec, JobSpec, Outcome};
use sp_keyring::Sr25519Keyring::{self, Alice, Bob, Charlie, Dave, Eve, Ferdie};
use sp_runtime::Permill;
use tessera_primitives::{commitment, program::synthetic_program, ExitStatus, JobId, Receipt};
use serde_json::{json, Value};
use tessera_runtime::{Runtime, RuntimeCall, RuntimeEvent, UNIT};
use tessera_runtime_api::{JobPage, JobStatus, JobView, ProviderView, QuoteView, Reason, Unmatched};

const STARTUP: Duration = Duration::from_secs(300);
/// Blocks come every 6 s; the challenge window is the runtime's minimum (10 blocks).
const BLOCKS: Duration = Duration::from_secs(180);
const OUTPUT: &[u8] = b"the verified output";

fn market(call: pallet_market::Call<Runtime>) -> RuntimeCall {
    RuntimeCall::Market(call)
}

fn spec(program: sp_core::H256, replicas: u32) -> JobSpec<Runtime> {
    JobSpec {
        program,
        input: InputSpec::Inline(b"input".to_vec().try_into().unwrap()),
        fuel_limit: 1_000,
        replicas,
        max_price_per_fuel: 1,
        min_reputation: Permill::zero(),
        max_output_len: 64,
        claim_timeout: 100,
        execution_timeout: 100,
        challenge_window: 10,
    }
}

/// Calls a `tessera_*` method and decodes its result.
fn tessera<T: serde::de::DeserializeOwned>(node: &Node, method: &str, params: Value) -> T {
    let v = node.rpc(&format!("tessera_{method}"), params).unwrap_or_else(|e| panic!("tessera_{method}: {e}"));
    serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("tessera_{method} answered {v}: {e}"))
}

fn quote_params(spec: &JobSpec<Runtime>) -> Value {
    let InputSpec::Inline(input) = &spec.input else { unreachable!("the test's inputs are inline") };
    json!({
        "fuelLimit": spec.fuel_limit,
        "replicas": spec.replicas,
        "maxPricePerFuel": spec.max_price_per_fuel.to_string(),
        "minReputation": spec.min_reputation.deconstruct(),
        "input": { "inline": input.len() },
        "maxOutputLen": spec.max_output_len,
    })
}

fn salt(who: Sr25519Keyring) -> [u8; 32] {
    sp_io::hashing::blake2_256(&who.to_raw_public())
}

fn commit(client: &mut Client, node: &Node, who: Sr25519Keyring, job: JobId, r: &Receipt) {
    let c = commitment(job, &who.to_account_id(), r, &salt(who));
    client.submit(node, who, market(pallet_market::Call::commit { job, commitment: c })).expect("commit");
}

fn reveal(client: &mut Client, node: &Node, who: Sr25519Keyring, job: JobId, r: Receipt, output: &[u8]) {
    let call = pallet_market::Call::reveal { job, receipt: r, salt: salt(who), output: output.to_vec().try_into().unwrap() };
    client.submit(node, who, market(call)).expect("reveal");
}

/// Waits until `f` finds an event, polling new blocks; fails on any failed extrinsic.
fn wait_event<T>(node: &mut Node, events: &mut Events, what: &str, f: impl Fn(&RuntimeEvent) -> Option<T>) -> T {
    node.wait_for(what, BLOCKS, |n| {
        events.poll(n);
        let failures = events.failures();
        assert!(failures.is_empty(), "extrinsics failed: {failures:?}");
        events.find(&f)
    })
}

fn market_event(e: &RuntimeEvent) -> Option<&MarketEvent<Runtime>> {
    match e {
        RuntimeEvent::Market(m) => Some(m),
        _ => None,
    }
}

#[test]
fn jobs_settle_on_a_dev_chain_through_signed_extrinsics() {
    let mut node = Node::start_dev(&[]);
    node.wait_for_rpc(STARTUP);
    let mut client = Client::new(&node);
    let mut events = Events::default();

    // Block A: a program, five providers, and three jobs (honest, disputed, cancelled).
    let code = synthetic_program(256);
    let program = sp_core::H256(sp_io::hashing::blake2_256(&code));

    // Before anything is registered: the chain's quote is the market's own arithmetic, no
    // provider could take the job, and bad terms are refused with the market's error name.
    let quote: QuoteView = tessera(&node, "quoteJob", json!([quote_params(&spec(program, 2))]));
    let (expected, deposit) = pallet_market::Pallet::<Runtime>::quote_spec(&spec(program, 2)).expect("a valid spec");
    assert_eq!(
        (quote.per_replica_max, quote.payment_max, quote.protocol_fee_max, quote.escrow, quote.deposit),
        (expected.per_replica_max, expected.payment_max, expected.protocol_fee_max, expected.escrow, deposit)
    );
    assert_eq!(quote.total_held, expected.escrow + deposit);
    assert_eq!((quote.eligible_providers, quote.lowest_price_per_fuel), (0, None));
    let refused = node.rpc("tessera_quoteJob", json!([quote_params(&JobSpec { replicas: 0, ..spec(program, 1) })]));
    assert!(refused.as_ref().is_err_and(|e| e.contains("Market::BadReplicas")), "{refused:?}");
    let bob: Option<ProviderView> = tessera(&node, "provider", json!([Bob.to_account_id().to_string()]));
    assert!(bob.is_none(), "Bob is not registered yet");

    client
        .submit(&node, Alice, RuntimeCall::Programs(pallet_programs::Call::upload_program { code: code.try_into().unwrap() }))
        .expect("upload");
    for who in [Bob, Charlie, Dave, Eve, Ferdie] {
        let profile = pallet_providers::Profile::<Runtime> {
            capacity: 4,
            price_per_fuel: 1,
            region: b"dev".to_vec().try_into().unwrap(),
            labels: Default::default(),
        };
        let call = pallet_providers::Call::register { stake: 2_000 * UNIT, profile };
        client.submit(&node, who, RuntimeCall::Providers(call)).expect("register");
    }
    for replicas in [2, 2, 1] {
        client.submit(&node, Alice, market(pallet_market::Call::post_job { spec: Box::new(spec(program, replicas)) })).expect("post");
    }
    // A fourth job nobody can take: it asks for a perfect reputation.
    let picky = JobSpec { min_reputation: Permill::one(), ..spec(program, 1) };
    client.submit(&node, Alice, market(pallet_market::Call::post_job { spec: Box::new(picky) })).expect("post");
    let first = wait_event(&mut node, &mut events, "JobPosted", |e| match market_event(e)? {
        MarketEvent::JobPosted { job, .. } => Some(*job),
        _ => None,
    });
    let (honest_job, split_job, cancelled_job) = (first, first + 1, first + 2);
    wait_event(&mut node, &mut events, "the third job", |e| match market_event(e)? {
        MarketEvent::JobPosted { job, .. } if *job == cancelled_job => Some(()),
        _ => None,
    });
    for who in [Bob, Charlie, Dave, Eve, Ferdie] {
        let account = who.to_account_id();
        let registered = |e: &RuntimeEvent| match e {
            RuntimeEvent::Providers(pallet_providers::Event::Registered { who, .. }) if *who == account => Some(()),
            _ => None,
        };
        assert!(events.find(registered).is_some(), "{who:?} registered");
    }
    let picky_job = cancelled_job + 1;
    node.wait_for("the fourth job", BLOCKS, |n| {
        events.poll(n);
        events.find(|e| match market_event(e)? {
            MarketEvent::JobPosted { job, .. } if *job == picky_job => Some(()),
            _ => None,
        })
    });

    // The RPC's view of the registered market.
    let bob: ProviderView = tessera(&node, "provider", json!([Bob.to_account_id().to_string()]));
    assert_eq!((bob.stake, bob.capacity, bob.live_assignments, bob.price_per_fuel), (2_000 * UNIT, 4, 0, 1));
    assert_eq!((bob.region.as_slice(), bob.unavailable), (&b"dev"[..], None));
    let quote: QuoteView = tessera(&node, "quoteJob", json!([quote_params(&spec(program, 2))]));
    assert_eq!((quote.eligible_providers, quote.lowest_price_per_fuel), (5, Some(1)));
    let why: Unmatched = tessera(&node, "whyUnmatched", json!([picky_job]));
    assert_eq!((why.status, why.open_slots, why.providers), (JobStatus::Open, 1, 5));
    assert!(why.eligible.is_empty(), "{why:?}");
    assert_eq!(why.refusals.len(), 5);
    assert!(why.refusals.iter().all(|r| r.reason == Reason::ReputationTooLow), "{why:?}");
    assert_eq!(why.summary.iter().map(|c| (c.reason, c.count)).collect::<Vec<_>>(), vec![(Reason::ReputationTooLow, 5)]);
    let why: Unmatched = tessera(&node, "whyUnmatched", json!([honest_job]));
    assert_eq!(why.eligible.len(), 5, "every provider could take the honest job: {why:?}");
    let open: JobPage = tessera(&node, "jobs", json!(["open", first, 2]));
    assert_eq!(open.jobs.iter().map(|j| j.id).collect::<Vec<_>>(), vec![honest_job, split_job]);
    assert_eq!(open.next, Some(cancelled_job), "a third open job follows on the next page");
    assert!(open.jobs.iter().all(|j| j.status == JobStatus::Open && j.live.is_some()));
    let none: Option<Unmatched> = tessera(&node, "whyUnmatched", json!([picky_job + 1_000]));
    assert!(none.is_none());

    // Block B: Bob and Charlie claim both two-replica jobs; Dave claims the third, which Alice
    // then cancels.
    for job in [honest_job, split_job] {
        for who in [Bob, Charlie] {
            client.submit(&node, who, market(pallet_market::Call::claim_slot { job })).expect("claim");
        }
    }
    client.submit(&node, Dave, market(pallet_market::Call::claim_slot { job: cancelled_job })).expect("claim");
    wait_event(&mut node, &mut events, "both jobs assigned", |e| match market_event(e)? {
        MarketEvent::JobAssigned { job, .. } if *job == split_job => Some(()),
        _ => None,
    });
    wait_event(&mut node, &mut events, "Dave's claim", |e| match market_event(e)? {
        MarketEvent::JobAssigned { job, .. } if *job == cancelled_job => Some(()),
        _ => None,
    });
    client.submit(&node, Alice, market(pallet_market::Call::cancel_job { job: cancelled_job })).expect("cancel");

    // Block C: commitments. On the split job Charlie commits to a forged output.
    let truth = Receipt::new(ExitStatus::Ok, 600, OUTPUT);
    let forged = Receipt::new(ExitStatus::Ok, 600, b"forged");
    for who in [Bob, Charlie] {
        commit(&mut client, &node, who, honest_job, &truth);
    }
    commit(&mut client, &node, Bob, split_job, &truth);
    commit(&mut client, &node, Charlie, split_job, &forged);
    wait_event(&mut node, &mut events, "reveals open", |e| match market_event(e)? {
        MarketEvent::RevealOpened { job, .. } if *job == split_job => Some(()),
        _ => None,
    });
    let cancelled = wait_event(&mut node, &mut events, "the cancellation", |e| match market_event(e)? {
        MarketEvent::JobEnded { job, outcome: Outcome::Cancelled, paid, .. } if *job == cancelled_job => Some(*paid),
        _ => None,
    });
    assert_eq!(cancelled, 100, "Dave is compensated 10 % of 1,000 fuel × 1");

    // Block D: reveals.
    reveal(&mut client, &node, Bob, honest_job, truth, OUTPUT);
    reveal(&mut client, &node, Charlie, honest_job, truth, b"");
    reveal(&mut client, &node, Bob, split_job, truth, OUTPUT);
    reveal(&mut client, &node, Charlie, split_job, forged, b"forged");
    let window_end = wait_event(&mut node, &mut events, "the honest replicas agree", |e| match market_event(e)? {
        MarketEvent::ResultAgreed { job, challenge_until, .. } if *job == honest_job => Some(*challenge_until),
        _ => None,
    });

    // The split job: a committee of the other providers is drawn; they vote the truth.
    let jurors = wait_event(&mut node, &mut events, "a committee", |e| match market_event(e)? {
        MarketEvent::CommitteeDrawn { job, jurors, .. } if *job == split_job => Some(jurors.clone()),
        _ => None,
    });
    assert!(!jurors.is_empty());
    for keyring in [Dave, Eve, Ferdie] {
        if jurors.contains(&keyring.to_account_id()) {
            client.submit(&node, keyring, market(pallet_market::Call::vote { job: split_job, receipt: truth })).expect("vote");
        }
    }
    wait_event(&mut node, &mut events, "the dispute resolved", |e| match market_event(e)? {
        MarketEvent::DisputeResolved { job, receipt } if *job == split_job => Some(assert_eq!(*receipt, truth)),
        _ => None,
    });
    let liar = Charlie.to_account_id();
    assert!(events
        .find(|e| match market_event(e)? {
            MarketEvent::WrongResult { job, provider, slashed } if *job == split_job && *provider == liar => Some(*slashed),
            _ => None,
        })
        .is_some_and(|s| s == 200 * UNIT), "10 % of Charlie's 2,000 TSR stake is scheduled for slashing");

    // The honest job is left alone and settles by itself when its window closes.
    let (block, paid, fee) = node.wait_for("the honest job to settle", BLOCKS, |n| {
        events.poll(n);
        events.seen.iter().find_map(|(b, e)| match market_event(e)? {
            MarketEvent::JobEnded { job, outcome: Outcome::Settled, paid, fee, .. } if *job == honest_job => Some((*b, *paid, *fee)),
            _ => None,
        })
    });
    assert_eq!(block, u64::from(window_end), "settled in the block its window closed");
    assert_eq!((paid, fee), (1_200, 60), "2 × 600 fuel × 1, plus a 5 % fee");
    let result: pallet_market::JobResult<Runtime> =
        storage(&node, &tessera_worker::client::keys::twox64("Market", "ResultOf", &honest_job)).expect("the result is kept");
    assert_eq!(result.receipt, Some(truth));
    assert_eq!(result.output.expect("output kept").to_vec(), OUTPUT.to_vec());
    let live: Option<pallet_market::Job<Runtime>> = storage(&node, &tessera_worker::client::keys::twox64("Market", "JobOf", &honest_job));
    assert!(live.is_none(), "the live job's storage is gone");

    // The RPC tells the same story.
    let view: JobView = tessera(&node, "job", json!([honest_job]));
    assert_eq!((view.status, view.live.is_none()), (JobStatus::Settled, true));
    let ended = view.result.expect("an ended job has a result");
    assert_eq!((ended.paid, ended.fee, ended.receipt), (1_200, 60, Some(truth)));
    assert_eq!(ended.output.as_deref(), Some(OUTPUT));
    let settled: JobPage = tessera(&node, "jobs", json!(["settled"]));
    assert!(settled.jobs.iter().any(|j| j.id == honest_job), "{settled:?}");
    assert!(settled.jobs.iter().all(|j| j.status == JobStatus::Settled));
    let why: Unmatched = tessera(&node, "whyUnmatched", json!([honest_job]));
    assert_eq!((why.status, why.open_slots), (JobStatus::Settled, 0));
    assert!(events.failures().is_empty());

    let status = node.stop(Duration::from_secs(60));
    assert!(status.success() || status.code().is_none(), "unclean exit: {status}");
}
