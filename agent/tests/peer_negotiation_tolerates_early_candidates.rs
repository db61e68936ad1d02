//! The agent's peer keeps the expert's candidates that arrive before the expert's answer, refuses
//! an offer (the agent always offers), and refuses media until the connection is up. The
//! answering side here is a second WebRTC stack in the test; no packet leaves loopback.

use agent::peer::{Peer, PeerConfig, PeerError, PeerEvent, VideoCodec};
use anyhow::{bail, Context, Result};
use protocol::signal::Signal;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_H264;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodecParameters, RtpCodecKind};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCSessionDescription,
};

/// The answering browser's stand-in, which needs no callbacks.
struct Quiet;

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Quiet {}

#[tokio::test]
async fn candidates_before_the_answer_are_kept_until_it_arrives() -> Result<()> {
    let (peer, mut events) = Peer::start(PeerConfig {
        ice_servers: vec![],
        local_ips: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        ..Default::default()
    })
    .await?;
    let offer = match next_event(&mut events).await? {
        PeerEvent::Signal(Signal::Offer { sdp }) => sdp,
        other => bail!("the first event should be the offer, not {other:?}"),
    };

    // Nothing negotiated yet: media and offers are refused with errors a caller can act on.
    assert!(matches!(
        peer.send_video(
            &[0, 0, 0, 1, 0x65],
            VideoCodec::H264,
            Duration::from_millis(33)
        )
        .await,
        Err(PeerError::NotConnected)
    ));
    assert!(matches!(
        peer.handle_signal(Signal::Offer { sdp: offer.clone() })
            .await,
        Err(PeerError::UnexpectedSignal("offer"))
    ));

    // A candidate that overtook the answer: kept, not an error.
    peer.handle_signal(Signal::Candidate {
        candidate: "candidate:1 1 udp 2130706431 127.0.0.1 9 typ host".into(),
        sdp_mid: Some("0".into()),
        sdp_mline_index: Some(0),
    })
    .await
    .context("a candidate before the answer")?;

    let answer = answer_from_another_stack(offer).await?;
    // The held candidate is applied with the answer; a bad one would fail here.
    peer.handle_signal(Signal::Answer { sdp: answer }).await?;
    peer.handle_signal(Signal::EndOfCandidates).await?;

    peer.close().await;
    loop {
        if let PeerEvent::Closed { reason } = next_event(&mut events).await? {
            assert_eq!(reason, "the agent ended the session");
            return Ok(());
        }
    }
}

async fn next_event(events: &mut tokio::sync::mpsc::Receiver<PeerEvent>) -> Result<PeerEvent> {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .context("no peer event within 10 s")?
        .context("the peer's events ended")
}

/// What a browser that receives H.264 would answer.
async fn answer_from_another_stack(offer: String) -> Result<String> {
    let mut media = MediaEngine::default();
    media.register_codec(
        RTCRtpCodecParameters {
            rtp_codec: RTCRtpCodec {
                mime_type: MIME_TYPE_H264.to_owned(),
                clock_rate: 90_000,
                channels: 0,
                sdp_fmtp_line:
                    "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
                        .to_owned(),
                rtcp_feedback: vec![],
            },
            payload_type: 102,
        },
        RtpCodecKind::Video,
    )?;
    let browser = PeerConnectionBuilder::new()
        .with_media_engine(media)
        .with_handler(Arc::new(Quiet))
        .with_udp_addrs(vec!["127.0.0.1:0"])
        .build()
        .await?;
    browser
        .set_remote_description(RTCSessionDescription::offer(offer)?)
        .await?;
    let answer = browser.create_answer(None).await?;
    browser.set_local_description(answer.clone()).await?;
    browser.close().await?;
    Ok(answer.sdp)
}
