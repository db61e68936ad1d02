//! The novice's agent.
//!
//! * [`session`]: the novice's consent and session state machine (pure).
//! * [`verify`]: the password check with the expert's browser that gates every frame and input
//!   (pure).
//! * [`invite`]: `agent invite`, the driver that runs sessions around it.
//! * [`invitation`]: sending an invitation as a file the expert double-clicks, or by e-mail.
//! * [`server_api`]: HTTP client for the signaling server and the stored credential.
//! * [`status_page`]: `agent status-page`, the invitations on a local web page.
//! * [`signal_client`]: the signaling WebSocket, with reconnection.
//! * [`terminal`]: the novice's terminal (prompts, chat).
//! * [`media`]: screen capture, colour conversion and H.264 encoding on a dedicated thread.
//! * [`peer`]: the WebRTC peer connection that carries video and the data channel.
//! * [`pointer`]: the novice's pointer (shape and position) as messages for the console.
//! * [`control`]: remote control with the novice's consent: state machine, input, Esc watch.
//! * [`online`]: `agent` / `agent online`, an enrolled machine waiting for its support desk
//!   (enrolment itself is [`server_api::ServerApi::enroll`]).
//! * [`quality`]: the frame rate, bitrate and round-trip time reported while live.
//! * [`trace`]: the optional per-frame and per-input timing trace, for latency analysis.

pub mod control;
pub mod frontend;
pub mod invitation;
pub mod invite;
pub mod media;
pub mod online;
pub mod peer;
pub mod pointer;
pub mod quality;
pub mod server_api;
pub mod session;
pub mod signal_client;
pub mod status_page;
pub mod trace;
pub mod verify;
mod xwatch;
