//! Live view end to end with the expert in Firefox ESR: the same Xvfb display showing the test
//! pattern, the same server and agent processes as `live_view.rs`, and headless Firefox opening
//! the invitation link. Firefox here has H.264 only through the system's libavcodec, and only
//! when told to (see `tests/src/browser/firefox.rs`); without it the agent must send something
//! Firefox can decode.
//!
//! Without Firefox installed these tests fail, unless `ASSIST_ALLOW_SKIP=1` allows skipping.

use anyhow::{bail, Result};
use serde_json::Value;
use std::time::Duration;
use tests::browser::{Browser, FirefoxOptions, Page, TestSite, FIREFOX, H264};
use tests::console::{frames_decoded, join_and_allow, Invited, WAIT};
use tests::tk::TkProgram;

/// The pattern's quadrants (top-left, top-right, bottom-right, bottom-left), see
/// `tests/assets/pattern.py`.
const PATTERN: [[i64; 3]; 4] = [
    [0xe0, 0x20, 0x20],
    [0x20, 0xc0, 0x40],
    [0x20, 0x40, 0xe0],
    [0xf0, 0xd0, 0x20],
];
/// Per channel, after 4:2:0 subsampling, lossy coding and two colour-space conversions.
const TOLERANCE: i64 = 40;

/// The colours at the centres of the four quadrants of the current video frame, drawn to a
/// canvas at the video's own size; `null` before the first frame.
const SAMPLE_QUADRANTS: &str = r#"(() => {
  const v = document.getElementById("video");
  if (!v || !v.srcObject || v.readyState < 2 || v.videoWidth === 0) return null;
  const c = document.createElement("canvas");
  c.width = v.videoWidth;
  c.height = v.videoHeight;
  const ctx = c.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(v, 0, 0);
  const at = ([fx, fy]) => Array.from(
    ctx.getImageData(Math.floor(fx * c.width), Math.floor(fy * c.height), 1, 1).data.slice(0, 3));
  return { width: c.width, height: c.height,
           colours: [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]].map(at) };
})()"#;

/// Keeps every peer connection the page makes in `window.testPeers`, to read its statistics.
const KEEP_PEERS: &str = "window.testPeers = []; \
    window.RTCPeerConnection = class extends window.RTCPeerConnection { \
      constructor(...args) { super(...args); window.testPeers.push(this); } };";

/// The MIME type of the video codec the page's last peer connection receives; `null` before
/// any video arrives.
const RECEIVED_CODEC: &str = "(async () => { const pc = window.testPeers.at(-1); \
    if (!pc) return null; const report = await pc.getStats(); let codec = null; \
    report.forEach(s => { if (s.type === 'inbound-rtp' && s.kind === 'video' && s.codecId) \
      codec = report.get(s.codecId)?.mimeType ?? null; }); return codec; })()";

/// The video codecs the page's browser can receive, as `mimeType fmtp` lines.
const RECEIVE_CODECS: &str = "RTCRtpReceiver.getCapabilities('video').codecs\
     .map(c => `${c.mimeType} ${c.sdpFmtpLine ?? ''}`.trim())";

/// Firefox as `options` say, or `None` after saying why it cannot run here, where skipping is
/// allowed ([`tests::skip_allowed`]); elsewhere a missing Firefox fails the test.
async fn firefox(options: FirefoxOptions) -> Result<Option<Browser>> {
    if !std::path::Path::new(FIREFOX).exists() {
        if tests::skip_allowed() {
            eprintln!("SKIPPED: {FIREFOX} is missing; this test runs the expert's Firefox");
            return Ok(None);
        }
        bail!(
            "{FIREFOX} is missing: this test runs the expert's Firefox (Debian package \
             firefox-esr, see scripts/install-deps.sh; ASSIST_ALLOW_SKIP=1 skips it)"
        );
    }
    Ok(Some(Browser::launch_firefox(options).await?))
}

fn matches(sample: &Value, expected: &[[i64; 3]; 4]) -> bool {
    let Some(colours) = sample["colours"].as_array() else {
        return false;
    };
    colours.len() == 4
        && colours.iter().zip(expected).all(|(got, want)| {
            (0..3).all(|i| {
                got[i]
                    .as_i64()
                    .is_some_and(|c| (c - want[i]).abs() <= TOLERANCE)
            })
        })
}

