//! Remote control end to end: the expert's clicks and keys in headless Chromium reach a real
//! program on the novice's Xvfb display (which reports what it received), only while the novice
//! has granted control at the agent's prompt; the novice takes control back by holding Esc on
//! their own keyboard, by Ctrl+C or by `/stop`, and the expert's own Esc never does.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::time::Duration;
use tests::browser::{Browser, Page};
use tests::console::{
    click_screen, has_video, join_live, page_point, start_agent, text, wait_dataset, WAIT,
};
use tests::stack::{AgentProcess, ServerProcess};
use tests::tk::TkProgram;
use tests::xvfb::Xvfb;

async fn press(page: &Page, key: &str) -> Result<()> {
    page.key(key, true).await?;
    page.key(key, false).await
}

/// Sends a message on the console's data channel behind its back, as a tampered browser could.
async fn send_raw(page: &Page, message: &Value) -> Result<()> {
    let sent = page
        .call_on_instances(
            "RTCDataChannel.prototype",
            &format!(
                "function() {{ let n = 0; for (const c of this) if (c.readyState === 'open') \
                 {{ c.send(JSON.stringify({message})); n++; }} return n; }}"
            ),
        )
        .await?;
    if sent.as_u64().unwrap_or(0) == 0 {
        bail!("no open data channel to send on");
    }
    Ok(())
}

fn raw_click(x: u32, y: u32) -> [Value; 2] {
    [true, false].map(|down| {
        serde_json::json!({"type": "input", "event":
            {"kind": "button", "button": "left", "down": down, "x": x, "y": y}})
    })
}

/// A live session with the expert `Eve` watching `Nora`'s desk.
struct Live {
    desk: TkProgram,
    agent: AgentProcess,
    page: Page,
    _browser: Browser,
    server: ServerProcess,
    xvfb: Xvfb,
}

impl Live {
    async fn start() -> Result<Self> {
        let xvfb = Xvfb::start(1280, 720)?;
        let desk = TkProgram::start(&xvfb, "desk.py").await?;
        let server = ServerProcess::start().await?;
        let mut agent = start_agent(&server, &xvfb, &[]).await?;
        let (browser, page) = join_live(&mut agent, "Eve", 1280).await?;
        Ok(Self {
            desk,
            agent,
            page,
            _browser: browser,
            server,
            xvfb,
        })
    }

