//! Puts the expert's input on the X display through XTest (enigo), on a dedicated thread so
//! that a slow X server never stalls the async runtime.
//!
//! [`Injector::inject`] only queues; the thread applies events in order. The injector
//! remembers which keys and buttons it holds down, so that [`Injector::release_all`] leaves
//! nothing pressed when control ends, whatever the expert's browser sent last.
//!
//! Each event is queued with the control generation it was sent in; [`Injector::release_all`]
//! (control ended) starts a new generation, and the thread skips every event of an older one.
//! So input still queued when the novice takes control back (up to 1 024 events behind a
//! slow X server) never lands on their desktop.
//!
//! A character is typed with the keycode the display's own keyboard mapping has for it (with
//! Shift for the second level), read at the start and again whenever the mapping changes. Only
//! a character the mapping lacks goes through enigo, which binds it to a spare keycode first: a
//! program that has not yet seen that new binding when the key arrives reads a key with no
//! symbol, which once lost a typed "H".
//!
//! Keys come as the browser's `KeyboardEvent.key` and are treated in two ways:
//! * A character (`"a"`, `"A"`, `"é"`, `"!"`, `" "`) is typed when it goes down (pressed and
//!   released at once) and its key-up is ignored. The browser names the key-up after the
//!   modifiers of that moment (Shift+1 goes down as `"!"` and may come up as `"1"`), so a held
//!   character could not be matched reliably, and the X server autorepeats a key left down.
//!   While the expert holds a character key their browser repeats its key-down, which types it
//!   again.
//! * A named key (`"Shift"`, `"Control"`, `"Escape"`, `"Enter"`, `"ArrowLeft"`, ...) is held
//!   from its key-down to its key-up, so modifiers combine with what follows. The browser's
//!   repeated key-downs of a key already held are dropped: the X server repeats held keys itself,
//!   and each Escape the display sees is then exactly one the expert pressed.
//!
//! The expert cannot answer the novice's own questions: a click or a wheel turn over a window
//! of this program (the novice's window, its Allow and Decline), and a key while such a window
//! has the keyboard focus, is dropped. A window is this program's when its `_NET_WM_PID` (or
//! that of the client window inside a window manager's frame) is this process.
//!
//! Lock keys are not forwarded: the browser has already applied the expert's Caps Lock and
//! Num Lock to the characters it reports, and toggling the novice's would apply them twice.

use enigo::{Axis, Button, Coordinate, Direction, Enigo, Key, Keyboard, Mouse, Settings};
use protocol::data::{InputEvent, MouseButton};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ChangeWindowAttributesAux, ConnectionExt as _, EventMask, Window,
};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;

use crate::xwatch;

/// Events queued for the input thread before new ones are dropped. The thread keeps up with
/// any human; a full queue means the X server has stalled.
const QUEUE: usize = 1024;
/// The most wheel steps one event may turn; bounds the work a single message can cause.
const MAX_WHEEL_STEPS: i32 = 50;

