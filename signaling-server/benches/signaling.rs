//! Benchmark of the signaling server over real HTTP and WebSockets on the loopback interface.
//!
//! It starts the whole server in this process on `127.0.0.1:0`, first on SQLite in a temporary
//! directory, then on a fresh PostgreSQL database created under `TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) and dropped afterwards; PostgreSQL is skipped
//! with a note when it cannot be reached. On each backend it measures, with real clients:
//! * invitation creation (`POST /api/invitations`) without and with a password (Argon2id), with
//!   1 and 16 requests in flight;
//! * redemption (`POST /api/redeem`) of the invitations just created, without a password and
//!   with the correct one;
//! * the relay: N agent/expert pairs with accepted sessions; each agent sends `signal` offers
//!   whose SDP carries the time it was sent, and the pair's expert reads them, one frame in flight
//!   per pair. One-way latency is the time the expert has read a frame minus the time in its SDP.
//!
//! Each step stops after a fixed number of requests or a time limit, whichever comes first, so
//! the whole run stays within a few minutes. The server's rate limits are raised (every client
//! is 127.0.0.1) and unanswered consent requests are kept pending, so that redeemed sessions
//! nobody answers are not written back in the middle of a later measurement. Clients and server
//! share one Tokio runtime and the machine's cores. The result is a Markdown table on stdout.
//!
//! Run with `cargo bench -p signaling-server --bench signaling`.

