//! The agent's peer streams H.264 to a real headless Chromium running the expert's `peer.js`,
//! over real loopback sockets: the browser asks for a keyframe, decodes the frames, shows the
//! colours we encode, chats both ways over the data channel, and sees the stream end when the
//! agent closes. The test itself stands in for the signaling server, carrying signals between
//! the two through DevTools.

use agent::peer::{Peer, PeerConfig, PeerError, PeerEvent, VideoCodec};
use anyhow::{bail, Context, Result};
use openh264::encoder::{Encoder, EncoderConfig};
use openh264::formats::{RgbSliceU8, YUVBuffer};
use openh264::OpenH264API;
use protocol::data::DataMessage;
use protocol::signal::Signal;
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use tests::browser::{Browser, Page, TestSite};
use tokio::sync::watch;

const WIDTH: usize = 320;
const HEIGHT: usize = 240;
const FRAME: Duration = Duration::from_millis(33);
/// Generous: two busy cores build and test at the same time.
const WAIT: Duration = Duration::from_secs(30);

const RED: [u8; 3] = [220, 40, 40];
const BLUE: [u8; 3] = [40, 80, 220];
/// Per channel, after H.264 4:2:0 and two colour-space conversions we do not control.
const TOLERANCE: i64 = 48;

const PAGE: &str = r#"<!doctype html>
<html>
<body>
<video id="video" width="320" height="240"></video>
<canvas id="canvas" width="32" height="32"></canvas>
<script type="module">
import { ExpertPeer } from "/static/js/peer.js";
const video = document.getElementById("video");
const ctx = document.getElementById("canvas").getContext("2d", { willReadFrequently: true });
window.outbox = [];
window.inbox = [];
window.expert = new ExpertPeer({
  iceServers: [],
  video,
  sendSignal: (signal) => window.outbox.push(signal),
});
expert.addEventListener("message", (e) => window.inbox.push(e.detail));
// The colour at the centre of the current video frame, or null before the first frame.
window.centrePixel = () => {
  if (video.readyState < 2 || video.videoWidth === 0) return null;
  ctx.drawImage(video, 0, 0, 32, 32);
  const d = ctx.getImageData(16, 16, 1, 1).data;
  return [d[0], d[1], d[2]];
};
</script>
</body>
</html>
"#;

