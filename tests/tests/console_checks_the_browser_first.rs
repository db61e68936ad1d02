//! The console checks that the browser can show the live screen before anything is asked of the
//! novice: a browser without WebRTC, or one that decodes neither H.264 nor VP8, gets a sentence
//! saying what to do, a disabled Connect button, and the invitation is not redeemed, so the
//! novice is never asked. In a browser that can, the join form goes away after Connect and the
//! picture is marked paused only while frames really stop.
//!
//! Browsers without WebRTC (WebKitGTK here) cannot be driven in these tests, so Chromium plays
//! them: a script that runs in every new document of the tab before the page's own takes
//! WebRTC, or its H.264 and VP8 decoders, away.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::time::Duration;
use tests::browser::{Browser, Page};
use tests::console::{
    frames_decoded, join, state, status, text, wait_dataset, wait_state, Invited, WAIT,
};
use tests::stack::AgentProcess;

/// How long the novice's terminal is watched for a question that must not come. Redeeming and
/// asking take well under a second on loopback; the invitation's status is checked after it.
const QUIET: Duration = Duration::from_secs(5);

/// A browser without WebRTC, as Debian's WebKitGTK is built.
const NO_WEBRTC: &str = r#"
delete window.RTCPeerConnection;
delete window.webkitRTCPeerConnection;
"#;

/// A browser that decodes neither H.264 nor VP8 (VP9 and AV1 remain).
const NO_H264_NOR_VP8: &str = r#"
(() => {
  const capabilities = RTCRtpReceiver.getCapabilities.bind(RTCRtpReceiver);
  RTCRtpReceiver.getCapabilities = (kind) => {
    const found = capabilities(kind);
    if (kind !== "video" || !found) return found;
    return { ...found, codecs: found.codecs.filter((c) => !/^video\/(h264|vp8)$/i.test(c.mimeType)) };
  };
})();
"#;

/// Whether the join form takes up space on the page: not hidden, not `display: none`.
const JOIN_FORM_SHOWN: &str = "(() => { const f = document.getElementById('join'); \
     return getComputedStyle(f).display !== 'none' && f.offsetParent !== null; })()";

