//! The novice's pointer, for the console to draw over the video: its shape once, its position
//! as it moves. The screen capture leaves the pointer out, so a pointer moving over a still
//! screen costs a few dozen bytes per update instead of video frames.
//!
//! * [`PointerTracker`] (pure): what to tell the console. It turns what the display reports
//!   (the current cursor image and the pointer's position) into [`DataMessage::PointerShape`],
//!   sent once per shape the console does not hold, and [`DataMessage::Pointer`], sent when the
//!   position or shape changed, at most once per [`MIN_INTERVAL`] with the latest state.
//!   Nothing is sent while the screen is not shown (before the password check, while paused).
//! * [`PointerWatcher`]: a thread with an X connection of its own that watches the cursor's
//!   shape with XFixes (`CursorNotify`, then `GetCursorImage`) and polls the pointer's position
//!   (`QueryPointer`) once per frame interval, handing the latest [`Observed`] state over a
//!   watch channel, so a slow reader only ever misses intermediate positions.
//! * [`forward`]: the task between the two, sending on the data channel ([`send_to`]).

use protocol::data::{DataMessage, PointerPixels, MAX_POINTER_SIDE, POINTER_SHAPES_KEPT};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use x11rb::connection::Connection;
use x11rb::protocol::xfixes::{ConnectionExt as _, CursorNotifyMask};
use x11rb::protocol::xproto::{ConnectionExt as _, Window};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;

use crate::invite::sleep_until;
use crate::peer::Peer;
use crate::xwatch;

/// Sends `message` to the console through `peer`; whether it went.
pub async fn send_to(peer: Arc<Peer>, message: DataMessage) -> bool {
    match peer.send_data(&message).await {
        Ok(()) => true,
        Err(err) => {
            tracing::debug!(error = %err, "pointer update not sent");
            false
        }
    }
}

/// Shortest time between two position updates: about 30 a second, what the eye follows.
pub const MIN_INTERVAL: Duration = Duration::from_millis(33);

/// A cursor image as XFixes reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CursorImage {
    /// The X server's serial of the cursor: the same cursor has the same serial.
    pub serial: u32,
    pub width: u16,
    pub height: u16,
    pub hot_x: u16,
    pub hot_y: u16,
    /// `width * height` pixels, row by row, as premultiplied ARGB (XFixes' format).
    pub argb: Vec<u32>,
}

/// Where the pointer is, in screen pixels, and whether it is on the shared screen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    pub x: u32,
    pub y: u32,
    pub visible: bool,
}

/// What the display reported last.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    pub shape: Option<Arc<CursorImage>>,
    pub position: Position,
}

/// Decides what the console is told of the pointer, and when. See the module's documentation.
#[derive(Debug, Default)]
pub struct PointerTracker {
    /// The current shape, ready to send.
    shape: Option<(u32, DataMessage)>,
    position: Option<Position>,
    /// The shapes the console holds, oldest first, as it keeps them.
    held: VecDeque<u32>,
    /// The last position message sent, and when.
    sent: Option<DataMessage>,
    sent_at: Option<Instant>,
    showing: bool,
}

impl PointerTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// The cursor's image, whenever the display reports it (a known serial costs nothing).
    pub fn handle_shape(&mut self, image: &CursorImage) {
        if self
            .shape
            .as_ref()
            .is_some_and(|(id, _)| *id == image.serial)
        {
            return;
        }
        self.shape = shape_message(image).map(|message| (image.serial, message));
    }

    /// The pointer's position, whenever the display reports it.
    pub fn handle_position(&mut self, position: Position) {
        self.position = Some(position);
    }

    /// Whether the screen is shown to the console. Once shown again after a pause, the console
    /// hears the position again even if it did not change.
    pub fn handle_showing(&mut self, showing: bool) {
        if showing && !self.showing {
            self.sent = None;
        }
        self.showing = showing;
    }

    /// A message could not be sent: the console may have missed anything, so it is all sent
    /// again.
    pub fn handle_send_failed(&mut self) {
        self.held.clear();
        self.sent = None;
    }

    /// The next message to send at `now`, if any.
    pub fn poll_message(&mut self, now: Instant) -> Option<DataMessage> {
        let (id, shape) = self.shape.as_ref()?;
        if !self.showing || self.position.is_none() {
            return None;
        }
        if !self.held.contains(id) {
            self.held.push_back(*id);
            while self.held.len() > POINTER_SHAPES_KEPT {
                self.held.pop_front();
            }
            return Some(shape.clone());
        }
        let next = self.unsent()?;
        if self.poll_timeout().is_some_and(|at| now < at) {
            return None;
        }
        self.sent = Some(next.clone());
        self.sent_at = Some(now);
        Some(next)
    }

    /// When a change held back by the rate limit may be sent; `None` when nothing waits.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.unsent()?;
        self.sent_at.map(|at| at + MIN_INTERVAL)
    }

    /// The position message the console has not had yet, while the screen is shown.
    fn unsent(&self) -> Option<DataMessage> {
        let (id, _) = self.shape.as_ref()?;
        let position = self.position?;
        let now = DataMessage::Pointer {
            x: position.x,
            y: position.y,
            shape: *id,
            visible: position.visible,
        };
        (self.showing && self.sent.as_ref() != Some(&now)).then_some(now)
    }
}

