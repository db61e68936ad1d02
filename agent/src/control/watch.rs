//! Watches the Escape key on the X display, so that the novice can take control back by
//! holding it.
//!
//! XInput2 raw key events reach us whichever window has the focus and whichever device the key
//! came from, the XTest device through which the expert's input is injected included; telling
//! the two apart is the control state machine's job (it knows which Escapes it injected).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use x11rb::connection::Connection;
use x11rb::protocol::xinput::{self, ConnectionExt as _, EventMask, XIEventMask};
use x11rb::protocol::xproto::ConnectionExt as _;
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;

/// The Escape keysym.
const XK_ESCAPE: u32 = 0xff1b;
/// XIAllMasterDevices: events of every physical and virtual keyboard, once each.
const ALL_MASTER_DEVICES: u16 = 1;
/// How often the watcher thread checks whether it should stop.
const POLL: Duration = Duration::from_millis(20);
/// Edges buffered for the async side; a backlog this long means nobody is reading.
const CAPACITY: usize = 64;

/// The Escape key went down or up, and when we learned of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EscapeEdge {
    Down(Instant),
    Up(Instant),
}

/// Why the Escape key cannot be watched.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot watch the keyboard on X display {display}: {reason}")]
    Open { display: String, reason: String },
    #[error("the keyboard watcher thread could not be started: {0}")]
    Thread(std::io::Error),
}

/// Reports Escape edges until dropped.
#[derive(Debug)]
pub struct EscapeWatcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EscapeWatcher {
    /// Starts watching `display` (default `$DISPLAY`).
    pub fn start(
        display: Option<&str>,
    ) -> Result<(EscapeWatcher, mpsc::Receiver<EscapeEdge>), WatchError> {
        let name = display
            .map(str::to_owned)
            .or_else(|| std::env::var("DISPLAY").ok())
            .unwrap_or_default();
        let open_error = |reason: String| WatchError::Open {
            display: name.clone(),
            reason,
        };
        let (conn, escape) = open(&name).map_err(open_error)?;
        let (tx, rx) = mpsc::channel(CAPACITY);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("escape-watcher".into())
                .spawn(move || watch(&conn, escape, &tx, &stop))
                .map_err(WatchError::Thread)?
        };
        Ok((
            EscapeWatcher {
                stop,
                thread: Some(thread),
            },
            rx,
        ))
    }
}

impl Drop for EscapeWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Connects, finds Escape's keycode and subscribes to raw key events.
fn open(display: &str) -> Result<(RustConnection, u32), String> {
    let (conn, screen) = x11rb::connect(Some(display)).map_err(|e| e.to_string())?;
    let root = conn
        .setup()
        .roots
        .get(screen)
        .ok_or("the display has no such screen")?
        .root;
    let escape = escape_keycode(&conn)?;
    conn.xinput_xi_query_version(2, 2)
        .map_err(|e| e.to_string())?
        .reply()
        .map_err(|e| format!("the XInput2 extension is missing ({e})"))?;
    conn.xinput_xi_select_events(
        root,
        &[EventMask {
            deviceid: ALL_MASTER_DEVICES,
            mask: vec![XIEventMask::RAW_KEY_PRESS | XIEventMask::RAW_KEY_RELEASE],
        }],
    )
    .map_err(|e| e.to_string())?
    .check()
    .map_err(|e| e.to_string())?;
    Ok((conn, escape))
}

fn escape_keycode(conn: &RustConnection) -> Result<u32, String> {
    let setup = conn.setup();
    let (min, max) = (setup.min_keycode, setup.max_keycode);
    let map = conn
        .get_keyboard_mapping(min, max - min + 1)
        .map_err(|e| e.to_string())?
        .reply()
        .map_err(|e| e.to_string())?;
    let per = usize::from(map.keysyms_per_keycode.max(1));
    map.keysyms
        .chunks(per)
        .position(|syms| syms.contains(&XK_ESCAPE))
        .map(|i| u32::from(min) + i as u32)
        .ok_or_else(|| "no key produces Escape".to_string())
}

fn watch(conn: &RustConnection, escape: u32, tx: &mpsc::Sender<EscapeEdge>, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let event = match conn.poll_for_event() {
            Ok(Some(event)) => event,
            Ok(None) => {
                std::thread::sleep(POLL);
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "lost the X display; no longer watching Escape");
                return;
            }
        };
        let edge = match event {
            Event::XinputRawKeyPress(e) if e.detail == escape && !is_repeat(e.flags) => {
                EscapeEdge::Down(Instant::now())
            }
            Event::XinputRawKeyRelease(e) if e.detail == escape => EscapeEdge::Up(Instant::now()),
            _ => continue,
        };
        if tx.try_send(edge).is_err() && tx.is_closed() {
            return;
        }
    }
}

fn is_repeat(flags: xinput::KeyEventFlags) -> bool {
    u32::from(flags) & u32::from(xinput::KeyEventFlags::KEY_REPEAT) != 0
}
