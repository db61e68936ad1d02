//! Idle, slow and numerous connections cannot exhaust the server: a silent socket, a request
//! head trickled in line by line and an idle keep-alive connection are closed after their
//! deadlines; one client address cannot hold more than its share of connections; a WebSocket
//! that never authenticates is closed; and the server keeps a reserve of file descriptors, so
//! `/health` and established sessions keep working while a flood is refused. Real sockets,
//! from several loopback addresses, against a real server.

mod common;

use common::{
    client_at, expect_type, send, tcp_from, ws_from, Backend, Client, TestDb, TestServer, Ws,
};
use protocol::api::{CreateInvitationRequest, RedeemResponse};
use serde_json::json;
use signaling_server::config::ServerConfig;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

const FLOODER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
const MONITOR: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const SESSION: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));

/// The defaults, changed by `change`.
fn config(change: impl FnOnce(&mut ServerConfig)) -> ServerConfig {
    let mut config = ServerConfig::defaults();
    change(&mut config);
    config
}

/// Reads until the server closes `stream`; the time that took and what it sent, or `None`
/// when it is still open after `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> Option<(Duration, Vec<u8>)> {
    let start = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(start + wait, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some((start.elapsed(), received)),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

/// Whether the server still holds `stream` open (nothing to read, no end of stream).
fn still_open(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 1];
    matches!(stream.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// One `GET path` on a connection of its own from `source`: the response, or `None` when the
/// server closed the connection without answering.
async fn get_from(server: SocketAddr, source: IpAddr, path: &str) -> Option<String> {
    let mut stream = tcp_from(server, source).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let (_, response) = closed_within(&mut stream, Duration::from_secs(10)).await?;
    (!response.is_empty()).then(|| String::from_utf8_lossy(&response).into_owned())
}

/// One `GET /health` on an open keep-alive connection; the response.
async fn health_on(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: server\r\n\r\n")
        .await
        .expect("send the request");
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = tokio::time::timeout_at(deadline, stream.read(&mut buf))
            .await
            .expect("the response within 10 s")
            .expect("read the response");
        assert!(n > 0, "closed before answering");
        response.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&response).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_string())
                })
                .and_then(|v| v.parse::<usize>().ok())
                .expect("a content length");
            if body.len() >= length {
                return text;
            }
        }
    }
}

/// An agent and an expert in an accepted session, every connection from `source`.
struct Session {
    agent: Ws,
    expert: Ws,
    id: String,
}

async fn open_session(base: &str, server: SocketAddr, source: IpAddr) -> Session {
    let c = client_at(base, source);
    let (status, body) = c
        .post_json("/api/agents", &json!({ "name": "Alice" }))
        .await;
    assert_eq!(status, 201, "{body}");
    let alice = Client {
        token: body["agent_token"].as_str().map(str::to_string),
        ..c.clone()
    };
    let mut agent = ws_from(server, source, "/ws/agent", alice.token.as_deref())
        .await
        .expect("agent WebSocket");
    expect_type(&mut agent, "welcome").await;
    let invitation = alice.invite(&CreateInvitationRequest::default()).await;
    let (status, body) = c.redeem(&invitation.code).await;
    assert_eq!(status, 200, "{body}");
    let redeemed: RedeemResponse = serde_json::from_value(body).expect("redeem");
    expect_type(&mut agent, "session_request").await;
    let mut expert = ws_from(server, source, "/ws/expert", None)
        .await
        .expect("expert WebSocket");
    send(
        &mut expert,
        &json!({"type": "hello", "ticket": redeemed.ticket}),
    )
    .await;
    expect_type(&mut expert, "consent").await;
    let id = redeemed.session_id.to_string();
    send(
        &mut agent,
        &json!({"type": "consent", "session_id": id, "accept": true}),
    )
    .await;
    assert_eq!(
        expect_type(&mut expert, "consent").await["state"],
        "accepted"
    );
    Session { agent, expert, id }
}

/// The agent's offer reaches the expert.
async fn relays(session: &mut Session, sdp: &str) {
    let offer = json!({"kind": "offer", "sdp": sdp});
    send(
        &mut session.agent,
        &json!({"type": "signal", "session_id": session.id, "signal": offer}),
    )
    .await;
    assert_eq!(
        expect_type(&mut session.expert, "signal").await["signal"],
        offer
    );
}

