//! A signaling server that sits in the middle of a session, terminating both WebRTC
//! connections with certificates of its own and relaying the data channel between them
//! (`tests::mitm::Interceptor`), is refused even when the expert types the right password:
//! the password check is bound to the DTLS certificates each side sees, so the two sides derive
//! different keys and the relayed confirmation does not match. The agent sends no frame, takes
//! none of the relay's input, and says why; so does the expert's console.

use anyhow::{Context, Result};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tests::browser::Browser;
use tests::console::{frames_decoded, invitation_link, join, status, wait_state, WAIT};
use tests::mitm::{agent_said, Interceptor};
use tests::stack::{AgentProcess, ScratchDir, ServerProcess};
use tests::tk::TkProgram;
use tests::xvfb::Xvfb;

/// The password both tests give the agent and type in the console.
const PASSWORD: &str = "tulip-42";

/// `Nora` inviting with [`PASSWORD`], sharing `xvfb` on loopback, her agent talking to the
/// signaling server at `server`; the folder holding the password file goes with her.
async fn novice_inviting(server: &str, xvfb: &Xvfb) -> Result<(ScratchDir, AgentProcess)> {
    let secrets = ScratchDir::new("password")?;
    let file = secrets.path().join("password");
    std::fs::write(&file, format!("{PASSWORD}\n"))?;
    let file = file.to_string_lossy().into_owned();
    let agent = AgentProcess::start(
        server,
        "Nora",
        &[
            "invite",
            "--display",
            xvfb.display(),
            "--local-ip",
            "127.0.0.1",
            "--password-file",
            &file,
        ],
    )
    .await?;
    Ok((secrets, agent))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_rewriting_the_certificates_is_refused_even_with_the_right_password() -> Result<()>
{
    let xvfb = Xvfb::start(640, 480)?;
    let _pattern = TkProgram::start(&xvfb, "pattern.py").await?;
    let server = ServerProcess::start().await?;
    let mitm = Interceptor::start(server.url()).await?;
    // The agent talks to the server through the interceptor; the expert reaches the server as
    // usual (the link is the server's).
    let (_secrets, mut agent) = novice_inviting(mitm.url(), &xvfb).await?;
    let link = invitation_link(&mut agent).await?;
    assert!(
        link.starts_with(server.url().trim_end_matches('/')),
        "{link}"
    );

    let browser = Browser::launch().await?;
    let page = browser.open(&link).await?;
    join(&page, "Eve", Some(PASSWORD)).await?;
    agent
        .expect_line("Eve wants to see your screen", WAIT)
        .await?;
    agent.type_line("y").await?;

    // The check ran through the relay, and failed on both sides.
    let said = agent
        .expect_line("or someone is intercepting the connection", WAIT)
        .await?;
    assert!(said.contains("Nothing of your screen was shared"), "{said}");
    wait_state(&page, "refused").await?;
    let shown = status(&page).await?;
    assert!(shown.contains("intercepting"), "{shown}");
    assert_eq!(
        mitm.seen().sessions.load(Ordering::Relaxed),
        1,
        "it did sit in the middle"
    );
    let share = agent_said(mitm.seen(), "pake")?;
    assert_eq!(share["share"].as_str().map(str::len), Some(130), "{share}");
    let result = agent_said(mitm.seen(), "pake_result")?;
    assert_eq!(result["ok"], false, "{result}");
    assert_eq!(result["reason"], "mismatch", "{result}");
    assert!(
        agent_said(mitm.seen(), "pake_confirm").is_err(),
        "the agent never confirms to a browser that did not prove itself"
    );

    // Nothing was shared: no video packet reached the relay, no screen size, no picture.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(mitm.video_packets(), 0, "no frame was sent");
    assert!(agent_said(mitm.seen(), "screen").is_err());
    assert_eq!(frames_decoded(&page).await?, 0);
    // Nothing the relay slipped in was taken: no control request reached the novice, no chat
    // was shown, no input could be injected without control.
    assert!(
        agent
            .expect_line("wants to control your computer", Duration::from_secs(2))
            .await
            .is_err(),
        "the relay's control request was dropped"
    );
    assert!(
        agent
            .expect_line("injected by the relay", Duration::from_secs(1))
            .await
            .is_err(),
        "the relay's chat was dropped"
    );
    let listed = agent.run(&["list"]).await?;
    assert!(listed.contains("1 wrong password"), "counted: {listed}");
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_relay_the_same_password_opens() -> Result<()> {
    // The control: the same agent, password and browser, straight to the server.
    let xvfb = Xvfb::start(640, 480)?;
    let _pattern = TkProgram::start(&xvfb, "pattern.py").await?;
    let server = ServerProcess::start().await?;
    let (_secrets, mut agent) = novice_inviting(server.url(), &xvfb).await?;
    let link = invitation_link(&mut agent).await?;
    let browser = Browser::launch().await?;
    let page = browser.open(&link).await?;
    join(&page, "Eve", Some(PASSWORD)).await?;
    agent
        .expect_line("Eve wants to see your screen", WAIT)
        .await?;
    agent.type_line("y").await?;
    wait_state(&page, "live").await?;
    page.wait_for(
        "Number(document.getElementById('quality').dataset.framesDecoded ?? 0) > 0",
        WAIT,
        "decoded frames",
    )
    .await
    .context("the picture")?;
    server.stop().await;
    Ok(())
}
