//! Driving the expert console page (`/i/<code>`) like a person would, and reading what it
//! shows: its state (`document.body.dataset.state`), status line, control state and video.

use crate::browser::{Browser, Page};
use crate::stack::{AgentProcess, ServerProcess};
use crate::xvfb::Xvfb;
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::time::Duration;

/// Generous: two busy cores build and run the other tests at the same time.
pub const WAIT: Duration = Duration::from_secs(45);

/// Starts `agent invite` for `Nora` sharing `xvfb`, on loopback only, with `extra` flags.
pub async fn start_agent(
    server: &ServerProcess,
    xvfb: &Xvfb,
    extra: &[&str],
) -> Result<AgentProcess> {
    let mut args = vec![
        "invite",
        "--display",
        xvfb.display(),
        "--local-ip",
        "127.0.0.1",
    ];
    args.extend_from_slice(extra);
    AgentProcess::start(server.url(), "Nora", &args).await
}

/// A novice sharing an Xvfb display has invited an expert: the server, `agent invite` for
/// `Nora` (see [`start_agent`]), and the link it printed. Fields drop in the order the tests
/// always ended them: the agent, its server, then the display.
pub struct Invited {
    pub agent: AgentProcess,
    pub server: ServerProcess,
    pub xvfb: Xvfb,
    pub link: String,
}

impl Invited {
    /// Starts a `width`×`height` display, the server and the agent with `extra` flags, and
    /// reads the invitation link.
    pub async fn start(width: u32, height: u32, extra: &[&str]) -> Result<Invited> {
        let xvfb = Xvfb::start(width, height)?;
        let server = ServerProcess::start().await?;
        let mut agent = start_agent(&server, &xvfb, extra).await?;
        let link = invitation_link(&mut agent).await?;
        Ok(Invited {
            agent,
            server,
            xvfb,
            link,
        })
    }

    /// Opens the invitation in a new tab of `browser`, as the expert.
    pub async fn open_in(&self, browser: &Browser) -> Result<Page> {
        browser.open(&self.link).await
    }
}

/// Opens the agent's invitation in a new browser as `expert`, has the novice say yes, and waits
/// until the console shows the `width` pixels wide desktop with *Take control* enabled.
pub async fn join_live(
    agent: &mut AgentProcess,
    expert: &str,
    width: u32,
) -> Result<(Browser, Page)> {
    let link = invitation_link(agent).await?;
    let browser = Browser::launch().await?;
    let page = browser.open(&link).await?;
    join_and_allow(&page, agent, expert).await?;
    page.wait_for(
        &format!(
            "document.getElementById('video').videoWidth === {width} \
             && !document.getElementById('control').disabled"
        ),
        WAIT,
        "the desktop video and the Take control button",
    )
    .await?;
    Ok((browser, page))
}

/// The invitation link the agent printed.
pub async fn invitation_link(agent: &mut AgentProcess) -> Result<String> {
    let line = agent.expect_line("Link:", WAIT).await?;
    Ok(line
        .split_whitespace()
        .last()
        .context("no link on the Link: line")?
        .to_owned())
}

/// Evaluates `js` and returns it as a string ("" when it is not one).
pub async fn text(page: &Page, js: &str) -> Result<String> {
    Ok(page.eval(js).await?.as_str().unwrap_or_default().to_owned())
}

pub async fn state(page: &Page) -> Result<String> {
    text(page, "document.body.dataset.state").await
}

pub async fn status(page: &Page) -> Result<String> {
    text(page, "document.getElementById('status').textContent").await
}

/// Waits until `document.body.dataset[attribute]` is `want`.
pub async fn wait_dataset(page: &Page, attribute: &str, want: &str) -> Result<()> {
    page.wait_for(
        &format!("document.body.dataset.{attribute} === {want:?}"),
        WAIT,
        &format!("the console's {attribute} to become {want}"),
    )
    .await
    .with_context(|| format!("console: {:?}", page.console()))?;
    Ok(())
}

