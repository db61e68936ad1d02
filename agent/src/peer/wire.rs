//! Translations between the product's protocol messages and the WebRTC stack's types, kept free
//! of IO so that they can be tested on their own.

use protocol::api::IceServer;
use protocol::signal::Signal;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_H264, MIME_TYPE_VP8};
use rtc::rtcp;
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::{RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters};
use webrtc::peer_connection::{RTCIceCandidateInit, RTCIceServer};

pub use crate::media::VideoCodec;

/// RTP payload types of the video codecs. Any dynamic types (RFC 3551 §6) work; the browser
/// answers with the offerer's numbers.
pub(crate) const H264_PAYLOAD_TYPE: u8 = 102;
pub(crate) const VP8_PAYLOAD_TYPE: u8 = 96;

/// H.264 Constrained Baseline with non-interleaved packetization (RFC 6184 §8.1): what openh264
/// produces and what every WebRTC browser decodes. `level-asymmetry-allowed` lets us send above
/// level 3.1 (1080p) although we offer 3.1. The line must match the browser's exactly, or the
/// codec is not negotiated.
pub(crate) const H264_FMTP: &str =
    "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f";

/// The codecs the agent offers, most preferred first: H.264 where the browser has it (OpenH264
/// is the cheaper encoder of screen content here), VP8 for browsers without it (Firefox before
/// its OpenH264 plugin arrives, and builds that leave it out).
pub(crate) const OFFERED: [VideoCodec; 2] = [VideoCodec::H264, VideoCodec::Vp8];

/// The video codec the agent registers, with the feedback the browser must send to get a
/// keyframe after loss, PLI (RFC 4585 §6.3.1) and FIR (RFC 5104 §4.3.1), and transport-wide
/// congestion feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §5.1).
pub(crate) fn codec_parameters(codec: VideoCodec) -> RTCRtpCodecParameters {
    let feedback = |typ: &str, parameter: &str| RTCPFeedback {
        typ: typ.to_owned(),
        parameter: parameter.to_owned(),
    };
    let (mime_type, sdp_fmtp_line, payload_type) = match codec {
        VideoCodec::H264 => (MIME_TYPE_H264, H264_FMTP, H264_PAYLOAD_TYPE),
        VideoCodec::Vp8 => (MIME_TYPE_VP8, "", VP8_PAYLOAD_TYPE),
    };
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: mime_type.to_owned(),
            clock_rate: 90_000,
            channels: 0,
            sdp_fmtp_line: sdp_fmtp_line.to_owned(),
            rtcp_feedback: vec![
                feedback("nack", ""),
                feedback("nack", "pli"),
                feedback("ccm", "fir"),
                feedback("transport-cc", ""),
            ],
        },
        payload_type,
    }
}

/// The video codec the browser's answer chose: the first payload type of its video section
/// (RFC 3264 §6.1: the answerer lists what it will receive, most preferred first, and the
/// sender uses the first), as one of ours. `None` when the answer rejected the video section
/// (port 0) or kept no codec we offered.
pub(crate) fn answered_video_codec(sdp: &str) -> Option<VideoCodec> {
    let lines = || sdp.lines().map(str::trim_end);
    let mut media = lines()
        .find_map(|line| line.strip_prefix("m=video "))?
        .split_whitespace();
    let port = media.next()?;
    if port == "0" {
        return None;
    }
    let _protocol = media.next()?;
    media.find_map(|payload_type| {
        let payload_type: u8 = payload_type.parse().ok()?;
        let prefix = format!("a=rtpmap:{payload_type} ");
        let name = lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))?
            .split('/')
            .next()?;
        OFFERED.into_iter().find(|codec| {
            encoding_name(*codec).eq_ignore_ascii_case(name)
                && codec_parameters(*codec).payload_type == payload_type
        })
    })
}

/// ICE servers as the server handed them out, in the stack's shape.
pub(crate) fn ice_servers(servers: &[IceServer]) -> Vec<RTCIceServer> {
    servers
        .iter()
        .map(|server| RTCIceServer {
            urls: server.urls.clone(),
            username: server.username.clone().unwrap_or_default(),
            credential: server.credential.clone().unwrap_or_default(),
        })
        .collect()
}

/// One of our gathered candidates as the signal the browser's `addIceCandidate` takes.
pub(crate) fn candidate_signal(init: RTCIceCandidateInit) -> Signal {
    Signal::Candidate {
        candidate: init.candidate,
        sdp_mid: init.sdp_mid,
        sdp_mline_index: init.sdp_mline_index,
    }
}

/// The address of an ICE candidate line (`candidate:<foundation> <component> <transport>
/// <priority> <address> <port> typ ...`), if it is an IP address rather than an mDNS name.
pub(crate) fn candidate_address(candidate: &str) -> Option<std::net::IpAddr> {
    candidate.split_whitespace().nth(4)?.parse().ok()
}

/// Whether an ICE candidate line names its address with an mDNS name (`<uuid>.local`), which
/// the agent does not resolve (it runs no multicast DNS).
pub(crate) fn is_mdns_candidate(candidate: &str) -> bool {
    candidate
        .split_whitespace()
        .nth(4)
        .is_some_and(|address| address.to_ascii_lowercase().ends_with(".local"))
}

