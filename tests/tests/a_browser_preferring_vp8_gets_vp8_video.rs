//! A browser that answers with VP8 first gets VP8 video: the agent offers H.264 and VP8, and
//! encodes in whichever codec the answer puts first (RFC 3264 §6.1). That is what happens for a
//! browser without H.264 (Firefox before its OpenH264 plugin arrives); here Chromium plays such
//! a browser, with its answer's video codecs reordered before it is applied and sent, so that
//! the VP8 path is tested in every run whatever Firefox does.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use tests::browser::Browser;
use tests::console::{frames_decoded, join_and_allow, Invited, WAIT};

/// Moves VP8's payload types to the front of the video section of every answer this page makes,
/// and keeps the page's connections in `window.answering`.
const ANSWER_PREFERRING_VP8: &str = r#"(() => {
  const preferVp8 = (sdp) => {
    const lines = sdp.split("\r\n");
    const vp8 = lines
      .map((line) => /^a=rtpmap:(\d+) VP8\//i.exec(line))
      .filter(Boolean)
      .map((m) => m[1]);
    return lines
      .map((line) => {
        const m = /^(m=video \d+ \S+) (.*)$/.exec(line);
        if (!m) return line;
        const types = m[2].split(" ");
        return `${m[1]} ${[...types.filter((t) => vp8.includes(t)), ...types.filter((t) => !vp8.includes(t))].join(" ")}`;
      })
      .join("\r\n");
  };
  window.answering = [];
  const proto = RTCPeerConnection.prototype;
  const setLocal = proto.setLocalDescription;
  proto.setLocalDescription = function (description, ...rest) {
    if (!window.answering.includes(this)) window.answering.push(this);
    if (description?.type === "answer" && description.sdp) {
      description = { type: "answer", sdp: preferVp8(description.sdp) };
    }
    return setLocal.call(this, description, ...rest);
  };
  return true;
})()"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_that_answers_vp8_first_is_sent_vp8_and_shows_the_picture() -> Result<()> {
    let mut invited = Invited::start(320, 240, &[]).await?;
    let browser = Browser::launch().await?;
    let page = invited.open_in(&browser).await?;
    assert_eq!(page.eval(ANSWER_PREFERRING_VP8).await?, Value::Bool(true));

    join_and_allow(&page, &mut invited.agent, "Vera").await?;

    let decoded = page
        .wait_for(
            "Number(document.getElementById('quality').dataset.framesDecoded) > 5",
            WAIT,
            "decoded frames",
        )
        .await;
    if let Err(err) = decoded {
        bail!(
            "no video reached a browser that answered VP8 first: {err:#}; frames decoded {}, \
             console {:?}",
            frames_decoded(&page).await?,
            page.console()
        );
    }
    // What the browser really decodes, from its own statistics.
    let codecs = page
        .eval(
            r#"(async () => {
                 const out = [];
                 for (const pc of window.answering) {
                   const report = await pc.getStats();
                   report.forEach((s) => {
                     if (s.type === "inbound-rtp" && s.kind === "video" && s.codecId) {
                       out.push(report.get(s.codecId)?.mimeType ?? null);
                     }
                   });
                 }
                 return out;
               })()"#,
        )
        .await?;
    let codecs: Vec<&str> = codecs
        .as_array()
        .context("a list of codecs")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(codecs, ["video/VP8"], "the video arrives as VP8");
    let width = page
        .eval("document.getElementById('video').videoWidth")
        .await?;
    assert_eq!(width.as_u64(), Some(320), "the whole display is shown");
    invited.server.stop().await;
    Ok(())
}