use futures_util::{SinkExt, StreamExt};
use protocol::api::{
    CreateInvitationRequest, InvitationCreated, RedeemRequest, RedeemResponse,
    RegisterAgentRequest, RegisterAgentResponse,
};
use protocol::ids::SessionId;
use protocol::signal::{
    AgentToServer, ConsentState, ExpertToServer, ServerToAgent, ServerToExpert, Signal,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use signaling_server::clock::Clock;
use signaling_server::config::ServerConfig;
use signaling_server::state::AppState;
use signaling_server::store::Store;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Longest an HTTP step may run.
const STEP_TIME: Duration = Duration::from_secs(5);
/// Longest the relay pairs may take to set up.
const SETUP_TIME: Duration = Duration::from_secs(45);
/// Requests in flight while setting up relay pairs.
const SETUP_CONCURRENCY: usize = 16;
/// Relay: frames sent during the warm-up are relayed but not counted.
const RELAY_WARM_UP: Duration = Duration::from_millis(500);
const RELAY_MEASURE: Duration = Duration::from_secs(3);
/// Pairs relaying at once in each relay step (the first N of the pairs set up).
const RELAY_PAIRS: [usize; 3] = [1, 100, 1000];
/// Longest wait for one expected frame before the pair counts as failed.
const FRAME_TIMEOUT: Duration = Duration::from_secs(10);
const PASSWORD: &str = "correct horse battery staple";
/// The body of the relayed offer: a typical one-video-track offer (about 700 bytes once sent).
const OFFER_BODY: &str = "s=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=msid-semantic: WMS\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n\
a=ice-ufrag:Fq3b\r\na=ice-pwd:Xq2tF9aJ0c7vL1mN4pR6sT8u\r\na=ice-options:trickle\r\n\
a=fingerprint:sha-256 3A:5F:9C:21:7B:44:E0:D2:8A:1F:6C:93:B5:07:E4:2D:\
C8:59:10:AF:36:7E:D1:4B:92:05:6A:F3:88:2C:BE:71\r\na=setup:actpass\r\na=mid:0\r\n\
a=sendonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack pli\r\n\
a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n";
/// SDP attribute carrying the send time, in nanoseconds since the benchmark started.
const SENT_ATTRIBUTE: &str = "a=x-sent-ns:";

/// One HTTP step: how many requests, how many in flight, and the password if any.
struct Step {
    concurrency: usize,
    count: usize,
    password: Option<&'static str>,
}

static INVITATION_STEPS: [Step; 4] = [
    Step {
        concurrency: 1,
        count: 1_000,
        password: None,
    },
    Step {
        concurrency: 16,
        count: 2_000,
        password: None,
    },
    Step {
        concurrency: 1,
        count: 40,
        password: Some(PASSWORD),
    },
    Step {
        concurrency: 16,
        count: 80,
        password: Some(PASSWORD),
    },
];

#[tokio::main]
async fn main() {
    let started = Instant::now();
    let mut rows = Vec::new();
    let sqlite_dir = tempfile::tempdir().expect("create a temporary directory for SQLite");
    let sqlite_url = format!(
        "sqlite://{}?mode=rwc",
        sqlite_dir.path().join("assist.db").display()
    );
    rows.extend(bench_backend("SQLite", &sqlite_url, started).await);

    let admin = std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    match create_postgres_database(&admin).await {
        Ok((url, name)) => {
            rows.extend(bench_backend("PostgreSQL", &url, started).await);
            drop_postgres_database(&admin, &name).await;
        }
        Err(err) => println!("Note: PostgreSQL skipped, {err}\n"),
    }
    print_table(&rows);
    println!("\nTotal run time: {:.0} s", started.elapsed().as_secs_f64());
}

/// Every measurement on one database.
async fn bench_backend(backend: &'static str, database_url: &str, started: Instant) -> Vec<Row> {
    eprintln!("{backend}: starting the server");
    let server = Server::start(database_url).await;
    let api = Api {
        base: server.base.clone(),
        http: reqwest::Client::new(),
    };
    let token = api
        .register("Bench novice")
        .await
        .expect("register the benchmark's agent");
    let mut rows = Vec::new();

    let mut pools = Vec::new();
    for step in &INVITATION_STEPS {
        eprintln!(
            "{backend}: creating invitations, {} in flight",
            step.concurrency
        );
        let (api, token) = (api.clone(), token.clone());
        let (m, created) = load(step.concurrency, step.count, STEP_TIME, move |_| {
            let (api, token) = (api.clone(), token.clone());
            async move { api.invite(&token, step.password).await }
        })
        .await;
        rows.push(Row::http(backend, "create invitation", step, m));
        let codes: Vec<String> = created.into_iter().map(|inv| inv.code).collect();
        pools.push((step, Arc::new(codes)));
    }
    for (step, codes) in pools {
        eprintln!(
            "{backend}: redeeming invitations, {} in flight",
            step.concurrency
        );
        let api = api.clone();
        let (m, _) = load(step.concurrency, codes.len(), STEP_TIME, move |i| {
            let (api, codes) = (api.clone(), codes.clone());
            async move { api.redeem(&codes[i], step.password).await }
        })
        .await;
        rows.push(Row::http(backend, "redeem invitation", step, m));
    }

    let max_pairs = RELAY_PAIRS.iter().copied().max().unwrap_or(0);
    eprintln!("{backend}: setting up {max_pairs} agent/expert pairs");
    let ws_base = server.ws_base.clone();
    let (m, mut pairs) = load(SETUP_CONCURRENCY, max_pairs, SETUP_TIME, move |i| {
        open_pair(api.clone(), ws_base.clone(), i)
    })
    .await;
    rows.push(Row {
        backend,
        operation: "open pair: register, connect, invite, redeem, accept".into(),
        clients: format!("{SETUP_CONCURRENCY} in flight"),
        unit: "pairs/s",
        m,
    });
    for n in RELAY_PAIRS {
        let n = n.min(pairs.len());
        eprintln!("{backend}: relaying through {n} pairs");
        let rest = pairs.split_off(n);
        let (m, back) = relay(pairs, started).await;
        pairs = back;
        pairs.extend(rest);
        rows.push(Row {
            backend,
            operation: "relay signal, agent to expert".into(),
            clients: format!("{n} pairs"),
            unit: "frames/s",
            m,
        });
    }
    drop(pairs);
    server.stop().await;
    rows
}

/// The server, running on a loopback port.
struct Server {
    base: String,
    ws_base: String,
    store: Store,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(database_url: &str) -> Self {
        let mut config = ServerConfig::defaults();
        config.redeem_per_minute = 1_000_000;
        config.register_per_minute = 1_000_000;
        config.consent_timeout_secs = 3_600;
        let store = Store::connect(database_url)
            .await
            .expect("open and migrate the database");
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("address of the bound port");
        let public: url::Url = format!("http://{addr}")
            .parse()
            .expect("loopback address as a URL");
        let state = AppState::new(&config, store.clone(), &public, Clock::default())
            .await
            .expect("build the server state");
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(signaling_server::serve(listener, state, async {
            let _ = stopped.await;
        }));
        Self {
            base: format!("http://{addr}"),
            ws_base: format!("ws://{addr}"),
            store,
            shutdown,
            task,
        }
    }

    /// Graceful shutdown, waiting at most ten seconds for it.
    async fn stop(self) {
        let _ = self.shutdown.send(());
        match tokio::time::timeout(Duration::from_secs(10), self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(err))) => eprintln!("the server stopped with an error: {err}"),
            Ok(Err(err)) => eprintln!("the server task failed: {err}"),
            Err(_) => eprintln!("the server did not stop within 10 s"),
        }
        self.store.close().await;
    }
}

