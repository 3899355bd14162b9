//! The provider daemon: follows best blocks by subscription and acts on their events.
//!
//! ## Best blocks, and what waits for finality
//!
//! The worker acts on each best block as it is imported, not when it is finalized (about two
//! blocks later), because nothing it does there can cost it when a reorg takes the block back:
//! a claim, commitment or reveal in a retracted block goes back to the pool, or fails by name
//! on the new best chain and is retried; a commitment hides its result; the reveal is only
//! accepted once every replica of the job has committed. When a best block is not the child of
//! the last one (a reorg, or blocks it did not see), the worker rebuilds what it tracks from
//! that block. Only deleting a job's salt and output from the database waits until a
//! finalized block ends the job, since a reorg can undo a best block's `JobEnded`.
//! (docs/PROTOCOL.md, "Latency", says what a deep reorg could still do.)
//!
//! ## What it does per block
//!
//! The worker reads the events of each best block (one storage read) and updates what it
//! tracks: jobs it might claim (`JobPosted`, `SlotsReopened`), its own replicas (`SlotClaimed`,
//! `JobAssigned`, `RevealOpened`, `JobEnded`), its juror duties (`CommitteeDrawn`, `Voted`,
//! `VoteRevealOpened`, `VoteRevealed`), disputes it may have the referee decide
//! (`DisputeOpened`) and results to audit (`ResultAgreed`). Then it does its duties for what changed: it asks the chain
//! (`tessera_canClaim`, the checks `claim_slot` makes) whether it may claim a new job, executes
//! claimed jobs, commits, reveals, seals and reveals votes, and audits. Its work per block grows with the events of
//! that block and with its own capacity, never with the number of live jobs on the chain. Only
//! when it (re)connects does it read every live job once, to pick up where it left off.
//!
//! ## What survives a crash
//!
//! The only state of its own is what the chain cannot give back — the salts, receipts and
//! outputs of its commitments, and the salts of its sealed votes — in the [`Store`], written
//! durably before the commitment or the sealed vote is submitted. A worker killed at any point and restarted resyncs from the chain and finishes the
//! work. With several node URLs it moves to the next when one stops answering.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    future::Future,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tessera_client::subxt;
use rand::RngCore;
use tessera_client::{
    api::{self, JobStatus, JobView, Reason},
    chain::{
        self,
        market::events as ev,
        runtime_types::{bounded_collections::bounded_vec::BoundedVec, pallet_market::types::Input},
    },
    convert, AccountId, AtBlock, Balance, Client, Error as ClientError, Signer, TesseraRpcClient, H256,
};
use tessera_executor::{ExecError, Execution, Instrumented, RunLimits, Sandbox};
use tessera_primitives::{commitment, program::ProgramLimits, vote_commitment, ExitStatus, JobId, ProgramId, Receipt};
use tokio::sync::mpsc;
use tracing::{debug, error, info, warn};

use crate::{
    fetch::{FetchConfig, Fetcher},
    metrics::Metrics,
    store::{Audit, Ballot, Store, Work},
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
    /// Region advertised (jobs may require one), e.g. `eu-west`; empty for none.
    pub region: String,
    /// Labels advertised (jobs may require them), e.g. `gpu`.
    pub labels: Vec<String>,
}

/// The worker's settings (see `tessera-worker --help` and docs/PROVIDER.md).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Nodes' WebSocket JSON-RPC endpoints, in order of preference.
    pub nodes: Vec<String>,
    /// Where the database lives.
    pub data_dir: PathBuf,
    /// Register (and stake) on start if not yet registered.
    pub register: Option<Registration>,
    /// Re-execute agreed results of other providers and challenge mismatches.
    pub audit: bool,
    /// Skip jobs with a larger fuel limit.
    pub max_fuel: u64,
    /// Execute jobs of at most this fuel limit before claiming them, then claim and commit in
    /// one transaction.
    pub execute_first_fuel: u64,
    /// Wall-clock cap of one execution.
    pub wall_clock: Duration,
    /// How remote inputs are fetched.
    pub fetch: FetchConfig,
    /// Test only: commit to a wrong output, so end-to-end tests can show a liar caught.
    #[cfg(feature = "test-hooks")]
    pub dishonest: bool,
    /// Test only: commit but never reveal, so tests can show a withheld reveal penalised.
    #[cfg(feature = "test-hooks")]
    pub withhold_reveals: bool,
}

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The fetcher could not be built.
    #[error(transparent)]
    Fetch(#[from] crate::fetch::FetchError),
    /// The worker's own executable (the sandbox child) could not be found.
    #[error("cannot find the worker's own executable: {0}")]
    Exe(#[from] std::io::Error),
}

/// A submitted extrinsic not yet seen to take effect is not repeated for this many blocks.
const RETRY_AFTER_BLOCKS: u64 = 5;

/// The argument that makes `tessera-worker` a sandbox child (see [`tessera_executor::sandbox`]).
pub const SANDBOX_ARG: &str = "--sandbox-exec";

/// Instruments programs once and runs them, each run in a sandbox process.
struct Executor {
    sandbox: Sandbox,
    cache: Mutex<HashMap<ProgramId, Arc<Instrumented>>>,
}

impl Executor {
    fn prepare(&self, id: ProgramId, code: &[u8], limits: &ProgramLimits) -> Result<Arc<Instrumented>, ExecError> {
        if let Some(p) = self.cache.lock().expect("cache lock").get(&id) {
            return Ok(p.clone());
        }
        let program = Arc::new(tessera_executor::prepare(code, limits)?);
        self.cache.lock().expect("cache lock").insert(id, program.clone());
        Ok(program)
    }
}

/// What the chain's constants say about executions (read at every (re)connect, so a runtime
/// upgrade that changes them is followed).
#[derive(Clone, Copy, Debug)]
struct Constants {
    limits: ProgramLimits,
    heartbeat_timeout: u64,
    /// Disputes over jobs of at most this much fuel are decided by the on-chain referee.
    referee_fuel_limit: u64,
    /// Longest remote input a referee call may carry.
    max_referee_input_len: u32,
}

/// Why an execution was started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Purpose {
    /// For this worker's replica: commit to it.
    Replica,
    /// As a drawn juror: vote it.
    Vote,
    /// To check someone else's agreed result.
    Audit,
}