/// What the agent side has seen, for the scenario to wait on.
#[derive(Clone, Debug, Default)]
struct AgentSeen {
    codec: Option<VideoCodec>,
    connected: bool,
    keyframe_requests: usize,
    messages: Vec<DataMessage>,
    closed: Option<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_streams_to_chromium() -> Result<()> {
    // RUST_LOG=info (or debug) shows what the WebRTC stack did.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let site = TestSite::start(vec![("/peer-test.html", PAGE.to_owned())]).await?;
    let browser = Browser::launch().await?;
    let page = browser.open(&site.url("/peer-test.html")).await?;
    page.wait_for(
        "window.expert !== undefined",
        WAIT,
        "the test page to load peer.js",
    )
    .await?;

    let (peer, events) = Peer::start(PeerConfig {
        ice_servers: vec![],
        // Only loopback candidates: no packet of this test leaves the machine.
        local_ips: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        ..Default::default()
    })
    .await?;
    let (colour_tx, colour_rx) = watch::channel(RED);
    let (seen_tx, seen_rx) = watch::channel(AgentSeen::default());

    let outcome = tokio::select! {
        ended = run_agent(&peer, events, &page, colour_rx, seen_tx) => match ended {
            Ok(()) => Err(anyhow::anyhow!("the agent's event stream ended before the scenario did")),
            Err(e) => Err(e.context("the agent side failed")),
        },
        result = scenario(&peer, &page, &colour_tx, seen_rx) => result,
    };
    if let Err(e) = &outcome {
        report_failure(&page, e).await;
    }
    outcome
}

/// What the expert and the novice see, step by step.
async fn scenario(
    peer: &Peer,
    page: &Page,
    colour: &watch::Sender<[u8; 3]>,
    mut seen: watch::Receiver<AgentSeen>,
) -> Result<()> {
    wait_agent(&mut seen, "the agent to report Connected", |s| s.connected).await?;
    assert_eq!(
        seen.borrow().codec,
        Some(VideoCodec::H264),
        "Chromium answers with H.264 first when it is offered first"
    );

    // The encoder's first IDR went out before the connection was up and was dropped, so the
    // browser can only start decoding after it has asked for a keyframe.
    wait_agent(&mut seen, "a keyframe request (PLI or FIR)", |s| {
        s.keyframe_requests > 0
    })
    .await?;
    let decoded = page
        .wait_for(
            "expert.stats().then(s => s.framesDecoded > 0 && s.framesDecoded)",
            WAIT,
            "the browser to decode a first frame",
        )
        .await?;
    let decoded = decoded.as_u64().context("framesDecoded is a number")?;
    page.wait_for(
        &format!(
            "expert.stats().then(s => s.framesDecoded >= {} + 15)",
            decoded
        ),
        WAIT,
        "framesDecoded to keep growing",
    )
    .await?;

    expect_colour(page, RED, "red").await?;
    colour.send_replace(BLUE);
    expect_colour(page, BLUE, "blue after the colour changed").await?;

    // The stats helper reports what the console shows about quality; bitrate is measured
    // between two calls, so the first call of the wait only sets the baseline.
    let stats = page
        .wait_for(
            "expert.stats().then(s => s.bitrate > 0 && s)",
            WAIT,
            "stats() to report a bitrate while video flows",
        )
        .await?;
    if !stats["roundTripTime"].is_number() || stats["relayed"] != Value::Bool(false) {
        bail!("stats() should report a round-trip time over a direct pair: {stats}");
    }

    // Chat from the expert, with junk the agent must drop without harm before it.
    page.wait_for(
        "expert.channelOpen",
        WAIT,
        "the data channel to open in the browser",
    )
    .await?;
    page.eval(
        r#"expert.send("not a message");
           expert.send({ type: "chat", from: "Expert", text: "x".repeat(20000) });
           expert.send({ type: "take_over" });
           expert.send({ type: "chat", from: "Expert", text: "hello from the browser" })"#,
    )
    .await?;
    let expected = DataMessage::Chat {
        from: "Expert".into(),
        text: "hello from the browser".into(),
    };
    wait_agent(&mut seen, "the expert's chat line at the agent", |s| {
        s.messages.contains(&expected)
    })
    .await?;
    let messages = seen.borrow().messages.clone();
    if messages != [expected] {
        bail!("the agent passed on malformed or oversized messages: {messages:?}");
    }

    // Chat from the novice.
    peer.send_data(&DataMessage::Chat {
        from: "Novice".into(),
        text: "hello from the agent".into(),
    })
    .await?;
    let inbox = page
        .wait_for(
            "inbox.some(m => m.type === 'chat' && m.from === 'Novice' && m.text === 'hello from the agent') && inbox",
            WAIT,
            "the agent's chat line in the browser",
        )
        .await?;
    if inbox.as_array().map(Vec::len) != Some(1) {
        bail!("the browser received unexpected messages: {inbox}");
    }

    // Hanging up ends the expert's view.
    peer.close().await;
    let reason = page
        .wait_for(
            "expert.closedReason",
            WAIT,
            "the browser to notice the agent closed",
        )
        .await?;
    eprintln!("the browser saw the session end: {reason}");
    wait_agent(&mut seen, "the agent to report Closed", |s| {
        s.closed.is_some()
    })
    .await?;
    Ok(())
}

/// The novice's side: encodes a solid colour at ~30 fps, answers keyframe requests, and carries
/// signals between the peer and the page. Runs until the peer's events end.
async fn run_agent(
    peer: &Peer,
    mut events: tokio::sync::mpsc::Receiver<PeerEvent>,
    page: &Page,
    colour: watch::Receiver<[u8; 3]>,
    seen: watch::Sender<AgentSeen>,
) -> Result<()> {
    let config = EncoderConfig::new().skip_frames(false);
    let mut encoder = Encoder::with_api_config(OpenH264API::from_source(), config)?;
    let mut keyframe_wanted = false;
    let mut tick = tokio::time::interval(FRAME);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if seen.borrow().closed.is_some() {
                    continue;
                }
                if keyframe_wanted {
                    encoder.force_intra_frame();
                    keyframe_wanted = false;
                }
                let frame = solid_frame(*colour.borrow());
                let access_unit = encoder.encode(&frame)?.to_vec();
                match peer.send_video(&access_unit, VideoCodec::H264, FRAME).await {
                    Ok(_) | Err(PeerError::NotConnected) => {}
                    Err(e) => return Err(e.into()),
                }
                relay_browser_signals(peer, page).await?;
            }
            event = events.recv() => {
                let Some(event) = event else { return Ok(()) };
                match event {
                    PeerEvent::Signal(signal) => {
                        let json = serde_json::to_string(&signal)?;
                        page.eval(&format!("expert.handleSignal({json})")).await?;
                    }
                    PeerEvent::Negotiated { codec } => {
                        seen.send_modify(|s| s.codec = Some(codec));
                    }
                    PeerEvent::Connected => seen.send_modify(|s| s.connected = true),
                    PeerEvent::Data(message) => seen.send_modify(|s| s.messages.push(message)),
                    PeerEvent::KeyframeRequest => {
                        keyframe_wanted = true;
                        seen.send_modify(|s| s.keyframe_requests += 1);
                    }
                    PeerEvent::Closed { reason } => seen.send_modify(|s| s.closed = Some(reason)),
                }
            }
        }
    }
}

