//! Worker cost at many live jobs (issue #10): a fixture and a probe, not a timed assertion.
//!
//! - `populate` fills a dev chain: uploads `HASH_CHAIN`, funds and registers provider accounts
//!   `//Alice//provider/<i>` (priced at 2 plancks per fuel, so none can claim the jobs) and posts
//!   jobs offering 1 planck per fuel with a claim timeout of 14,000 blocks, so they all stay open.
//! - `measure` samples a running worker (its CPU time from `/proc/PID/stat`, its
//!   `tessera_worker_rpc_requests_total` and, with `--node-metrics`, the node's count of RPC calls
//!   made by everyone but this probe) over finalized blocks it has processed, optionally posting
//!   new jobs meanwhile, and prints per-block figures and one `RESULT|…` line for scripts.
//!
//! `scripts/bench-worker.sh` runs both against a fresh dev node; see docs/PROVIDER.md ("Worker
//! cost at 10,000 live jobs").

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use clap::{Parser, Subcommand};
use futures::StreamExt;
use tessera_client::{
    api::{JobStatus, JobView},
    api_account,
    chain::{
        self,
        runtime_types::{
            pallet_market::types::{Input, JobSpec, JobTerms},
            tessera_traits::Placement,
            pallet_providers::types::ProviderProfile as Profile,
            sp_arithmetic::per_things::Permill,
        },
    },
    subxt::{transactions::Payload, utils::MultiAddress},
    testing::{metric, scrape},
    Balance, Client, Error, Signer, TesseraRpcClient, H256, UNIT,
};

/// Accounts that pay for the providers' stakes (each holds 1,000,000 TSR on a dev chain).
const FUNDERS: [&str; 4] = ["//Alice", "//Alice//stash", "//Charlie//stash", "//Dave//stash"];
/// Accounts that post (and, when the market is full, cancel) jobs. Not //Bob: the worker.
const REQUESTERS: [&str; 6] =
    ["//Charlie", "//Dave", "//Eve", "//Ferdie", "//Eve//stash", "//Ferdie//stash"];
/// What each provider account is given: the minimum stake and room for fees.
const PROVIDER_FUNDS: Balance = 1_100 * UNIT;
const PROVIDER_STAKE: Balance = 1_000 * UNIT;
/// Above the jobs' offer of 1 planck per fuel: no provider can claim them.
const PROVIDER_PRICE: Balance = 2;
/// Within MaxJobTimeout (a day, 14,400 blocks): the jobs stay open for the whole benchmark.
const CLAIM_TIMEOUT: u32 = 14_000;