/// What the worker knows about a job it works on (from `tessera_job` when it took it up).
#[derive(Clone, Debug)]
struct JobInfo {
    program: ProgramId,
    fuel_limit: u64,
    max_output_len: u32,
    input_hash: [u8; 32],
}

impl JobInfo {
    fn from_view(view: &JobView) -> Option<JobInfo> {
        let live = view.live.as_ref()?;
        Some(JobInfo {
            program: view.program,
            fuel_limit: live.fuel_limit,
            max_output_len: live.max_output_len,
            input_hash: live.input_hash.0,
        })
    }
}

/// Where one of this worker's replicas is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Claimed; other slots still open. Execute now and commit.
    Claimed,
    /// Every slot taken: commit.
    Committing,
    /// Commitments in: reveal.
    Revealing,
    /// Revealed: wait for settlement or a dispute.
    Revealed,
}

/// Where one of this worker's juror seats is, in its dispute round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seat {
    /// Drawn: execute, then submit the sealed vote.
    Voting,
    /// The sealed vote is in: wait for voting to close.
    Voted,
    /// Voting closed: reveal the vote.
    Revealing,
}

/// One of this worker's replicas.
#[derive(Clone, Debug)]
struct Replica {
    info: JobInfo,
    stage: Stage,
    committed: bool,
}

/// What the worker tracks between blocks, all of it derived from the chain (rebuilt on every
/// (re)connect) and bounded: its replicas by its capacity, the rest by the jobs that are open,
/// disputed or in their challenge window.
#[derive(Default)]
struct Tracked {
    /// Open jobs it holds no slot of and may claim later (when its capacity frees).
    open: BTreeSet<JobId>,
    /// Open jobs that appeared in the latest block (checked at once).
    fresh: BTreeSet<JobId>,
    /// Claims it submitted (or is executing the job for, to claim and commit together) and has
    /// not yet seen included: (terms, block started).
    claiming: BTreeMap<JobId, (JobInfo, u64)>,
    /// Its replicas.
    mine: BTreeMap<JobId, Replica>,
    /// Disputes it sits in as a juror: the round and where its seat is.
    votes: BTreeMap<JobId, (u32, Seat)>,
    /// Agreed results to audit, with the receipt agreed.
    audits: BTreeMap<JobId, Receipt>,
    /// Disputes it is a party to (replica or challenger) that the on-chain referee can decide:
    /// it submits the referee call until the job ends or a committee is drawn.
    referee: BTreeSet<JobId>,
    /// Executions by (job, purpose): running, done, or failed at a block (retried later).
    executions: HashMap<(JobId, Purpose), Run>,
    /// Failed executions per replica of its (released after `RELEASE_AFTER_FAILURES`).
    failures: BTreeMap<JobId, u32>,
    /// A replica of its ended or was faulted: retry the open jobs.
    capacity_freed: bool,
    /// Block of its last heartbeat on chain, if registered.
    last_heartbeat: Option<u64>,
    /// Replica slots it may hold at once (its registered capacity), once known.
    capacity: Option<u32>,
}

/// Where an execution is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Run {
    Running,
    Done,
    Failed(u64),
}

/// Failed executions of one of its replicas after which the worker gives the slot back
/// (`release_slot`, no penalty) instead of trying until the commit deadline and being slashed.
const RELEASE_AFTER_FAILURES: u32 = 3;

impl Tracked {
    fn forget(&mut self, job: JobId) {
        self.open.remove(&job);
        self.fresh.remove(&job);
        self.claiming.remove(&job);
        self.executions.retain(|(j, _), _| *j != job);
        self.failures.remove(&job);
        if self.mine.remove(&job).is_some() {
            self.capacity_freed = true;
        }
        self.votes.remove(&job);
        self.audits.remove(&job);
        self.referee.remove(&job);
    }
}

/// An execution's result, sent back to the block loop.
struct Executed {
    job: JobId,
    purpose: Purpose,
    result: Result<Execution, String>,
}

/// The daemon.
pub struct Worker {
    settings: Settings,
    signer: Signer,
    me: AccountId,
    store: Arc<Store>,
    metrics: Metrics,
    executor: Arc<Executor>,
    fetcher: Arc<Fetcher>,
    tracked: Tracked,
    /// (job, call) → block it was submitted at.
    in_flight: HashMap<(JobId, &'static str), u64>,
    executed_tx: mpsc::UnboundedSender<Executed>,
    executed_rx: mpsc::UnboundedReceiver<Executed>,
}

impl Worker {
    /// A worker signing as `signer`, with its database opened.
    pub fn new(settings: Settings, signer: Signer, metrics: Metrics) -> Result<Worker, StartError> {
        let store = Store::open(&settings.data_dir.join(format!("{}.redb", signer.address())))?;
        let executor = Arc::new(Executor {
            sandbox: Sandbox::new(std::env::current_exe()?, [SANDBOX_ARG], settings.wall_clock),
            cache: Mutex::new(HashMap::new()),
        });
        let fetcher = Arc::new(Fetcher::new(settings.fetch.clone())?);
        let me = signer.account();
        let (executed_tx, executed_rx) = mpsc::unbounded_channel();
        Ok(Worker {
            settings,
            signer,
            me,
            store: Arc::new(store),
            metrics,
            executor,
            fetcher,
            tracked: Tracked::default(),
            in_flight: HashMap::new(),
            executed_tx,
            executed_rx,
        })
    }

    /// Runs until `shutdown` completes. Connects to the first node that answers, and to the
    /// next whenever the connection drops.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut backoff = Duration::from_millis(500);
        let mut next_node = 0usize;
        info!(provider = %self.signer.address(), nodes = ?self.settings.nodes, "worker started");
        loop {
            let url = self.settings.nodes[next_node % self.settings.nodes.len()].clone();
            next_node += 1;
            let client = tokio::select! {
                _ = &mut shutdown => break,
                c = Client::connect(&url) => c,
            };
            let client = match client {
                Ok(c) => Arc::new(c),
                Err(e) => {
                    warn!(node = %url, error = %e, retry_in = ?backoff, "cannot reach the node");
                    tokio::select! {
                        _ = &mut shutdown => break,
                        _ = tokio::time::sleep(backoff) => {},
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    continue;
                },
            };
            info!(node = %url, "connected");
            backoff = Duration::from_millis(500);
            match self.follow(&client, &mut shutdown).await {
                Ok(()) => break,
                Err(e) => warn!(node = %url, error = %e, "lost the node; trying the next"),
            }
        }
        info!("worker stopped");
    }

