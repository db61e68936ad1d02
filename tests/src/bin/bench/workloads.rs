//! What a session costs while the novice works: frames per second and bitrate as the expert's
//! browser receives them (its `inbound-rtp` statistics), and the agent's CPU time and resident
//! memory (from `/proc`), for three desktops drawn by a full-screen xterm:
//! * static: a page of text, nothing moving;
//! * typing: `xdotool` types ten characters a second into `cat`, which echoes them;
//! * scrolling: a long text printed a hundred lines a second, the terminal scrolling on.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tests::browser::Page;
use tests::measure::Process;
use tokio::process::{Child, Command};

use crate::Stack;

/// Time for the terminal to come up and the stream to settle before measuring.
const SETTLE: Duration = Duration::from_millis(2500);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    Static,
    Typing,
    Scrolling,
}

impl Workload {
    pub const ALL: [Workload; 3] = [Workload::Static, Workload::Typing, Workload::Scrolling];

    pub fn name(self) -> &'static str {
        match self {
            Workload::Static => "static desktop",
            Workload::Typing => "typing in a terminal",
            Workload::Scrolling => "scrolling a long text",
        }
    }
}

pub struct Load {
    size: (u32, u32),
    workload: Workload,
    fps: f64,
    kbit_per_s: f64,
    cpu_s_per_min: f64,
    rss_mib: f64,
}

/// What the browser and `/proc` say at one moment.
struct Sample {
    at: Instant,
    bytes: f64,
    frames: f64,
    cpu_s: f64,
}

pub async fn measure(stack: &mut Stack, workload: Workload, length: Duration) -> Result<Load> {
    let (width, height) = stack.size;
    let text = stack.scratch.path().join("long.txt");
    std::fs::write(&text, long_text()).context("writing the text to scroll")?;
    let text = text.to_string_lossy().into_owned();
    let geometry = format!("{}x{}+0+0", width / 7, height / 15);
    let xterm = |command: &[&str]| -> Result<Child> {
        let mut c = Command::from(stack.xvfb.command("xterm"));
        c.args([
            "-fa",
            "DejaVu Sans Mono",
            "-fs",
            "11",
            "-geometry",
            &geometry,
            "-e",
        ])
        .args(command)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
        c.spawn().context("starting xterm: is it installed?")
    };
    let scroll = format!(
        "import sys, time\nlines = open({text:?}).read().splitlines()\nwhile True:\n    for line in lines:\n        print(line, flush=True)\n        time.sleep(0.01)\n"
    );
    let _terminal = match workload {
        Workload::Static => xterm(&[
            "sh",
            "-c",
            &format!("cat {text:?} | head -n 60; exec sleep 3600"),
        ])?,
        Workload::Typing => xterm(&["cat"])?,
        Workload::Scrolling => xterm(&["/usr/bin/python3", "-c", &scroll])?,
    };
    // Focus follows the pointer without a window manager: put it over the terminal.
    stack.xvfb.run("xdotool", &["mousemove", "200", "200"])?;
    tokio::time::sleep(SETTLE).await;
    let _typist = match workload {
        Workload::Typing => {
            let words = "the quick brown fox jumps over the lazy dog "
                .repeat((length.as_secs() as usize * 10 / 44) + 2);
            let mut c = Command::from(stack.xvfb.command("xdotool"));
            c.args(["type", "--delay", "100", &words])
                .stdin(Stdio::null())
                .kill_on_drop(true);
            Some(c.spawn().context("starting xdotool")?)
        }
        _ => None,
    };

    let pid = stack.agent.pid().context("the agent has exited")?;
    let start = sample(&stack.page, pid).await?;
    tokio::time::sleep(length).await;
    let end = sample(&stack.page, pid).await?;
    let secs = (end.at - start.at).as_secs_f64();
    Ok(Load {
        size: stack.size,
        workload,
        fps: (end.frames - start.frames) / secs,
        kbit_per_s: (end.bytes - start.bytes) * 8.0 / 1000.0 / secs,
        cpu_s_per_min: (end.cpu_s - start.cpu_s) / secs * 60.0,
        rss_mib: Process::Id(pid).resident_bytes()? as f64 / (1024.0 * 1024.0),
    })
}

async fn sample(page: &Page, agent_pid: u32) -> Result<Sample> {
    let stats = inbound_video(page).await?;
    let number = |key: &str| stats[key].as_f64().unwrap_or(0.0);
    Ok(Sample {
        at: Instant::now(),
        bytes: number("bytesReceived"),
        frames: number("framesDecoded"),
        cpu_s: Process::Id(agent_pid).cpu_time()?.as_secs_f64(),
    })
}

/// The console's `inbound-rtp` video statistics.
async fn inbound_video(page: &Page) -> Result<Value> {
    page.call_on_instances(
        "RTCPeerConnection.prototype",
        "function () { window.benchPeer = this.find((pc) => pc.connectionState === 'connected'); }",
    )
    .await?;
    let stats = page
        .eval(
            "(async () => { if (!window.benchPeer) return null; \
             for (const s of (await window.benchPeer.getStats()).values()) \
               if (s.type === 'inbound-rtp' && s.kind === 'video') return s; \
             return null; })()",
        )
        .await?;
    if stats.is_null() {
        bail!("the console has no connected peer receiving video");
    }
    Ok(stats)
}

/// A few thousand lines of varied text, so that scrolling never shows two equal screens.
fn long_text() -> String {
    let words = [
        "remote",
        "assistance",
        "novice",
        "expert",
        "desktop",
        "session",
        "invitation",
        "control",
        "keyboard",
        "pointer",
        "terminal",
        "frame",
        "encoder",
        "latency",
        "network",
    ];
    (0..4000)
        .map(|i| {
            let line: Vec<&str> = (0..(6 + i % 9))
                .map(|j| words[(i * 7 + j * 3 + i / 5) % words.len()])
                .collect();
            format!("{i:5}  {}\n", line.join(" "))
        })
        .collect()
}

pub fn print(loads: &[Load]) {
    println!("Workloads (as received by the browser; agent CPU and memory from /proc):");
    println!();
    println!("| screen | workload | fps delivered | kbit/s | agent CPU s/min | agent RSS MiB |");
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    for l in loads {
        println!(
            "| {}x{} | {} | {:.1} | {:.1} | {:.1} | {:.0} |",
            l.size.0,
            l.size.1,
            l.workload.name(),
            l.fps,
            l.kbit_per_s,
            l.cpu_s_per_min,
            l.rss_mib,
        );
    }
}
