//! The "messenger" path end to end with every real component: a machine enrolled into Acme's
//! support desk lists the desk's experts with their presence, which follows the expert's
//! dashboard in a real Chromium; a direct invitation shows there as a notification, and Accept
//! leads, after the novice's yes, to video decoded in that browser; Decline reaches the
//! novice's terminal at once, while another program of the same machine, waiting for the desk,
//! stays connected beside it.

use anyhow::{bail, Context, Result};
use std::time::{Duration, Instant};
use tests::browser::{Browser, Page};
use tests::console::{frames_decoded, text, wait_state, WAIT};
use tests::desk::{fill_and_submit, page_kind, server_with_admin, sign_in, ADMIN_PASSWORD};
use tests::stack::AgentProcess;
use tests::xvfb::Xvfb;

/// `agent experts` until Ada's line says `state`; returns the line.
async fn ada_becomes(agent: &AgentProcess, state: &str) -> Result<String> {
    let start = Instant::now();
    loop {
        let listing = agent.run(&["experts"]).await?;
        let line = listing
            .lines()
            .find(|l| l.trim_start().starts_with("ada "))
            .with_context(|| format!("Ada missing from `agent experts`:\n{listing}"))?
            .to_string();
        if line.split_whitespace().nth(1) == Some(state) {
            return Ok(line);
        }
        if start.elapsed() > Duration::from_secs(15) {
            bail!("Ada still not {state} after 15 s:\n{listing}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn dashboard(browser: &Browser, base: &str) -> Result<Page> {
    let page = browser.open(&format!("{base}/desk")).await?;
    page.wait_for(
        "document.body.dataset.feed === 'live'",
        WAIT,
        "the live feed",
    )
    .await?;
    Ok(page)
}

async fn notification_shown(page: &Page) -> Result<()> {
    page.wait_for(
        "(() => { const li = document.querySelector('#direct-list li'); \
          return li && !document.getElementById('direct').hidden \
            && li.textContent.includes('Nora') && li.textContent.includes('asks you for help'); })()",
        WAIT,
        "the direct invitation as a notification",
    )
    .await
    .with_context(|| format!("dashboard console: {:?}", page.console()))?;
    Ok(())
}

#[tokio::test]
async fn experts_show_online_and_a_direct_invitation_is_accepted_or_declined() -> Result<()> {
    let xvfb = Xvfb::start(1024, 768)?;
    xvfb.fill("#208040")?;
    let server = server_with_admin().await?;
    let base = tests::desk::base(&server);

    // Ada, Acme's administrator, makes an enrolment token; the machine enrols with it.
    let browser = Browser::launch().await?;
    let page = browser
        .open_landing_on(&format!("{base}/desk"), &format!("{base}/desk/sign-in"))
        .await?;
    sign_in(&page, "ada", ADMIN_PASSWORD).await?;
    assert_eq!(page_kind(&page).await?, "dashboard");
    fill_and_submit(&page, "#new-token", &[("valid_hours", "1"), ("uses", "1")]).await?;
    let token = text(&page, "document.getElementById('token').textContent").await?;
    let mut enrol =
        AgentProcess::start(&base, "Nora's laptop", &["enroll", "--token", &token]).await?;
    enrol
        .expect_line("This machine is now managed by Acme", WAIT)
        .await?;

    // Presence follows Ada's dashboard: offline without it, online with it, offline once the
    // page is gone.
    let line = ada_becomes(&enrol, "offline").await?;
    assert!(line.contains("Ada"), "{line}");
    let desk = dashboard(&browser, &base).await?;
    assert_eq!(
        desk.eval("!document.getElementById('notify').hidden")
            .await?,
        true,
        "the dashboard offers desktop notifications while the browser has not been asked"
    );
    ada_becomes(&enrol, "online").await?;
    desk.eval("location.href = 'about:blank'").await?;
    ada_becomes(&enrol, "offline").await?;

    // Invited directly while her dashboard is open: a notification with Accept and Decline,
    // on the page and, notifications allowed, on her desktop (recorded as the page makes them).
    browser.allow_notifications(&base).await?;
    let desk = dashboard(&browser, &base).await?;
    assert_eq!(
        desk.eval("document.getElementById('notify').hidden")
            .await?,
        true
    );
    desk.eval(
        "window.shownNotifications = []; \
         window.Notification = class extends Notification { \
           constructor(title, options) { super(title, options); shownNotifications.push(title); } }",
    )
    .await?;
    ada_becomes(&enrol, "online").await?;
    let share = ["--display", xvfb.display(), "--local-ip", "127.0.0.1"];
    let mut invite = enrol.start_beside(&[&["invite", "--to", "ada"][..], &share[..]].concat())?;
    let sent = invite.expect_line("Sent an invitation to", WAIT).await?;
    assert!(
        sent.contains("Ada") && sent.contains("online now"),
        "{sent}"
    );
    notification_shown(&desk).await?;
    assert!(text(&desk, "document.title").await?.starts_with("(1) "));
    desk.wait_for(
        "shownNotifications.includes(\"Nora's laptop asks you for help\")",
        WAIT,
        "a desktop notification",
    )
    .await?;

    // Accept: her tab becomes the console; the novice is asked and says yes; video arrives.
    tests::desk::submit_and_wait(&desk, "#direct-list form:has(button.accept)").await?;
    wait_state(&desk, "waiting").await?;
    let question = invite.expect_line("wants to see your screen", WAIT).await?;
    assert!(question.contains("Ada"), "{question}");
    invite.type_line("y").await?;
    wait_state(&desk, "live").await?;
    desk.wait_for(
        "Number(document.getElementById('quality').dataset.framesDecoded ?? 0) > 0",
        WAIT,
        "decoded frames in Ada's console",
    )
    .await?;
    assert!(frames_decoded(&desk).await? > 0);
    invite.type_line("/quit").await?;
    invite.wait(WAIT).await?;

    // Its session over, the accepted invitation is used up.
    let start = Instant::now();
    loop {
        let listing = enrol.run(&["list"]).await?;
        if listing.contains("expired") {
            break;
        }
        if start.elapsed() > WAIT {
            bail!("the accepted invitation is not used up after its session:\n{listing}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // A second invitation, declined: the novice reads the answer and the agent stops. The
    // machine was also waiting for its desk (`agent online`): the two programs are connected
    // side by side, and the one waiting for the desk carries on.
    let desk = dashboard(&browser, &base).await?;
    let mut online = enrol.start_beside(&[&["online"][..], &share[..]].concat())?;
    let online_row = "document.querySelector('#machines tbody tr[data-online=\"true\"] td.name')?.textContent === \"Nora's laptop\"";
    desk.wait_for(online_row, WAIT, "the machine online on the dashboard")
        .await?;
    let mut invite = enrol.start_beside(&[&["invite", "--to", "ada"][..], &share[..]].concat())?;
    invite.expect_line("Sent an invitation to", WAIT).await?;
    notification_shown(&desk).await?;
    tests::desk::submit_and_wait(&desk, "#direct-list form:has(button.decline)").await?;
    assert_eq!(page_kind(&desk).await?, "dashboard");
    let answer = invite.expect_line("declined your invitation", WAIT).await?;
    assert!(answer.contains("Ada"), "{answer}");
    let status = invite.wait(WAIT).await?;
    assert!(status.success(), "the agent ends cleanly after a decline");
    desk.wait_for(
        "document.getElementById('direct').hidden",
        WAIT,
        "the notification gone",
    )
    .await?;
    let listing = enrol.run(&["list"]).await?;
    assert!(listing.contains("declined"), "{listing}");
    desk.wait_for(online_row, WAIT, "the machine still online")
        .await?;
    assert!(
        online.try_exit_status()?.is_none(),
        "the program waiting for the desk still runs"
    );

    // Bad input from the agent's side: an unknown expert is a clear error.
    let refused = enrol.run(&["invite", "--to", "nobody"]).await;
    let message = format!("{:#}", refused.expect_err("an unknown expert is refused"));
    assert!(
        message.contains("Nobody with the login \"nobody\"") && message.contains("agent experts"),
        "{message}"
    );
    server.stop().await;
    Ok(())
}
