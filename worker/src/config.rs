//! `tessera-worker` configuration: a TOML file, environment variables and flags, in rising
//! precedence (a flag beats its environment variable, which beats the file).
//!
//! ```toml
//! nodes = ["ws://127.0.0.1:9944", "ws://10.0.0.2:9944"]  # tried in order; the next on failure
//! suri = "//Bob"                 # or set TESSERA_SURI; never commit a real secret
//! data_dir = "/var/lib/tessera-worker"
//! metrics = "127.0.0.1:9616"
//! audit = true
//! max_fuel = 50000000000
//! execute_first_fuel = 10000000000  # execute, then claim and commit in one block, up to this fuel limit
//! wall_clock_secs = 120
//! log_format = "json"            # or "text"
//!
//! [register]                     # register and stake on start if not registered yet
//! stake = "2000"                 # TSR
//! capacity = 4
//! price_per_fuel = "0.000000001" # TSR
//! region = "eu-west"             # optional: jobs may require a region
//! labels = ["gpu"]               # optional: jobs may require labels
//! ```

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::Parser;
use serde::Deserialize;
use tessera_client::parse_tsr;

use crate::worker::{Registration, Settings};

/// Default of `--execute-first-fuel`: ten blocks' worth of the runtime's `FuelPerBlock`.
pub const DEFAULT_EXECUTE_FIRST_FUEL: u64 = 10_000_000_000;

/// Command-line flags (each also readable from its environment variable).
#[derive(Parser, Debug, Default)]
#[command(name = "tessera-worker", version, about = "Tessera provider worker: claims jobs, executes them, commits, reveals, audits and votes.")]
pub struct Flags {
    /// TOML configuration file.
    #[arg(long, short, env = "TESSERA_WORKER_CONFIG")]
    pub config: Option<PathBuf>,
    /// A node's WebSocket JSON-RPC endpoint; repeat (or separate with commas) for fail-over:
    /// the worker uses the first that answers and moves to the next when it stops answering.
    #[arg(long = "node", env = "TESSERA_NODE", value_delimiter = ',')]
    pub nodes: Vec<String>,
    /// The provider key's secret URI (dev name like //Bob, mnemonic, or 0x seed).
    #[arg(long, env = "TESSERA_SURI", hide_env_values = true)]
    pub suri: Option<String>,
    /// Directory of the worker's database.
    #[arg(long, env = "TESSERA_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:9616).
    #[arg(long, env = "TESSERA_METRICS")]
    pub metrics: Option<SocketAddr>,
    /// Register with this stake (TSR) on start if not registered yet.
    #[arg(long, env = "TESSERA_REGISTER_STAKE")]
    pub register_stake: Option<String>,
    /// Capacity to register with.
    #[arg(long, env = "TESSERA_REGISTER_CAPACITY")]
    pub register_capacity: Option<u32>,
    /// Price per fuel (TSR) to register with.
    #[arg(long, env = "TESSERA_REGISTER_PRICE")]
    pub register_price: Option<String>,
    /// Region to register with (jobs may require one), e.g. eu-west.
    #[arg(long, env = "TESSERA_REGISTER_REGION")]
    pub register_region: Option<String>,
    /// A label to register with (jobs may require labels); repeat or separate with commas.
    #[arg(long = "register-label", env = "TESSERA_REGISTER_LABELS", value_delimiter = ',')]
    pub register_labels: Vec<String>,
    /// Audit other providers' agreed results and challenge wrong ones (true/false).
    #[arg(long, env = "TESSERA_AUDIT")]
    pub audit: Option<bool>,
    /// Skip jobs whose fuel limit is above this.
    #[arg(long, env = "TESSERA_MAX_FUEL")]
    pub max_fuel: Option<u64>,
    /// Jobs with at most this fuel limit are executed before they are claimed, then claimed
    /// and committed in one transaction (`utility.batch_all`), which saves a block per job;
    /// larger jobs are claimed first (an execution lost to a faster claimer is wasted). 0: always
    /// claim first. Default 10,000,000,000 (ten blocks' worth of the protocol's FuelPerBlock).
    #[arg(long, env = "TESSERA_EXECUTE_FIRST_FUEL")]
    pub execute_first_fuel: Option<u64>,
    /// Wall-clock cap of one execution, in seconds.
    #[arg(long, env = "TESSERA_WALL_CLOCK_SECS")]
    pub wall_clock_secs: Option<u64>,
    /// Log format: text or json.
    #[arg(long, env = "TESSERA_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// TEST ONLY (built with the `test-hooks` feature): commit to forged outputs, so end-to-end
    /// tests can show a liar caught and slashed.
    #[cfg(feature = "test-hooks")]
    #[arg(long, hide = true)]
    pub dishonest_for_tests: bool,
    /// TEST ONLY (`test-hooks`): commit but never reveal, so tests can show the missed reveal
    /// penalised.
    #[cfg(feature = "test-hooks")]
    #[arg(long, hide = true)]
    pub withhold_reveals_for_tests: bool,
}

/// The file's contents.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub nodes: Option<Vec<String>>,
    pub suri: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub metrics: Option<SocketAddr>,
    pub audit: Option<bool>,
    pub max_fuel: Option<u64>,
    pub execute_first_fuel: Option<u64>,
    pub wall_clock_secs: Option<u64>,
    pub log_format: Option<String>,
    pub register: Option<FileRegistration>,
}

