//! The invitation's password, and the secret a link carries after its '#', checked between the
//! agent and the expert's browser (SPAKE2, docs/pake.md), end to end with every real
//! component: Xvfb with a test pattern, the server and the agent as processes, headless
//! Chromium as the expert, and Firefox ESR for the link's secret and a cut link (its right and
//! wrong password: `the_password_is_checked_in_firefox.rs`). The server never sees
//! either: it cannot judge them, and its files hold neither.

use anyhow::{Context, Result};
use std::time::Duration;
use tests::browser::{Browser, FirefoxOptions, Page};
use tests::console::{
    a_wrong_password_is_refused, frames_decoded, join, join_with_password_and_allow, state, status,
    wait_state, WAIT,
};
use tests::pattern::{expect_the_pattern_live, invited_to_the_pattern};
use tests::stack::ServerProcess;

const PASSWORD: &str = "tulip-42";

/// The link's secret, after its '#'.
fn secret_of(link: &str) -> Result<&str> {
    link.split_once('#')
        .map(|(_, secret)| secret)
        .context("the link carries a secret after '#'")
}

/// Redeems the link's code through the server's API from `page`: what the server answers.
async fn redeem_status(page: &Page, link: &str) -> Result<(u64, String)> {
    let code = link
        .split('#')
        .next()
        .and_then(|l| l.rsplit('/').next())
        .context("a code in the link")?;
    let answer = page
        .eval(&format!(
            "fetch('/api/redeem', {{method: 'POST', headers: {{'content-type': 'application/json'}}, \
             body: JSON.stringify({{code: {code:?}, expert_name: 'Mallory'}})}}) \
             .then(async r => [r.status, (await r.json()).error ?? ''])"
        ))
        .await?;
    Ok((
        answer[0].as_u64().unwrap_or(0),
        answer[1].as_str().unwrap_or_default().to_owned(),
    ))
}