/// Why input cannot be injected.
#[derive(Debug, thiserror::Error)]
pub enum InjectError {
    #[error("no X display to control: none was given and DISPLAY is not set")]
    NoDisplay,
    #[error("cannot put input on X display {display}: {reason}")]
    Open { display: String, reason: String },
    #[error("cannot start the input thread: {0}")]
    Thread(#[source] std::io::Error),
}

enum Job {
    /// An event, with the control generation it was sent in.
    Event(InputEvent, u64),
    ReleaseAll,
}

/// Injects input events on one X display until dropped.
#[derive(Debug)]
pub struct Injector {
    jobs: Option<mpsc::SyncSender<Job>>,
    /// One message for each event dropped because it would have reached this program's own
    /// window, until taken by [`Injector::take_refusals`].
    refusals: Option<tokio::sync::mpsc::Receiver<()>>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Flags the async side sets for the input thread.
#[derive(Debug, Default)]
struct Shared {
    /// Events were dropped or a release could not be queued: the thread releases everything
    /// it holds once it gets to it, as what is held no longer matches the expert's hands.
    release: AtomicBool,
    /// The injector is being dropped: queued events are skipped.
    stop: AtomicBool,
    /// The current period of control; events of an earlier one are stale.
    generation: Generation,
}

/// Periods of control, counted: an event belongs to the period it was queued in, and is
/// applied only while that period lasts.
#[derive(Debug, Default)]
pub struct Generation(AtomicU64);

impl Generation {
    /// The current period, to tag an event queued now.
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Ends the current period: every event tagged before is stale from now on.
    pub fn end(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether an event tagged `generation` may still be applied.
    pub fn admits(&self, generation: u64) -> bool {
        generation == self.current()
    }
}

impl Injector {
    /// Connects to `display` (default `$DISPLAY`) on a new thread and returns once connected;
    /// fails at once when the display cannot be opened or has no XTest.
    pub fn start(display: Option<&str>) -> Result<Injector, InjectError> {
        let name = xwatch::display_name(display).ok_or(InjectError::NoDisplay)?;
        let (jobs, job_rx) = mpsc::sync_channel(QUEUE);
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let shared = Arc::new(Shared::default());
        let (refused, refusals) = tokio::sync::mpsc::channel(16);
        let thread = {
            let name = name.clone();
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("input-injector".into())
                .spawn(move || match Worker::open(&name, refused) {
                    Ok(worker) => {
                        let _ = ready_tx.send(Ok(()));
                        worker.run(&job_rx, &shared);
                    }
                    Err(reason) => {
                        let _ = ready_tx.send(Err(reason));
                    }
                })
                .map_err(InjectError::Thread)?
        };
        let reason = match ready_rx.recv() {
            Ok(Ok(())) => {
                return Ok(Injector {
                    jobs: Some(jobs),
                    refusals: Some(refusals),
                    shared,
                    thread: Some(thread),
                })
            }
            Ok(Err(reason)) => reason,
            Err(_) => "the input thread ended while connecting".into(),
        };
        let _ = thread.join();
        Err(InjectError::Open {
            display: name,
            reason,
        })
    }

    /// The refusals of input aimed at this program's own windows, one `()` each; once.
    pub fn take_refusals(&mut self) -> Option<tokio::sync::mpsc::Receiver<()>> {
        self.refusals.take()
    }

    /// Queues one event; never blocks. Should the queue be full, the event is dropped and
    /// everything held is released.
    pub fn inject(&self, event: InputEvent) {
        self.send(Job::Event(event, self.shared.generation.current()));
    }

    /// Control ended: drops every event still queued and releases every key and button held
    /// down for the expert. Events injected afterwards belong to the next period of control.
    pub fn release_all(&self) {
        self.shared.generation.end();
        self.send(Job::ReleaseAll);
    }

    fn send(&self, job: Job) {
        let Some(jobs) = &self.jobs else { return };
        match jobs.try_send(job) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(_)) => {
                tracing::warn!("the X server is not keeping up; dropping the expert's input");
                self.shared.release.store(true, Ordering::Relaxed);
            }
            // The thread is gone (the display closed), and there is nothing to inject into.
            Err(mpsc::TrySendError::Disconnected(_)) => {}
        }
    }
}

impl Drop for Injector {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        // Closing the queue ends the thread, which releases what it holds on the way out.
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The input thread's side: the XTest connection and what it holds down.
struct Worker {
    enigo: Enigo,
    /// A plain connection that follows the screen size (the root window's ConfigureNotify).
    conn: RustConnection,
    root: Window,
    size: (u32, u32),
    /// The display's keyboard mapping; `None` when it could not be read.
    keymap: Option<Keymap>,
    keys: HashSet<Key>,
    buttons: HashSet<MouseButton>,
    /// `_NET_WM_PID`, to tell this program's own windows.
    wm_pid: Atom,
    /// Told of each event dropped because it aimed at this program's own window.
    refused: tokio::sync::mpsc::Sender<()>,
}

impl Worker {
    fn open(display: &str, refused: tokio::sync::mpsc::Sender<()>) -> Result<Worker, String> {
        let (conn, screen) = x11rb::connect(Some(display)).map_err(|e| e.to_string())?;
        let screen = conn
            .setup()
            .roots
            .get(screen)
            .ok_or("the display has no such screen")?;
        let (root, size) = (
            screen.root,
            (
                u32::from(screen.width_in_pixels),
                u32::from(screen.height_in_pixels),
            ),
        );
        let xtest = conn
            .query_extension(b"XTEST")
            .map_err(|e| e.to_string())?
            .reply()
            .map_err(|e| e.to_string())?;
        if !xtest.present {
            return Err("the X server has no XTEST extension".into());
        }
        conn.change_window_attributes(
            root,
            &ChangeWindowAttributesAux::new().event_mask(EventMask::STRUCTURE_NOTIFY),
        )
        .map_err(|e| e.to_string())?
        .check()
        .map_err(|e| e.to_string())?;
        let enigo = Enigo::new(&Settings {
            x11_display: Some(display.to_owned()),
            // A delay in ms that the X server waits before each event; the expert's input is
            // paced by their hands already.
            linux_delay: 0,
            release_keys_when_dropped: true,
            ..Settings::default()
        })
        .map_err(|e| e.to_string())?;
        let keymap = Keymap::load(&conn)
            .map_err(|e| tracing::warn!(error = %e, "cannot read the keyboard mapping"))
            .ok();
        let wm_pid = conn
            .intern_atom(false, b"_NET_WM_PID")
            .map_err(|e| e.to_string())?
            .reply()
            .map_err(|e| e.to_string())?
            .atom;
        Ok(Worker {
            enigo,
            conn,
            root,
            size,
            keymap,
            keys: HashSet::new(),
            buttons: HashSet::new(),
            wm_pid,
            refused,
        })
    }

