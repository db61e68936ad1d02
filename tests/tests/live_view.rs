//! Live view end to end, with every real component: an Xvfb display showing a test pattern,
//! the signaling server and the agent as processes, and headless Chromium opening the
//! invitation link the agent printed. The novice answers at the agent's prompt through its
//! standard input; the expert uses the console page like a person would.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::time::Duration;
use tests::browser::{Browser, Page};
use tests::console::{
    frames_decoded, invitation_link, join, join_and_allow, start_agent, state, status, text,
    wait_state, Invited, WAIT,
};
use tests::sockets::udp_sockets;
use tests::stack::{AgentProcess, ScratchDir, ServerProcess};
use tests::tk::TkProgram;
use tests::xvfb::Xvfb;

/// The pattern's quadrants (top-left, top-right, bottom-right, bottom-left), see
/// `tests/assets/pattern.py`.
const PATTERN: [[i64; 3]; 4] = [
    [0xe0, 0x20, 0x20],
    [0x20, 0xc0, 0x40],
    [0x20, 0x40, 0xe0],
    [0xf0, 0xd0, 0x20],
];
/// Per channel, after 4:2:0 subsampling, lossy coding and two colour-space conversions.
const TOLERANCE: i64 = 40;

/// Turns the pattern's colours one quadrant clockwise and waits until it is redrawn.
async fn rotate(pattern: &mut TkProgram) -> Result<()> {
    pattern.send("rotate").await?;
    pattern.expect("ready").await?;
    Ok(())
}

/// The colours at the centres of the four quadrants of the current video frame, drawn to a
/// canvas at the video's own size; `null` before the first frame.
const SAMPLE_QUADRANTS: &str = r#"(() => {
  const v = document.getElementById("video");
  if (!v || !v.srcObject || v.readyState < 2 || v.videoWidth === 0) return null;
  const c = document.createElement("canvas");
  c.width = v.videoWidth;
  c.height = v.videoHeight;
  const ctx = c.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(v, 0, 0);
  const at = ([fx, fy]) => Array.from(
    ctx.getImageData(Math.floor(fx * c.width), Math.floor(fy * c.height), 1, 1).data.slice(0, 3));
  return { width: c.width, height: c.height,
           colours: [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]].map(at) };
})()"#;

fn matches(sample: &Value, expected: &[[i64; 3]; 4]) -> bool {
    let Some(colours) = sample["colours"].as_array() else {
        return false;
    };
    colours.len() == 4
        && colours.iter().zip(expected).all(|(got, want)| {
            (0..3).all(|i| {
                got[i]
                    .as_i64()
                    .is_some_and(|c| (c - want[i]).abs() <= TOLERANCE)
            })
        })
}

/// Waits until the console has decoded more frames than it has now: video flows.
async fn more_frames_decoded(page: &Page) -> Result<()> {
    let first = frames_decoded(page).await?;
    page.wait_for(
        &format!("Number(document.getElementById('quality').dataset.framesDecoded) > {first}"),
        WAIT,
        "more frames to be decoded",
    )
    .await?;
    Ok(())
}

/// Waits until the video shows `expected`, and returns the last sample.
async fn expect_video(page: &Page, expected: &[[i64; 3]; 4], what: &str) -> Result<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let sample = page.eval(SAMPLE_QUADRANTS).await?;
        if matches(&sample, expected) {
            return Ok(sample);
        }
        if tokio::time::Instant::now() > deadline {
            bail!(
                "the video never showed {what}: last sample {sample}, console: {:?}",
                page.console()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

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
    page.type_text("#expert-name", "Eve").await?;
    page.type_text("#password", "wrong").await?;
    page.click("#connect").await?;
    agent
        .expect_line("Eve wants to see your screen", WAIT)
        .await?;
    agent.type_line("y").await?;
    let refused = agent
        .expect_line(
            "Eve entered a wrong password, or someone is intercepting",
            WAIT,
        )
        .await?;
    assert!(refused.contains("4 more tries"), "{refused}");
    wait_state(&page, "refused").await?;
    let said = status(&page).await?;
    assert!(
        said.contains("password was wrong, or someone is intercepting")
            && said.contains("4 more tries"),
        "{said}"
    );
    assert_eq!(frames_decoded(&page).await?, 0);
    page.click("#retry").await?;
    page.wait_for(
        "document.body.dataset.state === 'open' && document.getElementById('password') !== null",
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
    let rotated = [PATTERN[3], PATTERN[0], PATTERN[1], PATTERN[2]];
    expect_video(&page, &rotated, "the rotated pattern").await?;

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
