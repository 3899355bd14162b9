//! `tessera`: the requester CLI. Upload programs, quote and post jobs, follow them until they
//! settle, read outputs, list jobs and providers. See docs/DAPP.md.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use anyhow::{anyhow, bail, Context};
use clap::{Parser, Subcommand};
use tessera_client::{
    api, chain,
    chain::runtime_types::{
        pallet_market::types::{Input, JobSpec, JobTerms},
        sp_arithmetic::per_things::Permill,
        tessera_traits::Placement,
    },
    parse_tsr, tsr, AtBlock, Balance, Client, Error as ClientError, Signer, TesseraRpcClient, H256,
};
use tessera_primitives::{program, JobId, ProgramId};

#[derive(Parser)]
#[command(name = "tessera", version, about = "Tessera requester CLI: upload programs, post jobs, read verified results.")]
struct Cli {
    /// The node's WebSocket JSON-RPC endpoint.
    #[arg(long, global = true, env = "TESSERA_NODE", default_value = "ws://127.0.0.1:9944")]
    node: String,
    /// The signing key's secret URI (dev name like //Alice, mnemonic, or 0x seed).
    #[arg(long, global = true, env = "TESSERA_SURI", hide_env_values = true, default_value = "//Alice")]
    suri: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Upload a program (.wasm or .wat file, or a bundled example) and print its id.
    Upload {
        /// Program file.
        path: Option<PathBuf>,
        /// A bundled example instead: hash_chain, mandelbrot, monte_carlo, matmul.
        #[arg(long, conflicts_with = "path")]
        example: Option<String>,
    },
    /// Price a job without posting it.
    Quote(JobArgs),
    /// Post a job (shows the quote first), optionally follow it to the end.
    Post {
        #[command(flatten)]
        job: JobArgs,
        /// Follow the job until it ends and print the result.
        #[arg(long)]
        follow: bool,
        /// With --follow: write the output to this file.
        #[arg(long, requires = "follow")]
        out: Option<PathBuf>,
    },
    /// Follow a job until it ends, printing each phase.
    Follow {
        job: JobId,
        /// Write the output to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print (or save) an ended job's verified output.
    Output {
        job: JobId,
        /// Write the output to this file instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List jobs (live, and ended ones whose results are still kept).
    Jobs {
        /// Only jobs with this status: open, committing, revealing, challengeable, disputed,
        /// settled, cancelled, expired, inconclusive.
        #[arg(long, value_parser = parse_status)]
        status: Option<api::JobStatus>,
        /// Start at this job id.
        #[arg(long, default_value_t = 0)]
        from: JobId,
        /// Most jobs to list.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// List registered providers.
    Providers,
    /// Show one provider (SS58 address).
    Provider { account: String },
    /// Explain why a job's replica slots are not taken.
    Why { job: JobId },
}

fn parse_status(s: &str) -> Result<api::JobStatus, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| format!("unknown status {s:?}"))
}

#[derive(clap::Args, Clone)]
struct JobArgs {
    /// Program: an id (0x…), a .wasm/.wat file (uploaded first if missing), or example:<name>.
    #[arg(long)]
    program: String,
    /// Input file (inline on chain, at most 64 KiB).
    #[arg(long, conflicts_with = "input_text")]
    input: Option<PathBuf>,
    /// Input given as text.
    #[arg(long)]
    input_text: Option<String>,
    /// Fuel limit.
    #[arg(long, default_value_t = 1_000_000_000)]
    fuel: u64,
    /// Number of replicas that must agree.
    #[arg(long, default_value_t = 1)]
    replicas: u32,
    /// Highest price per fuel unit, in TSR.
    #[arg(long, default_value = "0.000000000001")]
    max_price: String,
    /// Most output bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    max_output: u32,
    /// Blocks the job stays open for claims.
    #[arg(long, default_value_t = 20)]
    claim_timeout: u32,
    /// Blocks replicas have to commit after assignment.
    #[arg(long, default_value_t = 20)]
    execution_timeout: u32,
    /// Blocks the agreed result can be challenged.
    #[arg(long, default_value_t = 10)]
    challenge_window: u32,
    /// Only providers advertising exactly this region may serve the job (e.g. eu-west).
    #[arg(long)]
    region: Option<String>,
    /// A label every serving provider must advertise (e.g. gpu); repeat for several.
    #[arg(long = "label", value_name = "LABEL")]
    labels: Vec<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        },
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let signer = Signer::from_suri(&cli.suri)?;
    // Local checks (files, programs, inputs) come before connecting, so they fail without a node.
    let connect = || async { Client::connect(&cli.node).await.map_err(anyhow::Error::from) };
    match cli.command {
        Command::Upload { path, example } => {
            let code = load_program(path.as_deref(), example.as_deref())?;
            let client = connect().await?;
            let id = upload(&client, &signer, code).await?;
            println!("{id:?}");
        },
        Command::Quote(args) => {
            let spec = spec_for(&args, program_id_of(&args.program)?)?;
            print_quote(&connect().await?, &spec).await?;
        },
        Command::Post { job, follow: follow_it, out } => {
            let client = connect().await?;
            // A file or an example is uploaded first unless the chain already has it.
            let program = if job.program.starts_with("0x") {
                program_id_of(&job.program)?
            } else {
                upload(&client, &signer, load_program_arg(&job.program)?).await?
            };
            let at = client.at_best().await?;
            if client.program_code(&at, program).await?.is_none() {
                bail!("program {program:?} is not on chain; upload it first");
            }
            let spec = spec_for(&job, program)?;
            let (escrow, deposit) = print_quote(&client, &spec).await?;
            let free = client.free_balance(&signer.account(), None).await?;
            if free < escrow.saturating_add(deposit) {
                bail!(
                    "insufficient balance: {} needs {} (escrow {} + deposit {}) and has {} free",
                    signer.address(),
                    tsr(escrow + deposit),
                    tsr(escrow),
                    tsr(deposit),
                    tsr(free)
                );
            }
            let included = client.submit(&signer, &chain::transactions().market().post_job(spec)).await?;
            let id = included
                .events
                .find_first::<chain::market::events::JobPosted>()
                .transpose()
                .context("decoding the post's events")?
                .map(|e| e.job)
                .ok_or_else(|| anyhow!("the post was included but emitted no JobPosted"))?;
            println!("posted job {id} in block {:?}", included.block);
            if follow_it {
                follow(&client, id, out).await?;
            }
        },
        Command::Follow { job, out } => follow(&connect().await?, job, out).await?,
        Command::Output { job, out } => {
            let client = connect().await?;
            let view = client.rpc().job(job, None).await?.ok_or_else(|| {
                anyhow!("job {job} is unknown (or its result was pruned after the retention period)")
            })?;
            let result = view.result.ok_or_else(|| anyhow!("job {job} has not ended yet ({})", status_name(view.status)))?;
            let output = result
                .output
                .ok_or_else(|| anyhow!("job {job} ended {} without an inline output", status_name(view.status)))?;
            write_output(&output, out)?;
        },
        Command::Jobs { status, from, limit } => {
            let client = connect().await?;
            println!("{:>6}  {:<14} {:>8} {:>14}  program", "job", "status", "replicas", "fuel limit");
            let (mut from, mut left) = (from, limit);
            while left > 0 {
                let page = client.rpc().jobs(status, Some(from), Some(left.min(api::MAX_PAGE)), None).await?;
                for job in &page.jobs {
                    let (claimed, replicas, fuel) = match &job.live {
                        Some(l) => (l.slots.len().to_string(), l.replicas.to_string(), l.fuel_limit.to_string()),
                        None => ("-".into(), "-".into(), "-".into()),
                    };
                    println!(
                        "{:>6}  {:<14} {:>4}/{:<3} {:>14}  {:?}",
                        job.id,
                        status_name(job.status),
                        claimed,
                        replicas,
                        fuel,
                        job.program
                    );
                }
                left = left.saturating_sub(page.jobs.len() as u32);
                match page.next {
                    Some(next) => from = next,
                    None => break,
                }
            }
        },
        Command::Providers => {
            let client = connect().await?;
            let at = client.at_best().await?;
            println!(
                "{:<50} {:>16} {:>9} {:>6} {:>10} {:>8}  state",
                "provider", "stake", "capacity", "busy", "price/fuel", "rep"
            );
            for who in provider_accounts(&at).await? {
                if let Some(p) = client.rpc().provider(who, Some(at.block_hash())).await? {
                    print_provider_row(&p);
                }
            }
        },
        Command::Provider { account } => {
            let who: tessera_client::AccountId =
                account.parse().map_err(|e| anyhow!("{account} is not an SS58 address: {e:?}"))?;
            let client = connect().await?;
            let p = client
                .rpc()
                .provider(tessera_client::api_account(&who), None)
                .await?
                .ok_or_else(|| anyhow!("{account} is not a registered provider"))?;
            println!("{}", serde_json::to_string_pretty(&p)?);
        },
        Command::Why { job } => {
            let client = connect().await?;
            let why = client.rpc().why_unmatched(job, None).await?.ok_or_else(|| anyhow!("job {job} is unknown"))?;
            print_unmatched(job, &why);
        },
    }
    Ok(())
}