/// The console's message for `image`: straight (not premultiplied) RGBA, scaled down to fit
/// [`MAX_POINTER_SIDE`]; `None` for an empty or inconsistent image.
fn shape_message(image: &CursorImage) -> Option<DataMessage> {
    let (w, h) = (u32::from(image.width), u32::from(image.height));
    if w == 0 || h == 0 || image.argb.len() != usize::try_from(w * h).ok()? {
        return None;
    }
    let max = u32::from(MAX_POINTER_SIDE);
    // Nearest-neighbour: each output pixel takes the input pixel it covers.
    let (ow, oh) = if w.max(h) > max {
        ((w * max / w.max(h)).max(1), (h * max / w.max(h)).max(1))
    } else {
        (w, h)
    };
    let mut rgba = Vec::with_capacity(usize::try_from(ow * oh * 4).ok()?);
    for y in 0..oh {
        for x in 0..ow {
            let (sx, sy) = (x * w / ow, y * h / oh);
            let pixel = image.argb[usize::try_from(sy * w + sx).ok()?];
            rgba.extend_from_slice(&unpremultiply(pixel));
        }
    }
    let scale = |v: u16, from: u32, to: u32| {
        u16::try_from((u32::from(v) * to / from).min(to - 1)).unwrap_or(0)
    };
    Some(DataMessage::PointerShape {
        id: image.serial,
        width: u16::try_from(ow).ok()?,
        height: u16::try_from(oh).ok()?,
        hot_x: scale(image.hot_x, w, ow),
        hot_y: scale(image.hot_y, h, oh),
        rgba: PointerPixels(rgba),
    })
}

/// A premultiplied ARGB pixel as straight RGBA bytes.
fn unpremultiply(argb: u32) -> [u8; 4] {
    let [a, r, g, b] = argb.to_be_bytes();
    if a == 0 {
        return [0, 0, 0, 0];
    }
    let straight =
        |c: u8| u8::try_from((u32::from(c) * 255 / u32::from(a)).min(255)).unwrap_or(255);
    [straight(r), straight(g), straight(b), a]
}

/// Why the pointer cannot be watched.
#[derive(Debug, thiserror::Error)]
pub enum PointerError {
    #[error("no X display to watch: none was given and DISPLAY is not set")]
    NoDisplay,
    #[error("cannot watch the pointer on X display {display}: {reason}")]
    Open { display: String, reason: String },
    #[error("cannot start the pointer watcher thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// Watches the pointer of one X display until dropped.
#[derive(Debug)]
pub struct PointerWatcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PointerWatcher {
    /// Starts watching `display` (default `$DISPLAY`), polling the position every `interval`;
    /// returns once the first shape and position are known.
    pub fn start(
        display: Option<&str>,
        interval: Duration,
    ) -> Result<(PointerWatcher, watch::Receiver<Observed>), PointerError> {
        let name = xwatch::display_name(display).ok_or(PointerError::NoDisplay)?;
        let open_error = |reason: String| PointerError::Open {
            display: name.clone(),
            reason,
        };
        let (conn, root) = xwatch::connect(&name).map_err(open_error)?;
        conn.xfixes_query_version(4, 0)
            .map_err(|e| open_error(e.to_string()))?
            .reply()
            .map_err(|e| open_error(format!("the X server has no XFixes extension ({e})")))?;
        conn.xfixes_select_cursor_input(root, CursorNotifyMask::DISPLAY_CURSOR)
            .map_err(|e| open_error(e.to_string()))?
            .check()
            .map_err(|e| open_error(e.to_string()))?;
        let first = Observed {
            shape: cursor_image(&conn).map(Arc::new),
            position: position(&conn, root).map_err(open_error)?,
        };
        let (tx, rx) = watch::channel(first);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("pointer-watcher".into())
                .spawn(move || watch_pointer(&conn, root, interval, &tx, &stop))
                .map_err(PointerError::Thread)?
        };
        Ok((
            PointerWatcher {
                stop,
                thread: Some(thread),
            },
            rx,
        ))
    }
}