/// Creates `bench_<random>` next to the database of the admin URL; returns its URL and name.
async fn create_postgres_database(admin: &str) -> Result<(String, String), String> {
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(admin)
        .await
        .map_err(|e| format!("cannot connect to {admin}: {e}"))?;
    let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .map_err(|e| format!("cannot create a database: {e}"))?;
    let base = admin.rsplit_once('/').map_or(admin, |(base, _)| base);
    Ok((format!("{base}/{name}"), name))
}

async fn drop_postgres_database(admin: &str, name: &str) {
    let dropped = match <sqlx::AnyConnection as sqlx::Connection>::connect(admin).await {
        Ok(mut conn) => sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .map(drop),
        Err(err) => Err(err),
    };
    if let Err(err) = dropped {
        eprintln!("could not drop the benchmark database {name}: {err}");
    }
}

/// HTTP client of the JSON API.
#[derive(Clone)]
struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    /// POSTs JSON; a status other than 2xx is an error carrying the response body.
    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        body: &impl Serialize,
    ) -> Result<T, String> {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.map_err(|e| format!("POST {path}: {e}"))?;
        let status = res.status();
        let text = res.text().await.map_err(|e| format!("POST {path}: {e}"))?;
        if !status.is_success() {
            return Err(format!("POST {path}: {status}: {text}"));
        }
        serde_json::from_str(&text).map_err(|e| format!("POST {path}: {e}: {text}"))
    }

    /// Registers an agent and returns its bearer token.
    async fn register(&self, name: &str) -> Result<String, String> {
        let req = RegisterAgentRequest { name: name.into() };
        let reg: RegisterAgentResponse = self.post("/api/agents", None, &req).await?;
        Ok(reg.agent_token)
    }

    async fn invite(
        &self,
        token: &str,
        password: Option<&str>,
    ) -> Result<InvitationCreated, String> {
        let req = CreateInvitationRequest {
            expires_in_secs: None,
            password: password.map(str::to_string),
        };
        self.post("/api/invitations", Some(token), &req).await
    }

    async fn redeem(&self, code: &str, password: Option<&str>) -> Result<RedeemResponse, String> {
        let req = RedeemRequest {
            code: code.into(),
            password: password.map(str::to_string),
            expert_name: "Bench expert".into(),
        };
        self.post("/api/redeem", None, &req).await
    }
}

/// One agent and one expert connected to the same accepted session.
struct Pair {
    agent: Ws,
    expert: Ws,
    session: SessionId,
}

