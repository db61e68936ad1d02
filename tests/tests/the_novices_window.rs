//! The novice's own window end to end, on a real X display: the agent opened as from the
//! desktop's menu shows its window; the novice creates an invitation with a real pointer click
//! (xdotool), the expert opens it in headless Chromium, and the novice's click on *Allow* is
//! what starts the session: frames are decoded in the browser. Control works the same way, and
//! *Stop control* in the window ends it: the expert's next click lands nowhere.
//!
//! The window's buttons are found on the screen by their fill colours, which each has only
//! once: the invitation's *Create* (blue), *Allow* (green), *Stop control* (red).

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
/// Fewer pixels of a colour than this are text or an edge, not a button's fill.
const BUTTON_PIXELS: usize = 400;

/// Waits until the screen shows a button filled with `colour` and clicks its middle with the
/// real pointer.
async fn click_button(xvfb: &Xvfb, colour: [u8; 3], what: &str) -> Result<()> {
    let start = Instant::now();
    loop {
        let shot = Screenshot::take(xvfb.display())?;
        if let Some((x, y)) = shot.find(colour, BUTTON_PIXELS) {
            let (x, y) = (x.to_string(), y.to_string());
            xvfb.run("xdotool", &["mousemove", &x, &y, "click", "1"])?;
            return Ok(());
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

/// Waits until no button filled with `colour` is on the screen.
async fn gone(xvfb: &Xvfb, colour: [u8; 3], what: &str) -> Result<()> {
    let start = Instant::now();
    while Screenshot::take(xvfb.display())?
        .find(colour, BUTTON_PIXELS)
        .is_some()
    {
        if start.elapsed() > WAIT {
            bail!("the {what} button is still on the screen after {WAIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_stop_control_and_the_session_from_the_window() -> Result<()> {
    let xvfb = Xvfb::start(1280, 800)?;
    // A desktop under the window that reports every click reaching it.
    let mut desk = TkProgram::start(&xvfb, "desk.py").await?;
    let server = ServerProcess::start().await?;
    let mut agent = AgentProcess::start_window(server.url(), "Nora", xvfb.display(), &[])?;

    // The window is up on the display, on its Ask for help screen.
    click_button(&xvfb, CREATE_BLUE, "Create invitation").await?;
    let created = agent.expect_line("Invitation created:", WAIT).await?;
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
    gone(&xvfb, ALLOW_GREEN, "Allow").await?;

    // Control: asked in the window, allowed with a click; the expert's click lands.
    page.click("#control").await?;
    wait_dataset(&page, "control", "pending").await?;
    click_button(&xvfb, ALLOW_GREEN, "Allow (control)").await?;
    wait_dataset(&page, "control", "granted").await?;
    click_screen(&page, 1100, 700, "left").await?;
    assert_eq!(desk.expect("press").await?, "press 1 1100 700");

    // Stop control in the window: the expert's next click is not injected.
    click_button(&xvfb, STOP_RED, "Stop control").await?;
    wait_dataset(&page, "control", "stopped").await?;
    click_screen(&page, 1100, 700, "left").await?;
    desk.expect_nothing("control was stopped in the window")
        .await?;
    Ok(())
}