/// Every byte the server keeps on disk (its database and journals).
fn server_files(server: &ServerProcess) -> Result<Vec<u8>> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(server.data_dir())? {
        let path = entry?.path();
        if path.is_file() {
            all.extend(std::fs::read(&path)?);
        }
    }
    Ok(all)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_password_shows_the_desktop_and_the_server_never_holds_it() -> Result<()> {
    let (mut n, _pattern) = invited_to_the_pattern(Some(PASSWORD)).await?;
    let browser = Browser::launch().await?;
    let page = browser.open(&n.link).await?;
    assert_eq!(
        page.eval("document.body.dataset.secret").await?,
        "link",
        "the secret came with the link"
    );
    join_with_password_and_allow(&page, &mut n.agent, "Eve", PASSWORD).await?;
    expect_the_pattern_live(&page).await?;

    // Neither the password nor the link's secret is anywhere in what the server stored.
    let stored = server_files(&n.server)?;
    assert!(!stored.is_empty(), "the server's database is there");
    assert!(
        !contains(&stored, PASSWORD),
        "the password is not on the server"
    );
    assert!(
        !contains(&stored, secret_of(&n.link)?),
        "the link's secret is not on the server"
    );
    n.server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_passwords_are_refused_by_the_agent_and_lock_the_invitation() -> Result<()> {
    five_wrong_passwords_lock(Browser::launch().await?).await
}

async fn five_wrong_passwords_lock(browser: Browser) -> Result<()> {
    let (mut n, _pattern) = invited_to_the_pattern(Some(PASSWORD)).await?;
    for left in (0..5).rev() {
        let page = browser.open(&n.link).await?;
        a_wrong_password_is_refused(&page, &mut n.agent, "Eve", "daffodil", left).await?;
    }

    // The agent told the server, which now refuses to open it, and says so on the page.
    let deadline = tokio::time::Instant::now() + WAIT;
    let page = loop {
        let page = browser.open(&n.link).await?;
        if state(&page).await? == "locked" {
            break page;
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the server never showed the invitation locked"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(redeem_status(&page, &n.link).await?, (423, "locked".into()));
    let listed = n.agent.run(&["list"]).await?;
    assert!(
        listed.contains("locked") && listed.contains("5 wrong passwords"),
        "{listed}"
    );
    n.server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_without_a_password_shows_the_desktop_with_its_secret() -> Result<()> {
    link_without_a_password_shows_the_desktop(Browser::launch().await?).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_firefox_a_link_without_a_password_shows_the_desktop() -> Result<()> {
    match Browser::launch_firefox_or_skip(FirefoxOptions::default()).await? {
        Some(browser) => link_without_a_password_shows_the_desktop(browser).await,
        None => Ok(()),
    }
}

async fn link_without_a_password_shows_the_desktop(browser: Browser) -> Result<()> {
    let (mut n, _pattern) = invited_to_the_pattern(None).await?;
    secret_of(&n.link)?;
    let page = browser.open(&n.link).await?;
    assert_eq!(
        page.eval("document.getElementById('password')").await?,
        serde_json::Value::Null
    );
    join(&page, "Eve", None).await?;
    n.agent
        .expect_line("Eve wants to see your screen", WAIT)
        .await?;
    n.agent.type_line("y").await?;
    wait_state(&page, "live").await?;
    expect_the_pattern_live(&page).await?;
    n.server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_cut_before_its_secret_is_refused() -> Result<()> {
    cut_link_refused(Browser::launch().await?).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_firefox_a_link_cut_before_its_secret_is_refused() -> Result<()> {
    match Browser::launch_firefox_or_skip(FirefoxOptions::default()).await? {
        Some(browser) => cut_link_refused(browser).await,
        None => Ok(()),
    }
}

async fn cut_link_refused(browser: Browser) -> Result<()> {
    let (mut n, _pattern) = invited_to_the_pattern(None).await?;
    let cut = n.link.split('#').next().context("a link")?.to_owned();
    let page = browser.open(&cut).await?;
    assert_eq!(page.eval("document.body.dataset.secret").await?, "missing");
    assert!(
        status(&page).await?.contains("missing its secret part"),
        "{}",
        status(&page).await?
    );
    // Without the secret the console opens nothing: the novice is not even asked.
    join(&page, "Eve", None).await?;
    assert_eq!(state(&page).await?, "open");
    assert!(status(&page).await?.contains("secret code"));
    let listed = n.agent.run(&["list"]).await?;
    assert!(listed.contains("open"), "nothing was redeemed: {listed}");

    // A guessed secret reaches the agent, which refuses it after the novice allowed, counted.
    page.type_text("#secret", "0000-0000").await?;
    page.click("#connect").await?;
    n.agent
        .expect_line("Eve wants to see your screen", WAIT)
        .await?;
    n.agent.type_line("y").await?;
    let said = n
        .agent
        .expect_line("Eve entered a wrong password", WAIT)
        .await?;
    assert!(said.contains("4 more tries"), "{said}");
    wait_state(&page, "refused").await?;
    assert_eq!(frames_decoded(&page).await?, 0);
    n.server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_short_code_read_out_opens_the_invitation() -> Result<()> {
    let (mut n, _pattern) = invited_to_the_pattern(None).await?;
    let line = n.agent.expect_line("Short code:", WAIT).await?;
    let code = line
        .split_whitespace()
        .nth(2)
        .context("a code on the line")?
        .to_owned();
    // Where to type it: the server's /i page, named on the same line.
    let entry = line
        .split_whitespace()
        .find(|word| word.starts_with("http") && word.ends_with("/i"))
        .with_context(|| format!("no address on {line:?}"))?
        .to_owned();
    let browser = Browser::launch().await?;
    let page = browser.open(&entry).await?;
    assert_eq!(state(&page).await?, "code");
    // As typed after hearing it: lower case, spaces for dashes.
    page.type_text("#code", &code.to_lowercase().replace('-', " "))
        .await?;
    page.click("#open-code").await?;
    page.wait_for(
        "location.pathname !== '/i' && document.body?.dataset.secret === 'link' \
         && document.body?.dataset.state === 'open'",
        WAIT,
        "the invitation, opened with its secret in the fragment",
    )
    .await?;
    let path = page.eval("location.pathname").await?;
    assert_eq!(
        path.as_str().map(|p| p.len()),
        Some("/i/XXXX-XXXX-XXXX".len()),
        "only the lookup part goes to the server: {path}"
    );
    join(&page, "Eve", None).await?;
    n.agent
        .expect_line("Eve wants to see your screen", WAIT)
        .await?;
    n.agent.type_line("y").await?;
    wait_state(&page, "live").await?;
    expect_the_pattern_live(&page).await?;
    n.server.stop().await;
    Ok(())
}
