//! `tessera`: the requester CLI. Upload programs, quote and post jobs, follow them until they
//! settle, read outputs, list jobs and providers. See docs/DAPP.md.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};
use frame_support::traits::Get;
use sp_core::H256;
use tessera_primitives::{program, JobId, ProgramId};
use tessera_runtime::{Balance, Runtime, RuntimeCall, RuntimeEvent};
use tessera_worker::{
    client::{tsr, Client, ClientError, Job, Signer},
    config::parse_tsr,
};

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
    /// List live jobs.
    Jobs,
    /// List registered providers.
    Providers,
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
}

/// A CLI failure: printed as `error: …` with exit code 1.
struct Failure(String);

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        Failure(e.to_string())
    }
}

impl From<&str> for Failure {
    fn from(e: &str) -> Self {
        Failure(e.into())
    }
}

impl From<String> for Failure {
    fn from(e: String) -> Self {
        Failure(e)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(e)) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        },
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let signer = Signer::from_suri(&cli.suri)?;
    // Commands that need no node first, so a quote of a bad file fails before connecting.
    let connect = || async { Client::connect(&cli.node).await.map_err(Failure::from) };
    match cli.command {
        Command::Upload { path, example } => {
            let code = load_program(path.as_deref(), example.as_deref())?;
            let client = connect().await?;
            let id = upload(&client, &signer, code).await?;
            println!("{id:?}");
        },
        Command::Quote(args) => {
            let spec = spec_for(&args, program_id_of(&args.program)?)?;
            print_quote(&spec)?;
        },
        Command::Post { job, follow: follow_it, out } => {
            let client = connect().await?;
            let program = match program_id_of(&job.program) {
                Ok(id) => id,
                Err(_) => {
                    let code = load_program_arg(&job.program)?;
                    upload(&client, &signer, code).await?
                },
            };
            if !client.program_exists(program).await? {
                return Err(Failure(format!("program {program:?} is not on chain; upload it first")));
            }
            let spec = spec_for(&job, program)?;
            let (escrow, deposit) = print_quote(&spec)?;
            let free = client.free_balance(&signer.account(), None).await?;
            if free < escrow.saturating_add(deposit) {
                return Err(Failure(format!(
                    "insufficient balance: {} needs {} (escrow {} + deposit {}) and has {} free",
                    signer.address(),
                    tsr(escrow + deposit),
                    tsr(escrow),
                    tsr(deposit),
                    tsr(free)
                )));
            }
            let call = RuntimeCall::Market(pallet_market::Call::post_job { spec: Box::new(spec) });
            let included = client.submit_and_wait(&signer, call, 10).await?;
            let id = included
                .events
                .iter()
                .find_map(|e| match e {
                    RuntimeEvent::Market(pallet_market::Event::JobPosted { job, .. }) => Some(*job),
                    _ => None,
                })
                .ok_or("the post was included but emitted no JobPosted")?;
            println!("posted job {id} in block {:?}", included.block);
            if follow_it {
                follow(&client, id, out).await?;
            }
        },
        Command::Follow { job, out } => follow(&connect().await?, job, out).await?,
        Command::Output { job, out } => {
            let client = connect().await?;
            let result = client.result(job, None).await?.ok_or_else(|| {
                Failure(format!("job {job} has no kept result (not ended yet, unknown, or pruned after the retention period)"))
            })?;
            let output = result.output.map(|o| o.to_vec()).ok_or(format!("job {job} ended {:?} without an inline output", result.outcome))?;
            write_output(&output, out)?;
        },
        Command::Jobs => {
            let client = connect().await?;
            let (_, best) = client.best().await?;
            let jobs = client.jobs(best).await?;
            println!("{:>6}  {:<22} {:>8} {:>14}  program", "job", "phase", "replicas", "fuel limit");
            for (id, job) in jobs {
                println!(
                    "{id:>6}  {:<22} {:>4}/{:<3} {:>14}  {:?}",
                    format!("{:?}", job.phase),
                    job.slots.len(),
                    job.replicas,
                    job.fuel_limit,
                    job.program
                );
            }
        },
        Command::Providers => {
            let client = connect().await?;
            let (_, best) = client.best().await?;
            println!("{:<50} {:>16} {:>9} {:>6} {:>10} {:>8}", "provider", "stake", "capacity", "busy", "price/fuel", "rep");
            for (who, p) in client.providers(best).await? {
                println!(
                    "{:<50} {:>16} {:>9} {:>6} {:>10} {:>7.1}%{}",
                    sp_core::crypto::Ss58Codec::to_ss58check(&who),
                    tsr(p.stake),
                    p.profile.capacity,
                    p.live_assignments,
                    p.profile.price_per_fuel,
                    p.reputation.score.deconstruct() as f64 / 10_000.0,
                    if p.maintenance { " (maintenance)" } else { "" }
                );
            }
        },
    }
    Ok(())
}