/// The accounts of every registered provider (from the registry's storage keys alone).
async fn provider_accounts(at: &AtBlock) -> anyhow::Result<Vec<api::AccountId>> {
    let mut keys = at.storage().iter(chain::storage().providers().provider_of().unvalidated(), ()).await?;
    let mut accounts = Vec::new();
    while let Some(entry) = keys.next().await {
        let (who,) = entry?.key()?.decode()?;
        accounts.push(tessera_client::api_account(&who));
    }
    Ok(accounts)
}

fn program_id_of(arg: &str) -> anyhow::Result<ProgramId> {
    if let Some(hex) = arg.strip_prefix("0x") {
        let bytes = hex::decode(hex).with_context(|| format!("{arg} is not hex"))?;
        if bytes.len() == 32 {
            return Ok(ProgramId::from_slice(&bytes));
        }
        bail!("a program id is 32 bytes of hex, not {arg}");
    }
    let code = load_program_arg(arg)?;
    Ok(program::program_id(&code))
}

fn load_program_arg(arg: &str) -> anyhow::Result<Vec<u8>> {
    match arg.strip_prefix("example:") {
        Some(name) => load_program(None, Some(name)),
        None => load_program(Some(std::path::Path::new(arg)), None),
    }
}

/// Reads a program (or a bundled example) and validates it exactly as the chain will.
/// Reads a program (or a bundled example) and validates it as the chain will, with the limits
/// the chain's constants give (only with a node; without one the chain checks at upload).
fn load_program(path: Option<&std::path::Path>, example: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let code = match (path, example) {
        (_, Some(name)) => tessera_examples::by_name(name)
            .ok_or_else(|| {
                let names: Vec<_> = tessera_examples::ALL.iter().map(|(n, _)| *n).collect();
                anyhow!("no example program {name}; there are: {}", names.join(", "))
            })?
            .to_vec(),
        (Some(path), None) => {
            let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
            if path.extension().is_some_and(|e| e == "wat") {
                wat_to_wasm(&bytes).map_err(|e| anyhow!(e)).with_context(|| path.display().to_string())?
            } else {
                bytes
            }
        },
        (None, None) => bail!("give a program file or --example"),
    };
    // Limits the chain would allow at most: the module must at least be a valid program in
    // shape (imports, exports, no forbidden features); the chain's size limits apply at upload.
    let limits = program::ProgramLimits { max_code_len: u32::MAX, max_memory_pages: u32::MAX, max_table_elements: u32::MAX };
    program::validate(&code, &limits).map_err(|e| anyhow!("not a valid Tessera program: {e:?}"))?;
    Ok(code)
}