    /// Resyncs from the chain, then follows best blocks (and finalized ones, for pruning)
    /// until `shutdown` (`Ok`) or until the node stops answering (`Err`).
    async fn follow(
        &mut self,
        client: &Arc<Client>,
        shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
    ) -> Result<(), ClientError> {
        let mut blocks = client.best_blocks().await?;
        let mut finalized = client.finalized_blocks().await?;
        let at = client.at_best().await?;
        let mut constants = self.constants(&at)?;
        let mut spec_version = at.spec_version();
        self.resync(client, &at).await?;
        let mut last = at.block_hash();
        let mut current = at;
        loop {
            tokio::select! {
                _ = &mut *shutdown => return Ok(()),
                done = self.executed_rx.recv() => {
                    if let Some(done) = done {
                        self.on_executed(client, &current, done).await;
                    }
                },
                block = finalized.next() => {
                    let block = match block {
                        Some(Ok(b)) => b,
                        Some(Err(e)) => return Err(tessera_client::subxt_error(e)),
                        None => return Err(ClientError::NotFound("the finalized-blocks subscription ended".into())),
                    };
                    let at = block.at().await.map_err(tessera_client::subxt_error)?;
                    self.on_finalized(&at).await?;
                    self.metrics.finalized.set(at.block_number());
                },
                block = blocks.next() => {
                    let block = match block {
                        Some(Ok(b)) => b,
                        Some(Err(e)) => return Err(tessera_client::subxt_error(e)),
                        None => return Err(ClientError::NotFound("the best-blocks subscription ended".into())),
                    };
                    if block.hash() == last {
                        continue;
                    }
                    let started = Instant::now();
                    let parent = block.header().parent_hash;
                    let at = block.at().await.map_err(tessera_client::subxt_error)?;
                    if at.spec_version() != spec_version {
                        info!(from = spec_version, to = at.spec_version(), "runtime upgraded: decoding with its metadata");
                        spec_version = at.spec_version();
                        constants = self.constants(&at)?;
                    }
                    if parent != last {
                        // A reorg, or blocks this worker did not see: their events are not
                        // ours to replay; the chain at this block is what counts.
                        info!(block = at.block_number(), "best block is not the child of the last one: resyncing");
                        self.resync(client, &at).await?;
                    }
                    last = at.block_hash();
                    self.on_block(client, &at, &constants).await?;
                    current = at.clone();
                    self.metrics.best.set(at.block_number());
                    self.metrics.block_seconds.observe(started.elapsed().as_secs_f64());
                    self.metrics.rpc_requests.inc_by(client.requests().saturating_sub(self.metrics.rpc_requests.get()));
                    for (kind, n) in [("open", self.tracked.open.len()), ("mine", self.tracked.mine.len()),
                        ("votes", self.tracked.votes.len()), ("audits", self.tracked.audits.len())] {
                        self.metrics.tracked.with_label_values(&[kind]).set(n as u64);
                    }
                },
            }
        }
    }

    fn constants(&self, at: &AtBlock) -> Result<Constants, ClientError> {
        let c = at.constants();
        let market = chain::constants().market();
        let heartbeat = c.entry(chain::constants().providers().heartbeat_timeout());
        Ok(Constants {
            limits: Client::program_limits(at)?,
            heartbeat_timeout: u64::from(heartbeat.map_err(tessera_client::subxt_error)?),
            referee_fuel_limit: c.entry(market.referee_fuel_limit()).map_err(tessera_client::subxt_error)?,
            max_referee_input_len: c.entry(market.max_referee_input_len()).map_err(tessera_client::subxt_error)?,
        })
    }

    /// Rebuilds what it tracks from every live job at `at` (on each (re)connect, and when a
    /// best block does not follow the last one).
    async fn resync(&mut self, client: &Client, at: &AtBlock) -> Result<(), ClientError> {
        let hash = at.block_hash();
        self.tracked = Tracked::default();
        let me = tessera_client::api_account(&self.me);
        if let Some(p) = client.rpc().provider(me.clone(), Some(hash)).await? {
            self.tracked.last_heartbeat = Some(u64::from(p.last_heartbeat));
            self.tracked.capacity = Some(p.capacity);
        }
        let mut from = 0;
        let mut live = 0usize;
        loop {
            let page = client.rpc().jobs(None, Some(from), None, Some(hash)).await?;
            for view in &page.jobs {
                if view.status.is_final() {
                    continue;
                }
                live += 1;
                self.take_up(view, &me);
            }
            match page.next {
                Some(n) => from = n,
                None => break,
            }
        }
        self.tracked.fresh = std::mem::take(&mut self.tracked.open);
        info!(block = at.block_number(), live, mine = self.tracked.mine.len(), "resynced with the chain");
        Ok(())
    }

    /// Tracks a live job as it stands.
    fn take_up(&mut self, view: &JobView, me: &api::AccountId) {
        let Some(live) = &view.live else { return };
        let Some(info) = JobInfo::from_view(view) else { return };
        if let Some(slot) = live.slots.iter().find(|s| &s.provider == me) {
            let stage = match view.status {
                JobStatus::Open => Stage::Claimed,
                JobStatus::Committing => Stage::Committing,
                JobStatus::Revealing if slot.committed && slot.receipt.is_none() => Stage::Revealing,
                _ => Stage::Revealed,
            };
            self.tracked.mine.insert(view.id, Replica { info: info.clone(), stage, committed: slot.committed });
        } else if view.status == JobStatus::Open && &view.requester != me {
            self.tracked.open.insert(view.id);
        }
        if let Some(d) = &live.dispute {
            let seat = match d.stage {
                _ if !d.jurors.contains(me) || d.revealed.contains(me) => None,
                api::DisputeStage::Voting if d.voted.contains(me) => Some(Seat::Voted),
                api::DisputeStage::Voting => Some(Seat::Voting),
                api::DisputeStage::Revealing if d.voted.contains(me) => Some(Seat::Revealing),
                api::DisputeStage::Revealing | api::DisputeStage::Drawing => None,
            };
            if let Some(seat) = seat {
                self.tracked.votes.insert(view.id, (d.round, seat));
            }
        }
        if view.status == JobStatus::Challengeable && self.settings.audit && &view.requester != me {
            if let Some(receipt) = live.slots.iter().find_map(|s| s.receipt) {
                if !live.slots.iter().any(|s| &s.provider == me) {
                    self.tracked.audits.insert(view.id, receipt);
                }
            }
        }
    }

