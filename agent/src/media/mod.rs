//! The desktop as an H.264 stream: captures the X11 screen, converts each BGRA frame to I420
//! and encodes it with OpenH264 as Constrained Baseline in Annex-B, on a dedicated OS thread so
//! that the milliseconds of pixel work never stall the async runtime.
//!
//! * `capture`: grabs the screen of one X display into a tight BGRA buffer.
//! * `convert`: BGRA to I420 with a SIMD converter.
//! * `damage`: reports the moment anything is drawn on the screen (X DAMAGE), so that capture
//!   follows changes rather than a timer.
//! * `encode`: the OpenH264 encoder, tuned for screen content in real time.
//! * `handoff`: the bounded queue between the thread and async code, which drops the oldest
//!   frame rather than letting latency grow when the sender falls behind.
//! * `pipeline`: the thread loop (pace, skip unchanged screens, honour keyframe requests) and
//!   the public [`Pipeline`] / [`FrameReceiver`] API.

mod capture;
mod convert;
mod damage;
mod encode;
mod handoff;
mod pipeline;

use std::time::{Duration, Instant};

pub use handoff::FrameReceiver;
pub use pipeline::Pipeline;

/// What to capture and how to encode it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaConfig {
    /// The X display to capture, such as `:0`; `None` means the one named by `$DISPLAY`.
    pub display: Option<String>,
    /// Upper bound on captured and encoded frames per second.
    pub max_fps: u32,
    /// Target bitrate of the encoder in bits per second.
    pub bitrate_bps: u32,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            display: None,
            max_fps: 30,
            bitrate_bps: 2_000_000,
        }
    }
}

/// One encoded picture, ready to be packetized.
#[derive(Debug, Clone)]
pub struct EncodedFrame {
    /// One H.264 access unit in Annex-B format (start codes before each NAL unit); keyframes
    /// carry their SPS and PPS.
    pub data: Vec<u8>,
    /// Whether this is an IDR picture that a decoder can start from.
    pub keyframe: bool,
    /// The same picture as the frame before, sent again because the screen is still (see the
    /// pipeline's `STILL_REFRESH`); the screen was not grabbed for it.
    pub repeat: bool,
    pub width: u32,
    pub height: u32,
    /// When the screen content in this frame was grabbed.
    pub captured_at: Instant,
    pub timings: FrameTimings,
}

/// Where the time for one frame went, to find the stage that limits the frame rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameTimings {
    /// Grabbing the screen and comparing it with the last frame sent.
    pub capture: Duration,
    pub convert: Duration,
    pub encode: Duration,
}

/// Why the media pipeline could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("invalid media settings: {0}")]
    Config(String),
    #[error(
        "cannot open X display {display}: is DISPLAY set and the X server running? ({reason})"
    )]
    OpenDisplay { display: String, reason: String },
    #[error(
        "X display {display} has no screen or monitor to capture: is the RandR extension enabled?"
    )]
    NoScreen { display: String },
    #[error("cannot capture X display {display}: the X server needs the MIT-SHM extension and shared memory ({source})")]
    Capture {
        display: String,
        source: std::io::Error,
    },
    #[error("lost the connection to X display {display}: did the X server stop? ({reason})")]
    DisplayLost { display: String, reason: String },
    #[error("cannot convert the screen image to YUV: {0}")]
    Convert(String),
    #[error("the H.264 encoder failed: {0}")]
    Encode(String),
    #[error("the media thread could not be started: {0}")]
    Thread(std::io::Error),
}