fn wat_to_wasm(text: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(text).map_err(|e| e.to_string())?;
    wat::parse_str(text).map_err(|e| e.to_string())
}

async fn upload(client: &Client, signer: &Signer, code: Vec<u8>) -> anyhow::Result<ProgramId> {
    let id = program::program_id(&code);
    let at = client.at_best().await?;
    if client.program_code(&at, id).await?.is_some() {
        eprintln!("program {id:?} is already on chain");
        return Ok(id);
    }
    let max: u32 = at.constants().entry(chain::constants().programs().max_program_size())?;
    let len = code.len();
    if len > max as usize {
        bail!("program too large: {len} bytes, the chain takes at most {max}");
    }
    client.submit(signer, &chain::transactions().programs().upload_program(code)).await?;
    eprintln!("uploaded program {id:?} ({len} bytes)");
    Ok(id)
}

fn spec_for(args: &JobArgs, program: ProgramId) -> anyhow::Result<JobSpec> {
    let input = match (&args.input, &args.input_text) {
        (Some(path), _) => std::fs::read(path).with_context(|| path.display().to_string())?,
        (None, Some(text)) => text.as_bytes().to_vec(),
        (None, None) => Vec::new(),
    };
    Ok(JobSpec {
        terms: JobTerms {
            program: H256::from(program.0),
            fuel_limit: args.fuel,
            replicas: args.replicas,
            max_price_per_fuel: parse_tsr(&args.max_price).map_err(|e| anyhow!(e))?,
            min_reputation: Permill(0),
            max_output_len: args.max_output,
            claim_timeout: args.claim_timeout,
            execution_timeout: args.execution_timeout,
            challenge_window: args.challenge_window,
        },
        input: Input::Inline(input),
        placement: Placement {
            region: args.region.as_ref().map(|r| r.as_bytes().to_vec()),
            labels: args.labels.iter().map(|l| l.as_bytes().to_vec()).collect(),
        },
    })
}


