//! A session between two hosts that cannot reach each other goes through the server's TURN
//! relay; between hosts that can, it goes direct; when the direct path breaks mid-session, the
//! session moves to the relay by itself; an expert whose network sends no UDP reaches the relay
//! over TCP. The console says which.
//!
//! Real separate hosts: network namespaces (see `tests::netns`) with the novice's agent in one,
//! the expert's Chromium in another and the signaling server with its embedded STUN/TURN
//! service in the router between them. Where namespaces cannot be made (not root, no iproute2
//! or iptables) the tests say so and pass.

use anyhow::{Context, Result};
use tests::browser::{Browser, Page};
use tests::console::{frames_decoded, invitation_link, join_and_allow, WAIT};
use tests::netns::{Network, ROUTER_EXPERT_SIDE, ROUTER_NOVICE_SIDE};
use tests::stack::{AgentProcess, ServerProcess};
use tests::xvfb::Xvfb;

/// Port of the server's HTTP API in the router; the namespace is the test's own.
const HTTP_PORT: u16 = 8080;

/// The network, or `None` after saying why the test cannot run here.
fn network() -> Result<Option<Network>> {
    Ok(match Network::create()? {
        Ok(network) => Some(network),
        Err(reason) => {
            eprintln!("SKIPPED: {reason}; this test builds separate hosts with network namespaces");
            None
        }
    })
}

/// Everything of one live session, kept running until dropped.
struct LiveSession {
    page: Page,
    _browser: Browser,
    agent: AgentProcess,
    _server: ServerProcess,
    _xvfb: Xvfb,
}

/// Server in the router, agent on the novice's host sharing an Xvfb display, Chromium on the
/// expert's host; the expert joins, the novice allows, and frames are decoded.
async fn live_session(network: &Network) -> Result<LiveSession> {
    let mut xvfb = Xvfb::start(640, 480)?;
    // A screen that changes ten times a second, so that frames keep coming.
    xvfb.spawn(
        "xterm",
        &[
            "-fa",
            "DejaVu Sans Mono",
            "-geometry",
            "60x10+0+0",
            "-e",
            "sh",
            "-c",
            "while true; do date +%T.%N; sleep 0.1; done",
        ],
    )?;
    let listen = format!("0.0.0.0:{HTTP_PORT}");
    let public_url = format!("http://{ROUTER_EXPERT_SIDE}:{HTTP_PORT}");
    let turn_ip = ROUTER_NOVICE_SIDE.to_string();
    let server = ServerProcess::start_in(
        Some(&network.router),
        &[
            "--listen",
            &listen,
            "--public-url",
            &public_url,
            "--turn-listen-ip",
            &turn_ip,
        ],
    )
    .await?;

    // No --local-ip: the agent offers every interface of its host, as it would at home.
    let agent_server = format!("http://{ROUTER_NOVICE_SIDE}:{HTTP_PORT}");
    let mut agent = AgentProcess::start_in(
        Some(&network.novice),
        &agent_server,
        "Nora",
        &["invite", "--display", xvfb.display()],
    )
    .await?;
    let link = invitation_link(&mut agent).await?;

    let browser = Browser::launch_in(Some(&network.expert)).await?;
    let page = browser.open(&link).await?;
    join_and_allow(&page, &mut agent, "Eve").await?;
    page.wait_for(
        "Number(document.getElementById('quality').dataset.framesDecoded) > 10",
        WAIT,
        "frames to be decoded",
    )
    .await
    .with_context(|| format!("console: {:?}", page.console()))?;
    Ok(LiveSession {
        page,
        _browser: browser,
        agent,
        _server: server,
        _xvfb: xvfb,
    })
}

/// Waits until the console names the path, and returns the selected pair's candidate types
/// (`local/remote` as the browser sees them).
async fn path_shown(page: &Page, path: &str) -> Result<String> {
    page.wait_for(
        &format!("document.getElementById('quality').dataset.path === {path:?}"),
        WAIT,
        &format!("the console to show a {path} connection"),
    )
    .await
    .with_context(|| format!("console: {:?}", page.console()))?;
    let quality = page
        .eval("document.getElementById('quality').textContent")
        .await?;
    assert!(
        quality.as_str().is_some_and(|q| q.contains(path)),
        "the status line says {path}: {quality}"
    );
    Ok(page
        .eval("document.getElementById('quality').dataset.candidateTypes")
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// Waits until more frames than now have been decoded.
async fn more_frames(page: &Page, what: &str) -> Result<()> {
    let before = frames_decoded(page).await?;
    page.wait_for(
        &format!("Number(document.getElementById('quality').dataset.framesDecoded) > {before}"),
        WAIT,
        what,
    )
    .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_that_cannot_reach_each_other_connect_through_the_relay() -> Result<()> {
    let Some(network) = network()? else {
        return Ok(());
    };
    network.block_direct_path()?;
    let session = live_session(&network).await?;

    let pair = path_shown(&session.page, "relayed").await?;
    eprintln!("selected candidate pair (expert/novice): {pair}");
    assert!(
        pair.split('/').any(|t| t == "relay"),
        "the selected pair has a relay end: {pair}"
    );
    more_frames(&session.page, "more frames through the relay").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_that_can_reach_each_other_connect_directly() -> Result<()> {
    let Some(network) = network()? else {
        return Ok(());
    };
    let session = live_session(&network).await?;

    let pair = path_shown(&session.page, "direct").await?;
    eprintln!("selected candidate pair (expert/novice): {pair}");
    assert!(
        pair.split('/')
            .all(|t| t == "host" || t == "srflx" || t == "prflx"),
        "the selected pair is host-to-host or reflexive: {pair}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_whose_direct_path_breaks_recovers_through_the_relay() -> Result<()> {
    let Some(network) = network()? else {
        return Ok(());
    };
    let mut session = live_session(&network).await?;
    path_shown(&session.page, "direct").await?;

    // A firewall between the two hosts starts dropping everything; nobody touches anything.
    network.block_direct_path()?;
    let pair = path_shown(&session.page, "relayed").await?;
    eprintln!("after the break, selected candidate pair (expert/novice): {pair}");
    assert!(pair.split('/').any(|t| t == "relay"), "{pair}");
    more_frames(&session.page, "frames after the recovery").await?;
    assert_eq!(
        tests::console::state(&session.page).await?,
        "live",
        "the console stayed in the session"
    );
    session.agent.type_line("still there?").await?;
    session
        .page
        .wait_for(
            "document.getElementById('chat-log').textContent.includes('still there?')",
            WAIT,
            "the novice's chat line after the recovery",
        )
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expert_whose_network_blocks_udp_connects_over_turn_tcp() -> Result<()> {
    let Some(network) = network()? else {
        return Ok(());
    };
    network.block_direct_path()?;
    network.block_udp_from_expert()?;
    let session = live_session(&network).await?;

    let pair = path_shown(&session.page, "relayed").await?;
    eprintln!("selected candidate pair (expert/novice): {pair}");
    let protocol = session
        .page
        .eval("document.getElementById('quality').dataset.relayProtocol")
        .await?;
    assert_eq!(
        protocol.as_str(),
        Some("tcp"),
        "the browser reaches the relay over TCP"
    );
    more_frames(&session.page, "frames over TURN/TCP").await
}
