//! The market on a real dev chain, driven only through signed extrinsics over JSON-RPC with
//! `tessera-client` (the client every tool uses): a program is uploaded, providers register,
//! jobs are posted, claimed, committed and revealed; an honest job left alone settles by itself
//! when its challenge window closes; a job whose replicas disagree is decided by a drawn
//! committee; a cancelled job refunds. Every call's event is checked. Along the way the
//! `tessera_*` RPC namespace is checked against the same chain (quotes, providers, why a job is
//! unmatched, job views before and after settlement) and against its one naming convention
//! (camelCase keys and enum values); calls on an ended job fail with `Market::JobEnded`, on an id
//! that never existed with `Market::JobNotFound`.
//!
//! Expected amounts come from the protocol's definition: `tessera_primitives::pricing` with
//! the constants the chain reports, not from the runtime's own code.

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use futures::future::{join_all, LocalBoxFuture};
use jsonrpsee::core::params::ArrayParams;
use serde_json::Value;
use sp_runtime::Perbill;
use tessera_client::{
    api::{
        InputSize, JobPage, JobStatus, JobView, Permill as ApiPermill, ProviderView, QuoteParams,
        QuoteView, Reason, Unmatched,
    },
    api_account,
    chain::{
        self,
        runtime_types::{
            frame_system::pallet::Event as System,
            pallet_market::{
                pallet::Event as Market,
                types::{Input, JobSpec, JobTerms, Outcome},
            },
            pallet_providers::types::ProviderProfile as Profile,
            sp_arithmetic::per_things::Permill,
            sp_runtime::DispatchError,
            tessera_traits::Placement,
        },
        Event,
    },
    convert::{receipt_from_chain, receipt_to_chain},
    rpc_params,
    subxt::{transactions::Payload, Metadata},
    testing::{ok, DevNode},
    Client, Error, Included, RpcError, Signer, TesseraRpcClient, H256, UNIT,
};
use tessera_primitives::{
    commitment, pricing,
    program::program_id,
    vote_commitment,
    ExitStatus, JobId, Receipt,
};

const STARTUP: Duration = Duration::from_secs(300);
/// Blocks come every 6 s; the challenge window is the runtime's minimum (10 blocks).
const BLOCKS: Duration = Duration::from_secs(180);
/// The hash chain example's input: 2 rounds (u32 LE) over the data "d".
const INPUT: &[u8] = &[2, 0, 0, 0, b'd'];
/// Room for the hash chain's two rounds (the test asserts what they use), far under MaxFuel.
const FUEL_LIMIT: u64 = 1_000_000;
const MAX_OUTPUT_LEN: u32 = 64;

fn spec(program: H256, replicas: u32) -> JobSpec {
    JobSpec {
        terms: JobTerms {
            program,
            fuel_limit: FUEL_LIMIT,
            replicas,
            max_price_per_fuel: 1,
            min_reputation: Permill(0),
            max_output_len: MAX_OUTPUT_LEN,
            claim_timeout: 100,
            execution_timeout: 100,
            challenge_window: 10,
        },
        input: Input::Inline(INPUT.to_vec()),
        placement: Placement { region: None, labels: vec![] },
    }
}

/// What `tessera_quoteJob` is asked for a job posted with `spec`.
fn quote_params(spec: &JobSpec) -> QuoteParams {
    let Input::Inline(input) = &spec.input else {
        unreachable!("the test's inputs are inline")
    };
    let t = &spec.terms;
    QuoteParams {
        fuel_limit: t.fuel_limit,
        replicas: t.replicas,
        max_price_per_fuel: t.max_price_per_fuel,
        min_reputation: ApiPermill::from_parts(t.min_reputation.0),
        input: InputSize::Inline(input.len() as u32),
        max_output_len: t.max_output_len,
        region: spec.placement.region.clone(),
        labels: spec.placement.labels.clone(),
    }
}

fn salt(who: &Signer) -> [u8; 32] {
    sp_io::hashing::blake2_256(&who.account().0)
}

