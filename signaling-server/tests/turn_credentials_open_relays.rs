//! The TURN credential each session hands out with the novice's consent opens a relay on the
//! embedded STUN/TURN service (over UDP, TCP and TLS) and on a real coturn started with
//! `use-auth-secret` (over UDP and TCP); an old credential is refused by both.
//!
//! The TURN client is coturn's own `turnutils_uclient`: two allocations that send messages to
//! each other through their relays. coturn comes from the Debian package `coturn`
//! (`scripts/install-deps.sh`); without it these tests say so and pass.

mod common;

use common::{accept, redeemed_session, Backend, TestDb, TestServer};
use protocol::api::IceServer;
use secrecy::SecretString;
use signaling_server::clock::Clock;
use signaling_server::config::ServerConfig;
use signaling_server::turn::credentials::TurnSecret;
use signaling_server::turn::live::LiveSessions;
use signaling_server::turn::service::{EmbeddedTurn, TurnServiceConfig, TurnTlsConfig};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::process::Command;

const UCLIENT: &str = "/usr/bin/turnutils_uclient";
const TURNSERVER: &str = "/usr/bin/turnserver";
const SECRET: &str = "correct horse battery staple";
const CREDENTIAL_TTL: u64 = 600;

fn coturn_installed() -> bool {
    let present = Path::new(UCLIENT).exists() && Path::new(TURNSERVER).exists();
    if !present {
        assert!(
            common::skip_allowed(),
            "coturn is not installed ({UCLIENT}, {TURNSERVER}): run scripts/install-deps.sh \
             (ASSIST_ALLOW_SKIP=1 skips this test)"
        );
        eprintln!("SKIPPED: coturn is not installed ({UCLIENT}, {TURNSERVER})");
    }
    present
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Transport {
    Udp,
    Tcp,
    /// TLS over TCP, checking the server's certificate against this CA file.
    Tls(PathBuf),
}

/// Relays messages between two allocations made with `username`/`password`; `Ok` when every
/// message came through, `Err` with the client's last words otherwise.
async fn relay_through(
    server: SocketAddr,
    transport: Transport,
    username: &str,
    password: &str,
) -> Result<(), String> {
    let mut command = Command::new(UCLIENT);
    match &transport {
        Transport::Udp => {}
        Transport::Tcp => {
            command.arg("-t");
        }
        Transport::Tls(ca) => {
            command.args(["-t", "-S", "-E"]).arg(ca);
        }
    }
    // -y: client to client; -c: no RTCP pair; -s: Send indications; -n: messages each way.
    let run = command
        .args(["-y", "-c", "-s", "-n", "10", "-u", username, "-w", password])
        .args(["-p", &server.port().to_string(), &server.ip().to_string()])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .map_err(|_| "turnutils_uclient did not finish within 30 s".to_string())?
        .map_err(|e| format!("running {UCLIENT}: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    let tail: String = text.lines().rev().take(4).collect::<Vec<_>>().join(" | ");
    if output.status.success() && text.contains("tot_send_msgs=20, tot_recv_msgs=20") {
        Ok(())
    } else {
        Err(format!("{} ({tail})", output.status))
    }
}

/// The TURN entry of a fresh session's `ice_servers`, as the expert's browser receives it
/// with the novice's consent; the session stays live while the WebSockets are held.
async fn session_turn_server(server: &TestServer) -> (IceServer, common::Ws, common::Ws) {
    let (redeemed, _, mut agent, mut expert) = redeemed_session(server).await;
    let servers = accept(&redeemed, &mut agent, &mut expert).await;
    let turn = servers
        .into_iter()
        .find(|s| s.urls.iter().any(|u| u.starts_with("turn:")))
        .expect("the session carries a TURN server");
    (turn, agent, expert)
}

/// `host:port` of the URL for `transport` in a TURN entry.
fn address_of(server: &IceServer, transport: &Transport) -> SocketAddr {
    let (prefix, suffix) = match transport {
        Transport::Udp => ("turn:", "?transport=udp"),
        Transport::Tcp => ("turn:", "?transport=tcp"),
        Transport::Tls(_) => ("turns:", "?transport=tcp"),
    };
    let url = server
        .urls
        .iter()
        .find(|u| u.starts_with(prefix) && u.ends_with(suffix))
        .unwrap_or_else(|| panic!("no {prefix}…{suffix} URL in {:?}", server.urls));
    url.trim_start_matches(prefix)
        .trim_end_matches(suffix)
        .parse()
        .expect("TURN URL with an IP address")
}

/// A server configured with `--turn-urls` and `--turn-secret`, telling `sessions` which of
/// its sessions are live.
async fn server_handing_out(
    turn_urls: Vec<String>,
    sessions: LiveSessions,
) -> (TestServer, TestDb) {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = ServerConfig::defaults();
    config.turn_urls = turn_urls;
    config.turn_secret = Some(SecretString::from(SECRET));
    config.turn_credential_ttl = Some(CREDENTIAL_TTL);
    (TestServer::start_with_turn(&db, config, sessions).await, db)
}

/// Panics unless the entry's credential relays over each of `transports`.
async fn relays_over(turn: &IceServer, transports: &[Transport]) {
    let (username, password) = credentials(turn);
    for transport in transports {
        relay_through(
            address_of(turn, transport),
            transport.clone(),
            &username,
            &password,
        )
        .await
        .unwrap_or_else(|e| panic!("no relay over {transport:?} for {:?}: {e}", turn.urls));
    }
}

/// A CA (written to `dir` as `ca.pem`) and a TLS server configuration with a certificate it
/// issued for 127.0.0.1.
fn tls_for_loopback(dir: &Path) -> (PathBuf, Arc<rustls::ServerConfig>) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
        .expect("CA certificate");
    let key = KeyPair::generate().expect("server key");
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("server params")
        .signed_by(&key, &ca)
        .expect("server certificate");
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).expect("write the CA");
    let key = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).expect("key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert.der().clone()], key)
    .expect("TLS server config");
    (ca_file, Arc::new(config))
}

fn credentials(server: &IceServer) -> (String, String) {
    (
        server.username.clone().expect("TURN username"),
        server.credential.clone().expect("TURN password"),
    )
}

#[tokio::test]
async fn embedded_service_relays_with_the_session_credential_and_refuses_an_unused_old_one() {
    if !coturn_installed() {
        return;
    }
    let turn_clock = Clock::default();
    let dir = tempfile::tempdir().expect("temp dir");
    let (ca_file, tls) = tls_for_loopback(dir.path());
    let sessions = LiveSessions::default();
    let embedded = EmbeddedTurn::start(
        &TurnServiceConfig {
            tls: Some(TurnTlsConfig {
                port: 0,
                host: "127.0.0.1".into(),
                server: tls,
            }),
            // The client's two allocations are each other's peers, on loopback.
            allow_peers: vec!["127.0.0.0/8".parse().expect("CIDR")],
            ..TurnServiceConfig::loopback()
        },
        TurnSecret::new(SecretString::from(SECRET), CREDENTIAL_TTL as i64),
        turn_clock.clone(),
        sessions.clone(),
    )
    .await
    .expect("start the embedded TURN service");

    let (server, _db) = server_handing_out(embedded.urls(), sessions).await;
    let (turn, _agent, _expert) = session_turn_server(&server).await;
    let (username, _) = credentials(&turn);
    relays_over(
        &turn,
        &[Transport::Udp, Transport::Tcp, Transport::Tls(ca_file)],
    )
    .await;
    let wrong = relay_through(
        address_of(&turn, &Transport::Udp),
        Transport::Udp,
        &username,
        "not the password",
    )
    .await;
    assert!(wrong.is_err(), "a wrong password opened a relay");

    // A credential of the same live session, issued long ago and never used, has expired.
    let session = username
        .split_once(':')
        .map(|(_, id)| id)
        .unwrap_or_default();
    let old = TurnSecret::new(SecretString::from(SECRET), CREDENTIAL_TTL as i64)
        .issue(session, turn_clock.now() - 3600);
    let expired = relay_through(
        address_of(&turn, &Transport::Udp),
        Transport::Udp,
        &old.username,
        &old.password,
    )
    .await;
    assert!(expired.is_err(), "an expired credential opened a relay");
    server.stop().await;
}

/// coturn on loopback with the TURN REST API secret, killed on drop.
struct Coturn {
    _child: tokio::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Coturn {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let child = Command::new(TURNSERVER)
            .args(["-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1"])
            .arg(format!("--listening-port={port}"))
            .arg("--use-auth-secret")
            .arg(format!("--static-auth-secret={SECRET}"))
            .args(["--realm=assist-test", "--no-tls", "--no-dtls", "--no-cli"])
            // The two test allocations are peers of each other, both on loopback.
            .arg("--allow-loopback-peers")
            .args(["--log-file=stdout", "--simple-log"])
            .arg(format!("--pidfile={}", dir.path().join("pid").display()))
            .arg(format!("--userdb={}", dir.path().join("db").display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start turnserver");
        // Ready when its TCP listener answers.
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Self {
                    _child: child,
                    port,
                    _dir: dir,
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("coturn did not listen on 127.0.0.1:{port} within 10 s");
    }
}

/// A port that is free on loopback for both UDP and TCP right now.
fn free_port() -> u16 {
    loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind UDP");
        let port = udp.local_addr().expect("local address").port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

#[tokio::test]
async fn coturn_with_the_same_secret_accepts_the_session_credential() {
    if !coturn_installed() {
        return;
    }
    let coturn = Coturn::start().await;
    let (server, _db) = server_handing_out(
        vec![
            format!("turn:127.0.0.1:{}?transport=udp", coturn.port),
            format!("turn:127.0.0.1:{}?transport=tcp", coturn.port),
        ],
        LiveSessions::default(),
    )
    .await;
    let (turn, _agent, _expert) = session_turn_server(&server).await;
    relays_over(&turn, &[Transport::Udp, Transport::Tcp]).await;

    // Issued an hour ago for ten minutes: what a client keeps from an old session.
    let old =
        TurnSecret::new(SecretString::from(SECRET), 600).issue("old", server.clock.now() - 3600);
    let refused = relay_through(
        address_of(&turn, &Transport::Udp),
        Transport::Udp,
        &old.username,
        &old.password,
    )
    .await;
    assert!(refused.is_err(), "coturn accepted an expired credential");
    server.stop().await;
}
