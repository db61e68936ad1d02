//! Click-to-photon: the expert clicks on the novice's desktop (`tests/assets/desk.py`, whose
//! background changes colour on every left click) and the page times the first decoded frame
//! that shows the new colour where the click was.
//!
//! The page takes the time of the `pointerdown` event, then checks every decoded frame in a
//! `requestVideoFrameCallback` (drawn to a canvas, sampled at the click) until the colour
//! changed; the latency runs from the click until that callback ran (`performance.now()` in
//! it: the frame has been decoded and handed to the compositor by then). The callback's `now`
//! argument is not used: it is the start of the rendering frame, which in headless Chromium
//! can lie before the video frame even arrived. The frame's receive time feeds the budget.

use anyhow::{Context, Result};
use std::time::Duration;
use tests::console::page_point;
use tests::tk::TkProgram;

use crate::{percentile, Stack};

/// Where the bench clicks: on the desk's background, away from its text field.
const SPOT: (u32, u32) = (200, 150);

/// Installed in the console page: timestamps clicks and finds the first frame showing the
/// change. Times are milliseconds since the Unix epoch, like the agent's trace.
const PROBE: &str = r#"(() => {
  const video = document.getElementById("video");
  const screen = document.getElementById("screen");
  const canvas = document.createElement("canvas");
  canvas.width = 1; canvas.height = 1;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const epoch = (t) => performance.timeOrigin + t;
  const probe = { spot: [0, 0], click: null, sent: null, before: null, results: [] };
  // When the console hands the button press to the data channel.
  const send = RTCDataChannel.prototype.send;
  RTCDataChannel.prototype.send = function (data) {
    if (probe.click !== null && probe.sent === null && String(data).includes('"down":true')) {
      probe.sent = epoch(performance.now());
    }
    return send.call(this, data);
  };
  const brightness = () => {
    ctx.drawImage(video, probe.spot[0], probe.spot[1], 1, 1, 0, 0, 1, 1);
    const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
    return (r + g + b) / 3;
  };
  // The colour at the spot as of the latest frame: sampled in the frame callback, so that the
  // click's own handler stays as quick as the console's.
  let last = null;
  screen.addEventListener("pointerdown", (e) => {
    probe.before = last ?? brightness();
    probe.click = epoch(e.timeStamp);
    probe.sent = null;
  }, { capture: true });
  const onFrame = (now, meta) => {
    const ran = performance.now();
    const seen = brightness();
    if (probe.click !== null && Math.abs(seen - probe.before) > 60) {
      probe.results.push({
        click: probe.click,
        sent: probe.sent,
        shown: epoch(ran),
        received: meta.receiveTime === undefined ? null : epoch(meta.receiveTime),
        vsync: epoch(now),
        presented: epoch(meta.presentationTime),
        expected: epoch(meta.expectedDisplayTime),
      });
      probe.click = null;
    }
    last = seen;
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  window.clickProbe = probe;
  return true;
})()"#;

/// One click that showed on the video, in milliseconds since the Unix epoch.
#[derive(Clone, Debug)]
pub struct Shown {
    pub click: f64,
    /// When the console sent the button press on the data channel, if it did.
    pub sent: Option<f64>,
    /// When the frame callback ran: the page has the frame.
    pub shown: f64,
    /// When the browser handed the frame to the compositor (`presentationTime`).
    pub presented: f64,
    /// When the frame's last packet arrived, if the browser says.
    pub received: Option<f64>,
    /// Everything the page recorded, for `--keep-traces`.
    pub raw: serde_json::Value,
}

pub struct Run {
    pub size: (u32, u32),
    pub clicks: usize,
    pub shown: Vec<Shown>,
}

pub async fn measure(stack: &Stack, clicks: usize) -> Result<Run> {
    let page = &stack.page;
    let mut desk = TkProgram::start(&stack.xvfb, "desk.py").await?;
    page.eval(PROBE).await?;
    page.eval(&format!(
        "window.clickProbe.spot = [{}, {}]",
        SPOT.0, SPOT.1
    ))
    .await?;

    for i in 0..clicks {
        let done = page
            .eval("window.clickProbe.results.length")
            .await?
            .as_u64()
            .unwrap_or(0);
        let (x, y) = page_point(page, SPOT.0, SPOT.1).await?;
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
            page.eval("window.clickProbe.click = null").await?;
        }
        // Spread the clicks over the frame interval so they do not all fall on one phase.
        tokio::time::sleep(Duration::from_millis(250 + (i as u64 * 37) % 100)).await;
    }
    let shown = page
        .eval("window.clickProbe.results")
        .await?
        .as_array()
        .context("no results from the page")?
        .iter()
        .filter_map(|r| {
            Some(Shown {
                click: r["click"].as_f64()?,
                sent: r["sent"].as_f64(),
                shown: r["shown"].as_f64()?,
                presented: r["presented"].as_f64()?,
                received: r["received"].as_f64(),
                raw: r.clone(),
            })
        })
        .collect();
    Ok(Run {
        size: stack.size,
        clicks,
        shown,
    })
}

pub fn print(runs: &[Run]) {
    println!(
        "Click-to-photon latency, ms from the click in the console to the first frame showing \
         it: handed to the compositor (presented) and seen by the page's frame callback:"
    );
    println!();
    println!(
        "| screen | clicks | shown | presented p50 | presented p95 | callback p50 | callback p95 | max |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for run in runs {
        let presented: Vec<f64> = run.shown.iter().map(|s| s.presented - s.click).collect();
        let callback: Vec<f64> = run.shown.iter().map(|s| s.shown - s.click).collect();
        println!(
            "| {}x{} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            run.size.0,
            run.size.1,
            run.clicks,
            callback.len(),
            percentile(&presented, 50.0),
            percentile(&presented, 95.0),
            percentile(&callback, 50.0),
            percentile(&callback, 95.0),
            percentile(&callback, 100.0),
        );
    }
}
