//! Tells the media thread the moment the screen changes, with the X DAMAGE extension.
//!
//! A damage object on the root window in `NonEmpty` mode makes the server send one notify when
//! anything on screen is drawn, then nothing until the damage is subtracted. The watcher thread
//! subtracts it as soon as it is told, before it reports: a change drawn while the media thread
//! grabs the screen is then reported again, so no change is ever missed, and a storm of drawing
//! costs one report per grab rather than one per request.

use std::sync::atomic::{AtomicBool, Ordering};

use x11rb::connection::Connection;
use x11rb::protocol::damage::{self, ConnectionExt as _, ReportLevel};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;

use crate::xwatch::{self, WatchThread};

/// Reports screen changes until dropped.
pub(crate) struct DamageWatcher {
    _thread: WatchThread,
}

impl DamageWatcher {
    /// Starts watching `display`; `changed` is called from the watcher's thread after each
    /// change, and returning `false` from it ends the watch. Fails when the display has no
    /// DAMAGE extension.
    pub fn start(
        display: &str,
        changed: impl FnMut() -> bool + Send + 'static,
    ) -> Result<Self, String> {
        let (conn, root) = xwatch::connect(display)?;
        conn.damage_query_version(1, 1)
            .map_err(|e| e.to_string())?
            .reply()
            .map_err(|e| format!("the X server has no DAMAGE extension ({e})"))?;
        let damage = conn.generate_id().map_err(|e| e.to_string())?;
        conn.damage_create(damage, root, ReportLevel::NON_EMPTY)
            .map_err(|e| e.to_string())?
            .check()
            .map_err(|e| e.to_string())?;
        let wake_window = xwatch::create_wake_window(&conn, root)?;

        let thread = WatchThread::spawn(conn, wake_window, "damage-watcher", move |conn, stop| {
            watch(conn, damage, stop, changed)
        })
        .map_err(|e| e.to_string())?;
        Ok(Self { _thread: thread })
    }
}

fn watch(
    conn: &RustConnection,
    damage: damage::Damage,
    stop: &AtomicBool,
    mut changed: impl FnMut() -> bool,
) {
    while !stop.load(Ordering::Relaxed) {
        match conn.wait_for_event() {
            Ok(Event::DamageNotify(_)) => {
                // Re-arm first: whatever is drawn from now on produces a new notify.
                let rearmed = conn
                    .damage_subtract(damage, x11rb::NONE, x11rb::NONE)
                    .map(drop)
                    .and_then(|()| conn.flush());
                if let Err(e) = rearmed {
                    tracing::warn!(error = %e, "lost the X display; no longer watching changes");
                    changed();
                    return;
                }
                if !changed() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "lost the X display; no longer watching changes");
                // One last report, so that the media thread grabs and meets the error itself.
                changed();
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::tests::xvfb::Xvfb;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn drawing_is_reported_a_still_screen_is_not_and_drop_stops_the_thread() -> anyhow::Result<()> {
        let xvfb = Xvfb::start(320, 240)?;
        let (tx, rx) = mpsc::channel();
        let watcher = DamageWatcher::start(xvfb.display(), move || tx.send(()).is_ok())
            .map_err(anyhow::Error::msg)?;
        while rx.recv_timeout(Duration::from_millis(300)).is_ok() {}

        assert!(
            rx.recv_timeout(Duration::from_secs(1)).is_err(),
            "a report while nothing was drawn"
        );
        for colour in ["#ff0000", "#00ff00"] {
            xvfb.fill(colour)?;
            rx.recv_timeout(Duration::from_secs(10))
                .map_err(|_| anyhow::anyhow!("filling the screen {colour} was not reported"))?;
        }
        // Dropping wakes the blocked thread and joins it; a hang here fails the test by timeout.
        drop(watcher);
        xvfb.fill("#0000ff")?;
        assert!(
            rx.recv_timeout(Duration::from_millis(500)).is_err(),
            "a report after the watcher was dropped"
        );
        Ok(())
    }
}