/// Hands the browser's answer and candidates to the peer. The browser's host candidates are on
/// the machine's other interfaces and are dropped, so that the agent only ever sends to
/// loopback; the browser's checks from those interfaces to the agent's loopback candidate still
/// connect (as peer-reflexive candidates) without a packet leaving the machine.
async fn relay_browser_signals(peer: &Peer, page: &Page) -> Result<()> {
    let outbox = page.eval("outbox.splice(0)").await?;
    for signal in outbox.as_array().into_iter().flatten() {
        let signal: Signal = serde_json::from_value(signal.clone())
            .with_context(|| format!("the page sent a signal that is not a Signal: {signal}"))?;
        if let Signal::Candidate { candidate, .. } = &signal {
            // candidate:<foundation> <component> <transport> <priority> <address> <port> ...
            if candidate.split_whitespace().nth(4) != Some("127.0.0.1") {
                continue;
            }
        }
        peer.handle_signal(signal).await?;
    }
    Ok(())
}

fn solid_frame(rgb: [u8; 3]) -> YUVBuffer {
    let pixels = rgb.repeat(WIDTH * HEIGHT);
    YUVBuffer::from_rgb8_source(RgbSliceU8::new(&pixels, (WIDTH, HEIGHT)))
}

async fn expect_colour(page: &Page, rgb: [u8; 3], what: &str) -> Result<()> {
    let check = format!(
        "(() => {{ const p = centrePixel(); window.lastPixel = p; \
         return p !== null && p.every((c, i) => Math.abs(c - {rgb:?}[i]) <= {TOLERANCE}); }})()"
    );
    let waited = page
        .wait_for(&check, WAIT, &format!("the video to show {what} {rgb:?}"))
        .await;
    if let Err(e) = waited {
        let last = page.eval("window.lastPixel").await.unwrap_or(Value::Null);
        return Err(e.context(format!("the last sampled pixel was {last}")));
    }
    Ok(())
}

async fn wait_agent(
    seen: &mut watch::Receiver<AgentSeen>,
    what: &str,
    condition: impl FnMut(&AgentSeen) -> bool,
) -> Result<()> {
    let waited = tokio::time::timeout(WAIT, seen.wait_for(condition))
        .await
        .map(|r| r.is_ok());
    match waited {
        Ok(true) => Ok(()),
        Ok(false) => bail!("the agent side stopped while waiting for {what}"),
        Err(_) => bail!(
            "timed out after {WAIT:?} waiting for {what}; the agent saw {:?}",
            *seen.borrow()
        ),
    }
}

/// Leaves what a person needs to see why: the page's console and a screenshot.
async fn report_failure(page: &Page, error: &anyhow::Error) {
    eprintln!("failed: {error:#}");
    for line in page.console() {
        eprintln!("page {line}");
    }
    if let Ok(state) = page
        .eval("({ connection: expert.connectionState, channel: expert.channelOpen, closed: expert.closedReason })")
        .await
    {
        eprintln!("page state: {state}");
    }
    if let Ok(png) = page.screenshot().await {
        let path = std::env::temp_dir().join("peer_streams_to_chromium.png");
        if std::fs::write(&path, png).is_ok() {
            eprintln!("screenshot: {}", path.display());
        }
    }
}
