//! The support desk in a real browser against the real server: signing in and out, forms
//! forged by another page refused, and what a signed-out browser or another organisation's
//! operator can reach. The live dashboard and *Offer help* with a real enrolled agent are in
//! `offering_help.rs`.

use anyhow::Result;
use std::time::Duration;
use tests::browser::{Browser, TestSite};
use tests::console::{text, WAIT};
use tests::desk::{base, page_kind, server_with_admin, sign_in, submit_and_wait, ADMIN_PASSWORD};

#[tokio::test]
async fn signing_in_needs_the_right_password_and_signing_out_ends_it() -> Result<()> {
    let server = server_with_admin().await?;
    let browser = Browser::launch().await?;
    let desk = format!("{}/desk", base(&server));
    let sign_in_url = format!("{}/desk/sign-in", base(&server));

    // Signed out, the dashboard sends the browser to the sign-in form.
    let page = browser.open_landing_on(&desk, &sign_in_url).await?;
    assert_eq!(page_kind(&page).await?, "sign-in");

    sign_in(&page, "ada", "wrong password!").await?;
    assert_eq!(page_kind(&page).await?, "sign-in");
    assert_eq!(
        text(&page, "document.getElementById('error').textContent").await?,
        "Wrong login or password."
    );

    sign_in(&page, "ADA", ADMIN_PASSWORD).await?;
    assert_eq!(page_kind(&page).await?, "dashboard");
    assert_eq!(
        text(&page, "document.getElementById('me').textContent").await?,
        "Ada Admin"
    );
    page.wait_for(
        "document.body.dataset.feed === 'live'",
        WAIT,
        "the live feed",
    )
    .await?;
    // The session cookie is invisible to scripts.
    assert_eq!(text(&page, "document.cookie").await?, "");

    submit_and_wait(&page, "form[action='/desk/sign-out']").await?;
    assert_eq!(page_kind(&page).await?, "sign-in");
    let again = browser.open_landing_on(&desk, &sign_in_url).await?;
    assert_eq!(page_kind(&again).await?, "sign-in");
    server.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_form_posted_from_another_page_is_refused() -> Result<()> {
    let server = server_with_admin().await?;
    let browser = Browser::launch().await?;
    let page = browser
        .open_landing_on(
            &format!("{}/desk", base(&server)),
            &format!("{}/desk/sign-in", base(&server)),
        )
        .await?;
    sign_in(&page, "ada", ADMIN_PASSWORD).await?;
    assert_eq!(page_kind(&page).await?, "dashboard");

    // Another site (here: another port on the same host, so the browser sends the cookie)
    // makes the signed-in browser post a form creating an operator, without the form token.
    let forged = format!(
        r#"<!doctype html><form id="f" method="post" action="{}/desk/operators">
        <input name="csrf" value="guessed"><input name="login" value="mallory">
        <input name="password" value="mallory-password"></form>
        <script>document.getElementById("f").submit();</script>"#,
        base(&server)
    );
    let site = TestSite::start(vec![("/forged.html", forged)]).await?;
    let attack = browser
        .open_landing_on(
            &site.url("/forged.html"),
            &format!("{}/desk/operators", base(&server)),
        )
        .await?;
    attack
        .wait_for(
            "document.body && document.body.dataset.page === 'message'",
            WAIT,
            "the refusal page",
        )
        .await?;
    assert_eq!(
        text(&attack, "document.getElementById('headline').textContent").await?,
        "This form cannot be accepted"
    );

    // The sign-in form itself is guarded the same way.
    let forged_sign_in = format!(
        r#"<!doctype html><form id="f" method="post" action="{}/desk/sign-in">
        <input name="csrf" value="guessed"><input name="login" value="ada">
        <input name="password" value="{ADMIN_PASSWORD}"></form>
        <script>document.getElementById("f").submit();</script>"#,
        base(&server)
    );
    let site2 = TestSite::start(vec![("/forged.html", forged_sign_in)]).await?;
    let other = Browser::launch().await?;
    let attack = other
        .open_landing_on(
            &site2.url("/forged.html"),
            &format!("{}/desk/sign-in", base(&server)),
        )
        .await?;
    attack
        .wait_for(
            "document.body && document.body.dataset.page === 'message'",
            WAIT,
            "the refusal page",
        )
        .await?;

    // Nobody called mallory can sign in: the operator was never created.
    let check = other
        .open(&format!("{}/desk/sign-in", base(&server)))
        .await?;
    sign_in(&check, "mallory", "mallory-password").await?;
    assert_eq!(page_kind(&check).await?, "sign-in");
    server.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_signed_out_browser_gets_no_live_feed() -> Result<()> {
    let server = server_with_admin().await?;
    let browser = Browser::launch().await?;
    let page = browser
        .open(&format!("{}/desk/sign-in", base(&server)))
        .await?;
    let ws_url = format!("{}/ws/desk", base(&server).replace("http://", "ws://"));
    let outcome = page
        .eval_within(
            &format!(
                r#"new Promise((resolve) => {{
                  const ws = new WebSocket({ws_url:?});
                  ws.onmessage = (e) => resolve("message: " + e.data);
                  ws.onerror = () => resolve("refused");
                  ws.onclose = () => resolve("refused");
                  setTimeout(() => resolve("timeout"), 10000);
                }})"#
            ),
            Duration::from_secs(20),
        )
        .await?;
    assert_eq!(outcome.as_str(), Some("refused"));
    server.stop().await;
    Ok(())
}

#[tokio::test]
async fn guessing_a_password_is_stopped_after_a_few_tries() -> Result<()> {
    let server = server_with_admin().await?;
    let browser = Browser::launch().await?;
    let page = browser
        .open(&format!("{}/desk/sign-in", base(&server)))
        .await?;
    let error = "document.getElementById('error')?.textContent ?? ''";
    for _ in 0..5 {
        sign_in(&page, "ada", "a wrong guess").await?;
        assert_eq!(text(&page, error).await?, "Wrong login or password.");
    }
    // Even the right password waits now: guessing cannot go on at full speed.
    sign_in(&page, "ada", ADMIN_PASSWORD).await?;
    assert_eq!(page_kind(&page).await?, "sign-in");
    let refused = text(&page, error).await?;
    assert!(
        refused.starts_with("Too many failed sign-ins for this login. Try again in "),
        "{refused}"
    );
    server.stop().await;
    Ok(())
}
