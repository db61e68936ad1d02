//! The live view over shaped links, measured: the whole product across a router that limits
//! the rate, delays and drops packets (`tests::netns::shaping`), with a terminal printing 300
//! lines a second on the novice's 1280x720 screen (`tests::shaping`).
//!
//!   cargo build --release -p tests --bin delay_line
//!   cargo run --release -p tests --bin bench-shaped-links -- [--window-secs 20] [--clicks 20]
//!
//! Three links: 500 kbit/s with 100 ms round trip and 2 % loss; 1 Mbit/s with 80 ms and 1 %;
//! and 5 Mbit/s (40 ms, no loss) dropping to 600 kbit/s and coming back. For each it prints, as
//! Markdown tables:
//! * per phase: time from the novice's yes to the first picture, frames per second out of the
//!   expert's decoder, freezes (more than 500 ms without a new frame: how many, how long in
//!   all), what the agent offered the link against its rate (the router's count of the
//!   novice's UDP bytes) and what the router passed on, the rate limiter's drops, and the
//!   keyframes the agent sent (its `--trace-timings` trace);
//! * click-to-photon over the link (`click.rs` of the `bench` binary), after the busy phases:
//!   the desk it clicks on covers the terminal, so these clicks are on a still screen.
//!
//! Needs root, iproute2 and iptables, like the namespace tests. Progress goes to stderr.

// The `bench` binary's click-to-photon probe; the fields its latency budget reads stay unread
// here.
#[allow(dead_code)]
#[path = "click.rs"]
mod click;

use anyhow::{bail, Context, Result};
use clap::Parser;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tests::browser::Page;
use tests::console::{wait_dataset, WAIT};
use tests::netns::{LinkCounters, LinkProfile, Network, ShapedLink};
use tests::shaping::{epoch_ms, freezes, ShapedSession, SCREEN};
use tests::stack::{AgentProcess, ScratchDir};
use tests::xvfb::Xvfb;

/// A stretch longer than this without a new frame is a freeze.
const FREEZE: Duration = Duration::from_millis(500);

#[derive(Debug, Parser)]
#[command(about = "First picture, frame rate, freezes, bitrate and latency over shaped links")]
struct Args {
    /// Seconds each link is watched for (the step's 600 kbit/s phase; the 5 Mbit/s phases
    /// around it take half as long each).
    #[arg(long, default_value_t = 20)]
    window_secs: u64,
    /// Clicks per link for the click-to-photon measurement (0 leaves it out).
    #[arg(long, default_value_t = 20)]
    clicks: usize,
    /// The delay line program; by default `delay_line` beside this program.
    #[arg(long, value_name = "PATH")]
    delay_line: Option<PathBuf>,
    /// Measure these links instead of the three standard ones: RATE_KBIT/RTT_MS/LOSS_PERCENT,
    /// such as `500/100/2`; repeat for more.
    #[arg(long, value_name = "LINK", value_parser = parse_link)]
    link: Vec<LinkProfile>,
}

/// Parses `RATE_KBIT/RTT_MS/LOSS_PERCENT`.
fn parse_link(text: &str) -> Result<LinkProfile, String> {
    let parts: Vec<&str> = text.split('/').collect();
    let [rate, rtt, loss] = parts[..] else {
        return Err(format!("{text:?} is not RATE_KBIT/RTT_MS/LOSS_PERCENT"));
    };
    let number = |v: &str| v.parse::<f64>().map_err(|e| format!("{text:?}: {e}"));
    Ok(LinkProfile {
        rate_kbit: Some(number(rate)? as u32),
        delay_ms: (number(rtt)? / 2.0) as u32,
        loss: number(loss)? / 100.0,
    })
}

/// The part of a session that `click.rs` drives.
pub struct Stack {
    pub size: (u32, u32),
    pub xvfb: Xvfb,
    pub page: Page,
}

/// The `p`th percentile of `values`, NaN when there are none (it prints as such).
pub fn percentile(values: &[f64], p: f64) -> f64 {
    tests::measure::percentile(values, p).unwrap_or(f64::NAN)
}

/// One link to measure: its name and phases (profile, share of the window).
struct Scenario {
    name: String,
    phases: Vec<(LinkProfile, f64)>,
}

