//! Video encoding for a live desktop, in the codec the expert's browser chose.
//!
//! H.264 with OpenH264: screen-content mode, rate control by bitrate, Constrained Baseline
//! (what every WebRTC browser decodes) in Annex-B. OpenH264 is built from source, so there is
//! no run-time library to find. VP8 with libvpx (`codec_ffi::vp8`), for browsers without H.264.
//! Neither makes periodic keyframes: a receiver asks for one (PLI/FIR) when it needs it, and
//! idle periods cost nothing. Both follow a new bitrate without a keyframe.

use openh264::encoder::{
    BitRate, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, Profile,
    RateControlMode, UsageType, VuiConfig,
};
use openh264::formats::YUVSource;
use openh264::OpenH264API;

use super::convert::I420Image;
use super::{MediaError, VideoCodec};

/// Largest frame rate we configure; OpenH264 rejects rates far above real displays.
pub(crate) const MAX_FPS: u32 = 120;

/// The encoder of the codec in use.
pub(crate) enum VideoEncoder {
    /// Both encoders are boxed: their state is kilobytes, the enum moves around.
    H264(Box<H264Encoder>),
    /// Made at the first picture, and again when the picture's size changes: libvpx's encoder
    /// is fixed to one size.
    Vp8 {
        encoder: Option<Box<codec_ffi::vp8::Vp8Encoder>>,
        max_fps: u32,
        bitrate_bps: u32,
        keyframe_wanted: bool,
    },
}

impl VideoEncoder {
    pub fn new(codec: VideoCodec, max_fps: u32, bitrate_bps: u32) -> Result<Self, MediaError> {
        Ok(match codec {
            VideoCodec::H264 => Self::H264(Box::new(H264Encoder::new(max_fps, bitrate_bps)?)),
            VideoCodec::Vp8 => Self::Vp8 {
                encoder: None,
                max_fps,
                bitrate_bps,
                keyframe_wanted: true,
            },
        })
    }

    pub fn codec(&self) -> VideoCodec {
        match self {
            Self::H264(_) => VideoCodec::H264,
            Self::Vp8 { .. } => VideoCodec::Vp8,
        }
    }

    /// Makes the next encoded frame a keyframe.
    pub fn force_keyframe(&mut self) {
        match self {
            Self::H264(encoder) => encoder.force_keyframe(),
            Self::Vp8 {
                keyframe_wanted, ..
            } => *keyframe_wanted = true,
        }
    }

    /// Aims at a new bitrate from the next frame on.
    pub fn set_bitrate(&mut self, bits_per_second: u32) -> Result<(), MediaError> {
        match self {
            Self::H264(encoder) => encoder.set_bitrate(bits_per_second),
            Self::Vp8 {
                encoder,
                bitrate_bps,
                ..
            } => {
                *bitrate_bps = bits_per_second;
                match encoder {
                    Some(encoder) => encoder
                        .set_bitrate(bits_per_second)
                        .map_err(|e| MediaError::Encode(e.to_string())),
                    None => Ok(()),
                }
            }
        }
    }

    /// Encodes one picture into `out` (cleared first): an Annex-B H.264 access unit or a VP8
    /// frame. Returns whether it is a keyframe, or `None` if the encoder produced no data.
    pub fn encode(
        &mut self,
        picture: &I420Image,
        out: &mut Vec<u8>,
    ) -> Result<Option<bool>, MediaError> {
        match self {
            Self::H264(encoder) => encoder.encode(picture, out),
            Self::Vp8 {
                encoder,
                max_fps,
                bitrate_bps,
                keyframe_wanted,
            } => {
                let (width, height) = picture.dimensions();
                let size = (width as u32, height as u32);
                let encoder = match encoder {
                    Some(e) if e.dimensions() == size => e,
                    _ => encoder.insert(Box::new(
                        codec_ffi::vp8::Vp8Encoder::new(size.0, size.1, *max_fps, *bitrate_bps)
                            .map_err(|e| MediaError::Encode(e.to_string()))?,
                    )),
                };
                let (y_stride, uv_stride, _) = picture.strides();
                let frame = codec_ffi::vp8::I420 {
                    width: size.0,
                    height: size.1,
                    y: picture.y(),
                    u: picture.u(),
                    v: picture.v(),
                    y_stride,
                    uv_stride,
                };
                let encoded = encoder
                    .encode(&frame, *keyframe_wanted, out)
                    .map_err(|e| MediaError::Encode(e.to_string()))?;
                Ok(encoded.map(|encoded| {
                    *keyframe_wanted &= !encoded.keyframe;
                    encoded.keyframe
                }))
            }
        }
    }
}

pub(crate) struct H264Encoder {
    encoder: Encoder,
    /// OpenH264 sets itself up on the first frame; before that, an IDR is what it emits anyway.
    started: bool,
    /// A bitrate asked for before the first frame, applied right after it.
    pending_bitrate: Option<u32>,
}

