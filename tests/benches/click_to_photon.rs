//! Click-to-photon latency: how long from the expert's click in the console until the video in
//! the console shows what the click did on the novice's desktop.
//!
//! The whole product runs for real: Xvfb with `tests/assets/desk.py` (its background changes
//! colour on every left click), the signaling server and the agent as release processes, and
//! headless Chromium as the expert with control granted. For each click the page takes the
//! time of the `pointerdown` event, then checks every decoded frame in a
//! `requestVideoFrameCallback` (drawn to a canvas, sampled where the click was) until the
//! colour changed; the latency is the frame callback's time minus the click's.
//!
//!   cargo bench -p tests --bench click_to_photon
//!
//! Environment: `BENCH_CLICKS` (default 40), `BENCH_SIZES` (default `1280x720`, e.g.
//! `1280x720,1920x1080`). Prints a Markdown table.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::time::Duration;
use tests::browser::{Browser, Page};
use tests::console::{invitation_link, join, page_point, start_agent, wait_dataset, wait_state};
use tests::stack::ServerProcess;
use tests::tk::TkProgram;
use tests::xvfb::Xvfb;

/// Where the bench clicks: on the desk's background, away from its text field.
const SPOT: (u32, u32) = (200, 150);

/// Installed in the console page: timestamps clicks and finds the first frame showing the change.
const PROBE: &str = r#"(() => {
  const video = document.getElementById("video");
  const screen = document.getElementById("screen");
  const canvas = document.createElement("canvas");
  canvas.width = 1; canvas.height = 1;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const probe = { spot: [0, 0], clickedAt: null, before: null, results: [] };
  const brightness = () => {
    ctx.drawImage(video, probe.spot[0], probe.spot[1], 1, 1, 0, 0, 1, 1);
    const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
    return (r + g + b) / 3;
  };
  screen.addEventListener("pointerdown", (e) => {
    probe.before = brightness();
    probe.clickedAt = e.timeStamp;
  }, { capture: true });
  const onFrame = (now) => {
    if (probe.clickedAt !== null && Math.abs(brightness() - probe.before) > 60) {
      probe.results.push(now - probe.clickedAt);
      probe.clickedAt = null;
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  window.clickProbe = probe;
  return true;
})()"#;

struct Run {
    size: (u32, u32),
    latencies_ms: Vec<f64>,
    missed: usize,
}

async fn measure(width: u32, height: u32, clicks: usize) -> Result<Run> {
    let xvfb = Xvfb::start(width, height)?;
    let mut desk = TkProgram::start(&xvfb, "desk.py").await?;
    let server = ServerProcess::start().await?;
    let mut agent = start_agent(&server, &xvfb, &[]).await?;
    let link = invitation_link(&mut agent).await?;
    let browser = Browser::launch().await?;
    let page = browser.open(&link).await?;
    join(&page, "Bench", None).await?;
    agent
        .expect_line("wants to see your screen", tests::console::WAIT)
        .await?;
    agent.type_line("y").await?;
    wait_state(&page, "live").await?;
    page.wait_for(
        &format!(
            "document.getElementById('video').videoWidth === {width} && !document.getElementById('control').disabled"
        ),
        tests::console::WAIT,
        "the desktop video",
    )
    .await?;
    page.click("#control").await?;
    agent
        .expect_line("wants to control your computer", tests::console::WAIT)
        .await?;
    agent.type_line("y").await?;
    wait_dataset(&page, "control", "granted").await?;
    page.eval(PROBE).await?;
    page.eval(&format!(
        "window.clickProbe.spot = [{}, {}]",
        SPOT.0, SPOT.1
    ))
    .await?;

    let mut missed = 0;
    for i in 0..clicks {
        let done = results(&page).await?;
        let (x, y) = page_point(&page, SPOT.0, SPOT.1).await?;
        page.mouse("mouseMoved", x, y, "none", 0.0).await?;
        page.mouse("mousePressed", x, y, "left", 0.0).await?;
        page.mouse("mouseReleased", x, y, "left", 0.0).await?;
        desk.expect("press").await?;
        let waited = page
            .wait_for(
                &format!("window.clickProbe.results.length > {done}"),
                Duration::from_secs(5),
                "the click to show on the video",
            )
            .await;
        if waited.is_err() {
            missed += 1;
            page.eval("window.clickProbe.clickedAt = null").await?;
        }
        // Spread the clicks over the frame interval so they do not all fall on one phase.
        tokio::time::sleep(Duration::from_millis(250 + (i as u64 * 37) % 100)).await;
    }
    let latencies_ms = page
        .eval("window.clickProbe.results")
        .await?
        .as_array()
        .context("no results")?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    server.stop().await;
    Ok(Run {
        size: (width, height),
        latencies_ms,
        missed,
    })
}

async fn results(page: &Page) -> Result<usize> {
    Ok(page
        .eval("window.clickProbe.results.length")
        .await?
        .as_u64()
        .unwrap_or(0) as usize)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn parse_sizes(text: &str) -> Result<Vec<(u32, u32)>> {
    text.split(',')
        .map(|s| {
            let (w, h) = s
                .trim()
                .split_once('x')
                .with_context(|| format!("{s:?} is not WIDTHxHEIGHT"))?;
            Ok((w.parse()?, h.parse()?))
        })
        .collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let clicks: usize = std::env::var("BENCH_CLICKS")
        .ok()
        .map(|v| v.parse())
        .transpose()
        .context("BENCH_CLICKS")?
        .unwrap_or(40);
    let sizes = parse_sizes(&std::env::var("BENCH_SIZES").unwrap_or_else(|_| "1280x720".into()))?;
    if clicks < 2 {
        bail!("BENCH_CLICKS must be at least 2");
    }

    println!("| screen | clicks | shown | p50 ms | p95 ms | min ms | max ms |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (w, h) in sizes {
        let run = measure(w, h, clicks).await?;
        let mut sorted = run.latencies_ms.clone();
        sorted.sort_by(f64::total_cmp);
        println!(
            "| {}x{} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
            run.size.0,
            run.size.1,
            clicks,
            clicks - run.missed,
            percentile(&sorted, 50.0),
            percentile(&sorted, 95.0),
            sorted.first().copied().unwrap_or(f64::NAN),
            sorted.last().copied().unwrap_or(f64::NAN),
        );
    }
    Ok(())
}