    /// Whether `window` is one of this program's: its own `_NET_WM_PID`, or that of a client
    /// window a window manager framed in it (looked for two levels down).
    fn is_own_window(&self, window: Window, depth: u32) -> bool {
        if window == x11rb::NONE || window == self.root {
            return false;
        }
        let pid = self
            .conn
            .get_property(false, window, self.wm_pid, AtomEnum::CARDINAL, 0, 1)
            .ok()
            .and_then(|cookie| cookie.reply().ok())
            .and_then(|reply| reply.value32().and_then(|mut v| v.next()));
        if pid == Some(std::process::id()) {
            return true;
        }
        if pid.is_some() || depth == 0 {
            return false;
        }
        let children = self
            .conn
            .query_tree(window)
            .ok()
            .and_then(|cookie| cookie.reply().ok())
            .map(|tree| tree.children)
            .unwrap_or_default();
        children
            .into_iter()
            .any(|child| self.is_own_window(child, depth - 1))
    }

    /// Whether the top-level window at (`x`, `y`) of the screen is one of this program's.
    fn own_window_at(&self, x: i16, y: i16) -> bool {
        let child = self
            .conn
            .translate_coordinates(self.root, self.root, x, y)
            .ok()
            .and_then(|cookie| cookie.reply().ok())
            .map(|reply| reply.child);
        child.is_some_and(|child| self.is_own_window(child, 2))
    }

    /// Whether the pointer is over one of this program's windows now.
    fn pointer_on_own_window(&self) -> bool {
        let pointer = self
            .conn
            .query_pointer(self.root)
            .ok()
            .and_then(|cookie| cookie.reply().ok());
        pointer.is_some_and(|p| self.is_own_window(p.child, 2))
    }

    /// Whether the keyboard focus is in one of this program's windows (the focused window or a
    /// window above it).
    fn focus_on_own_window(&self) -> bool {
        let Some(mut window) = self
            .conn
            .get_input_focus()
            .ok()
            .and_then(|cookie| cookie.reply().ok())
            .map(|reply| reply.focus)
        else {
            return false;
        };
        for _ in 0..8 {
            if window == x11rb::NONE || window == self.root || window <= 1 {
                return false;
            }
            if self.is_own_window(window, 0) {
                return true;
            }
            match self
                .conn
                .query_tree(window)
                .ok()
                .and_then(|cookie| cookie.reply().ok())
            {
                Some(tree) => window = tree.parent,
                None => return false,
            }
        }
        false
    }