    /// One finalized block: the jobs it ends are over for good, so their salts and outputs
    /// leave the database.
    async fn on_finalized(&mut self, at: &AtBlock) -> Result<(), ClientError> {
        let events = at.events().fetch().await.map_err(tessera_client::subxt_error)?;
        for event in events.iter() {
            let event = event.map_err(tessera_client::subxt_error)?;
            if let Some(Ok(e)) = event.decode_fields_as::<ev::JobEnded>() {
                if let Err(err) = self.store.forget(e.job) {
                    warn!(job = e.job, error = %err, "pruning the database failed");
                }
            }
        }
        Ok(())
    }

    /// One best block: its events, then the duties they created.
    async fn on_block(&mut self, client: &Arc<Client>, at: &AtBlock, constants: &Constants) -> Result<(), ClientError> {
        let now = at.block_number();
        let events = at.events().fetch().await.map_err(tessera_client::subxt_error)?;
        for event in events.iter() {
            let event = event.map_err(tessera_client::subxt_error)?;
            if event.pallet_name() == "Market" {
                self.on_market_event(&event);
            } else if event.pallet_name() == "Providers" {
                let seen = if let Some(Ok(e)) = event.decode_fields_as::<chain::providers::events::Heartbeat>() {
                    e.who == self.me
                } else if let Some(Ok(e)) = event.decode_fields_as::<chain::providers::events::Registered>() {
                    e.who == self.me
                } else {
                    false
                };
                if seen {
                    // Live (again): what it could not claim while inactive may be claimable now.
                    self.tracked.last_heartbeat = Some(now);
                    self.tracked.capacity_freed = true;
                    if self.tracked.capacity.is_none() {
                        self.tracked.capacity = self.settings.register.as_ref().map(|r| r.capacity);
                    }
                }
            }
        }
        self.registration_and_heartbeat(client, at, constants).await?;
        self.claims(client, at, constants).await?;
        self.replica_duties(client, at, constants).await;
        self.start_votes_and_audits(client, at, constants);
        self.in_flight.retain(|_, submitted| now < *submitted + 100);
        Ok(())
    }

