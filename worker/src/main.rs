//! `tessera-worker`: the provider daemon. See docs/PROVIDER.md.

use anyhow::Context;
use clap::Parser;
use tessera_client::Signer;
use tessera_worker::{
    config::{Config, Flags},
    metrics::Metrics,
    worker::Worker,
};
use tracing::{error, info};

fn main() -> std::process::ExitCode {
    // A sandbox child runs one execution and exits, without the daemon's runtime.
    if std::env::args_os().nth(1).is_some_and(|a| a == tessera_worker::worker::SANDBOX_ARG) {
        return tessera_executor::sandbox::serve();
    }
    let config = match Config::load(Flags::parse()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        },
    };
    match daemon(config) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            error!("{e:#}");
            std::process::ExitCode::FAILURE
        },
    }
}

#[tokio::main]
async fn daemon(config: Config) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if config.json_logs {
        tracing_subscriber::fmt().json().with_env_filter(filter).init();
    } else {
        // Colours only on a terminal: a log file or journald gets plain text.
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
        tracing_subscriber::fmt().with_ansi(ansi).with_env_filter(filter).init();
    }
    let signer = Signer::from_suri(&config.suri).context("the provider key (--suri)")?;
    let registry = prometheus_endpoint::Registry::new_custom(None, None).context("the metrics registry")?;
    let metrics = Metrics::register(&registry).context("registering metrics")?;
    if let Some(addr) = config.metrics {
        info!(%addr, "serving Prometheus metrics on /metrics");
        tokio::spawn(async move {
            if let Err(e) = prometheus_endpoint::init_prometheus(addr, registry).await {
                error!(error = %e, "metrics server stopped");
            }
        });
    }
    let worker = Worker::new(config.settings, signer, metrics).context("starting the worker")?;
    // SIGINT or SIGTERM: finish the current block's work, then stop. Everything durable is
    // already in the database.
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("signal handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
        info!("shutting down");
    };
    worker.run(shutdown).await;
    Ok(())
}