impl H264Encoder {
    pub fn new(max_fps: u32, bitrate_bps: u32) -> Result<Self, MediaError> {
        let config = EncoderConfig::new()
            .usage_type(UsageType::ScreenContentRealTime)
            .rate_control_mode(RateControlMode::Bitrate)
            .bitrate(BitRate::from_bps(bitrate_bps))
            .max_frame_rate(FrameRate::from_hz(max_fps.clamp(1, MAX_FPS) as f32))
            // A skipped frame would leave the receiver showing an outdated screen until the
            // next change, which may never come; rate control lowers quality instead.
            .skip_frames(false)
            .profile(Profile::Baseline)
            .intra_frame_period(IntraFramePeriod::from_num_frames(0))
            // Screen content mode does not support these and says so on stderr when on.
            .adaptive_quantization(false)
            .background_detection(false)
            // One frame at a time on the media thread; extra threads would need extra slices.
            .num_threads(1)
            .vui(VuiConfig::bt601());
        let encoder = Encoder::with_api_config(OpenH264API::from_source(), config)
            .map_err(|e| MediaError::Encode(e.to_string()))?;
        Ok(Self {
            encoder,
            started: false,
            pending_bitrate: None,
        })
    }

    /// Aims at a new bitrate from the next frame on, without a new IDR.
    pub fn set_bitrate(&mut self, bits_per_second: u32) -> Result<(), MediaError> {
        if !self.started {
            // OpenH264 takes options once it has set itself up on the first frame.
            self.pending_bitrate = Some(bits_per_second);
            return Ok(());
        }
        codec_ffi::h264::set_bitrate(&mut self.encoder, bits_per_second)
            .map_err(|e| MediaError::Encode(e.to_string()))
    }

    /// Makes the next encoded frame an IDR picture.
    pub fn force_keyframe(&mut self) {
        if self.started {
            self.encoder.force_intra_frame();
        }
    }

    /// Encodes one picture into `out` (cleared first) as an Annex-B access unit.
    ///
    /// Returns whether the frame is a keyframe, or `None` if the encoder produced no data.
    pub fn encode(
        &mut self,
        picture: &I420Image,
        out: &mut Vec<u8>,
    ) -> Result<Option<bool>, MediaError> {
        out.clear();
        let bitstream = self
            .encoder
            .encode(picture)
            .map_err(|e| MediaError::Encode(e.to_string()))?;
        let frame_type = bitstream.frame_type();
        bitstream.write_vec(out);
        self.started = true;
        if let Some(bitrate) = self.pending_bitrate.take() {
            self.set_bitrate(bitrate)?;
        }
        if out.is_empty() || frame_type == FrameType::Skip {
            return Ok(None);
        }
        Ok(Some(frame_type == FrameType::IDR))
    }
}

#[cfg(test)]
mod tests {
    use openh264::decoder::Decoder;

    use super::*;
    use crate::media::capture::BgraImage;

    fn picture(width: u32, height: u32, seed: u8) -> I420Image {
        // A gradient with some structure, so frames differ and are not trivially flat.
        let mut data = Vec::with_capacity((width * height * 4) as usize);
        for y in 0..height {
            for x in 0..width {
                let v = (x as u8).wrapping_add(y as u8).wrapping_add(seed);
                data.extend_from_slice(&[v, v.wrapping_mul(3), 255 - v, 0]);
            }
        }
        let mut i420 = I420Image::default();
        i420.convert_from(&BgraImage {
            width,
            height,
            data,
        })
        .expect("convert");
        i420
    }

    /// NAL unit types in an Annex-B access unit (RFC 6184 section 1.3 lists them).
    fn nal_types(annex_b: &[u8]) -> Vec<u8> {
        annex_b
            .windows(4)
            .enumerate()
            .filter(|(_, w)| w[..3] == [0, 0, 1])
            .map(|(i, _)| annex_b[i + 3] & 0x1f)
            .collect()
    }

    /// The pipeline sets every new encoder up at the configured bitrate and lowers it at once,
    /// so that it can follow the network back up later.
    #[test]
    fn a_bitrate_lowered_before_the_first_frame_can_be_raised_again() {
        let mut encoder = H264Encoder::new(30, 2_000_000).expect("encoder");
        let mut out = Vec::new();
        encoder
            .set_bitrate(300_000)
            .expect("lowered before the first frame");
        encoder
            .encode(&picture(64, 48, 0), &mut out)
            .expect("encode");
        encoder.set_bitrate(150_000).expect("lowered");
        encoder.set_bitrate(1_500_000).expect("raised again");
        encoder
            .encode(&picture(64, 48, 1), &mut out)
            .expect("encode");
    }

