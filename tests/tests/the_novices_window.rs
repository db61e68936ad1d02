//! The novice's own window end to end, on a real X display: the agent opened as from the
//! desktop's menu shows its window; the novice creates an invitation with a real pointer click
//! (xdotool), the expert opens it in headless Chromium, and the novice's click on *Allow* is
//! what starts the session: frames are decoded in the browser. Control works the same way, and
//! *Stop control* in the window ends it: the expert's next click lands nowhere. The expert's own
//! clicks on the novice's window are dropped, and the expert is told. *Pause sharing* stops the
//! frames until *Resume sharing*.
//!
//! The window's buttons are found on the screen by their fill colours, which each has only
//! once on a screen: the invitation's *Create* and *Resume sharing* (blue), *Allow* (green),
//! *Stop control* (red), *Pause sharing* (amber).

use anyhow::{bail, Context, Result};
use std::time::{Duration, Instant};
use tests::browser::Browser;
use tests::console::{click_screen, join, more_frames_decoded, wait_dataset, WAIT};
use tests::screen::Screenshot;
use tests::stack::{AgentProcess, ScratchDir, ServerProcess};
use tests::tk::TkProgram;
use tests::xvfb::Xvfb;

const CREATE_BLUE: [u8; 3] = [25, 90, 160];
const ALLOW_GREEN: [u8; 3] = [30, 110, 60];
const STOP_RED: [u8; 3] = [200, 30, 30];
const PAUSE_AMBER: [u8; 3] = [115, 72, 0];
const RESUME_BLUE: [u8; 3] = CREATE_BLUE;
/// How long a clicked button may stay before the click counts as not taken.
const RECLICK_AFTER: Duration = Duration::from_secs(5);
/// Fewer pixels of a colour than this are text or an edge, not a button's fill.
const BUTTON_PIXELS: usize = 400;

