//! Messages on the WebRTC data channel between the agent and the expert console.
//!
//! These never pass through the signaling server. The agent is the authority on everything here:
//! it ignores what it did not agree to.
//!
//! Each session opens with the password check of `docs/pake.md` (SPAKE2, RFC 9382): the console
//! sends its share ([`DataMessage::Pake`]) as soon as the channel opens; the agent answers with
//! its own share and its key confirmation ([`DataMessage::PakeConfirm`]); the console answers
//! with its confirmation, and the agent says how it went ([`DataMessage::PakeResult`]). Until the
//! agent has verified the console's confirmation it sends no frame and takes no other message.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

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
    /// Agent to expert: the novice paused sharing (no frames come until it resumes) or
    /// resumed it.
    Sharing { paused: bool },
    /// Agent to expert: an input event aimed at the novice's own assistance window (its
    /// questions, its Stop control) and was not passed on.
    InputRefused,
    /// Agent to expert: a shape of the novice's pointer, sent once, before the first
    /// [`DataMessage::Pointer`] that names it. The console keeps the last
    /// [`POINTER_SHAPES_KEPT`] shapes it received; the agent sends a shape again once it has
    /// left that window.
    PointerShape {
        /// Names the shape in [`DataMessage::Pointer`] (the X server's serial of the cursor).
        id: u32,
        /// The image's size in pixels, each at most [`MAX_POINTER_SIDE`].
        width: u16,
        height: u16,
        /// The hotspot: the pixel of the image that is the pointer's position.
        hot_x: u16,
        hot_y: u16,
        /// `width * height` pixels, row by row, as red, green, blue and alpha bytes (not
        /// premultiplied).
        rgba: PointerPixels,
    },
    /// Agent to expert: where the novice's pointer is now, in pixels of the shared screen (as
    /// [`DataMessage::Screen`] gives its size), and which [`DataMessage::PointerShape`] it
    /// has. Sent when either changes, at most about 30 times a second.
    Pointer {
        x: u32,
        y: u32,
        shape: u32,
        /// False while the pointer is on another screen of the display.
        visible: bool,
    },
    /// Either way: this side's SPAKE2 share (`pA` from the agent, `pB` from the console), an
    /// uncompressed P-256 point (RFC 9382 §6), as hex.
    Pake { share: Share },
    /// Either way: this side's key confirmation (`cA` or `cB`, RFC 9382 §4), as hex.
    PakeConfirm { mac: Confirmation },
    /// Agent to expert: how the password check ended. After `ok: false` the agent ends the
    /// session.
    PakeResult {
        ok: bool,
        /// Why it failed; absent on success.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<PakeRefusal>,
        /// Failed checks left before the agent locks the invitation, when it failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tries_left: Option<u32>,
    },
}

/// Largest side of a [`DataMessage::PointerShape`] image, in pixels: the agent scales larger
/// cursors down, so that a shape's message stays well under [`crate::MAX_DATA_MESSAGE`]
/// (48 × 48 × 4 bytes are 12 KiB in base64).
pub const MAX_POINTER_SIDE: u16 = 48;

/// How many pointer shapes the console keeps, oldest dropped first.
pub const POINTER_SHAPES_KEPT: usize = 32;

/// Pixels of a pointer image, written as standard base64 (RFC 4648 §4) on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct PointerPixels(pub Vec<u8>);

impl fmt::Debug for PointerPixels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PointerPixels({} bytes)", self.0.len())
    }
}

impl Serialize for PointerPixels {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use base64::Engine as _;
        serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for PointerPixels {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use base64::Engine as _;
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map(Self)
            .map_err(|e| serde::de::Error::custom(format!("pixels are not base64: {e}")))
    }
}

/// Why the agent refused the console in the password check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PakeRefusal {
    /// The confirmations did not match: the password (or the link's secret) was wrong, or
    /// someone in the middle terminated the connection with certificates of its own. SPAKE2
    /// cannot tell these apart.
    Mismatch,
    /// The console's message was no share or confirmation of the protocol.
    Malformed,
    /// The invitation is locked after too many failed checks.
    Locked,
    /// The console did not complete the check in time.
    Timeout,
}

/// Bytes of a fixed length, written as lowercase hex on the wire; anything but exactly `N`
/// bytes of hex is refused when parsing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HexBytes<const N: usize>(pub [u8; N]);

/// A SPAKE2 share: 65 bytes (RFC 9382 §6, uncompressed SEC1 point).
pub type Share = HexBytes<65>;
/// A SPAKE2 key confirmation: 32 bytes (HMAC-SHA256, RFC 9382 §4).
pub type Confirmation = HexBytes<32>;

