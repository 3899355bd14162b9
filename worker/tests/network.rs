//! The network: four validators (Alice, Bob, Charlie, Dave) started by zombienet's native
//! provider from the chain-spec file `tessera-node build-spec --chain four` writes, and
//! provider workers connected to different nodes, driven only through JSON-RPC.
//!
//! One network serves every phase, in order (a network costs a minute of CPU to start and the
//! machine has two cores):
//!
//! 1. zombienet's own assertions (`zombienet/four-validators.zndsl`) against the running
//!    network; every validator peers with the other three, authors blocks, and GRANDPA
//!    finalizes; the finality lag with four validators is measured;
//! 2. a worker's node is killed with -9 while the worker holds a slot: the worker fails over to
//!    its second endpoint and is paid, with no fault; meanwhile blocks and finality go on with
//!    three of four validators; the killed validator restarts on its database and catches up;
//! 3. a job posted through one node settles through workers connected to the others, and
//!    balances move as docs/PROTOCOL.md says;
//! 4. locality: workers in two regions; a regional job is served only in its region, and
//!    `tessera_quoteJob` and `tessera_whyUnmatched` explain a job no provider can serve;
//! 5. a runtime upgrade while jobs are in flight: `tessera-try-runtime on-runtime-upgrade` runs
//!    the next runtime's migrations and checks against the network's state, sudo `set_code`
//!    enacts it (spec_version + 1), every node runs it, the jobs in flight settle and the
//!    workers go on with the new metadata;
//! 6. chaos: a liar, a worker that withholds its reveals and one that claims and vanishes
//!    (kill -9, never back) among honest workers, over 24 jobs: every honest provider is paid
//!    what it earned, every misbehaviour is penalised, and the sum of all balances moves only
//!    by the recorded emission less the transaction fees burned.
//!
//! Figures (bring-up time, finality lag, catch-up time) are printed as `[network]` lines; run
//! with `--nocapture` to see them.

use std::{
    collections::BTreeMap,
    process::Command,
    time::{Duration, Instant},
};

use tessera_client::{
    api::JobStatus,
    chain::{
        self,
        runtime_types::{
            pallet_market::types::{Input, JobSpec, JobTerms},
            sp_arithmetic::per_things::Permill,
            tessera_traits::Placement,
        },
        Event,
    },
    testing::{binary, Network, Process},
    AccountId, Balance, Client, Signer, TesseraRpcClient, H256,
};
use tessera_executor::{Compiler, Engine, ProgramLimits, RunLimits};
use tessera_primitives::{JobId, Receipt};

use chain::runtime_types::pallet_market::pallet::Event as Market;

/// Prints a figure for the closing note and docs, and appends it to
/// `$CARGO_TARGET_DIR/network-figures.txt`, which scripts/test.sh prints after the tests.
macro_rules! figure {
    ($($arg:tt)*) => {{
        let line = format!("[network] {}", format!($($arg)*));
        eprintln!("{line}");
        record_figure(&line);
    }};
}

fn figures_file() -> std::path::PathBuf {
    binary("tessera-node").parent().and_then(|d| d.parent()).expect("target dir").join("network-figures.txt")
}

fn record_figure(line: &str) {
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(figures_file()) {
        let _ = writeln!(f, "{line}");
    }
}

fn signer(suri: &str) -> Signer {
    Signer::from_suri(suri).expect("dev key")
}

/// Everything the phases share.
struct World {
    net: Network,
    /// Connected to Alice's node; requests go through it unless a phase says otherwise.
    client: Client,
    dir: tempfile::TempDir,
    program: H256,
    limits: ProgramLimits,
    /// Workers started so far (each killed when the world is dropped).
    workers: Vec<Process>,
}

impl World {
    /// Starts a worker for `suri` with `nodes` (in order of preference) and `extra` flags; it
    /// runs until the world ends.
    fn worker(&mut self, suri: &str, nodes: &[&str], extra: &[&str]) {
        let name = suri.trim_start_matches("//").replace("//", "-").to_lowercase();
        let urls: Vec<String> = nodes.iter().map(|n| self.net.nodes.iter().find(|x| x.name == *n).expect("node").url.clone()).collect();
        let mut cmd = Command::new(binary("tessera-worker"));
        cmd.args(["--node", &urls.join(","), "--suri", suri, "--register-stake", "2000"])
            .args(["--register-price", "0.000000000001"])
            .arg("--data-dir")
            .arg(self.dir.path().join(format!("data-{name}")))
            .args(extra)
            .env("RUST_LOG", "info");
        if !extra.contains(&"--register-capacity") {
            cmd.args(["--register-capacity", "4"]);
        }
        let process = Process::spawn(cmd, self.dir.path().join(format!("worker-{name}.log")));
        self.workers.push(process);
    }

