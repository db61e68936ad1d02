//! Watches the Escape key on the X display, so that the novice can take control back by
//! holding it.
//!
//! XInput2 raw key events reach us whichever window has the focus, whoever grabs the keyboard
//! and whichever device the key came from, the XTest device through which the expert's input
//! is injected included; telling the two apart is the control state machine's job (it knows
//! which Escapes it injected). Raw events are selected for all master devices: each key then
//! arrives once, through the master keyboard its device is attached to.
//!
//! The watcher thread blocks on its X connection; dropping the watcher stops it (`xwatch`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tokio::sync::mpsc;
use x11rb::connection::Connection;
use x11rb::protocol::xinput::{self, ConnectionExt as _, XIEventMask};
use x11rb::protocol::xproto::{ConnectionExt as _, Mapping, Window};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;

use crate::xwatch::{self, WatchThread};

/// The Escape keysym (`XK_Escape`).
const XK_ESCAPE: u32 = 0xff1b;
/// `XIAllMasterDevices`: the events of every keyboard, once each.
const ALL_MASTER_DEVICES: u16 = 1;
/// Edges buffered for the async side; a backlog this long means nobody is reading.
const CAPACITY: usize = 64;

/// The Escape key went down or up on the display, and when the watcher learned of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EscapeEdge {
    Down(Instant),
    Up(Instant),
}

/// Why the Escape key cannot be watched.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("no X display to watch: none was given and DISPLAY is not set")]
    NoDisplay,
    #[error("cannot watch the keyboard on X display {display}: {reason}")]
    Open { display: String, reason: String },
    #[error("cannot start the keyboard watcher thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// Reports Escape edges until dropped.
#[derive(Debug)]
pub struct EscapeWatcher {
    _thread: WatchThread,
}

impl EscapeWatcher {
    /// Starts watching `display` (default `$DISPLAY`); returns once raw key events are
    /// selected, so that every Escape from then on is reported.
    pub fn start(
        display: Option<&str>,
    ) -> Result<(EscapeWatcher, mpsc::Receiver<EscapeEdge>), WatchError> {
        let name = xwatch::display_name(display).ok_or(WatchError::NoDisplay)?;
        let (conn, window, escape) = open(&name).map_err(|reason| WatchError::Open {
            display: name.clone(),
            reason,
        })?;
        let (tx, rx) = mpsc::channel(CAPACITY);
        let thread = WatchThread::spawn(conn, window, "escape-watcher", move |conn, stop| {
            watch(conn, escape, &tx, stop)
        })
        .map_err(WatchError::Thread)?;
        Ok((EscapeWatcher { _thread: thread }, rx))
    }
}

/// Connects, creates the wake-up window, finds Escape's keycodes and selects raw key events.
fn open(display: &str) -> Result<(RustConnection, Window, Vec<u8>), String> {
    let (conn, root) = xwatch::connect(display)?;
    let window = xwatch::create_wake_window(&conn, root)?;
    let escape = escape_keycodes(&conn)?;
    // 2.2 and not 2.0: since XI 2.1 raw events are delivered even while a client grabs the
    // keyboard, and the novice's Escape must work whatever has the focus.
    conn.xinput_xi_query_version(2, 2)
        .map_err(|e| e.to_string())?
        .reply()
        .map_err(|e| format!("the X server has no XInput 2 extension ({e})"))?;
    conn.xinput_xi_select_events(
        root,
        &[xinput::EventMask {
            deviceid: ALL_MASTER_DEVICES,
            mask: vec![XIEventMask::RAW_KEY_PRESS | XIEventMask::RAW_KEY_RELEASE],
        }],
    )
    .map_err(|e| e.to_string())?
    .check()
    .map_err(|e| e.to_string())?;
    Ok((conn, window, escape))
}

/// Every keycode that produces Escape in the current keyboard mapping.
fn escape_keycodes(conn: &RustConnection) -> Result<Vec<u8>, String> {
    let setup = conn.setup();
    let (min, max) = (setup.min_keycode, setup.max_keycode);
    let map = conn
        .get_keyboard_mapping(min, max.saturating_sub(min).saturating_add(1))
        .map_err(|e| e.to_string())?
        .reply()
        .map_err(|e| e.to_string())?;
    let codes = keycodes_of(XK_ESCAPE, min, map.keysyms_per_keycode, &map.keysyms);
    if codes.is_empty() {
        return Err("no key produces Escape in the keyboard mapping".into());
    }
    Ok(codes)
}

/// The keycodes bound to `keysym` in a `GetKeyboardMapping` reply starting at `first`.
fn keycodes_of(keysym: u32, first: u8, per_keycode: u8, keysyms: &[u32]) -> Vec<u8> {
    keysyms
        .chunks(usize::from(per_keycode.max(1)))
        .zip(first..=u8::MAX)
        .filter(|(syms, _)| syms.contains(&keysym))
        .map(|(_, code)| code)
        .collect()
}

fn watch(
    conn: &RustConnection,
    mut escape: Vec<u8>,
    tx: &mpsc::Sender<EscapeEdge>,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Relaxed) {
        let event = match conn.wait_for_event() {
            Ok(event) => event,
            Err(e) => {
                tracing::warn!(error = %e, "lost the X display; no longer watching Escape");
                return;
            }
        };
        let is_escape = |detail: u32| escape.iter().any(|&code| u32::from(code) == detail);
        let edge = match event {
            Event::XinputRawKeyPress(e) if is_escape(e.detail) && !is_repeat(e.flags) => {
                EscapeEdge::Down(Instant::now())
            }
            Event::XinputRawKeyRelease(e) if is_escape(e.detail) => EscapeEdge::Up(Instant::now()),
            Event::MappingNotify(e) if e.request == Mapping::KEYBOARD => {
                // The layout changed (setxkbmap, or XTest binding a spare keycode): Escape may
                // have moved.
                match escape_keycodes(conn) {
                    Ok(codes) => escape = codes,
                    Err(e) => tracing::warn!(error = %e, "cannot find Escape after a remap"),
                }
                continue;
            }
            _ => continue,
        };
        match tx.try_send(edge) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!("Escape edges are not being read; dropping one");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return,
        }
    }
}

fn is_repeat(flags: xinput::KeyEventFlags) -> bool {
    u32::from(flags) & u32::from(xinput::KeyEventFlags::KEY_REPEAT) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_is_found_in_a_keyboard_mapping() {
        // Keycodes 8..=11, two keysyms each; Escape on 9 and again, shifted, on 11.
        let map = [0, 0, XK_ESCAPE, 0, 0x61, 0x41, 0x31, XK_ESCAPE];
        assert_eq!(keycodes_of(XK_ESCAPE, 8, 2, &map), vec![9, 11]);
        assert_eq!(keycodes_of(0x62, 8, 2, &map), Vec::<u8>::new());
        assert_eq!(keycodes_of(XK_ESCAPE, 8, 0, &[]), Vec::<u8>::new());
    }
}
