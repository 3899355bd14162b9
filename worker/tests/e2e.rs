//! End to end: a real `tessera-node --dev --tmp` and real `tessera-worker` processes, driven only
//! through JSON-RPC with `tessera-client`, as a requester would.
//!
//! (a) two honest workers settle a two-replica job and the balances move exactly as
//!     docs/PROTOCOL.md says;
//! (b) a lying worker (the `test-hooks` build's `--dishonest-for-tests`) is caught: by an
//!     automatic dispute when it disagrees with an honest replica, and by an auditor's challenge
//!     when it is the only replica; it is slashed, the honest replica is paid, the challenger
//!     gets its bond back and a pending share of the slash;
//!     small disputes are decided by the runtime's referee, a large one by a committee;
//! (e) the dev validator's off-chain auditor catches a lone liar nobody else checks: it
//!     challenges with Alice's auditor key, the referee decides, the requester is refunded;
//! (c) a worker killed with -9 between commit and reveal is restarted, reveals with the salt from
//!     its database and is paid;
//! (d) the `tessera` CLI posts the Mandelbrot job (quoted by the node's `tessera_quoteJob`),
//!     follows it to settlement and writes the image, which equals the native build's; the
//!     worker's `/metrics` shows the job.
//!
//! The binaries are the ones the workspace build put next to this test.

use std::{collections::BTreeMap, process::Command, time::Duration};

use tessera_client::{
    api::{JobStatus, JobView, ResultView},
    chain::{
        self,
        runtime_types::{
            pallet_market::types::{Input, JobSpec, JobTerms},
            sp_arithmetic::per_things::{Perbill, Permill},
            tessera_traits::Placement,
        },
        Event,
    },
    testing::{binary, free_port, metric, scrape, DevNode, Process},
    AccountId, Balance, Client, Signer, TesseraRpcClient, H256, UNIT,
};
use tessera_executor::{Compiler, Engine, ProgramLimits, RunLimits};
use tessera_primitives::{JobId, Receipt};

struct Chain {
    node: DevNode,
    client: Client,
    dir: tempfile::TempDir,
}

impl Chain {
    async fn start(name: &str) -> Chain {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut node = DevNode::start(dir.path(), name, &["--no-prometheus"]);
        let client = node.connect(Duration::from_secs(300)).await;
        Chain { node, client, dir }
    }

    fn url(&self) -> String {
        self.node.url()
    }

    /// Starts a worker for `suri` registering with `price` plancks per fuel.
    fn worker(&self, suri: &str, price: u128, extra: &[&str]) -> Process {
        let name = suri.trim_start_matches("//").to_lowercase();
        let mut cmd = Command::new(binary("tessera-worker"));
        cmd.args(["--node", &self.url(), "--suri", suri, "--register-stake", "2000", "--register-capacity", "2"])
            .args(["--register-price", &format!("0.{price:012}")])
            .arg("--data-dir")
            .arg(self.dir.path().join(format!("data-{name}")))
            .args(extra)
            .env("RUST_LOG", "info");
        Process::spawn(cmd, self.dir.path().join(format!("worker-{name}.log")))
    }

