//! The messages both sides speak, and nothing else.
//!
//! * [`ids`]: newtypes for every identifier that crosses the wire.
//! * [`api`]: JSON bodies of the signaling server's HTTP API.
//! * [`signal`]: frames on the agent's and the expert's WebSocket to the signaling server.
//! * [`mail`]: the text of the invitation e-mail, for the agent's mail program and SMTP alike.
//! * [`data`]: messages on the WebRTC data channel between agent and console (chat, control).
//! * [`turn_stream`]: STUN and TURN messages on a TCP or TLS stream (RFC 8656 §12.5).
//! * [`text`]: text from a peer or a server, cleaned of what would act instead of showing.
//!
//! Every enum is a serde *tagged* enum (`{"type": "...", ...}`) so that the browser can switch on
//! one field, and unknown or malformed frames fail to parse instead of being guessed at.

pub mod api;
pub mod data;
pub mod ids;
pub mod mail;
pub mod signal;
pub mod text;
pub mod turn_stream;

/// Largest signaling frame either side may send, in bytes. An SDP offer with many candidates is
/// a few kilobytes; anything near this size is a mistake or an attack.
pub const MAX_SIGNAL_FRAME: usize = 64 * 1024;

/// Largest data-channel message, in bytes (chat lines and input events are tiny).
pub const MAX_DATA_MESSAGE: usize = 16 * 1024;
