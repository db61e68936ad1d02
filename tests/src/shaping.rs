//! Live sessions on shaped links: the whole product across a [`ShapedLink`] (see
//! [`crate::netns::shaping`]), with a busy screen, and what the expert sees of it.
//!
//! The signaling server runs in the router, the agent on the novice's host sharing an Xvfb
//! display where a terminal prints 300 lines a second, and Chromium on the expert's host.
//! The link is shaped before anything starts, so the session is set up over it too. Before the
//! expert joins, the console page gets a frame probe: `window.shownAt` collects the time (ms
//! since the Unix epoch, the clock this process reads too) of every frame that comes out of the
//! browser's decoder, from which the first picture, frames per second and freezes follow.

use anyhow::{Context, Result};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::browser::{Browser, Page};
use crate::console::{invitation_link, join, wait_state, WAIT};
use crate::netns::{LinkProfile, Network, ShapedLink, ROUTER_EXPERT_SIDE, ROUTER_NOVICE_SIDE};
use crate::stack::{AgentProcess, ServerProcess};
use crate::xvfb::Xvfb;

/// Port of the server's HTTP API in the router; the namespace is the session's own.
const HTTP_PORT: u16 = 8080;
/// The screen the novice shares.
pub const SCREEN: (u32, u32) = (1280, 720);
/// A terminal printing 300 lines a second, each one different, so that the whole screen keeps
/// scrolling and no two frames are alike.
const BUSY: &str = "import itertools, time
words = 'the quick brown fox jumps over the lazy dog while the novice waits for help'.split()
due = time.monotonic()
for n in itertools.count():
    print(f'{n:8d}  ' + ' '.join(words[(n + i) % len(words)] for i in range(12)), flush=True)
    due += 1 / 300
    time.sleep(max(0.0, due - time.monotonic()))
";

/// Records in `window.shownAt` the time each frame of the console's video leaves the decoder,
/// reading a copy of its track as soon as the console attaches the stream. (The video
/// element's own counters move only when headless Chromium paints, which is seldom.)
const FRAME_PROBE: &str = r#"(() => {
  window.shownAt = [];
  const own = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, "srcObject");
  const read = async (track) => {
    const frames = new MediaStreamTrackProcessor({ track }).readable.getReader();
    for (;;) {
      const { value, done } = await frames.read();
      if (done) break;
      window.shownAt.push(Date.now());
      value.close();
    }
  };
  Object.defineProperty(HTMLMediaElement.prototype, "srcObject", {
    configurable: true,
    get() { return own.get.call(this); },
    set(stream) {
      own.set.call(this, stream);
      const track = stream && stream.getVideoTracks()[0];
      if (track && !window.probing) { window.probing = true; read(track.clone()); }
    },
  });
  return true;
})()"#;

/// A live session across a shaped link, kept running until dropped.
pub struct ShapedSession {
    pub page: Page,
    pub agent: AgentProcess,
    pub link: ShapedLink,
    /// From the novice's yes to the first frame out of the expert's decoder.
    pub first_picture: Duration,
    pub xvfb: Xvfb,
    pub browser: Browser,
    pub server: ServerProcess,
    /// Last, so that the namespaces go after everything that runs in them.
    pub network: Network,
}