#[tokio::test]
async fn silent_connections_are_closed_after_the_header_timeout() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start_with(&db, config(|c| c.header_timeout_secs = 1)).await;
    let mut silent = tcp_from(server.addr, FLOODER).await.expect("connect");
    let (after, sent) = closed_within(&mut silent, Duration::from_secs(5))
        .await
        .expect("a silent connection is closed within 5 s");
    assert!(
        after >= Duration::from_millis(900),
        "closed after {after:?}"
    );
    assert!(sent.is_empty(), "the server answered nothing: {sent:?}");
    server.stop().await;
}

#[tokio::test]
async fn slowloris_cannot_hold_a_connection() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start_with(&db, config(|c| c.header_timeout_secs = 2)).await;
    let stream = tcp_from(server.addr, FLOODER).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    writer
        .write_all(b"GET /health HTTP/1.1\r\nHost: server\r\n")
        .await
        .expect("first line");
    // A header line every 200 ms, never the blank line that ends the head.
    let start = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    let mut line = 0u32;
    let closed_after = loop {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "a trickled request head still held its connection after 10 s"
        );
        tokio::select! {
            read = reader.read(&mut buf) => match read {
                Ok(0) | Err(_) => break start.elapsed(),
                Ok(n) => received.extend_from_slice(&buf[..n]),
            },
            _ = tokio::time::sleep(Duration::from_millis(200)) => {
                line += 1;
                if writer.write_all(format!("X-Line-{line}: still coming\r\n").as_bytes()).await.is_err() {
                    break start.elapsed();
                }
            }
        }
    };
    assert!(
        closed_after >= Duration::from_millis(1800),
        "closed after {closed_after:?}"
    );
    assert!(line >= 5, "only {line} lines were sent");
    // No response, or at most the error hyper sends for an unfinished head, never a 200.
    let text = String::from_utf8_lossy(&received);
    assert!(
        !text.contains("200 OK"),
        "the trickled request was served: {text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start_with(
        &db,
        config(|c| {
            c.header_timeout_secs = 30;
            c.idle_timeout_secs = 1;
        }),
    )
    .await;
    let mut conn = tcp_from(server.addr, FLOODER).await.expect("connect");
    // Two requests on one connection: it is kept alive between them.
    assert!(health_on(&mut conn).await.starts_with("HTTP/1.1 200"));
    assert!(health_on(&mut conn).await.starts_with("HTTP/1.1 200"));
    let (after, sent) = closed_within(&mut conn, Duration::from_secs(10))
        .await
        .expect("an idle connection is closed well before the header timeout");
    assert!(
        after >= Duration::from_millis(900),
        "closed after {after:?}"
    );
    assert!(after < Duration::from_secs(10), "closed after {after:?}");
    assert!(sent.is_empty());
    server.stop().await;
}

async fn one_address_cannot_take_every_connection(backend: Backend) {
    const CAP: usize = 8;
    let db = TestDb::new(backend).await;
    let server = TestServer::start_with(
        &db,
        config(|c| {
            c.max_connections_per_address = CAP as u32;
            c.header_timeout_secs = 60;
        }),
    )
    .await;
    let mut session = open_session(&server.base, server.addr, SESSION).await;

    // Silent sockets from one address: the first CAP are held, every further one is closed
    // at once, before the header timeout could have closed it.
    let mut flood = Vec::new();
    for _ in 0..CAP + 40 {
        flood.push(tcp_from(server.addr, FLOODER).await.expect("connect"));
    }
    for (i, extra) in flood.iter_mut().enumerate().skip(CAP) {
        assert!(
            closed_within(extra, Duration::from_secs(5)).await.is_some(),
            "connection {i} from one address, over its cap of {CAP}, was held"
        );
    }
    for (i, held) in flood.iter().take(CAP).enumerate() {
        assert!(
            still_open(held),
            "connection {i}, within the cap, was closed"
        );
    }
    let health = get_from(server.addr, FLOODER, "/health").await;
    assert!(
        health.is_none(),
        "the flooding address got a response: {health:?}"
    );

    // Everybody else is served meanwhile.
    let health = get_from(server.addr, MONITOR, "/health")
        .await
        .expect("/health from another address answers");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    relays(&mut session, "v=0\r\nduring the flood\r\n").await;

    // A place freed is a place taken again.
    flood.truncate(CAP - 1);
    served_again(server.addr, FLOODER).await;
    server.stop().await;
    db.cleanup().await;
}
both_backends!(
    one_address_cannot_take_every_connection,
    one_address_cannot_take_every_connection
);