    async fn take_control(&mut self) -> Result<()> {
        self.page.click("#control").await?;
        let question = self
            .agent
            .expect_line("wants to control your computer", WAIT)
            .await?;
        assert!(
            question.contains("Eve") && question.contains("Allow? [y/N]"),
            "{question}"
        );
        let how_to_stop = self.agent.expect_line("To stop control", WAIT).await?;
        assert!(
            how_to_stop.contains("hold Esc")
                && how_to_stop.contains("Ctrl+C")
                && how_to_stop.contains("/stop"),
            "{how_to_stop}"
        );
        wait_dataset(&self.page, "control", "pending").await?;
        self.agent.type_line("y").await?;
        wait_dataset(&self.page, "control", "granted").await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicks_and_keys_land_on_the_display_only_while_control_is_granted() -> Result<()> {
    let mut s = Live::start().await?;

    // Before any grant: the console sends nothing, and what a tampered page sends is dropped.
    click_screen(&s.page, 640, 360, "left").await?;
    for msg in raw_click(640, 360) {
        send_raw(&s.page, &msg).await?;
    }
    s.desk.expect_nothing("no control was granted").await?;

    s.take_control().await?;
    let granted = text(
        &s.page,
        "document.getElementById('control-state').textContent",
    )
    .await?;
    assert!(granted.contains("You control Nora's computer"), "{granted}");

    // Fit to window: the video is scaled down; a click lands on the matching X pixel.
    click_screen(&s.page, 320, 180, "left").await?;
    assert_eq!(s.desk.expect("press").await?, "press 1 320 180");
    click_screen(&s.page, 1000, 500, "right").await?;
    assert_eq!(s.desk.expect("press").await?, "press 3 1000 500");
    click_screen(&s.page, 700, 300, "middle").await?;
    assert_eq!(s.desk.expect("press").await?, "press 2 700 300");
    let (px, py) = page_point(&s.page, 640, 200).await?;
    s.page.mouse("mouseWheel", px, py, "none", 100.0).await?;
    assert!(
        s.desk.expect("press").await?.starts_with("press 5 "),
        "wheel down is button 5"
    );

    // Actual size: one video pixel per page pixel.
    s.page.click("#actual").await?;
    s.page
        .wait_for(
            "document.getElementById('video').getBoundingClientRect().width === 1280",
            WAIT,
            "the video at its actual size",
        )
        .await?;
    click_screen(&s.page, 100, 50, "left").await?;
    assert_eq!(
        s.desk.expect("press").await.context("actual size")?,
        "press 1 100 50"
    );

    // Typing reaches the focused text field on the display, Shift, punctuation and é included.
    s.page.click("#fit").await?;
    click_screen(&s.page, 640, 660, "left").await?; // the text field
    s.desk.expect("press").await.context("the text field")?;
    s.page.key("Shift", true).await?;
    press(&s.page, "H").await?;
    s.page.key("Shift", false).await?;
    for key in ["i", " ", "é", "!", "x", "Backspace", "?"] {
        press(&s.page, key).await?;
    }
    press(&s.page, "Enter").await?;
    assert_eq!(
        s.desk.expect("line").await.context("typing")?,
        "line Hi é!?"
    );

    // The novice takes control back from the terminal; input is dropped again.
    s.agent.type_line("/stop").await?;
    wait_dataset(&s.page, "control", "stopped").await?;
    let stopped = text(
        &s.page,
        "document.getElementById('control-state').textContent",
    )
    .await?;
    assert!(stopped.contains("Nora took back control"), "{stopped}");
    for msg in raw_click(10, 10) {
        send_raw(&s.page, &msg).await?;
    }
    click_screen(&s.page, 20, 20, "left").await?;
    s.desk.expect_nothing("control was stopped").await?;
    assert!(has_video(&s.page).await?, "the session goes on, view only");
    s.server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_novice_stops_control_by_holding_esc_or_ctrl_c_and_the_experts_esc_does_not(
) -> Result<()> {
    let mut s = Live::start().await?;

    // A refusal leaves the session view-only, with a message.
    s.page.click("#control").await?;
    s.agent
        .expect_line("wants to control your computer", WAIT)
        .await?;
    s.agent.type_line("n").await?;
    wait_dataset(&s.page, "control", "refused").await?;
    let refused = text(
        &s.page,
        "document.getElementById('control-state').textContent",
    )
    .await?;
    assert!(refused.contains("declined"), "{refused}");
    assert!(has_video(&s.page).await?);

    // The expert holding Esc is just a key for the remote desktop.
    s.take_control().await?;
    click_screen(&s.page, 300, 300, "left").await?;
    s.desk.expect("press").await?;
    s.page.key("Escape", true).await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    s.page.key("Escape", false).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        text(&s.page, "document.body.dataset.control").await?,
        "granted"
    );
    click_screen(&s.page, 310, 310, "left").await?;
    assert_eq!(
        s.desk.expect("press").await?,
        "press 1 310 310",
        "still in control"
    );

    // The novice holding Esc on their own keyboard ends control.
    s.xvfb.run("xdotool", &["keydown", "Escape"])?;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    s.xvfb.run("xdotool", &["keyup", "Escape"])?;
    wait_dataset(&s.page, "control", "stopped").await?;
    s.agent.expect_line("You held Esc", WAIT).await?;
    click_screen(&s.page, 320, 320, "left").await?;
    s.desk.expect_nothing("the novice held Esc").await?;

    // Asking again works; Ctrl+C at the agent ends control but not the session.
    s.take_control().await?;
    s.agent.interrupt()?;
    wait_dataset(&s.page, "control", "stopped").await?;
    s.agent.expect_line("Ctrl+C", WAIT).await?;
    for msg in raw_click(50, 50) {
        send_raw(&s.page, &msg).await?;
    }
    s.desk.expect_nothing("the novice pressed Ctrl+C").await?;
    assert_eq!(text(&s.page, "document.body.dataset.state").await?, "live");
    s.server.stop().await;
    Ok(())
}