    #[test]
    fn first_frame_is_an_idr_with_parameter_sets_and_later_frames_are_not() {
        let mut encoder = H264Encoder::new(30, 1_000_000).expect("encoder");
        let mut out = Vec::new();

        assert_eq!(
            encoder
                .encode(&picture(64, 48, 0), &mut out)
                .expect("encode"),
            Some(true)
        );
        assert_eq!(&out[..4], &[0, 0, 0, 1], "Annex-B start code");
        let types = nal_types(&out);
        assert!(
            types.contains(&7) && types.contains(&8) && types.contains(&5),
            "SPS, PPS and IDR slice expected, got NAL types {types:?}"
        );
        // profile_idc 66 (Baseline) with constraint_set1_flag: Constrained Baseline, the
        // profile-level-id 42e0xx that browsers offer.
        let sps = out
            .windows(6)
            .find(|w| w[..3] == [0, 0, 1] && w[3] & 0x1f == 7)
            .expect("an SPS");
        assert_eq!(sps[4], 66, "profile_idc");
        assert_ne!(sps[5] & 0x40, 0, "constraint_set1_flag");

        assert_eq!(
            encoder
                .encode(&picture(64, 48, 1), &mut out)
                .expect("encode"),
            Some(false)
        );
        assert!(!nal_types(&out).contains(&5));
    }

    #[test]
    fn force_keyframe_makes_the_next_frame_an_idr() {
        let mut encoder = H264Encoder::new(30, 1_000_000).expect("encoder");
        let mut out = Vec::new();
        encoder
            .encode(&picture(64, 48, 0), &mut out)
            .expect("encode");
        encoder
            .encode(&picture(64, 48, 1), &mut out)
            .expect("encode");

        encoder.force_keyframe();
        assert_eq!(
            encoder
                .encode(&picture(64, 48, 2), &mut out)
                .expect("encode"),
            Some(true)
        );
        assert_eq!(
            encoder
                .encode(&picture(64, 48, 3), &mut out)
                .expect("encode"),
            Some(false)
        );
    }

    #[test]
    fn the_h264_bitrate_changes_without_an_idr() {
        let mut encoder = VideoEncoder::new(VideoCodec::H264, 30, 2_000_000).expect("encoder");
        let mut out = Vec::new();
        encoder
            .set_bitrate(300_000)
            .expect("before the first frame");
        assert_eq!(
            encoder
                .encode(&picture(64, 48, 0), &mut out)
                .expect("encode"),
            Some(true)
        );
        encoder.set_bitrate(150_000).expect("a lower rate");
        encoder.set_bitrate(1_500_000).expect("a higher rate");
        assert_eq!(
            encoder
                .encode(&picture(64, 48, 1), &mut out)
                .expect("encode"),
            Some(false)
        );
    }

    #[test]
    fn vp8_frames_follow_keyframe_requests_and_size_changes() {
        let mut encoder = VideoEncoder::new(VideoCodec::Vp8, 30, 1_000_000).expect("encoder");
        assert_eq!(encoder.codec(), VideoCodec::Vp8);
        let mut out = Vec::new();
        let encode = |encoder: &mut VideoEncoder, p: I420Image, out: &mut Vec<u8>| {
            encoder.encode(&p, out).expect("encode")
        };
        assert_eq!(
            encode(&mut encoder, picture(64, 48, 0), &mut out),
            Some(true)
        );
        // RFC 6386 §9.1: a keyframe's tag has bit 0 clear and the start code 9d 01 2a.
        assert_eq!(&out[3..6], &[0x9d, 0x01, 0x2a]);
        assert_eq!(
            encode(&mut encoder, picture(64, 48, 1), &mut out),
            Some(false)
        );
        encoder.force_keyframe();
        assert_eq!(
            encode(&mut encoder, picture(64, 48, 2), &mut out),
            Some(true)
        );
        encoder.set_bitrate(200_000).expect("new rate");
        assert_eq!(
            encode(&mut encoder, picture(64, 48, 3), &mut out),
            Some(false)
        );
        assert_eq!(
            encode(&mut encoder, picture(96, 64, 0), &mut out),
            Some(true),
            "a new size starts with a keyframe"
        );
    }

    #[test]
    fn a_new_size_starts_with_an_idr_that_decodes_at_that_size() {
        let mut encoder = H264Encoder::new(30, 1_000_000).expect("encoder");
        let mut decoder = Decoder::new().expect("decoder");
        let mut out = Vec::new();
        encoder
            .encode(&picture(64, 48, 0), &mut out)
            .expect("encode");
        decoder.decode(&out).expect("decode");

        assert_eq!(
            encoder
                .encode(&picture(96, 64, 0), &mut out)
                .expect("encode"),
            Some(true)
        );
        let decoded = decoder
            .decode(&out)
            .expect("decode")
            .expect("a picture for an IDR");
        assert_eq!(openh264::formats::YUVSource::dimensions(&decoded), (96, 64));
    }
}