    fn log(&self, file: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(file)).unwrap_or_default()
    }

    /// Polls `f` every half second until it returns `Some`, for up to `blocks` blocks.
    async fn until<T, F, Fut>(&self, what: &str, blocks: u64, mut f: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = std::time::Instant::now() + Duration::from_secs(6 * blocks + 30);
        loop {
            if let Some(v) = f().await {
                return v;
            }
            if std::time::Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what}\n--- node ---\n{}\n--- workers ---\n{}",
                    tail(&self.log_glob("node")),
                    tail(&self.log_glob("worker"))
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    fn log_glob(&self, prefix: &str) -> String {
        let mut all = String::new();
        for entry in std::fs::read_dir(self.dir.path()).expect("dir").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(prefix) || name.contains(&format!("-{prefix}")) {
                all.push_str(&format!("== {name}\n{}\n", self.log(&name)));
            }
        }
        all
    }

    async fn registered(&self, who: &[&Signer]) {
        for s in who {
            let account = tessera_client::api_account(&s.account());
            self.until(&format!("{} registered", s.address()), 20, || async {
                self.client.rpc().provider(account.clone(), None).await.ok().flatten().map(|_| ())
            })
            .await;
        }
    }

    async fn post(&self, requester: &Signer, program: H256, input: &[u8], replicas: u32, fuel: u64) -> JobId {
        self.post_terms(requester, terms(program, replicas, fuel), input).await
    }

    async fn post_terms(&self, requester: &Signer, terms: JobTerms, input: &[u8]) -> JobId {
        let spec = JobSpec {
            terms,
            input: Input::Inline(input.to_vec()),
            placement: Placement { region: None, labels: vec![] },
        };
        let included = self.client.submit(requester, &chain::transactions().market().post_job(spec)).await.expect("post_job");
        included.events.find_first::<chain::market::events::JobPosted>().expect("events decode").expect("JobPosted").job
    }

    async fn upload(&self, who: &Signer, code: &[u8]) -> H256 {
        let id = tessera_primitives::program::program_id(code);
        let call = chain::transactions().programs().upload_program(code.to_vec());
        self.client.submit(who, &call).await.expect("upload");
        H256::from(id.0)
    }

    async fn job(&self, job: JobId) -> Option<JobView> {
        self.client.rpc().job(job, None).await.expect("tessera_job")
    }

    /// The kept result of an ended job, with its outcome.
    async fn result(&self, job: JobId) -> (JobStatus, ResultView) {
        let view = self.job(job).await.expect("the job is known");
        (view.status, view.result.expect("the job ended"))
    }

    /// Every event of blocks `from..=to`.
    async fn events(&self, from: u64, to: u64) -> Vec<Event> {
        let mut all = Vec::new();
        for n in from..=to {
            let at = self.client.chain().at_block(n).await.expect("block exists");
            for event in at.events().fetch().await.expect("events").iter() {
                all.push(event.expect("event").decode_as::<Event>().expect("decodes with the block's metadata"));
            }
        }
        all
    }

    /// Waits for `job` to end; returns the block it ended in.
    async fn ended(&self, job: JobId, blocks: u64) -> u64 {
        self.until(&format!("job {job} to end"), blocks, || async {
            Some(u64::from(self.job(job).await?.result?.ended_at))
        })
        .await
    }

    async fn best(&self) -> u64 {
        self.client.best_number().await.expect("best block")
    }

    async fn free(&self, at: u64, who: &AccountId) -> Balance {
        let hash = self.client.chain().at_block(at).await.expect("block").block_hash();
        self.client.free_balance(who, Some(hash)).await.expect("balance")
    }

    async fn limits(&self) -> ProgramLimits {
        let at = self.client.at_best().await.expect("best");
        Client::program_limits(&at).expect("the chain's program limits")
    }
}

/// The terms the tests post with: 1 planck per fuel, 30 blocks to claim and to execute, the
/// shortest challenge window.
fn terms(program: H256, replicas: u32, fuel: u64) -> JobTerms {
    JobTerms {
        program,
        fuel_limit: fuel,
        replicas,
        max_price_per_fuel: 1,
        min_reputation: Permill(0),
        max_output_len: 1024,
        claim_timeout: 30,
        execution_timeout: 30,
        challenge_window: 10,
    }
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(80)..].join("\n")
}

fn signer(suri: &str) -> Signer {
    Signer::from_suri(suri).expect("dev key")
}

/// What an honest replica computes, by running the same executor locally.
fn honest_receipt(limits: &ProgramLimits, code: &[u8], input: &[u8], fuel: u64) -> Receipt {
    let program = tessera_executor::prepare(code, limits).expect("valid");
    let run = RunLimits { fuel, max_memory_pages: limits.max_memory_pages, max_output_len: 1024 };
    Compiler::new(Duration::from_secs(60)).expect("engine").execute(&program, input, &run).expect("runs").receipt
}

/// Transaction fees each account paid in `events`.
fn fees(events: &[Event]) -> BTreeMap<AccountId, Balance> {
    use chain::runtime_types::pallet_transaction_payment::pallet::Event as Fee;
    let mut fees = BTreeMap::new();
    for e in events {
        if let Event::TransactionPayment(Fee::TransactionFeePaid { who, actual_fee, tip }) = e {
            *fees.entry(who.clone()).or_default() += actual_fee + tip;
        }
    }
    fees
}