/// Registers agent `i`, connects it, creates and redeems an invitation, accepts the session on
/// the agent's side and connects the expert.
async fn open_pair(api: Api, ws_base: String, i: usize) -> Result<Pair, String> {
    let token = api.register(&format!("Novice {i}")).await?;
    let mut req = format!("{ws_base}/ws/agent")
        .into_client_request()
        .map_err(|e| format!("agent WebSocket request: {e}"))?;
    let bearer = format!("Bearer {token}")
        .parse()
        .map_err(|e| format!("authorization header: {e}"))?;
    req.headers_mut().insert("authorization", bearer);
    let (mut agent, _) = tokio_tungstenite::connect_async(req)
        .await
        .map_err(|e| format!("agent WebSocket: {e}"))?;
    wait_for(&mut agent, |m| matches!(m, ServerToAgent::Welcome { .. })).await?;

    let invitation = api.invite(&token, None).await?;
    let redeemed = api.redeem(&invitation.code, None).await?;
    let session = redeemed.session_id;
    wait_for(
        &mut agent,
        |m| matches!(m, ServerToAgent::SessionRequest { session_id, .. } if *session_id == session),
    )
    .await?;
    let consent = AgentToServer::Consent {
        session_id: session,
        accept: true,
    };
    send_json(&mut agent, &consent).await?;

    let (mut expert, _) = tokio_tungstenite::connect_async(format!("{ws_base}/ws/expert"))
        .await
        .map_err(|e| format!("expert WebSocket: {e}"))?;
    let hello = ExpertToServer::Hello {
        ticket: redeemed.ticket,
    };
    send_json(&mut expert, &hello).await?;
    // The expert may connect before the agent's answer is handled, and then hears `waiting`
    // first.
    wait_for(&mut expert, |m| {
        matches!(
            m,
            ServerToExpert::Consent {
                state: ConsentState::Accepted,
                ..
            }
        )
    })
    .await?;
    Ok(Pair {
        agent,
        expert,
        session,
    })
}

async fn send_json(ws: &mut Ws, msg: &impl Serialize) -> Result<(), String> {
    let text = serde_json::to_string(msg).map_err(|e| format!("encode a frame: {e}"))?;
    ws.send(Message::Text(text.into()))
        .await
        .map_err(|e| format!("send a frame: {e}"))
}

/// The next JSON text frame, within [`FRAME_TIMEOUT`].
async fn recv_json<T: DeserializeOwned>(ws: &mut Ws) -> Result<T, String> {
    loop {
        let frame = tokio::time::timeout(FRAME_TIMEOUT, ws.next())
            .await
            .map_err(|_| format!("no frame within {FRAME_TIMEOUT:?}"))?;
        match frame {
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(text.as_str())
                    .map_err(|e| format!("unexpected frame {text}: {e}"))
            }
            Some(Ok(Message::Close(_))) | None => return Err("the server closed the socket".into()),
            Some(Err(err)) => return Err(format!("WebSocket error: {err}")),
            Some(Ok(_)) => continue,
        }
    }
}

/// Reads frames until one matches.
async fn wait_for<T: DeserializeOwned>(
    ws: &mut Ws,
    wanted: impl Fn(&T) -> bool,
) -> Result<T, String> {
    loop {
        let msg = recv_json(ws).await?;
        if wanted(&msg) {
            return Ok(msg);
        }
    }
}

/// Runs `op(0..count)` with `concurrency` requests in flight until all are done or
/// `time_limit` has passed; returns the latencies and what the successful calls returned.
async fn load<T, F, Fut>(
    concurrency: usize,
    count: usize,
    time_limit: Duration,
    op: F,
) -> (Measurement, Vec<T>)
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<T, String>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + time_limit;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (next, op) = (next.clone(), op.clone());
            tokio::spawn(async move {
                let mut m = Measurement::default();
                let mut values = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count || Instant::now() >= deadline {
                        return (m, values);
                    }
                    let began = Instant::now();
                    match op(i).await {
                        Ok(value) => {
                            m.latencies.push(began.elapsed());
                            values.push(value);
                        }
                        Err(err) => m.failed(err),
                    }
                }
            })
        })
        .collect();
    let mut total = Measurement::default();
    let mut values = Vec::new();
    for worker in workers {
        let (m, v) = worker.await.expect("a load worker panicked");
        total.merge(m);
        values.extend(v);
    }
    total.finish(start.elapsed());
    (total, values)
}

/// Every pair relays agent-to-expert offers for [`RELAY_WARM_UP`] plus [`RELAY_MEASURE`];
/// frames sent after the warm-up count. Returns the pairs for the next step.
async fn relay(pairs: Vec<Pair>, started: Instant) -> (Measurement, Vec<Pair>) {
    let counted_from = started.elapsed() + RELAY_WARM_UP;
    let until = counted_from + RELAY_MEASURE;
    let tasks: Vec<_> = pairs
        .into_iter()
        .map(|pair| tokio::spawn(relay_pair(pair, started, counted_from, until)))
        .collect();
    let mut total = Measurement::default();
    let mut pairs = Vec::new();
    for task in tasks {
        let (pair, m) = task.await.expect("a relay task panicked");
        total.merge(m);
        pairs.push(pair);
    }
    total.finish(RELAY_MEASURE);
    (total, pairs)
}