/// Asks the chain for the price breakdown and prints it; returns (escrow, deposit).
async fn print_quote(client: &Client, spec: &JobSpec) -> anyhow::Result<(Balance, Balance)> {
    let input = match &spec.input {
        Input::Inline(bytes) => api::InputSize::Inline(bytes.len() as u32),
        Input::Remote { uri, .. } => api::InputSize::Remote(uri.len() as u32),
    };
    let t = &spec.terms;
    let params = api::QuoteParams {
        fuel_limit: t.fuel_limit,
        replicas: t.replicas,
        max_price_per_fuel: t.max_price_per_fuel,
        min_reputation: api::Permill::from_parts(t.min_reputation.0),
        input,
        max_output_len: t.max_output_len,
        region: spec.placement.region.clone(),
        labels: spec.placement.labels.clone(),
    };
    let quote = client.rpc().quote_job(params, None).await.map_err(|e| match e {
        jsonrpsee_error @ tessera_client::RpcError::Call(_) => {
            anyhow!("the chain would refuse this job: {}", call_message(&jsonrpsee_error))
        },
        other => ClientError::from(other).into(),
    })?;
    println!("quote for {} replica(s) × {} fuel at ≤ {} per fuel:", t.replicas, t.fuel_limit, tsr(t.max_price_per_fuel));
    if let Some(region) = &spec.placement.region {
        println!("  only in region        {}", String::from_utf8_lossy(region));
    }
    if !spec.placement.labels.is_empty() {
        let labels: Vec<_> = spec.placement.labels.iter().map(|l| String::from_utf8_lossy(l)).collect();
        println!("  with labels           {}", labels.join(", "));
    }
    println!("  per replica at most   {}", tsr(quote.per_replica_max));
    println!("  all replicas at most  {}", tsr(quote.payment_max));
    println!("  protocol fee at most  {}", tsr(quote.protocol_fee_max));
    println!("  escrow held           {}  (unused part refunded at settlement)", tsr(quote.escrow));
    println!("  storage deposit       {}  (returned when the result is pruned)", tsr(quote.deposit));
    match quote.lowest_price_per_fuel {
        Some(lowest) => println!(
            "  providers that could take it now: {} (lowest available price {} per fuel)",
            quote.eligible_providers,
            tsr(lowest)
        ),
        None => println!("  providers that could take it now: none are available"),
    }
    if quote.eligible_providers < t.replicas {
        println!(
            "  warning: fewer available providers than replicas; after posting, `tessera why <job>` says what holds them back"
        );
    }
    Ok((quote.escrow, quote.deposit))
}