fn program_id_of(arg: &str) -> Result<ProgramId, Failure> {
    if let Some(hex) = arg.strip_prefix("0x") {
        let bytes = tessera_worker::client::from_hex(hex)?;
        if bytes.len() == 32 {
            return Ok(H256::from_slice(&bytes));
        }
        return Err(Failure(format!("a program id is 32 bytes of hex, not {arg}")));
    }
    let code = load_program_arg(arg)?;
    Ok(H256(sp_crypto_hashing::blake2_256(&code)))
}

fn load_program_arg(arg: &str) -> Result<Vec<u8>, Failure> {
    match arg.strip_prefix("example:") {
        Some(name) => load_program(None, Some(name)),
        None => load_program(Some(std::path::Path::new(arg)), None),
    }
}

/// Reads a program (or a bundled example) and validates it exactly as the chain will.
fn load_program(path: Option<&std::path::Path>, example: Option<&str>) -> Result<Vec<u8>, Failure> {
    let code = match (path, example) {
        (_, Some(name)) => tessera_programs::by_name(name)
            .ok_or_else(|| {
                let names: Vec<_> = tessera_programs::ALL.iter().map(|(n, _)| *n).collect();
                Failure(format!("no example program {name}; there are: {}", names.join(", ")))
            })?
            .to_vec(),
        (Some(path), None) => {
            let bytes = std::fs::read(path).map_err(|e| Failure(format!("{}: {e}", path.display())))?;
            if path.extension().is_some_and(|e| e == "wat") {
                wat_to_wasm(&bytes).map_err(|e| Failure(format!("{}: {e}", path.display())))?
            } else {
                bytes
            }
        },
        (None, None) => return Err(Failure("give a program file or --example".into())),
    };
    let limits = pallet_programs::Pallet::<Runtime>::limits();
    program::validate(&code, &limits).map_err(|e| Failure(format!("not a valid Tessera program: {e:?}")))?;
    Ok(code)
}

fn wat_to_wasm(text: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(text).map_err(|e| e.to_string())?;
    wat::parse_str(text).map_err(|e| e.to_string())
}

async fn upload(client: &Client, signer: &Signer, code: Vec<u8>) -> Result<ProgramId, Failure> {
    let id = H256(sp_crypto_hashing::blake2_256(&code));
    if client.program_exists(id).await? {
        eprintln!("program {id:?} is already on chain");
        return Ok(id);
    }
    let len = code.len();
    let code = code.try_into().map_err(|_| Failure(format!("program too large ({len} bytes)")))?;
    let call = RuntimeCall::Programs(pallet_programs::Call::upload_program { code });
    client.submit_and_wait(signer, call, 10).await?;
    eprintln!("uploaded program {id:?} ({len} bytes)");
    Ok(id)
}