/// Waits until the screen shows a button filled with `colour`, points at it and clicks it with
/// the real pointer, as a person would: every button here goes away once it is taken. A click
/// the window did not take (on a loaded machine one can come before the window reads its
/// pointer) is tried again after [`RECLICK_AFTER`].
async fn click_button(xvfb: &Xvfb, colour: [u8; 3], what: &str) -> Result<()> {
    let start = Instant::now();
    loop {
        let (x, y) = find_button(xvfb, colour, what).await?;
        let (x, y) = (x.to_string(), y.to_string());
        xvfb.run("xdotool", &["mousemove", &x, &y])?;
        // Still there under the pointer: then the press.
        find_button(xvfb, colour, what).await?;
        xvfb.run("xdotool", &["click", "1"])?;
        let clicked = Instant::now();
        while clicked.elapsed() < RECLICK_AFTER {
            if Screenshot::take(xvfb.display())?
                .find(colour, BUTTON_PIXELS)
                .is_none()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if start.elapsed() > WAIT {
            bail!("the {what} button did not take a click in {WAIT:?}");
        }
        eprintln!("the {what} button is still there after a click; clicking again");
    }
}

/// Waits until the screen shows a button filled with `colour`; returns its middle.
async fn find_button(xvfb: &Xvfb, colour: [u8; 3], what: &str) -> Result<(u32, u32)> {
    let start = Instant::now();
    loop {
        let shot = Screenshot::take(xvfb.display())?;
        if let Some(middle) = shot.find(colour, BUTTON_PIXELS) {
            return Ok(middle);
        }
        if start.elapsed() > WAIT {
            let dir = ScratchDir::new("window-shot")?;
            let path = dir.path().join("screen.ppm");
            shot.save_ppm(&path)?;
            // Kept for a person to look at.
            std::mem::forget(dir);
            bail!(
                "no {what} button on the screen after {WAIT:?} (screen saved as {})",
                path.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Video packets the console has received so far, as its last reading says.
async fn packets_received(page: &tests::browser::Page) -> Result<u64> {
    let v = page
        .eval("Number(document.getElementById('quality').dataset.packetsReceived ?? 0)")
        .await?;
    Ok(v.as_u64().unwrap_or(0))
}

/// How many times the console has read the stream's statistics.
async fn readings(page: &tests::browser::Page) -> Result<u64> {
    let v = page
        .eval("Number(document.getElementById('quality').dataset.readings ?? 0)")
        .await?;
    Ok(v.as_u64().unwrap_or(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_stop_control_and_the_session_from_the_window() -> Result<()> {
    let xvfb = Xvfb::start(1280, 800)?;
    // A desktop under the window that reports every click reaching it.
    let mut desk = TkProgram::start(&xvfb, "desk.py").await?;
    let server = ServerProcess::start().await?;
    let mut agent = AgentProcess::start_window(server.url(), "Nora", xvfb.display(), &[], &[])?;

    // The window is up on the display, on its Ask for help screen.
    click_button(&xvfb, CREATE_BLUE, "Create invitation").await?;
    let created = match agent.expect_line("Invitation created:", WAIT).await {
        Ok(line) => line,
        Err(err) => {
            let path = std::env::temp_dir().join("novice-window-create.ppm");
            Screenshot::take(xvfb.display())?.save_ppm(&path)?;
            return Err(err.context(format!("the screen is saved as {}", path.display())));
        }
    };
    let link = created
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .context("no link in the created line")?
        .to_owned();

    // The expert opens it; only the novice's click on Allow lets them see.
    let browser = Browser::launch().await?;
    let page = browser.open(&link).await?;
    join(&page, "Eve", None).await?;
    wait_dataset(&page, "state", "waiting").await?;
    click_button(&xvfb, ALLOW_GREEN, "Allow").await?;
    page.wait_for(
        "document.getElementById('video').videoWidth === 1280 \
         && !document.getElementById('control').disabled",
        WAIT,
        "the desktop video and the Take control button",
    )
    .await
    .with_context(|| format!("console: {:?}", page.console()))?;
    more_frames_decoded(&page).await?;

    // Control: asked in the window, allowed with a click; the expert's click lands.
    page.click("#control").await?;
    wait_dataset(&page, "control", "pending").await?;
    click_button(&xvfb, ALLOW_GREEN, "Allow (control)").await?;
    wait_dataset(&page, "control", "granted").await?;
    click_screen(&page, 1100, 700, "left").await?;
    assert_eq!(desk.expect("press").await?, "press 1 1100 700");

    // The expert cannot click in the novice's window, not even on Stop control; they are
    // told, and keep control.
    let (x, y) = find_button(&xvfb, STOP_RED, "Stop control").await?;
    click_screen(&page, x, y, "left").await?;
    wait_dataset(&page, "inputRefused", "1").await?;
    assert_eq!(
        page.eval("document.body.dataset.control").await?,
        "granted",
        "the expert's click on Stop control was not the novice's"
    );
    let note = page
        .eval("document.getElementById('input-refused').textContent")
        .await?;
    assert!(note.as_str().is_some_and(|n| n.contains("Nora")), "{note}");

    // Stop control in the window: the expert's next click is not injected.
    click_button(&xvfb, STOP_RED, "Stop control").await?;
    wait_dataset(&page, "control", "stopped").await?;
    click_screen(&page, 1100, 700, "left").await?;
    desk.expect_nothing("control was stopped in the window")
        .await?;

    // Pause sharing: the expert is told, and no frame comes while the screen changes.
    click_button(&xvfb, PAUSE_AMBER, "Pause sharing").await?;
    wait_dataset(&page, "paused", "true").await?;
    page.wait_for(
        "!document.getElementById('paused').hidden \
         && document.getElementById('quality').dataset.bitrate === '0'",
        WAIT,
        "the paused notice, and nothing arriving",
    )
    .await?;
    // What has arrived so far, once nothing more does; then the novice changes the screen.
    let received = packets_received(&page).await?;
    let readings = readings(&page).await?;
    xvfb.run("xdotool", &["mousemove", "1100", "700", "click", "1"])?;
    assert_eq!(desk.expect("press").await?, "press 1 1100 700");
    page.wait_for(
        &format!(
            "Number(document.getElementById('quality').dataset.readings) >= {}",
            readings + 2
        ),
        WAIT,
        "two more readings of the stream",
    )
    .await?;
    assert_eq!(
        packets_received(&page).await?,
        received,
        "no video while sharing is paused, though the screen changed"
    );

    // Resume: frames flow again, and the notice goes.
    click_button(&xvfb, RESUME_BLUE, "Resume sharing").await?;
    wait_dataset(&page, "paused", "false").await?;
    more_frames_decoded(&page).await?;
    Ok(())
}

/// Waits until a window titled `title` (its UTF-8 `_NET_WM_NAME`) is on the display.
async fn window_titled(xvfb: &Xvfb, title: &str) -> Result<()> {
    let want = format!("_NET_WM_NAME(UTF8_STRING) = \"{title}\"");
    let start = Instant::now();
    loop {
        let windows = xvfb
            .command("xdotool")
            .args(["search", "--name", "."])
            .output()
            .context("running xdotool search")?;
        for window in String::from_utf8_lossy(&windows.stdout).split_whitespace() {
            let name = xvfb
                .command("xprop")
                .args(["-id", window, "_NET_WM_NAME"])
                .output()
                .context("running xprop")?;
            if String::from_utf8_lossy(&name.stdout).trim() == want {
                return Ok(());
            }
        }
        if start.elapsed() > WAIT {
            bail!("no window titled {title:?} after {WAIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_a_swedish_locale_the_window_and_the_console_speak_swedish() -> Result<()> {
    let xvfb = Xvfb::start(1280, 800)?;
    let server = ServerProcess::start().await?;
    let swedish = [("LANG", "sv_SE.UTF-8"), ("LC_ALL", ""), ("LC_MESSAGES", "")];
    let mut agent = AgentProcess::start_window(
        server.url(),
        "Nora",
        xvfb.display(),
        &swedish,
        &["--invite"],
    )?;
    window_titled(&xvfb, "Fjärrhjälp").await?;
    let created = agent.expect_line("Invitation created:", WAIT).await?;
    let link = created
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .context("no link in the created line")?
        .to_owned();

    let browser = Browser::launch_preferring("sv-SE,sv").await?;
    let page = browser.open(&link).await?;
    join(&page, "Eve", None).await?;
    page.wait_for(
        "document.getElementById('status').textContent.includes('Väntar på att Nora ska tillåta')",
        WAIT,
        "the console waiting, in Swedish",
    )
    .await?;
    click_button(&xvfb, ALLOW_GREEN, "Tillåt").await?;
    wait_dataset(&page, "state", "live").await?;
    more_frames_decoded(&page).await?;
    Ok(())
}
