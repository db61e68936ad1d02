//! `loadgen`: loads a signaling server with agents and experts; see `loadgen --help`.

use anyhow::{bail, Context};
use clap::Parser;
use loadgen::LoadConfig;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = LoadConfig::parse();
    let started = std::time::Instant::now();
    // Interrupted, the run is dropped, and with it the server it started.
    let reports = tokio::select! {
        reports = loadgen::run::run(&config) => reports.context("the load run failed")?,
        _ = interrupted() => bail!("interrupted; the server this run started was stopped"),
    };
    println!("{}", loadgen::run::markdown(&reports));
    println!(
        "Each pair exchanged an SDP offer (a {}-byte frame) and its answer every {} s; total run time {:.0} s.",
        loadgen::client::offer_frame_len(),
        config.interval_secs,
        started.elapsed().as_secs_f64()
    );
    let incomplete: Vec<usize> = reports
        .iter()
        .filter(|r| !r.complete())
        .map(|r| r.agents)
        .collect();
    if !incomplete.is_empty() {
        bail!("not every session opened, relayed every message and stayed connected with {incomplete:?} agents");
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn interrupted() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        Ok(()) = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
}
