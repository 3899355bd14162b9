//! The worker's Prometheus metrics, served on `/metrics`. Every label has a fixed, small set of
//! values (a call, a stage, an exit status, a slash reason); no metric is labelled by job id,
//! so the number of series stays bounded however many jobs the worker serves.

use prometheus_endpoint::{
    register, Counter, CounterVec, Gauge, GaugeVec, Histogram, HistogramOpts, Opts, PrometheusError, Registry, U64,
};

/// The stages a job reaches with this worker, the values of the `stage` label.
pub const STAGES: [&str; 6] = ["claimed", "committed", "revealed", "paid", "audited", "voted"];

/// Every metric the worker exports.
#[derive(Clone)]
pub struct Metrics {
    /// Latest finalized block processed.
    pub finalized: Gauge<U64>,
    /// Latest best block processed (the worker acts on best blocks).
    pub best: Gauge<U64>,
    /// Jobs that reached each stage with this worker.
    pub stages: CounterVec<U64>,
    /// Extrinsics submitted, by call.
    pub submitted: CounterVec<U64>,
    /// Extrinsics that failed or were refused, by call.
    pub failed: CounterVec<U64>,
    /// Executions, by exit status.
    pub executions: CounterVec<U64>,
    /// Fuel used by all executions.
    pub fuel: Counter<U64>,
    /// Payments and rewards received for replicas, in plancks (precision of whole plancks is
    /// lost above 2^53 in Prometheus' float).
    pub paid: Counter<U64>,
    /// Slashes of this worker, by reason.
    pub slashed: CounterVec<U64>,
    /// JSON-RPC requests made to the node.
    pub rpc_requests: Counter<U64>,
    /// Jobs the worker is tracking, by kind (open, mine, votes, audits).
    pub tracked: GaugeVec<U64>,
    /// Time to process one best block (events, claims, duties), in seconds.
    pub block_seconds: Histogram,
}

impl Metrics {
    /// Registers the metrics.
    pub fn register(registry: &Registry) -> Result<Metrics, PrometheusError> {
        let counter_vec = |name: &str, help: &str, label: &str| {
            register(CounterVec::new(Opts::new(name, help), &[label])?, registry)
        };
        Ok(Metrics {
            finalized: register(Gauge::new("tessera_worker_finalized_block", "Latest finalized block processed")?, registry)?,
            best: register(Gauge::new("tessera_worker_best_block", "Latest best block processed")?, registry)?,
            stages: counter_vec("tessera_worker_jobs_total", "Jobs that reached each stage with this worker", "stage")?,
            submitted: counter_vec("tessera_worker_extrinsics_submitted_total", "Extrinsics submitted", "call")?,
            failed: counter_vec("tessera_worker_extrinsics_failed_total", "Extrinsics refused or failed", "call")?,
            executions: counter_vec("tessera_worker_executions_total", "Program executions", "status")?,
            fuel: register(Counter::new("tessera_worker_fuel_used_total", "Fuel used by all executions")?, registry)?,
            paid: register(Counter::new("tessera_worker_paid_total", "Replica payments and rewards received (plancks)")?, registry)?,
            slashed: counter_vec("tessera_worker_slashed_total", "Times this worker was slashed", "reason")?,
            rpc_requests: register(Counter::new("tessera_worker_rpc_requests_total", "JSON-RPC requests made to the node")?, registry)?,
            tracked: register(
                GaugeVec::new(Opts::new("tessera_worker_tracked_jobs", "Jobs the worker is tracking"), &["kind"])?,
                registry,
            )?,
            block_seconds: register(
                Histogram::with_opts(
                    HistogramOpts::new("tessera_worker_block_seconds", "Time to process one best block")
                        .buckets(vec![0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0]),
                )?,
                registry,
            )?,
        })
    }

    /// Counts a job reaching `stage` (one of [`STAGES`]).
    pub fn stage(&self, stage: &'static str) {
        debug_assert!(STAGES.contains(&stage));
        self.stages.with_label_values(&[stage]).inc();
    }
}