/// The status of the agent's one invitation as `agent list` shows it (`open`, `in use`, ...).
async fn invitation_status(agent: &AgentProcess) -> Result<String> {
    let listed = agent.run(&["list"]).await?;
    // "<id>  <status>  created <date> UTC  expires <date> UTC"
    let statuses: Vec<String> = listed
        .lines()
        .filter_map(|l| l.split_once("  created "))
        .map(|(head, _)| {
            head.split_whitespace()
                .skip(1)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    match &statuses[..] {
        [one] => Ok(one.clone()),
        _ => bail!("not one invitation in: {listed}"),
    }
}

/// A novice (the agent, sharing an empty display) has sent an invitation; the expert opens it in
/// a Chromium tab whose documents run `script` first, and the console has finished loading.
async fn open_in_a_browser_changed_by(script: &str) -> Result<(Invited, Browser, Page)> {
    let invited = Invited::start(320, 240, &[]).await?;
    let browser = Browser::launch().await?;
    browser.add_init_script(script).await?;
    let page = invited.open_in(&browser).await?;
    Ok((invited, browser, page))
}

/// The console in an unsupported browser says `says`, keeps Connect disabled whatever the expert
/// tries, and never redeems the invitation: the novice is not asked and it stays open.
async fn refuses_before_asking(
    page: &Page,
    agent: &mut AgentProcess,
    browser: &str,
    says: &str,
) -> Result<()> {
    wait_state(page, "unsupported").await?;
    assert_eq!(
        text(page, "document.body.dataset.browser").await?,
        browser,
        "the check's outcome is on the page"
    );
    let said = status(page).await?;
    assert!(
        said.contains(says) && said.contains("Open the invitation in a current Firefox, Chrome"),
        "the page says what is wrong and what to do: {said}"
    );
    let headline = text(page, "document.getElementById('headline').textContent").await?;
    assert!(headline.contains("cannot show a live screen"), "{headline}");
    let explanation = text(page, "document.getElementById('explanation').textContent").await?;
    assert_eq!(explanation, "Nora has not been asked anything.");
    assert_eq!(
        page.eval("document.getElementById('connect').disabled")
            .await?,
        Value::Bool(true),
        "Connect stays disabled"
    );

    // The expert tries anyway: a name, the button, and Enter in the name field.
    page.type_text("#expert-name", "Eve").await?;
    page.click("#connect").await?;
    page.key("Enter", true).await?;
    page.key("Enter", false).await?;

    if let Ok(line) = agent.expect_line("wants to see your screen", QUIET).await {
        bail!("the novice was asked although the browser cannot show the screen: {line}");
    }
    assert_eq!(
        agent.try_exit_status()?,
        None,
        "the agent still runs, waiting for an expert"
    );
    assert_eq!(
        invitation_status(agent).await?,
        "open",
        "the invitation was not redeemed"
    );
    assert_eq!(state(page).await?, "unsupported");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_without_webrtc_is_told_so_and_the_novice_is_never_asked() -> Result<()> {
    let (mut invited, _browser, page) = open_in_a_browser_changed_by(NO_WEBRTC).await?;
    assert_eq!(
        text(&page, "typeof window.RTCPeerConnection").await?,
        "undefined",
        "the tab has no WebRTC, as a browser built without it"
    );
    refuses_before_asking(&page, &mut invited.agent, "no-webrtc", "it has no WebRTC").await?;
    invited.server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_without_h264_or_vp8_is_told_so_and_the_novice_is_never_asked() -> Result<()> {
    let (mut invited, _browser, page) = open_in_a_browser_changed_by(NO_H264_NOR_VP8).await?;
    let codecs = text(
        &page,
        "RTCRtpReceiver.getCapabilities('video').codecs.map((c) => c.mimeType).join(' ')",
    )
    .await?;
    assert!(
        !codecs.contains("H264") && !codecs.contains("VP8") && codecs.contains("VP9"),
        "the tab decodes other codecs only: {codecs}"
    );
    refuses_before_asking(
        &page,
        &mut invited.agent,
        "no-codec",
        "it cannot decode H.264 or VP8 video",
    )
    .await?;
    invited.server.stop().await;
    Ok(())
}

/// Sends `signal` (such as `-STOP`) to the process `pid`.
fn signal(pid: u32, signal: &str) -> Result<()> {
    let status = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .context("running kill")?;
    if !status.success() {
        bail!("kill {signal} {pid} failed: {status}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_capable_browser_the_form_goes_after_connect_and_a_stopped_picture_is_marked_paused(
) -> Result<()> {
    // An empty display: the agent sends a still screen once a second, the slowest stream a
    // working link carries.
    let mut invited = Invited::start(320, 240, &[]).await?;
    let browser = Browser::launch().await?;
    let page = invited.open_in(&browser).await?;
    let agent = &mut invited.agent;

    assert_eq!(
        text(&page, "document.body.dataset.browser").await?,
        "supported"
    );
    assert_eq!(state(&page).await?, "open");
    assert_eq!(
        page.eval(JOIN_FORM_SHOWN).await?,
        Value::Bool(true),
        "the form shows before Connect"
    );
    assert_eq!(
        page.eval("document.getElementById('connect').disabled")
            .await?,
        Value::Bool(false)
    );

    join(&page, "Eve", None).await?;
    agent.expect_line("wants to see your screen", WAIT).await?;
    wait_state(&page, "waiting").await?;
    assert_eq!(
        page.eval(JOIN_FORM_SHOWN).await?,
        Value::Bool(false),
        "the form is gone once the invitation is redeemed"
    );
    assert_eq!(invitation_status(agent).await?, "in use");
    agent.type_line("y").await?;
    wait_state(&page, "live").await?;
    assert_eq!(page.eval(JOIN_FORM_SHOWN).await?, Value::Bool(false));

    // Frames flow: the picture is never marked paused, the quality line rates the link.
    page.wait_for(
        "Number(document.getElementById('quality').dataset.framesDecoded) > 0",
        WAIT,
        "the first decoded frames",
    )
    .await?;
    page.eval(
        "window.pausedSeen = document.body.dataset.frozen !== 'false'; \
         new MutationObserver(() => { if (document.body.dataset.frozen !== 'false') window.pausedSeen = true; }) \
           .observe(document.body, { attributes: true, attributeFilter: ['data-frozen'] }); true",
    )
    .await?;
    let before = frames_decoded(&page).await?;
    page.wait_for(
        &format!(
            "Number(document.getElementById('quality').dataset.framesDecoded) >= {}",
            before + 3
        ),
        WAIT,
        "three more frames of the still screen",
    )
    .await?;
    assert_eq!(
        page.eval("window.pausedSeen").await?,
        Value::Bool(false),
        "a still screen refreshed once a second is not a paused picture; console: {:?}",
        page.console()
    );
    assert_eq!(
        page.eval("getComputedStyle(document.getElementById('frozen')).display")
            .await?,
        json!("none"),
        "no pause notice over the picture"
    );
    let link_word = text(&page, "document.getElementById('quality').dataset.link").await?;
    assert!(
        ["good", "fair", "poor"].contains(&link_word.as_str()),
        "the link is rated: {link_word:?}"
    );
    let quality = text(&page, "document.getElementById('quality').textContent").await?;
    assert!(
        quality.contains("fps") && quality.contains(&format!("Link {link_word}")),
        "{quality}"
    );

    // The novice's machine stops sending (its agent is stopped): the picture is marked paused,
    // and the mark goes when frames come again.
    let pid = agent.pid().context("the agent runs")?;
    signal(pid, "-STOP")?;
    let paused = wait_dataset(&page, "frozen", "true").await;
    signal(pid, "-CONT")?;
    paused?;
    let notice = text(
        &page,
        "(() => { const f = document.getElementById('frozen'); \
           return getComputedStyle(f).display === 'none' ? '' : f.textContent; })()",
    )
    .await?;
    assert_eq!(notice, "Picture paused: poor connection");
    wait_dataset(&page, "frozen", "false").await?;
    assert_eq!(
        page.eval("getComputedStyle(document.getElementById('frozen')).display")
            .await?,
        json!("none")
    );
    assert_eq!(state(&page).await?, "live");
    invited.server.stop().await;
    Ok(())
}

/// Renames every video codec the agent may offer in the offers this page receives, so that the
/// browser finds none it knows and refuses the video, as a browser would whose capability list
/// promised more than its decoders take.
const OFFER_WITHOUT_KNOWN_CODECS: &str = r#"(() => {
  const rename = (sdp) => sdp.replace(/^(a=rtpmap:\d+ )(H264|VP8)\//gm, "$1X-$2/");
  const proto = RTCPeerConnection.prototype;
  const setRemote = proto.setRemoteDescription;
  proto.setRemoteDescription = function (description, ...rest) {
    if (description?.type === "offer") description = { type: "offer", sdp: rename(description.sdp) };
    return setRemote.call(this, description, ...rest);
  };
  return true;
})()"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_that_passes_the_check_but_takes_no_codec_is_told_why_the_session_ended(
) -> Result<()> {
    let mut invited = Invited::start(320, 240, &[]).await?;
    let browser = Browser::launch().await?;
    let page = invited.open_in(&browser).await?;
    let agent = &mut invited.agent;
    assert_eq!(
        text(&page, "document.body.dataset.browser").await?,
        "supported"
    );
    // The console makes its connection only after the novice's yes: the change is in place.
    assert_eq!(
        page.eval(OFFER_WITHOUT_KNOWN_CODECS).await?,
        Value::Bool(true)
    );

    join(&page, "Eve", None).await?;
    agent.expect_line("wants to see your screen", WAIT).await?;
    agent.type_line("y").await?;

    // The novice reads why, not that the helper's connection was lost.
    let novice = agent.expect_line("cannot show your screen", WAIT).await?;
    assert!(
        novice.contains("neither H.264 nor VP8"),
        "the novice is told why: {novice}"
    );

    // The agent finds no codec in the answer and ends the session saying so; the expert reads
    // that, not what the browser saw of the connection closing.
    let ended = ["ended", "unsupported", "failed", "declined"];
    page.wait_for(
        &format!("{ended:?}.includes(document.body.dataset.state)"),
        WAIT,
        "the session to end",
    )
    .await?;
    let (now, said) = (state(&page).await?, status(&page).await?);
    if now != "unsupported" {
        bail!("the session ended as {now:?} with {said:?}, not with the agent's reason");
    }
    assert!(
        said.contains("H.264") && said.contains("VP8") && !said.contains("connection ended"),
        "the expert reads why: {said}"
    );
    assert_eq!(
        text(&page, "document.body.dataset.browser").await?,
        "no-codec"
    );
    assert_eq!(frames_decoded(&page).await?, 0);
    invited.server.stop().await;
    Ok(())
}