    fn run(mut self, jobs: &mpsc::Receiver<Job>, shared: &Shared) {
        while let Ok(job) = jobs.recv() {
            if shared.stop.load(Ordering::Relaxed) {
                break;
            }
            let done = match job {
                Job::Event(_, generation) if !shared.generation.admits(generation) => Ok(()),
                Job::Event(event, _) => self.apply(event),
                Job::ReleaseAll => self.release_all(),
            };
            if let Err(e) = done {
                tracing::warn!(error = %e, "could not inject an input event");
            }
            if shared.release.swap(false, Ordering::Relaxed) {
                if let Err(e) = self.release_all() {
                    tracing::warn!(error = %e, "could not release the expert's keys");
                }
            }
        }
        if let Err(e) = self.release_all() {
            tracing::warn!(error = %e, "could not release the expert's keys");
        }
    }

    fn apply(&mut self, event: InputEvent) -> enigo::InputResult<()> {
        match event {
            InputEvent::Move { x, y } => self.move_to(x, y),
            InputEvent::Button { button, down, x, y } => {
                self.move_to(x, y)?;
                if down {
                    let (px, py) = clamp((x, y), self.size);
                    let at = |v: i32| i16::try_from(v).unwrap_or(i16::MAX);
                    if self.own_window_at(at(px), at(py)) {
                        tracing::info!("dropped the expert's click on the novice's own window");
                        let _ = self.refused.try_send(());
                        return Ok(());
                    }
                }
                let change = if down {
                    self.buttons.insert(button)
                } else {
                    self.buttons.remove(&button)
                };
                if !change {
                    // A repeated press, or the release of a press we never made.
                    return Ok(());
                }
                self.enigo.button(enigo_button(button), direction(down))
            }
            InputEvent::Wheel { .. } if self.pointer_on_own_window() => {
                tracing::info!("dropped the expert's wheel over the novice's own window");
                let _ = self.refused.try_send(());
                Ok(())
            }
            InputEvent::Key { down: true, .. } if self.focus_on_own_window() => {
                tracing::info!("dropped the expert's key: the novice's own window has the focus");
                let _ = self.refused.try_send(());
                Ok(())
            }
            InputEvent::Wheel { dx, dy } => {
                let steps = |n: i32| n.clamp(-MAX_WHEEL_STEPS, MAX_WHEEL_STEPS);
                if dy != 0 {
                    self.enigo.scroll(steps(dy), Axis::Vertical)?;
                }
                if dx != 0 {
                    self.enigo.scroll(steps(dx), Axis::Horizontal)?;
                }
                Ok(())
            }
            InputEvent::Key { key: name, down } => match browser_key(&name) {
                None => {
                    tracing::debug!(key = %name, "ignoring a key with no X equivalent");
                    Ok(())
                }
                Some(BrowserKey::Typed(Key::Unicode(c))) if down => self.type_char(c),
                Some(BrowserKey::Typed(key)) if down => self.enigo.key(key, Direction::Click),
                Some(BrowserKey::Typed(_)) => Ok(()),
                Some(BrowserKey::Held(key)) => {
                    let change = if down {
                        self.keys.insert(key)
                    } else {
                        self.keys.remove(&key)
                    };
                    if !change {
                        // The browser's autorepeat, or the release of a press we never made.
                        return Ok(());
                    }
                    self.enigo.key(key, direction(down))
                }
            },
        }
    }

    /// Types `c` with the keycode the display maps it to, holding Shift for the second level
    /// unless the expert holds it already; through enigo's spare keycode when it has none.
    fn type_char(&mut self, c: char) -> enigo::InputResult<()> {
        self.follow_display();
        let found = self.keymap.as_ref().and_then(|map| map.find(keysym_for(c)));
        match found {
            Some((keycode, false)) => self.enigo.raw(u16::from(keycode), Direction::Click),
            Some((keycode, true)) if self.keys.contains(&Key::Shift) => {
                self.enigo.raw(u16::from(keycode), Direction::Click)
            }
            Some((keycode, true)) => {
                self.enigo.key(Key::Shift, Direction::Press)?;
                let typed = self.enigo.raw(u16::from(keycode), Direction::Click);
                self.enigo.key(Key::Shift, Direction::Release)?;
                typed
            }
            None => self.enigo.key(Key::Unicode(c), Direction::Click),
        }
    }