#[derive(Parser)]
#[command(
    about = "Populate a dev chain with live jobs and providers; measure a worker's cost per block"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Upload a program, fund and register providers, post open jobs.
    Populate {
        /// The node's WebSocket JSON-RPC endpoint.
        #[arg(long, default_value = "ws://127.0.0.1:9944")]
        node: String,
        /// Live jobs the chain should hold at the end (capped by the market's MaxLiveJobs).
        #[arg(long, default_value_t = 10_000)]
        jobs: u32,
        /// Provider accounts `//Alice//provider/<i>` to register.
        #[arg(long, default_value_t = 200)]
        providers: u32,
        /// Transactions in flight at once.
        #[arg(long, default_value_t = 512)]
        concurrency: usize,
        /// How long to wait for the node to answer.
        #[arg(long, default_value_t = 300)]
        wait_secs: u64,
        /// Also count the open jobs by paging `tessera_jobs` (slow: each page scans every live
        /// job); without it the live count is the market's job counter.
        #[arg(long)]
        count_open: bool,
    },
    /// Sample a running worker over finalized blocks.
    Measure {
        /// The node's WebSocket JSON-RPC endpoint.
        #[arg(long, default_value = "ws://127.0.0.1:9944")]
        node: String,
        /// The worker's `--metrics` address.
        #[arg(long)]
        worker_metrics: SocketAddr,
        /// The worker's process id.
        #[arg(long)]
        pid: u32,
        /// The worker's key (to tell when it is registered, with `--from-start`).
        #[arg(long, default_value = "//Bob")]
        worker_suri: String,
        /// Finalized blocks to sample (steady state).
        #[arg(long, default_value_t = 20)]
        blocks: u64,
        /// New jobs to post per finalized block while sampling (cancelling as many old ones
        /// first when the market is full, so the live count stays put).
        #[arg(long, default_value_t = 0)]
        post_per_block: u32,
        /// Sample the worker's start: from now (before it connected) until it has processed the
        /// block in which it is first seen registered, i.e. its resync and first claim sweep.
        #[arg(long)]
        from_start: bool,
        /// The node's Prometheus port: also count the RPC calls the node served to anyone but
        /// this probe (the worker's calls, by method; works for workers without the RPC metric).
        #[arg(long)]
        node_metrics: Option<u16>,
        /// Name of this run in the `RESULT` line.
        #[arg(long, default_value = "run")]
        label: String,
        /// Print every sampled block.
        #[arg(long)]
        per_block: bool,
    },
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Populate { node, jobs, providers, concurrency, wait_secs, count_open } => {
            let client = connect(&node, wait_secs).await?;
            populate(Arc::new(client), jobs, providers, concurrency.max(1), count_open).await
        },
        Command::Measure {
            node,
            worker_metrics,
            pid,
            worker_suri,
            blocks,
            post_per_block,
            from_start,
            node_metrics,
            label,
            per_block,
        } => {
            let client = Arc::new(connect(&node, 60).await?);
            let probe = Probe::new(client, worker_metrics.port(), pid, node_metrics)?;
            let worker = Signer::from_suri(&worker_suri)?;
            if from_start {
                probe.resync(&worker, &label, per_block).await
            } else {
                probe.steady(blocks.max(1), post_per_block, &label, per_block).await
            }
        },
    }
}

