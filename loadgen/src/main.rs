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
    let reports = loadgen::run::run(&config)
        .await
        .context("the load run failed")?;
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
