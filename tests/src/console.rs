//! Driving the expert console page (`/i/<code>`) like a person would, and reading what it
//! shows: its state (`document.body.dataset.state`), status line, control state and video.

use crate::browser::{Browser, Page};
use crate::stack::{AgentProcess, ScratchDir, ServerProcess};
use crate::xvfb::Xvfb;
use anyhow::{bail, ensure, Context, Result};
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
    /// The folder of the password file, when the invitation has a password.
    _password_file: Option<ScratchDir>,
}

impl Invited {
    /// Starts a `width`×`height` display, the server and the agent with `extra` flags, and
    /// reads the invitation link.
    pub async fn start(width: u32, height: u32, extra: &[&str]) -> Result<Invited> {
        Self::start_with(width, height, None, extra).await
    }

    /// [`Invited::start`], the invitation protected by `password`, which the agent reads from
    /// a file (`--password-file`), as a novice keeps it off the command line.
    pub async fn start_with_password(
        width: u32,
        height: u32,
        password: &str,
        extra: &[&str],
    ) -> Result<Invited> {
        Self::start_with(width, height, Some(password), extra).await
    }

    async fn start_with(
        width: u32,
        height: u32,
        password: Option<&str>,
        extra: &[&str],
    ) -> Result<Invited> {
        let xvfb = Xvfb::start(width, height)?;
        let server = ServerProcess::start().await?;
        let mut args = extra.to_vec();
        let password_file = match password {
            Some(password) => {
                let dir = ScratchDir::new("password")?;
                let file = dir.path().join("password");
                std::fs::write(&file, format!("{password}\n"))
                    .with_context(|| format!("writing {}", file.display()))?;
                Some((dir, file.to_string_lossy().into_owned()))
            }
            None => None,
        };
        if let Some((_, file)) = &password_file {
            args.extend(["--password-file", file.as_str()]);
        }
        let mut agent = start_agent(&server, &xvfb, &args).await?;
        let link = invitation_link(&mut agent).await?;
        Ok(Invited {
            agent,
            server,
            xvfb,
            link,
            _password_file: password_file.map(|(dir, _)| dir),
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

/// Waits until the console has decoded more frames than it has now: video flows.
pub async fn more_frames_decoded(page: &Page) -> Result<()> {
    let first = frames_decoded(page).await?;
    page.wait_for(
        &format!("Number(document.getElementById('quality').dataset.framesDecoded) > {first}"),
        WAIT,
        "more frames to be decoded",
    )
    .await?;
    Ok(())
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

/// The expert `name` types `password` and connects, and the novice says yes at the agent's
/// prompt that names them.
async fn join_with_password_and_say_yes(
    page: &Page,
    agent: &mut AgentProcess,
    name: &str,
    password: &str,
) -> Result<()> {
    join(page, name, Some(password)).await?;
    agent
        .expect_line(&format!("{name} wants to see your screen"), WAIT)
        .await?;
    agent.type_line("y").await
}

/// The expert `name` joins with the invitation's `password` and the novice allows: the console
/// goes live only once the agent proved it knows the same password (`dataset.verified`), and
/// the agent tells the novice who is watching.
pub async fn join_with_password_and_allow(
    page: &Page,
    agent: &mut AgentProcess,
    name: &str,
    password: &str,
) -> Result<()> {
    join_with_password_and_say_yes(page, agent, name, password).await?;
    wait_state(page, "live").await?;
    let verified = page.eval("document.body.dataset.verified").await?;
    ensure!(verified == "yes", "the password check passed: {verified}");
    agent
        .expect_line(&format!("{name} is now watching your screen"), WAIT)
        .await?;
    Ok(())
}

/// The expert `name` tries `password`, a wrong one, and the novice allows the connection: the
/// agent refuses it after the password check, and both the agent and the page say so, with the
/// tries `left` before the invitation locks (none: it is locked now). Nothing of the screen
/// reached the page.
pub async fn a_wrong_password_is_refused(
    page: &Page,
    agent: &mut AgentProcess,
    name: &str,
    password: &str,
    left: u32,
) -> Result<()> {
    join_with_password_and_say_yes(page, agent, name, password).await?;
    let said = agent
        .expect_line(
            &format!("{name} entered a wrong password, or someone is intercepting"),
            WAIT,
        )
        .await?;
    ensure!(
        said.contains("Nothing of your screen was shared"),
        "the agent says nothing was shared: {said}"
    );
    wait_state(page, "refused").await?;
    let refusal = page.eval("document.body.dataset.refusal").await?;
    ensure!(refusal == "wrong_password", "the refusal: {refusal}");
    let shown = status(page).await?;
    ensure!(
        shown.contains("The password was wrong, or someone is intercepting"),
        "the page says why: {shown}"
    );
    if left > 0 {
        let tries = format!("{left} more tr");
        ensure!(said.contains(&tries), "the agent counts the tries: {said}");
        ensure!(shown.contains(&tries), "the page counts the tries: {shown}");
    } else {
        ensure!(said.contains("now locked"), "the agent says locked: {said}");
        ensure!(
            shown.contains("now locked"),
            "the page says locked: {shown}"
        );
    }
    ensure!(frames_decoded(page).await? == 0, "no frame was shown");
    ensure!(!has_video(page).await?, "no video stream is attached");
    if left > 0 {
        // The page hears the agent's refusal over the data channel a moment before the server
        // hears that the session ended; until then the server holds the invitation in use,
        // and a page opened (or reloaded by Retry) says so instead of offering another try.
        wait_for_invitation(agent, "open").await?;
    }
    Ok(())
}

/// Waits until the novice's `agent list` shows their invitation as `status` (`open`,
/// `in use`, `locked`, ...): as the server holds it.
pub async fn wait_for_invitation(agent: &AgentProcess, status: &str) -> Result<()> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let listed = agent.run(&["list"]).await?;
        let shows = |line: &str| {
            line.split_once("  ")
                .is_some_and(|(_, rest)| rest.trim_start().starts_with(status))
        };
        if listed.lines().any(shows) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("the novice's list never showed the invitation {status}: {listed}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