pub async fn wait_state(page: &Page, want: &str) -> Result<()> {
    wait_dataset(page, "state", want).await
}

/// Frames decoded so far, as the console's quality line last read them from getStats.
pub async fn frames_decoded(page: &Page) -> Result<u64> {
    let v = page
        .eval("Number(document.getElementById('quality').dataset.framesDecoded ?? 0)")
        .await?;
    Ok(v.as_u64().unwrap_or(0))
}

/// Whether the video element still has a stream attached.
pub async fn has_video(page: &Page) -> Result<bool> {
    Ok(page
        .eval("document.getElementById('video').srcObject")
        .await?
        != Value::Null)
}

/// Types the expert's name (and password) and presses Connect.
pub async fn join(page: &Page, name: &str, password: Option<&str>) -> Result<()> {
    page.type_text("#expert-name", name).await?;
    if let Some(password) = password {
        page.type_text("#password", password).await?;
    }
    page.click("#connect").await
}

/// The expert `name` joins without a password, the novice allows at the agent's prompt, and
/// the console goes live.
pub async fn join_and_allow(page: &Page, agent: &mut AgentProcess, name: &str) -> Result<()> {
    join(page, name, None).await?;
    agent.expect_line("wants to see your screen", WAIT).await?;
    agent.type_line("y").await?;
    wait_state(page, "live").await
}

/// Page coordinates of screen pixel `(x, y)` in the video, computed from the element's box and
/// the video's own size for `object-fit: contain` (fit) and natural size (actual).
/// Where pixel `(x, y)` of the shared screen is on the page, for a screen the size of the video.
pub async fn page_point(page: &Page, x: u32, y: u32) -> Result<(f64, f64)> {
    page_point_on(page, None, x, y).await
}

/// Where pixel `(x, y)` of a `screen`-sized shared screen is on the page, however large the
/// picture the agent sends of it (`None`: the video's own size).
pub async fn page_point_on(
    page: &Page,
    screen: Option<(u32, u32)>,
    x: u32,
    y: u32,
) -> Result<(f64, f64)> {
    let b = page
        .eval(
            "(() => { const v = document.getElementById('video'); const r = v.getBoundingClientRect(); \
             return [r.left, r.top, r.width, r.height, v.videoWidth, v.videoHeight]; })()",
        )
        .await?;
    let n = |i: usize| b[i].as_f64().unwrap_or(0.0);
    let (left, top, w, h, vw, vh) = (n(0), n(1), n(2), n(3), n(4), n(5));
    if vw == 0.0 || vh == 0.0 {
        bail!("the video has no size yet: {b}");
    }
    let scale = (w / vw).min(h / vh);
    let x0 = left + (w - vw * scale) / 2.0;
    let y0 = top + (h - vh * scale) / 2.0;
    let (sw, sh) = screen.map_or((vw, vh), |(sw, sh)| (f64::from(sw), f64::from(sh)));
    // The centre of the screen pixel, so rounding cannot move it to a neighbour.
    Ok((
        x0 + (f64::from(x) + 0.5) * vw / sw * scale,
        y0 + (f64::from(y) + 0.5) * vh / sh * scale,
    ))
}

pub async fn click_screen(page: &Page, x: u32, y: u32, button: &str) -> Result<()> {
    click_screen_on(page, None, x, y, button).await
}

/// Clicks pixel `(x, y)` of a `screen`-sized shared screen (see [`page_point_on`]).
pub async fn click_screen_on(
    page: &Page,
    screen: Option<(u32, u32)>,
    x: u32,
    y: u32,
    button: &str,
) -> Result<()> {
    let (px, py) = page_point_on(page, screen, x, y).await?;
    page.mouse("mouseMoved", px, py, "none", 0.0).await?;
    page.mouse("mousePressed", px, py, button, 0.0).await?;
    page.mouse("mouseReleased", px, py, button, 0.0).await
}
