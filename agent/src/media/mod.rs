//! The desktop as a video stream: captures the X11 screen, converts each BGRA frame to I420
//! and encodes it as H.264 (OpenH264, Constrained Baseline in Annex-B) or VP8 (libvpx), as the
//! expert's browser chose, on a dedicated OS thread so that the milliseconds of pixel work never
//! stall the async runtime. The bitrate and frame rate follow the network's estimate.
//!
//! * `capture`: grabs the screen of one X display into a tight BGRA buffer.
//! * `convert`: BGRA to I420 with a SIMD converter.
//! * `damage`: reports the moment anything is drawn on the screen (X DAMAGE), so that capture
//!   follows changes rather than a timer.
//! * `encode`: the H.264 and VP8 encoders, tuned for screen content in real time.
//! * `rate`: what the network's estimate means for the encoder: its bitrate, the frame rate, and
//!   how soon another keyframe may follow one still on its way.
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
mod rate;

use std::time::{Duration, Instant};

pub use handoff::FrameReceiver;
pub use pipeline::{Pipeline, RateControl};

/// A video codec the agent can encode and send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum VideoCodec {
    /// H.264 Constrained Baseline: what most browsers decode in hardware or with OpenH264.
    #[default]
    H264,
    /// VP8: what every WebRTC browser decodes, H.264 or not.
    Vp8,
}

impl std::fmt::Display for VideoCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::H264 => "H.264",
            Self::Vp8 => "VP8",
        })
    }
}

/// What to capture and how to encode it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaConfig {
    /// The X display to capture, such as `:0`; `None` means the one named by `$DISPLAY`.
    pub display: Option<String>,
    /// Upper bound on captured and encoded frames per second.
    pub max_fps: u32,
    /// Target bitrate of the encoder in bits per second: where it starts, and the most it is
    /// given when the network carries more.
    pub bitrate_bps: u32,
    /// The codec to encode in until told otherwise ([`Pipeline::set_codec`]).
    pub codec: VideoCodec,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            display: None,
            max_fps: 30,
            bitrate_bps: 2_000_000,
            codec: VideoCodec::H264,
        }
    }
}

/// One encoded picture, ready to be packetized.
#[derive(Debug, Clone)]
pub struct EncodedFrame {
    /// One H.264 access unit in Annex-B format (start codes before each NAL unit; keyframes
    /// carry their SPS and PPS), or one VP8 frame, as `codec` says.
    pub data: Vec<u8>,
    pub codec: VideoCodec,
    /// Whether this is an IDR picture that a decoder can start from.
    pub keyframe: bool,
    /// The same picture as the frame before, sent again because the screen is still (see the
    /// pipeline's `STILL_REFRESH`); the screen was not grabbed for it.
    pub repeat: bool,
    /// The picture's size as encoded...
    pub width: u32,
    pub height: u32,
    /// ...and the screen's own, which is larger while a slow link has the picture halved.
    pub screen_width: u32,
    pub screen_height: u32,
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
    #[error("the video encoder failed: {0}")]
    Encode(String),
    #[error("the media thread could not be started: {0}")]
    Thread(std::io::Error),
}
