//! The novice's invitations on the agent's local status page: true states, and *Expire now*
//! working, also on an invitation whose session is live (the session ends).

use anyhow::{Context, Result};
use tests::console::{join_live, start_agent, wait_state, WAIT};
use tests::stack::ServerProcess;
use tests::xvfb::Xvfb;

#[tokio::test]
async fn the_status_page_shows_true_states_and_expires_an_invitation_in_use() -> Result<()> {
    let xvfb = Xvfb::start(640, 480)?;
    let server = ServerProcess::start().await?;
    let mut live = start_agent(&server, &xvfb, &[]).await?;
    let (browser, expert) = join_live(&mut live, "Eve", 640).await?;
    // A second invitation from the same agent, still open.
    let mut waiting = live.start_beside(&["invite", "--local-ip", "127.0.0.1"])?;
    waiting.expect_line("Link:", WAIT).await?;

    let mut status = live.start_beside(&["status-page", "--no-open"])?;
    let line = status.expect_line("Your invitations:", WAIT).await?;
    let url = line
        .split_whitespace()
        .last()
        .context("no address on the line")?
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "local only: {url}");
    let page = browser.open(&url).await?;
    let states = page
        .eval("[...document.querySelectorAll('tbody tr')].map((r) => r.dataset.status)")
        .await?;
    assert_eq!(
        states,
        serde_json::json!(["open", "in use"]),
        "newest first"
    );

    // Expiring the invitation in use ends its session: the expert's view ends at once.
    page.click("tr[data-status='in use'] button").await?;
    page.wait_for(
        "document.querySelector('tr[data-status=\"revoked\"]') !== null \
         && document.querySelector('tr[data-status=\"in use\"]') === null",
        WAIT,
        "the expired invitation to show as revoked",
    )
    .await?;
    wait_state(&expert, "ended").await?;

    // Without the address's token there is nothing to see.
    let guessed = url
        .rsplit_once("/s/")
        .map(|(base, _)| format!("{base}/s/0000/"));
    let other = browser
        .open(&guessed.context("an address with a token")?)
        .await?;
    let body = other.eval("document.body.textContent").await?;
    assert!(
        body.as_str().is_some_and(|b| b.contains("Not found")),
        "{body}"
    );
    server.stop().await;
    Ok(())
}