/// A candidate from the browser as the stack takes it.
pub(crate) fn candidate_init(
    candidate: String,
    sdp_mid: Option<String>,
    sdp_mline_index: Option<u16>,
) -> RTCIceCandidateInit {
    RTCIceCandidateInit {
        candidate,
        sdp_mid,
        sdp_mline_index,
        ..Default::default()
    }
}

/// Whether a compound RTCP packet asks for a new keyframe.
pub(crate) fn is_keyframe_request(packets: &[Box<dyn rtcp::Packet>]) -> bool {
    packets.iter().any(|packet| {
        let any = packet.as_any();
        any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>()
    })
}

/// The name of a codec in SDP (`a=rtpmap`, RFC 6184 §8.1 and RFC 7741 §6.1).
pub(crate) fn encoding_name(codec: VideoCodec) -> &'static str {
    match codec {
        VideoCodec::H264 => "H264",
        VideoCodec::Vp8 => "VP8",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::rtcp::receiver_report::ReceiverReport;

    const FIREFOX_WITHOUT_H264: &str = "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\n\
        a=recvonly\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";

    #[test]
    fn the_answers_first_codec_is_the_one_sent() {
        let chromium = "m=video 9 UDP/TLS/RTP/SAVPF 102 96\r\na=rtpmap:102 H264/90000\r\n\
            a=rtpmap:96 VP8/90000\r\n";
        assert_eq!(answered_video_codec(chromium), Some(VideoCodec::H264));
        let prefers_vp8 = "m=video 9 UDP/TLS/RTP/SAVPF 96 102\r\na=rtpmap:102 H264/90000\r\n\
            a=rtpmap:96 vp8/90000\r\n";
        assert_eq!(answered_video_codec(prefers_vp8), Some(VideoCodec::Vp8));
        assert_eq!(
            answered_video_codec(FIREFOX_WITHOUT_H264),
            Some(VideoCodec::Vp8)
        );
    }

    #[test]
    fn a_rejected_or_foreign_video_section_chooses_nothing() {
        let rejected = "m=video 0 UDP/TLS/RTP/SAVPF 102\r\na=rtpmap:102 H264/90000\r\n";
        assert_eq!(answered_video_codec(rejected), None);
        let foreign = "m=video 9 UDP/TLS/RTP/SAVPF 45\r\na=rtpmap:45 AV1/90000\r\n";
        assert_eq!(answered_video_codec(foreign), None);
        // Our number under another codec's name is not ours.
        let renamed = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP9/90000\r\n";
        assert_eq!(answered_video_codec(renamed), None);
        assert_eq!(
            answered_video_codec("m=application 9 UDP/DTLS/SCTP x\r\n"),
            None
        );
        assert_eq!(answered_video_codec(""), None);
        assert_eq!(answered_video_codec("m=video"), None);
    }

    #[test]
    fn candidate_addresses_are_read_from_the_line() {
        let host = "candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host generation 0";
        assert_eq!(candidate_address(host), Some([127, 0, 0, 1].into()));
        let mdns = "candidate:2 1 udp 2122260223 4f1e7a9c-1111.local 40001 typ host";
        assert_eq!(candidate_address(mdns), None);
        assert_eq!(candidate_address("candidate:garbage"), None);
        assert!(is_mdns_candidate(mdns));
        assert!(!is_mdns_candidate(host));
        assert!(!is_mdns_candidate("candidate:garbage"));
    }

    #[test]
    fn turn_credentials_are_passed_through() {
        let servers = ice_servers(&[
            IceServer {
                urls: vec!["stun:127.0.0.1:3478".into()],
                username: None,
                credential: None,
            },
            IceServer {
                urls: vec!["turn:127.0.0.1:3478?transport=udp".into()],
                username: Some("1700000000:agent".into()),
                credential: Some("secret".into()),
            },
        ]);
        assert_eq!(servers[0].username, "");
        assert_eq!(servers[1].urls, ["turn:127.0.0.1:3478?transport=udp"]);
        assert_eq!(servers[1].username, "1700000000:agent");
        assert_eq!(servers[1].credential, "secret");
    }

    #[test]
    fn candidates_keep_their_mid_and_index() {
        let signal = candidate_signal(candidate_init(
            "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host".into(),
            Some("0".into()),
            Some(0),
        ));
        let json = serde_json::to_value(&signal).expect("a signal serializes");
        assert_eq!(json["kind"], "candidate");
        assert_eq!(json["sdpMid"], "0");
        assert_eq!(json["sdpMLineIndex"], 0);
    }

    #[test]
    fn pli_and_fir_ask_for_a_keyframe_and_reports_do_not() {
        let pli: Vec<Box<dyn rtcp::Packet>> = vec![
            Box::new(ReceiverReport::default()),
            Box::new(PictureLossIndication::default()),
        ];
        let fir: Vec<Box<dyn rtcp::Packet>> = vec![Box::new(FullIntraRequest::default())];
        let report: Vec<Box<dyn rtcp::Packet>> = vec![Box::new(ReceiverReport::default())];
        assert!(is_keyframe_request(&pli));
        assert!(is_keyframe_request(&fir));
        assert!(!is_keyframe_request(&report));
    }

    #[test]
    fn the_codec_is_constrained_baseline_with_pli() {
        let codec = codec_parameters(VideoCodec::H264);
        assert_eq!(
            codec.rtp_codec.sdp_fmtp_line,
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
        );
        assert!(codec
            .rtp_codec
            .rtcp_feedback
            .iter()
            .any(|f| f.typ == "nack" && f.parameter == "pli"));
    }
}