fn commit(who: &Signer, job: JobId, r: &Receipt) -> impl Payload {
    let c = commitment(job, &who.account().0, r, &salt(who));
    chain::transactions().market().commit(job, H256::from(c.0))
}

fn reveal(who: &Signer, job: JobId, r: &Receipt, output: &[u8]) -> impl Payload {
    chain::transactions().market().reveal(
        job,
        receipt_to_chain(r),
        salt(who),
        output.to_vec(),
    )
}

fn market(e: &Event) -> Option<&Market> {
    match e {
        Event::Market(m) => Some(m),
        _ => None,
    }
}

/// `pallet::error` of a failed extrinsic, named from the metadata of its block.
fn dispatch_name(metadata: &Metadata, e: &DispatchError) -> String {
    match e {
        DispatchError::Module(m) => metadata
            .pallet_by_error_index(m.index)
            .and_then(|p| {
                p.error_variant_by_index(m.error[0]).map(|v| format!("{}::{}", p.name(), v.name))
            })
            .unwrap_or_else(|| format!("{m:?}")),
        other => format!("{other:?}"),
    }
}

/// A signed transaction in flight.
type Tx<'a> = LocalBoxFuture<'a, Result<Included, Error>>;

/// Submits `txs` at once (the client hands out each account's nonces, so they never collide) and
/// waits until every one is in a block; fails the test if any is refused.
async fn all(what: &str, txs: Vec<Tx<'_>>) -> Vec<Included> {
    join_all(txs).await.into_iter().map(|r| ok(what, r)).collect()
}

/// The dev node, the client, and every event of every block seen so far.
struct DevChain {
    node: DevNode,
    client: Client,
    /// (block number, event), in order.
    events: Vec<(u64, Event)>,
    /// Failed extrinsics: (block number, `pallet::error`).
    failures: Vec<(u64, String)>,
    next_block: u64,
}

impl DevChain {
    async fn start() -> DevChain {
        let dir = std::env::temp_dir();
        let mut node =
            DevNode::start(&dir, &format!("tessera-market-dev-chain-{}", std::process::id()), &[]);
        let client = node.connect(STARTUP).await;
        DevChain { node, client, events: Vec::new(), failures: Vec::new(), next_block: 1 }
    }

