//! A session between two hosts that cannot reach each other goes through the server's TURN
//! relay; between hosts that can, it goes direct; when the direct path breaks mid-session, the
//! session moves to the relay by itself, and it carries on when the novice's host changes its
//! address; an expert whose network sends no UDP reaches the relay
//! over TCP; a novice whose network passes no UDP reaches it over TCP, or over TLS when only
//! that gets through. The console says which.
//!
//! Real separate hosts: network namespaces (see `tests::netns`) with the novice's agent in one,
//! the expert's Chromium in another and the signaling server with its embedded STUN/TURN
//! service in the router between them. Where namespaces cannot be made (not root, no iproute2
//! or iptables) the tests say so and pass.

use anyhow::{Context, Result};
use tests::browser::{Browser, Page};
use tests::console::{frames_decoded, invitation_link, join_and_allow, WAIT};
use tests::netns::{Network, ROUTER_EXPERT_SIDE, ROUTER_NOVICE_SIDE};
use tests::stack::{AgentProcess, ScratchDir, ServerProcess};
use tests::xvfb::Xvfb;

/// Port of the server's HTTP API in the router; the namespace is the test's own.
const HTTP_PORT: u16 = 8080;
/// Port of the embedded TURN service over UDP and TCP (the server's default).
const TURN_PORT: u16 = 3478;
/// Port of the embedded TURN service over TLS, where networks that pass only web traffic let
/// it through.
const TURN_TLS_PORT: u16 = 443;

