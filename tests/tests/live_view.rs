//! Live view end to end, with every real component: an Xvfb display showing a test pattern,
//! the signaling server and the agent as processes, and headless Chromium opening the
//! invitation link the agent printed. The novice answers at the agent's prompt through its
//! standard input; the expert uses the console page like a person would.

use anyhow::{Context, Result};
use serde_json::Value;
use tests::browser::{Browser, Page};
use tests::console::{
    a_wrong_password_is_refused, frames_decoded, invitation_link, join, join_and_allow,
    more_frames_decoded, start_agent, state, status, text, wait_state, Invited, WAIT,
};
use tests::pattern::{expect_video, rotate, PATTERN, ROTATED};
use tests::sockets::udp_sockets;
use tests::stack::{AgentProcess, ScratchDir, ServerProcess};
use tests::tk::TkProgram;
use tests::xvfb::Xvfb;

/// What else a session in these tests needs while it runs: the browser and the display.
struct Rest {
    _browser: Browser,
    _pattern: TkProgram,
    _xvfb: Xvfb,
}

/// A novice sharing the test pattern with `agent invite` (and `extra` flags), and their
/// invitation open in a browser, the console waiting for the expert to connect.
async fn open_invitation(extra: &[&str]) -> Result<(Page, AgentProcess, ServerProcess, Rest)> {
    let xvfb = Xvfb::start(1280, 720)?;
    let pattern = TkProgram::start(&xvfb, "pattern.py").await?;
    let server = ServerProcess::start().await?;
    let mut agent = start_agent(&server, &xvfb, extra).await?;
    let link = invitation_link(&mut agent).await?;
    let browser = Browser::launch().await?;
    let page = browser.open(&link).await?;
    let rest = Rest {
        _browser: browser,
        _pattern: pattern,
        _xvfb: xvfb,
    };
    Ok((page, agent, server, rest))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_expert_sees_the_desktop_live_and_chats_after_the_novice_allows() -> Result<()> {
    let xvfb = Xvfb::start(1280, 720)?;
    let mut pattern = TkProgram::start(&xvfb, "pattern.py").await?;
    let server = ServerProcess::start().await?;
    let secrets = ScratchDir::new("password")?;
    let password_file = secrets.path().join("password");
    std::fs::write(&password_file, "tulip-42\n")?;
    let password_arg = password_file.to_string_lossy().into_owned();
    let mut agent = start_agent(&server, &xvfb, &["--password-file", &password_arg]).await?;
    let link = invitation_link(&mut agent).await?;
    // Nobody else on the machine reads the password in the process list.
    let pid = agent.pid().context("the agent runs")?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))?;
    let cmdline = String::from_utf8_lossy(&cmdline);
    assert!(
        cmdline.contains("--password-file") && !cmdline.contains("tulip-42"),
        "{cmdline:?}"
    );
    // The short code read out on the phone: the server's lookup part, then the secret.
    let short_code = agent.expect_line("Short code:", WAIT).await?;
    assert!(
        short_code
            .split_whitespace()
            .nth(2)
            .is_some_and(|c| c.len() == 24),
        "{short_code}"
    );

    let browser = Browser::launch().await?;
    let page = browser.open(&link).await?;
    let headline = page
        .eval("document.getElementById('headline').textContent")
        .await?;
    assert!(
        headline.as_str().is_some_and(|h| h.contains("Nora")),
        "the page names who invited: {headline}"
    );

    // A wrong password is judged by the agent once the novice allowed the connection: nothing
    // is shown, both sides say why, and the expert may try again.
    a_wrong_password_is_refused(&page, &mut agent, "Eve", "wrong", 4).await?;
    page.click("#retry").await?;
    // The page reloads: its form is there before its script, which enables Connect.
    page.wait_for(
        "document.body?.dataset.state === 'open' && document.getElementById('password') !== null \
         && document.getElementById('connect').disabled === false",
        WAIT,
        "the page again, for another try",
    )
    .await?;

    page.type_text("#expert-name", "Eve").await?;
    page.type_text("#password", "tulip-42").await?;
    page.click("#connect").await?;

    // The novice is asked; until they answer, nothing is shown to the expert.
    let question = agent.expect_line("wants to see your screen", WAIT).await?;
    assert!(
        question.contains("Eve") && question.contains("Allow? [y/N]"),
        "{question}"
    );
    wait_state(&page, "waiting").await?;
    assert!(status(&page).await?.contains("Waiting for Nora"));
    assert_eq!(
        page.eval("document.getElementById('video').srcObject")
            .await?,
        Value::Null
    );

    agent.type_line("y").await?;
    wait_state(&page, "live").await?;
    agent
        .expect_line("is now watching your screen", WAIT)
        .await?;

    // Frames are decoded, and they show what is on the X display.
    let sample = expect_video(&page, &PATTERN, "the test pattern").await?;
    assert_eq!(
        (sample["width"].as_u64(), sample["height"].as_u64()),
        (Some(1280), Some(720))
    );
    more_frames_decoded(&page).await?;
    let quality = page
        .eval("document.getElementById('quality').textContent")
        .await?;
    assert!(
        quality
            .as_str()
            .is_some_and(|q| q.contains("fps") && q.contains("Mbit/s")),
        "{quality}"
    );

    // A change on the display reaches the video.
    rotate(&mut pattern).await?;
    expect_video(&page, &ROTATED, "the rotated pattern").await?;

    // Chat both ways.
    page.type_text("#chat-input", "Hello Nora, I can see your screen")
        .await?;
    page.click("#chat-form button").await?;
    let line = agent.expect_line("I can see your screen", WAIT).await?;
    assert!(line.contains("[Eve]"), "{line}");
    agent.type_line("Great, thank you!").await?;
    page.wait_for(
        "document.getElementById('chat-log').textContent.includes('Nora: Great, thank you!')",
        WAIT,
        "the novice's chat line",
    )
    .await?;

    // The expert ends the session: the view ends and the agent stops sharing.
    page.click("#end").await?;
    wait_state(&page, "ended").await?;
    assert_eq!(
        page.eval("document.getElementById('video').srcObject")
            .await?,
        Value::Null
    );
    agent.expect_line("no longer shared", WAIT).await?;

    agent.type_line("/quit").await?;
    let exit = agent.wait(WAIT).await?;
    assert!(exit.success(), "the agent exits cleanly: {exit}");
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_from_the_novice_leaves_the_expert_with_a_message_and_no_video() -> Result<()> {
    let (page, mut agent, server, _rest) = open_invitation(&[]).await?;
    assert_eq!(
        page.eval("document.getElementById('password')").await?,
        Value::Null,
        "no password field without a password"
    );
    page.type_text("#expert-name", "Mallory").await?;
    page.click("#connect").await?;
    agent
        .expect_line("Mallory wants to see your screen", WAIT)
        .await?;
    agent.type_line("n").await?;

    wait_state(&page, "declined").await?;
    assert!(status(&page).await?.contains("declined"));
    assert_eq!(
        page.eval("document.getElementById('video').srcObject")
            .await?,
        Value::Null
    );
    assert_eq!(frames_decoded(&page).await?, 0);
    agent.expect_line("You declined Mallory", WAIT).await?;
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_novice_ends_the_session_from_the_terminal() -> Result<()> {
    let (page, mut agent, server, _rest) = open_invitation(&[]).await?;
    page.type_text("#expert-name", "Eve").await?;
    page.click("#connect").await?;
    agent.expect_line("wants to see your screen", WAIT).await?;
    agent.type_line("yes").await?;
    expect_video(&page, &PATTERN, "the test pattern").await?;

    agent.type_line("/end").await?;
    agent.expect_line("You ended the session", WAIT).await?;
    wait_state(&page, "ended").await?;
    assert!(
        status(&page).await?.contains("ended the session"),
        "{}",
        status(&page).await?
    );
    assert_eq!(
        page.eval("document.getElementById('video').srcObject")
            .await?,
        Value::Null
    );
    server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_invitation_is_refused_with_a_clear_message() -> Result<()> {
    let invited = Invited::start(320, 240, &[]).await?;
    let browser = Browser::launch().await?;
    let page = invited.open_in(&browser).await?;
    assert_eq!(state(&page).await?, "open");

    // The novice changes their mind while the expert has the page open.
    let listed = invited.agent.run(&["list"]).await?;
    let line = listed
        .lines()
        .find(|l| l.contains("open"))
        .with_context(|| format!("no open invitation in: {listed}"))?;
    assert!(
        line.contains("created 20") && line.contains("expires 20"),
        "creation and expiry as dates: {line}"
    );
    let id = line.split_whitespace().next().context("no id")?;
    let revoked = invited.agent.run(&["revoke", id]).await?;
    assert!(revoked.contains("revoked"), "{revoked}");

    page.type_text("#expert-name", "Eve").await?;
    page.click("#connect").await?;
    wait_state(&page, "refused").await?;
    assert!(
        status(&page).await?.contains("cancelled"),
        "{}",
        status(&page).await?
    );
    assert_eq!(
        page.eval("document.getElementById('join').hidden").await?,
        Value::Bool(true),
        "nothing to retry"
    );
    invited.server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_given_loopback_opens_no_udp_socket_beyond_it_and_no_multicast_dns() -> Result<()>
{
    let mut invited = Invited::start(1280, 720, &[]).await?;
    // Drawn before anything is shared: the agent captures only once the novice allows.
    let _pattern = TkProgram::start(&invited.xvfb, "pattern.py").await?;
    let pid = invited.agent.pid().context("the agent runs")?;
    // The expert's browser names its own addresses only by mDNS, which the agent does not
    // resolve: it reaches the browser through the addresses the browser's checks come from.
    let browser = Browser::launch_hiding_local_addresses().await?;
    let page = invited.open_in(&browser).await?;
    join_and_allow(&page, &mut invited.agent, "Eve").await?;
    expect_video(&page, &PATTERN, "the test pattern").await?;
    more_frames_decoded(&page).await?;

    // Live, with video flowing: every UDP socket of the agent is on the address it was given.
    let sockets = udp_sockets(pid)?;
    assert!(!sockets.is_empty(), "the session's sockets are seen");
    assert!(
        sockets.iter().all(|s| s.port() != 5353),
        "no multicast DNS socket: {sockets:?}"
    );
    assert!(
        sockets
            .iter()
            .all(|s| s.ip() == std::net::Ipv4Addr::LOCALHOST),
        "every UDP socket is on 127.0.0.1: {sockets:?}"
    );
    invited.server.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_and_names_arrive_without_escape_sequences_or_hidden_characters() -> Result<()> {
    let (page, mut agent, server, _rest) = open_invitation(&[]).await?;

    // A name that reads backwards from its override on.
    join(&page, "Eve\u{202e}lana", None).await?;
    let question = agent.expect_line("wants to see your screen", WAIT).await?;
    assert!(question.starts_with("Evelana wants"), "{question:?}");
    agent.type_line("y").await?;
    wait_state(&page, "live").await?;
    page.wait_for(
        "!document.getElementById('chat-input').disabled",
        WAIT,
        "the chat, once the data channel is open",
    )
    .await?;

    // The expert's chat tries to set the novice's clipboard (OSC 52), clear the screen and
    // flip the text. (A text field takes no line breaks; the agent's unit tests have those.)
    let chat = "look\u{1b}]52;c;ZXZpbA==\u{7} here\u{1b}[2J\u{202e}gnp.exe";
    page.eval(&format!(
        "document.getElementById('chat-input').value = {}",
        serde_json::to_string(chat)?
    ))
    .await?;
    page.click("#chat-form button").await?;
    let line = agent.expect_line("] look", WAIT).await?;
    assert_eq!(line, "[Evelana] look heregnp.exe");

    // What the novice types is shown cleaned in the console.
    agent.type_line("ok\u{1b}[2J\u{202e}done\u{200b}!").await?;
    page.wait_for(
        "document.getElementById('chat-log').textContent.includes('Nora: okdone!')",
        WAIT,
        "the novice's chat line, cleaned",
    )
    .await?;
    let log = text(&page, "document.getElementById('chat-log').textContent").await?;
    assert!(
        !log.contains(['\u{1b}', '\u{7}', '\u{202e}', '\u{200b}', '\n']),
        "{log:?}"
    );

    // The console's cleaning is the agent's.
    let samples = [
        chat,
        "a\u{1b}]0;title\u{1b}\\b\u{9b}2Jc\u{9d}x\u{9c}d\u{1b}7e",
        "Zoë \u{2066}日本\u{2069}\u{200e}\u{61c}\u{feff}\u{ad}\u{e0041}\u{3164} 👩‍💻\r\n\t\u{2028}x",
        "\u{0}\u{8}\u{7f}\u{85}\u{1b}[1;31mred\u{1b}[0m unterminated \u{1b}]52;c;x",
    ];
    let in_browser = page
        .eval(&format!(
            "import('/static/js/text.js').then(m => {}.map(m.clean))",
            serde_json::to_string(&samples)?
        ))
        .await?;
    let in_agent: Vec<String> = samples.iter().map(|s| protocol::text::clean(s)).collect();
    assert_eq!(in_browser, serde_json::json!(in_agent));
    server.stop().await;
    Ok(())
}
