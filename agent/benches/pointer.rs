//! What the novice's pointer costs on the data channel: bytes per second of pointer messages
//! while the pointer moves, measured on a real X display.
//!
//! A private Xvfb shows the remote-control test desk (`tests/assets/desk.py`: a full-screen
//! window with a text field, so the pointer changes shape on its way across). The agent's own
//! [`PointerWatcher`] and [`pointer::forward`] run as in a session, shown throughout, with a
//! sink that counts the JSON bytes of every message instead of a data channel. Scenes, each
//! for `BENCH_SECONDS` (default 5):
//! * `still`: the pointer does not move.
//! * `sweep`: the pointer is warped 120 times a second back and forth across the screen and
//!   through the text field, changing shape there (faster than any hand, and than the 30
//!   updates a second the agent sends).
//!
//!   cargo bench -p agent --bench pointer
//!
//! Prints a Markdown table: position messages per second and their size, the shapes sent, and
//! all bytes per second (shapes included).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent::pointer::{self, PointerWatcher};
use anyhow::{Context, Result};
use protocol::data::DataMessage;
use tests::tk::TkProgram;
use tests::xvfb::Xvfb;
use tokio::sync::watch;
use tokio::time::Instant;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::ConnectionExt as _;

const SCREEN: (u16, u16) = (1280, 720);
/// How often the sweep moves the pointer.
const MOVES_PER_SECOND: u32 = 120;

#[derive(Default)]
struct Counted {
    positions: u64,
    shapes: u64,
    shape_bytes: u64,
    bytes: u64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let xvfb = Xvfb::start(u32::from(SCREEN.0), u32::from(SCREEN.1))?;
    let _desk = TkProgram::start(&xvfb, "desk.py").await?;
    let (conn, screen) = x11rb::connect(Some(xvfb.display())).context("connecting to Xvfb")?;
    let root = conn.setup().roots[screen].root;

    println!(
        "| scene | seconds | position messages/s | bytes per position | shapes (bytes) | bytes/s |"
    );
    println!("|---|---|---|---|---|---|");
    for scene in ["still", "sweep"] {
        let (watcher, observed) =
            PointerWatcher::start(Some(xvfb.display()), Duration::from_secs(1) / 30)?;
        let counted = Arc::new(Mutex::new(Counted::default()));
        let (_showing, shown) = watch::channel(true);
        let task = {
            let counted = Arc::clone(&counted);
            tokio::spawn(pointer::forward(observed, shown, move |message| {
                let counted = Arc::clone(&counted);
                async move {
                    let bytes = serde_json::to_vec(&message).map_or(0, |b| b.len());
                    if let Ok(mut c) = counted.lock() {
                        c.bytes += bytes as u64;
                        match message {
                            DataMessage::PointerShape { .. } => {
                                c.shapes += 1;
                                c.shape_bytes += bytes as u64;
                            }
                            _ => c.positions += 1,
                        }
                    }
                    true
                }
            }))
        };
        let started = Instant::now();
        let end = started + Duration::from_secs(seconds);
        let mut step = 0u32;
        let mut tick = tokio::time::interval(Duration::from_secs(1) / MOVES_PER_SECOND);
        while Instant::now() < end {
            tick.tick().await;
            if scene == "sweep" {
                // Across the screen, through the text field (around 640, 660) and back.
                let phase = step % 240;
                let t = if phase < 120 { phase } else { 240 - phase };
                let x = i16::try_from(100 + t * 9).unwrap_or(0);
                let y = i16::try_from((600 + t).min(719)).unwrap_or(0);
                conn.warp_pointer(x11rb::NONE, root, 0, 0, 0, 0, x, y)?;
                conn.flush()?;
                step += 1;
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        task.abort();
        drop(watcher);
        let c = counted.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        let position_bytes = (c.bytes - c.shape_bytes) as f64;
        println!(
            "| {scene} | {elapsed:.1} | {:.1} | {:.0} | {} ({}) | {:.0} |",
            c.positions as f64 / elapsed,
            position_bytes / (c.positions.max(1) as f64),
            c.shapes,
            c.shape_bytes,
            c.bytes as f64 / elapsed,
        );
    }
    Ok(())
}