/// The network, or `None` after saying why the test cannot run here, where skipping is
/// allowed ([`tests::skip_allowed`]); elsewhere a missing tool fails the test.
fn network() -> Result<Option<Network>> {
    Ok(match Network::create()? {
        Ok(network) => Some(network),
        Err(reason) if tests::skip_allowed() => {
            eprintln!("SKIPPED: {reason}; this test builds separate hosts with network namespaces");
            None
        }
        Err(reason) => anyhow::bail!(
            "{reason}: this test builds separate hosts with network namespaces \
             (ASSIST_ALLOW_SKIP=1 skips it)"
        ),
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
    live_session_with(network, &[], &[]).await
}

/// [`live_session`] with more server flags, and more flags for the agent's `invite`.
async fn live_session_with(
    network: &Network,
    server_args: &[&str],
    agent_args: &[&str],
) -> Result<LiveSession> {
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
    let mut args = vec![
        "--listen",
        &listen,
        "--public-url",
        &public_url,
        "--turn-listen-ip",
        &turn_ip,
        // The relay reaches the peers on the test network's private addresses.
        "--turn-allow-peer",
        "10.71.0.0/16",
    ];
    args.extend_from_slice(server_args);
    let server = ServerProcess::start_in(Some(&network.router), &args).await?;

    // No --local-ip: the agent offers every interface of its host, as it would at home.
    let agent_server = format!("http://{ROUTER_NOVICE_SIDE}:{HTTP_PORT}");
    let mut agent = AgentProcess::start_in(
        Some(&network.novice),
        &agent_server,
        "Nora",
        &[&["invite", "--display", xvfb.display()][..], agent_args].concat(),
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
async fn a_novice_host_without_a_default_route_still_starts_a_session() -> Result<()> {
    let Some(network) = network()? else {
        return Ok(());
    };
    // No route for 224.0.0.251 either: a multicast DNS socket could not even join its group.
    network.remove_novice_default_route()?;
    let session = live_session(&network).await?;
    path_shown(&session.page, "relayed").await?;
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
    still_in_the_session(&mut session, "still there?").await
}

/// The console is still in the session, and a chat line from the novice reaches it.
async fn still_in_the_session(session: &mut LiveSession, line: &str) -> Result<()> {
    assert_eq!(
        tests::console::state(&session.page).await?,
        "live",
        "the console stayed in the session"
    );
    session.agent.type_line(line).await?;
    session
        .page
        .wait_for(
            &format!("document.getElementById('chat-log').textContent.includes({line:?})"),
            WAIT,
            "the novice's chat line",
        )
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_survives_the_novice_changing_network() -> Result<()> {
    let Some(network) = network()? else {
        return Ok(());
    };
    let mut session = live_session(&network).await?;
    path_shown(&session.page, "direct").await?;

    // The novice's laptop moves to another network: a new address, every connection it had
    // (to the server and to the expert) dead. Nobody touches anything.
    move_and_see_the_picture_again(&network, &mut session, "direct").await?;
    still_in_the_session(&mut session, "moved, still here").await
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

/// Moves the novice to its new address and waits until the agent is back on the server and the
/// expert sees new frames; prints how long that took and how long the picture stood still.
async fn move_and_see_the_picture_again(
    network: &Network,
    session: &mut LiveSession,
    path: &str,
) -> Result<()> {
    session.page.eval(SHOWN_FRAMES).await?;
    session
        .page
        .wait_for("window.shownAt.length >= 5", WAIT, "frames to be counted")
        .await?;
    let moved = std::time::Instant::now();
    network.move_novice()?;
    session
        .agent
        .expect_line("Connected to the server again", WAIT)
        .await?;
    let signaling_back = moved.elapsed();
    // Frames decoded after signaling is back can only have come over the new path: the old
    // one went with the old address, and a browser holds a frame for a fraction of a second.
    let back_at = epoch_ms()?;
    session
        .page
        .wait_for(
            &format!("window.shownAt.filter(t => t > {back_at}).length >= 5"),
            WAIT,
            "frames decoded after the move",
        )
        .await?;
    let still = session
        .page
        .eval("Math.max(...window.shownAt.slice(1).map((t, i) => t - window.shownAt[i]))")
        .await?;
    eprintln!(
        "moved ({path}): signaling back in {:.1} s; the expert's picture stood still for {:.1} s",
        signaling_back.as_secs_f64(),
        still.as_f64().unwrap_or(f64::NAN) / 1000.0
    );
    Ok(())
}

/// Records in `window.shownAt` the time (ms since the epoch) each frame of the console's
/// video comes out of the decoder, reading a copy of its track. (The video element's own
/// counters move only when headless Chromium paints, which is seldom.)
const SHOWN_FRAMES: &str = "window.shownAt = []; \
    const track = document.getElementById('video').srcObject.getVideoTracks()[0].clone(); \
    const frames = new MediaStreamTrackProcessor({ track }).readable.getReader(); \
    (async () => { for (;;) { const { value, done } = await frames.read(); if (done) break; \
        window.shownAt.push(Date.now()); value.close(); } })(); true";

fn epoch_ms() -> Result<u128> {
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis())
}

/// Whether the novice's relay candidate is in use: the console names the path relayed and the
/// browser reports the novice's end of the selected pair as a relay candidate.
async fn novice_end_is_relayed(page: &Page) -> Result<()> {
    let pair = path_shown(page, "relayed").await?;
    eprintln!("selected candidate pair (expert/novice): {pair}");
    assert_eq!(
        pair.split('/').nth(1),
        Some("relay"),
        "the novice can only be reached through its relay: {pair}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_novice_whose_network_blocks_udp_connects_over_turn_tcp_also_after_moving() -> Result<()>
{
    let Some(network) = network()? else {
        return Ok(());
    };
    network.block_direct_path()?;
    network.block_udp_from_novice()?;
    let mut session = live_session(&network).await?;

    novice_end_is_relayed(&session.page).await?;
    more_frames(&session.page, "frames over the novice's TURN/TCP").await?;

    // A new address kills the TURN connection too; the restart makes new ones from it.
    move_and_see_the_picture_again(&network, &mut session, "over TURN/TCP").await?;
    novice_end_is_relayed(&session.page).await
}

/// A CA, and a certificate it issued for the TURN service's address, as PEM files in `dir`:
/// `(ca, cert, key)`.
fn turn_certificates(dir: &ScratchDir) -> Result<(String, String, String)> {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
    let key = KeyPair::generate()?;
    let cert =
        CertificateParams::new(vec![ROUTER_NOVICE_SIDE.to_string()])?.signed_by(&key, &ca)?;
    let mut paths = Vec::new();
    for (name, pem) in [
        ("ca.pem", ca.pem()),
        ("cert.pem", cert.pem()),
        ("key.pem", key.serialize_pem()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, pem).with_context(|| format!("writing {}", path.display()))?;
        paths.push(path.display().to_string());
    }
    let mut paths = paths.into_iter();
    match (paths.next(), paths.next(), paths.next()) {
        (Some(ca), Some(cert), Some(key)) => Ok((ca, cert, key)),
        _ => anyhow::bail!("three certificate files"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_novice_whose_network_blocks_udp_connects_over_turn_tls() -> Result<()> {
    let Some(network) = network()? else {
        return Ok(());
    };
    let dir = ScratchDir::new("turn-tls")?;
    let (ca, cert, key) = turn_certificates(&dir)?;
    network.block_direct_path()?;
    network.block_udp_from_novice()?;
    // TURN over TCP is out of reach too: only TLS on 443 gets through.
    network.block_tcp_port_from_novice(TURN_PORT)?;
    let tls_port = TURN_TLS_PORT.to_string();
    let session = live_session_with(
        &network,
        &[
            "--turn-tls-port",
            &tls_port,
            "--turn-tls-cert",
            &cert,
            "--turn-tls-key",
            &key,
        ],
        &["--turn-ca", &ca],
    )
    .await?;

    novice_end_is_relayed(&session.page).await?;
    more_frames(&session.page, "frames over the novice's TURN/TLS").await
}
