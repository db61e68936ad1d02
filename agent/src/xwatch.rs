//! The X connections of the agent's watcher threads (the Escape key, screen changes): opening
//! one, and waking the thread that blocks on it.
//!
//! A thread that waits for X events (`wait_for_event`) cannot be interrupted from outside; it
//! can be sent an event, though. The thread's connection creates an unmapped window of its own,
//! and [`wake`] sends that window a client message from any thread sharing the connection: with
//! an empty event mask, the server delivers it to the window's creator.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ClientMessageEvent, ConnectionExt as _, CreateWindowAux, EventMask, Window,
    WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::COPY_DEPTH_FROM_PARENT;

/// The display to use: `given`, or else the one `$DISPLAY` names; `None` when neither names one.
pub(crate) fn display_name(given: Option<&str>) -> Option<String> {
    given
        .map(str::to_owned)
        .or_else(|| std::env::var("DISPLAY").ok())
        .filter(|name| !name.is_empty())
}

/// Connects to `display` and returns the connection with the root window of its screen.
pub(crate) fn connect(display: &str) -> Result<(RustConnection, Window), String> {
    let (conn, screen) = x11rb::connect(Some(display)).map_err(|e| e.to_string())?;
    let root = conn
        .setup()
        .roots
        .get(screen)
        .ok_or("the display has no such screen")?
        .root;
    Ok((conn, root))
}

/// Creates the 1×1 input-only window, never mapped, that [`wake`] targets.
pub(crate) fn create_wake_window(conn: &RustConnection, root: Window) -> Result<Window, String> {
    let window = conn.generate_id().map_err(|e| e.to_string())?;
    conn.create_window(
        COPY_DEPTH_FROM_PARENT,
        window,
        root,
        0,
        0,
        1,
        1,
        0,
        WindowClass::INPUT_ONLY,
        x11rb::COPY_FROM_PARENT,
        &CreateWindowAux::new(),
    )
    .map_err(|e| e.to_string())?
    .check()
    .map_err(|e| e.to_string())?;
    Ok(window)
}

/// Makes the thread blocked on `conn` return from `wait_for_event`.
pub(crate) fn wake(conn: &RustConnection, window: Window) {
    let event = ClientMessageEvent::new(32, window, AtomEnum::NONE, [0u32; 5]);
    // Should this fail, the connection is broken and the waiting thread has returned already.
    let _ = conn.send_event(false, window, EventMask::NO_EVENT, event);
    let _ = conn.flush();
}

/// A thread blocked on an X connection of its own; dropping it wakes the thread, tells it to
/// stop, and waits for it.
#[derive(Debug)]
pub(crate) struct WatchThread {
    conn: Arc<RustConnection>,
    wake_window: Window,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl WatchThread {
    /// Runs `body` on a thread called `name` with the connection and the stop flag, which it
    /// checks after each event; `wake_window` is the connection's [`create_wake_window`].
    pub fn spawn(
        conn: RustConnection,
        wake_window: Window,
        name: &str,
        body: impl FnOnce(&RustConnection, &AtomicBool) + Send + 'static,
    ) -> std::io::Result<Self> {
        let conn = Arc::new(conn);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (conn, stop) = (Arc::clone(&conn), Arc::clone(&stop));
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || body(&conn, &stop))?
        };
        Ok(Self {
            conn,
            wake_window,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for WatchThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        wake(&self.conn, self.wake_window);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
