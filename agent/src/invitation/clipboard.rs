//! Puts the invitation link on the X clipboard, so that the novice pastes it into a mail or a
//! chat with Ctrl+V.
//!
//! On X the clipboard is a conversation, not a buffer: the agent becomes the owner of the
//! `CLIPBOARD` selection and answers every program that asks for its contents, for as long as
//! it runs (or until something else is copied). A thread of its own answers those requests.

use std::sync::atomic::{AtomicBool, Ordering};

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ConnectionExt as _, EventMask, PropMode, SelectionNotifyEvent,
    SelectionRequestEvent, SELECTION_NOTIFY_EVENT,
};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

use crate::xwatch::{self, WatchThread};

/// Why the text could not be put on the clipboard.
#[derive(Debug, thiserror::Error)]
#[error("cannot copy to the clipboard of X display {display}: {reason}")]
pub struct ClipboardError {
    display: String,
    reason: String,
}

/// Holds the clipboard until dropped.
pub struct Clipboard {
    _thread: WatchThread,
}

#[derive(Clone, Copy)]
struct Atoms {
    clipboard: Atom,
    targets: Atom,
    utf8: Atom,
    text: Atom,
}

impl Clipboard {
    /// Owns the clipboard of `display` (default `$DISPLAY`) with `text`.
    pub fn copy(display: Option<&str>, text: &str) -> Result<Self, ClipboardError> {
        let name = xwatch::display_name(display).unwrap_or_default();
        let fail = |reason: String| ClipboardError {
            display: name.clone(),
            reason,
        };
        if name.is_empty() {
            return Err(fail("no display (DISPLAY is not set)".into()));
        }
        let (conn, root) = xwatch::connect(&name).map_err(fail)?;
        let window = xwatch::create_wake_window(&conn, root).map_err(fail)?;
        let atom = |name: &[u8]| -> Result<Atom, String> {
            Ok(conn
                .intern_atom(false, name)
                .map_err(|e| e.to_string())?
                .reply()
                .map_err(|e| e.to_string())?
                .atom)
        };
        let atoms = Atoms {
            clipboard: atom(b"CLIPBOARD").map_err(fail)?,
            targets: atom(b"TARGETS").map_err(fail)?,
            utf8: atom(b"UTF8_STRING").map_err(fail)?,
            text: atom(b"TEXT").map_err(fail)?,
        };
        conn.set_selection_owner(window, atoms.clipboard, x11rb::CURRENT_TIME)
            .map_err(|e| fail(e.to_string()))?;
        let owner = conn
            .get_selection_owner(atoms.clipboard)
            .map_err(|e| fail(e.to_string()))?
            .reply()
            .map_err(|e| fail(e.to_string()))?
            .owner;
        if owner != window {
            return Err(fail("another program holds on to the clipboard".into()));
        }

        let text = text.to_owned();
        let thread = WatchThread::spawn(conn, window, "clipboard", move |conn, stop| {
            serve(conn, atoms, &text, stop)
        })
        .map_err(|e| fail(e.to_string()))?;
        Ok(Self { _thread: thread })
    }
}

fn serve(conn: &RustConnection, atoms: Atoms, text: &str, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match conn.wait_for_event() {
            Ok(Event::SelectionRequest(request)) => {
                if let Err(e) = answer(conn, atoms, text, &request) {
                    tracing::debug!(error = %e, "a clipboard request went unanswered");
                }
            }
            // Something else was copied: the clipboard is theirs now.
            Ok(Event::SelectionClear(_)) => return,
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(error = %e, "lost the X display; the clipboard is released");
                return;
            }
        }
    }
}

/// Hands `text` (or the list of formats it comes in) to the program that asked.
fn answer(
    conn: &RustConnection,
    atoms: Atoms,
    text: &str,
    request: &SelectionRequestEvent,
) -> Result<(), x11rb::errors::ConnectionError> {
    // Obsolete clients name no property: use the target, as ICCCM says.
    let property = if request.property == x11rb::NONE {
        request.target
    } else {
        request.property
    };
    let string = Atom::from(AtomEnum::STRING);
    let answered = if request.target == atoms.targets {
        conn.change_property32(
            PropMode::REPLACE,
            request.requestor,
            property,
            AtomEnum::ATOM,
            &[atoms.targets, atoms.utf8, string, atoms.text],
        )?;
        property
    } else if [atoms.utf8, string, atoms.text].contains(&request.target) {
        let kind = if request.target == string {
            string
        } else {
            atoms.utf8
        };
        conn.change_property8(
            PropMode::REPLACE,
            request.requestor,
            property,
            kind,
            text.as_bytes(),
        )?;
        property
    } else {
        // A format we do not offer: refuse, as the protocol says, with no property.
        x11rb::NONE
    };
    let notify = SelectionNotifyEvent {
        response_type: SELECTION_NOTIFY_EVENT,
        sequence: 0,
        time: request.time,
        requestor: request.requestor,
        selection: request.selection,
        target: request.target,
        property: answered,
    };
    conn.send_event(false, request.requestor, EventMask::NO_EVENT, notify)?;
    conn.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::tests::xvfb::Xvfb;

    fn paste(xvfb: &Xvfb) -> anyhow::Result<String> {
        let out = xvfb
            .command("xclip")
            .args(["-o", "-selection", "clipboard"])
            .output()?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    #[test]
    fn other_programs_paste_the_text_until_dropped() -> anyhow::Result<()> {
        let xvfb = Xvfb::start(320, 240)?;
        let link = "http://127.0.0.1:8080/i/AbC-12_é";
        let clipboard = Clipboard::copy(Some(xvfb.display()), link)?;
        assert_eq!(paste(&xvfb)?, link);
        let targets = xvfb
            .command("xclip")
            .args(["-o", "-selection", "clipboard", "-t", "TARGETS"])
            .output()?;
        assert!(String::from_utf8_lossy(&targets.stdout).contains("UTF8_STRING"));

        drop(clipboard);
        assert_eq!(paste(&xvfb)?, "", "nothing to paste once the agent let go");
        Ok(())
    }
}
