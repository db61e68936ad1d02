//! When the expert's browser can decode none of the agent's codecs after all (the console checks
//! before Connect, but a browser can claim more than it accepts), the session ends and both
//! people read the real reason: the expert that the browser cannot show the picture and what to
//! use instead, the novice that the helper's browser cannot show the screen. Neither is left
//! with a black video or a generic "connection lost".
//!
//! Chromium plays such a browser: before Connect, its connections are made to answer with AV1
//! only, so the answer keeps no codec the agent offered and rejects the video section.

use anyhow::{bail, Result};
use serde_json::Value;
use tests::browser::Browser;
use tests::console::{invitation_link, join, start_agent, state, status, WAIT};
use tests::stack::ServerProcess;
use tests::xvfb::Xvfb;

/// Makes every answer of this page keep AV1 alone for video.
const ANSWER_WITH_AV1_ONLY: &str = r#"(() => {
  const av1 = RTCRtpReceiver.getCapabilities("video").codecs.filter((c) => /AV1/i.test(c.mimeType));
  if (av1.length === 0) return false;
  const proto = RTCPeerConnection.prototype;
  const createAnswer = proto.createAnswer;
  proto.createAnswer = function (...args) {
    for (const t of this.getTransceivers()) {
      if (t.receiver.track?.kind === "video") t.setCodecPreferences(av1);
    }
    return createAnswer.apply(this, args);
  };
  return true;
})()"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_people_read_that_the_browser_cannot_show_the_picture() -> Result<()> {
    let xvfb = Xvfb::start(320, 240)?;
    let server = ServerProcess::start().await?;
    let mut agent = start_agent(&server, &xvfb, &[]).await?;
    let link = invitation_link(&mut agent).await?;
    let browser = Browser::launch().await?;
    let page = browser.open(&link).await?;
    assert_eq!(
        page.eval(ANSWER_WITH_AV1_ONLY).await?,
        Value::Bool(true),
        "this Chromium decodes AV1, which the test needs"
    );

    join(&page, "Otto", None).await?;
    agent.expect_line("wants to see your screen", WAIT).await?;
    agent.type_line("y").await?;

    let novice = agent.expect_line("cannot show your screen", WAIT).await?;
    assert!(
        novice.contains("neither H.264 nor VP8"),
        "the novice is told why: {novice}"
    );
    let ended = page
        .wait_for(
            "['ended', 'failed', 'unsupported'].includes(document.body.dataset.state) \
             && document.getElementById('status').textContent",
            WAIT,
            "the console to end the session",
        )
        .await;
    if let Err(err) = ended {
        bail!(
            "the console did not end the session: {err:#}; state {:?}, status {:?}",
            state(&page).await?,
            status(&page).await?
        );
    }
    let said = status(&page).await?;
    assert!(
        said.contains("cannot show the picture") && said.contains("VP8"),
        "the expert is told why and what to do: {said:?}"
    );
    server.stop().await;
    Ok(())
}
