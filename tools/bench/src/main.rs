//! `tessera-bench`: the market measured against the chain's own floor, over JSON-RPC only.
//!
//! - `latency`: posts jobs one after another and prints, for each, the block of every phase
//!   (posted, claimed, committed, reveals opened, revealed, agreed, settled) and the blocks from
//!   post to the last reveal.
//! - `throughput`: the standard way of counting transactions per block. Pre-funds accounts,
//!   pre-signs every transaction (so signing costs nothing during the run), submits them as
//!   fast as the node accepts them, and counts what each block includes: `transfer_keep_alive`
//!   (the reference), `post_job`, and complete job lifecycles (posts that the workers serving
//!   the chain claim, commit, reveal and settle). Prints extrinsics per block and the ratio to
//!   transfers.
//!
//! `scripts/latency.sh` and `scripts/throughput.sh` start a chain and workers and run these;
//! docs/PERFORMANCE.md has the figures.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use futures::StreamExt;
use tessera_client::{
    chain::{
        self,
        market::events as ev,
        runtime_types::{
            pallet_balances::pallet::Call as BalancesCall,
            pallet_market::types::{Input, JobSpec, JobTerms},
            sp_arithmetic::per_things::Permill,
            tessera_runtime::RuntimeCall,
            tessera_traits::Placement,
        },
    },
    rpc_params, AtBlock, Balance, Client, Signer, TesseraRpcClient, H256, UNIT,
};
use tessera_primitives::JobId;

