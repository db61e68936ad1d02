//! What the media pipeline costs per frame on a real X display, and how many frames it delivers.
//!
//! For each screen size and scene, a private Xvfb shows the scene while [`Pipeline`] runs at
//! 30 fps with a consumer that reads every frame. After the first frame (a keyframe), frames
//! are collected for a fixed time; the table reports frames delivered per second, the median
//! and 95th percentile of each stage's time from [`FrameTimings`], encoded sizes, and the CPU
//! time of this process (every pipeline thread; not the X server or the scene's programs)
//! read from `/proc/self/stat`.
//!
//! Scenes:
//! * `static`: a solid colour; the pipeline grabs and compares each tick and sends nothing.
//! * `terminal`: a full-screen xterm scrolling 100 lines of build-log text per second.
//! * `window`: a 640x400 window with text dragged across a desktop with icons, 9 px right and
//!   5 px down every 33 ms (a python3-tk canvas).
//!
//!   cargo bench -p agent --bench media
//!
//! Each scene and size runs once per codec (H.264 with OpenH264, VP8 with libvpx), side by side
//! in one run, so that their CPU time, bytes and encoding latency compare directly.
//!
//! Environment: `BENCH_SECONDS` (default 5, per scene, size and codec), `BENCH_SIZES` (default
//! `1280x720,1920x1080`), `BENCH_CODECS` (default `h264,vp8`). Prints a Markdown table.

use std::time::Duration;

use agent::media::{EncodedFrame, FrameTimings, MediaConfig, Pipeline, VideoCodec};
use anyhow::{bail, Context, Result};
use tests::measure::{parse_sizes, percentile, Process};
use tests::xvfb::Xvfb;
use tokio::time::{timeout, timeout_at, Instant};

const MAX_FPS: u32 = 30;
/// Guards against a hang only.
const WAIT: Duration = Duration::from_secs(30);
/// After the scene's window is mapped, for it to draw itself and get going.
const SETTLE: Duration = Duration::from_millis(700);

/// Debian's python with tkinter (pyenv's python on PATH has none).
const SYSTEM_PYTHON: &str = "/usr/bin/python3";

const TERMINAL_OUTPUT: &str = r#"
import itertools, time
for i in itertools.count():
    print(f"{i:7d}  Compiling crate-{i % 97:02d} v0.{i % 13}.{i % 7} (/src/crates/crate-{i % 97:02d})  [{'=' * (i % 40):<40}]")
    time.sleep(0.01)
"#;

const MOVING_WINDOW: &str = r##"
import tkinter as tk
root = tk.Tk()
root.title("bench-window")
w, h = root.winfo_screenwidth(), root.winfo_screenheight()
root.overrideredirect(True)
root.geometry(f"{w}x{h}+0+0")
c = tk.Canvas(root, width=w, height=h, bg="#2d5a88", highlightthickness=0)
c.pack()
for i in range(6):
    c.create_rectangle(24, 24 + i * 96, 88, 88 + i * 96, fill="#e8e8e8", outline="")
    c.create_text(56, 100 + i * 96, text=f"file{i}.txt", fill="white")
items = [c.create_rectangle(0, 0, 640, 400, fill="white", outline="#333333"),
         c.create_rectangle(0, 0, 640, 28, fill="#4a4a4a", outline="")]
items += [c.create_text(12, 40 + 18 * k, anchor="nw", fill="black",
                        text=f"{k:2d}  the quick brown fox jumps over the lazy dog {k * 7919}")
          for k in range(19)]
x, y, dx, dy = 120, 60, 9, 5
for item in items:
    c.move(item, x, y)
def step():
    global x, y, dx, dy
    if not 0 <= x + dx <= w - 640: dx = -dx
    if not 0 <= y + dy <= h - 400: dy = -dy
    x += dx; y += dy
    for item in items:
        c.move(item, dx, dy)
    root.after(33, step)
step()
root.mainloop()
"##;

#[derive(Debug, Clone, Copy)]
enum Scene {
    Static,
    Terminal,
    Window,
}

impl Scene {
    const ALL: [Scene; 3] = [Scene::Static, Scene::Terminal, Scene::Window];

    fn name(self) -> &'static str {
        match self {
            Scene::Static => "static",
            Scene::Terminal => "terminal",
            Scene::Window => "window",
        }
    }

    /// Puts the scene on `xvfb` and waits until it shows.
    fn show(self, xvfb: &mut Xvfb) -> Result<()> {
        xvfb.fill("#2d5a88")?;
        match self {
            Scene::Static => return Ok(()),
            Scene::Terminal => {
                xvfb.spawn(
                    "xterm",
                    &[
                        "-maximized",
                        "-fa",
                        "DejaVu Sans Mono",
                        "-fs",
                        "11",
                        "-e",
                        SYSTEM_PYTHON,
                        "-u",
                        "-c",
                        TERMINAL_OUTPUT,
                    ],
                )?;
                xvfb.run(
                    "xdotool",
                    &["search", "--sync", "--onlyvisible", "--class", "XTerm"],
                )?;
            }
            Scene::Window => {
                xvfb.spawn(SYSTEM_PYTHON, &["-c", MOVING_WINDOW])?;
                xvfb.run(
                    "xdotool",
                    &[
                        "search",
                        "--sync",
                        "--onlyvisible",
                        "--name",
                        "bench-window",
                    ],
                )?;
            }
        }
        std::thread::sleep(SETTLE);
        Ok(())
    }
}