/// `[register]` in the file.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct FileRegistration {
    pub stake: String,
    pub capacity: u32,
    pub price_per_fuel: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub labels: Vec<String>,
}

/// The merged configuration.
#[derive(Debug)]
pub struct Config {
    pub settings: Settings,
    pub suri: String,
    pub metrics: Option<SocketAddr>,
    pub json_logs: bool,
}

impl Config {
    /// Merges flags (with their environment variables) over the file named by `--config`.
    pub fn load(flags: Flags) -> Result<Config, String> {
        #[cfg(feature = "test-hooks")]
        let dishonest = flags.dishonest_for_tests;
        #[cfg(feature = "test-hooks")]
        let withhold_reveals = flags.withhold_reveals_for_tests;
        let file: File = match &flags.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
                toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
            },
            None => File::default(),
        };
        let suri = flags.suri.or(file.suri).ok_or("no provider key: pass --suri or set TESSERA_SURI")?;
        let (region, labels) = (flags.register_region, flags.register_labels);
        let register = match (flags.register_stake, file.register) {
            (Some(stake), file_reg) => Some(Registration {
                stake: parse_tsr(&stake)?,
                capacity: flags.register_capacity.or(file_reg.as_ref().map(|r| r.capacity)).unwrap_or(1),
                price_per_fuel: match flags.register_price.or(file_reg.as_ref().map(|r| r.price_per_fuel.clone())) {
                    Some(p) => parse_tsr(&p)?,
                    None => 1,
                },
                region: region.or(file_reg.as_ref().map(|r| r.region.clone())).unwrap_or_default(),
                labels: if labels.is_empty() { file_reg.map(|r| r.labels).unwrap_or_default() } else { labels },
            }),
            (None, Some(r)) => Some(Registration {
                stake: parse_tsr(&r.stake)?,
                capacity: flags.register_capacity.unwrap_or(r.capacity),
                price_per_fuel: parse_tsr(&flags.register_price.unwrap_or(r.price_per_fuel))?,
                region: region.unwrap_or(r.region),
                labels: if labels.is_empty() { r.labels } else { labels },
            }),
            (None, None) => None,
        };
        let log_format = flags.log_format.or(file.log_format).unwrap_or_else(|| "text".into());
        if log_format != "text" && log_format != "json" {
            return Err(format!("log format must be text or json, not {log_format}"));
        }
        let data_dir = flags
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| std::env::var_os("HOME").map_or(PathBuf::from("."), PathBuf::from).join(".local/share/tessera-worker"));
        Ok(Config {
            settings: Settings {
                nodes: if !flags.nodes.is_empty() {
                    flags.nodes
                } else {
                    file.nodes.filter(|n| !n.is_empty()).unwrap_or_else(|| vec!["ws://127.0.0.1:9944".into()])
                },
                data_dir,
                register,
                audit: flags.audit.or(file.audit).unwrap_or(true),
                max_fuel: flags.max_fuel.or(file.max_fuel).unwrap_or(u64::MAX),
                execute_first_fuel: flags.execute_first_fuel.or(file.execute_first_fuel).unwrap_or(DEFAULT_EXECUTE_FIRST_FUEL),
                wall_clock: Duration::from_secs(flags.wall_clock_secs.or(file.wall_clock_secs).unwrap_or(120)),
                fetch: crate::fetch::FetchConfig::default(),
                #[cfg(feature = "test-hooks")]
                dishonest,
                #[cfg(feature = "test-hooks")]
                withhold_reveals,
            },
            suri,
            metrics: flags.metrics.or(file.metrics),
            json_logs: log_format == "json",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("worker.toml");
        std::fs::write(
            &path,
            "nodes = [\"ws://file:1\"]\nsuri = \"//Bob\"\naudit = false\n[register]\nstake = \"10\"\ncapacity = 2\nprice_per_fuel = \"0.000000000002\"\nregion = \"eu-west\"\nlabels = [\"gpu\"]\n",
        )
        .expect("write");
        let flags = Flags { config: Some(path.clone()), nodes: vec!["ws://flag:2".into(), "ws://flag:3".into()], register_capacity: Some(5), register_labels: vec!["gpu".into(), "sgx".into()], ..Default::default() };
        let config = Config::load(flags).expect("loads");
        assert_eq!(config.settings.nodes, ["ws://flag:2", "ws://flag:3"]);
        assert_eq!(config.suri, "//Bob");
        assert!(!config.settings.audit);
        let r = config.settings.register.expect("registers");
        assert_eq!((r.stake, r.capacity, r.price_per_fuel), (10 * tessera_client::UNIT, 5, 2));
        assert_eq!((r.region.as_str(), r.labels), ("eu-west", vec!["gpu".to_owned(), "sgx".to_owned()]), "flag labels replace the file's");

        std::fs::write(&path, "node = \"ws://x:1\"\n").expect("write");
        let err = Config::load(Flags { config: Some(path), suri: Some("//Bob".into()), ..Default::default() }).unwrap_err();
        assert!(err.contains("unknown field"), "{err}");
    }
}