impl ShapedSession {
    /// Shapes `network`'s link as `profile` says (with `delay_line`, the path of this crate's
    /// `delay_line` program), starts the server, the agent (`invite` with `agent_args`) on the
    /// busy screen and the expert's browser, has the expert join and the novice allow, and
    /// waits for the first picture.
    pub async fn start(
        network: Network,
        delay_line: &Path,
        profile: LinkProfile,
        agent_args: &[&str],
    ) -> Result<ShapedSession> {
        let link = network.shape(delay_line, profile)?;
        let (width, height) = SCREEN;
        let mut xvfb = Xvfb::start(width, height)?;
        let geometry = format!("{}x{}+0+0", width / 7, height / 15);
        xvfb.spawn(
            "xterm",
            &[
                "-fa",
                "DejaVu Sans Mono",
                "-fs",
                "11",
                "-geometry",
                &geometry,
                "-e",
                "/usr/bin/python3",
                "-c",
                BUSY,
            ],
        )?;
        let listen = format!("0.0.0.0:{HTTP_PORT}");
        let public_url = format!("http://{ROUTER_EXPERT_SIDE}:{HTTP_PORT}");
        let turn_ip = ROUTER_NOVICE_SIDE.to_string();
        let server = ServerProcess::start_in(
            Some(&network.router),
            &[
                "--listen",
                &listen,
                "--public-url",
                &public_url,
                "--turn-listen-ip",
                &turn_ip,
                // The relay reaches the peers on the test network's private addresses.
                "--turn-allow-peer",
                "10.71.0.0/16",
            ],
        )
        .await?;
        let agent_server = format!("http://{ROUTER_NOVICE_SIDE}:{HTTP_PORT}");
        let mut agent = AgentProcess::start_in(
            Some(&network.novice),
            &agent_server,
            "Nora",
            &[&["invite", "--display", xvfb.display()][..], agent_args].concat(),
        )
        .await?;
        let invitation = invitation_link(&mut agent).await?;
        let browser = Browser::launch_in(Some(&network.expert)).await?;
        let page = browser.open(&invitation).await?;
        page.eval(FRAME_PROBE).await?;

        join(&page, "Eve", None).await?;
        agent.expect_line("wants to see your screen", WAIT).await?;
        let allowed = epoch_ms();
        agent.type_line("y").await?;
        wait_state(&page, "live").await?;
        page.wait_for("window.shownAt.length > 0", WAIT, "the first picture")
            .await
            .with_context(|| format!("on a link of {profile}; console: {:?}", page.console()))?;
        let first = page
            .eval("window.shownAt[0]")
            .await?
            .as_f64()
            .unwrap_or(0.0);
        Ok(ShapedSession {
            page,
            agent,
            link,
            first_picture: Duration::from_secs_f64(((first - allowed) / 1000.0).max(0.0)),
            xvfb,
            browser,
            server,
            network,
        })
    }

    /// When each frame since `since` (ms since the Unix epoch) left the expert's decoder.
    pub async fn frames_shown_since(&self, since: f64) -> Result<Vec<f64>> {
        let shown = self
            .page
            .eval(&format!("window.shownAt.filter((t) => t >= {since})"))
            .await?;
        Ok(shown
            .as_array()
            .context("the frame probe's times")?
            .iter()
            .filter_map(|t| t.as_f64())
            .collect())
    }
}

/// Now, in milliseconds since the Unix epoch: the page's `Date.now()`, on the same clock.
pub fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// Pauses in the picture: every stretch from `from` to `to` (ms) longer than `longer_than`
/// without a new frame, given the frames `shown` in that time, in order.
pub fn freezes(shown: &[f64], from: f64, to: f64, longer_than: Duration) -> Vec<Duration> {
    let limit = longer_than.as_secs_f64() * 1000.0;
    std::iter::once(from)
        .chain(shown.iter().copied().filter(|t| (from..=to).contains(t)))
        .chain(std::iter::once(to))
        .collect::<Vec<_>>()
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .filter(|gap| *gap > limit)
        .map(|gap| Duration::from_secs_f64(gap / 1000.0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freezes_are_the_long_gaps_including_at_the_ends_of_the_window() {
        let half = Duration::from_millis(500);
        let shown = [100.0, 130.0, 900.0, 930.0, 2000.0];
        let gaps = freezes(&shown, 0.0, 2600.0, half);
        assert_eq!(
            gaps,
            [770.0, 1070.0, 600.0].map(|ms| Duration::from_secs_f64(ms / 1000.0))
        );
        assert!(freezes(&[], 0.0, 400.0, half).is_empty());
        assert_eq!(freezes(&[], 0.0, 1000.0, half).len(), 1);
    }
}
