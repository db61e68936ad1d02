//! Messages on the WebRTC data channel between the agent and the expert console.
//!
//! These never pass through the signaling server. The agent is the authority on everything here:
//! it ignores what it did not agree to.

use serde::{Deserialize, Serialize};

/// Label of the one reliable, ordered data channel the agent opens.
pub const CHANNEL_LABEL: &str = "assist";

/// One message on the data channel, either direction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DataMessage {
    /// A chat line. `from` is the sender's display name.
    Chat { from: String, text: String },
    /// The peer is ending the session.
    Bye,
    /// Expert to agent: asks the novice to let the expert control mouse and keyboard.
    ControlRequest,
    /// Expert to agent: the expert gives control back.
    ControlRelease,
    /// Agent to expert: where control stands now, with a sentence for the expert.
    Control {
        state: ControlState,
        message: String,
    },
    /// Expert to agent: one input event. The agent injects it only while control is granted
    /// and drops it otherwise.
    Input { event: InputEvent },
    /// Agent to expert: the shared screen's own size in pixels, sent when the session starts
    /// and whenever it changes. The video may be smaller (on a slow link the agent sends a
    /// scaled-down picture); input positions are in pixels of this size.
    Screen { width: u32, height: u32 },
}

/// Remote control as the expert sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlState {
    /// The novice is being asked.
    Pending,
    /// The expert's input acts on the desktop.
    Granted,
    /// The novice said no (or did not answer); view only.
    Refused,
    /// Control ended (the novice stopped it, or the expert released it); view only.
    Stopped,
}

/// A mouse button.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MouseButton {
    Left,
    Middle,
    Right,
}

/// One input event from the expert's console. Positions are in pixels of the shared screen
/// (as [`DataMessage::Screen`] gives it, or the video's size before that), whatever the
/// console's scaling; the agent clamps them to the screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputEvent {
    /// The pointer moved to `(x, y)`.
    Move { x: u32, y: u32 },
    /// A button went down or up at `(x, y)`. A double click is two presses in quick succession.
    Button {
        button: MouseButton,
        down: bool,
        x: u32,
        y: u32,
    },
    /// Wheel steps: positive `dy` scrolls down, positive `dx` scrolls right.
    Wheel { dx: i32, dy: i32 },
    /// A key went down or up. `key` is the browser's `KeyboardEvent.key`: a character such as
    /// `"a"`, `"A"`, `"é"` or `"!"`, or a named key such as `"Enter"`, `"Backspace"`, `"Tab"`,
    /// `"ArrowLeft"`, `"F5"`, `"Escape"`, `"Shift"`, `"Control"`, `"Alt"` or `"Meta"`.
    Key { key: String, down: bool },
}

impl InputEvent {
    /// Whether this is the Escape key going down or up.
    pub fn is_escape(&self) -> Option<bool> {
        match self {
            InputEvent::Key { key, down } if key == "Escape" => Some(*down),
            _ => None,
        }
    }
}

impl DataMessage {
    /// Parses one message, refusing oversized input before looking at it.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() > crate::MAX_DATA_MESSAGE {
            return Err(format!(
                "message of {} bytes is larger than the {} byte limit",
                bytes.len(),
                crate::MAX_DATA_MESSAGE
            ));
        }
        serde_json::from_slice(bytes).map_err(|e| format!("malformed message: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_the_json_shape_the_console_sends() {
        let click = DataMessage::parse(
            br#"{"type":"input","event":{"kind":"button","button":"left","down":true,"x":10,"y":20}}"#,
        );
        assert_eq!(
            click,
            Ok(DataMessage::Input {
                event: InputEvent::Button {
                    button: MouseButton::Left,
                    down: true,
                    x: 10,
                    y: 20
                }
            })
        );
        assert_eq!(
            DataMessage::parse(br#"{"type":"control_request"}"#),
            Ok(DataMessage::ControlRequest)
        );
        let granted = serde_json::to_value(DataMessage::Control {
            state: ControlState::Granted,
            message: "ok".into(),
        })
        .unwrap();
        assert_eq!(granted["state"], "granted");
        assert!(DataMessage::parse(br#"{"type":"input","event":{"kind":"teleport"}}"#).is_err());
        assert!(DataMessage::parse(&vec![b' '; crate::MAX_DATA_MESSAGE + 1]).is_err());
    }

    #[test]
    fn escape_is_recognised() {
        let esc = |down| InputEvent::Key {
            key: "Escape".into(),
            down,
        };
        assert_eq!(esc(true).is_escape(), Some(true));
        assert_eq!(esc(false).is_escape(), Some(false));
        assert_eq!(InputEvent::Wheel { dx: 0, dy: 1 }.is_escape(), None);
    }
}
