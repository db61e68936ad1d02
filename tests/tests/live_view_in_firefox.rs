//! Live view end to end with the expert in Firefox ESR: the same Xvfb display showing the test
//! pattern, the same server and agent processes as `live_view.rs`, and headless Firefox opening
//! the invitation link. Firefox here has H.264 only through the system's libavcodec, and only
//! when told to (see `tests/src/browser/firefox.rs`); without it the agent must send something
//! Firefox can decode.
//!
//! Without Firefox installed these tests fail, unless `ASSIST_ALLOW_SKIP=1` allows skipping
//! ([`Browser::launch_firefox_or_skip`]).

use anyhow::Result;
use tests::browser::{Browser, FirefoxOptions, TestSite, H264};
use tests::console::{join_and_allow, more_frames_decoded, Invited, WAIT};
use tests::pattern::{expect_video, rotate, PATTERN, ROTATED};
use tests::tk::TkProgram;

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

/// The novice shares the test pattern, the expert opens the invitation in Firefox set up as
/// `options` say and is let in; then the video must arrive in `codec` (a MIME type), show the
/// pattern, keep decoding frames, and follow a change on the display.
async fn expert_in_firefox_sees_the_pattern(options: FirefoxOptions, codec: &str) -> Result<()> {
    let Some(browser) = Browser::launch_firefox_or_skip(options).await? else {
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
    more_frames_decoded(&page).await?;

    rotate(&mut pattern).await?;
    expect_video(&page, &ROTATED, "the rotated pattern").await?;
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
        let Some(browser) = Browser::launch_firefox_or_skip(FirefoxOptions { h264 }).await? else {
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
