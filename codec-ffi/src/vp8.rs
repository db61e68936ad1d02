//! VP8 with libvpx, set up for a live desktop.
//!
//! One pass, real time, no look-ahead (`g_lag_in_frames = 0`: each frame comes out of the call
//! that took it), constant-bitrate rate control, libvpx's screen-content tools, error-resilient
//! partitions, and no periodic keyframes: a receiver asks for one (PLI/FIR) when it needs it.
//! Keyframes are capped at a multiple of a normal frame's budget so that one does not flood a
//! slow link. The bitrate follows [`Vp8Encoder::set_bitrate`] without a new keyframe.

use crate::CodecError;
use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::os::raw::{c_int, c_uint, c_ulong};
use vpx_sys as vpx;

/// libvpx's speed setting for real time: higher is faster and coarser (-16..16). At 6 a
/// scrolling 1280x720 terminal encodes in about the time OpenH264 takes; at 10 its motion search
/// is too coarse for scrolled text, and rate control overshot a 2 Mbit/s target twice over.
const CPU_USED: c_int = 6;
/// libvpx's screen-content mode (1: on, tuned for text and sharp edges).
const SCREEN_CONTENT: c_int = 1;
/// A keyframe may take at most this share of a frame's bitrate budget, in percent (WebRTC's own
/// senders use a similar cap).
const MAX_INTRA_BITRATE_PCT: c_int = 900;
/// Milliseconds per tick of the encoder's clock: timestamps are in milliseconds.
const TIMEBASE_DEN: c_int = 1000;

/// One frame as it came out of the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoded {
    /// A keyframe a decoder can start from.
    pub keyframe: bool,
}

/// A planar I420 picture: one luma and two quarter-size chroma planes, each with its stride.
#[derive(Debug, Clone, Copy)]
pub struct I420<'a> {
    pub width: u32,
    pub height: u32,
    pub y: &'a [u8],
    pub u: &'a [u8],
    pub v: &'a [u8],
    pub y_stride: usize,
    pub uv_stride: usize,
}

impl I420<'_> {
    fn check(&self) -> Result<(), CodecError> {
        let chroma_rows = self.height.div_ceil(2) as usize;
        let chroma_width = self.width.div_ceil(2) as usize;
        let planes = [
            (
                self.y,
                self.y_stride,
                self.height as usize,
                self.width as usize,
            ),
            (self.u, self.uv_stride, chroma_rows, chroma_width),
            (self.v, self.uv_stride, chroma_rows, chroma_width),
        ];
        for (plane, stride, rows, width) in planes {
            let needed = stride * rows.saturating_sub(1) + width;
            if stride < width || plane.len() < needed {
                return Err(CodecError::ShortPicture {
                    width: self.width,
                    height: self.height,
                    got: plane.len(),
                    needed,
                });
            }
        }
        Ok(())
    }
}

/// A running libvpx VP8 encoder of one picture size.
pub struct Vp8Encoder {
    ctx: vpx::vpx_codec_ctx_t,
    config: vpx::vpx_codec_enc_cfg_t,
    width: u32,
    height: u32,
    next_pts: i64,
    frame_ms: u64,
}

impl std::fmt::Debug for Vp8Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vp8Encoder")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("bitrate_kbps", &self.config.rc_target_bitrate)
            .finish()
    }
}

// SAFETY: the context is only used through `&mut self`; libvpx keeps no thread-local state, so
// moving the encoder to another thread between calls is sound.
unsafe impl Send for Vp8Encoder {}

