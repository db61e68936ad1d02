//! A browser whose answer leaves out the playout-delay RTP header extension still gets the
//! picture. Chromium and Firefox accept the extension, but other WebRTC stacks do not, and a
//! sender that stamps every packet with an extension the answer refused has each packet dropped
//! on its own side.
//!
//! Chromium plays such a browser: before Connect, the page's RTCPeerConnection is wrapped so
//! that the answer it makes, applies and sends has no playout-delay line. The console makes its
//! connection only after the novice says yes, so the wrapper is in place for it.

use anyhow::{bail, Result};
use serde_json::Value;
use tests::browser::Browser;
use tests::console::{frames_decoded, join_and_allow, Invited, WAIT};

/// Takes every `a=extmap:<id>[/<direction>] <uri of playout delay>` line out of the answers this
/// page makes, and keeps the last offer and answer in `window.playoutDelay` for the test.
const ANSWER_WITHOUT_PLAYOUT_DELAY: &str = r#"(() => {
  const strip = (sdp) =>
    sdp.split("\r\n").filter((line) => !/^a=extmap:\d+(\/\w+)? \S*playout-delay/.test(line)).join("\r\n");
  window.playoutDelay = { offer: null, answer: null };
  const proto = RTCPeerConnection.prototype;
  const setRemote = proto.setRemoteDescription;
  proto.setRemoteDescription = function (description, ...rest) {
    if (description?.type === "offer") window.playoutDelay.offer = description.sdp;
    return setRemote.call(this, description, ...rest);
  };
  const createAnswer = proto.createAnswer;
  proto.createAnswer = async function (...args) {
    const answer = await createAnswer.apply(this, args);
    return { type: answer.type, sdp: strip(answer.sdp) };
  };
  const setLocal = proto.setLocalDescription;
  proto.setLocalDescription = function (description, ...rest) {
    if (description?.type === "answer" && description.sdp) {
      description = { type: "answer", sdp: strip(description.sdp) };
      window.playoutDelay.answer = description.sdp;
    }
    return setLocal.call(this, description, ...rest);
  };
  return true;
})()"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_that_refuses_playout_delay_still_gets_the_picture() -> Result<()> {
    let mut invited = Invited::start(320, 240, &[]).await?;
    let browser = Browser::launch().await?;
    let page = invited.open_in(&browser).await?;
    assert_eq!(
        page.eval(ANSWER_WITHOUT_PLAYOUT_DELAY).await?,
        Value::Bool(true)
    );

    join_and_allow(&page, &mut invited.agent, "Eve").await?;

    // The agent offered the extension; what the browser applied and sent does not have it.
    page.wait_for("window.playoutDelay.answer", WAIT, "the browser's answer")
        .await?;
    let offer = page.eval("window.playoutDelay.offer ?? ''").await?;
    assert!(
        offer.as_str().is_some_and(|o| o.contains("playout-delay")),
        "the agent offers playout delay, else this test shows nothing: {offer}"
    );
    let applied = page
        .call_on_instances(
            "RTCPeerConnection.prototype",
            "function () { return this.map((pc) => pc.localDescription?.sdp ?? ''); }",
        )
        .await?;
    let applied: Vec<&str> = applied
        .as_array()
        .map(|all| all.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        !applied.is_empty()
            && applied
                .iter()
                .all(|sdp| sdp.contains("m=video") && !sdp.contains("playout-delay")),
        "the applied answer has video and no playout delay: {applied:?}"
    );

    // The picture arrives all the same.
    let decoded = page
        .wait_for(
            "Number(document.getElementById('quality').dataset.framesDecoded) > 0",
            WAIT,
            "a decoded frame",
        )
        .await;
    if let Err(err) = decoded {
        bail!(
            "no video reached a browser whose answer left out playout delay: {err:#}; \
             frames decoded {}, quality line {:?}, console {:?}",
            frames_decoded(&page).await?,
            page.eval("document.getElementById('quality').textContent")
                .await?,
            page.console()
        );
    }
    let width = page
        .eval("document.getElementById('video').videoWidth")
        .await?;
    assert_eq!(width.as_u64(), Some(320), "the whole display is shown");
    invited.server.stop().await;
    Ok(())
}