    fn move_to(&mut self, x: u32, y: u32) -> enigo::InputResult<()> {
        self.follow_display();
        let (x, y) = clamp((x, y), self.size);
        self.enigo.move_mouse(x, y, Coordinate::Abs)
    }

    /// Takes in size changes of the screen (xrandr) and keyboard mapping changes reported
    /// since the last look.
    fn follow_display(&mut self) {
        loop {
            match self.conn.poll_for_event() {
                Ok(Some(Event::ConfigureNotify(e))) if e.window == self.root => {
                    self.size = (u32::from(e.width), u32::from(e.height));
                }
                Ok(Some(Event::MappingNotify(_))) => match Keymap::load(&self.conn) {
                    Ok(map) => self.keymap = Some(map),
                    Err(e) => tracing::debug!(error = %e, "cannot read the new keyboard mapping"),
                },
                Ok(Some(_)) => {}
                Ok(None) => return,
                Err(e) => {
                    // Injection goes through enigo's own connection; keep the last size.
                    tracing::debug!(error = %e, "lost the connection following the screen size");
                    return;
                }
            }
        }
    }

    fn release_all(&mut self) -> enigo::InputResult<()> {
        let mut result = Ok(());
        for key in std::mem::take(&mut self.keys) {
            result = result.and(self.enigo.key(key, Direction::Release));
        }
        for button in std::mem::take(&mut self.buttons) {
            result = result.and(self.enigo.button(enigo_button(button), Direction::Release));
        }
        result
    }
}

/// A display's core keyboard mapping: the keysyms each keycode types, level by level.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Keymap {
    min_keycode: u8,
    per_keycode: usize,
    keysyms: Vec<u32>,
}

impl Keymap {
    fn load(conn: &RustConnection) -> Result<Self, String> {
        let setup = conn.setup();
        let (min_keycode, max_keycode) = (setup.min_keycode, setup.max_keycode);
        let reply = conn
            .get_keyboard_mapping(min_keycode, max_keycode - min_keycode + 1)
            .map_err(|e| e.to_string())?
            .reply()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            min_keycode,
            per_keycode: usize::from(reply.keysyms_per_keycode),
            keysyms: reply.keysyms,
        })
    }

    /// The keycode typing `keysym` and whether it needs Shift: the first level is preferred.
    fn find(&self, keysym: u32) -> Option<(u8, bool)> {
        if self.per_keycode == 0 {
            return None;
        }
        for (level, shifted) in [(0, false), (1, true)] {
            if level >= self.per_keycode {
                break;
            }
            let found = self
                .keysyms
                .chunks_exact(self.per_keycode)
                .position(|syms| syms[level] == keysym);
            if let Some(index) = found {
                let keycode = u8::try_from(index).ok()?.checked_add(self.min_keycode)?;
                return Some((keycode, shifted));
            }
        }
        None
    }
}

/// The X keysym of a character: Latin-1 characters are their own code, every other one is
/// 0x0100_0000 plus its code point (X11 keysym encoding, Appendix A).
fn keysym_for(c: char) -> u32 {
    let code = u32::from(c);
    if (0x20..=0x7e).contains(&code) || (0xa0..=0xff).contains(&code) {
        code
    } else {
        0x0100_0000 + code
    }
}

fn direction(down: bool) -> Direction {
    if down {
        Direction::Press
    } else {
        Direction::Release
    }
}

fn enigo_button(button: MouseButton) -> Button {
    match button {
        MouseButton::Left => Button::Left,
        MouseButton::Middle => Button::Middle,
        MouseButton::Right => Button::Right,
    }
}

/// A screen position clamped into a `size` screen, as enigo's signed coordinates.
fn clamp((x, y): (u32, u32), (width, height): (u32, u32)) -> (i32, i32) {
    let fit = |v: u32, size: u32| i32::try_from(v.min(size.saturating_sub(1))).unwrap_or(0);
    (fit(x, width), fit(y, height))
}

/// How a browser key reaches the X display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BrowserKey {
    /// A character: typed on key-down, key-up ignored.
    Typed(Key),
    /// A named key: held from key-down to key-up.
    Held(Key),
}