fn status_name(status: api::JobStatus) -> String {
    serde_json::to_value(status).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn print_provider_row(p: &api::ProviderView) {
    let state = p.unavailable.map_or("available", |reason| reason.describe());
    println!(
        "{:<50} {:>16} {:>9} {:>6} {:>10} {:>7.1}%  {}",
        tessera_client::account(&p.account),
        tsr(p.stake),
        p.capacity,
        p.live_assignments,
        p.price_per_fuel,
        p.reputation.deconstruct() as f64 / 10_000.0,
        state
    );
}

fn print_unmatched(id: JobId, why: &api::Unmatched) {
    if why.status != api::JobStatus::Open {
        println!("job {id} is {}: its slots are not open for claims", status_name(why.status));
        return;
    }
    println!(
        "job {id}: {} slot(s) open until #{}; {} registered provider(s)",
        why.open_slots,
        why.claim_deadline.unwrap_or_default(),
        why.providers
    );
    if !why.eligible.is_empty() {
        println!("  {} provider(s) could claim now (their workers should within a block or two):", why.eligible.len());
        for who in &why.eligible {
            println!("    {}", tessera_client::account(who));
        }
    }
    for c in &why.summary {
        println!("  {} provider(s): {}", c.count, c.reason.describe());
    }
    for r in &why.refusals {
        println!("    {}  {}", tessera_client::account(&r.provider), r.reason.describe());
    }
    if why.providers == 0 {
        println!("  no provider is registered on this chain");
    }
}

async fn follow(client: &Client, id: JobId, out: Option<PathBuf>) -> anyhow::Result<()> {
    let mut last: Option<String> = None;
    let mut explained = false;
    let mut polls_open = 0u32;
    loop {
        let number = client.best_number().await?;
        let view = client
            .rpc()
            .job(id, None)
            .await?
            .ok_or_else(|| anyhow!("job {id} does not exist (or its result was pruned)"))?;
        if let Some(result) = view.result {
            println!(
                "#{number}: job {id} ended {}: paid {}, fee {}, refunded {}",
                status_name(view.status),
                tsr(result.paid),
                tsr(result.fee),
                tsr(result.refunded)
            );
            if let Some(receipt) = result.receipt {
                println!("  receipt: {:?}, fuel used {}, output hash {:?}", receipt.status, receipt.fuel_used, receipt.output_hash);
            }
            match (result.output, out) {
                (Some(output), Some(path)) => write_output(&output, Some(path))?,
                (Some(output), None) => println!("  output: {} bytes (save with --out)", output.len()),
                (None, _) => {},
            }
            return Ok(());
        }
        if let Some(live) = &view.live {
            let now = describe_phase(view.status, live);
            if last.as_ref() != Some(&now) {
                println!("#{number}: job {id} {now}");
                last = Some(now);
                polls_open = 0;
            }
            // Still waiting for claims after ~20 s: say what holds providers back, once.
            if view.status == api::JobStatus::Open {
                polls_open += 1;
                if polls_open == 10 && !explained {
                    explained = true;
                    if let Some(why) = client.rpc().why_unmatched(id, None).await? {
                        print_unmatched(id, &why);
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

fn describe_phase(status: api::JobStatus, job: &api::LiveView) -> String {
    use api::JobStatus::*;
    let committed = job.slots.iter().filter(|s| s.committed).count();
    let revealed = job.slots.iter().filter(|s| s.receipt.is_some()).count();
    let until = job.deadline;
    match status {
        Open => format!("open for claims until #{until} ({}/{} claimed)", job.slots.len(), job.replicas),
        Committing => format!("executing: {committed}/{} committed (until #{until})", job.replicas),
        Revealing => format!("revealing: {revealed}/{} revealed (until #{until})", job.replicas),
        Challengeable => format!("result agreed; challenge window open until #{until}"),
        Disputed => format!("disputed; committee voting until #{until}"),
        ended => format!("ended {}", status_name(ended)),
    }
}

fn write_output(output: &[u8], out: Option<PathBuf>) -> anyhow::Result<()> {
    match out {
        Some(path) => {
            std::fs::write(&path, output).with_context(|| path.display().to_string())?;
            println!("  wrote {} bytes to {}", output.len(), path.display());
        },
        None => match std::str::from_utf8(output) {
            Ok(text) => println!("{text}"),
            Err(_) => println!("0x{}", hex::encode(output)),
        },
    }
    Ok(())
}

/// The message of a JSON-RPC call error (the node names the refusal, e.g. `Market::BadReplicas`).
fn call_message(e: &tessera_client::RpcError) -> String {
    match e {
        tessera_client::RpcError::Call(e) => e.message().to_owned(),
        other => other.to_string(),
    }
}