impl Drop for PointerWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn cursor_image(conn: &RustConnection) -> Option<CursorImage> {
    let reply = conn.xfixes_get_cursor_image().ok()?.reply().ok()?;
    Some(CursorImage {
        serial: reply.cursor_serial,
        width: reply.width,
        height: reply.height,
        hot_x: reply.xhot,
        hot_y: reply.yhot,
        argb: reply.cursor_image,
    })
}

fn position(conn: &RustConnection, root: Window) -> Result<Position, String> {
    let reply = conn
        .query_pointer(root)
        .map_err(|e| e.to_string())?
        .reply()
        .map_err(|e| e.to_string())?;
    Ok(Position {
        x: u32::try_from(reply.root_x).unwrap_or(0),
        y: u32::try_from(reply.root_y).unwrap_or(0),
        visible: reply.same_screen,
    })
}

fn watch_pointer(
    conn: &RustConnection,
    root: Window,
    interval: Duration,
    tx: &watch::Sender<Observed>,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Relaxed) {
        let mut reshaped = false;
        loop {
            match conn.poll_for_event() {
                Ok(Some(Event::XfixesCursorNotify(_))) => reshaped = true,
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "lost the X display; no longer watching the pointer");
                    return;
                }
            }
        }
        let shape = if reshaped {
            cursor_image(conn).map(Arc::new)
        } else {
            None
        };
        let position = match position(conn, root) {
            Ok(position) => position,
            Err(e) => {
                tracing::warn!(error = %e, "lost the X display; no longer watching the pointer");
                return;
            }
        };
        tx.send_if_modified(|observed| {
            let changed = shape.is_some() || observed.position != position;
            if let Some(shape) = shape {
                observed.shape = Some(shape);
            }
            observed.position = position;
            changed
        });
        if tx.is_closed() {
            return;
        }
        std::thread::sleep(interval);
    }
}