fn scenarios() -> Vec<Scenario> {
    let at = |rate_kbit, delay_ms, loss| LinkProfile {
        rate_kbit: Some(rate_kbit),
        delay_ms,
        loss,
    };
    vec![
        Scenario {
            name: "500 kbit/s, 100 ms, 2 % loss".into(),
            phases: vec![(at(500, 50, 0.02), 1.0)],
        },
        Scenario {
            name: "1 Mbit/s, 80 ms, 1 % loss".into(),
            phases: vec![(at(1000, 40, 0.01), 1.0)],
        },
        Scenario {
            name: "step 5 Mbit/s → 600 kbit/s → 5 Mbit/s".into(),
            phases: vec![
                (at(5000, 20, 0.0), 0.5),
                (at(600, 20, 0.0), 1.0),
                (at(5000, 20, 0.0), 0.5),
            ],
        },
    ]
}

/// What one phase showed.
struct Phase {
    profile: LinkProfile,
    length: Duration,
    frames: usize,
    freezes: Vec<Duration>,
    start: LinkCounters,
    end: LinkCounters,
    keyframes: usize,
    frames_sent: usize,
}

struct Report {
    name: String,
    first_picture: Duration,
    phases: Vec<Phase>,
    clicks: Option<click::Run>,
}

/// Everything of a session but what [`Stack`] holds.
struct Rest {
    agent: AgentProcess,
    link: ShapedLink,
    _browser: tests::browser::Browser,
    _server: tests::stack::ServerProcess,
    _network: Network,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    let delay_line = match args.delay_line {
        Some(path) => path,
        None => std::env::current_exe()?
            .parent()
            .context("this program's directory")?
            .join("delay_line"),
    };
    if !delay_line.exists() {
        bail!(
            "{} is missing: build it first (cargo build --release -p tests --bin delay_line)",
            delay_line.display()
        );
    }
    let window = Duration::from_secs(args.window_secs);
    let mut reports = Vec::new();
    let scenarios = if args.link.is_empty() {
        scenarios()
    } else {
        args.link
            .iter()
            .map(|&profile| Scenario {
                name: profile.to_string(),
                phases: vec![(profile, 1.0)],
            })
            .collect()
    };
    for scenario in scenarios {
        eprintln!("{}: starting the product across the link", scenario.name);
        reports.push(
            measure(&scenario, &delay_line, window, args.clicks)
                .await
                .with_context(|| format!("measuring {}", scenario.name))?,
        );
    }
    print(&reports);
    Ok(())
}

async fn measure(
    scenario: &Scenario,
    delay_line: &Path,
    window: Duration,
    clicks: usize,
) -> Result<Report> {
    let network = match Network::create()? {
        Ok(network) => network,
        Err(reason) => bail!("{reason}: the links are shaped in network namespaces"),
    };
    let scratch = ScratchDir::new("bench-shaped")?;
    let trace = scratch.path().join("trace.csv");
    let trace_arg = trace.to_string_lossy().into_owned();
    let first = scenario.phases.first().context("a scenario has phases")?.0;
    let session =
        ShapedSession::start(network, delay_line, first, &["--trace-timings", &trace_arg]).await?;
    let first_picture = session.first_picture;
    eprintln!("  first picture after {:.1} s", first_picture.as_secs_f64());
    let ShapedSession {
        page,
        agent,
        link,
        xvfb,
        browser,
        server,
        network,
        ..
    } = session;
    let stack = Stack {
        size: SCREEN,
        xvfb,
        page,
    };
    let mut rest = Rest {
        agent,
        link,
        _browser: browser,
        _server: server,
        _network: network,
    };

    let mut phases = Vec::new();
    for &(profile, share) in &scenario.phases {
        rest.link.set(profile)?;
        let length = window.mul_f64(share);
        eprintln!("  {profile} for {:.0} s", length.as_secs_f64());
        let start = rest.link.counters()?;
        let from = epoch_ms();
        tokio::time::sleep(length).await;
        let to = epoch_ms();
        let end = rest.link.counters()?;
        let shown = frames_shown(&stack.page, from, to).await?;
        let (keyframes, frames_sent) = sent_between(&trace, from, to)?;
        phases.push(Phase {
            profile,
            length: Duration::from_secs_f64((to - from) / 1000.0),
            frames: shown.len(),
            freezes: freezes(&shown, from, to, FREEZE),
            start,
            end,
            keyframes,
            frames_sent,
        });
    }

    let clicks = if clicks >= 1 {
        eprintln!("  {clicks} clicks");
        stack.page.click("#control").await?;
        rest.agent
            .expect_line("wants to control your computer", WAIT)
            .await?;
        rest.agent.type_line("y").await?;
        wait_dataset(&stack.page, "control", "granted").await?;
        Some(click::measure(&stack, clicks).await?)
    } else {
        None
    };
    Ok(Report {
        name: scenario.name.clone(),
        first_picture,
        phases,
        clicks,
    })
}