/// Waits until the video shows `expected`, and returns the last sample.
async fn expect_video(page: &Page, expected: &[[i64; 3]; 4], what: &str) -> Result<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let sample = page.eval(SAMPLE_QUADRANTS).await?;
        if matches(&sample, expected) {
            return Ok(sample);
        }
        if tokio::time::Instant::now() > deadline {
            bail!(
                "the video never showed {what}: last sample {sample}, console state {}, \
                 status {}, console: {:?}",
                page.eval("document.body.dataset.state").await?,
                page.eval("document.getElementById('status').textContent")
                    .await?,
                page.console()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The novice shares the test pattern, the expert opens the invitation in Firefox set up as
/// `options` say and is let in; then the video must arrive in `codec` (a MIME type), show the
/// pattern, keep decoding frames, and follow a change on the display.
async fn expert_in_firefox_sees_the_pattern(options: FirefoxOptions, codec: &str) -> Result<()> {
    let Some(browser) = firefox(options).await? else {
        return Ok(());
    };
    browser.add_init_script(KEEP_PEERS).await?;
    let mut invited = Invited::start(1280, 720, &[]).await?;
    // Drawn before anything is shared: the agent captures only once the novice allows.
    let mut pattern = TkProgram::start(&invited.xvfb, "pattern.py").await?;
    let page = invited.open_in(&browser).await?;
    assert_eq!(
        page.eval("document.body.dataset.browser").await?,
        "supported",
        "the console finds a codec it can receive in this Firefox"
    );
    join_and_allow(&page, &mut invited.agent, "Eve").await?;

    let sample = expect_video(&page, &PATTERN, "the test pattern").await?;
    let received = page
        .wait_for(RECEIVED_CODEC, WAIT, "the received video's codec")
        .await?;
    assert_eq!(received, codec, "the codec the video arrives in");
    assert_eq!(
        (sample["width"].as_u64(), sample["height"].as_u64()),
        (Some(1280), Some(720))
    );
    let first = frames_decoded(&page).await?;
    page.wait_for(
        &format!("Number(document.getElementById('quality').dataset.framesDecoded) > {first}"),
        WAIT,
        "more frames to be decoded",
    )
    .await?;

    pattern.send("rotate").await?;
    pattern.expect("ready").await?;
    let rotated = [PATTERN[3], PATTERN[0], PATTERN[1], PATTERN[2]];
    expect_video(&page, &rotated, "the rotated pattern").await?;
    invited.server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expert_in_firefox_with_h264_sees_the_desktop_live() -> Result<()> {
    let options = FirefoxOptions {
        h264: H264::Enabled,
    };
    expert_in_firefox_sees_the_pattern(options, "video/H264").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expert_in_firefox_without_h264_still_sees_the_desktop_live() -> Result<()> {
    // The agent falls back to VP8 for a browser without H.264.
    let options = FirefoxOptions {
        h264: H264::Disabled,
    };
    expert_in_firefox_sees_the_pattern(options, "video/VP8").await
}

/// What the two Firefox set-ups above rely on: with H.264 on, Firefox receives it in the
/// profile the agent sends (Constrained Baseline, packetization-mode 1); with it off, it has no
/// H.264 at all, and VP8 either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firefox_receives_h264_only_when_it_is_enabled() -> Result<()> {
    let site = TestSite::start(vec![(
        "/codecs.html",
        "<!doctype html><title>codecs</title>".to_owned(),
    )])
    .await?;
    for h264 in [H264::Enabled, H264::Disabled] {
        let Some(browser) = firefox(FirefoxOptions { h264 }).await? else {
            return Ok(());
        };
        let page = browser.open(&site.url("/codecs.html")).await?;
        let codecs: Vec<String> = serde_json::from_value(page.eval(RECEIVE_CODECS).await?)?;
        let has = |prefix: &str| codecs.iter().any(|c| c.starts_with(prefix));
        assert!(has("video/VP8"), "{h264:?}: VP8 in {codecs:?}");
        match h264 {
            H264::Enabled => assert!(
                codecs.iter().any(|c| c.starts_with("video/H264")
                    && c.contains("profile-level-id=42e01f")
                    && c.contains("packetization-mode=1")),
                "H.264 Constrained Baseline with packetization-mode 1 in {codecs:?}"
            ),
            H264::Disabled => assert!(!has("video/H264"), "no H.264 in {codecs:?}"),
        }
    }
    Ok(())
}