#[tokio::test]
async fn a_websocket_that_never_authenticates_is_closed() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start_with(&db, config(|c| c.ws_auth_timeout_secs = 1)).await;

    // An expert socket that never says hello is told so and closed after the deadline.
    let start = Instant::now();
    let mut expert = ws_from(server.addr, FLOODER, "/ws/expert", None)
        .await
        .expect("the upgrade itself needs no credentials");
    let refused = expect_type(&mut expert, "error").await;
    assert_eq!(refused["code"], "hello_expected");
    assert!(common::recv(&mut expert).await.is_none(), "still open");
    let after = start.elapsed();
    assert!(
        after >= Duration::from_millis(900),
        "closed after {after:?}"
    );
    assert!(after < Duration::from_secs(5), "closed after {after:?}");

    // Agents and the dashboard authenticate in the upgrade request: without credentials there
    // is no WebSocket at all.
    for (path, token) in [
        ("/ws/agent", None),
        ("/ws/agent", Some("not-a-token")),
        ("/ws/desk", None),
    ] {
        match ws_from(server.addr, FLOODER, path, token).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_ne!(response.status(), 101, "{path}");
            }
            Err(other) => panic!("{path}: unexpected failure {other}"),
            Ok(_) => panic!("{path} opened a WebSocket without credentials"),
        }
    }
    server.stop().await;
}