    /// `call` signed by `who`, to submit with others through [`all`].
    fn tx<'a, C: Payload + 'a>(&'a self, who: &'a Signer, call: C) -> Tx<'a> {
        Box::pin(async move { self.client.submit(who, &call).await })
    }

    /// Reads the events of the blocks up to the best one.
    async fn poll(&mut self) {
        let Ok(best) = self.client.best_number().await else { return };
        while self.next_block <= best {
            let n = self.next_block;
            let Ok(at) = self.client.chain().at_block(n).await else { return };
            let Ok(events) = at.events().fetch().await else { return };
            for event in events.iter() {
                let event = event
                    .expect("event")
                    .decode_as::<Event>()
                    .expect("decodes with the block's metadata");
                if let Event::System(System::ExtrinsicFailed { dispatch_error, .. }) = &event {
                    self.failures.push((n, dispatch_name(at.metadata_ref(), dispatch_error)));
                }
                self.events.push((n, event));
            }
            self.next_block += 1;
        }
    }

    /// Polls new blocks until `f` finds what it looks for in the events so far; fails on any
    /// failed extrinsic, or when the node exits or `BLOCKS` pass.
    async fn wait<T>(&mut self, what: &str, f: impl Fn(&[(u64, Event)]) -> Option<T>) -> T {
        let deadline = Instant::now() + BLOCKS;
        loop {
            self.poll().await;
            assert!(self.failures.is_empty(), "extrinsics failed: {:?}", self.failures);
            if let Some(v) = f(&self.events) {
                return v;
            }
            if !self.node.process.is_running() {
                panic!(
                    "tessera-node exited while waiting for {what}:\n{}",
                    self.node.process.log_tail(40)
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out after {BLOCKS:?} waiting for {what}:\n{}",
                    self.node.process.log_tail(40)
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// [`Self::wait`] for the first event `f` picks out.
    async fn wait_event<T>(&mut self, what: &str, f: impl Fn(&Event) -> Option<T>) -> T {
        self.wait(what, |events| events.iter().find_map(|(_, e)| f(e))).await
    }

    /// A `tessera_*` method's answer as raw JSON.
    async fn json(&self, method: &str, params: ArrayParams) -> Value {
        ok(method, self.client.request::<Value>(method, params).await)
    }
}

/// Walks `tessera_*` JSON answers and collects what breaks the namespace's one naming
/// convention: every object key, and every enum value that serializes as a string, camelCase.
#[derive(Default)]
struct Naming {
    keys: BTreeSet<String>,
    words: BTreeSet<String>,
    wrong: Vec<String>,
}

impl Naming {
    fn check(&mut self, path: &str, v: &Value) {
        match v {
            Value::Object(map) => {
                for (key, v) in map {
                    if !is_camel_case(key) {
                        self.wrong.push(format!("{path}: key `{key}`"));
                    }
                    self.keys.insert(key.clone());
                    self.check(&format!("{path}.{key}"), v);
                }
            },
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    self.check(&format!("{path}[{i}]"), v);
                }
            },
            Value::String(s) if is_word(s) => {
                if !is_camel_case(s) {
                    self.wrong.push(format!("{path}: value \"{s}\""));
                }
                self.words.insert(s.clone());
            },
            _ => {},
        }
    }
}

/// camelCase: starts with a lowercase ASCII letter, then ASCII letters and digits (no `_`).
fn is_camel_case(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Whether a JSON string is shaped like a name (how a unit enum variant serializes) rather than
/// data: accounts are SS58 and start with a digit on this chain (prefix 42: `5…`), balances are
/// decimal, hashes and bytes `0x…` hex; free text with spaces or dashes is not a name either.
fn is_word(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The named dispatch error of a transaction that must fail, as `pallet::error`.
fn refused(what: &str, r: Result<Included, Error>) -> String {
    match r {
        Err(Error::Dispatch { pallet, error }) => format!("{pallet}::{error}"),
        Err(e) => panic!("{what}: failed, but not in dispatch: {e}"),
        Ok(included) => panic!("{what}: accepted in block {:?}", included.block),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_settle_on_a_dev_chain_through_signed_extrinsics() {
    let mut dev = DevChain::start().await;
    let [alice, bob, charlie, dave, eve, ferdie] =
        ["//Alice", "//Bob", "//Charlie", "//Dave", "//Eve", "//Ferdie"]
            .map(|s| Signer::from_suri(s).expect("dev key"));
    let providers = [&bob, &charlie, &dave, &eve, &ferdie];
    let mut naming = Naming::default();

    // A real program: the validator's auditor re-executes a sample of agreed results and rightly
    // challenges one its re-execution does not reproduce, so the honest replicas below report
    // what the program computes (the chain's own referee says what that is).
    let code = tessera_examples::HASH_CHAIN.to_vec();
    let program = H256::from(program_id(&code).0);

    // The market's parameters, as the chain reports them.
    let at = ok("the best block", dev.client.at_best().await);
    let constants = at.constants();
    let market_constants = chain::constants().market();
    let protocol_fee = Perbill::from_parts(
        constants.entry(market_constants.protocol_fee()).expect("ProtocolFee").0,
    );
    let deposit_base = constants.entry(market_constants.deposit_base()).expect("DepositBase");
    let deposit_per_byte =
        constants.entry(market_constants.deposit_per_byte()).expect("DepositPerByte");

    // Before anything is registered: the chain's quote is the protocol's arithmetic, no
    // provider could take the job, and bad terms are refused with the market's error name.
    let quote: QuoteView = dev
        .client
        .rpc()
        .quote_job(quote_params(&spec(program, 2)), None)
        .await
        .expect("tessera_quoteJob");
    let expected = pricing::quote(FUEL_LIMIT, 1u128, 2, protocol_fee).expect("no overflow");
    // PROTOCOL.md: a job's storage deposit is DepositBase + DepositPerByte × (inline input bytes
    // + max_output_len).
    let deposit =
        deposit_base + deposit_per_byte * (INPUT.len() as u128 + u128::from(MAX_OUTPUT_LEN));
    assert_eq!(
        (
            quote.per_replica_max,
            quote.payment_max,
            quote.protocol_fee_max,
            quote.escrow,
            quote.deposit
        ),
        (
            expected.per_replica_max,
            expected.payment_max,
            expected.protocol_fee_max,
            expected.escrow,
            deposit
        )
    );
    assert_eq!(quote.total_held, expected.escrow + deposit);
    assert_eq!((quote.eligible_providers, quote.lowest_price_per_fuel), (0, None));
    let mut no_replicas = spec(program, 1);
    no_replicas.terms.replicas = 0;
    let refusal = dev.client.rpc().quote_job(quote_params(&no_replicas), None).await;
    assert!(
        matches!(&refusal, Err(RpcError::Call(e))
            if e.code() == tessera_client::rpc::QUOTE_REFUSED && e.message() == "Market::BadReplicas"),
        "{refusal:?}"
    );
    let none: Option<ProviderView> = dev
        .client
        .rpc()
        .provider(api_account(&bob.account()), None)
        .await
        .expect("tessera_provider");
    assert!(none.is_none(), "Bob is not registered yet");

    // A program, five providers, and four jobs: honest, disputed, cancelled, and one nobody can
    // take (it asks for a perfect reputation).
    let upload = chain::transactions().programs().upload_program(code.clone());
    ok("upload", dev.client.submit(&alice, &upload).await);
    let mut picky = spec(program, 1);
    picky.terms.min_reputation = Permill(1_000_000);
    let posts = [spec(program, 2), spec(program, 2), spec(program, 1), picky];
    let profile = || Profile {
        capacity: 4,
        price_per_fuel: 1,
        region: b"dev".to_vec(),
        labels: Vec::new(),
    };
    let mut txs: Vec<Tx> = providers
        .iter()
        .map(|&who| {
            dev.tx(who, chain::transactions().providers().register(2_000 * UNIT, profile()))
        })
        .collect();
    txs.extend(
        posts.iter().map(|s| dev.tx(&alice, chain::transactions().market().post_job(s.clone()))),
    );
    let included = all("register and post", txs).await;
    let (registered, posted) = included.split_at(providers.len());
    for (who, included) in providers.iter().zip(registered) {
        let event = included.events.find_first::<chain::providers::events::Registered>();
        let event = event.expect("Registered").expect("decodes");
        assert_eq!(
            (event.who, event.stake),
            (who.account(), 2_000 * UNIT),
            "{} registered",
            who.address()
        );
    }
    let ids: Vec<JobId> = posted
        .iter()
        .map(|i| {
            i.events
                .find_first::<chain::market::events::JobPosted>()
                .expect("JobPosted")
                .expect("decodes")
                .job
        })
        .collect();
    let [honest_job, split_job, cancelled_job, picky_job] = ids[..] else {
        unreachable!("four posts")
    };
    let mut by_id = ids.clone();
    by_id.sort();
    assert_eq!(by_id, (by_id[0]..by_id[0] + 4).collect::<Vec<_>>(), "job ids are a counter");

    // The RPC's view of the registered market.
    let bob_view: ProviderView = dev
        .client
        .rpc()
        .provider(api_account(&bob.account()), None)
        .await
        .expect("tessera_provider")
        .expect("registered");
    assert_eq!(
        (bob_view.stake, bob_view.capacity, bob_view.live_assignments, bob_view.price_per_fuel),
        (2_000 * UNIT, 4, 0, 1)
    );
    assert_eq!((bob_view.region.as_slice(), bob_view.unavailable), (&b"dev"[..], None));
    let quote = dev
        .client
        .rpc()
        .quote_job(quote_params(&spec(program, 2)), None)
        .await
        .expect("tessera_quoteJob");
    assert_eq!((quote.eligible_providers, quote.lowest_price_per_fuel), (5, Some(1)));
    let why: Unmatched = dev
        .client
        .rpc()
        .why_unmatched(picky_job, None)
        .await
        .expect("tessera_whyUnmatched")
        .expect("known");
    assert_eq!((why.status, why.open_slots, why.providers), (JobStatus::Open, 1, 5));
    assert!(why.eligible.is_empty(), "{why:?}");
    assert_eq!(why.refusals.len(), 5);
    assert!(why.refusals.iter().all(|r| r.reason == Reason::ReputationTooLow), "{why:?}");
    assert_eq!(
        why.summary.iter().map(|c| (c.reason, c.count)).collect::<Vec<_>>(),
        vec![(Reason::ReputationTooLow, 5)]
    );
    let why = dev
        .client
        .rpc()
        .why_unmatched(honest_job, None)
        .await
        .expect("tessera_whyUnmatched")
        .expect("known");
    assert_eq!(why.eligible.len(), 5, "every provider could take the honest job: {why:?}");
    let open: JobPage = dev
        .client
        .rpc()
        .jobs(Some(JobStatus::Open), Some(by_id[0]), Some(2), None)
        .await
        .expect("tessera_jobs");
    assert_eq!(open.jobs.iter().map(|j| j.id).collect::<Vec<_>>(), by_id[..2].to_vec());
    assert_eq!(open.next, Some(by_id[2]), "a third open job follows on the next page");
    assert!(open.jobs.iter().all(|j| j.status == JobStatus::Open && j.live.is_some()));
    let unknown = dev
        .client
        .rpc()
        .why_unmatched(picky_job + 1_000, None)
        .await
        .expect("tessera_whyUnmatched");
    assert!(unknown.is_none());
    naming
        .check("tessera_provider", &dev.json("tessera_provider", rpc_params![bob.address()]).await);
    naming.check(
        "tessera_quoteJob",
        &dev.json("tessera_quoteJob", rpc_params![quote_params(&spec(program, 2))]).await,
    );
    naming.check(
        "tessera_whyUnmatched",
        &dev.json("tessera_whyUnmatched", rpc_params![picky_job]).await,
    );
    naming.check("tessera_job(open)", &dev.json("tessera_job", rpc_params![picky_job]).await);

    // Bob and Charlie claim both two-replica jobs; Dave claims the third, which Alice then
    // cancels.
    let claim = |job| chain::transactions().market().claim_slot(job);
    let mut txs = Vec::new();
    for job in [honest_job, split_job] {
        for who in [&bob, &charlie] {
            txs.push(dev.tx(who, claim(job)));
        }
    }
    txs.push(dev.tx(&dave, claim(cancelled_job)));
    all("claim", txs).await;
    for job in [honest_job, split_job, cancelled_job] {
        dev.wait_event(&format!("job {job} assigned"), |e| match market(e)? {
            Market::JobAssigned { job: j, .. } if *j == job => Some(()),
            _ => None,
        })
        .await;
    }
    ok(
        "cancel",
        dev.client.submit(&alice, &chain::transactions().market().cancel_job(cancelled_job)).await,
    );

    // What the program computes, as the chain's referee runs it.
    let refereed = ok("the best block", dev.client.at_best().await)
        .runtime_apis()
        .call(chain::runtime_apis().tessera_api().referee(code, INPUT.to_vec(), FUEL_LIMIT, MAX_OUTPUT_LEN))
        .await
        .expect("TesseraApi_referee");
    let (truth, output) = match refereed {
        Ok((receipt, output)) => (receipt_from_chain(&receipt), output),
        Err(refusal) => panic!("the referee refused the hash chain: {refusal:?}"),
    };
    assert_eq!(truth.status, ExitStatus::Ok, "{truth:?}");
    assert!(truth.fuel_used > 0 && truth.fuel_used <= FUEL_LIMIT, "{truth:?}");
    assert_eq!(output, tessera_examples::reference::hash_chain(INPUT), "the native hash chain's final link");
    assert_eq!(INPUT, tessera_examples::input::hash_chain(2, b"d"));
    let output = &output[..];

    // Commitments. On the split job Charlie commits to a forged output.
    let forged = Receipt::new(ExitStatus::Ok, truth.fuel_used, b"forged");
    let commits = [
        (&bob, honest_job, truth),
        (&charlie, honest_job, truth),
        (&bob, split_job, truth),
        (&charlie, split_job, forged),
    ];
    all("commit", commits.iter().map(|&(who, job, r)| dev.tx(who, commit(who, job, &r))).collect())
        .await;
    dev.wait_event("reveals open", |e| match market(e)? {
        Market::RevealOpened { job, .. } if *job == split_job => Some(()),
        _ => None,
    })
    .await;
    let cancelled = dev
        .wait_event("the cancellation", |e| match market(e)? {
            Market::JobEnded { job, outcome: Outcome::Cancelled, paid, .. }
                if *job == cancelled_job =>
            {
                Some(*paid)
            },
            _ => None,
        })
        .await;
    assert_eq!(cancelled, u128::from(FUEL_LIMIT) / 10, "Dave is compensated 10 % of the fuel limit × 1 planck");

    // Reveals.
    let reveals = [
        (&bob, honest_job, truth, output),
        (&charlie, honest_job, truth, &b""[..]),
        (&bob, split_job, truth, output),
        (&charlie, split_job, forged, &b"forged"[..]),
    ];
    all(
        "reveal",
        reveals.iter().map(|&(who, job, r, out)| dev.tx(who, reveal(who, job, &r, out))).collect(),
    )
    .await;
    let window_end = dev
        .wait_event("the honest replicas agree", |e| match market(e)? {
            Market::ResultAgreed { job, challenge_until, .. } if *job == honest_job => {
                Some(*challenge_until)
            },
            _ => None,
        })
        .await;
    // A live job with revealed receipts, in its challenge window.
    let challengeable = dev.json("tessera_job", rpc_params![honest_job]).await;
    assert_eq!(challengeable["status"], "challengeable", "{challengeable}");
    naming.check("tessera_job(challengeable)", &challengeable);

    // The split job: a committee of the other providers is drawn; they seal votes for the
    // truth, then open them.
    let (round, jurors) = dev
        .wait_event("a committee", |e| match market(e)? {
            Market::CommitteeDrawn { job, round, jurors, .. } if *job == split_job => {
                Some((*round, jurors.0.clone()))
            },
            _ => None,
        })
        .await;
    assert!(!jurors.is_empty());
    let disputed = dev.json("tessera_job", rpc_params![split_job]).await;
    assert_eq!(disputed["status"], "disputed", "{disputed}");
    naming.check("tessera_job(disputed)", &disputed);
    let seated: Vec<&Signer> =
        [&dave, &eve, &ferdie].into_iter().filter(|who| jurors.contains(&who.account())).collect();
    let votes: Vec<Tx> = seated
        .iter()
        .map(|who| {
            let seal = vote_commitment(split_job, round, &who.account().0, &truth, &salt(who));
            dev.tx(who, chain::transactions().market().vote(split_job, H256::from(seal.0)))
        })
        .collect();
    all("vote", votes).await;
    // The last sealed vote opened the reveals of votes.
    let reveals: Vec<Tx> = seated
        .iter()
        .map(|who| {
            let call = chain::transactions().market().reveal_vote(split_job, receipt_to_chain(&truth), salt(who));
            dev.tx(who, call)
        })
        .collect();
    all("reveal_vote", reveals).await;
    let resolved = dev
        .wait_event("the dispute resolved", |e| match market(e)? {
            Market::DisputeResolved { job, receipt } if *job == split_job => Some(receipt.clone()),
            _ => None,
        })
        .await;
    assert_eq!(resolved, receipt_to_chain(&truth));
    let liar = charlie.account();
    let slashed = dev.events.iter().find_map(|(_, e)| match market(e)? {
        Market::WrongResult { job, provider, slashed }
            if *job == split_job && *provider == liar =>
        {
            Some(*slashed)
        },
        _ => None,
    });
    assert_eq!(
        slashed,
        Some(200 * UNIT),
        "10 % of Charlie's 2,000 TSR stake is scheduled for slashing"
    );

    // The honest job is left alone and settles by itself when its window closes.
    let (block, paid, fee) = dev
        .wait("the honest job to settle", |events| {
            events.iter().find_map(|(b, e)| match market(e)? {
                Market::JobEnded { job, outcome: Outcome::Settled, paid, fee, .. }
                    if *job == honest_job =>
                {
                    Some((*b, *paid, *fee))
                },
                _ => None,
            })
        })
        .await;
    assert_eq!(block, u64::from(window_end), "settled in the block its window closed");
    assert_eq!(paid, 2 * u128::from(truth.fuel_used), "2 replicas × the fuel used × 1");
    let per_replica = pricing::replica_payment(truth.fuel_used, 1u128).expect("no overflow");
    assert_eq!(
        (paid, fee),
        (2 * per_replica, 2 * pricing::fee_on(per_replica, protocol_fee)),
        "as pricing defines: the fee is taken on each replica's payment, rounded up"
    );
    let at = ok("the best block", dev.client.at_best().await);
    let result = at
        .storage()
        .try_fetch(chain::storage().market().result_of(), (honest_job,))
        .await
        .expect("storage")
        .expect("the result is kept")
        .decode()
        .expect("decodes");
    assert_eq!(result.receipt, Some(receipt_to_chain(&truth)));
    assert_eq!(result.output.map(|o| o.0), Some(output.to_vec()), "output kept");
    let live = at
        .storage()
        .try_fetch(chain::storage().market().job_of(), (honest_job,))
        .await
        .expect("storage");
    assert!(live.is_none(), "the live job's storage is gone");

    // The RPC tells the same story.
    let view: JobView =
        dev.client.rpc().job(honest_job, None).await.expect("tessera_job").expect("kept");
    assert_eq!((view.status, view.live.is_none()), (JobStatus::Settled, true));
    let ended = view.result.expect("an ended job has a result");
    assert_eq!((ended.paid, ended.fee, ended.receipt), (paid, fee, Some(truth)));
    assert_eq!(ended.output.as_deref(), Some(output));
    let settled = dev
        .client
        .rpc()
        .jobs(Some(JobStatus::Settled), None, None, None)
        .await
        .expect("tessera_jobs");
    assert!(settled.jobs.iter().any(|j| j.id == honest_job), "{settled:?}");
    assert!(settled.jobs.iter().all(|j| j.status == JobStatus::Settled));
    let why = dev
        .client
        .rpc()
        .why_unmatched(honest_job, None)
        .await
        .expect("tessera_whyUnmatched")
        .expect("kept");
    assert_eq!((why.status, why.open_slots), (JobStatus::Settled, 0));

    // One naming convention across the namespace: a settled job with its receipt, every job,
    // and what was collected above (a provider, a quote, an unmatched job, open, challengeable
    // and disputed jobs).
    naming.check("tessera_job(settled)", &dev.json("tessera_job", rpc_params![honest_job]).await);
    naming.check("tessera_jobs", &dev.json("tessera_jobs", rpc_params![]).await);
    assert!(
        naming.wrong.is_empty(),
        "the tessera_* JSON is not all camelCase:\n{}",
        naming.wrong.join("\n")
    );
    // (The walk reached the nested views and their enums.)
    for key in [
        "fuelUsed",
        "outputHash",
        "pricePerFuel",
        "liveAssignments",
        "totalHeld",
        "openSlots",
        "endedAt",
        "jurors",
    ] {
        assert!(naming.keys.contains(key), "no `{key}` among {:?}", naming.keys);
    }
    for word in ["ok", "open", "challengeable", "disputed", "settled", "reputationTooLow"] {
        assert!(naming.words.contains(word), "no \"{word}\" among {:?}", naming.words);
    }

    // An ended job takes no more calls: its result is in ResultOf. An id that was never used is
    // not found.
    let next_id: JobId = at
        .storage()
        .try_fetch(chain::storage().market().next_job_id(), ())
        .await
        .expect("storage")
        .expect("jobs were posted")
        .decode()
        .expect("decodes");
    let never = next_id + 1_000;
    let mut calls = Vec::new();
    let mut txs = Vec::new();
    for (job, error) in [(honest_job, "Market::JobEnded"), (never, "Market::JobNotFound")] {
        calls.extend([
            (format!("reveal({job})"), error),
            (format!("challenge({job})"), error),
            (format!("cancel_job({job})"), error),
        ]);
        txs.extend([
            dev.tx(&bob, reveal(&bob, job, &truth, output)),
            dev.tx(&dave, chain::transactions().market().challenge(job)),
            dev.tx(&alice, chain::transactions().market().cancel_job(job)),
        ]);
    }
    // Arguments one byte over their bounds (the constants in metadata) are not a trap in the
    // transaction pool: they are included and fail with named errors.
    let consts = at.constants();
    let max_input = consts.entry(chain::constants().market().max_input_len()).expect("MaxInputLen");
    let max_region = consts.entry(chain::constants().providers().max_region_len()).expect("MaxRegionLen");
    let max_program = consts.entry(chain::constants().programs().max_program_size()).expect("MaxProgramSize");
    let mut too_long = spec(program, 1);
    too_long.input = Input::Inline(vec![0; max_input as usize + 1]);
    let long_profile =
        Profile { capacity: 4, price_per_fuel: 1, region: vec![b'r'; max_region as usize + 1], labels: Vec::new() };
    let big_program = vec![0u8; max_program as usize + 1];
    calls.extend([
        ("post_job(input of MaxInputLen + 1)".to_string(), "Market::InputTooLong"),
        ("update_profile(region of MaxRegionLen + 1)".to_string(), "Providers::RegionTooLong"),
        ("upload_program(MaxProgramSize + 1 bytes)".to_string(), "Programs::ProgramTooLarge"),
    ]);
    txs.extend([
        dev.tx(&alice, chain::transactions().market().post_job(too_long)),
        dev.tx(&bob, chain::transactions().providers().update_profile(long_profile)),
        dev.tx(&alice, chain::transactions().programs().upload_program(big_program)),
    ]);
    for ((what, error), r) in calls.iter().zip(join_all(txs).await) {
        assert_eq!(refused(what, r), *error, "{what}");
    }
    // Those nine are the only extrinsics that ever failed.
    dev.poll().await;
    let mut failed: Vec<&str> = dev.failures.iter().map(|(_, e)| e.as_str()).collect();
    failed.sort();
    let mut expected =
        [["Market::JobEnded"; 3].as_slice(), &["Market::JobNotFound"; 3], &["Market::InputTooLong", "Programs::ProgramTooLarge", "Providers::RegionTooLong"]]
            .concat();
    expected.sort();
    assert_eq!(failed, expected, "{:?}", dev.failures);

    drop(at);
    let status = dev.node.process.stop(Duration::from_secs(60));
    assert!(status.success() || status.code().is_none(), "unclean exit: {status}");
}

/// The naming walk flags what it is meant to: the receipt as it used to come out
/// (`fuel_used`, `output_hash`), a PascalCase enum value, a nested key; and leaves data alone
/// (SS58 accounts, decimal balances, hex).
#[test]
fn the_naming_walk_catches_snake_case_keys_and_pascal_case_values() {
    let mut naming = Naming::default();
    naming.check(
        "job",
        &serde_json::json!({
            "requester": "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
            "status": "Settled",
            "result": { "paid": "1200", "receipt": { "status": "ok", "fuel_used": 600, "output_hash": "0x00" } },
            "live": { "slots": [{ "Provider": "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty" }] },
        }),
    );
    naming.wrong.sort();
    assert_eq!(
        naming.wrong,
        [
            "job.live.slots[0]: key `Provider`",
            "job.result.receipt: key `fuel_used`",
            "job.result.receipt: key `output_hash`",
            "job.status: value \"Settled\"",
        ]
    );
}