impl Vp8Encoder {
    /// An encoder for `width`x`height` pictures at up to `max_fps` frames per second, aiming at
    /// `bits_per_second`.
    pub fn new(
        width: u32,
        height: u32,
        max_fps: u32,
        bits_per_second: u32,
    ) -> Result<Self, CodecError> {
        if width == 0 || height == 0 || width > 16_383 || height > 16_383 {
            return Err(CodecError::Config(format!(
                "a picture of {width}x{height} is outside VP8's range"
            )));
        }
        // SAFETY: returns a pointer to libvpx's static interface description.
        let iface = unsafe { vpx::vpx_codec_vp8_cx() };
        let mut config = MaybeUninit::<vpx::vpx_codec_enc_cfg_t>::zeroed();
        // SAFETY: `config` is writable memory of the right type; libvpx fills it in.
        check(unsafe { vpx::vpx_codec_enc_config_default(iface, config.as_mut_ptr(), 0) })
            .map_err(CodecError::Config)?;
        // SAFETY: initialised by the successful call above.
        let mut config = unsafe { config.assume_init() };
        config.g_w = width;
        config.g_h = height;
        config.g_timebase = vpx::vpx_rational {
            num: 1,
            den: TIMEBASE_DEN,
        };
        config.g_threads = 1;
        config.g_lag_in_frames = 0;
        config.g_error_resilient = vpx::VPX_ERROR_RESILIENT_DEFAULT;
        config.g_pass = vpx::vpx_enc_pass::VPX_RC_ONE_PASS;
        config.rc_end_usage = vpx::vpx_rc_mode::VPX_CBR;
        config.rc_target_bitrate = kbps(bits_per_second);
        // A skipped frame would leave the expert looking at an outdated screen until the next
        // change, which may never come: rate control lowers quality instead.
        config.rc_dropframe_thresh = 0;
        config.rc_resize_allowed = 0;
        config.rc_min_quantizer = 2;
        // The whole range: a busy screen on a slow link needs the coarsest steps to stay within
        // the network's estimate.
        config.rc_max_quantizer = 63;
        config.rc_undershoot_pct = 100;
        config.rc_overshoot_pct = 15;
        config.rc_buf_sz = 1000;
        config.rc_buf_initial_sz = 500;
        config.rc_buf_optimal_sz = 600;
        config.kf_mode = vpx::vpx_kf_mode::VPX_KF_DISABLED;
        config.kf_min_dist = 0;
        config.kf_max_dist = c_uint::MAX;

        let mut ctx = MaybeUninit::<vpx::vpx_codec_ctx_t>::zeroed();
        // SAFETY: `ctx` is writable memory for a context, `config` a valid configuration that
        // outlives the call, and the ABI version is the one the bindings were made for.
        check(unsafe {
            vpx::vpx_codec_enc_init_ver(
                ctx.as_mut_ptr(),
                iface,
                &config,
                0,
                vpx::VPX_ENCODER_ABI_VERSION as c_int,
            )
        })
        .map_err(CodecError::Config)?;
        // SAFETY: initialised by the successful call above.
        let ctx = unsafe { ctx.assume_init() };
        let mut encoder = Self {
            ctx,
            config,
            width,
            height,
            next_pts: 0,
            frame_ms: u64::from(1000 / max_fps.clamp(1, 1000)),
        };
        for (control, value) in [
            (vpx::vp8e_enc_control_id::VP8E_SET_CPUUSED, CPU_USED),
            (
                vpx::vp8e_enc_control_id::VP8E_SET_SCREEN_CONTENT_MODE,
                SCREEN_CONTENT,
            ),
            (vpx::vp8e_enc_control_id::VP8E_SET_NOISE_SENSITIVITY, 0),
            (vpx::vp8e_enc_control_id::VP8E_SET_STATIC_THRESHOLD, 1),
            (
                vpx::vp8e_enc_control_id::VP8E_SET_MAX_INTRA_BITRATE_PCT,
                MAX_INTRA_BITRATE_PCT,
            ),
        ] {
            // SAFETY: the context is initialised, and each of these controls takes an int.
            check(unsafe { vpx::vpx_codec_control_(&mut encoder.ctx, control as c_int, value) })
                .map_err(|e| CodecError::Config(format!("{control:?}: {e}")))?;
        }
        Ok(encoder)
    }

    /// The picture size this encoder takes.
    pub fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Changes the target bitrate; the stream goes on without a keyframe.
    pub fn set_bitrate(&mut self, bits_per_second: u32) -> Result<(), CodecError> {
        self.config.rc_target_bitrate = kbps(bits_per_second);
        // SAFETY: the context is initialised and `config` is the valid configuration it was
        // made with, changed only in its bitrate.
        check(unsafe { vpx::vpx_codec_enc_config_set(&mut self.ctx, &self.config) })
            .map_err(CodecError::Config)
    }

