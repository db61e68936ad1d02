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
