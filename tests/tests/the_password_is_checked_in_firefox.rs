//! The invitation's password checked between the agent and an expert in Firefox ESR (SPAKE2,
//! docs/pake.md): the console's side of the check (`web/static/js/pake.js`) runs in Firefox's
//! JavaScript engine and over its data channel, against the agent's Rust side. The same real
//! components as `the_password_is_checked_on_the_novices_computer.rs`, which checks the rest
//! of the story in Chromium: Xvfb with the test pattern, the server and the agent as
//! processes, and headless Firefox (with H.264, see `tests/src/browser/firefox.rs`) as the
//! expert.
//!
//! Without Firefox installed these tests fail, unless `ASSIST_ALLOW_SKIP=1` allows skipping
//! ([`Browser::launch_firefox_or_skip`]).

use anyhow::Result;
use tests::browser::{Browser, FirefoxOptions, Page};
use tests::console::{a_wrong_password_is_refused, join_with_password_and_allow, Invited};
use tests::pattern::{expect_the_pattern_live, invited_to_the_pattern};
use tests::tk::TkProgram;

const PASSWORD: &str = "tulip-42";

/// A novice sharing the test pattern, their invitation protected by [`PASSWORD`], and the
/// invitation open in Firefox (with H.264): the expert about to type the password. `None`
/// where Firefox is missing and skipping is allowed.
async fn invitation_open_in_firefox() -> Result<Option<(Invited, TkProgram, Browser, Page)>> {
    let Some(browser) = Browser::launch_firefox_or_skip(FirefoxOptions::default()).await? else {
        return Ok(None);
    };
    let (invited, pattern) = invited_to_the_pattern(Some(PASSWORD)).await?;
    let page = invited.open_in(&browser).await?;
    Ok(Some((invited, pattern, browser, page)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_right_password_firefox_shows_the_desktop() -> Result<()> {
    let Some((mut n, _pattern, _browser, page)) = invitation_open_in_firefox().await? else {
        return Ok(());
    };
    join_with_password_and_allow(&page, &mut n.agent, "Eve", PASSWORD).await?;
    let sample = expect_the_pattern_live(&page).await?;
    assert_eq!(
        (sample["width"].as_u64(), sample["height"].as_u64()),
        (Some(640), Some(480)),
        "the whole of the novice's screen"
    );
    n.server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_wrong_password_firefox_is_refused_and_shows_nothing() -> Result<()> {
    let Some((mut n, _pattern, _browser, page)) = invitation_open_in_firefox().await? else {
        return Ok(());
    };
    // The agent and the page both say the check failed, with four tries left; no frame was
    // decoded and no video is attached.
    a_wrong_password_is_refused(&page, &mut n.agent, "Eve", "daffodil", 4).await?;
    n.server.stop().await;
    Ok(())
}
