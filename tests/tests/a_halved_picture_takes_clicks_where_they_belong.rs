//! On a link too slow for the screen's size the agent sends the picture at half its width and
//! height; the expert's clicks still land on the pixel of the novice's screen they were aimed at,
//! not on the pixel of the same number in the smaller picture.
//!
//! The agent's `--bitrate` caps what the encoder may use; 200 kbit/s for a 1280×720 screen is
//! under the floor of bits per pixel, so the picture is halved from the first frame on.

use anyhow::{Context, Result};
use tests::console::{click_screen_on, join_live, start_agent, wait_dataset, WAIT};
use tests::stack::ServerProcess;
use tests::tk::TkProgram;
use tests::xvfb::Xvfb;

const SCREEN: (u32, u32) = (1280, 720);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicks_on_a_halved_picture_land_on_the_screen_pixel_aimed_at() -> Result<()> {
    let xvfb = Xvfb::start(SCREEN.0, SCREEN.1)?;
    let mut desk = TkProgram::start(&xvfb, "desk.py").await?;
    let server = ServerProcess::start().await?;
    let mut agent = start_agent(&server, &xvfb, &["--bitrate", "200000"]).await?;
    // The console shows a 640×360 picture of the 1280×720 screen.
    let (_browser, page) = join_live(&mut agent, "Eve", 640).await?;
    page.wait_for(
        "document.getElementById('video').videoHeight === 360",
        WAIT,
        "a 640×360 picture",
    )
    .await?;

    page.click("#control").await?;
    agent
        .expect_line("wants to control your computer", WAIT)
        .await?;
    wait_dataset(&page, "control", "pending").await?;
    agent.type_line("y").await?;
    wait_dataset(&page, "control", "granted").await?;

    for (x, y, button, number) in [
        (321, 181, "left", 1),
        (1001, 501, "right", 3),
        (701, 301, "middle", 2),
    ] {
        click_screen_on(&page, Some(SCREEN), x, y, button).await?;
        assert_eq!(
            desk.expect("press")
                .await
                .with_context(|| format!("a click at {x},{y}"))?,
            format!("press {number} {x} {y}")
        );
    }
    server.stop().await;
    Ok(())
}