#[derive(Parser)]
#[command(name = "tessera-bench", version, about = "Latency and throughput of the Tessera market, measured over JSON-RPC.")]
struct Cli {
    /// The node's WebSocket JSON-RPC endpoint.
    #[arg(long, env = "TESSERA_NODE", default_value = "ws://127.0.0.1:9944")]
    node: String,
    /// The account that pays: posts the latency jobs, funds the throughput accounts.
    #[arg(long, env = "TESSERA_SURI", hide_env_values = true, default_value = "//Alice")]
    suri: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Posts jobs one after another; prints the block of each phase of each.
    Latency {
        /// Jobs to post.
        #[arg(long, default_value_t = 10)]
        jobs: u32,
        /// Replicas per job.
        #[arg(long, default_value_t = 1)]
        replicas: u32,
        /// Challenge window of each job, in blocks (the chain's minimum is 10).
        #[arg(long, default_value_t = 10)]
        challenge_window: u32,
    },
    /// Pre-signed transactions submitted as fast as the node takes them; counts per block.
    Throughput {
        /// What to submit, in order (each measured on its own).
        #[arg(long, value_delimiter = ',', default_value = "transfer,post")]
        kinds: Vec<Kind>,
        /// Transactions per kind.
        #[arg(long, default_value_t = 3000)]
        count: u32,
        /// Accounts signing them (each signs count / accounts, with consecutive nonces).
        #[arg(long, default_value_t = 300)]
        accounts: u32,
        /// Give up on a kind after this many blocks without all of it included.
        #[arg(long, default_value_t = 60)]
        timeout_blocks: u64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Kind {
    /// `balances.transfer_keep_alive`, the reference.
    Transfer,
    /// `market.post_job` (one replica, a small inline input).
    Post,
    /// `market.post_job` whose jobs the chain's workers serve to settlement: counts settled
    /// jobs per block too.
    Lifecycle,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let client = Client::connect(&cli.node).await.with_context(|| format!("connecting to {}", cli.node))?;
    let payer = Signer::from_suri(&cli.suri)?;
    match cli.command {
        Command::Latency { jobs, replicas, challenge_window } => latency(&client, &payer, jobs, replicas, challenge_window).await,
        Command::Throughput { kinds, count, accounts, timeout_blocks } => {
            throughput(&client, &payer, &kinds, count, accounts.clamp(1, count.max(1)), timeout_blocks).await
        },
    }
}

// -------------------------------------------------------------------------------------------
// Jobs
// -------------------------------------------------------------------------------------------

/// Uploads the hash-chain example (a few hundred bytes) unless it is on chain; its id.
async fn program(client: &Client, payer: &Signer) -> anyhow::Result<H256> {
    let code = tessera_examples::HASH_CHAIN;
    let id = tessera_primitives::program::program_id(code);
    let at = client.at_best().await?;
    if client.program_code(&at, id).await?.is_none() {
        client.submit(payer, &chain::transactions().programs().upload_program(code.to_vec())).await?;
    }
    Ok(H256::from(id.0))
}

/// A small job: `rounds` of the hash chain over `tag`, at a price of one planck per fuel.
fn job_spec(program: H256, rounds: u32, tag: &[u8], replicas: u32, challenge_window: u32) -> JobSpec {
    job_spec_claimable_for(program, rounds, tag, replicas, challenge_window, 100)
}

fn job_spec_claimable_for(
    program: H256,
    rounds: u32,
    tag: &[u8],
    replicas: u32,
    challenge_window: u32,
    claim_timeout: u32,
) -> JobSpec {
    JobSpec {
        terms: JobTerms {
            program,
            fuel_limit: 10_000_000,
            replicas,
            max_price_per_fuel: 1,
            min_reputation: Permill(0),
            max_output_len: 64,
            claim_timeout,
            execution_timeout: 30,
            challenge_window,
        },
        input: Input::Inline(tessera_examples::input::hash_chain(rounds, tag)),
        placement: Placement { region: None, labels: vec![] },
    }
}

/// Blocks at which one job's phases happened (first claim, last claim, …).
#[derive(Default, Debug, Clone)]
struct Phases {
    posted: Option<u64>,
    claimed: Vec<u64>,
    committed: Vec<u64>,
    reveal_opened: Option<u64>,
    revealed: Vec<u64>,
    agreed: Option<u64>,
    ended: Option<(u64, String)>,
}

/// Every market event of blocks `from..=to`, by job.
async fn phases(client: &Client, from: u64, to: u64, jobs: &[JobId]) -> anyhow::Result<BTreeMap<JobId, Phases>> {
    let mut out: BTreeMap<JobId, Phases> = jobs.iter().map(|j| (*j, Phases::default())).collect();
    for n in from..=to {
        let at = client.at_number(n).await?;
        let events = at.events().fetch().await?;
        for event in events.iter() {
            let event = event?;
            if event.pallet_name() != "Market" {
                continue;
            }
            let mut note = |job: JobId, f: &mut dyn FnMut(&mut Phases)| {
                if let Some(p) = out.get_mut(&job) {
                    f(p)
                }
            };
            if let Some(Ok(e)) = event.decode_fields_as::<ev::JobPosted>() {
                note(e.job, &mut |p| p.posted = Some(n));
            } else if let Some(Ok(e)) = event.decode_fields_as::<ev::SlotClaimed>() {
                note(e.job, &mut |p| p.claimed.push(n));
            } else if let Some(Ok(e)) = event.decode_fields_as::<ev::Committed>() {
                note(e.job, &mut |p| p.committed.push(n));
            } else if let Some(Ok(e)) = event.decode_fields_as::<ev::RevealOpened>() {
                note(e.job, &mut |p| p.reveal_opened = Some(n));
            } else if let Some(Ok(e)) = event.decode_fields_as::<ev::Revealed>() {
                note(e.job, &mut |p| p.revealed.push(n));
            } else if let Some(Ok(e)) = event.decode_fields_as::<ev::ResultAgreed>() {
                note(e.job, &mut |p| p.agreed = Some(n));
            } else if let Some(Ok(e)) = event.decode_fields_as::<ev::JobEnded>() {
                let outcome = format!("{:?}", e.outcome);
                note(e.job, &mut |p| p.ended = Some((n, outcome.clone())));
            }
        }
    }
    Ok(out)
}

async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut f: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    let started = Instant::now();
    while !f().await? {
        if started.elapsed() > timeout {
            bail!("timed out after {:?} waiting for {what}", timeout);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}

async fn latency(client: &Client, payer: &Signer, jobs: u32, replicas: u32, challenge_window: u32) -> anyhow::Result<()> {
    let program = program(client, payer).await?;
    let first = client.best_number().await?;
    let mut ids = Vec::new();
    for i in 0..jobs {
        let spec = job_spec(program, 1_000 + i, b"latency", replicas, challenge_window);
        let included = client.submit(payer, &chain::transactions().market().post_job(spec)).await?;
        let job = included.events.find_first::<ev::JobPosted>().ok_or_else(|| anyhow!("no JobPosted"))??.job;
        ids.push(job);
        // The next job once every replica of this one revealed, so jobs do not queue behind
        // each other in the workers.
        // (A job nobody reveals for is reported as timed out: start providers first.)
        wait_until("the reveals", Duration::from_secs(120), || async {
            let view = client.rpc().job(job, None).await?.ok_or_else(|| anyhow!("job {job} unknown"))?;
            Ok(!matches!(
                view.status,
                tessera_client::api::JobStatus::Open |
                    tessera_client::api::JobStatus::Committing |
                    tessera_client::api::JobStatus::Revealing
            ))
        })
        .await?;
    }
    eprintln!("[latency] waiting for the {jobs} jobs to settle (challenge window {challenge_window} blocks)");
    for job in &ids {
        wait_until("settlement", Duration::from_secs(u64::from(challenge_window) * 6 + 120), || async {
            Ok(client.rpc().job(*job, None).await?.is_some_and(|v| v.status.is_final()))
        })
        .await?;
    }
    let last = client.best_number().await?;
    let phases = phases(client, first, last, &ids).await?;

    println!("job | posted | claimed | committed | reveals open | revealed | agreed | ended | post→revealed | revealed→ended");
    println!("---:|---:|---:|---:|---:|---:|---:|---|---:|---:");
    let mut to_revealed = Vec::new();
    let mut per_phase: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for (job, p) in &phases {
        let posted = p.posted.ok_or_else(|| anyhow!("job {job}: no JobPosted in blocks {first}..={last}"))?;
        let last_of = |v: &Vec<u64>| v.iter().max().copied();
        let (claimed, committed, revealed) = (last_of(&p.claimed), last_of(&p.committed), last_of(&p.revealed));
        let ended = p.ended.as_ref().map(|(n, o)| format!("{n} ({o})")).unwrap_or_else(|| "-".into());
        let show = |b: Option<u64>| b.map_or("-".to_string(), |b| format!("+{}", b - posted));
        let revealed_in = revealed.map(|r| r - posted);
        if let Some(r) = revealed_in {
            to_revealed.push(r);
        }
        for (name, from, to) in [
            ("post → last claim", Some(posted), claimed),
            ("last claim → last commitment", claimed, committed),
            ("last commitment → last reveal", committed, revealed),
            ("last reveal → settled", revealed, p.ended.as_ref().map(|(n, _)| *n)),
        ] {
            if let (Some(a), Some(b)) = (from, to) {
                per_phase.entry(name).or_default().push(b.saturating_sub(a));
            }
        }
        println!(
            "{job} | {posted} | {} | {} | {} | {} | {} | {ended} | {} | {}",
            show(claimed),
            show(committed),
            show(p.reveal_opened),
            show(revealed),
            show(p.agreed),
            revealed_in.map_or("-".into(), |r| r.to_string()),
            match (revealed, &p.ended) {
                (Some(r), Some((e, _))) => (e - r).to_string(),
                _ => "-".into(),
            },
        );
    }
    println!();
    for (name, v) in &per_phase {
        println!("[latency] {name}: {} blocks (median; max {})", median(v), v.iter().max().unwrap_or(&0));
    }
    if to_revealed.len() != ids.len() {
        bail!("{} of {} jobs had every replica reveal", to_revealed.len(), ids.len());
    }
    println!(
        "[latency] post → every replica revealed: median {} blocks, max {} ({} jobs, {} replica(s) each; target: 2 blocks plus execution)",
        median(&to_revealed),
        to_revealed.iter().max().unwrap_or(&0),
        ids.len(),
        replicas
    );
    Ok(())
}

fn median(v: &[u64]) -> u64 {
    let mut v = v.to_vec();
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

// -------------------------------------------------------------------------------------------
// Throughput
// -------------------------------------------------------------------------------------------

/// The benchmark's signing accounts: `{payer}//bench//{i}` (derived, so reruns reuse them).
fn bench_accounts(payer_suri: &str, n: u32) -> anyhow::Result<Vec<Signer>> {
    (0..n).map(|i| Signer::from_suri(&format!("{payer_suri}//bench//{i}")).map_err(Into::into)).collect()
}

/// Tops every account up to `amount` free, in `utility.batch_all`s of transfers.
async fn fund(client: &Client, payer: &Signer, accounts: &[Signer], amount: Balance) -> anyhow::Result<()> {
    let at = client.at_best().await?;
    let mut transfers = Vec::new();
    for a in accounts {
        let free = client.free_balance(&a.account(), Some(at.block_hash())).await?;
        if free < amount {
            transfers.push(RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
                dest: tessera_client::subxt::utils::MultiAddress::Id(a.account()),
                value: amount - free,
            }));
        }
    }
    let n = transfers.len();
    for chunk in transfers.chunks(200) {
        client.submit(payer, &chain::transactions().utility().batch_all(chunk.to_vec())).await?;
    }
    if n > 0 {
        eprintln!("[throughput] funded {n} accounts with {} TSR each", amount / UNIT);
    }
    Ok(())
}

async fn throughput(
    client: &Client,
    payer: &Signer,
    kinds: &[Kind],
    count: u32,
    accounts: u32,
    timeout_blocks: u64,
) -> anyhow::Result<()> {
    let signers = bench_accounts(&payer_suri_of(payer), accounts)?;
    fund(client, payer, &signers, 1_000 * UNIT).await?;
    let program = program(client, payer).await?;
    let mut results: BTreeMap<&'static str, f64> = BTreeMap::new();
    for kind in kinds {
        let name = match kind {
            Kind::Transfer => "transfer_keep_alive",
            Kind::Post => "post_job",
            Kind::Lifecycle => "lifecycle",
        };
        if *kind == Kind::Lifecycle {
            // Only this run's jobs for the workers to serve.
            wait_until("no open jobs", Duration::from_secs(600), || async {
                let open = client.rpc().jobs(Some(tessera_client::api::JobStatus::Open), None, Some(1), None).await?;
                Ok(open.jobs.is_empty())
            })
            .await?;
        }
        let txs = presign(client, &signers, *kind, count, program).await?;
        let per_block = run(client, name, *kind, txs, timeout_blocks).await?;
        results.insert(name, per_block);
    }
    if let Some(transfers) = results.get("transfer_keep_alive").copied() {
        for (name, per_block) in &results {
            if *name != "transfer_keep_alive" && transfers > 0.0 {
                println!("[throughput] {name}: {per_block:.0} per block = {:.2} × transfer_keep_alive", per_block / transfers);
            }
        }
    }
    Ok(())
}

/// The payer's own secret URI is not kept by [`Signer`]; the bench accounts hang off the
/// payer's address instead, so they are the same on every run for one payer.
fn payer_suri_of(payer: &Signer) -> String {
    format!("//{}", payer.address())
}

/// Signs `count` transactions of `kind`, spread over `signers` with consecutive nonces.
async fn presign(client: &Client, signers: &[Signer], kind: Kind, count: u32, program: H256) -> anyhow::Result<Vec<Vec<u8>>> {
    let started = Instant::now();
    let at = client.at_best().await?;
    let mut nonces = Vec::with_capacity(signers.len());
    for s in signers {
        let n: u64 = client.request("system_accountNextIndex", rpc_params![s.account().to_string()]).await?;
        nonces.push(n);
    }
    let salt = at.block_number() as u32;
    let mut out = Vec::with_capacity(count as usize);
    for i in 0..count as usize {
        let k = i % signers.len();
        let signer = &signers[k];
        let nonce = nonces[k];
        nonces[k] += 1;
        let encoded = match kind {
            Kind::Transfer => {
                let dest = signers[(k + 1) % signers.len()].account();
                let call = chain::transactions().balances().transfer_keep_alive(
                    tessera_client::subxt::utils::MultiAddress::Id(dest),
                    UNIT / 1000,
                );
                sign(&at, &call, signer, nonce).await?
            },
            Kind::Post | Kind::Lifecycle => {
                // Bare posts expire soon (nobody serves them), so a later lifecycle run does
                // not find them open.
                let claim_timeout = if kind == Kind::Post { 20 } else { 200 };
                let spec = job_spec_claimable_for(program, salt.wrapping_add(i as u32), b"throughput", 1, 10, claim_timeout);
                let call = chain::transactions().market().post_job(spec);
                sign(&at, &call, signer, nonce).await?
            },
        };
        out.push(encoded);
    }
    eprintln!("[throughput] pre-signed {count} {kind:?} transactions in {:.1} s", started.elapsed().as_secs_f64());
    Ok(out)
}

async fn sign<Call: tessera_client::subxt::transactions::Payload>(
    at: &AtBlock,
    call: &Call,
    signer: &Signer,
    nonce: u64,
) -> anyhow::Result<Vec<u8>> {
    let mut tx = at.transactions();
    let signed = tx.create_signed(call, signer.keypair(), tessera_client::config::params(nonce)).await?;
    Ok(signed.into_encoded())
}

/// A block whose normal-class weight reached this share of the limit is full: the author had
/// no room for another transaction of the kind (one more post is 0.1 % of the limit).
const FULL_PERCENT: f64 = 99.0;

/// One block's inclusions of the measured kind.
struct BlockCount {
    number: u64,
    included: u32,
    settled: u32,
    weight_percent: f64,
}

/// Submits `txs` as fast as the node accepts them, then counts per block until all are in;
/// returns the mean per full block (see `FULL_PERCENT`).
async fn run(client: &Client, name: &str, kind: Kind, txs: Vec<Vec<u8>>, timeout_blocks: u64) -> anyhow::Result<f64> {
    let total = txs.len() as u32;
    let start = client.best_number().await?;
    let submitting = Instant::now();
    let results: Vec<Result<H256, _>> = futures::stream::iter(txs)
        .map(|tx| async move { client.request::<H256>("author_submitExtrinsic", rpc_params![format!("0x{}", hex::encode(tx))]).await })
        .buffer_unordered(64)
        .collect()
        .await;
    let refused: Vec<String> = results.iter().filter_map(|r| r.as_ref().err().map(|e| e.to_string())).collect();
    eprintln!(
        "[throughput] {name}: submitted {total} in {:.1} s, {} refused{}",
        submitting.elapsed().as_secs_f64(),
        refused.len(),
        refused.first().map(|e| format!(" (first: {e})")).unwrap_or_default()
    );
    let accepted = total - refused.len() as u32;
    let max_normal = {
        let at = client.at_best().await?;
        let w = at.constants().entry(chain::constants().system().block_weights())?;
        w.max_block.ref_time as f64 * 0.75
    };
    let mut counts: Vec<BlockCount> = Vec::new();
    let mut included = 0u32;
    let mut settled = 0u32;
    let mut n = start + 1;
    let target_settled = if kind == Kind::Lifecycle { accepted } else { 0 };
    while included < accepted || settled < target_settled {
        if n > start + timeout_blocks + if kind == Kind::Lifecycle { 40 } else { 0 } {
            eprintln!("[throughput] {name}: gave up after {timeout_blocks} blocks: {included} of {accepted} included");
            break;
        }
        while client.best_number().await? < n {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let at = client.at_number(n).await?;
        let (pallet, call) = match kind {
            Kind::Transfer => ("Balances", "transfer_keep_alive"),
            Kind::Post | Kind::Lifecycle => ("Market", "post_job"),
        };
        let extrinsics = at.extrinsics().fetch().await?;
        let mut here = 0u32;
        for x in extrinsics.iter() {
            let x = x?;
            if x.is_signed() && x.pallet_name() == pallet && x.call_name() == call {
                here += 1;
            }
        }
        let mut settled_here = 0u32;
        if kind == Kind::Lifecycle {
            for e in at.events().fetch().await?.iter() {
                if let Some(Ok(e)) = e?.decode_fields_as::<ev::JobEnded>() {
                    if format!("{:?}", e.outcome) == "Settled" {
                        settled_here += 1;
                    }
                }
            }
        }
        let weight = at
            .storage()
            .try_fetch(chain::storage().system().block_weight().unvalidated(), ())
            .await?
            .map(|v| v.decode())
            .transpose()?
            .map_or(0.0, |w| w.normal.ref_time as f64 / max_normal * 100.0);
        included += here;
        settled += settled_here;
        println!("[throughput] {name}: block {n}: {here} included, {settled_here} settled, normal weight {weight:.0} %");
        counts.push(BlockCount { number: n, included: here, settled: settled_here, weight_percent: weight });
        n += 1;
    }
    let filled: Vec<&BlockCount> = counts.iter().filter(|c| c.included > 0).collect();
    // Per *full* block: the blocks that stopped at the normal weight limit (the author found
    // no room for one more). Without any (a run too small to fill a block), the mean over the
    // blocks between the first and the last with inclusions, which are partly empty (the run
    // started or ended within their time).
    let full: Vec<&BlockCount> = filled.iter().copied().filter(|c| c.weight_percent >= FULL_PERCENT).collect();
    let (basis, what) = if !full.is_empty() {
        (full, "per full block")
    } else if filled.len() > 2 {
        (filled[1..filled.len() - 1].to_vec(), "per block (no block filled; inner blocks)")
    } else {
        (filled.clone(), "per block (no block filled)")
    };
    let mean = basis.iter().map(|c| f64::from(c.included)).sum::<f64>() / basis.len().max(1) as f64;
    let mean_weight = basis.iter().map(|c| c.weight_percent).sum::<f64>() / basis.len().max(1) as f64;
    let peak = filled.iter().map(|c| c.included).max().unwrap_or(0);
    let blocks = match (filled.first(), filled.last()) {
        (Some(a), Some(b)) => b.number - a.number + 1,
        _ => 0,
    };
    println!(
        "[throughput] {name}: {included} of {total} included over {blocks} blocks: {mean:.0} {what} ({} such blocks, peak {peak}), normal weight {mean_weight:.0} % of the limit",
        basis.len(),
    );
    if kind == Kind::Lifecycle {
        let with_settlements: Vec<&BlockCount> = counts.iter().filter(|c| c.settled > 0).collect();
        let span = match (counts.iter().find(|c| c.included > 0), with_settlements.last()) {
            (Some(a), Some(b)) => b.number - a.number + 1,
            _ => 0,
        };
        println!(
            "[throughput] lifecycle: {settled} jobs settled; first post to last settlement {span} blocks = {:.1} complete lifecycles per block",
            f64::from(settled) / span.max(1) as f64
        );
    }
    Ok(mean)
}
