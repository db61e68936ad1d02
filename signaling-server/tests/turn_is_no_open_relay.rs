//! The embedded TURN service relays only for sessions the novice accepted, only while they
//! last, only so many allocations per session and per address, and never to internal
//! addresses unless told so. A real TURN client (webrtc-rs's, as the agent uses) speaks to the
//! real service over UDP on loopback.

mod common;
#[path = "common/turn_client.rs"]
mod turn_client;

use common::{accept, expect_type, redeemed_session, send, Backend, TestDb, TestServer};
use protocol::api::IceServer;
use secrecy::SecretString;
use serde_json::json;
use signaling_server::clock::Clock;
use signaling_server::config::ServerConfig;
use signaling_server::turn::credentials::TurnSecret;
use signaling_server::turn::guard::Quotas;
use signaling_server::turn::live::LiveSessions;
use signaling_server::turn::service::{EmbeddedTurn, TurnServiceConfig};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use turn_client::TurnClient;

const SECRET: &str = "turn test secret";
const TTL: i64 = 600;

fn secret() -> TurnSecret {
    TurnSecret::new(SecretString::from(SECRET), TTL)
}

/// The service on loopback with `config`'s rules, and the sessions it honours.
async fn service(config: TurnServiceConfig) -> (EmbeddedTurn, LiveSessions, SocketAddr) {
    service_on(config, Clock::default()).await
}

/// [`service`], reading the time from `clock`.
async fn service_on(
    config: TurnServiceConfig,
    clock: Clock,
) -> (EmbeddedTurn, LiveSessions, SocketAddr) {
    let sessions = LiveSessions::default();
    let embedded = EmbeddedTurn::start(&config, secret(), clock, sessions.clone())
        .await
        .expect("start the embedded TURN service");
    let udp = embedded
        .stun_url()
        .trim_start_matches("stun:")
        .parse()
        .expect("STUN URL with an address");
    (embedded, sessions, udp)
}

fn allowing_loopback() -> TurnServiceConfig {
    TurnServiceConfig {
        allow_peers: vec!["127.0.0.0/8".parse().expect("CIDR")],
        ..TurnServiceConfig::loopback()
    }
}

/// A UDP peer on loopback that echoes every packet, until dropped.
struct Echo {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Echo {
    fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the echo peer");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("read timeout");
        let addr = socket.local_addr().expect("echo address");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut buf = vec![0; 2048];
            while !stopped.load(Ordering::Relaxed) {
                if let Ok((n, from)) = socket.recv_from(&mut buf) {
                    let _ = socket.send_to(&buf[..n], from);
                }
            }
        });
        Self { addr, stop }
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Whether a packet sent through `client` to the echo peer comes back within a second.
fn echoes(client: &mut TurnClient, echo: &Echo) -> bool {
    client
        .send(echo.addr, b"ping")
        .expect("send through the relay");
    matches!(client.recv(Duration::from_secs(1)), Ok(Some(data)) if data == b"ping")
}

/// An allocation with `username`/`password` and a permission to `echo`, proven to relay.
fn relay_to(turn: SocketAddr, username: &str, password: &str, echo: &Echo) -> TurnClient {
    let mut client = TurnClient::allocate(turn, username, password)
        .expect("TURN exchange")
        .expect("allocation after consent");
    client
        .create_permission(echo.addr)
        .expect("TURN exchange")
        .expect("permission to an allowed peer");
    assert!(
        echoes(&mut client, echo),
        "nothing came back through the relay"
    );
    client
}

fn credentials(servers: &[IceServer]) -> Option<(String, String)> {
    servers
        .iter()
        .find(|s| s.urls.iter().any(|u| u.starts_with("turn:")))
        .and_then(|s| Some((s.username.clone()?, s.credential.clone()?)))
}