/// Tells the console of the pointer `observed` reports, while `showing`, until either channel
/// closes. `send` puts one message on the data channel and says whether it went.
pub async fn forward<F, Sent>(
    mut observed: watch::Receiver<Observed>,
    mut showing: watch::Receiver<bool>,
    mut send: F,
) where
    F: FnMut(DataMessage) -> Sent,
    Sent: Future<Output = bool>,
{
    let mut tracker = PointerTracker::new();
    loop {
        {
            let now = observed.borrow_and_update();
            if let Some(shape) = &now.shape {
                tracker.handle_shape(shape);
            }
            tracker.handle_position(now.position);
        }
        tracker.handle_showing(*showing.borrow_and_update());
        while let Some(message) = tracker.poll_message(Instant::now()) {
            if !send(message).await {
                tracker.handle_send_failed();
                break;
            }
        }
        let deadline = tracker.poll_timeout();
        tokio::select! {
            changed = observed.changed() => if changed.is_err() { return },
            changed = showing.changed() => if changed.is_err() { return },
            () = sleep_until(deadline) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(serial: u32, width: u16, height: u16) -> CursorImage {
        CursorImage {
            serial,
            width,
            height,
            hot_x: 1,
            hot_y: 2,
            argb: vec![0x8040_2010; usize::from(width) * usize::from(height)],
        }
    }

    fn at(x: u32, y: u32) -> Position {
        Position {
            x,
            y,
            visible: true,
        }
    }

    /// A tracker shown to the console, with shape 5 at `position`, and the time it starts.
    fn shown_at(position: Position) -> (Instant, PointerTracker) {
        let mut tracker = PointerTracker::new();
        tracker.handle_showing(true);
        tracker.handle_shape(&image(5, 16, 16));
        tracker.handle_position(position);
        (Instant::now(), tracker)
    }

    fn drain(tracker: &mut PointerTracker, now: Instant) -> Vec<DataMessage> {
        std::iter::from_fn(|| tracker.poll_message(now)).collect()
    }

    fn kinds(messages: &[DataMessage]) -> Vec<String> {
        messages
            .iter()
            .map(|m| match m {
                DataMessage::PointerShape { id, .. } => format!("shape {id}"),
                DataMessage::Pointer { x, y, shape, .. } => format!("at {x},{y} {shape}"),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn nothing_is_said_before_the_screen_is_shown_nor_while_paused() {
        let t0 = Instant::now();
        let mut tracker = PointerTracker::new();
        tracker.handle_shape(&image(5, 16, 16));
        tracker.handle_position(at(10, 20));
        assert!(drain(&mut tracker, t0).is_empty());
        assert_eq!(tracker.poll_timeout(), None);
        tracker.handle_showing(true);
        assert_eq!(kinds(&drain(&mut tracker, t0)), ["shape 5", "at 10,20 5"]);
        tracker.handle_showing(false);
        tracker.handle_position(at(11, 20));
        let later = t0 + Duration::from_secs(1);
        assert!(drain(&mut tracker, later).is_empty());
        // Resumed: the position again, the shape not (the console holds it).
        tracker.handle_showing(true);
        assert_eq!(kinds(&drain(&mut tracker, later)), ["at 11,20 5"]);
    }

    #[test]
    fn a_shape_is_sent_once_and_positions_only_when_they_change() {
        let (t0, mut tracker) = shown_at(at(1, 1));
        assert_eq!(kinds(&drain(&mut tracker, t0)), ["shape 5", "at 1,1 5"]);
        let t1 = t0 + MIN_INTERVAL;
        tracker.handle_position(at(1, 1));
        tracker.handle_shape(&image(5, 16, 16));
        assert!(drain(&mut tracker, t1).is_empty());
        tracker.handle_shape(&image(6, 8, 16));
        tracker.handle_position(at(2, 1));
        assert_eq!(kinds(&drain(&mut tracker, t1)), ["shape 6", "at 2,1 6"]);
        // Back to the first shape: the console holds it still.
        let t2 = t1 + MIN_INTERVAL;
        tracker.handle_shape(&image(5, 16, 16));
        assert_eq!(kinds(&drain(&mut tracker, t2)), ["at 2,1 5"]);
    }

    #[test]
    fn positions_are_coalesced_to_the_latest_within_the_interval() {
        let (t0, mut tracker) = shown_at(at(0, 0));
        drain(&mut tracker, t0);
        for x in 1..10 {
            tracker.handle_position(at(x, 0));
            assert!(drain(&mut tracker, t0 + Duration::from_millis(u64::from(x))).is_empty());
        }
        assert_eq!(tracker.poll_timeout(), Some(t0 + MIN_INTERVAL));
        assert_eq!(kinds(&drain(&mut tracker, t0 + MIN_INTERVAL)), ["at 9,0 5"]);
        assert_eq!(tracker.poll_timeout(), None);
    }

    #[test]
    fn the_console_is_sent_a_shape_again_once_it_dropped_it() {
        let (t0, mut tracker) = shown_at(at(0, 0));
        let kept = u32::try_from(POINTER_SHAPES_KEPT).unwrap();
        for serial in 0..=kept {
            tracker.handle_shape(&image(serial, 4, 4));
            drain(&mut tracker, t0 + MIN_INTERVAL * (serial + 1));
        }
        // Shape 0 is the oldest and dropped; shape 1 is still held.
        let later = t0 + MIN_INTERVAL * (kept + 5);
        tracker.handle_shape(&image(1, 4, 4));
        assert_eq!(kinds(&drain(&mut tracker, later)), ["at 0,0 1"]);
        tracker.handle_shape(&image(0, 4, 4));
        let later = later + MIN_INTERVAL;
        assert_eq!(kinds(&drain(&mut tracker, later)), ["shape 0", "at 0,0 0"]);
        // After a failed send everything goes again.
        tracker.handle_send_failed();
        let later = later + MIN_INTERVAL;
        assert_eq!(kinds(&drain(&mut tracker, later)), ["shape 0", "at 0,0 0"]);
    }

    /// The size, hotspot and pixels of `image` as the console is sent them.
    fn sent_as(image: &CursorImage) -> ((u16, u16, u16, u16), Vec<u8>) {
        match shape_message(image) {
            Some(DataMessage::PointerShape {
                width,
                height,
                hot_x,
                hot_y,
                rgba,
                ..
            }) => ((width, height, hot_x, hot_y), rgba.0),
            other => panic!("a shape, not {other:?}"),
        }
    }

    #[test]
    fn shapes_are_straight_rgba_and_large_ones_are_scaled_down() {
        let (size, rgba) = sent_as(&image(1, 2, 3));
        assert_eq!(size, (2, 3, 1, 2));
        // Alpha 0x80 with premultiplied 0x40, 0x20, 0x10.
        assert_eq!(&rgba[..4], &[0x7f, 0x3f, 0x1f, 0x80]);
        assert_eq!(rgba.len(), 2 * 3 * 4);

        let mut big = image(2, 128, 64);
        big.hot_x = 127;
        big.hot_y = 32;
        let (size, rgba) = sent_as(&big);
        let side = MAX_POINTER_SIDE;
        assert_eq!(size, (side, side / 2, side - 1, side / 4));
        assert_eq!(rgba.len(), usize::from(side) * usize::from(side / 2) * 4);

        assert_eq!(shape_message(&image(3, 0, 4)), None);
        let mut short = image(4, 4, 4);
        short.argb.pop();
        assert_eq!(shape_message(&short), None);
        assert_eq!(unpremultiply(0), [0, 0, 0, 0]);
        assert_eq!(unpremultiply(0xff00_ff00), [0, 255, 0, 255]);
    }
}
