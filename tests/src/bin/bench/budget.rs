//! Where the milliseconds of a click go: the agent's timing trace (`--trace-timings`) lined up
//! with the page's timestamps. Both clocks are this machine's wall clock.
//!
//! For each click the page saw: the agent's first `button_down` input received after the
//! click, then the first grabbed frame (not a still screen's repeat) whose capture started
//! after that input (the desktop is otherwise still, so it is the frame with the change). A
//! click is left out when that frame left the agent after the browser says it received the
//! frame it showed: the application drew the change over two grabs, and the first one did
//! not reach the spot the page samples. Stages:
//! page handler (from the event's timestamp until the console sends it), data channel → agent,
//! agent → grab (injection, the application drawing, and any
//! wait for the capture to start), capture, convert, encode, queue & send (packetising and
//! handing to the network), network & jitter buffer (until the frame's last packet arrived),
//! decode & present (until the browser handed the frame to the compositor), and on to the
//! page's frame callback.

use anyhow::{Context, Result};
use std::path::Path;

use crate::click::Run;
use crate::percentile;

const STAGES: [&str; 10] = [
    "page handler",
    "data channel → agent",
    "agent → grab",
    "capture",
    "convert",
    "encode",
    "queue & send",
    "network & jitter buffer",
    "decode & present",
    "to frame callback",
];

/// A frame line of the trace, in milliseconds since the Unix epoch.
#[derive(Clone, Copy, Debug)]
struct Frame {
    capture_start: f64,
    captured: f64,
    converted: f64,
    encoded: f64,
    sent: f64,
    repeat: bool,
}

pub struct Budget {
    size: (u32, u32),
    /// Per stage, one duration in milliseconds per matched click.
    stages: Vec<Vec<f64>>,
    total: Vec<f64>,
    matched: usize,
    clicks: usize,
}

impl Budget {
    pub fn from_trace(size: (u32, u32), run: &Run, trace: &Path) -> Result<Budget> {
        let text = std::fs::read_to_string(trace)
            .with_context(|| format!("reading the agent's trace {}", trace.display()))?;
        let (frames, presses) = parse(&text);
        let mut stages = vec![Vec::new(); STAGES.len()];
        let mut total = Vec::new();
        for shown in &run.shown {
            // A little slack: the two processes read the same clock at slightly different
            // moments of an event.
            let Some(&press) = presses.iter().find(|&&p| p >= shown.click - 1.0) else {
                continue;
            };
            let Some(frame) = frames
                .iter()
                .find(|f| !f.repeat && f.capture_start >= press)
            else {
                continue;
            };
            let (Some(received), Some(sent)) = (shown.received, shown.sent) else {
                continue;
            };
            if frame.sent > received + 1.0 || received > shown.presented + 1.0 {
                continue; // not the same frame after all
            }
            let points = [
                shown.click,
                sent,
                press,
                frame.capture_start,
                frame.captured,
                frame.converted,
                frame.encoded,
                frame.sent,
                received,
                shown.presented,
                shown.shown,
            ];
            for (stage, pair) in stages.iter_mut().zip(points.windows(2)) {
                stage.push(pair[1] - pair[0]);
            }
            total.push(shown.shown - shown.click);
        }
        Ok(Budget {
            size,
            matched: total.len(),
            stages,
            total,
            clicks: run.shown.len(),
        })
    }
}

/// Frames and `button_down` times from the trace, in the order written.
fn parse(text: &str) -> (Vec<Frame>, Vec<f64>) {
    let mut frames = Vec::new();
    let mut presses = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split(',').collect();
        let ms = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<i64>().ok())
                .map(|us| us as f64 / 1000.0)
        };
        match fields.first() {
            Some(&"frame") => {
                if let (Some(a), Some(b), Some(c), Some(d), Some(e)) =
                    (ms(1), ms(2), ms(3), ms(4), ms(5))
                {
                    frames.push(Frame {
                        capture_start: a,
                        captured: b,
                        converted: c,
                        encoded: d,
                        sent: e,
                        repeat: fields.get(8) == Some(&"1"),
                    });
                }
            }
            Some(&"input") if fields.get(2) == Some(&"button_down") => {
                presses.extend(ms(1));
            }
            _ => {}
        }
    }
    // The pump writes frames as they leave, so they are in capture order already.
    (frames, presses)
}

pub fn print(budgets: &[Budget]) {
    println!(
        "Latency budget, median of each stage in ms (medians do not add up exactly to the \
         median total):"
    );
    println!();
    print!("| screen | matched |");
    for stage in STAGES {
        print!(" {stage} |");
    }
    println!(" total |");
    print!("| --- | ---: |");
    for _ in STAGES {
        print!(" ---: |");
    }
    println!(" ---: |");
    for b in budgets {
        print!("| {}x{} | {}/{} |", b.size.0, b.size.1, b.matched, b.clicks);
        for stage in &b.stages {
            print!(" {:.1} |", percentile(stage, 50.0));
        }
        println!(" {:.1} |", percentile(&b.total, 50.0));
    }
}