    /// Encodes one picture into `out` (cleared first): a whole VP8 frame, the way the RTP
    /// payloader wants it. `None` when the encoder produced nothing for this picture.
    pub fn encode(
        &mut self,
        picture: &I420<'_>,
        force_keyframe: bool,
        out: &mut Vec<u8>,
    ) -> Result<Option<Encoded>, CodecError> {
        out.clear();
        if (picture.width, picture.height) != (self.width, self.height) {
            return Err(CodecError::Encode(format!(
                "the picture is {}x{}, the encoder {}x{}",
                picture.width, picture.height, self.width, self.height
            )));
        }
        picture.check()?;
        let mut image = MaybeUninit::<vpx::vpx_image_t>::zeroed();
        // SAFETY: `image` is writable; libvpx only fills in the description. The data pointer
        // is a placeholder replaced below with the caller's planes.
        let wrapped = unsafe {
            vpx::vpx_img_wrap(
                image.as_mut_ptr(),
                vpx::vpx_img_fmt::VPX_IMG_FMT_I420,
                self.width,
                self.height,
                1,
                picture.y.as_ptr().cast_mut(),
            )
        };
        if wrapped.is_null() {
            return Err(CodecError::Encode("cannot describe the picture".into()));
        }
        // SAFETY: initialised by the successful call above.
        let mut image = unsafe { image.assume_init() };
        image.planes[0] = picture.y.as_ptr().cast_mut();
        image.planes[1] = picture.u.as_ptr().cast_mut();
        image.planes[2] = picture.v.as_ptr().cast_mut();
        image.stride[0] = stride(picture.y_stride)?;
        image.stride[1] = stride(picture.uv_stride)?;
        image.stride[2] = stride(picture.uv_stride)?;

        let flags = if force_keyframe {
            vpx::VPX_EFLAG_FORCE_KF as vpx::vpx_enc_frame_flags_t
        } else {
            0
        };
        let pts = self.next_pts;
        self.next_pts += self.frame_ms as i64;
        // SAFETY: the context is initialised; `image` points at planes that `check` proved
        // large enough for its size and strides, and that outlive the call (libvpx copies what
        // it keeps, since `g_lag_in_frames` is 0).
        check(unsafe {
            vpx::vpx_codec_encode(
                &mut self.ctx,
                &image,
                pts,
                self.frame_ms as c_ulong,
                flags,
                vpx::VPX_DL_REALTIME as c_ulong,
            )
        })
        .map_err(CodecError::Encode)?;

        let mut keyframe = false;
        let mut any = false;
        let mut iter: vpx::vpx_codec_iter_t = std::ptr::null();
        loop {
            // SAFETY: the context is initialised and `iter` is the cursor libvpx hands back.
            let packet = unsafe { vpx::vpx_codec_get_cx_data(&mut self.ctx, &mut iter) };
            if packet.is_null() {
                break;
            }
            // SAFETY: a non-null packet from libvpx is valid until the next call on the context.
            let packet = unsafe { &*packet };
            if packet.kind != vpx::vpx_codec_cx_pkt_kind::VPX_CODEC_CX_FRAME_PKT {
                continue;
            }
            // SAFETY: a frame packet's payload is the `frame` member of the union.
            let frame = unsafe { packet.data.frame };
            if frame.buf.is_null() || frame.sz == 0 {
                continue;
            }
            // SAFETY: libvpx owns `sz` bytes at `buf` until the next call on the context.
            let data =
                unsafe { std::slice::from_raw_parts(frame.buf.cast::<u8>(), frame.sz as usize) };
            out.extend_from_slice(data);
            keyframe |= frame.flags & vpx::VPX_FRAME_IS_KEY != 0;
            any = true;
        }
        Ok(any.then_some(Encoded { keyframe }))
    }
}

impl Drop for Vp8Encoder {
    fn drop(&mut self) {
        // SAFETY: the context was initialised in `new` and is destroyed only here.
        let _ = unsafe { vpx::vpx_codec_destroy(&mut self.ctx) };
    }
}

fn kbps(bits_per_second: u32) -> c_uint {
    (bits_per_second / 1000).max(1)
}