/// The real server program, started under an open-file limit of `file_limit` with `args`.
struct LimitedServer {
    child: tokio::process::Child,
    base: String,
    addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl LimitedServer {
    async fn start(db: &TestDb, file_limit: u32, args: &[&str]) -> Self {
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -n {file_limit} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_signaling-server"))
            .args(["--listen", "127.0.0.1:0", "--no-embedded-turn"])
            .args(args)
            .args(db.cli_args())
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the server");
        // The server logs on both streams; everything is kept, and read as it comes so that
        // the server never waits on a full pipe.
        let log = Arc::new(Mutex::new(String::new()));
        let (listening, url) = tokio::sync::oneshot::channel();
        let mut listening = Some(listening);
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let streams: [Pin<Box<dyn AsyncRead + Send>>; 2] = [Box::pin(stdout), Box::pin(stderr)];
        for stream in streams {
            let mut lines = tokio::io::BufReader::new(stream).lines();
            let mut listening = listening.take();
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(url) = line.trim().strip_prefix("Signaling server listening on ") {
                        if let Some(tx) = listening.take() {
                            let _ = tx.send(url.trim_end_matches('/').to_string());
                        }
                    }
                    let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let base = tokio::time::timeout(Duration::from_secs(30), url)
            .await
            .expect("the server listens within 30 s")
            .unwrap_or_else(|_| panic!("the server stopped: {}", log_text(&log)));
        let addr = base
            .trim_start_matches("http://")
            .parse()
            .expect("a socket address");
        Self {
            child,
            base,
            addr,
            log,
        }
    }

    fn log(&self) -> String {
        log_text(&self.log)
    }

    /// CPU time the server has used so far.
    fn cpu_time(&self) -> Duration {
        let pid = self.child.id().expect("the server runs");
        loadgen::server::cpu_time(pid).expect("the server's CPU time")
    }

    /// Polls until the log has a line containing `text`.
    async fn wait_for_log(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.log().contains(text) {
            assert!(
                Instant::now() < deadline,
                "the server never logged {text:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stop(mut self) -> String {
        let _ = self.child.kill().await;
        self.log()
    }
}

fn log_text(log: &Mutex<String>) -> String {
    log.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// Polls until a new connection from `source` gets `/health` answered with 200.
async fn served_again(addr: SocketAddr, source: IpAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(health) = get_from(addr, source, "/health").await {
            assert!(health.starts_with("HTTP/1.1 200"), "{health}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "new connections are still refused"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The real server program under an open-file limit of 160, with 64 of them reserved: a flood
/// of 300 connections is refused beyond the budget, while an open keep-alive connection gets
/// `/health` (which asks the database) and an established session keeps relaying; the server
/// never runs out of descriptors and serves new connections once the flood is gone.
async fn the_server_keeps_a_reserve_of_descriptors(backend: Backend) {
    const FILE_LIMIT: u32 = 160;
    const RESERVED: u32 = 64;
    const FLOOD: usize = 300;
    let db = TestDb::new(backend).await;
    let server = LimitedServer::start(
        &db,
        FILE_LIMIT,
        &[
            "--reserved-files",
            &RESERVED.to_string(),
            "--max-connections-per-address",
            "100000",
        ],
    )
    .await;
    let (base, addr) = (server.base.clone(), server.addr);

    let mut keep_alive = tcp_from(addr, MONITOR).await.expect("connect");
    assert!(health_on(&mut keep_alive).await.starts_with("HTTP/1.1 200"));
    let mut session = open_session(&base, addr, SESSION).await;

    let mut flood = Vec::new();
    for _ in 0..FLOOD {
        // Connecting succeeds in the kernel's backlog whether or not the server keeps it.
        flood.push(tcp_from(addr, FLOODER).await.expect("connect"));
    }
    let budget = (FILE_LIMIT - RESERVED) as usize;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut closed = vec![false; FLOOD];
    loop {
        for (i, conn) in flood.iter_mut().enumerate() {
            if !closed[i]
                && closed_within(conn, Duration::from_millis(1))
                    .await
                    .is_some()
            {
                closed[i] = true;
            }
        }
        let refused = closed.iter().filter(|c| **c).count();
        if refused >= FLOOD - budget {
            assert!(
                refused < FLOOD - budget + 16,
                "{refused} of {FLOOD} refused"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {refused} of {FLOOD} connections were refused with a budget of {budget}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // With the budget spent: the open connection still gets answers from the database, and
    // the session still relays.
    for _ in 0..3 {
        let health = health_on(&mut keep_alive).await;
        assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    }
    relays(&mut session, "v=0\r\nat the budget\r\n").await;

    // Once the flood is gone, new connections are served again.
    drop(flood);
    served_again(addr, FLOODER).await;
    relays(&mut session, "v=0\r\nafter the flood\r\n").await;

    let log = server.stop().await;
    assert!(
        !log.contains("Too many open files") && !log.contains("cannot accept"),
        "the server ran out of descriptors:\n{log}"
    );
    assert!(
        log.contains("connection refused: the server holds its maximum"),
        "the refusals were not logged:\n{log}"
    );
    db.cleanup().await;
}

both_backends!(
    the_server_keeps_a_reserve_of_descriptors,
    the_server_keeps_a_reserve_of_descriptors
);

/// With a connection cap above what its files allow, the server does run out of descriptors:
/// its accept loop then waits a little between attempts instead of spinning, and serves new
/// connections as soon as descriptors are free again.
#[tokio::test]
async fn running_out_of_descriptors_pauses_the_accept_loop_without_spinning() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = LimitedServer::start(
        &db,
        160,
        &[
            "--max-connections",
            "100000",
            "--max-connections-per-address",
            "100000",
            "--header-timeout-secs",
            "120",
        ],
    )
    .await;
    // About 140 connections fit in the files, and up to 128 more wait in the listen backlog.
    let mut flood = Vec::new();
    for _ in 0..220 {
        flood.push(tcp_from(server.addr, FLOODER).await.expect("connect"));
    }
    server.wait_for_log("cannot accept connections").await;
    // Out of descriptors, with connections waiting in the backlog: a loop that retried at
    // once would burn a whole core.
    let before = server.cpu_time();
    let window = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let used = server.cpu_time().saturating_sub(before);
    assert!(
        used < window.elapsed() / 4,
        "the server used {used:?} of CPU in {:?} while out of descriptors",
        window.elapsed()
    );
    drop(flood);
    served_again(server.addr, MONITOR).await;
    let log = server.stop().await;
    assert!(log.contains("Too many open files"), "{log}");
}
