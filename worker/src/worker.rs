//! The provider daemon: follows finalized blocks and, for every job, does what the protocol
//! expects of this provider next.
//!
//! The worker keeps no state about the chain between blocks: each finalized block it reads the
//! live jobs and disputes and reconciles (claim → execute → commit → reveal; vote when drawn;
//! audit agreed results). The only state of its own is what the chain cannot give back — the
//! salts, receipts and outputs of its commitments — in the [`Store`], written before the
//! commitment is submitted. That is why a worker killed at any point and restarted simply
//! finishes the work.

use std::{
    collections::{BTreeSet, HashMap},
    future::Future,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use rand::RngCore;
use sp_core::H256;
use tessera_executor::{ExecError, Execution, Instrumented, RunLimits, Sandbox};
use tessera_primitives::{commitment, program::ProgramLimits, ExitStatus, JobId, ProgramId, Receipt};
use tessera_runtime::{AccountId, Balance, Runtime, RuntimeCall, RuntimeEvent};
use tracing::{debug, error, info, warn};

use crate::{
    client::{Client, ClientError, Job, Signer},
    fetch,
    metrics::Metrics,
    store::{Audit, Store, Work},
};

/// What a provider registers with, when the worker is asked to register.
#[derive(Clone, Debug)]
pub struct Registration {
    /// Stake to hold, in plancks.
    pub stake: Balance,
    /// Replica slots served at once.
    pub capacity: u32,
    /// Price per fuel unit, in plancks.
    pub price_per_fuel: Balance,
}

/// The worker's settings (see `tessera-worker --help` and docs/PROVIDER.md).
#[derive(Clone, Debug)]
pub struct Settings {
    /// The node's WebSocket JSON-RPC endpoint.
    pub node: String,
    /// Where the database lives.
    pub data_dir: PathBuf,
    /// Register (and stake) on start if not yet registered.
    pub register: Option<Registration>,
    /// Re-execute agreed results of other providers and challenge mismatches.
    pub audit: bool,
    /// Skip jobs with a larger fuel limit.
    pub max_fuel: u64,
    /// Wall-clock cap of one execution.
    pub wall_clock: Duration,
    /// Test only: commit to a wrong output. Exists so end-to-end tests can show a liar caught.
    pub dishonest: bool,
}

/// Submitted extrinsics not yet seen to take effect are not repeated for this many blocks.
const RETRY_AFTER_BLOCKS: u32 = 5;
/// How often the database drops jobs that ended.
const PRUNE_EVERY_BLOCKS: u32 = 50;

/// The argument that makes `tessera-worker` a sandbox child (see [`tessera_executor::sandbox`]).
pub const SANDBOX_ARG: &str = "--sandbox-exec";

/// Instruments programs once and runs them, each run in a sandbox process.
struct Executor {
    sandbox: Sandbox,
    limits: ProgramLimits,
    cache: Mutex<HashMap<ProgramId, Arc<Instrumented>>>,
}

impl Executor {
    fn prepare(&self, id: ProgramId, code: &[u8]) -> Result<Arc<Instrumented>, ExecError> {
        if let Some(p) = self.cache.lock().expect("cache lock").get(&id) {
            return Ok(p.clone());
        }
        let program = Arc::new(tessera_executor::prepare(code, &self.limits)?);
        self.cache.lock().expect("cache lock").insert(id, program.clone());
        Ok(program)
    }
}

/// The daemon.
pub struct Worker {
    settings: Settings,
    signer: Signer,
    me: AccountId,
    store: Store,
    metrics: Metrics,
    executor: Arc<Executor>,
    /// (job, call) → block it was submitted at.
    in_flight: HashMap<(JobId, &'static str), u32>,
    last_events_block: u32,
}

impl Worker {
    /// A worker signing as `signer`, with its database opened.
    pub fn new(settings: Settings, signer: Signer, metrics: Metrics) -> Result<Worker, Box<dyn std::error::Error>> {
        let store = Store::open(&settings.data_dir.join(format!("{}.redb", signer.address())))?;
        let limits = pallet_programs::Pallet::<Runtime>::limits();
        let executor = Arc::new(Executor {
            sandbox: Sandbox::new(std::env::current_exe()?, [SANDBOX_ARG], settings.wall_clock),
            limits,
            cache: Mutex::new(HashMap::new()),
        });
        let me = signer.account();
        Ok(Worker { settings, signer, me, store, metrics, executor, in_flight: HashMap::new(), last_events_block: 0 })
    }

    /// Runs until `shutdown` completes; reconnects to the node whenever the connection drops.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut client: Option<Arc<Client>> = None;
        let mut last_block = 0u32;
        let mut backoff = Duration::from_millis(500);
        info!(provider = %self.signer.address(), node = %self.settings.node, "worker started");
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(Duration::from_millis(1000)) => {},
            }
            let c = match &client {
                Some(c) if c.is_connected() => c.clone(),
                _ => match Client::connect(&self.settings.node).await {
                    Ok(c) => {
                        info!(node = %self.settings.node, "connected");
                        backoff = Duration::from_millis(500);
                        let c = Arc::new(c);
                        client = Some(c.clone());
                        c
                    },
                    Err(e) => {
                        warn!(error = %e, retry_in = ?backoff, "cannot reach the node");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                        continue;
                    },
                },
            };
            let (number, hash) = match c.finalized().await {
                Ok(head) => head,
                Err(e) => {
                    warn!(error = %e, "reading the finalized head failed");
                    continue;
                },
            };
            if number == last_block {
                continue;
            }
            if let Err(e) = self.on_finalized(&c, number, hash).await {
                warn!(block = number, error = %e, "processing the block failed; retrying on the next one");
                continue;
            }
            last_block = number;
            self.metrics.finalized.set(u64::from(number));
        }
        info!("worker stopped");
    }

    fn submit(&mut self, client: &Arc<Client>, now: u32, job: JobId, name: &'static str, call: RuntimeCall) {
        if let Some(at) = self.in_flight.get(&(job, name)) {
            if now < at + RETRY_AFTER_BLOCKS {
                return;
            }
        }
        self.in_flight.insert((job, name), now);
        self.metrics.submitted.with_label_values(&[name]).inc();
        let (client, signer, metrics) = (client.clone(), self.signer.clone(), self.metrics.clone());
        tokio::spawn(async move {
            match client.submit_and_wait(&signer, call, 10).await {
                Ok(included) => info!(job, call = name, block = %included.block, "included"),
                Err(e) => {
                    metrics.failed.with_label_values(&[name]).inc();
                    warn!(job, call = name, error = %e, "extrinsic did not go through");
                },
            }
        });
    }

    async fn on_finalized(&mut self, client: &Arc<Client>, now: u32, at: H256) -> Result<(), ClientError> {
        self.observe_events(client, now).await?;
        let Some(provider) = client.provider(&self.me, Some(at)).await? else {
            match self.settings.register.clone() {
                Some(r) => {
                    let profile = pallet_providers::Profile::<Runtime> {
                        capacity: r.capacity,
                        price_per_fuel: r.price_per_fuel,
                        region: Default::default(),
                        labels: Default::default(),
                    };
                    let call = pallet_providers::Call::register { stake: r.stake, profile };
                    self.submit(client, now, 0, "register", RuntimeCall::Providers(call));
                },
                None => warn!("not a registered provider; start with --register or register with the CLI"),
            }
            return Ok(());
        };
        let timeout: u32 = <Runtime as pallet_providers::Config>::HeartbeatTimeout::get();
        if now.saturating_sub(provider.last_heartbeat) > timeout / 2 {
            self.submit(client, now, 0, "heartbeat", RuntimeCall::Providers(pallet_providers::Call::heartbeat {}));
        }

        let jobs = client.jobs(at).await?;
        let disputes = client.disputes(at).await?;
        let mut free_slots = provider.profile.capacity.saturating_sub(provider.live_assignments);
        for (id, job) in &jobs {
            self.on_job(client, now, at, *id, job, &provider, &mut free_slots).await;
        }
        for (id, dispute) in &disputes {
            let Some(juror) = dispute.committee.iter().find(|j| j.who == self.me) else { continue };
            if juror.vote.is_some() {
                continue;
            }
            let Some((_, job)) = jobs.iter().find(|(j, _)| j == id) else { continue };
            match self.execute(client, at, *id, job).await {
                Ok(execution) => {
                    self.metrics.stage(*id, "voted");
                    let call = pallet_market::Call::vote { job: *id, receipt: execution.receipt };
                    self.submit(client, now, *id, "vote", RuntimeCall::Market(call));
                },
                Err(e) => warn!(job = id, error = %e, "cannot execute for the vote"),
            }
        }
        if now % PRUNE_EVERY_BLOCKS == 0 {
            let live: BTreeSet<JobId> = jobs.iter().map(|(id, _)| *id).collect();
            match self.store.retain(|job| live.contains(&job)) {
                Ok(n) if n > 0 => debug!(removed = n, "database pruned"),
                Ok(_) => {},
                Err(e) => warn!(error = %e, "pruning the database failed"),
            }
            self.in_flight.retain(|_, at| now < *at + 100);
        }
        Ok(())
    }

    async fn on_job(
        &mut self,
        client: &Arc<Client>,
        now: u32,
        at: H256,
        id: JobId,
        job: &Job,
        provider: &pallet_providers::ProviderInfo<Runtime>,
        free_slots: &mut u32,
    ) {
        use pallet_market::Phase;
        let slot = job.slot_of(&self.me);
        match (job.phase, slot) {
            (Phase::Open(deadline), None) => {
                let wanted = job.requester != self.me &&
                    (job.slots.len() as u32) < job.replicas &&
                    now < deadline &&
                    job.fuel_limit <= self.settings.max_fuel &&
                    provider.profile.price_per_fuel <= job.max_price_per_fuel &&
                    !provider.maintenance &&
                    *free_slots > 0;
                if wanted {
                    *free_slots -= 1;
                    info!(job = id, fuel_limit = job.fuel_limit, "claiming a replica slot");
                    self.metrics.stage(id, "claimed");
                    self.submit(client, now, id, "claim_slot", RuntimeCall::Market(pallet_market::Call::claim_slot { job: id }));
                }
            },
            (Phase::Open(_) | Phase::Committing(_), Some(i)) if job.slots[i].commitment.is_none() => {
                // Execute as soon as the slot is ours; commit once the job is assigned.
                let work = match self.work(client, at, id, job).await {
                    Ok(work) => work,
                    Err(e) => {
                        warn!(job = id, error = %e, "cannot execute; the slot will be faulted if this persists");
                        return;
                    },
                };
                if matches!(job.phase, Phase::Committing(_)) {
                    let c = commitment(id, &self.me, &work.receipt, &work.salt);
                    self.metrics.stage(id, "committed");
                    self.submit(client, now, id, "commit", RuntimeCall::Market(pallet_market::Call::commit { job: id, commitment: c }));
                }
            },
            (Phase::Revealing(_), Some(i)) if job.slots[i].commitment.is_some() && job.slots[i].receipt.is_none() => {
                match self.store.work(id) {
                    Ok(Some(work)) => {
                        let output = match work.output.clone().try_into() {
                            Ok(o) => o,
                            Err(_) => {
                                error!(job = id, "output longer than the chain accepts");
                                return;
                            },
                        };
                        self.metrics.stage(id, "revealed");
                        let call = pallet_market::Call::reveal { job: id, receipt: work.receipt, salt: work.salt, output };
                        self.submit(client, now, id, "reveal", RuntimeCall::Market(call));
                    },
                    Ok(None) => error!(job = id, "committed but the salt is not in the database; cannot reveal"),
                    Err(e) => error!(job = id, error = %e, "reading the database failed"),
                }
            },
            (Phase::Challengeable(_), None) if self.settings.audit && job.requester != self.me => {
                self.audit(client, now, at, id, job).await;
            },
            _ => {},
        }
    }

    async fn audit(&mut self, client: &Arc<Client>, now: u32, at: H256, id: JobId, job: &Job) {
        match self.store.audit(id) {
            Ok(Some(_)) => return,
            Ok(None) => {},
            Err(e) => {
                warn!(job = id, error = %e, "reading the database failed");
                return;
            },
        }
        let Some(agreed) = job.slots.iter().find_map(|s| s.receipt) else { return };
        let execution = match self.execute(client, at, id, job).await {
            Ok(e) => e,
            Err(e) => {
                debug!(job = id, error = %e, "cannot audit");
                return;
            },
        };
        let challenged = execution.receipt != agreed;
        if let Err(e) = self.store.put_audit(id, &Audit { receipt: execution.receipt, challenged }) {
            warn!(job = id, error = %e, "recording the audit failed");
            return;
        }
        self.metrics.stage(id, "audited");
        if challenged {
            warn!(job = id, ?agreed, ours = ?execution.receipt, "agreed result differs from ours: challenging");
            self.submit(client, now, id, "challenge", RuntimeCall::Market(pallet_market::Call::challenge { job: id }));
        } else {
            info!(job = id, "audited: the agreed result is right");
        }
    }

    /// This provider's work for `job`: from the database, or executed now and stored before
    /// anything depending on it is submitted.
    async fn work(&mut self, client: &Arc<Client>, at: H256, id: JobId, job: &Job) -> Result<Work, String> {
        if let Some(work) = self.store.work(id).map_err(|e| e.to_string())? {
            return Ok(work);
        }
        let mut execution = self.execute(client, at, id, job).await?;
        if self.settings.dishonest {
            execution.output.extend_from_slice(b" (forged)");
            execution.receipt = Receipt::new(execution.receipt.status, execution.receipt.fuel_used, &execution.output);
            warn!(job = id, "dishonest mode: committing to a forged output");
        }
        let mut salt = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut salt);
        let work = Work { receipt: execution.receipt, salt, output: execution.output };
        self.store.put_work(id, &work).map_err(|e| e.to_string())?;
        Ok(work)
    }

    async fn execute(&self, client: &Arc<Client>, at: H256, id: JobId, job: &Job) -> Result<Execution, String> {
        let code = client
            .code(job.program, Some(at))
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("program {:?} is not on chain", job.program))?;
        let spec = client.input(id, Some(at)).await.map_err(|e| e.to_string())?.ok_or("the job has no input")?;
        let input = fetch::input(&spec).await.map_err(|e| e.to_string())?;
        if H256(sp_crypto_hashing::blake2_256(&input)) != job.input_hash {
            return Err("the input does not match the job's input hash".into());
        }
        let limits = RunLimits {
            fuel: job.fuel_limit,
            max_memory_pages: self.executor.limits.max_memory_pages,
            max_output_len: job.max_output_len,
        };
        let (executor, program) = (self.executor.clone(), job.program);
        let started = Instant::now();
        let result = tokio::task::spawn_blocking(move || {
            let program = executor.prepare(program, &code)?;
            executor.sandbox.execute(&program, &input, &limits)
        })
        .await
        .map_err(|e| format!("execution task failed: {e}"))?;
        let execution = result.map_err(|e| e.to_string())?;
        let status = match execution.receipt.status {
            ExitStatus::Ok => "ok",
            ExitStatus::Aborted(_) => "aborted",
            ExitStatus::Trapped => "trapped",
            ExitStatus::OutOfFuel => "out_of_fuel",
        };
        self.metrics.executions.with_label_values(&[status]).inc();
        self.metrics.fuel.inc_by(execution.receipt.fuel_used);
        self.metrics.job_fuel.with_label_values(&[&id.to_string()]).set(execution.receipt.fuel_used);
        info!(
            job = id,
            status,
            fuel_used = execution.receipt.fuel_used,
            output_len = execution.output.len(),
            millis = started.elapsed().as_millis() as u64,
            "executed"
        );
        Ok(execution)
    }

    /// Reads the events of finalized blocks since the last call: payments and slashes of this
    /// provider, for logs and metrics.
    async fn observe_events(&mut self, client: &Arc<Client>, now: u32) -> Result<(), ClientError> {
        let from = if self.last_events_block == 0 { now } else { self.last_events_block + 1 };
        for number in from.max(now.saturating_sub(64))..=now {
            let Some(hash) = client.block_hash(number).await? else { continue };
            for record in client.events(hash).await? {
                let RuntimeEvent::Market(event) = record.event else { continue };
                use pallet_market::Event as E;
                match event {
                    E::ReplicaPaid { job, provider, payment, reward } if provider == self.me => {
                        let total = payment.saturating_add(reward);
                        self.metrics.paid.inc_by(u64::try_from(total).unwrap_or(u64::MAX));
                        self.metrics.stage(job, "paid");
                        info!(job, payment = %crate::client::tsr(payment), reward = %crate::client::tsr(reward), "paid");
                    },
                    E::WrongResult { job, provider, slashed } if provider == self.me => {
                        self.metrics.slashed.with_label_values(&["wrong_result"]).inc();
                        error!(job, slashed = %crate::client::tsr(slashed), "slashed for a wrong result");
                    },
                    E::Faulted { job, who, duty, slashed } if who == self.me => {
                        self.metrics.slashed.with_label_values(&["fault"]).inc();
                        error!(job, ?duty, slashed = %crate::client::tsr(slashed), "faulted");
                    },
                    E::ChallengeUpheld { job, challenger } if challenger == self.me => {
                        info!(job, "our challenge was upheld");
                    },
                    _ => {},
                }
            }
        }
        self.last_events_block = now;
        Ok(())
    }
}
