//! `tessera-worker`: the provider daemon. See docs/PROVIDER.md.

use clap::Parser;
use tessera_worker::{
    client::Signer,
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
    daemon();
    std::process::ExitCode::SUCCESS
}

#[tokio::main]
async fn daemon() {
    let config = match Config::load(Flags::parse()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        },
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if config.json_logs {
        tracing_subscriber::fmt().json().with_env_filter(filter).init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let signer = match Signer::from_suri(&config.suri) {
        Ok(s) => s,
        Err(e) => {
            error!("{e}");
            std::process::exit(2);
        },
    };
    let registry = prometheus_endpoint::Registry::new_custom(None, None).expect("no prefix or labels; qed");
    let metrics = match Metrics::register(&registry) {
        Ok(m) => m,
        Err(e) => {
            error!(error = %e, "registering metrics failed");
            std::process::exit(1);
        },
    };
    if let Some(addr) = config.metrics {
        info!(%addr, "serving Prometheus metrics on /metrics");
        tokio::spawn(async move {
            if let Err(e) = prometheus_endpoint::init_prometheus(addr, registry).await {
                error!(error = %e, "metrics server stopped");
            }
        });
    }
    let worker = match Worker::new(config.settings, signer, metrics) {
        Ok(w) => w,
        Err(e) => {
            error!(error = %e, "starting the worker failed");
            std::process::exit(1);
        },
    };
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
}