/// What one scene at one size measured.
struct Run {
    scene: Scene,
    size: (u32, u32),
    codec: VideoCodec,
    elapsed: Duration,
    keyframe_bytes: usize,
    frames: Vec<EncodedFrame>,
    cpu: Duration,
    dropped: u64,
}

impl Run {
    fn stage(&self, stage: fn(&FrameTimings) -> Duration) -> String {
        let ms: Vec<f64> = self
            .frames
            .iter()
            .map(|f| stage(&f.timings).as_secs_f64() * 1000.0)
            .collect();
        match (percentile(&ms, 50.0), percentile(&ms, 95.0)) {
            (Some(p50), Some(p95)) => format!("{p50:.1} / {p95:.1}"),
            _ => "–".into(),
        }
    }

    fn row(&self) -> String {
        let seconds = self.elapsed.as_secs_f64();
        let frames = self.frames.len();
        let bytes: Vec<f64> = self.frames.iter().map(|f| f.data.len() as f64).collect();
        let total_bytes: f64 = bytes.iter().sum();
        let cpu_ms = self.cpu.as_secs_f64() * 1000.0;
        let cpu_per_frame = if frames == 0 {
            "–".into()
        } else {
            format!("{:.1}", cpu_ms / frames as f64)
        };
        format!(
            "| {} | {}x{} | {} | {:.1} | {} | {} | {} | {} | {:.0} | {} | {} | {:.0} % | {} |",
            self.scene.name(),
            self.size.0,
            self.size.1,
            self.codec,
            frames as f64 / seconds,
            self.stage(|t| t.capture),
            self.stage(|t| t.convert),
            self.stage(|t| t.encode),
            percentile(&bytes, 50.0).map_or_else(|| "–".into(), |b| b.to_string()),
            total_bytes * 8.0 / seconds / 1000.0,
            self.keyframe_bytes,
            cpu_per_frame,
            cpu_ms / (seconds * 1000.0) * 100.0,
            self.dropped,
        )
    }
}

async fn measure(
    scene: Scene,
    size: (u32, u32),
    codec: VideoCodec,
    period: Duration,
) -> Result<Run> {
    let mut xvfb = Xvfb::start(size.0, size.1)?;
    scene.show(&mut xvfb)?;
    let (pipeline, mut receiver) = Pipeline::start(MediaConfig {
        display: Some(xvfb.display().to_owned()),
        max_fps: MAX_FPS,
        codec,
        ..MediaConfig::default()
    })?;

    let first = timeout(WAIT, receiver.recv())
        .await
        .context("no first frame")?
        .context("the pipeline stopped")?;
    if !first.keyframe || (first.width, first.height) != size {
        bail!(
            "the first frame is not a {}x{} keyframe ({}x{}, keyframe: {})",
            size.0,
            size.1,
            first.width,
            first.height,
            first.keyframe
        );
    }

    let cpu_before = Process::This.cpu_time()?;
    let started = Instant::now();
    let until = started + period;
    let mut frames = Vec::new();
    loop {
        match timeout_at(until, receiver.recv()).await {
            Err(_) => break,
            Ok(Some(frame)) => frames.push(frame),
            Ok(None) => bail!("the pipeline stopped during the run"),
        }
    }
    let elapsed = started.elapsed();
    let cpu = Process::This.cpu_time()?.saturating_sub(cpu_before);
    let dropped = receiver.dropped();
    pipeline.stop();

    Ok(Run {
        scene,
        size,
        codec,
        elapsed,
        keyframe_bytes: first.data.len(),
        frames,
        cpu,
        dropped,
    })
}

fn sizes() -> Result<Vec<(u32, u32)>> {
    let list = std::env::var("BENCH_SIZES").unwrap_or_else(|_| "1280x720,1920x1080".into());
    parse_sizes(&list).map_err(|e| anyhow::anyhow!("BENCH_SIZES: {e}"))
}

fn codecs() -> Result<Vec<VideoCodec>> {
    let list = std::env::var("BENCH_CODECS").unwrap_or_else(|_| "h264,vp8".into());
    list.split(',')
        .map(|name| match name.trim().to_ascii_lowercase().as_str() {
            "h264" => Ok(VideoCodec::H264),
            "vp8" => Ok(VideoCodec::Vp8),
            other => bail!("BENCH_CODECS: {other:?} is neither h264 nor vp8"),
        })
        .collect()
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, name)| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let seconds: f64 = match std::env::var("BENCH_SECONDS") {
        Ok(s) => s.parse().context("BENCH_SECONDS must be a number")?,
        Err(_) => 5.0,
    };
    let period = Duration::from_secs_f64(seconds);
    let cores = std::thread::available_parallelism().map_or(0, usize::from);

    let mut rows = Vec::new();
    for size in sizes()? {
        for scene in Scene::ALL {
            for codec in codecs()? {
                eprintln!(
                    "{}x{} {} {codec}: {seconds} s",
                    size.0,
                    size.1,
                    scene.name()
                );
                rows.push(measure(scene, size, codec, period).await?.row());
            }
        }
    }

    println!(
        "Media pipeline at max {MAX_FPS} fps, {seconds} s per row, {cores} cores ({}), Xvfb.\n",
        cpu_model()
    );
    println!(
        "| scene | size | codec | frames/s | capture ms p50 / p95 | convert ms p50 / p95 \
         | encode ms p50 / p95 | bytes/frame p50 | kbit/s | keyframe bytes | CPU ms/frame \
         | CPU (one core = 100 %) | dropped |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    Ok(())
}