fn spec_for(args: &JobArgs, program: ProgramId) -> Result<pallet_market::JobSpec<Runtime>, Failure> {
    let input = match (&args.input, &args.input_text) {
        (Some(path), _) => std::fs::read(path).map_err(|e| Failure(format!("{}: {e}", path.display())))?,
        (None, Some(text)) => text.as_bytes().to_vec(),
        (None, None) => Vec::new(),
    };
    let len = input.len();
    let input = input.try_into().map_err(|_| {
        let limit: u32 = <Runtime as pallet_market::Config>::MaxInputLen::get();
        Failure(format!("input of {len} bytes is above the inline limit of {limit} bytes"))
    })?;
    Ok(pallet_market::JobSpec {
        program,
        input: pallet_market::InputSpec::Inline(input),
        fuel_limit: args.fuel,
        replicas: args.replicas,
        max_price_per_fuel: parse_tsr(&args.max_price)?,
        min_reputation: Default::default(),
        max_output_len: args.max_output,
        claim_timeout: args.claim_timeout,
        execution_timeout: args.execution_timeout,
        challenge_window: args.challenge_window,
    })
}


/// Prints the price breakdown; returns (escrow, deposit).
fn print_quote(spec: &pallet_market::JobSpec<Runtime>) -> Result<(Balance, Balance), Failure> {
    let (quote, deposit) = pallet_market::Pallet::<Runtime>::quote_spec(spec)
        .map_err(|e| Failure(format!("the chain would refuse this job: Market::{e:?}")))?;
    println!("quote for {} replica(s) × {} fuel at ≤ {} per fuel:", spec.replicas, spec.fuel_limit, tsr(spec.max_price_per_fuel));
    println!("  per replica at most   {}", tsr(quote.per_replica_max));
    println!("  all replicas at most  {}", tsr(quote.payment_max));
    println!("  protocol fee at most  {}", tsr(quote.protocol_fee_max));
    println!("  escrow held           {}  (unused part refunded at settlement)", tsr(quote.escrow));
    println!("  storage deposit       {}  (returned when the result is pruned)", tsr(deposit));
    Ok((quote.escrow, deposit))
}

async fn follow(client: &Client, id: JobId, out: Option<PathBuf>) -> Result<(), Failure> {
    let mut last: Option<String> = None;
    loop {
        let (number, best) = client.best().await?;
        if let Some(job) = client.job(id, Some(best)).await? {
            let now = describe_phase(&job);
            if last.as_ref() != Some(&now) {
                println!("#{number}: job {id} {now}");
                last = Some(now);
            }
        } else if let Some(result) = client.result(id, Some(best)).await? {
            println!(
                "#{number}: job {id} ended {:?}: paid {}, fee {}, refunded {}",
                result.outcome,
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
        } else {
            return Err(Failure(format!("job {id} does not exist (or its result was pruned)")));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

fn describe_phase(job: &Job) -> String {
    use pallet_market::Phase;
    let committed = job.slots.iter().filter(|s| s.commitment.is_some()).count();
    let revealed = job.slots.iter().filter(|s| s.receipt.is_some()).count();
    match job.phase {
        Phase::Open(until) => format!("open for claims until #{until} ({}/{} claimed)", job.slots.len(), job.replicas),
        Phase::Committing(until) => format!("executing: {committed}/{} committed (until #{until})", job.replicas),
        Phase::Revealing(until) => format!("revealing: {revealed}/{} revealed (until #{until})", job.replicas),
        Phase::Challengeable(until) => format!("result agreed; challenge window open until #{until}"),
        Phase::Disputed(until) => format!("disputed; committee voting until #{until}"),
    }
}

fn write_output(output: &[u8], out: Option<PathBuf>) -> Result<(), Failure> {
    match out {
        Some(path) => {
            std::fs::write(&path, output).map_err(|e| Failure(format!("{}: {e}", path.display())))?;
            println!("  wrote {} bytes to {}", output.len(), path.display());
        },
        None => match std::str::from_utf8(output) {
            Ok(text) => println!("{text}"),
            Err(_) => println!("{}", tessera_worker::client::to_hex(output)),
        },
    }
    Ok(())
}
