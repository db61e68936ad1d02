//! What the browser's answer settled for the video, and the packetizer that follows it.
//!
//! The answer decides three things the sender must honour: the codec (its first payload type),
//! that codec's payload type number, and which header extensions may ride on the packets (the
//! stack drops a packet carrying one the answer did not accept). They are read once from the
//! sender's negotiated parameters, and a packetizer for that codec turns each encoded frame
//! into RTP packets.

use super::wire::{self, VideoCodec};
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_VP8;
use rtc::rtp;
use rtc::rtp::packetizer::Packetizer;
use rtc::rtp::sequence::new_random_sequencer;
use rtc::rtp_transceiver::rtp_sender::RTCRtpSendParameters;
use std::time::{Duration, Instant};

/// RTP packets are at most this large, IP and UDP headers aside: below every path MTU seen in
/// practice, TURN's extra headers included.
const MTU: usize = 1200;
/// The RTP clock of every video codec (RFC 6184 §8.2.1, RFC 7741 §6.1).
const CLOCK_RATE: u32 = 90_000;
/// `urn:ietf:params:rtp-hdrext:playout-delay`, Chromium's and Firefox's playout-delay extension.
const PLAYOUT_DELAY_URI: &str = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";

/// The video as the answer settled it.
pub(crate) struct Sending {
    codec: VideoCodec,
    playout_delay: bool,
    packetizer: Box<dyn Packetizer>,
}

impl Sending {
    /// Reads the settled codec and extensions from the sender's parameters after the answer;
    /// `None` when no codec of ours was settled.
    pub(crate) fn from_parameters(parameters: &RTCRtpSendParameters, ssrc: u32) -> Option<Self> {
        let (codec, payload_type) = settled_codec(parameters)?;
        let playout_delay = parameters
            .rtp_parameters
            .header_extensions
            .iter()
            .any(|extension| extension.uri == PLAYOUT_DELAY_URI);
        let payloader = wire::codec_parameters(codec).rtp_codec.payloader().ok()?;
        let packetizer = Box::new(rtp::packetizer::new_packetizer(
            Instant::now(),
            MTU,
            payload_type,
            ssrc,
            payloader,
            Box::new(new_random_sequencer()),
            CLOCK_RATE,
        ));
        Some(Self {
            codec,
            playout_delay,
            packetizer,
        })
    }

    pub(crate) fn codec(&self) -> VideoCodec {
        self.codec
    }

    /// Whether the answer accepted the playout-delay extension.
    pub(crate) fn playout_delay(&self) -> bool {
        self.playout_delay
    }

    /// One frame lasting `duration` as RTP packets, the last one marked.
    pub(crate) fn packetize(
        &mut self,
        frame: &[u8],
        duration: Duration,
    ) -> Result<Vec<rtp::Packet>, webrtc::error::Error> {
        let samples = (duration.as_secs_f64() * f64::from(CLOCK_RATE)) as u32;
        self.packetizer.packetize(
            Instant::now(),
            &bytes::Bytes::copy_from_slice(frame),
            samples,
        )
    }
}

impl std::fmt::Debug for Sending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sending")
            .field("codec", &self.codec)
            .field("playout_delay", &self.playout_delay)
            .finish()
    }
}

/// The first negotiated codec that is one of ours, with its payload type.
fn settled_codec(parameters: &RTCRtpSendParameters) -> Option<(VideoCodec, u8)> {
    let first = parameters.rtp_parameters.codecs.first()?;
    let mime = first.rtp_codec.mime_type.to_ascii_lowercase();
    let codec = if mime == MIME_TYPE_VP8.to_ascii_lowercase() {
        VideoCodec::Vp8
    } else if mime.ends_with("/h264") {
        VideoCodec::H264
    } else {
        return None;
    };
    Some((codec, first.payload_type))
}