/// A signaling server handing out the embedded service, which it tells of live sessions.
async fn server_for(embedded: &EmbeddedTurn, sessions: LiveSessions) -> (TestServer, TestDb) {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = ServerConfig::defaults();
    config.turn_urls = embedded.urls();
    config.stun_urls = vec![embedded.stun_url()];
    config.turn_secret = Some(SecretString::from(SECRET));
    config.turn_credential_ttl = Some(TTL as u64);
    (TestServer::start_with_turn(&db, config, sessions).await, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn turn_credentials_come_only_after_consent() {
    let (embedded, sessions, turn) = service(allowing_loopback()).await;
    let (server, _db) = server_for(&embedded, sessions).await;
    let (redeemed, agent_servers, mut agent, mut expert) = redeemed_session(&server).await;

    // The redeem response names STUN only: nothing to relay with before the novice's yes.
    assert!(
        credentials(&redeemed.ice_servers).is_none(),
        "{:?}",
        redeemed.ice_servers
    );
    assert!(redeemed
        .ice_servers
        .iter()
        .all(|s| s.username.is_none() && s.urls.iter().all(|u| u.starts_with("stun:"))));
    // The agent hears of the credential with the request, but it opens nothing yet.
    let (username, password) = credentials(&agent_servers).expect("the agent's TURN entry");
    let early = TurnClient::allocate(turn, &username, &password).expect("TURN exchange");
    assert!(early.is_err(), "a credential opened a relay before consent");

    let servers = accept(&redeemed, &mut agent, &mut expert).await;
    let (username, password) = credentials(&servers).expect("TURN entry with the consent");
    let echo = Echo::start();
    relay_to(turn, &username, &password, &echo);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn turn_credentials_die_with_their_session() {
    let (embedded, sessions, turn) = service(allowing_loopback()).await;
    let (server, _db) = server_for(&embedded, sessions).await;
    let (redeemed, _, mut agent, mut expert) = redeemed_session(&server).await;
    let servers = accept(&redeemed, &mut agent, &mut expert).await;
    let (username, password) = credentials(&servers).expect("TURN entry with the consent");
    let echo = Echo::start();
    let mut client = relay_to(turn, &username, &password, &echo);

    send(&mut expert, &json!({"type": "hang_up"})).await;
    expect_type(&mut agent, "session_ended").await;

    // The allocation stops relaying at once, long before its lifetime is up.
    let deadline = Instant::now() + Duration::from_secs(10);
    while echoes(&mut client, &echo) {
        assert!(
            Instant::now() < deadline,
            "the ended session's relay still works after 10 s"
        );
    }
    let again = TurnClient::allocate(turn, &username, &password).expect("TURN exchange");
    assert!(
        again.is_err(),
        "an ended session's credential opened a relay"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn turn_refuses_to_relay_to_loopback() {
    let (embedded, sessions, turn) = service(TurnServiceConfig::loopback()).await;
    sessions.open("s1");
    let credential = secret().issue("s1", Clock::default().now());
    let mut client = TurnClient::allocate(turn, &credential.username, &credential.password)
        .expect("TURN exchange")
        .expect("allocation of a live session");
    let echo = Echo::start();
    let tcp_listener = embedded.urls()[1].clone();
    for peer in [
        echo.addr.to_string(),
        "127.0.0.53:53".into(),
        "10.0.0.1:9".into(),
        "192.168.0.1:9".into(),
        "169.254.169.254:80".into(),
        "0.0.0.0:9".into(),
        "255.255.255.255:9".into(),
        "224.0.0.251:5353".into(),
        // The service's own TCP listener, on its own address.
        tcp_listener
            .trim_start_matches("turn:")
            .trim_end_matches("?transport=tcp")
            .to_owned(),
    ] {
        let peer: SocketAddr = peer.parse().expect("peer address");
        let refused = client.create_permission(peer).expect("TURN exchange");
        match refused {
            Err(reason) => assert!(reason.contains("403"), "{peer}: {reason}"),
            Ok(()) => panic!("a permission to {peer} was granted"),
        }
    }
    let metrics = embedded.metrics().render_metrics();
    assert!(
        metrics.contains("assist_turn_peers_refused_total 9\n"),
        "{metrics}"
    );
    // Nothing reaches the loopback peer.
    assert!(!echoes_if_it_can(&mut client, &echo));
}

/// Like [`echoes`], but a client that refuses to send counts as no echo.
fn echoes_if_it_can(client: &mut TurnClient, echo: &Echo) -> bool {
    client.send(echo.addr, b"ping").is_ok()
        && matches!(client.recv(Duration::from_secs(1)), Ok(Some(_)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_session_cannot_take_every_relay_port() {
    // Eight relay ports; a session may hold three allocations, an address five.
    let base = 40_000 + (std::process::id() % 2000) as u16 * 8;
    let (embedded, sessions, turn) = service(TurnServiceConfig {
        relay_ports: base..=base + 7,
        quotas: Quotas {
            per_session: 3,
            per_address: 5,
        },
        ..TurnServiceConfig::loopback()
    })
    .await;
    sessions.open("greedy");
    sessions.open("other");
    let now = Clock::default().now();
    let greedy = secret().issue("greedy", now);
    let other = secret().issue("other", now);
    let allocate = |c: &signaling_server::turn::credentials::TurnCredential| {
        TurnClient::allocate(turn, &c.username, &c.password).expect("TURN exchange")
    };

    let mut held = Vec::new();
    for n in 0..3 {
        held.push(allocate(&greedy).unwrap_or_else(|e| panic!("allocation {n} refused: {e}")));
    }
    match allocate(&greedy) {
        Err(reason) => assert!(reason.contains("486"), "{reason}"),
        Ok(_) => panic!("a fourth allocation of one session was granted"),
    }
    // Another session from the same address gets two more, then the address is at its quota.
    for n in 0..2 {
        held.push(allocate(&other).unwrap_or_else(|e| panic!("allocation {n} refused: {e}")));
    }
    match allocate(&other) {
        Err(reason) => assert!(reason.contains("486"), "{reason}"),
        Ok(_) => panic!("a sixth allocation of one address was granted"),
    }

    // The metrics say so, over HTTP.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let router = signaling_server::metrics::router(Some(embedded.metrics()));
    tokio::spawn(async move { axum::serve(listener, router).await });
    let metrics = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics text");
    for line in [
        "assist_turn_allocations 5",
        "assist_turn_allocations_refused_total{reason=\"session_quota\"} 1",
        "assist_turn_allocations_refused_total{reason=\"address_quota\"} 1",
    ] {
        assert!(metrics.contains(line), "no {line:?} in\n{metrics}");
    }

    // When the greedy session ends its allocations go, and their room is free again.
    sessions.close("greedy");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !embedded
        .metrics()
        .render_metrics()
        .contains("assist_turn_allocations 2\n")
    {
        assert!(
            Instant::now() < deadline,
            "the ended session's allocations stay"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(allocate(&other).is_ok(), "the freed room was not given out");
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_live_session_keeps_its_relay_past_its_credential_expiry() {
    let clock = Clock::default();
    let (_embedded, sessions, turn) = service_on(allowing_loopback(), clock.clone()).await;
    sessions.open("long");
    let used = secret().issue("long", clock.now());
    let echo = Echo::start();
    let mut client = relay_to(turn, &used.username, &used.password, &echo);

    // Hours later the credential has expired, but its session goes on: permissions are
    // renewed, and an ICE restart allocates anew with the same credential.
    clock.advance(4 * 3600);
    let other = Echo::start();
    client
        .create_permission(other.addr)
        .expect("TURN exchange")
        .expect("a permission renewed past the expiry");
    assert!(
        echoes(&mut client, &other),
        "the relay stopped at the expiry"
    );
    relay_to(turn, &used.username, &used.password, &echo);

    // A credential of the same session that was never used in time opens nothing.
    let unused = secret().issue("long", clock.now() - TTL - 1);
    let refused =
        TurnClient::allocate(turn, &unused.username, &unused.password).expect("TURN exchange");
    assert!(
        refused.is_err(),
        "an expired, unused credential opened a relay"
    );
}