impl<const N: usize> fmt::Debug for HexBytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl<const N: usize> HexBytes<N> {
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(2 * N);
        for b in self.0 {
            out.push(char::from(DIGITS[usize::from(b >> 4)]));
            out.push(char::from(DIGITS[usize::from(b & 15)]));
        }
        out
    }

    /// Exactly `2 * N` hex digits, either case.
    pub fn from_hex(text: &str) -> Option<Self> {
        let digits = text.as_bytes();
        if digits.len() != 2 * N {
            return None;
        }
        let nibble = |c: u8| {
            char::from(c)
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
        };
        let mut out = [0u8; N];
        for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
            *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
        }
        Some(Self(out))
    }
}

impl<const N: usize> Serialize for HexBytes<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de, const N: usize> Deserialize<'de> for HexBytes<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::from_hex(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("expected {N} bytes as {} hex digits", 2 * N))
        })
    }
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
    fn the_password_check_speaks_fixed_length_hex() {
        let share = format!("04{}", "ab".repeat(64));
        let parsed =
            DataMessage::parse(format!(r#"{{"type":"pake","share":"{share}"}}"#).as_bytes());
        let Ok(DataMessage::Pake { share: parsed }) = parsed else {
            panic!("a share parses: {parsed:?}");
        };
        assert_eq!(parsed.0[0], 4);
        assert_eq!(parsed.to_hex(), share);
        // Upper case is read, too short or too long or not hex is not.
        let upper = format!(
            "{{\"type\":\"pake_confirm\",\"mac\":\"{}\"}}",
            "AB".repeat(32)
        );
        assert!(DataMessage::parse(upper.as_bytes()).is_ok());
        for bad in [
            "ab".repeat(31),
            "ab".repeat(33),
            "zz".repeat(32),
            "é".repeat(32),
        ] {
            let text = format!(r#"{{"type":"pake_confirm","mac":"{bad}"}}"#);
            assert!(DataMessage::parse(text.as_bytes()).is_err(), "{text}");
        }
        let failed = serde_json::to_value(DataMessage::PakeResult {
            ok: false,
            reason: Some(PakeRefusal::Mismatch),
            tries_left: Some(4),
        })
        .unwrap();
        assert_eq!(
            failed,
            serde_json::json!({"type": "pake_result", "ok": false, "reason": "mismatch", "tries_left": 4})
        );
        let ok = serde_json::to_value(DataMessage::PakeResult {
            ok: true,
            reason: None,
            tries_left: None,
        })
        .unwrap();
        assert_eq!(ok, serde_json::json!({"type": "pake_result", "ok": true}));
    }

    #[test]
    fn pointer_messages_have_the_shape_the_console_reads() {
        let shape = DataMessage::PointerShape {
            id: 7,
            width: 1,
            height: 2,
            hot_x: 0,
            hot_y: 1,
            rgba: PointerPixels(vec![255, 0, 0, 255, 0, 0, 0, 0]),
        };
        let json = serde_json::to_value(&shape).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "pointer_shape", "id": 7, "width": 1, "height": 2,
                "hot_x": 0, "hot_y": 1, "rgba": "/wAA/wAAAAA="})
        );
        let back = DataMessage::parse(json.to_string().as_bytes());
        assert_eq!(back, Ok(shape));
        let at = DataMessage::Pointer {
            x: 3,
            y: 4,
            shape: 7,
            visible: true,
        };
        assert_eq!(
            serde_json::to_value(&at).unwrap(),
            serde_json::json!({"type": "pointer", "x": 3, "y": 4, "shape": 7, "visible": true})
        );
        let bad = r#"{"type":"pointer_shape","id":1,"width":1,"height":1,"hot_x":0,"hot_y":0,"rgba":"%%"}"#;
        assert!(DataMessage::parse(bad.as_bytes()).is_err());
    }

    #[test]
    fn the_largest_pointer_shape_fits_in_a_message() {
        let side = usize::from(MAX_POINTER_SIDE);
        let shape = DataMessage::PointerShape {
            id: u32::MAX,
            width: MAX_POINTER_SIDE,
            height: MAX_POINTER_SIDE,
            hot_x: MAX_POINTER_SIDE - 1,
            hot_y: MAX_POINTER_SIDE - 1,
            rgba: PointerPixels(vec![255; side * side * 4]),
        };
        let bytes = serde_json::to_vec(&shape).unwrap();
        assert!(
            bytes.len() < crate::MAX_DATA_MESSAGE,
            "{} bytes",
            bytes.len()
        );
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
