//! The product's performance, measured end to end: the signaling server and the agent as
//! release processes, the novice's desktop on Xvfb, the expert's console in headless Chromium.
//!
//!   cargo run --release -p tests --bin bench -- [--clicks 40] [--sizes 1280x720,1920x1080]
//!
//! For each screen size it prints, as Markdown tables:
//! * click-to-photon latency: from the expert's click in the console until a decoded video
//!   frame shows what the click did (`click`);
//! * where that time goes, from the agent's timing trace and the browser's frame metadata
//!   (`budget`);
//! * frames per second delivered, bitrate, agent CPU and memory for a static desktop, typing
//!   in a terminal and a terminal scrolling a long text (`workloads`).
//!
//! Progress goes to stderr. Every number comes from real processes on this machine: run it
//! on an otherwise idle machine and quote medians.

mod budget;
mod click;
mod workloads;

use anyhow::{bail, Context, Result};
use clap::Parser;
use std::time::Duration;
use tests::browser::{Browser, Page};
use tests::console::{join_live, start_agent, wait_dataset, WAIT};
use tests::measure::parse_sizes;
use tests::stack::{AgentProcess, ScratchDir, ServerProcess};
use tests::xvfb::Xvfb;

#[derive(Debug, Parser)]
#[command(about = "End-to-end latency, frame rate, bitrate and agent cost of the product")]
struct Args {
    /// Clicks per screen size for the click-to-photon measurement (at least 2).
    #[arg(long, default_value_t = 40)]
    clicks: usize,
    /// Screen sizes to measure, WIDTHxHEIGHT separated by commas.
    #[arg(long, default_value = "1280x720,1920x1080", value_parser = |t: &str| parse_sizes(t).map(Sizes))]
    sizes: Sizes,
    /// Seconds each workload is measured for.
    #[arg(long, default_value_t = 10)]
    workload_secs: u64,
    /// Keep the agent's timing traces in this directory (one CSV per screen size).
    #[arg(long, value_name = "DIR")]
    keep_traces: Option<std::path::PathBuf>,
}

#[derive(Clone, Debug)]
struct Sizes(Vec<(u32, u32)>);

/// One screen size with the whole product running on it: a session is live and the expert
/// has control.
pub struct Stack {
    pub size: (u32, u32),
    pub xvfb: Xvfb,
    pub server: ServerProcess,
    pub agent: AgentProcess,
    pub page: Page,
    pub trace: std::path::PathBuf,
    pub scratch: ScratchDir,
    _browser: Browser,
}

impl Stack {
    async fn start(width: u32, height: u32) -> Result<Stack> {
        let xvfb = Xvfb::start(width, height)?;
        let scratch = ScratchDir::new("bench")?;
        let trace = scratch.path().join("trace.csv");
        let server = ServerProcess::start().await?;
        let trace_arg = trace.to_string_lossy().into_owned();
        let mut agent = start_agent(&server, &xvfb, &["--trace-timings", &trace_arg]).await?;
        let (browser, page) = join_live(&mut agent, "Bench", width).await?;
        page.click("#control").await?;
        agent
            .expect_line("wants to control your computer", WAIT)
            .await?;
        agent.type_line("y").await?;
        wait_dataset(&page, "control", "granted").await?;
        Ok(Stack {
            size: (width, height),
            xvfb,
            server,
            agent,
            page,
            trace,
            scratch,
            _browser: browser,
        })
    }
}

/// The `p`th percentile of `values`, NaN when there are none (it prints as such).
pub fn percentile(values: &[f64], p: f64) -> f64 {
    tests::measure::percentile(values, p).unwrap_or(f64::NAN)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.clicks < 2 {
        bail!("--clicks must be at least 2");
    }
    let mut clicks = Vec::new();
    let mut budgets = Vec::new();
    let mut loads = Vec::new();
    for &(width, height) in &args.sizes.0 {
        eprintln!("{width}x{height}: starting the server, the agent and the browser");
        let mut stack = Stack::start(width, height)
            .await
            .with_context(|| format!("starting the product at {width}x{height}"))?;
        eprintln!("{width}x{height}: {} clicks", args.clicks);
        let run = click::measure(&stack, args.clicks).await?;
        budgets.push(budget::Budget::from_trace(stack.size, &run, &stack.trace)?);
        for workload in workloads::Workload::ALL {
            eprintln!(
                "{width}x{height}: {} for {}s",
                workload.name(),
                args.workload_secs
            );
            loads.push(
                workloads::measure(
                    &mut stack,
                    workload,
                    Duration::from_secs(args.workload_secs),
                )
                .await?,
            );
        }
        if let Some(dir) = &args.keep_traces {
            std::fs::create_dir_all(dir)?;
            let kept = dir.join(format!("agent-trace-{width}x{height}.csv"));
            std::fs::copy(&stack.trace, &kept)
                .with_context(|| format!("keeping the trace as {}", kept.display()))?;
            let shown = run.shown.iter().map(|s| &s.raw).cloned();
            std::fs::write(
                dir.join(format!("clicks-{width}x{height}.json")),
                serde_json::Value::from_iter(shown).to_string(),
            )?;
        }
        clicks.push(run);
        stack.server.stop().await;
    }
    click::print(&clicks);
    println!();
    budget::print(&budgets);
    println!();
    workloads::print(&loads);
    Ok(())
}
