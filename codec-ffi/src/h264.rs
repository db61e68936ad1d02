//! Run-time rate control of a running OpenH264 encoder.

use crate::CodecError;
use openh264::encoder::Encoder;
use openh264_sys2::{
    SBitrateInfo, ENCODER_OPTION_BITRATE, ENCODER_OPTION_MAX_BITRATE, SPATIAL_LAYER_ALL,
};

/// Sets the target bitrate (and the ceiling rate control keeps under) of every layer of a
/// running encoder; the stream goes on without a keyframe.
pub fn set_bitrate(encoder: &mut Encoder, bits_per_second: u32) -> Result<(), CodecError> {
    let bitrate = i32::try_from(bits_per_second).unwrap_or(i32::MAX).max(1);
    // The target may not exceed the ceiling: set the target, then the ceiling, then the target
    // again, which works whether the rate goes up or down.
    for (option, name) in [
        (ENCODER_OPTION_BITRATE, "bitrate"),
        (ENCODER_OPTION_MAX_BITRATE, "max bitrate"),
        (ENCODER_OPTION_BITRATE, "bitrate"),
    ] {
        let mut info = SBitrateInfo {
            iLayer: SPATIAL_LAYER_ALL,
            iBitrate: bitrate,
        };
        // SAFETY: the encoder is initialised (the safe wrapper made it), `info` is a valid
        // `SBitrateInfo` that outlives the call, and these two options take exactly that type.
        let status = unsafe {
            encoder
                .raw_api()
                .set_option(option, std::ptr::addr_of_mut!(info).cast())
        };
        if status != 0 {
            return Err(CodecError::H264Option {
                option: name,
                status,
            });
        }
    }
    Ok(())
}