/// When each frame between `from` and `to` (ms since the Unix epoch) left the decoder.
async fn frames_shown(page: &Page, from: f64, to: f64) -> Result<Vec<f64>> {
    let shown = page
        .eval(&format!(
            "window.shownAt.filter((t) => t >= {from} && t <= {to})"
        ))
        .await?;
    Ok(shown
        .as_array()
        .context("the frame probe's times")?
        .iter()
        .filter_map(|t| t.as_f64())
        .collect())
}

/// Keyframes and all frames (a still screen's repeats left out) the agent's trace says it
/// sent between `from` and `to` (ms since the Unix epoch).
fn sent_between(trace: &Path, from: f64, to: f64) -> Result<(usize, usize)> {
    let text = std::fs::read_to_string(trace)
        .with_context(|| format!("reading the agent's trace {}", trace.display()))?;
    let (mut keyframes, mut frames) = (0, 0);
    // frame,capture_start,captured,converted,encoded,sent,bytes,keyframe,repeat
    for fields in text
        .lines()
        .filter(|l| l.starts_with("frame,"))
        .map(|l| l.split(',').collect::<Vec<_>>())
    {
        let sent = fields
            .get(5)
            .and_then(|f| f.parse::<f64>().ok())
            .map(|us| us / 1000.0);
        if !sent.is_some_and(|t| (from..=to).contains(&t)) || fields.get(8) == Some(&"1") {
            continue;
        }
        frames += 1;
        if fields.get(7) == Some(&"1") {
            keyframes += 1;
        }
    }
    Ok((keyframes, frames))
}

fn print(reports: &[Report]) {
    println!(
        "Live view over shaped links, {}x{} terminal printing 300 lines/s. First picture: from \
         the novice's yes to the first decoded frame. Freezes: over {} ms without a new frame. \
         Offered: the novice's UDP as the router counted it; passed: what the rate limiter let \
         through towards the expert.",
        SCREEN.0,
        SCREEN.1,
        FREEZE.as_millis()
    );
    for report in reports {
        println!();
        println!(
            "{} (first picture {:.1} s):",
            report.name,
            report.first_picture.as_secs_f64()
        );
        println!();
        println!(
            "| link | s | fps | freezes | frozen s | offered kbit/s | passed kbit/s | offered / rate | limiter drops | frames sent | keyframes |"
        );
        println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for p in &report.phases {
            let secs = p.length.as_secs_f64();
            let kbit = |bytes: u64| bytes as f64 * 8.0 / 1000.0 / secs;
            let offered = kbit(p.end.offered_udp_bytes - p.start.offered_udp_bytes);
            let rate = p.profile.rate_kbit.map_or(f64::NAN, f64::from);
            println!(
                "| {} | {:.0} | {:.1} | {} | {:.1} | {:.0} | {:.0} | {:.2} | {} | {} | {} |",
                p.profile,
                secs,
                p.frames as f64 / secs,
                p.freezes.len(),
                p.freezes.iter().fold(0.0, |all, f| all + f.as_secs_f64()),
                offered,
                kbit(p.end.sent_bytes - p.start.sent_bytes),
                offered / rate,
                p.end.dropped_packets - p.start.dropped_packets,
                p.frames_sent,
                p.keyframes,
            );
        }
        if let Some(run) = &report.clicks {
            println!();
            click::print(std::slice::from_ref(run));
        }
    }
}