    fn on_market_event(&mut self, event: &subxt::events::Event<'_, tessera_client::TesseraConfig>) {
        let me = self.me.clone();
        let t = &mut self.tracked;
        if let Some(Ok(e)) = event.decode_fields_as::<ev::JobPosted>() {
            if e.requester != me {
                t.fresh.insert(e.job);
            }
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::SlotsReopened>() {
            if !t.mine.contains_key(&e.job) {
                t.fresh.insert(e.job);
                // A claim of ours that lost the race for this job is over: claim again now,
                // not only once the retry delay of that submission has passed.
                self.in_flight.remove(&(e.job, "claim_slot"));
            }
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::SlotClaimed>() {
            if e.provider == me {
                t.open.remove(&e.job);
                t.fresh.remove(&e.job);
                if let Some((info, _)) = t.claiming.remove(&e.job) {
                    self.metrics.stage("claimed");
                    t.mine.insert(e.job, Replica { info, stage: Stage::Claimed, committed: false });
                }
            }
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::SlotReleased>() {
            if e.provider == me {
                info!(job = e.job, "slot released");
                t.forget(e.job);
            } else if !t.mine.contains_key(&e.job) {
                t.fresh.insert(e.job);
                self.in_flight.remove(&(e.job, "claim_slot"));
            }
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::JobAssigned>() {
            t.open.remove(&e.job);
            t.fresh.remove(&e.job);
            // Full without us: a claim of ours still pending lost the race.
            t.claiming.remove(&e.job);
            if let Some(r) = t.mine.get_mut(&e.job) {
                r.stage = Stage::Committing;
            }
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::Committed>() {
            if e.provider == me {
                if let Some(r) = t.mine.get_mut(&e.job) {
                    r.committed = true;
                    self.metrics.stage("committed");
                }
            }
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::RevealOpened>() {
            if let Some(r) = t.mine.get_mut(&e.job) {
                r.stage = if r.committed { Stage::Revealing } else { Stage::Revealed };
            }
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::Revealed>() {
            if e.provider == me {
                if let Some(r) = t.mine.get_mut(&e.job) {
                    r.stage = Stage::Revealed;
                    self.metrics.stage("revealed");
                }
            }
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::ResultAgreed>() {
            if self.settings.audit && !t.mine.contains_key(&e.job) {
                t.audits.insert(e.job, convert::receipt_from_chain(&e.receipt));
            }
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::DisputeOpened>() {
            t.audits.remove(&e.job);
            if t.mine.contains_key(&e.job) || e.challenger.as_ref() == Some(&me) {
                t.referee.insert(e.job);
            }
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::Refereed>() {
            t.referee.remove(&e.job);
            info!(job = e.job, by = %e.by, "the referee decided the dispute");
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::CommitteeDrawn>() {
            t.referee.remove(&e.job);
            if e.jurors.0.contains(&me) {
                info!(job = e.job, round = e.round, "drawn as a juror");
                t.votes.insert(e.job, (e.round, Seat::Voting));
            }
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::Voted>() {
            if e.juror == me {
                if let Some((_, seat)) = t.votes.get_mut(&e.job) {
                    *seat = Seat::Voted;
                }
            }
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::VoteRevealOpened>() {
            match t.votes.get(&e.job).copied() {
                Some((round, Seat::Voted)) if round == e.round => {
                    t.votes.insert(e.job, (round, Seat::Revealing));
                },
                Some(_) => {
                    warn!(job = e.job, round = e.round, "voting closed before our sealed vote was in");
                    t.votes.remove(&e.job);
                },
                None => {},
            }
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::VoteRevealed>() {
            if e.juror == me {
                t.votes.remove(&e.job);
                self.metrics.stage("voted");
            }
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::NoMajority>() {
            // A new committee is drawn later (`CommitteeDrawn` again if we are on it).
            t.votes.remove(&e.job);
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::JurorSlashed>() {
            if e.juror == me {
                self.metrics.slashed.with_label_values(&["minority_vote"]).inc();
                error!(job = e.job, slashed = %tessera_client::tsr(e.slashed), "slashed: our vote was in the minority");
            }
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::ReplicaPaid>() {
            if e.provider == me {
                let total = e.payment.saturating_add(e.reward);
                self.metrics.paid.inc_by(u64::try_from(total).unwrap_or(u64::MAX));
                self.metrics.stage("paid");
                info!(job = e.job, payment = %tessera_client::tsr(e.payment), reward = %tessera_client::tsr(e.reward), "paid");
            }
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::WrongResult>() {
            if e.provider == me {
                self.metrics.slashed.with_label_values(&["wrong_result"]).inc();
                error!(job = e.job, slashed = %tessera_client::tsr(e.slashed), "slashed for a wrong result");
            }
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::Faulted>() {
            if e.who == me {
                self.metrics.slashed.with_label_values(&["fault"]).inc();
                error!(job = e.job, duty = ?e.duty, slashed = %tessera_client::tsr(e.slashed), "faulted");
                // A missed commitment loses the slot; a missed reveal ends our part.
                if t.mine.remove(&e.job).is_some() {
                    t.capacity_freed = true;
                }
                t.votes.remove(&e.job);
            }
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::ChallengeUpheld>() {
            if e.challenger == me {
                info!(job = e.job, "our challenge was upheld");
            }
        } else if let Some(Ok(e)) = event.decode_fields_as::<ev::JobEnded>() {
            // The database keeps the job's salt until a finalized block ends it (on_finalized).
            t.forget(e.job);
        }
    }

    fn submit<Call>(&mut self, client: &Arc<Client>, now: u64, job: JobId, name: &'static str, call: Call)
    where
        Call: subxt::transactions::Payload + Send + Sync + 'static,
    {
        if let Some(at) = self.in_flight.get(&(job, name)) {
            if now < at + RETRY_AFTER_BLOCKS {
                return;
            }
        }
        self.in_flight.insert((job, name), now);
        self.metrics.submitted.with_label_values(&[name]).inc();
        let (client, signer, metrics) = (client.clone(), self.signer.clone(), self.metrics.clone());
        tokio::spawn(async move {
            match client.submit(&signer, &call).await {
                Ok(included) => info!(job, call = name, block = %included.block, "included"),
                Err(e) => {
                    metrics.failed.with_label_values(&[name]).inc();
                    warn!(job, call = name, error = %e, "extrinsic did not go through");
                },
            }
        });
    }

    async fn registration_and_heartbeat(
        &mut self,
        client: &Arc<Client>,
        at: &AtBlock,
        constants: &Constants,
    ) -> Result<(), ClientError> {
        let now = at.block_number();
        match self.tracked.last_heartbeat {
            Some(last) => {
                if now.saturating_sub(last) > constants.heartbeat_timeout / 2 {
                    self.submit(client, now, 0, "heartbeat", chain::transactions().providers().heartbeat());
                }
            },
            None => {
                // Not registered as far as we know: look once every few blocks, register if asked.
                if self.in_flight.contains_key(&(0, "register")) && now % RETRY_AFTER_BLOCKS != 0 {
                    return Ok(());
                }
                let me = tessera_client::api_account(&self.me);
                if let Some(p) = client.rpc().provider(me, Some(at.block_hash())).await? {
                    self.tracked.last_heartbeat = Some(u64::from(p.last_heartbeat));
                    self.tracked.capacity = Some(p.capacity);
                    self.tracked.capacity_freed = true;
                    return Ok(());
                }
                match self.settings.register.clone() {
                    Some(r) => {
                        use chain::runtime_types::pallet_providers::types::ProviderProfile;
                        let profile = ProviderProfile {
                            capacity: r.capacity,
                            price_per_fuel: r.price_per_fuel,
                            region: r.region.into_bytes(),
                            labels: r.labels.into_iter().map(String::into_bytes).collect(),
                        };
                        let call = chain::transactions().providers().register(r.stake, profile);
                        self.submit(client, now, 0, "register", call);
                    },
                    None => {
                        if now % 20 == 0 {
                            warn!("not a registered provider; start with --register-stake or register with the CLI");
                        }
                    },
                }
            },
        }
        Ok(())
    }

    /// Claims the jobs it may serve: new ones at once, the rest when its capacity frees. A job
    /// of at most `execute_first_fuel` is executed first and then claimed and committed in one
    /// transaction; a larger one is claimed first and committed once executed.
    async fn claims(&mut self, client: &Arc<Client>, at: &AtBlock, constants: &Constants) -> Result<(), ClientError> {
        if self.tracked.last_heartbeat.is_none() {
            return Ok(());
        }
        let mut candidates = std::mem::take(&mut self.tracked.fresh);
        if std::mem::take(&mut self.tracked.capacity_freed) {
            candidates.extend(self.tracked.open.iter().copied());
        }
        let (hash, now) = (at.block_hash(), at.block_number());
        let me = tessera_client::api_account(&self.me);
        let executions = &self.tracked.executions;
        // A claim not seen on chain within the retry delay (dropped, or failed without a
        // `JobAssigned` to say the job filled) is tried again: `tessera_canClaim` tells whether
        // the job can still be claimed.
        let fresh = &mut self.tracked.fresh;
        self.tracked.claiming.retain(|job, (_, at)| {
            let pending = now < *at + RETRY_AFTER_BLOCKS || executions.get(&(*job, Purpose::Replica)) == Some(&Run::Running);
            if !pending {
                fresh.insert(*job);
            }
            pending
        });
        // In this provider's own order, so that workers do not all race for the same jobs.
        for job in crate::order::claim_order(&self.me.0, candidates) {
            if self.tracked.mine.contains_key(&job) || self.tracked.claiming.contains_key(&job) {
                continue;
            }
            // Slots held or being claimed never exceed the capacity: a claim (or an execution
            // done to claim) beyond it would only fail.
            let busy = (self.tracked.mine.len() + self.tracked.claiming.len()) as u32;
            if self.tracked.capacity.is_some_and(|c| busy >= c) {
                self.tracked.open.insert(job);
                continue;
            }
            match client.rpc().can_claim(job, me.clone(), Some(hash)).await? {
                None => {},
                // Capacity comes back; price, reputation, placement and terms do not change for
                // this job.
                Some(Reason::NoCapacity) => {
                    self.tracked.open.insert(job);
                    continue;
                },
                Some(Reason::Inactive | Reason::InMaintenance | Reason::StakeTooLow | Reason::NotProvider) => {
                    self.tracked.open.insert(job);
                    continue;
                },
                Some(reason) => {
                    debug!(job, ?reason, "cannot claim");
                    self.tracked.open.remove(&job);
                    continue;
                },
            }
            let Some(view) = client.rpc().job(job, Some(hash)).await? else { continue };
            let Some(info) = JobInfo::from_view(&view) else { continue };
            self.tracked.open.remove(&job);
            if info.fuel_limit > self.settings.max_fuel {
                debug!(job, fuel_limit = info.fuel_limit, "fuel limit above this worker's --max-fuel");
                continue;
            }
            // A remote input must be fetchable and match its hash before the claim: a job that
            // cannot be served is not claimed (the requester, not the provider, bears that).
            if let Err(e) = self.check_input(at, job, &info).await {
                warn!(job, error = %e, "not claiming: the input cannot be served");
                continue;
            }
            self.tracked.claiming.insert(job, (info.clone(), now));
            if info.fuel_limit <= self.settings.execute_first_fuel {
                // Executed before, for a claim that lost its race: a slot has freed since (a
                // reopen after a missed commitment, or a release), and the stored work is claimed
                // and committed at once. Without stored work (the claim was given up before the
                // execution ended), it executes again: `start_execution` skips a finished run.
                match self.store.work(job) {
                    Ok(Some(work)) => {
                        info!(job, "claiming the freed slot with the work executed earlier");
                        self.claim_and_commit(client, now, job, &work);
                        continue;
                    },
                    Ok(None) => {
                        if self.tracked.executions.get(&(job, Purpose::Replica)) == Some(&Run::Done) {
                            self.tracked.executions.remove(&(job, Purpose::Replica));
                        }
                    },
                    Err(e) => {
                        error!(job, error = %e, "reading the database failed");
                        self.tracked.claiming.remove(&job);
                        continue;
                    },
                }
                // Executed now; claimed and committed together when done (on_executed).
                debug!(job, fuel_limit = info.fuel_limit, "executing before claiming");
                self.start_execution(client, at, constants, job, Some(info), Purpose::Replica);
            } else {
                info!(job, fuel_limit = info.fuel_limit, "claiming a replica slot");
                self.submit(client, now, job, "claim_slot", chain::transactions().market().claim_slot(job));
            }
        }
        Ok(())
    }

    /// Whether `job`'s input can be had and matches its hash: a remote input is fetched (and
    /// checked by the fetcher against its hash and length), an inline one is on chain.
    async fn check_input(&self, at: &AtBlock, job: JobId, info: &JobInfo) -> Result<(), String> {
        match input_spec(at, job).await? {
            Input::Inline(_) => Ok(()),
            Input::Remote { hash, len, uri } => {
                if hash.0 != info.input_hash {
                    return Err("the job's input hash differs from its input spec".into());
                }
                let uri = String::from_utf8(uri.0).map_err(|_| "the input URI is not UTF-8".to_string())?;
                self.fetcher.fetch(&uri, len, &hash.0).await.map(|_| ()).map_err(|e| e.to_string())
            },
        }
    }

    /// Executes, commits and reveals for its replicas (bounded by its capacity).
    async fn replica_duties(&mut self, client: &Arc<Client>, at: &AtBlock, constants: &Constants) {
        let now = at.block_number();
        let jobs: Vec<(JobId, Replica)> = self.tracked.mine.iter().map(|(j, r)| (*j, r.clone())).collect();
        for (job, replica) in jobs {
            let work = match self.store.work(job) {
                Ok(w) => w,
                Err(e) => {
                    error!(job, error = %e, "reading the database failed");
                    continue;
                },
            };
            match (replica.stage, work) {
                (Stage::Claimed | Stage::Committing, None) => {
                    self.start_execution(client, at, constants, job, Some(replica.info.clone()), Purpose::Replica);
                },
                // A replica commits as soon as it holds its slot and has executed.
                (Stage::Claimed | Stage::Committing, Some(work)) if !replica.committed => self.commit(client, now, job, &work),
                (Stage::Revealing, Some(work)) => self.reveal(client, now, job, work),
                (Stage::Revealing, None) => error!(job, "committed but the salt is not in the database; cannot reveal"),
                _ => {},
            }
        }
    }

    fn commit(&mut self, client: &Arc<Client>, now: u64, job: JobId, work: &Work) {
        let c = commitment(job, &self.me.0, &work.receipt, &work.salt);
        self.submit(client, now, job, "commit", chain::transactions().market().commit(job, H256::from(c.0)));
    }

    /// Claims a slot of `job` and commits to `work` in one transaction: `batch_all`, so the
    /// claim stands only with the commitment, and a lost race changes nothing (the salt stays
    /// in the database until the job ends, in case a slot frees later).
    fn claim_and_commit(&mut self, client: &Arc<Client>, now: u64, job: JobId, work: &Work) {
        use chain::runtime_types::{pallet_market::pallet::Call as MarketCall, tessera_runtime::RuntimeCall};
        let c = H256::from(commitment(job, &self.me.0, &work.receipt, &work.salt).0);
        info!(job, "executed: claiming a replica slot and committing");
        if let Some((_, started)) = self.tracked.claiming.get_mut(&job) {
            *started = now;
        }
        let calls = vec![
            RuntimeCall::Market(MarketCall::claim_slot { job }),
            RuntimeCall::Market(MarketCall::commit { job, commitment: c }),
        ];
        self.submit(client, now, job, "claim_slot", chain::transactions().utility().batch_all(calls));
    }

    fn reveal(&mut self, client: &Arc<Client>, now: u64, job: JobId, work: Work) {
        #[cfg(feature = "test-hooks")]
        if self.settings.withhold_reveals {
            warn!(job, "withholding the reveal (test hook)");
            return;
        }
        let call = chain::transactions().market().reveal(
            job,
            convert::receipt_to_chain(&work.receipt),
            work.salt,
            work.output,
        );
        self.submit(client, now, job, "reveal", call);
    }

    /// Submits the sealed vote for `job` in `round`: from the stored ballot when it is this
    /// round's, else from `receipt` (this execution's, or the last round's ballot) sealed with
    /// a fresh salt, stored before it is sent. Returns `false` when it has neither: the job
    /// must be executed first.
    fn vote(&mut self, client: &Arc<Client>, now: u64, job: JobId, round: u32, receipt: Option<Receipt>) -> bool {
        let stored = match self.store.ballot(job) {
            Ok(b) => b,
            Err(e) => {
                error!(job, error = %e, "reading the database failed; not voting");
                return true;
            },
        };
        let ballot = match (stored, receipt) {
            (Some(b), _) if b.round == round => b,
            (previous, receipt) => {
                let Some(receipt) = receipt.or(previous.map(|b| b.receipt)) else { return false };
                let mut salt = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut salt);
                let ballot = Ballot { round, receipt, salt };
                // Durable before the seal leaves this process: a restart must be able to open it.
                if let Err(e) = self.store.put_ballot(job, &ballot) {
                    error!(job, error = %e, "storing the ballot failed; not voting");
                    return true;
                }
                ballot
            },
        };
        let seal = vote_commitment(job, round, &self.me.0, &ballot.receipt, &ballot.salt);
        let call = chain::transactions().market().vote(job, H256::from(seal.0));
        self.submit(client, now, job, "vote", call);
        true
    }

    /// Opens this worker's sealed vote in `job` from the stored ballot.
    fn reveal_vote(&mut self, client: &Arc<Client>, now: u64, job: JobId, round: u32) {
        match self.store.ballot(job) {
            Ok(Some(b)) if b.round == round => {
                let call = chain::transactions().market().reveal_vote(job, convert::receipt_to_chain(&b.receipt), b.salt);
                self.submit(client, now, job, "reveal_vote", call);
            },
            Ok(_) => error!(job, round, "no ballot of this round in the database: cannot reveal the vote"),
            Err(e) => error!(job, error = %e, "reading the database failed; not revealing the vote"),
        }
    }

    /// Submits the referee call for a dispute this worker is a party to, when the job is small
    /// enough for the referee, with the input's bytes when they are off chain.
    fn referee(&mut self, client: &Arc<Client>, at: &AtBlock, constants: &Constants, job: JobId) {
        let now = at.block_number();
        if let Some(sent) = self.in_flight.get(&(job, "referee")) {
            if now < sent + RETRY_AFTER_BLOCKS {
                return;
            }
        }
        self.in_flight.insert((job, "referee"), now);
        let (client, at, constants) = (client.clone(), at.clone(), *constants);
        let (signer, fetcher, metrics) = (self.signer.clone(), self.fetcher.clone(), self.metrics.clone());
        tokio::spawn(async move {
            let call = async {
                let view = client.rpc().job(job, Some(at.block_hash())).await.map_err(|e| e.to_string())?;
                let live = view.and_then(|v| v.live).ok_or("the job has ended")?;
                if live.fuel_limit > constants.referee_fuel_limit ||
                    live.input_len > u64::from(constants.max_referee_input_len)
                {
                    return Ok(None); // a committee decides
                }
                let input = match input_spec(&at, job).await? {
                    Input::Inline(_) => None,
                    Input::Remote { hash, len, uri } => {
                        let uri = String::from_utf8(uri.0).map_err(|_| "the input URI is not UTF-8".to_string())?;
                        let bytes = fetcher.fetch(&uri, len, &hash.0).await.map_err(|e| e.to_string())?;
                        Some(bytes)
                    },
                };
                Ok::<_, String>(Some(chain::transactions().market().referee(job, input)))
            };
            match call.await {
                Ok(Some(call)) => {
                    metrics.submitted.with_label_values(&["referee"]).inc();
                    match client.submit(&signer, &call).await {
                        Ok(included) => info!(job, call = "referee", block = %included.block, "included"),
                        Err(e) => {
                            metrics.failed.with_label_values(&["referee"]).inc();
                            warn!(job, call = "referee", error = %e, "extrinsic did not go through");
                        },
                    }
                },
                Ok(None) => debug!(job, "too large for the referee: a committee decides"),
                Err(e) => warn!(job, error = %e, "cannot submit the referee call"),
            }
        });
    }

    fn start_votes_and_audits(&mut self, client: &Arc<Client>, at: &AtBlock, constants: &Constants) {
        let disputes: Vec<JobId> = self.tracked.referee.iter().copied().collect();
        for job in disputes {
            self.referee(client, at, constants, job);
        }
        let votes: Vec<(JobId, (u32, Seat))> = self.tracked.votes.iter().map(|(j, s)| (*j, *s)).collect();
        for (job, (round, seat)) in votes {
            // Each resubmitted every few blocks until the chain says it took effect.
            match seat {
                Seat::Voting => {
                    if !self.vote(client, at.block_number(), job, round, None) {
                        self.start_execution(client, at, constants, job, None, Purpose::Vote);
                    }
                },
                Seat::Voted => {},
                Seat::Revealing => self.reveal_vote(client, at.block_number(), job, round),
            }
        }
        let audits: Vec<JobId> = self.tracked.audits.keys().copied().collect();
        for job in audits {
            match self.store.audit(job) {
                Ok(Some(_)) => {
                    self.tracked.audits.remove(&job);
                },
                Ok(None) => self.start_execution(client, at, constants, job, None, Purpose::Audit),
                Err(e) => warn!(job, error = %e, "reading the database failed"),
            }
        }
    }

    /// Executes `job` in the background (reading its terms first when `info` is `None`); the
    /// result comes back to the block loop through the channel.
    fn start_execution(
        &mut self,
        client: &Arc<Client>,
        at: &AtBlock,
        constants: &Constants,
        job: JobId,
        info: Option<JobInfo>,
        purpose: Purpose,
    ) {
        let now = at.block_number();
        match self.tracked.executions.get(&(job, purpose)) {
            Some(Run::Running | Run::Done) => return,
            Some(Run::Failed(at)) if now < at + RETRY_AFTER_BLOCKS => return,
            _ => {},
        }
        self.tracked.executions.insert((job, purpose), Run::Running);
        let (client, at, constants) = (client.clone(), at.clone(), *constants);
        let (executor, fetcher, tx) = (self.executor.clone(), self.fetcher.clone(), self.executed_tx.clone());
        let metrics = self.metrics.clone();
        tokio::spawn(async move {
            let info = match info {
                Some(info) => Ok(info),
                None => match client.rpc().job(job, Some(at.block_hash())).await {
                    Ok(Some(view)) => JobInfo::from_view(&view).ok_or_else(|| "the job has ended".to_string()),
                    Ok(None) => Err("no such job".to_string()),
                    Err(e) => Err(e.to_string()),
                },
            };
            let result = match info {
                Ok(info) => execute(&client, &at, &executor, &fetcher, &metrics, &constants, job, &info).await,
                Err(e) => Err(e),
            };
            let _ = tx.send(Executed { job, purpose, result });
        });
    }

    /// An execution finished: store and commit, vote, or compare and challenge.
    async fn on_executed(&mut self, client: &Arc<Client>, at: &AtBlock, done: Executed) {
        let now = at.block_number();
        let job = done.job;
        #[allow(unused_mut)]
        let mut execution = match done.result {
            Ok(e) => e,
            Err(e) => {
                self.tracked.executions.insert((job, done.purpose), Run::Failed(now));
                if done.purpose == Purpose::Replica && !self.tracked.mine.contains_key(&job) {
                    // Executed to claim: nothing claimed, nothing to give back.
                    self.tracked.claiming.remove(&job);
                    warn!(job, error = %e, "cannot execute; not claiming");
                    return;
                }
                if done.purpose == Purpose::Replica {
                    let failures = self.tracked.failures.entry(job).or_default();
                    *failures += 1;
                    let uncommitted = self.tracked.mine.get(&job).is_some_and(|r| !r.committed);
                    if *failures >= RELEASE_AFTER_FAILURES && uncommitted {
                        warn!(job, error = %e, "cannot execute; giving the slot back without penalty");
                        self.submit(client, now, job, "release_slot", chain::transactions().market().release_slot(job));
                        return;
                    }
                }
                warn!(job, purpose = ?done.purpose, error = %e, "cannot execute; retrying in a few blocks");
                return;
            },
        };
        self.tracked.executions.insert((job, done.purpose), Run::Done);
        match done.purpose {
            Purpose::Replica => {
                // Its slot, or a claim it executed the job for first.
                let replica = self.tracked.mine.get(&job).cloned();
                if replica.is_none() && !self.tracked.claiming.contains_key(&job) {
                    return;
                }
                #[cfg(feature = "test-hooks")]
                if self.settings.dishonest {
                    execution.output.extend_from_slice(b" (forged)");
                    execution.receipt =
                        Receipt::new(execution.receipt.status, execution.receipt.fuel_used, &execution.output);
                    warn!(job, "dishonest mode (test hook): committing to a forged output");
                }
                let mut salt = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut salt);
                let work = Work { receipt: execution.receipt, salt, output: execution.output };
                // Durable before anything that depends on it leaves this process.
                if let Err(e) = self.store.put_work(job, &work) {
                    error!(job, error = %e, "storing the work failed; not committing");
                    return;
                }
                match replica {
                    Some(r) if !r.committed && matches!(r.stage, Stage::Claimed | Stage::Committing) => {
                        self.commit(client, now, job, &work);
                    },
                    Some(_) => {},
                    None => self.claim_and_commit(client, now, job, &work),
                }
            },
            Purpose::Vote => {
                if let Some((round, Seat::Voting)) = self.tracked.votes.get(&job).copied() {
                    self.vote(client, now, job, round, Some(execution.receipt));
                }
            },
            Purpose::Audit => {
                let Some(agreed) = self.tracked.audits.remove(&job) else { return };
                let challenged = execution.receipt != agreed;
                if let Err(e) = self.store.put_audit(job, &Audit { receipt: execution.receipt, challenged }) {
                    warn!(job, error = %e, "recording the audit failed");
                    return;
                }
                self.metrics.stage("audited");
                if challenged {
                    warn!(job, ?agreed, ours = ?execution.receipt, "agreed result differs from ours: challenging");
                    self.submit(client, now, job, "challenge", chain::transactions().market().challenge(job));
                } else {
                    info!(job, "audited: the agreed result is right");
                }
            },
        }
    }
}

/// A job's input as the chain keeps it (bounded byte vectors).
type StoredInput = Input<BoundedVec<u8>, BoundedVec<u8>>;

/// The input of `job` as stored on chain at `at` (inline bytes, or a remote input's URI, hash
/// and length).
async fn input_spec(at: &AtBlock, job: JobId) -> Result<StoredInput, String> {
    at.storage()
        .try_fetch(chain::storage().market().input_of().unvalidated(), (job,))
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the job has no input")?
        .decode()
        .map_err(|e| e.to_string())
}

/// Fetches the program and input of `job` as of `at` and runs it in the sandbox.
#[allow(clippy::too_many_arguments)]
async fn execute(
    client: &Client,
    at: &AtBlock,
    executor: &Arc<Executor>,
    fetcher: &Fetcher,
    metrics: &Metrics,
    constants: &Constants,
    job: JobId,
    info: &JobInfo,
) -> Result<Execution, String> {
    let code = client
        .program_code(at, info.program)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("program {:?} is not on chain", info.program))?;
    let input = match input_spec(at, job).await? {
        Input::Inline(bytes) => bytes.0,
        Input::Remote { hash, len, uri } => {
            let uri = String::from_utf8(uri.0).map_err(|_| "the input URI is not UTF-8".to_string())?;
            fetcher.fetch(&uri, len, &hash.0).await.map_err(|e| e.to_string())?
        },
    };
    if sp_crypto_hashing::blake2_256(&input) != info.input_hash {
        return Err("the input does not match the job's input hash".into());
    }
    let limits = RunLimits {
        fuel: info.fuel_limit,
        max_memory_pages: constants.limits.max_memory_pages,
        max_output_len: info.max_output_len,
    };
    let (executor, program, program_limits) = (executor.clone(), info.program, constants.limits);
    let started = Instant::now();
    let result = tokio::task::spawn_blocking(move || {
        let program = executor.prepare(program, &code, &program_limits)?;
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
    metrics.executions.with_label_values(&[status]).inc();
    metrics.fuel.inc_by(execution.receipt.fuel_used);
    info!(
        job,
        status,
        fuel_used = execution.receipt.fuel_used,
        output_len = execution.output.len(),
        millis = started.elapsed().as_millis() as u64,
        "executed"
    );
    Ok(execution)
}