fn stride(bytes: usize) -> Result<c_int, CodecError> {
    c_int::try_from(bytes).map_err(|_| CodecError::Encode(format!("a stride of {bytes} bytes")))
}

fn check(status: vpx::vpx_codec_err_t) -> Result<(), String> {
    if status == vpx::vpx_codec_err_t::VPX_CODEC_OK {
        return Ok(());
    }
    // SAFETY: libvpx returns a pointer to a static, NUL-terminated message for any status.
    let text = unsafe { CStr::from_ptr(vpx::vpx_codec_err_to_string(status)) };
    Err(text.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Planes {
        y: Vec<u8>,
        u: Vec<u8>,
        v: Vec<u8>,
    }

    fn planes(width: u32, height: u32, seed: u8) -> Planes {
        let (w, h) = (width as usize, height as usize);
        let y = (0..w * h)
            .map(|i| {
                ((i % w) as u8)
                    .wrapping_add((i / w) as u8)
                    .wrapping_add(seed)
            })
            .collect();
        let c = w.div_ceil(2) * h.div_ceil(2);
        Planes {
            y,
            u: vec![128u8.wrapping_add(seed); c],
            v: vec![90; c],
        }
    }

    fn picture<'a>(p: &'a Planes, width: u32, height: u32) -> I420<'a> {
        I420 {
            width,
            height,
            y: &p.y,
            u: &p.u,
            v: &p.v,
            y_stride: width as usize,
            uv_stride: width.div_ceil(2) as usize,
        }
    }

    /// A VP8 frame's first byte: bit 0 clear for a keyframe (RFC 6386 §9.1); keyframes then
    /// carry the start code 9d 01 2a.
    fn is_vp8_keyframe(frame: &[u8]) -> bool {
        frame[0] & 1 == 0 && frame[3..6] == [0x9d, 0x01, 0x2a]
    }

    #[test]
    fn the_first_frame_is_a_keyframe_and_later_ones_are_not_unless_asked() {
        let mut encoder = Vp8Encoder::new(64, 48, 30, 500_000).expect("encoder");
        let mut out = Vec::new();
        let p = planes(64, 48, 0);
        let first = encoder
            .encode(&picture(&p, 64, 48), false, &mut out)
            .expect("encode")
            .expect("a frame");
        assert!(first.keyframe);
        assert!(is_vp8_keyframe(&out));

        let p = planes(64, 48, 7);
        let second = encoder
            .encode(&picture(&p, 64, 48), false, &mut out)
            .expect("encode")
            .expect("a frame");
        assert!(!second.keyframe);
        assert!(!is_vp8_keyframe(&out));

        let forced = encoder
            .encode(&picture(&p, 64, 48), true, &mut out)
            .expect("encode")
            .expect("a frame");
        assert!(forced.keyframe);
        assert!(is_vp8_keyframe(&out));
    }

    #[test]
    fn the_bitrate_changes_without_a_keyframe() {
        let mut encoder = Vp8Encoder::new(64, 48, 30, 2_000_000).expect("encoder");
        let mut out = Vec::new();
        let p = planes(64, 48, 0);
        encoder
            .encode(&picture(&p, 64, 48), false, &mut out)
            .expect("encode");
        encoder.set_bitrate(150_000).expect("new bitrate");
        let p = planes(64, 48, 3);
        let next = encoder
            .encode(&picture(&p, 64, 48), false, &mut out)
            .expect("encode")
            .expect("a frame");
        assert!(!next.keyframe);
    }

    #[test]
    fn a_short_or_mismatched_picture_is_an_error_not_a_crash() {
        let mut encoder = Vp8Encoder::new(64, 48, 30, 500_000).expect("encoder");
        let mut out = Vec::new();
        let p = planes(64, 48, 0);
        let mut short = picture(&p, 64, 48);
        short.y = &p.y[..100];
        assert!(matches!(
            encoder.encode(&short, false, &mut out),
            Err(CodecError::ShortPicture { .. })
        ));
        let other = planes(32, 32, 0);
        assert!(encoder
            .encode(&picture(&other, 32, 32), false, &mut out)
            .is_err());
        assert!(Vp8Encoder::new(0, 48, 30, 500_000).is_err());
    }
}