/// The X key for a browser `KeyboardEvent.key` value; `None` for keys that are not forwarded.
fn browser_key(key: &str) -> Option<BrowserKey> {
    let mut chars = key.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return match c {
            ' ' => Some(BrowserKey::Typed(Key::Space)),
            c if c.is_control() => None,
            c => Some(BrowserKey::Typed(Key::Unicode(c))),
        };
    }
    let held = match key {
        "Enter" => Key::Return,
        "Backspace" => Key::Backspace,
        "Tab" => Key::Tab,
        "Escape" => Key::Escape,
        "Delete" => Key::Delete,
        "Insert" => Key::Insert,
        "Home" => Key::Home,
        "End" => Key::End,
        "PageUp" => Key::PageUp,
        "PageDown" => Key::PageDown,
        "ArrowLeft" => Key::LeftArrow,
        "ArrowRight" => Key::RightArrow,
        "ArrowUp" => Key::UpArrow,
        "ArrowDown" => Key::DownArrow,
        "Shift" => Key::Shift,
        "Control" => Key::Control,
        "Alt" => Key::Alt,
        "Meta" | "OS" | "Super" => Key::Meta,
        "ContextMenu" => Key::LMenu,
        "Pause" => Key::Pause,
        "PrintScreen" => Key::PrintScr,
        "F1" => Key::F1,
        "F2" => Key::F2,
        "F3" => Key::F3,
        "F4" => Key::F4,
        "F5" => Key::F5,
        "F6" => Key::F6,
        "F7" => Key::F7,
        "F8" => Key::F8,
        "F9" => Key::F9,
        "F10" => Key::F10,
        "F11" => Key::F11,
        "F12" => Key::F12,
        // Lock keys (see the module documentation), "AltGraph" (the browser reports the
        // character it produced), "Dead", "Unidentified", "Process" and the rest.
        _ => return None,
    };
    Some(BrowserKey::Held(held))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keycodes 8.. of a US keyboard, two levels each: `h`/`H` at 43, `1`/`!` at 10, and a
    /// keycode with only a first level.
    fn us_keymap() -> Keymap {
        let mut keysyms = vec![0; 2 * 60];
        let mut set = |keycode: usize, syms: [u32; 2]| {
            keysyms[2 * (keycode - 8)..][..2].copy_from_slice(&syms);
        };
        set(10, [u32::from('1'), u32::from('!')]);
        set(43, [u32::from('h'), u32::from('H')]);
        set(65, [u32::from(' '), 0]);
        Keymap {
            min_keycode: 8,
            per_keycode: 2,
            keysyms,
        }
    }

    #[test]
    fn characters_are_found_on_their_level_of_the_display_keymap() {
        let map = us_keymap();
        assert_eq!(map.find(keysym_for('h')), Some((43, false)));
        assert_eq!(map.find(keysym_for('H')), Some((43, true)));
        assert_eq!(map.find(keysym_for('!')), Some((10, true)));
        assert_eq!(map.find(keysym_for(' ')), Some((65, false)));
        assert_eq!(
            map.find(keysym_for('é')),
            None,
            "left to enigo's spare keycode"
        );
        let empty = Keymap {
            min_keycode: 8,
            per_keycode: 0,
            keysyms: Vec::new(),
        };
        assert_eq!(empty.find(keysym_for('h')), None);
    }

    #[test]
    fn keysyms_follow_the_x11_encoding() {
        assert_eq!(keysym_for('a'), 0x61);
        assert_eq!(keysym_for('é'), 0xe9);
        assert_eq!(keysym_for('€'), 0x0100_20ac);
        assert_eq!(keysym_for('ő'), 0x0100_0151);
    }

    #[test]
    fn characters_are_typed_and_named_keys_held() {
        use BrowserKey::{Held, Typed};
        assert_eq!(browser_key("a"), Some(Typed(Key::Unicode('a'))));
        assert_eq!(browser_key("A"), Some(Typed(Key::Unicode('A'))));
        assert_eq!(browser_key("é"), Some(Typed(Key::Unicode('é'))));
        assert_eq!(browser_key("ö"), Some(Typed(Key::Unicode('ö'))));
        assert_eq!(browser_key("!"), Some(Typed(Key::Unicode('!'))));
        assert_eq!(browser_key("€"), Some(Typed(Key::Unicode('€'))));
        assert_eq!(browser_key(" "), Some(Typed(Key::Space)));
        assert_eq!(browser_key("Enter"), Some(Held(Key::Return)));
        assert_eq!(browser_key("Backspace"), Some(Held(Key::Backspace)));
        assert_eq!(browser_key("Tab"), Some(Held(Key::Tab)));
        assert_eq!(browser_key("Escape"), Some(Held(Key::Escape)));
        assert_eq!(browser_key("ArrowLeft"), Some(Held(Key::LeftArrow)));
        assert_eq!(browser_key("ArrowDown"), Some(Held(Key::DownArrow)));
        assert_eq!(browser_key("PageUp"), Some(Held(Key::PageUp)));
        assert_eq!(browser_key("F1"), Some(Held(Key::F1)));
        assert_eq!(browser_key("F12"), Some(Held(Key::F12)));
        assert_eq!(browser_key("Shift"), Some(Held(Key::Shift)));
        assert_eq!(browser_key("Control"), Some(Held(Key::Control)));
        assert_eq!(browser_key("Alt"), Some(Held(Key::Alt)));
        assert_eq!(browser_key("Meta"), Some(Held(Key::Meta)));
    }

    #[test]
    fn keys_without_a_meaning_here_are_not_forwarded() {
        for key in [
            "Dead",
            "Unidentified",
            "Process",
            "AltGraph",
            "CapsLock",
            "NumLock",
            "F13",
            "escape",
            "\u{7}",
            "\t",
            "",
        ] {
            assert_eq!(browser_key(key), None, "{key:?}");
        }
    }

    #[test]
    fn events_queued_before_control_ended_are_stale() {
        let generation = Generation::default();
        let queued = generation.current();
        assert!(generation.admits(queued));
        generation.end();
        assert!(
            !generation.admits(queued),
            "control ended after it was queued"
        );
        let next = generation.current();
        assert!(generation.admits(next), "the next period's events land");
        generation.end();
        generation.end();
        assert!(!generation.admits(next) && !generation.admits(queued));
    }

    #[test]
    fn positions_are_clamped_to_the_screen() {
        assert_eq!(clamp((300, 200), (1280, 720)), (300, 200));
        assert_eq!(clamp((0, 0), (1280, 720)), (0, 0));
        assert_eq!(clamp((1279, 719), (1280, 720)), (1279, 719));
        assert_eq!(clamp((5000, 5000), (1280, 720)), (1279, 719));
        assert_eq!(clamp((u32::MAX, 0), (1280, 720)), (1279, 0));
        assert_eq!(clamp((10, 10), (0, 0)), (0, 0));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 1024, ..Default::default() })]

        #[test]
        fn any_position_the_expert_sends_lands_on_the_screen(
            x in proptest::prelude::any::<u32>(),
            y in proptest::prelude::any::<u32>(),
            width in 0u32..=u32::from(u16::MAX),
            height in 0u32..=u32::from(u16::MAX),
        ) {
            let (cx, cy) = clamp((x, y), (width, height));
            proptest::prop_assert!(cx >= 0 && cy >= 0);
            proptest::prop_assert!(u32::try_from(cx).is_ok_and(|cx| cx < width.max(1)));
            proptest::prop_assert!(u32::try_from(cy).is_ok_and(|cy| cy < height.max(1)));
            // Positions on the screen are kept as they are.
            if x < width && y < height {
                proptest::prop_assert_eq!((cx, cy), (x as i32, y as i32));
            }
        }

        #[test]
        fn any_key_name_is_forwarded_only_as_a_character_or_a_known_key(key in proptest::prelude::any::<String>()) {
            let single = {
                let mut chars = key.chars();
                matches!((chars.next(), chars.next()), (Some(c), None) if !c.is_control())
            };
            match browser_key(&key) {
                Some(BrowserKey::Typed(_)) => proptest::prop_assert!(single, "{:?}", key),
                Some(BrowserKey::Held(_)) => proptest::prop_assert!(!single && key.is_ascii()),
                None => proptest::prop_assert!(!single),
            }
        }
    }
}