use chain::runtime_types::pallet_market::pallet::Event as Market;

/// A fuel limit the runtime's referee decides disputes of (`RefereeFuelLimit`).
const REFEREED_FUEL: u64 = 10_000_000;
/// One above it: a committee decides.
const COMMITTEE_FUEL: u64 = REFEREED_FUEL + 1;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_honest_workers_settle_a_job_and_balances_move_as_documented() {
    let chain = Chain::start("honest").await;
    let (alice, bob, charlie) = (signer("//Alice"), signer("//Bob"), signer("//Charlie"));
    let code = tessera_examples::HASH_CHAIN;
    let program = chain.upload(&alice, code).await;
    let _workers = [chain.worker("//Bob", 1, &[]), chain.worker("//Charlie", 1, &[])];
    chain.registered(&[&bob, &charlie]).await;

    let input = tessera_examples::input::hash_chain(20_000, b"e2e");
    let fuel = 10_000_000;
    let before = chain.best().await;
    let job = chain.post(&alice, program, &input, 2, fuel).await;
    let ended = chain.ended(job, 80).await;
    let events = chain.events(before + 1, ended).await;

    // The receipt both replicas revealed is what the executor computes here.
    let expected = honest_receipt(&chain.limits().await, code, &input, fuel);
    let (status, result) = chain.result(job).await;
    assert_eq!(status, JobStatus::Settled);
    assert_eq!(result.receipt, Some(expected));
    assert_eq!(result.output, Some(tessera_examples::reference::hash_chain(&input)));

    // PROTOCOL.md: each replica is paid fuel_used × its price (1 planck); the fee is 5 % of each
    // payment, rounded up; the requester gets back escrow − paid − fee.
    let per_replica = Balance::from(expected.fuel_used);
    let escrow = 2 * Balance::from(fuel) + 2 * Balance::from(fuel).div_ceil(20);
    assert_eq!(result.paid, 2 * per_replica);
    assert_eq!(result.fee, 2 * per_replica.div_ceil(20));
    assert_eq!(result.refunded, escrow - result.paid - result.fee);
    let mut rewards = BTreeMap::new();
    for e in &events {
        if let Event::Market(Market::ReplicaPaid { job: j, provider, payment, reward }) = e {
            assert_eq!((*j, *payment), (job, per_replica));
            rewards.insert(provider.clone(), *reward);
        }
    }
    assert_eq!(rewards.len(), 2, "both replicas paid: {rewards:?}");

    // Free balances, from just before the post to the settlement block, change by exactly
    // that, less transaction fees (from the chain's own fee events).
    let fees = fees(&events);
    for who in [&bob, &charlie] {
        let account = who.account();
        let delta = chain.free(ended, &account).await as i128 - chain.free(before, &account).await as i128;
        let fee = fees.get(&account).copied().unwrap_or_default() as i128;
        assert_eq!(delta, (per_replica + rewards[&account]) as i128 - fee, "{}", who.address());
    }
    // Each replica's duties were free (PROTOCOL.md, "Economics"): it earned its payment and
    // half its fee as emission.
    for who in [&bob, &charlie] {
        assert_eq!(rewards[&who.account()], per_replica.div_ceil(20) / 2, "emission matched to the fee");
    }
    let account = alice.account();
    let delta = chain.free(ended, &account).await as i128 - chain.free(before, &account).await as i128;
    let fee = fees.get(&account).copied().unwrap_or_default() as i128;
    let posting_fee: Balance = events
        .iter()
        .filter_map(|e| match e {
            Event::Market(Market::JobPosted { job: j, posting_fee, .. }) if *j == job => Some(*posting_fee),
            _ => None,
        })
        .sum();
    assert!(posting_fee > 0, "the posting fee is charged");
    assert_eq!(delta, -((result.paid + result.fee + result.deposit + posting_fee) as i128) - fee, "requester");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_a_worker_killed_between_commit_and_reveal_reveals_after_restart_and_is_paid() {
    let chain = Chain::start("restart").await;
    let (alice, dave) = (signer("//Alice"), signer("//Dave"));
    let code = tessera_examples::MONTE_CARLO;
    let program = chain.upload(&alice, code).await;
    let mut worker = chain.worker("//Dave", 1, &[]);
    chain.registered(&[&dave]).await;

    let input = tessera_examples::input::monte_carlo(9, 20_000);
    let job = chain.post(&alice, program, &input, 1, 100_000_000).await;
    let account = tessera_client::api_account(&dave.account());
    // Kill -9 as soon as the commitment is on chain (the worker reveals only after seeing it
    // finalized, so this is between the two).
    chain
        .until("Dave's commitment", 40, || async {
            let live = chain.job(job).await?.live?;
            live.slots.iter().find(|s| s.provider == account && s.committed).map(|_| ())
        })
        .await;
    worker.kill9();
    let live = chain.job(job).await.expect("known").live.expect("live");
    assert!(live.slots[0].receipt.is_none(), "killed before revealing");
    tokio::time::sleep(Duration::from_secs(6)).await;
    let _restarted = chain.worker("//Dave", 1, &[]);

    chain.ended(job, 80).await;
    let (status, result) = chain.result(job).await;
    assert_eq!(status, JobStatus::Settled);
    assert_eq!(result.receipt, Some(honest_receipt(&chain.limits().await, code, &input, 100_000_000)));
    assert_eq!(result.paid, Balance::from(result.receipt.expect("receipt").fuel_used));
    assert!(chain.log("worker-dave.log").contains("worker started"));
}

/// A slot that frees after a worker lost the race for it is claimed by that worker with the work
/// it executed for the lost claim. Dave claims one slot of a two-replica job and vanishes; Bob
/// and Charlie start together, both execute the job and claim-and-commit the other slot, and one
/// of them loses. When Dave's commitment is due, his slot reopens: the loser must claim it, or
/// the job expires after the reopen timeout (the network test's chaos phase once saw this).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f_a_worker_that_lost_the_race_for_a_slot_claims_it_when_it_reopens() {
    let chain = Chain::start("reopen").await;
    let (alice, bob, charlie, dave) = (signer("//Alice"), signer("//Bob"), signer("//Charlie"), signer("//Dave"));
    let code = tessera_examples::HASH_CHAIN;
    let program = chain.upload(&alice, code).await;
    // All three register; the workers stop until Dave holds his slot (the test claims it for
    // him, and he never commits).
    let mut registering = [chain.worker("//Bob", 1, &[]), chain.worker("//Charlie", 1, &[]), chain.worker("//Dave", 1, &[])];
    chain.registered(&[&bob, &charlie, &dave]).await;
    for w in &mut registering {
        w.kill9();
    }

    let input = tessera_examples::input::hash_chain(2_000, b"a slot frees");
    let fuel = REFEREED_FUEL;
    let before = chain.best().await;
    // Commitments are due three blocks after the job is full.
    let job = chain.post_terms(&alice, JobTerms { execution_timeout: 3, ..terms(program, 2, fuel) }, &input).await;
    chain.client.submit(&dave, &chain::transactions().market().claim_slot(job)).await.expect("Dave's claim");
    // Restarted together, both resync at the same best block and race for the one free slot.
    let _honest = [chain.worker("//Bob", 1, &[]), chain.worker("//Charlie", 1, &[])];

    let ended = chain.ended(job, 60).await;
    let events = chain.events(before + 1, ended).await;
    let (status, result) = chain.result(job).await;
    let expected = honest_receipt(&chain.limits().await, code, &input, fuel);
    assert_eq!(
        (status, result.receipt),
        (JobStatus::Settled, Some(expected)),
        "settled with the honest receipt; its events: {events:#?}\n--- workers ---\n{}",
        tail(&chain.log_glob("worker"))
    );
    assert!(
        events.iter().any(|e| matches!(e, Event::Market(Market::SlotsReopened { job: j, .. }) if *j == job)),
        "Dave's slot reopened"
    );
    assert!(
        events.iter().any(|e| matches!(e, Event::Market(Market::Faulted { job: j, who, slashed, .. }) if *j == job && *who == dave.account() && *slashed > 0)),
        "the vanished claim is penalised"
    );
    for who in [&bob, &charlie] {
        let paid = events.iter().find_map(|e| match e {
            Event::Market(Market::ReplicaPaid { job: j, provider, payment, .. }) if *j == job && *provider == who.account() => Some(*payment),
            _ => None,
        });
        assert_eq!(paid, Some(Balance::from(expected.fuel_used)), "{} served a slot and was paid", who.address());
    }
    // Whether the race happened (it does unless a block is imported between the two restarts);
    // without it, the second slot was claimed the ordinary way after the reopen.
    let raced = chain.log_glob("worker").contains("claiming the freed slot with the work executed earlier");
    eprintln!("[e2e] the loser of the race claimed the reopened slot with its stored work: {raced}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b_a_lying_worker_is_caught_slashed_and_the_honest_are_paid() {
    let chain = Chain::start("liar").await;
    let (alice, bob, eve) = (signer("//Alice"), signer("//Bob"), signer("//Eve"));
    let (charlie, dave, ferdie) = (signer("//Charlie"), signer("//Dave"), signer("//Ferdie"));
    let code = tessera_examples::HASH_CHAIN;
    let program = chain.upload(&alice, code).await;
    // Eve lies. Charlie, Dave and Ferdie ask 2 plancks per fuel, above what the jobs offer, so
    // they never take a slot: they audit, challenge and sit on committees.
    let _eve = chain.worker("//Eve", 1, &["--dishonest-for-tests"]);
    let _auditors = [chain.worker("//Charlie", 2, &[]), chain.worker("//Dave", 2, &[]), chain.worker("//Ferdie", 2, &[])];
    chain.registered(&[&eve, &charlie, &dave, &ferdie]).await;

    // Job 1: Eve is the only replica; an auditor challenges.
    let input = tessera_examples::input::hash_chain(1_000, b"audit me");
    let before = chain.best().await;
    let alone = chain.post(&alice, program, &input, 1, REFEREED_FUEL).await;
    chain
        .until("Eve's claim", 20, || async { (!chain.job(alone).await?.live?.slots.is_empty()).then_some(()) })
        .await;
    // Job 2: Eve and honest Bob are replicas; their receipts differ, a dispute opens by itself.
    // Both jobs are small: the runtime's referee decides them, no committee is drawn.
    let _bob = chain.worker("//Bob", 1, &[]);
    chain.registered(&[&bob]).await;
    let paired = chain.post(&alice, program, &input, 2, REFEREED_FUEL).await;
    let first = chain.ended(alone, 200).await.max(chain.ended(paired, 200).await);
    // Job 3: the same pair on a job too large for the referee: a committee decides.
    let large = chain.post(&alice, program, &input, 2, COMMITTEE_FUEL).await;
    let last = chain.ended(large, 300).await.max(first);

    let events = chain.events(before + 1, last).await;
    for (job, fuel) in [(alone, REFEREED_FUEL), (paired, REFEREED_FUEL), (large, COMMITTEE_FUEL)] {
        let truth = honest_receipt(&chain.limits().await, code, &input, fuel);
        let (status, result) = chain.result(job).await;
        assert_eq!((status, result.receipt), (JobStatus::Settled, Some(truth)), "job {job}");
    }
    let refereed: Vec<JobId> = events
        .iter()
        .filter_map(|e| match e {
            Event::Market(Market::Refereed { job, .. }) => Some(*job),
            _ => None,
        })
        .collect();
    assert_eq!(refereed, vec![alone, paired], "the referee decided the small disputes, and only those");
    let drawn: Vec<JobId> = events
        .iter()
        .filter_map(|e| match e {
            Event::Market(Market::CommitteeDrawn { job, .. }) => Some(*job),
            _ => None,
        })
        .collect();
    assert_eq!(drawn, vec![large], "a committee only for the large job");
    let slashed: Vec<(JobId, AccountId)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Market(Market::WrongResult { job, provider, slashed }) if *slashed > 0 => Some((*job, provider.clone())),
            _ => None,
        })
        .collect();
    assert!(slashed.iter().all(|(_, who)| *who == eve.account()), "only the liar is slashed: {slashed:?}");
    for job in [alone, paired, large] {
        assert!(slashed.contains(&(job, eve.account())), "job {job}: {slashed:?}");
    }
    // Bob, the honest replica, is paid for the paired jobs; Eve is paid for nothing.
    let paid: Vec<(JobId, AccountId)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Market(Market::ReplicaPaid { job, provider, .. }) => Some((*job, provider.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(paid, vec![(paired, bob.account()), (large, bob.account())]);
    // The challenge on the lone job was upheld: the challenger's bond is back, and it is the
    // beneficiary of half the pending slash (paid out after the slash deferral).
    let challenger = events
        .iter()
        .find_map(|e| match e {
            Event::Market(Market::ChallengeUpheld { job, challenger }) if *job == alone => Some(challenger.clone()),
            _ => None,
        })
        .expect("the lone job's challenge was upheld");
    // Any honest worker may be first to audit and challenge (Bob audits too once started), or
    // the dev validator's own auditor (Alice's key).
    let honest = [alice.account(), bob.account(), charlie.account(), dave.account(), ferdie.account()];
    assert!(honest.contains(&challenger), "an honest auditor challenged");
    let bond_released = events.iter().any(|e| {
        use chain::runtime_types::pallet_balances::pallet::Event as Balances;
        matches!(e, Event::Balances(Balances::Released { who, amount, .. }) if *who == challenger && *amount == 100 * UNIT)
    });
    assert!(bond_released, "the challenger's bond was released");
    let mut to_challenger = false;
    let at = chain.client.at_best().await.expect("best");
    for e in &events {
        use chain::runtime_types::pallet_providers::pallet::Event as Providers;
        let Event::Providers(Providers::SlashScheduled { id, who, .. }) = e else { continue };
        assert_eq!(*who, eve.account(), "only the liar has slashes scheduled");
        let pending = at
            .storage()
            .try_fetch(chain::storage().providers().pending_slash_of(), (*id,))
            .await
            .expect("storage")
            .expect("pending until the deferral ends")
            .decode()
            .expect("decodes");
        if let Some((beneficiary, share)) = pending.beneficiary {
            to_challenger |= beneficiary == challenger && share == Perbill(500_000_000);
        }
    }
    assert!(to_challenger, "half the liar's slash is scheduled to the challenger");
    let jurors_rewarded = events
        .iter()
        .filter(|e| matches!(e, Event::Market(Market::JurorRewarded { job, .. }) if *job == large))
        .count();
    assert!(jurors_rewarded >= 2, "jurors who voted with the majority are rewarded");
}

/// The dev validator's off-chain auditor (Alice's `audt` key, audit rate raised to 100 % in its
/// node's local storage) catches a lie nobody else looks at.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_the_validators_auditor_catches_a_lone_liar_and_the_requester_is_refunded() {
    let chain = Chain::start("auditor").await;
    let (alice, eve, ferdie) = (signer("//Alice"), signer("//Eve"), signer("//Ferdie"));
    let code = tessera_examples::HASH_CHAIN;
    let program = chain.upload(&ferdie, code).await;
    let hex = |bytes: &[u8]| format!("0x{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
    let (rate_key, all) = (hex(b"tessera/audit/rate"), hex(&1_000_000_000u32.to_le_bytes()));
    let _: Option<()> = chain
        .client
        .request("offchain_localStorageSet", tessera_client::rpc_params!["PERSISTENT", rate_key, all])
        .await
        .expect("offchain_localStorageSet");
    // Eve is the only worker, and it lies; it does not audit.
    let _eve = chain.worker("//Eve", 1, &["--dishonest-for-tests", "--audit", "false"]);
    chain.registered(&[&eve]).await;

    let input = tessera_examples::input::hash_chain(1_000, b"nobody checks this");
    let before = chain.best().await;
    let job = chain.post(&ferdie, program, &input, 1, REFEREED_FUEL).await;
    let ended = chain.ended(job, 120).await;
    let events = chain.events(before + 1, ended).await;

    let truth = honest_receipt(&chain.limits().await, code, &input, REFEREED_FUEL);
    let (status, result) = chain.result(job).await;
    assert_eq!((status, result.receipt), (JobStatus::Settled, Some(truth)), "the referee's receipt is the truth");
    let challenger = events.iter().find_map(|e| match e {
        Event::Market(Market::DisputeOpened { job: j, challenger }) if *j == job => challenger.clone(),
        _ => None,
    });
    assert_eq!(challenger, Some(alice.account()), "the validator's auditor challenged");
    assert!(events.iter().any(|e| matches!(e, Event::Market(Market::Refereed { job: j, .. }) if *j == job)));
    assert!(events.iter().any(|e| matches!(e, Event::Market(Market::ChallengeUpheld { job: j, .. }) if *j == job)));
    assert!(
        events.iter().any(|e| matches!(e, Event::Market(Market::WrongResult { job: j, provider, slashed }) if *j == job && *provider == eve.account() && *slashed > 0)),
        "the liar is slashed"
    );
    // The requester pays nobody: everything but the (zero) fee comes back.
    assert_eq!((result.paid, result.fee), (0, 0));
    let escrow = Balance::from(REFEREED_FUEL) + Balance::from(REFEREED_FUEL) / 20;
    assert_eq!(result.refunded, escrow, "the requester is refunded the whole escrow");
    assert!(chain.log_glob("node").contains("challenging"), "the node logged the audit");
}

/// Runs the `tessera` CLI against `chain` as Alice; returns (success, stdout, stderr).
fn cli(chain: &Chain, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(binary("tessera"))
        .args(["--node", &chain.url(), "--suri", "//Alice"])
        .args(args)
        .output()
        .expect("the CLI runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d_the_cli_posts_the_mandelbrot_job_writes_the_image_and_the_worker_reports_it() {
    let chain = Chain::start("cli").await;
    let metrics_port = free_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let _worker = chain.worker("//Bob", 1, &["--metrics", &metrics_addr]);
    chain.registered(&[&signer("//Bob")]).await;
    let job_args = ["--program", "example:mandelbrot", "--fuel", "2000000000", "--max-price", "0.000000000001"];

    // The quote comes from the chain and counts Bob as able to serve.
    let (ok, quote, err) = cli(&chain, &[&["quote"][..], &job_args].concat());
    assert!(ok, "quote failed: {err}");
    assert!(quote.contains("escrow held") && quote.contains("providers that could take it now: 1"), "{quote}");
    // Terms the market refuses are named before anything is signed.
    let (ok, _, err) = cli(&chain, &[&["quote", "--replicas", "0"][..], &job_args].concat());
    assert!(!ok && err.contains("Market::BadReplicas"), "{err}");
    let (ok, _, err) = cli(&chain, &["why", "4242"]);
    assert!(!ok && err.contains("job 4242 is unknown"), "{err}");

    let image = chain.dir.path().join("mandelbrot.pgm");
    let image_arg = image.to_string_lossy().into_owned();
    let post = [&["post"][..], &job_args, &["--challenge-window", "10", "--follow", "--out", &image_arg]].concat();
    let (ok, out, err) = cli(&chain, &post);
    assert!(ok, "post failed: {err}\n{out}\n{}", tail(&chain.log_glob("worker")));
    assert!(out.contains("posted job 0") && out.contains("ended settled"), "{out}");
    let expected = tessera_examples::reference::mandelbrot(&[]);
    assert!(expected.starts_with(b"P5"), "the reference is a PGM image");
    assert_eq!(std::fs::read(&image).expect("the image was written"), expected);

    // The job is listed as settled and its output readable again.
    let (ok, jobs, err) = cli(&chain, &["jobs", "--status", "settled"]);
    assert!(ok && jobs.lines().any(|l| l.split_whitespace().take(2).eq(["0", "settled"])), "{jobs}{err}");
    let again = chain.dir.path().join("again.pgm");
    let (ok, _, err) = cli(&chain, &["output", "0", "--out", &again.to_string_lossy()]);
    assert!(ok, "{err}");
    assert_eq!(std::fs::read(&again).expect("written"), expected);

    // The worker's metrics show the job paid and the fuel its one execution used. No metric is
    // labelled by job id.
    let receipt = chain.result(0).await.1.receipt.expect("settled");
    // (The CLI follows the best block, the worker the finalized one: give it a few blocks.)
    let paid = r#"tessera_worker_jobs_total{stage="paid"}"#;
    let body = chain
        .until("the worker to report the job paid", 10, || async {
            Some(scrape(metrics_port)).filter(|b| metric(b, paid) == Some(1.0))
        })
        .await;
    assert_eq!(metric(&body, "tessera_worker_fuel_used_total"), Some(receipt.fuel_used as f64), "{body}");
    assert!(!body.contains("job=\""), "no metric is labelled by job id:\n{body}");
}
