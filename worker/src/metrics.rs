//! The worker's Prometheus metrics, served on `/metrics`.

use prometheus_endpoint::{
    register, Counter, CounterVec, Gauge, GaugeVec, Opts, PrometheusError, Registry, U64,
};

/// Job stages reported per job in `tessera_worker_job_stage`.
pub const STAGES: [&str; 6] = ["claimed", "committed", "revealed", "paid", "audited", "voted"];

/// Every metric the worker exports.
#[derive(Clone)]
pub struct Metrics {
    /// Latest finalized block processed.
    pub finalized: Gauge<U64>,
    /// Extrinsics submitted, by call.
    pub submitted: CounterVec<U64>,
    /// Extrinsics that failed or were refused, by call.
    pub failed: CounterVec<U64>,
    /// Executions, by exit status.
    pub executions: CounterVec<U64>,
    /// Fuel used by all executions.
    pub fuel: Counter<U64>,
    /// Payments received for replicas, in plancks (whole-token precision is lost above 2^53).
    pub paid: Counter<U64>,
    /// Per job: the furthest stage reached (1 for that stage's label).
    pub job_stage: GaugeVec<U64>,
    /// Per job: fuel used by this worker's execution.
    pub job_fuel: GaugeVec<U64>,
    /// Slashes of this worker, by reason.
    pub slashed: CounterVec<U64>,
}

impl Metrics {
    /// Registers the metrics.
    pub fn register(registry: &Registry) -> Result<Metrics, PrometheusError> {
        Ok(Metrics {
            finalized: register(Gauge::new("tessera_worker_finalized_block", "Latest finalized block processed")?, registry)?,
            submitted: register(
                CounterVec::new(Opts::new("tessera_worker_extrinsics_submitted_total", "Extrinsics submitted"), &["call"])?,
                registry,
            )?,
            failed: register(
                CounterVec::new(Opts::new("tessera_worker_extrinsics_failed_total", "Extrinsics refused or failed"), &["call"])?,
                registry,
            )?,
            executions: register(
                CounterVec::new(Opts::new("tessera_worker_executions_total", "Program executions"), &["status"])?,
                registry,
            )?,
            fuel: register(Counter::new("tessera_worker_fuel_used_total", "Fuel used by all executions")?, registry)?,
            paid: register(Counter::new("tessera_worker_paid_total", "Replica payments received (plancks)")?, registry)?,
            job_stage: register(
                GaugeVec::new(Opts::new("tessera_worker_job_stage", "Furthest stage of each job"), &["job", "stage"])?,
                registry,
            )?,
            job_fuel: register(
                GaugeVec::new(Opts::new("tessera_worker_job_fuel_used", "Fuel this worker's execution used"), &["job"])?,
                registry,
            )?,
            slashed: register(
                CounterVec::new(Opts::new("tessera_worker_slashed_total", "Times this worker was slashed"), &["reason"])?,
                registry,
            )?,
        })
    }

    /// Marks `job` as having reached `stage`.
    pub fn stage(&self, job: u64, stage: &str) {
        let id = job.to_string();
        for s in STAGES {
            let _ = self.job_stage.remove_label_values(&[&id, s]);
        }
        self.job_stage.with_label_values(&[&id, stage]).set(1);
    }
}
