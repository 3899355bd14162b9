//! End to end: a real `tessera-node --dev --tmp` and real `tessera-worker` processes, driven only
//! through JSON-RPC, as a requester would.
//!
//! (a) two honest workers settle a two-replica job and the balances move exactly as
//!     docs/PROTOCOL.md says;
//! (b) a lying worker is caught: by an automatic dispute when it disagrees with an honest
//!     replica, and by an auditor's challenge when it is the only replica; it is slashed, the
//!     honest replica is paid, the challenger gets its bond back and a pending share of the slash;
//! (c) a worker killed with -9 between commit and reveal is restarted, reveals with the salt from
//!     its database and is paid;
//! (d) the `tessera` CLI posts the Mandelbrot job (quoted by the node's `tessera_quoteJob`),
//!     follows it to settlement and writes the image, which equals the native build's; the
//!     worker's `/metrics` shows the job.
//!
//! The node binary is the one the workspace build put next to the worker binary.

use std::{
    collections::BTreeMap,
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use sp_core::H256;
use tessera_executor::{Compiler, Engine, ProgramLimits, RunLimits};
use tessera_primitives::{JobId, Receipt};
use tessera_runtime::{AccountId, Balance, Runtime, RuntimeCall, RuntimeEvent, UNIT};
use tessera_worker::client::{Client, Signer};

const WORKER_BIN: &str = env!("CARGO_BIN_EXE_tessera-worker");
const CLI_BIN: &str = env!("CARGO_BIN_EXE_tessera");

fn node_bin() -> PathBuf {
    let path = PathBuf::from(WORKER_BIN).with_file_name("tessera-node");
    assert!(path.exists(), "{} is missing: build the workspace first (cargo build --workspace)", path.display());
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A child process killed (SIGKILL) when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Chain {
    _node: Process,
    url: String,
    client: Client,
    dir: tempfile::TempDir,
}

impl Chain {
    async fn start(name: &str) -> Chain {
        let dir = tempfile::tempdir().expect("temp dir");
        let rpc = free_port();
        let log = std::fs::File::create(dir.path().join(format!("{name}-node.log"))).expect("log");
        let node = Command::new(node_bin())
            .args(["--dev", "--tmp", "--no-prometheus", "--no-telemetry", "--rpc-port"])
            .arg(rpc.to_string())
            .args(["--port", &free_port().to_string()])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("node starts");
        let url = format!("ws://127.0.0.1:{rpc}");
        let started = Instant::now();
        let client = loop {
            match Client::connect(&url).await {
                Ok(c) => break c,
                Err(e) if started.elapsed() > Duration::from_secs(120) => panic!("node did not come up: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        };
        Chain { _node: Process(node), url, client, dir }
    }

    /// Starts a worker for `suri` registering with `price` plancks per fuel.
    fn worker(&self, suri: &str, price: u128, extra: &[&str]) -> Process {
        let name = suri.trim_start_matches("//").to_lowercase();
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(self.dir.path().join(format!("worker-{name}.log")))
            .expect("log");
        let child = Command::new(WORKER_BIN)
            .args(["--node", &self.url, "--suri", suri, "--register-stake", "2000", "--register-capacity", "2"])
            .args(["--register-price", &format!("0.{price:012}")])
            .arg("--data-dir")
            .arg(self.dir.path().join(format!("data-{name}")))
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("worker starts");
        Process(child)
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
        let deadline = Instant::now() + Duration::from_secs(6 * blocks + 30);
        loop {
            if let Some(v) = f().await {
                return v;
            }
            if Instant::now() > deadline {
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
            let account = s.account();
            self.until(&format!("{} registered", s.address()), 20, || async {
                self.client.provider(&account, None).await.ok().flatten().map(|_| ())
            })
            .await;
        }
    }

    async fn post(&self, requester: &Signer, program: H256, input: &[u8], replicas: u32, fuel: u64) -> JobId {
        let spec = pallet_market::JobSpec::<Runtime> {
            program,
            input: pallet_market::InputSpec::Inline(input.to_vec().try_into().expect("small input")),
            fuel_limit: fuel,
            replicas,
            max_price_per_fuel: 1,
            min_reputation: Default::default(),
            max_output_len: 1024,
            claim_timeout: 30,
            execution_timeout: 30,
            challenge_window: 10,
        };
        let call = RuntimeCall::Market(pallet_market::Call::post_job { spec: Box::new(spec) });
        let included = self.client.submit_and_wait(requester, call, 10).await.expect("post_job");
        included
            .events
            .iter()
            .find_map(|e| match e {
                RuntimeEvent::Market(pallet_market::Event::JobPosted { job, .. }) => Some(*job),
                _ => None,
            })
            .expect("JobPosted")
    }

    async fn upload(&self, who: &Signer, code: &[u8]) -> H256 {
        let id = H256(sp_crypto_hashing::blake2_256(code));
        let call = RuntimeCall::Programs(pallet_programs::Call::upload_program { code: code.to_vec().try_into().expect("fits") });
        self.client.submit_and_wait(who, call, 10).await.expect("upload");
        id
    }

    /// Every event of blocks `from..=to`.
    async fn events(&self, from: u32, to: u32) -> Vec<RuntimeEvent> {
        let mut all = Vec::new();
        for n in from..=to {
            let hash = self.client.block_hash(n).await.expect("rpc").expect("block exists");
            all.extend(self.client.events(hash).await.expect("events").into_iter().map(|r| r.event));
        }
        all
    }

    /// Waits for `JobEnded` of `job`; returns the block it happened in.
    async fn ended(&self, job: JobId, blocks: u64) -> u32 {
        self.until(&format!("job {job} to end"), blocks, || async {
            let result = self.client.result(job, None).await.ok().flatten()?;
            Some(result.ended_at)
        })
        .await
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
fn honest_receipt(code: &[u8], input: &[u8], fuel: u64) -> Receipt {
    let limits: ProgramLimits = pallet_programs::Pallet::<Runtime>::limits();
    let program = tessera_executor::prepare(code, &limits).expect("valid");
    let run = RunLimits { fuel, max_memory_pages: limits.max_memory_pages, max_output_len: 1024 };
    Compiler::new(Duration::from_secs(60)).expect("engine").execute(&program, input, &run).expect("runs").receipt
}

/// Transaction fees each account paid in `events`.
fn fees(events: &[RuntimeEvent]) -> BTreeMap<AccountId, Balance> {
    let mut fees = BTreeMap::new();
    for e in events {
        if let RuntimeEvent::TransactionPayment(pallet_transaction_payment::Event::TransactionFeePaid { who, actual_fee, tip }) = e {
            *fees.entry(who.clone()).or_default() += actual_fee + tip;
        }
    }
    fees
}

async fn free(chain: &Chain, at: u32, who: &AccountId) -> Balance {
    let hash = chain.client.block_hash(at).await.expect("rpc").expect("block");
    chain.client.free_balance(who, Some(hash)).await.expect("rpc")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_honest_workers_settle_a_job_and_balances_move_as_documented() {
    let chain = Chain::start("honest").await;
    let (alice, bob, charlie) = (signer("//Alice"), signer("//Bob"), signer("//Charlie"));
    let code = tessera_programs::HASH_CHAIN;
    let program = chain.upload(&alice, code).await;
    let _workers = [chain.worker("//Bob", 1, &[]), chain.worker("//Charlie", 1, &[])];
    chain.registered(&[&bob, &charlie]).await;

    let input = tessera_programs::input::hash_chain(20_000, b"e2e");
    let fuel = 10_000_000;
    let (before, _) = chain.client.best().await.expect("best");
    let job = chain.post(&alice, program, &input, 2, fuel).await;
    let ended = chain.ended(job, 80).await;
    let events = chain.events(before + 1, ended).await;

    // The receipt both replicas revealed is what the executor computes here.
    let expected = honest_receipt(code, &input, fuel);
    let result = chain.client.result(job, None).await.expect("rpc").expect("kept result");
    assert_eq!(result.outcome, pallet_market::Outcome::Settled);
    assert_eq!(result.receipt, Some(expected));
    assert_eq!(result.output.as_deref().map(|o| o.to_vec()), Some(tessera_programs::reference::hash_chain(&input)));

    // PROTOCOL.md: each replica is paid fuel_used × its price (1 planck); the fee is 5 % of the
    // payments; the requester gets back escrow − paid − fee.
    let per_replica = Balance::from(expected.fuel_used);
    let escrow = 2 * Balance::from(fuel) + 2 * Balance::from(fuel) / 20;
    assert_eq!(result.paid, 2 * per_replica);
    assert_eq!(result.fee, result.paid / 20);
    assert_eq!(result.refunded, escrow - result.paid - result.fee);
    let mut rewards = BTreeMap::new();
    for e in &events {
        if let RuntimeEvent::Market(pallet_market::Event::ReplicaPaid { job: j, provider, payment, reward }) = e {
            assert_eq!((*j, *payment), (job, per_replica));
            rewards.insert(provider.clone(), *reward);
        }
    }
    assert_eq!(rewards.keys().cloned().collect::<Vec<_>>().len(), 2, "both replicas paid: {rewards:?}");

    // Free balances, from just before the post to the settlement block, change by exactly
    // that, less transaction fees (from the chain's own fee events).
    let fees = fees(&events);
    for who in [&bob, &charlie] {
        let account = who.account();
        let delta = free(&chain, ended, &account).await as i128 - free(&chain, before, &account).await as i128;
        let fee = fees.get(&account).copied().unwrap_or_default() as i128;
        assert_eq!(delta, (per_replica + rewards[&account]) as i128 - fee, "{}", who.address());
    }
    let account = alice.account();
    let delta = free(&chain, ended, &account).await as i128 - free(&chain, before, &account).await as i128;
    let fee = fees.get(&account).copied().unwrap_or_default() as i128;
    assert_eq!(delta, -((result.paid + result.fee + result.deposit) as i128) - fee, "requester");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_a_worker_killed_between_commit_and_reveal_reveals_after_restart_and_is_paid() {
    let chain = Chain::start("restart").await;
    let (alice, dave) = (signer("//Alice"), signer("//Dave"));
    let code = tessera_programs::MONTE_CARLO;
    let program = chain.upload(&alice, code).await;
    let worker = chain.worker("//Dave", 1, &[]);
    chain.registered(&[&dave]).await;

    let input = tessera_programs::input::monte_carlo(9, 20_000);
    let job = chain.post(&alice, program, &input, 1, 100_000_000).await;
    let account = dave.account();
    // Kill -9 as soon as the commitment is on chain (the worker reveals only after seeing it
    // finalized, so this is between the two).
    chain
        .until("Dave's commitment", 40, || async {
            let job = chain.client.job(job, None).await.ok().flatten()?;
            job.slots.iter().find(|s| s.provider == account && s.commitment.is_some()).map(|_| ())
        })
        .await;
    drop(worker);
    let job_now = chain.client.job(job, None).await.expect("rpc").expect("live");
    assert!(job_now.slots[0].receipt.is_none(), "killed before revealing");
    tokio::time::sleep(Duration::from_secs(6)).await;
    let _restarted = chain.worker("//Dave", 1, &[]);

    chain.ended(job, 80).await;
    let result = chain.client.result(job, None).await.expect("rpc").expect("kept result");
    assert_eq!(result.outcome, pallet_market::Outcome::Settled);
    assert_eq!(result.receipt, Some(honest_receipt(code, &input, 100_000_000)));
    assert_eq!(result.paid, Balance::from(result.receipt.expect("receipt").fuel_used));
    assert!(chain.log("worker-dave.log").contains("worker started"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b_a_lying_worker_is_caught_slashed_and_the_honest_are_paid() {
    let chain = Chain::start("liar").await;
    let (alice, bob, eve) = (signer("//Alice"), signer("//Bob"), signer("//Eve"));
    let (charlie, dave, ferdie) = (signer("//Charlie"), signer("//Dave"), signer("//Ferdie"));
    let code = tessera_programs::HASH_CHAIN;
    let program = chain.upload(&alice, code).await;
    // Eve lies. Charlie, Dave and Ferdie ask 2 plancks per fuel, above what the jobs offer, so
    // they never take a slot: they audit, challenge and sit on committees.
    let _eve = chain.worker("//Eve", 1, &["--dishonest-for-tests"]);
    let _auditors = [chain.worker("//Charlie", 2, &[]), chain.worker("//Dave", 2, &[]), chain.worker("//Ferdie", 2, &[])];
    chain.registered(&[&eve, &charlie, &dave, &ferdie]).await;

    // Job 1: Eve is the only replica; an auditor challenges.
    let input = tessera_programs::input::hash_chain(1_000, b"audit me");
    let (before, _) = chain.client.best().await.expect("best");
    let alone = chain.post(&alice, program, &input, 1, 10_000_000).await;
    chain
        .until("Eve's claim", 20, || async {
            let job = chain.client.job(alone, None).await.ok().flatten()?;
            (!job.slots.is_empty()).then_some(())
        })
        .await;
    // Job 2: Eve and honest Bob are replicas; their receipts differ, a dispute opens by itself.
    let _bob = chain.worker("//Bob", 1, &[]);
    chain.registered(&[&bob]).await;
    let paired = chain.post(&alice, program, &input, 2, 10_000_000).await;

    let last = chain.ended(alone, 200).await.max(chain.ended(paired, 200).await);
    let events = chain.events(before + 1, last).await;
    let truth = honest_receipt(code, &input, 10_000_000);
    for job in [alone, paired] {
        let result = chain.client.result(job, None).await.expect("rpc").expect("kept result");
        assert_eq!((result.outcome, result.receipt), (pallet_market::Outcome::Settled, Some(truth)), "job {job}");
    }
    let slashed: Vec<(JobId, AccountId)> = events
        .iter()
        .filter_map(|e| match e {
            RuntimeEvent::Market(pallet_market::Event::WrongResult { job, provider, slashed }) if *slashed > 0 =>
                Some((*job, provider.clone())),
            _ => None,
        })
        .collect();
    assert!(slashed.iter().all(|(_, who)| *who == eve.account()), "only the liar is slashed: {slashed:?}");
    assert!(slashed.contains(&(alone, eve.account())) && slashed.contains(&(paired, eve.account())), "{slashed:?}");
    // Bob, the honest replica, is paid for the paired job; Eve is paid for nothing.
    let paid: Vec<(JobId, AccountId)> = events
        .iter()
        .filter_map(|e| match e {
            RuntimeEvent::Market(pallet_market::Event::ReplicaPaid { job, provider, .. }) => Some((*job, provider.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(paid, vec![(paired, bob.account())]);
    // The challenge on the lone job was upheld: the challenger's bond is back, and it is the
    // beneficiary of half the pending slash (paid out after the slash deferral).
    let challenger = events
        .iter()
        .find_map(|e| match e {
            RuntimeEvent::Market(pallet_market::Event::ChallengeUpheld { job, challenger }) if *job == alone => Some(challenger.clone()),
            _ => None,
        })
        .expect("the lone job's challenge was upheld");
    // Any honest worker may be first to audit and challenge (Bob audits too once started).
    let honest = [bob.account(), charlie.account(), dave.account(), ferdie.account()];
    assert!(honest.contains(&challenger), "an honest auditor challenged");
    let bond_released = events.iter().any(|e| {
        matches!(e, RuntimeEvent::Balances(pallet_balances::Event::Released { who, amount, .. })
            if *who == challenger && *amount == 100 * UNIT)
    });
    assert!(bond_released, "the challenger's bond was released");
    let mut to_challenger = false;
    for e in &events {
        let RuntimeEvent::Providers(pallet_providers::Event::SlashScheduled { id, who, .. }) = e else { continue };
        assert_eq!(*who, eve.account(), "only the liar has slashes scheduled");
        let key = tessera_worker::client::keys::twox64("Providers", "PendingSlashOf", id);
        let pending: pallet_providers::PendingSlash<Runtime> =
            chain.client.storage(&key, None).await.expect("rpc").expect("pending until the deferral ends");
        if let Some((beneficiary, share)) = pending.beneficiary {
            to_challenger |= beneficiary == challenger && share == sp_runtime::Perbill::from_percent(50);
        }
    }
    assert!(to_challenger, "half the liar's slash is scheduled to the challenger");
    let jurors_rewarded = events.iter().filter(|e| matches!(e, RuntimeEvent::Market(pallet_market::Event::JurorRewarded { .. }))).count();
    assert!(jurors_rewarded >= 2, "jurors who voted with the majority are rewarded");
}

/// Runs the `tessera` CLI against `chain` as Alice; returns (success, stdout, stderr).
fn cli(chain: &Chain, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(CLI_BIN)
        .args(["--node", &chain.url, "--suri", "//Alice"])
        .args(args)
        .output()
        .expect("the CLI runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// `GET /metrics` from a Prometheus endpoint, over a plain TCP stream.
fn scrape(addr: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("metrics endpoint");
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("request");
    let mut body = String::new();
    stream.read_to_string(&mut body).expect("response");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d_the_cli_posts_the_mandelbrot_job_writes_the_image_and_the_worker_reports_it() {
    let chain = Chain::start("cli").await;
    let metrics = format!("127.0.0.1:{}", free_port());
    let _worker = chain.worker("//Bob", 1, &["--metrics", &metrics]);
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
    let expected = tessera_programs::reference::mandelbrot(&[]);
    assert!(expected.starts_with(b"P5"), "the reference is a PGM image");
    assert_eq!(std::fs::read(&image).expect("the image was written"), expected);

    // The job is listed as settled and its output readable again.
    let (ok, jobs, err) = cli(&chain, &["jobs", "--status", "settled"]);
    assert!(ok && jobs.lines().any(|l| l.split_whitespace().take(2).eq(["0", "settled"])), "{jobs}{err}");
    let again = chain.dir.path().join("again.pgm");
    let (ok, _, err) = cli(&chain, &["output", "0", "--out", &again.to_string_lossy()]);
    assert!(ok, "{err}");
    assert_eq!(std::fs::read(&again).expect("written"), expected);

    // The worker's metrics show the job, its stage and the fuel its execution used.
    let receipt = chain.client.result(0, None).await.expect("rpc").expect("kept").receipt.expect("settled");
    // (The CLI follows the best block, the worker the finalized one: give it a few blocks.)
    let paid = r#"tessera_worker_job_stage{job="0",stage="paid"} 1"#;
    let body = chain.until("the worker to report the job paid", 10, || async { Some(scrape(&metrics)).filter(|b| b.contains(paid)) }).await;
    assert!(body.contains(&format!(r#"tessera_worker_job_fuel_used{{job="0"}} {}"#, receipt.fuel_used)), "{body}");
}