    async fn until<T, F, Fut>(&self, what: &str, secs: u64, mut f: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(v) = f().await {
                return v;
            }
            if Instant::now() > deadline {
                let mut logs = String::new();
                for entry in std::fs::read_dir(self.dir.path()).expect("dir").flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if name.starts_with("worker-") {
                        logs.push_str(&format!("== {name}\n{}\n", tail(&std::fs::read_to_string(entry.path()).unwrap_or_default(), 30)));
                    }
                }
                for n in &self.net.nodes {
                    logs.push_str(&format!("== {}\n{}\n", n.name, n.log_tail(30)));
                }
                panic!("timed out after {secs} s waiting for {what}\n{logs}");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn registered(&self, who: &[&Signer]) {
        for s in who {
            let account = tessera_client::api_account(&s.account());
            self.until(&format!("{} registered", s.address()), 120, || async {
                self.client.rpc().provider(account.clone(), None).await.ok().flatten().map(|_| ())
            })
            .await;
        }
    }

    async fn post(&self, requester: &Signer, input: &[u8], replicas: u32, fuel: u64) -> JobId {
        self.post_placed(requester, input, replicas, fuel, None, &[], 30).await
    }

    /// Posts a job that only providers in `region` (when given) advertising every one of `labels`
    /// may serve, open for claims for `claim_timeout` blocks.
    async fn post_placed(
        &self,
        requester: &Signer,
        input: &[u8],
        replicas: u32,
        fuel: u64,
        region: Option<&str>,
        labels: &[&str],
        claim_timeout: u32,
    ) -> JobId {
        let spec = JobSpec {
            terms: JobTerms {
                program: self.program,
                fuel_limit: fuel,
                replicas,
                max_price_per_fuel: 1,
                min_reputation: Permill(0),
                max_output_len: 1024,
                claim_timeout,
                execution_timeout: 20,
                challenge_window: 10,
            },
            input: Input::Inline(input.to_vec()),
            placement: Placement {
                region: region.map(|r| r.as_bytes().to_vec()),
                labels: labels.iter().map(|l| l.as_bytes().to_vec()).collect(),
            },
        };
        let included = self.client.submit(requester, &chain::transactions().market().post_job(spec)).await.expect("post_job");
        included.events.find_first::<chain::market::events::JobPosted>().expect("events decode").expect("JobPosted").job
    }

    async fn ended(&self, job: JobId, secs: u64) -> u64 {
        self.until(&format!("job {job} to end"), secs, || async {
            Some(u64::from(self.client.rpc().job(job, None).await.ok()??.result?.ended_at))
        })
        .await
    }

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

    async fn free(&self, at: u64, who: &AccountId) -> Balance {
        let hash = self.client.chain().at_block(at).await.expect("block").block_hash();
        self.client.free_balance(who, Some(hash)).await.expect("balance")
    }

    fn honest_receipt(&self, input: &[u8], fuel: u64) -> Receipt {
        let program = tessera_executor::prepare(tessera_examples::HASH_CHAIN, &self.limits).expect("valid");
        let run = RunLimits { fuel, max_memory_pages: self.limits.max_memory_pages, max_output_len: 1024 };
        Compiler::new(Duration::from_secs(60)).expect("engine").execute(&program, input, &run).expect("runs").receipt
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// (best, finalized) block numbers as `client`'s node sees them.
async fn heads(client: &Client) -> (u64, u64) {
    let best = client.best_number().await.expect("best");
    let finalized = client.at_finalized().await.expect("finalized").block_number();
    (best, finalized)
}

/// Mean and worst of best − finalized on `client`'s node, sampled every second for `secs`.
async fn finality_lag(client: &Client, secs: u64) -> (f64, u64) {
    let (mut sum, mut worst) = (0u64, 0u64);
    for _ in 0..secs {
        let (best, finalized) = heads(client).await;
        let lag = best.saturating_sub(finalized);
        sum += lag;
        worst = worst.max(lag);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    (sum as f64 / secs as f64, worst)
}

async fn peers(client: &Client) -> u64 {
    let health: serde_json::Value = client.request("system_health", tessera_client::rpc_params![]).await.expect("system_health");
    health["peers"].as_u64().expect("peers")
}

/// Blocks a validator authored so far, from its log (Aura's "Pre-sealed block for proposal").
fn authored(log: &std::path::Path) -> usize {
    std::fs::read_to_string(log).unwrap_or_default().matches("Pre-sealed block for proposal").count()
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

fn faults_of<'a>(events: &'a [Event], who: &'a AccountId) -> impl Iterator<Item = &'a Event> + 'a {
    events.iter().filter(move |e| match e {
        Event::Market(Market::Faulted { who: w, .. }) => w == who,
        Event::Market(Market::WrongResult { provider, .. }) => provider == who,
        _ => false,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_validators_serve_the_market_through_faults() {
    let _ = std::fs::remove_file(figures_file());
    let dir = tempfile::tempdir().expect("temp dir");
    let net = Network::start(dir.path(), Duration::from_secs(600)).await;
    figure!("bring-up: zombienet start to four nodes answering JSON-RPC in {:.1} s", net.bring_up.as_secs_f64());
    let client = net.nodes[0].connect(Duration::from_secs(60)).await;
    let at = client.at_best().await.expect("best");
    let limits = Client::program_limits(&at).expect("limits");
    let mut world = World { net, client, dir, program: H256::zero(), limits, workers: Vec::new() };

    validators_peer_author_and_finalize(&mut world).await;
    let code = tessera_examples::HASH_CHAIN;
    let alice = signer("//Alice//stash");
    world.client.submit(&alice, &chain::transactions().programs().upload_program(code.to_vec())).await.expect("upload");
    world.program = H256::from(tessera_primitives::program::program_id(code).0);

    let eve = failover_and_a_validator_down(&mut world).await;
    a_job_posted_through_one_node_settles_through_the_others(&mut world, eve).await;
    jobs_go_only_where_their_placement_allows(&mut world).await;
    a_runtime_upgrade_while_jobs_are_in_flight(&mut world).await;
    chaos_adversaries_among_honest_workers(&mut world).await;
}

/// Phase 1.
async fn validators_peer_author_and_finalize(world: &mut World) {
    // zombienet's own DSL assertions, against this running network.
    let zn = world.net.dir.join("zn");
    let out = Command::new(tessera_client::testing::repo_root().join("zombienet/node_modules/.bin/zombienet"))
        .args(["--provider", "native", "--logType", "text", "test"])
        .arg(tessera_client::testing::repo_root().join("zombienet/four-validators.zndsl"))
        .arg(zn.join("zombie.json"))
        .output()
        .expect("zombienet test runs");
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "zombienet's assertions failed:\n{report}");

    let started = Instant::now();
    for node in &world.net.nodes {
        let client = node.connect(Duration::from_secs(30)).await;
        world.until(&format!("{} to peer with the other three", node.name), 120, || async { (peers(&client).await >= 3).then_some(()) }).await;
    }
    // Every validator authors in its Aura slots, and GRANDPA finalizes on every node.
    let clients: Vec<Client> = futures::future::join_all(world.net.nodes.iter().map(|n| n.connect(Duration::from_secs(30)))).await;
    world
        .until("every validator to author a block and finality past block 4 everywhere", 180, || async {
            let authors = world.net.nodes.iter().all(|n| authored(&n.log) > 0);
            let mut finalized = true;
            for c in &clients {
                finalized &= heads(c).await.1 >= 4;
            }
            (authors && finalized).then_some(())
        })
        .await;
    figure!("all four authoring and finality past block 4 after {:.0} s more", started.elapsed().as_secs_f64());
    let (mean, worst) = finality_lag(&world.client, 30).await;
    figure!("finality lag with 4 of 4 validators: mean {mean:.2} blocks, worst {worst} (30 samples)");
    assert!(worst <= 4, "GRANDPA keeps up with four validators (worst lag {worst})");
}

/// Phase 2: returns Eve, registered and serving.
async fn failover_and_a_validator_down(world: &mut World) -> Signer {
    let (alice, eve) = (signer("//Alice//stash"), signer("//Eve"));
    // Eve talks to Bob's node first, Charlie's when Bob's is gone.
    world.worker("//Eve", &["bob", "charlie"], &["--register-region", "eu-west"]);
    world.registered(&[&eve]).await;
    let account = tessera_client::api_account(&eve.account());
    let input = tessera_examples::input::hash_chain(2_000, b"failover");
    let fuel = 10_000_000;
    let before = world.client.best_number().await.expect("best");
    let job = world.post(&alice, &input, 1, fuel).await;
    world
        .until("Eve's claim", 120, || async {
            let live = world.client.rpc().job(job, None).await.ok()??.live?;
            live.slots.iter().any(|s| s.provider == account).then_some(())
        })
        .await;

    // Bob's node goes away with -9 while Eve holds the slot.
    let (best_at_kill, finalized_at_kill) = heads(&world.client).await;
    world.net.node("bob").kill9();
    let killed = Instant::now();
    let ended = world.ended(job, 300).await;
    let view = world.client.rpc().job(job, None).await.expect("tessera_job").expect("known");
    assert_eq!(view.status, JobStatus::Settled, "the job settled through Eve's second node");
    let result = view.result.expect("ended");
    assert_eq!(result.receipt, Some(world.honest_receipt(&input, fuel)));
    let events = world.events(before + 1, ended).await;
    let paid: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Market(Market::ReplicaPaid { job: j, provider, payment, .. }) if *j == job => Some((provider.clone(), *payment)),
            _ => None,
        })
        .collect();
    let fuel_used = Balance::from(result.receipt.expect("receipt").fuel_used);
    assert_eq!(paid, vec![(eve.account(), fuel_used)], "Eve is paid all it earned");
    assert_eq!(faults_of(&events, &eve.account()).count(), 0, "Eve missed no deadline: {events:?}");
    let log = std::fs::read_to_string(world.dir.path().join("worker-eve.log")).unwrap_or_default();
    assert!(log.contains("lost the node; trying the next"), "Eve noticed Bob's node going:\n{}", tail(&log, 40));
    let charlie = &world.net.nodes.iter().find(|n| n.name == "charlie").expect("charlie").url;
    assert!(log.contains(&format!("connected node={charlie}")), "Eve moved to Charlie's node:\n{}", tail(&log, 40));

    // Three of four validators: blocks and finality went on.
    let (best, finalized) = heads(&world.client).await;
    assert!(best >= best_at_kill + 4 && finalized >= finalized_at_kill + 4, "blocks and finality go on with three validators: best {best_at_kill}->{best}, finalized {finalized_at_kill}->{finalized}");
    let (mean, worst) = finality_lag(&world.client, 30).await;
    figure!("finality lag with 3 of 4 validators: mean {mean:.2} blocks, worst {worst} (30 samples)");
    figure!("the job settled {:.0} s after Eve's node was killed", killed.elapsed().as_secs_f64());

    // Bob's validator restarts on its database and catches up.
    let (network_best, network_finalized) = heads(&world.client).await;
    let authored_before = authored(&world.net.node("bob").log);
    world.net.node("bob").restart();
    let restarted = Instant::now();
    let bob = world.net.node("bob").connect(Duration::from_secs(120)).await;
    world
        .until("Bob's node to catch up", 300, || async {
            let (best, finalized) = heads(&bob).await;
            (best >= network_best && finalized >= network_finalized).then_some(())
        })
        .await;
    figure!(
        "a validator killed with -9 restarted and caught up {} blocks in {:.1} s",
        network_best.saturating_sub(best_at_kill),
        restarted.elapsed().as_secs_f64()
    );
    let bob_log = world.net.node("bob").log.clone();
    world.until("Bob to author again", 120, || async { (authored(&bob_log) > authored_before).then_some(()) }).await;
    world.until("Bob's node to peer again", 60, || async { (peers(&bob).await >= 3).then_some(()) }).await;
    eve
}

/// Phase 3.
async fn a_job_posted_through_one_node_settles_through_the_others(world: &mut World, eve: Signer) {
    let (alice, ferdie) = (signer("//Alice//stash"), signer("//Ferdie"));
    // Eve is on Bob's node again (or Charlie's); Ferdie on Dave's. The job goes in through Alice's.
    world.worker("//Ferdie", &["dave", "charlie"], &["--register-region", "us-east"]);
    world.registered(&[&ferdie]).await;
    let input = tessera_examples::input::hash_chain(20_000, b"network");
    let fuel = 10_000_000;
    let before = world.client.best_number().await.expect("best");
    let job = world.post(&alice, &input, 2, fuel).await;
    let ended = world.ended(job, 300).await;
    let events = world.events(before + 1, ended).await;

    let view = world.client.rpc().job(job, None).await.expect("tessera_job").expect("known");
    assert_eq!(view.status, JobStatus::Settled);
    let result = view.result.expect("ended");
    let expected = world.honest_receipt(&input, fuel);
    assert_eq!(result.receipt, Some(expected));
    // PROTOCOL.md: each replica is paid fuel_used × its price (1 planck); the fee is 5 % of each
    // payment, rounded up; emission matches half the fee; the requester gets back the rest.
    let per_replica = Balance::from(expected.fuel_used);
    let escrow = 2 * Balance::from(fuel) + 2 * Balance::from(fuel).div_ceil(20);
    assert_eq!(result.paid, 2 * per_replica);
    assert_eq!(result.fee, 2 * per_replica.div_ceil(20));
    assert_eq!(result.refunded, escrow - result.paid - result.fee);
    let fees = fees(&events);
    for who in [&eve, &ferdie] {
        let reward = events
            .iter()
            .find_map(|e| match e {
                Event::Market(Market::ReplicaPaid { job: j, provider, payment, reward }) if *j == job && *provider == who.account() => {
                    assert_eq!(*payment, per_replica);
                    Some(*reward)
                },
                _ => None,
            })
            .unwrap_or_else(|| panic!("{} paid", who.address()));
        assert_eq!(reward, per_replica.div_ceil(20) / 2, "emission matched to half the fee");
        let account = who.account();
        let delta = world.free(ended, &account).await as i128 - world.free(before, &account).await as i128;
        let fee = fees.get(&account).copied().unwrap_or_default() as i128;
        assert_eq!(delta, (per_replica + reward) as i128 - fee, "{}", who.address());
    }
    // Each node saw the same result.
    for node in &world.net.nodes {
        let c = node.connect(Duration::from_secs(30)).await;
        world
            .until(&format!("{} to know the result", node.name), 60, || async {
                let v = c.rpc().job(job, None).await.ok()??;
                (v.result?.receipt == Some(expected)).then_some(())
            })
            .await;
    }
}

/// A build artifact next to the test's binaries (`target/<profile>/…` → `target/…`).
fn artifact(relative: &str) -> std::path::PathBuf {
    let debug = binary("tessera-node").parent().expect("target/debug").to_owned();
    let path = debug.parent().expect("target").join(relative);
    assert!(path.exists(), "{} is missing: scripts/test.sh builds it (scripts/try-runtime.sh build)", path.display());
    path
}

async fn spec_version(client: &Client) -> u64 {
    let v: serde_json::Value = client.request("state_getRuntimeVersion", tessera_client::rpc_params![]).await.expect("version");
    v["specVersion"].as_u64().expect("specVersion")
}

/// Phase 4.
async fn a_runtime_upgrade_while_jobs_are_in_flight(world: &mut World) {
    use chain::runtime_types::{frame_system::pallet::Call as System, sp_weights::weight_v2::Weight, tessera_runtime::RuntimeCall};
    let (alice, requester) = (signer("//Alice"), signer("//Alice//stash"));
    let before = spec_version(&world.client).await;
    // The next runtime (spec_version + 1) and its try-runtime build. A debug build leaves the
    // blob uncompressed (5 MB); set_code takes it compressed, as a release build makes it.
    let next = std::fs::read(artifact("debug/wbuild/tessera-runtime/wasm_binary_next.rs.wasm")).expect("next runtime");
    let next = sp_maybe_compressed_blob::compress_strongly(&next, sp_maybe_compressed_blob::CODE_BLOB_BOMB_LIMIT).expect("compresses");
    let try_runtime = artifact("try-runtime/wbuild/tessera-runtime/tessera_runtime.compact.compressed.wasm");

    // Jobs in flight: posted now, served by the running workers across the upgrade.
    let first = world.client.best_number().await.expect("best");
    let mut jobs = Vec::new();
    for i in 0..3u32 {
        let input = tessera_examples::input::hash_chain(5_000 + i, b"upgrade");
        jobs.push((world.post(&requester, &input, 2, 10_000_000).await, input));
    }

    // The migrations and every pallet's invariants, on the live state, before enacting.
    let started = Instant::now();
    let out = Command::new(binary("tessera-try-runtime"))
        .args(["on-runtime-upgrade", "--uri", &world.net.nodes[1].url, "--runtime"])
        .arg(&try_runtime)
        .output()
        .expect("tessera-try-runtime runs");
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "try-runtime's checks failed:\n{report}");
    assert!(report.contains(&format!("-> tessera {}", before + 1)), "try-runtime checked the upgrade to the next spec version:\n{report}");
    assert!(report.contains("idempotent"), "{report}");
    for pallet in ["Providers", "Programs", "Market"] {
        assert!(report.contains(&format!("Running \"{pallet}\" try-state checks")), "{pallet}'s invariants were checked:\n{report}");
    }
    figure!("try-runtime on-runtime-upgrade against the live state: {:.1} s\n{}", started.elapsed().as_secs_f64(), report.trim());

    let set_code = RuntimeCall::System(System::set_code { code: next });
    let call = chain::transactions().sudo().sudo_unchecked_weight(set_code, Weight { ref_time: 0, proof_size: 0 });
    let included = world.client.submit(&alice, &call).await.expect("sudo set_code");
    let upgraded_in = world.client.at(included.block).await.expect("block").block_number();
    assert!(
        included.events.find_first::<chain::system::events::CodeUpdated>().is_some(),
        "the code was updated"
    );
    for node in &world.net.nodes {
        let c = node.connect(Duration::from_secs(30)).await;
        world.until(&format!("{} to run the new runtime", node.name), 120, || async { (spec_version(&c).await == before + 1).then_some(()) }).await;
    }
    figure!("runtime upgraded from spec_version {before} to {} in block {upgraded_in}", before + 1);

    // Every job in flight settles with the honest result, and a job posted after the upgrade too.
    let input = tessera_examples::input::hash_chain(7_777, b"after the upgrade");
    jobs.push((world.post(&requester, &input, 2, 10_000_000).await, input));
    let mut last = first;
    for (job, input) in &jobs {
        last = last.max(world.ended(*job, 400).await);
        let view = world.client.rpc().job(*job, None).await.expect("tessera_job").expect("known");
        assert_eq!(view.status, JobStatus::Settled, "job {job}");
        assert_eq!(view.result.expect("ended").receipt, Some(world.honest_receipt(input, 10_000_000)), "job {job}");
    }
    let events = world.events(first, last).await;
    for who in ["//Eve", "//Ferdie"] {
        assert_eq!(faults_of(&events, &signer(who).account()).count(), 0, "{who} missed nothing across the upgrade");
    }
    for name in ["eve", "ferdie"] {
        let log = std::fs::read_to_string(world.dir.path().join(format!("worker-{name}.log"))).unwrap_or_default();
        assert!(log.contains("runtime upgraded"), "{name} switched to the new metadata:\n{}", tail(&log, 30));
    }
}

/// Phase 4 (Eve is in eu-west, Ferdie in us-east).
async fn jobs_go_only_where_their_placement_allows(world: &mut World) {
    use tessera_client::api::{QuoteParams, Reason};
    let (requester, eve, ferdie) = (signer("//Alice//stash"), signer("//Eve"), signer("//Ferdie"));
    let quote = |region: &str| QuoteParams {
        fuel_limit: 10_000_000,
        replicas: 1,
        max_price_per_fuel: 1,
        min_reputation: Default::default(),
        input: Default::default(),
        max_output_len: 1024,
        region: Some(region.as_bytes().to_vec()),
        labels: vec![],
    };
    for (region, eligible) in [("eu-west", 1), ("us-east", 1), ("ap-south", 0)] {
        let view = world.client.rpc().quote_job(quote(region), None).await.expect("tessera_quoteJob");
        assert_eq!(view.eligible_providers, eligible, "providers eligible in {region}");
    }

    // A us-east job: only Ferdie may serve it, though Eve has room and the same price.
    let before = world.client.best_number().await.expect("best");
    let input = tessera_examples::input::hash_chain(3_000, b"us-east");
    let regional = world.post_placed(&requester, &input, 1, 10_000_000, Some("us-east"), &[], 30).await;
    // A job for a region nobody serves, and one asking for a label nobody advertises.
    let nowhere = world.post_placed(&requester, &input, 1, 10_000_000, Some("ap-south"), &[], 30).await;
    let gpu = world.post_placed(&requester, &input, 1, 10_000_000, None, &["gpu"], 30).await;
    let ended = world.ended(regional, 300).await;
    let events = world.events(before + 1, ended).await;
    let claimers: Vec<AccountId> = events
        .iter()
        .filter_map(|e| match e {
            Event::Market(Market::SlotClaimed { job, provider, .. }) if *job == regional => Some(provider.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(claimers, vec![ferdie.account()], "only the us-east provider claimed the us-east job");
    let view = world.client.rpc().job(regional, None).await.expect("tessera_job").expect("known");
    assert_eq!(view.status, JobStatus::Settled);

    for (job, reason) in [(nowhere, Reason::WrongRegion), (gpu, Reason::MissingLabel)] {
        let unmatched = world.client.rpc().why_unmatched(job, None).await.expect("tessera_whyUnmatched").expect("known");
        assert!(unmatched.eligible.is_empty(), "job {job}: nobody may claim it: {unmatched:?}");
        for who in [&eve, &ferdie] {
            let account = tessera_client::api_account(&who.account());
            let refusal = unmatched.refusals.iter().find(|r| r.provider == account).map(|r| r.reason);
            assert_eq!(refusal, Some(reason), "job {job}: why {} may not claim it", who.address());
        }
        assert!(events.iter().all(|e| !matches!(e, Event::Market(Market::SlotClaimed { job: j, .. }) if *j == job)), "job {job} unclaimed");
        figure!("job {job} unmatched: {}", reason.describe());
    }
}

/// Phase 6.
async fn chaos_adversaries_among_honest_workers(world: &mut World) {
    use chain::runtime_types::{frame_system::AccountInfo, pallet_balances::types::AccountData};
    let requester = signer("//Alice//stash");
    // Three pools, each with its own adversary and the two honest workers, so every job (two
    // replicas; a provider takes at most one slot of a job) has at least one honest replica.
    let pools = ["pool-lie", "pool-withhold", "pool-vanish"];
    let (honest1, honest2) = (signer("//Charlie//stash"), signer("//Dave//stash"));
    let (liar, withholder, vanisher) = (signer("//Bob//stash"), signer("//Eve//stash"), signer("//Ferdie//stash"));
    let all_pools = pools.join(",");
    // The adversaries start first: honest workers claim and commit in the block after a post,
    // so an adversary started beside them would rarely win a slot.
    world.worker("//Bob//stash", &["bob", "alice"], &["--register-label", "pool-lie", "--dishonest-for-tests", "--audit", "false"]);
    world.worker("//Eve//stash", &["dave", "alice"], &["--register-label", "pool-withhold", "--withhold-reveals-for-tests", "--audit", "false"]);
    world.registered(&[&liar, &withholder]).await;

    let at_start = world.client.at_finalized().await.expect("finalized");
    let start = at_start.block_number();
    let issuance = |at: &tessera_client::AtBlock| {
        let at = at.clone();
        async move {
            let total = at.storage().try_fetch(chain::storage().balances().total_issuance().unvalidated(), ()).await.expect("issuance");
            let emitted = at.storage().try_fetch(chain::storage().market().total_emitted().unvalidated(), ()).await.expect("emitted");
            let total: Balance = total.map(|v| v.decode().expect("decodes")).unwrap_or(0);
            let emitted: Balance = emitted.map(|v| v.decode().expect("decodes")).unwrap_or(0);
            (total, emitted)
        }
    };
    let (issued_before, emitted_before): (Balance, Balance) = issuance(&at_start).await;

    let mut jobs = Vec::new();
    for round in 0..8u32 {
        for pool in pools {
            let input = tessera_examples::input::hash_chain(1_000 + round, pool.as_bytes());
            let job = world.post_placed(&requester, &input, 2, 10_000_000, None, &[pool], 60).await;
            jobs.push((job, input));
        }
    }
    // The vanisher is not kept in the world: it claims before it executes, is killed with -9 as
    // soon as it holds a slot (before it can commit, mostly) and stays away.
    let name = "ferdie-stash";
    let url = world.net.nodes[2].url.clone();
    let mut vanishing = Process::spawn(
        {
            let mut cmd = Command::new(binary("tessera-worker"));
            cmd.args(["--node", &url, "--suri", "//Ferdie//stash", "--register-stake", "2000", "--register-capacity", "4"])
                .args(["--register-price", "0.000000000001", "--register-label", "pool-vanish", "--audit", "false"])
                .args(["--execute-first-fuel", "0"])
                .arg("--data-dir")
                .arg(world.dir.path().join(format!("data-{name}")))
                .env("RUST_LOG", "info");
            cmd
        },
        world.dir.path().join(format!("worker-{name}.log")),
    );
    world.registered(&[&vanisher]).await;
    let vanisher_account = tessera_client::api_account(&vanisher.account());
    world
        .until("the vanisher's claim", 180, || async {
            for (job, _) in &jobs {
                let Some(live) = world.client.rpc().job(*job, None).await.ok().flatten().and_then(|v| v.live) else { continue };
                if live.slots.iter().any(|s| s.provider == vanisher_account) {
                    return Some(());
                }
            }
            None
        })
        .await;
    vanishing.kill9();
    // Each honest worker can serve a slot of every job at once, so no job waits for honest
    // capacity until its claims expire (the abandoned slots come back to them after a fault).
    world.worker("//Charlie//stash", &["alice", "bob"], &["--register-label", &all_pools, "--register-capacity", "24"]);
    world.worker("//Dave//stash", &["charlie", "dave"], &["--register-label", &all_pools, "--register-capacity", "24"]);
    world.registered(&[&honest1, &honest2]).await;

    let mut end = start;
    for (job, _) in &jobs {
        end = end.max(world.ended(*job, 900).await);
    }
    // `ended` reads best blocks: the funds and events below are read up to a finalized block, so
    // wait until finality has reached the last settlement (finalized alone lags by 2-3 blocks,
    // which left the last settlements' payments out of the events).
    let at_end = world
        .until("finality to reach the last settlement", 120, || async {
            let at = world.client.at_finalized().await.ok()?;
            (at.block_number() >= end).then_some(at)
        })
        .await;
    // Slashes are scheduled, not yet applied (SlashDeferral is a day): scheduled stake stays held,
    // so the funds below balance at any block.
    let end = at_end.block_number();
    let events = world.events(start + 1, end).await;

    let receipts: BTreeMap<JobId, Receipt> =
        jobs.iter().map(|(job, input)| (*job, world.honest_receipt(input, 10_000_000))).collect();
    let honest = [honest1.account(), honest2.account(), signer("//Eve").account(), signer("//Ferdie").account()];
    let (mut lies, mut withheld, mut vanished) = (0, 0, 0);
    let mut paid_to_honest = 0;
    for (job, _) in &jobs {
        let view = world.client.rpc().job(*job, None).await.expect("tessera_job").expect("known");
        let result = view.result.expect("ended");
        let of_job = |e: &&Event| match e {
            Event::Market(m) => match m {
                Market::Revealed { job: j, .. } |
                Market::Committed { job: j, .. } |
                Market::SlotClaimed { job: j, .. } |
                Market::ReplicaPaid { job: j, .. } |
                Market::Faulted { job: j, .. } |
                Market::WrongResult { job: j, .. } => j == job,
                _ => false,
            },
            _ => false,
        };
        let mine: Vec<&Event> = events.iter().filter(of_job).collect();
        assert_eq!(result.receipt, Some(receipts[job]), "job {job} ({:?}) has the honest result; its events: {mine:#?}", view.status);
        let paid = |who: &AccountId| {
            mine.iter().find_map(|e| match e {
                Event::Market(Market::ReplicaPaid { provider, payment, .. }) if provider == who => Some(*payment),
                _ => None,
            })
        };
        for e in &mine {
            match e {
                // Every honest reveal is paid exactly its fuel at its price (1 planck).
                Event::Market(Market::Revealed { provider, receipt, .. }) if honest.contains(provider) => {
                    assert_eq!(tessera_client::convert::receipt_from_chain(receipt), receipts[job], "job {job}: an honest receipt");
                    assert_eq!(paid(provider), Some(Balance::from(receipt.fuel_used)), "job {job}: honest {provider} paid what it earned");
                    paid_to_honest += 1;
                },
                Event::Market(Market::Revealed { provider, .. }) if *provider == liar.account() => {
                    lies += 1;
                    assert!(mine.iter().any(|e| matches!(e, Event::Market(Market::WrongResult { provider: p, slashed, .. }) if *p == liar.account() && *slashed > 0)), "job {job}: the lie is slashed");
                },
                Event::Market(Market::Committed { provider, .. }) if *provider == withholder.account() => {
                    withheld += 1;
                    assert!(mine.iter().any(|e| matches!(e, Event::Market(Market::Faulted { who, duty: chain::runtime_types::pallet_market::pallet::Duty::Reveal, slashed, .. }) if *who == withholder.account() && *slashed > 0)), "job {job}: the withheld reveal is penalised");
                },
                // A slot the vanisher claimed and abandoned (it may have served one honestly in
                // the moment before it was killed: that one is paid like any honest reveal).
                Event::Market(Market::SlotClaimed { provider, .. }) if *provider == vanisher.account() => {
                    let revealed = mine.iter().any(|e| matches!(e, Event::Market(Market::Revealed { provider: p, .. }) if *p == vanisher.account()));
                    if !revealed {
                        vanished += 1;
                        assert!(mine.iter().any(|e| matches!(e, Event::Market(Market::Faulted { who, slashed, .. }) if *who == vanisher.account() && *slashed > 0)), "job {job}: the abandoned slot is penalised");
                    }
                },
                Event::Market(Market::Revealed { provider, receipt, .. }) if *provider == vanisher.account() => {
                    assert_eq!(paid(provider), Some(Balance::from(receipt.fuel_used)), "job {job}: the vanisher's one honest reveal is paid");
                },
                _ => {},
            }
        }
        for adversary in [&liar, &withholder] {
            assert_eq!(paid(&adversary.account()), None, "job {job}: {} is paid nothing", adversary.address());
        }
    }
    for who in &honest {
        assert_eq!(faults_of(&events, who).count(), 0, "honest {who} was never penalised");
    }
    assert!(lies > 0 && withheld > 0 && vanished > 0, "every adversary misbehaved: {lies} lies, {withheld} withheld, {vanished} vanished");
    figure!("chaos: {} jobs, {paid_to_honest} honest replicas paid, {lies} lies slashed, {withheld} withheld reveals and {vanished} abandoned slots penalised", jobs.len());

    // Funds: the total issuance moved by exactly the emission recorded, less the fees burned
    // and any dust; and it is the sum of every account's balance.
    let (issued_after, emitted_after): (Balance, Balance) = issuance(&at_end).await;
    let fees: Balance = fees(&events).values().sum();
    let dust: Balance = events
        .iter()
        .filter_map(|e| match e {
            Event::Balances(chain::runtime_types::pallet_balances::pallet::Event::DustLost { amount, .. }) => Some(*amount),
            _ => None,
        })
        .sum();
    let minted: Balance = events
        .iter()
        .filter_map(|e| match e {
            Event::Market(Market::ReplicaPaid { reward, .. } | Market::JurorRewarded { reward, .. }) => Some(*reward),
            _ => None,
        })
        .sum();
    assert_eq!(emitted_after - emitted_before, minted, "TotalEmitted is the emission the events record");
    assert_eq!(issued_after as i128 - issued_before as i128, minted as i128 - fees as i128 - dust as i128, "issuance moves only by emission, fees and dust");
    let mut sum: Balance = 0;
    let mut accounts = at_end.storage().iter(chain::storage().system().account().unvalidated(), ()).await.expect("accounts");
    while let Some(entry) = futures::StreamExt::next(&mut accounts).await {
        let info: AccountInfo<u32, AccountData<Balance>> = entry.expect("entry").value().decode().expect("decodes");
        sum += info.data.free + info.data.reserved;
    }
    assert_eq!(sum, issued_after, "the sum of every account's balance is the total issuance");
    figure!("chaos: issuance {issued_before} -> {issued_after}: emission {minted}, fees burned {fees}, dust {dust}");
}