async fn connect(url: &str, wait_secs: u64) -> anyhow::Result<Client> {
    let deadline = Instant::now() + Duration::from_secs(wait_secs);
    loop {
        match Client::connect(url).await {
            Ok(c) => return Ok(c),
            Err(e) if Instant::now() > deadline => {
                anyhow::bail!("{url} did not answer within {wait_secs}s: {e}")
            },
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

fn signer(suri: &str) -> Signer {
    Signer::from_suri(suri).expect("a valid dev key")
}

fn job_spec(program: H256, nonce: u64) -> JobSpec {
    JobSpec {
        terms: JobTerms {
            program,
            fuel_limit: 1_000,
            replicas: 1,
            max_price_per_fuel: 1,
            min_reputation: Permill(0),
            max_output_len: 1024,
            claim_timeout: CLAIM_TIMEOUT,
            execution_timeout: 100,
            challenge_window: 10,
        },
        input: Input::Inline(tessera_examples::input::hash_chain(10, &nonce.to_le_bytes())),
        placement: Placement { region: None, labels: vec![] },
    }
}

fn program_id() -> H256 {
    H256::from(tessera_primitives::program::program_id(tessera_examples::HASH_CHAIN).0)
}

/// Transactions this process submitted. Each ends its status subscription with an
/// `author_unwatchExtrinsic` the client's request counter does not see, but the node does.
static SUBMITTED: AtomicU64 = AtomicU64::new(0);

/// Submits `call`, retrying transport and pool failures (not dispatch errors) a few times.
async fn submit<C: Payload>(
    client: &Client,
    who: &Signer,
    call: &C,
) -> Result<tessera_client::Included, Error> {
    let mut attempt = 0;
    loop {
        SUBMITTED.fetch_add(1, Ordering::Relaxed);
        match client.submit(who, call).await {
            Err(e) if e.dispatch_name().is_none() && attempt < 3 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
            },
            other => return other,
        }
    }
}

/// Live (not ended) jobs at the best block: the market's job counter (one storage read).
///
/// Not `tessera_jobs` paging: each page collects and sorts the ids of every live job, so listing
/// 10,000 of them takes 100 pages of a couple of seconds each on a debug node.
async fn live_jobs(client: &Client) -> anyhow::Result<u32> {
    let at = client.at_best().await?;
    let count = at
        .storage()
        .fetch(chain::storage().market().counter_for_job_of(), ())
        .await
        .map_err(tessera_client::subxt_error)?;
    Ok(count.decode().map_err(tessera_client::subxt_error)?)
}

/// Open jobs at `--count-open`: `tessera_jobs` paged with the `Open` filter.
async fn open_jobs(client: &Client) -> anyhow::Result<usize> {
    let (mut open, mut from) = (0, 0);
    loop {
        let page = client.rpc().jobs(Some(JobStatus::Open), Some(from), None, None).await?;
        open += page.jobs.len();
        match page.next {
            Some(n) => from = n,
            None => return Ok(open),
        }
    }
}

/// Cancels the oldest open job one of `requesters` posted, scanning ids upwards from `cursor`
/// with `tessera_job` (a direct read each), shared by concurrent callers.
async fn cancel_oldest(
    client: &Client,
    requesters: &[Signer],
    cursor: &AtomicU64,
    next_id: u64,
) -> Result<(), String> {
    loop {
        let id = cursor.fetch_add(1, Ordering::Relaxed);
        if id >= next_id {
            return Err("no open job of ours left to cancel".into());
        }
        let view: Option<JobView> = client.rpc().job(id, None).await.map_err(|e| e.to_string())?;
        let Some(view) = view.filter(|v| v.status == JobStatus::Open) else { continue };
        let Some(who) = requesters.iter().find(|s| api_account(&s.account()) == view.requester)
        else {
            continue;
        };
        return match submit(client, who, &chain::transactions().market().cancel_job(id)).await {
            Ok(_) => Ok(()),
            // Someone else ended it meanwhile: take the next.
            Err(e) if e.dispatch_name().is_some() => continue,
            Err(e) => Err(e.to_string()),
        };
    }
}

async fn populate(
    client: Arc<Client>,
    jobs: u32,
    providers: u32,
    concurrency: usize,
    count_open: bool,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let first_block = client.best_number().await?;
    let elapsed = |since: Instant| format!("{:.1}s", since.elapsed().as_secs_f64());

    // The program.
    let program = program_id();
    let at = client.at_best().await?;
    if client.program_code(&at, tessera_primitives::ProgramId::from(program.0)).await?.is_none() {
        let call = chain::transactions()
            .programs()
            .upload_program(tessera_examples::HASH_CHAIN.to_vec());
        submit(&client, &signer("//Alice"), &call).await?;
        println!("uploaded HASH_CHAIN as {program:?}");
    } else {
        println!("HASH_CHAIN is already on chain as {program:?}");
    }

    // Fund the providers (round robin over the funders, concurrently).
    let phase = Instant::now();
    let funders: Vec<Signer> = FUNDERS.iter().map(|s| signer(s)).collect();
    let keys: Vec<Signer> =
        (0..providers).map(|i| signer(&format!("//Alice//provider/{i}"))).collect();
    let results: Vec<Result<bool, Error>> = futures::stream::iter(keys.iter().enumerate())
        .map(|(i, key)| {
            let (client, funder) = (client.clone(), funders[i % funders.len()].clone());
            let dest = key.account();
            async move {
                if client.free_balance(&dest, None).await? >= PROVIDER_FUNDS {
                    return Ok(false);
                }
                let call = chain::transactions()
                    .balances()
                    .transfer_keep_alive(MultiAddress::Id(dest), PROVIDER_FUNDS);
                submit(&client, &funder, &call).await.map(|_| true)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let funded = results.iter().filter(|r| matches!(r, Ok(true))).count();
    report_failures("transfer", &results);
    println!(
        "funded {funded} provider accounts ({} already funded) in {}",
        providers as usize - funded - failures(&results),
        elapsed(phase)
    );

    // Register them.
    let phase = Instant::now();
    let results: Vec<Result<bool, Error>> = futures::stream::iter(keys.iter().cloned())
        .map(|key| {
            let client = client.clone();
            async move {
                if client.rpc().provider(api_account(&key.account()), None).await?.is_some() {
                    return Ok(false);
                }
                let profile = Profile {
                    capacity: 4,
                    price_per_fuel: PROVIDER_PRICE,
                    region: Vec::new(),
                    labels: Vec::new(),
                };
                let call = chain::transactions().providers().register(PROVIDER_STAKE, profile);
                submit(&client, &key, &call).await.map(|_| true)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let registered = results.iter().filter(|r| matches!(r, Ok(true))).count();
    report_failures("register", &results);
    println!("registered {registered} providers in {}", elapsed(phase));

    // Post jobs until the chain holds `jobs` live ones (or the market is full).
    let max_live = client
        .at_best()
        .await?
        .constants()
        .entry(chain::constants().market().max_live_jobs())
        .map_err(tessera_client::subxt_error)?;
    let target = (jobs as usize).min(max_live as usize);
    let requesters: Vec<Signer> = REQUESTERS.iter().map(|s| signer(s)).collect();
    let phase = Instant::now();
    let phase_block = client.best_number().await?;
    let posted = Arc::new(AtomicU64::new(0));
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)?;
    for round in 0..5 {
        let live = live_jobs(&client).await? as usize;
        if live >= target {
            break;
        }
        let missing = target - live;
        println!(
            "round {}: the chain holds {live} live jobs, posting {missing} (limit {max_live})",
            round + 1
        );
        let results: Vec<Result<bool, Error>> = futures::stream::iter(0..missing)
            .map(|i| {
                let (client, who, posted) =
                    (client.clone(), requesters[i % requesters.len()].clone(), posted.clone());
                let call = chain::transactions()
                    .market()
                    .post_job(job_spec(program, nonce.wrapping_add(i as u64)));
                async move {
                    let r = submit(&client, &who, &call).await.map(|included| {
                        matches!(
                            included.events.find_first::<chain::market::events::JobPosted>(),
                            Some(Ok(_))
                        )
                    });
                    let seen = u64::from(matches!(r, Ok(true)));
                    let n = posted.fetch_add(seen, Ordering::Relaxed) + seen;
                    if seen == 1 && n % 500 == 0 {
                        let block = client.best_number().await.unwrap_or_default();
                        println!(
                            "  posted {n} jobs, best block #{block}, {:.1}s",
                            phase.elapsed().as_secs_f64()
                        );
                    }
                    r
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        report_failures("post_job", &results);
    }
    let last_block = client.best_number().await?;
    let live = live_jobs(&client).await? as usize;
    let open =
        if count_open { open_jobs(&client).await?.to_string() } else { "not counted".into() };
    println!(
        "posted {} jobs (JobPosted events) in {} over {} blocks ({:.0} jobs/block)",
        posted.load(Ordering::Relaxed),
        elapsed(phase),
        last_block - phase_block,
        posted.load(Ordering::Relaxed) as f64 / (last_block - phase_block).max(1) as f64,
    );
    println!(
        "populate took {} and {} blocks; the chain holds {live} live jobs (open: {open}) and {} providers registered here",
        elapsed(started),
        last_block - first_block,
        providers as usize - unregistered(&client, &keys).await?,
    );
    println!("LIVE_JOBS={live}");
    if live < target {
        anyhow::bail!("only {live} of {target} jobs are live");
    }
    Ok(())
}

/// Provider accounts of `keys` that are not registered at the best block.
async fn unregistered(client: &Client, keys: &[Signer]) -> anyhow::Result<usize> {
    let mut missing = 0;
    for key in keys {
        missing +=
            usize::from(client.rpc().provider(api_account(&key.account()), None).await?.is_none());
    }
    Ok(missing)
}

fn failures<T>(results: &[Result<T, Error>]) -> usize {
    results.iter().filter(|r| r.is_err()).count()
}

fn report_failures<T>(what: &str, results: &[Result<T, Error>]) {
    let mut by_error: BTreeMap<String, usize> = BTreeMap::new();
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        *by_error.entry(e.to_string()).or_default() += 1;
    }
    for (e, n) in by_error {
        eprintln!("  {what}: {n} failed: {e}");
    }
}

/// One reading of the worker and the node.
#[derive(Clone)]
struct Sample {
    /// utime + stime of the worker, in clock ticks.
    cpu_ticks: u64,
    /// The worker's `tessera_worker_rpc_requests_total`.
    worker_rpc: Option<f64>,
    /// The worker's `tessera_worker_block_seconds` sum and count.
    block_seconds: Option<(f64, f64)>,
    /// The node's `substrate_rpc_calls_started`, by method.
    node_calls: Option<BTreeMap<String, f64>>,
    /// Requests this probe made (and unsubscriptions of its transactions).
    mine: u64,
    at: Instant,
}

struct Probe {
    client: Arc<Client>,
    worker_port: u16,
    pid: u32,
    node_port: Option<u16>,
    clk_tck: f64,
}

/// What one sampled window cost.
struct Window {
    blocks: u64,
    cpu_ms: f64,
    worker_rpc: Option<f64>,
    node_rpc: Option<f64>,
    node_by_method: Vec<(String, f64)>,
    block_ms: Option<f64>,
    wall: Duration,
}

impl Probe {
    fn new(
        client: Arc<Client>,
        worker_port: u16,
        pid: u32,
        node_port: Option<u16>,
    ) -> anyhow::Result<Probe> {
        let clk_tck = std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse::<f64>().ok())
            .unwrap_or(100.0);
        let probe = Probe { client, worker_port, pid, node_port, clk_tck };
        probe.cpu_ticks()?;
        Ok(probe)
    }

    fn cpu_ticks(&self) -> anyhow::Result<u64> {
        cpu_ticks(self.pid)
    }

    fn worker_metrics(&self) -> String {
        scrape(self.worker_port)
    }

    fn sample(&self) -> anyhow::Result<Sample> {
        let text = self.worker_metrics();
        let node_calls = self.node_port.map(|p| node_calls(&scrape(p)));
        Ok(Sample {
            cpu_ticks: self.cpu_ticks()?,
            worker_rpc: metric(&text, "tessera_worker_rpc_requests_total"),
            block_seconds: metric(&text, "tessera_worker_block_seconds_sum")
                .zip(metric(&text, "tessera_worker_block_seconds_count")),
            node_calls,
            mine: self.client.requests() + SUBMITTED.load(Ordering::Relaxed),
            at: Instant::now(),
        })
    }

    /// The last finalized block the worker has processed, if it serves metrics yet.
    fn worker_block(&self) -> Option<u64> {
        metric(&self.worker_metrics(), "tessera_worker_finalized_block").map(|b| b as u64)
    }

    /// Waits until the worker has processed block `n` (polling its metrics every 100 ms).
    async fn processed(&self, n: u64, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.worker_block().is_some_and(|b| b >= n) {
                return Ok(());
            }
            self.cpu_ticks()?; // fails if the worker exited
            if Instant::now() > deadline {
                anyhow::bail!(
                    "the worker did not process block #{n} within {timeout:?} (it is at {:?})",
                    self.worker_block()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn window(&self, from: &Sample, to: &Sample, blocks: u64) -> Window {
        let worker_rpc = from.worker_rpc.or(Some(0.0)).zip(to.worker_rpc).map(|(a, b)| b - a);
        let (node_rpc, node_by_method) = match (&from.node_calls, &to.node_calls) {
            (Some(a), Some(b)) => {
                let mut by: Vec<(String, f64)> = b
                    .iter()
                    .map(|(m, v)| (m.clone(), v - a.get(m).copied().unwrap_or(0.0)))
                    .filter(|(_, d)| *d > 0.0)
                    .collect();
                by.sort_by(|x, y| y.1.total_cmp(&x.1));
                let total: f64 = by.iter().map(|(_, d)| d).sum();
                (Some(total - (to.mine - from.mine) as f64), by)
            },
            _ => (None, Vec::new()),
        };
        let block_ms = match (from.block_seconds.unwrap_or((0.0, 0.0)), to.block_seconds) {
            ((s0, c0), Some((s1, c1))) if c1 > c0 => Some((s1 - s0) / (c1 - c0) * 1000.0),
            _ => None,
        };
        Window {
            blocks,
            cpu_ms: (to.cpu_ticks - from.cpu_ticks) as f64 * 1000.0 / self.clk_tck,
            worker_rpc,
            node_rpc,
            node_by_method,
            block_ms,
            wall: to.at - from.at,
        }
    }

    async fn live(&self) -> String {
        match live_jobs(&self.client).await {
            Ok(live) => format!("{live} live jobs"),
            Err(e) => format!("live jobs unknown ({e})"),
        }
    }

    fn tracked(&self) -> String {
        let text = self.worker_metrics();
        ["open", "mine", "votes", "audits"]
            .iter()
            .filter_map(|k| {
                Some(format!(
                    "{k}={}",
                    metric(&text, &format!("tessera_worker_tracked_jobs{{kind=\"{k}\"}}"))?
                ))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn print(&self, label: &str, w: &Window, events: Option<f64>, live: &str) {
        let per = |v: f64| v / w.blocks as f64;
        let opt =
            |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map(f).unwrap_or_else(|| "n/a".into());
        println!("== {label}");
        println!("  blocks processed by the worker: {} in {:.1}s", w.blocks, w.wall.as_secs_f64());
        println!(
            "  worker CPU: {:.0} ms in all, {:.1} ms per block (clock tick {:.0} ms)",
            w.cpu_ms,
            per(w.cpu_ms),
            1000.0 / self.clk_tck
        );
        println!(
            "  worker RPC requests (its metric): {} in all, {} per block",
            opt(w.worker_rpc, &|v| format!("{v:.0}")),
            opt(w.worker_rpc, &|v| format!("{:.1}", per(v)))
        );
        if let Some(n) = w.node_rpc {
            let top: Vec<String> =
                w.node_by_method.iter().take(8).map(|(m, d)| format!("{m}={d:.0}")).collect();
            println!(
                "  RPC calls the node served to others: {n:.0} in all, {:.1} per block [{}]",
                per(n),
                top.join(", ")
            );
        }
        if let Some(ms) = w.block_ms {
            println!("  worker's own time per block (tessera_worker_block_seconds): {ms:.1} ms");
        }
        if let Some(e) = events {
            println!("  market events per block: {e:.1}");
        }
        println!("  node: {live}; worker tracks {}", self.tracked());
        println!(
            "RESULT|{label}|{}|{:.0}|{:.1}|{}|{}|{}|{}|{:.1}|{live}",
            w.blocks,
            w.cpu_ms,
            per(w.cpu_ms),
            opt(w.worker_rpc, &|v| format!("{v:.0}")),
            opt(w.worker_rpc, &|v| format!("{:.1}", per(v))),
            opt(w.node_rpc, &|v| format!("{:.1}", per(v))),
            opt(events, &|v| format!("{v:.1}")),
            w.wall.as_secs_f64(),
        );
    }

    /// Events of the Market pallet in `block`.
    async fn market_events(&self, block: &Block) -> u64 {
        let Ok(at) = block.at().await else { return 0 };
        let Ok(events) = at.events().fetch().await else { return 0 };
        events.iter().filter_map(Result::ok).filter(|e| e.pallet_name() == "Market").count() as u64
    }

    /// From the worker's start until it has processed the block in which it is first seen
    /// registered: its resync (every live job read once) and its first claim sweep.
    async fn resync(&self, worker: &Signer, label: &str, per_block: bool) -> anyhow::Result<()> {
        let start = self.sample()?;
        let me = api_account(&worker.account());
        let mut blocks = self.client.finalized_blocks().await?;
        // When the worker has processed its first block (its resync done): polled every 100 ms
        // beside the block loop, with its CPU time and RPC requests at that moment.
        let (port, pid, since) = (self.worker_port, self.pid, start.at);
        let first_processed = tokio::spawn(async move {
            loop {
                let text = scrape(port);
                if let Some(b) =
                    metric(&text, "tessera_worker_finalized_block").filter(|b| *b > 0.0)
                {
                    let rpc = metric(&text, "tessera_worker_rpc_requests_total");
                    return Some((b as u64, since.elapsed(), cpu_ticks(pid).ok()?, rpc));
                }
                cpu_ticks(pid).ok()?;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        let mut registered_at = None;
        let mut first_seen = None;
        let deadline = Instant::now() + Duration::from_secs(1800);
        let mut seen = 0u64;
        while registered_at.is_none() {
            let block = next_block(&mut blocks).await?;
            first_seen.get_or_insert(block.number());
            seen += 1;
            if self.client.rpc().provider(me.clone(), Some(block.hash())).await?.is_some() {
                registered_at = Some(block.number());
            }
            if per_block {
                println!(
                    "  #{} worker at {:?}, cpu {:.0} ms",
                    block.number(),
                    self.worker_block(),
                    self.cpu_ms_since(&start)?
                );
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the worker was not registered within 30 minutes"
            );
        }
        let registered_at = registered_at.unwrap_or_default();
        self.processed(registered_at, Duration::from_secs(1800)).await?;
        let end = self.sample()?;
        let processed = self.worker_block().unwrap_or(registered_at);
        let first = first_seen.unwrap_or(processed);
        if let Ok(Some((b, after, ticks, rpc))) = first_processed.await {
            println!(
                "  resync: the worker processed its first block (#{b}) {:.1}s after its start, having used {:.0} ms CPU and {} RPC requests",
                after.as_secs_f64(),
                (ticks - start.cpu_ticks) as f64 * 1000.0 / self.clk_tck,
                rpc.map(|r| format!("{r:.0}")).unwrap_or_else(|| "n/a".into()),
            );
        }
        println!(
            "  registered as of finalized block #{registered_at}; {seen} finalized blocks went by"
        );
        let w = self.window(&start, &end, processed.saturating_sub(first) + 1);
        let live = self.live().await;
        self.print(label, &w, None, &live);
        Ok(())
    }

    fn cpu_ms_since(&self, s: &Sample) -> anyhow::Result<f64> {
        Ok((self.cpu_ticks()? - s.cpu_ticks) as f64 * 1000.0 / self.clk_tck)
    }

    /// `blocks` finalized blocks after the worker caught up, posting `post` jobs per block.
    async fn steady(
        &self,
        blocks: u64,
        post: u32,
        label: &str,
        per_block: bool,
    ) -> anyhow::Result<()> {
        let requesters: Vec<Signer> = REQUESTERS.iter().map(|s| signer(s)).collect();
        let at = self.client.at_best().await?;
        let max_live = at
            .constants()
            .entry(chain::constants().market().max_live_jobs())
            .map_err(tessera_client::subxt_error)? as usize;
        let mut live = if post > 0 { live_jobs(&self.client).await? as usize } else { 0 };
        let next_id: u64 = at
            .storage()
            .fetch(chain::storage().market().next_job_id(), ())
            .await
            .map_err(tessera_client::subxt_error)?
            .decode()
            .map_err(tessera_client::subxt_error)?;
        let (requesters, cursor) = (Arc::new(requesters), Arc::new(AtomicU64::new(0)));
        let program = program_id();
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)?;
        let failed = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();

        let mut stream = self.client.finalized_blocks().await?;
        // Start when the worker has caught up with a fresh finalized block.
        let first = next_block(&mut stream).await?;
        self.processed(first.number(), Duration::from_secs(600)).await?;
        let start = self.sample()?;
        let mut last = start.clone();
        let mut events = 0u64;
        if per_block {
            println!(
                "  {:>8} {:>7} {:>8} {:>8} {:>8}",
                "block", "events", "cpu ms", "rpc", "node rpc"
            );
        }
        for i in 0..blocks {
            if post > 0 {
                for k in 0..post {
                    let (client, failed, requesters, cursor) =
                        (self.client.clone(), failed.clone(), requesters.clone(), cursor.clone());
                    let who_post = requesters
                        [(i as usize * post as usize + k as usize) % requesters.len()]
                    .clone();
                    let post_call = chain::transactions()
                        .market()
                        .post_job(job_spec(program, nonce.wrapping_add(i * 1_000 + u64::from(k))));
                    // Keep the live count under the market's limit: cancel one of ours first.
                    let cancel = live >= max_live;
                    if !cancel {
                        live += 1;
                    }
                    tasks.push(tokio::spawn(async move {
                        if cancel {
                            if let Err(e) =
                                cancel_oldest(&client, &requesters, &cursor, next_id).await
                            {
                                eprintln!("  cancel: {e}");
                                failed.fetch_add(1, Ordering::Relaxed);
                                return;
                            }
                        }
                        if submit(&client, &who_post, &post_call).await.is_err() {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }));
                }
            }
            let block = next_block(&mut stream).await?;
            self.processed(block.number(), Duration::from_secs(600)).await?;
            let now = self.sample()?;
            let market = self.market_events(&block).await;
            events += market;
            if per_block {
                let w = self.window(&last, &now, 1);
                println!(
                    "  {:>8} {:>7} {:>8.0} {:>8} {:>8}",
                    format!("#{}", block.number()),
                    market,
                    w.cpu_ms,
                    w.worker_rpc.map(|v| format!("{v:.0}")).unwrap_or_else(|| "n/a".into()),
                    w.node_rpc.map(|v| format!("{v:.0}")).unwrap_or_else(|| "n/a".into()),
                );
            }
            last = now;
        }
        let end = last;
        let w = self.window(&start, &end, blocks);
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(120), t).await;
        }
        let failed = failed.load(Ordering::Relaxed);
        if failed > 0 {
            eprintln!("  {failed} of the cancel/post transactions failed");
        }
        let live = self.live().await;
        self.print(label, &w, Some(events as f64 / blocks as f64), &live);
        Ok(())
    }
}

/// utime + stime of process `pid` (all its threads), in clock ticks.
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| anyhow::anyhow!("worker process {pid}: {e}"))?;
    // Fields after "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    match (field(14), field(15)) {
        (Some(u), Some(s)) => Ok(u + s),
        _ => anyhow::bail!("unexpected /proc/{pid}/stat: {stat}"),
    }
}

/// The node's `substrate_rpc_calls_started` counters summed by method.
fn node_calls(text: &str) -> BTreeMap<String, f64> {
    let mut by = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && l.contains("rpc_calls_started{")) {
        let method = line
            .split_once("method=\"")
            .and_then(|(_, r)| r.split_once('"'))
            .map(|(m, _)| m.to_owned())
            .unwrap_or_default();
        if let Some(v) = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()) {
            *by.entry(method).or_default() += v;
        }
    }
    by
}

/// A finalized block from the subscription.
type Block = tessera_client::subxt::client::Block<tessera_client::TesseraConfig>;

/// The next finalized block, or an error after two minutes without one.
async fn next_block(
    stream: &mut tessera_client::subxt::client::Blocks<tessera_client::TesseraConfig>,
) -> anyhow::Result<Block> {
    match tokio::time::timeout(Duration::from_secs(120), stream.next()).await {
        Ok(Some(b)) => b.map_err(|e| anyhow::anyhow!(tessera_client::subxt_error(e))),
        Ok(None) => anyhow::bail!("the finalized-blocks subscription ended"),
        Err(_) => anyhow::bail!("no finalized block for 2 minutes"),
    }
}
