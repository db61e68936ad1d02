//! The agent's only calls into C video codecs, kept in one small crate so that the rest of the
//! workspace can forbid `unsafe`.
//!
//! * `vp8`: a VP8 encoder on libvpx, set up for a live desktop (real time, screen content, no
//!   lag, keyframes only on request), whose bitrate follows the network's estimate.
//! * `h264`: the one run-time option OpenH264's safe wrapper lacks: changing the target bitrate
//!   of a running encoder without a new keyframe.

pub mod h264;
pub mod vp8;

/// A codec call failed.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("the VP8 encoder refused its settings ({0})")]
    Config(String),
    #[error("the VP8 encoder failed: {0}")]
    Encode(String),
    #[error("the picture is {got} bytes, but {width}x{height} in I420 needs {needed}")]
    ShortPicture {
        width: u32,
        height: u32,
        got: usize,
        needed: usize,
    },
    #[error("OpenH264 refused the option {option} (status {status})")]
    H264Option { option: &'static str, status: i32 },
}