/// One pair's closed loop: the agent sends an offer stamped with the time, the expert reads it,
/// then the next one. Times are offsets from `started`.
async fn relay_pair(
    mut pair: Pair,
    started: Instant,
    counted_from: Duration,
    until: Duration,
) -> (Pair, Measurement) {
    let mut m = Measurement::default();
    for seq in 0u64.. {
        let sent = started.elapsed();
        if sent >= until {
            break;
        }
        let msg = AgentToServer::Signal {
            session_id: pair.session,
            signal: Signal::Offer {
                sdp: format!(
                    "v=0\r\no=- {seq} 2 IN IP4 127.0.0.1\r\n{SENT_ATTRIBUTE}{}\r\n{OFFER_BODY}",
                    sent.as_nanos()
                ),
            },
        };
        if let Err(err) = send_json(&mut pair.agent, &msg).await {
            m.failed(err);
            break;
        }
        match recv_json::<ServerToExpert>(&mut pair.expert).await {
            Ok(ServerToExpert::Signal {
                signal: Signal::Offer { sdp },
            }) => match sent_at(&sdp) {
                Some(at) if at >= counted_from => m.latencies.push(started.elapsed() - at),
                Some(_) => {}
                None => {
                    m.failed(format!("no send time in the relayed SDP: {sdp}"));
                    break;
                }
            },
            Ok(other) => {
                m.failed(format!("unexpected frame for the expert: {other:?}"));
                break;
            }
            Err(err) => {
                m.failed(err);
                break;
            }
        }
    }
    (pair, m)
}

/// The send time written by [`relay_pair`] into the SDP.
fn sent_at(sdp: &str) -> Option<Duration> {
    let line = sdp.lines().find_map(|l| l.strip_prefix(SENT_ATTRIBUTE))?;
    line.trim().parse().ok().map(Duration::from_nanos)
}

/// Latencies of the successful operations of one step, and its failures.
#[derive(Default)]
struct Measurement {
    latencies: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
    elapsed: Duration,
}

impl Measurement {
    fn failed(&mut self, err: String) {
        self.errors += 1;
        self.first_error.get_or_insert(err);
    }

    fn merge(&mut self, other: Measurement) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// Sorts the latencies for [`Measurement::percentile`].
    fn finish(&mut self, elapsed: Duration) {
        self.latencies.sort_unstable();
        self.elapsed = elapsed;
    }

    /// Successful operations per second.
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// Nearest-rank percentile, `q` in (0, 1]; zero when nothing succeeded.
    fn percentile(&self, q: f64) -> Duration {
        let n = self.latencies.len();
        if n == 0 {
            return Duration::ZERO;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        self.latencies[rank - 1]
    }
}

/// One line of the result table.
struct Row {
    backend: &'static str,
    operation: String,
    clients: String,
    unit: &'static str,
    m: Measurement,
}

impl Row {
    fn http(backend: &'static str, operation: &str, step: &Step, m: Measurement) -> Self {
        let password = if step.password.is_some() {
            ", password"
        } else {
            ""
        };
        Self {
            backend,
            operation: format!("{operation}{password}"),
            clients: format!("{} in flight", step.concurrency),
            unit: "req/s",
            m,
        }
    }
}

fn print_table(rows: &[Row]) {
    let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1e3);
    println!(
        "| Backend | Operation | Load | Done | Errors | Throughput | p50 ms | p99 ms | max ms |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let m = &row.m;
        println!(
            "| {} | {} | {} | {} | {} | {:.0} {} | {} | {} | {} |",
            row.backend,
            row.operation,
            row.clients,
            m.latencies.len(),
            m.errors,
            m.rate(),
            row.unit,
            ms(m.percentile(0.5)),
            ms(m.percentile(0.99)),
            ms(m.percentile(1.0)),
        );
    }
    for row in rows {
        if let Some(err) = &row.m.first_error {
            println!(
                "\nFirst error of \"{}\" ({}, {}): {err}",
                row.operation, row.backend, row.clients
            );
        }
    }
}
