//! Benchmark of the signaling server over real HTTP and WebSockets on the loopback interface.
//!
//! It starts the whole server in this process on `127.0.0.1:0`, first on SQLite in a temporary
//! directory, then on a fresh PostgreSQL database created under `TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) and dropped afterwards; PostgreSQL is skipped
//! with a note when it cannot be reached. With real clients it measures:
//! * on each database, invitation creation (`POST /api/invitations`) without and with a password
//!   (Argon2id), with 1 and 16 requests in flight, then redemption (`POST /api/redeem`) of the
//!   invitations just created, without a password and with the correct one;
//! * on SQLite only, as relaying never touches the database: setting up agent/expert pairs with
//!   accepted sessions, then the relay through the hub with N pairs at once. Each pair runs a
//!   closed loop: the agent sends an offer, its expert reads it and sends an answer, the agent
//!   reads the answer, then the next offer. Both one-way legs and the round trip are timed by
//!   the client, once it has read and parsed the frame, and each frame must arrive verbatim.
//!
//! Each HTTP step stops after a fixed number of requests or a time limit, whichever comes first,
//! so that the default run takes one to two minutes on two cores. The server's rate limits are
//! raised (every client is 127.0.0.1), and consent requests nobody answers are kept pending for
//! an hour, so that the sessions redeemed by the HTTP steps are not ended and written back
//! during a later measurement. Clients and server share one Tokio runtime and the machine's
//! cores. The result is a Markdown table on stdout; progress and the server's warnings go to
//! stderr.
//!
//! Environment, with defaults:
//! * `BENCH_STEP_SECS=4`: time limit of each HTTP step;
//! * `BENCH_SCALE=1`: multiplies the request count of each HTTP step;
//! * `BENCH_RELAY_SECS=3`: measured time of each relay step, after half a second of warm-up;
//! * `BENCH_PAIRS=1,100,1000`: pairs relaying at once in each relay step, empty for none
//!   (each pair holds four sockets in this process);
//! * `TEST_POSTGRES_URL`: the database next to which the benchmark's own is created;
//! * `TMPDIR`: where the SQLite database lives (on disk by default, as in production);
//! * `RUST_LOG=signaling_server=warn`: what gets logged.
//!
//! Run with `cargo bench -p signaling-server --bench signaling`.

use anyhow::{ensure, Context};
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
use std::str::FromStr;
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

/// Longest the relay pairs may take to set up.
const SETUP_TIME: Duration = Duration::from_secs(60);
/// Requests in flight while setting up relay pairs.
const SETUP_CONCURRENCY: usize = 16;
/// Relay: round trips started during the warm-up are relayed but not counted.
const RELAY_WARM_UP: Duration = Duration::from_millis(500);
/// Longest wait for one expected frame before the pair counts as failed.
const FRAME_TIMEOUT: Duration = Duration::from_secs(10);
const PASSWORD: &str = "correct horse battery staple";
/// The body of the relayed SDP: a typical one-video-track offer (a frame of about 650 bytes).
/// The expert answers with the same text, so both legs carry the same bytes.
const SDP_BODY: &str = "s=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=msid-semantic: WMS\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n\
a=ice-ufrag:Fq3b\r\na=ice-pwd:Xq2tF9aJ0c7vL1mN4pR6sT8u\r\na=ice-options:trickle\r\n\
a=fingerprint:sha-256 3A:5F:9C:21:7B:44:E0:D2:8A:1F:6C:93:B5:07:E4:2D:\
C8:59:10:AF:36:7E:D1:4B:92:05:6A:F3:88:2C:BE:71\r\na=setup:actpass\r\na=mid:0\r\n\
a=sendonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack pli\r\n\
a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n";

/// One HTTP step: how many requests at most, how many in flight, and the password if any.
struct Step {
    concurrency: usize,
    count: usize,
    password: Option<&'static str>,
}

impl Step {
    /// `what`, marked when the step uses a password.
    fn operation(&self, what: &str) -> String {
        let password = if self.password.is_some() {
            ", password"
        } else {
            ""
        };
        format!("{what}{password}")
    }
}

/// Each step creates invitations; the redemption step of the same index redeems them.
static HTTP_STEPS: [Step; 4] = [
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
        count: 100,
        password: Some(PASSWORD),
    },
    Step {
        concurrency: 16,
        count: 200,
        password: Some(PASSWORD),
    },
];

/// What the environment may change; see the module documentation.
struct Settings {
    step_time: Duration,
    scale: usize,
    relay_time: Duration,
    pairs: Vec<usize>,
    postgres_admin: String,
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let pairs = match std::env::var("BENCH_PAIRS") {
            Ok(list) => list
                .split(',')
                .filter(|n| !n.trim().is_empty())
                .map(|n| parse("BENCH_PAIRS", n))
                .collect::<anyhow::Result<_>>()?,
            Err(_) => vec![1, 100, 1000],
        };
        Ok(Self {
            step_time: Duration::from_secs(env_or("BENCH_STEP_SECS", 4)?),
            scale: env_or("BENCH_SCALE", 1)?,
            relay_time: Duration::from_secs(env_or("BENCH_RELAY_SECS", 3)?),
            pairs,
            postgres_admin: std::env::var("TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into()),
        })
    }
}

fn env_or<T: FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    match std::env::var(name) {
        Ok(value) => parse(name, &value),
        Err(_) => Ok(default),
    }
}

fn parse<T: FromStr>(name: &str, value: &str) -> anyhow::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    value
        .trim()
        .parse()
        .with_context(|| format!("{name}: cannot parse {value:?}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The server's own warnings and errors (a 500's cause, a dropped connection) go to stderr.
    // Not those of the session effects: stopping a server closes its database while thousands of
    // session endings are still queued, and each would log the closed pool.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "signaling_server=warn,signaling_server::session_effects=off",
        )
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let settings = Settings::from_env()?;
    let started = Instant::now();
    let sqlite_dir = tempfile::tempdir().context("create a temporary directory for SQLite")?;
    let sqlite_url = format!(
        "sqlite://{}?mode=rwc",
        sqlite_dir.path().join("assist.db").display()
    );
    let mut rows = bench_backend("SQLite", &sqlite_url, &settings, true).await?;

    match create_postgres_database(&settings.postgres_admin).await {
        Ok((url, name)) => {
            let result = bench_backend("PostgreSQL", &url, &settings, false).await;
            drop_postgres_database(&settings.postgres_admin, &name).await;
            rows.extend(result?);
        }
        Err(err) => println!("Note: PostgreSQL skipped: {err:#}\n"),
    }
    print_table(&rows);
    println!("\nTotal run time: {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Every measurement on one database, on a server of its own.
async fn bench_backend(
    backend: &'static str,
    database_url: &str,
    settings: &Settings,
    with_relay: bool,
) -> anyhow::Result<Vec<Row>> {
    eprintln!("{backend}: starting the server");
    let server = Server::start(database_url)
        .await
        .with_context(|| format!("start the server on {backend}"))?;
    let mut rows = Vec::new();
    let mut result = bench_http(backend, &server, settings, &mut rows).await;
    if result.is_ok() && with_relay {
        result = bench_relay(backend, &server, settings, &mut rows).await;
    }
    server.stop().await;
    result.map(|()| rows)
}

/// Creates invitations in every [`HTTP_STEPS`] step, then redeems them.
async fn bench_http(
    backend: &'static str,
    server: &Server,
    settings: &Settings,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let api = Api::new(&server.base)?;
    let token = api
        .register("Bench novice")
        .await
        .context("register the benchmark's agent")?;
    let mut created = Vec::new();
    for step in &HTTP_STEPS {
        eprintln!(
            "{backend}: {}, {} in flight",
            step.operation("create invitation"),
            step.concurrency
        );
        let (api, token) = (api.clone(), token.clone());
        let (m, invitations) = load(
            step.concurrency,
            step.count * settings.scale,
            settings.step_time,
            move |_| {
                let (api, token) = (api.clone(), token.clone());
                async move { api.invite(&token, step.password).await }
            },
        )
        .await?;
        rows.push(Row::http(backend, "create invitation", step, m));
        let codes: Vec<String> = invitations.into_iter().map(|inv| inv.code).collect();
        created.push(Arc::new(codes));
    }
    for (step, codes) in HTTP_STEPS.iter().zip(created) {
        eprintln!(
            "{backend}: {}, {} in flight",
            step.operation("redeem invitation"),
            step.concurrency
        );
        let api = api.clone();
        let (m, _) = load(
            step.concurrency,
            codes.len(),
            settings.step_time,
            move |i| {
                let (api, codes) = (api.clone(), codes.clone());
                async move { api.redeem(&codes[i], step.password).await }
            },
        )
        .await?;
        rows.push(Row::http(backend, "redeem invitation", step, m));
    }
    Ok(())
}

/// Sets up as many pairs as the largest relay step needs, then relays through the first N of
/// them for every N in the settings.
async fn bench_relay(
    backend: &'static str,
    server: &Server,
    settings: &Settings,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let Some(&max_pairs) = settings.pairs.iter().max() else {
        return Ok(());
    };
    eprintln!("{backend}: setting up {max_pairs} agent/expert pairs");
    let api = Api::new(&server.base)?;
    let ws_base = server.ws_base.clone();
    let (m, mut pairs) = load(SETUP_CONCURRENCY, max_pairs, SETUP_TIME, move |i| {
        open_pair(api.clone(), ws_base.clone(), i)
    })
    .await?;
    rows.push(Row {
        backend,
        operation: "open session: register, connect, invite, redeem, accept, connect".into(),
        load: format!("{SETUP_CONCURRENCY} in flight"),
        unit: "sessions/s",
        m,
    });
    for &wanted in &settings.pairs {
        let n = wanted.min(pairs.len());
        eprintln!("{backend}: relaying through {n} pairs");
        let rest = pairs.split_off(n);
        let (legs, back) = relay(pairs, settings.relay_time).await?;
        pairs = back;
        pairs.extend(rest);
        let load = format!("{n} pair{}", if n == 1 { "" } else { "s" });
        for (operation, unit, m) in [
            ("relay offer, agent to expert", "frames/s", legs.to_expert),
            ("relay answer, expert to agent", "frames/s", legs.to_agent),
            (
                "relay round trip, offer and answer",
                "round trips/s",
                legs.round_trip,
            ),
        ] {
            rows.push(Row {
                backend,
                operation: operation.into(),
                load: load.clone(),
                unit,
                m,
            });
        }
    }
    Ok(())
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
    async fn start(database_url: &str) -> anyhow::Result<Self> {
        let mut config = ServerConfig::defaults();
        config.redeem_per_minute = 1_000_000;
        config.register_per_minute = 1_000_000;
        config.consent_timeout_secs = 3_600;
        let store = Store::connect(database_url)
            .await
            .context("open and migrate the database")?;
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("bind a loopback port")?;
        let addr = listener.local_addr()?;
        let public: url::Url = format!("http://{addr}").parse()?;
        let state = AppState::new(&config, store.clone(), &public, Clock::default()).await?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(signaling_server::serve(listener, state, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            base: format!("http://{addr}"),
            ws_base: format!("ws://{addr}"),
            store,
            shutdown,
            task,
        })
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
async fn create_postgres_database(admin: &str) -> anyhow::Result<(String, String)> {
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(admin)
        .await
        .with_context(|| format!("cannot connect to {admin}"))?;
    let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .context("cannot create the benchmark's database")?;
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
    fn new(base: &str) -> anyhow::Result<Self> {
        // The server is on loopback: never go through a proxy named in the environment.
        let http = reqwest::Client::builder().no_proxy().build()?;
        Ok(Self {
            base: base.into(),
            http,
        })
    }

    /// POSTs JSON; a status other than 2xx is an error carrying the response body.
    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        body: &impl Serialize,
    ) -> anyhow::Result<T> {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.with_context(|| format!("POST {path}"))?;
        let status = res.status();
        let text = res.text().await.with_context(|| format!("POST {path}"))?;
        ensure!(status.is_success(), "POST {path}: {status}: {text}");
        serde_json::from_str(&text).with_context(|| format!("POST {path}: unexpected body {text}"))
    }

    /// Registers an agent and returns its bearer token.
    async fn register(&self, name: &str) -> anyhow::Result<String> {
        let req = RegisterAgentRequest { name: name.into() };
        let reg: RegisterAgentResponse = self.post("/api/agents", None, &req).await?;
        Ok(reg.agent_token)
    }

    async fn invite(
        &self,
        token: &str,
        password: Option<&str>,
    ) -> anyhow::Result<InvitationCreated> {
        let req = CreateInvitationRequest {
            expires_in_secs: None,
            password: password.map(str::to_string),
        };
        self.post("/api/invitations", Some(token), &req).await
    }

    async fn redeem(&self, code: &str, password: Option<&str>) -> anyhow::Result<RedeemResponse> {
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
async fn open_pair(api: Api, ws_base: String, i: usize) -> anyhow::Result<Pair> {
    let token = api.register(&format!("Novice {i}")).await?;
    let mut req = format!("{ws_base}/ws/agent").into_client_request()?;
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    let mut agent = connect(req).await.context("agent WebSocket")?;
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

    let req = format!("{ws_base}/ws/expert").into_client_request()?;
    let mut expert = connect(req).await.context("expert WebSocket")?;
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

/// Opens a WebSocket with Nagle's algorithm off, as browsers do.
async fn connect(
    req: tokio_tungstenite::tungstenite::handshake::client::Request,
) -> anyhow::Result<Ws> {
    let (ws, _) = tokio_tungstenite::connect_async_with_config(req, None, true).await?;
    Ok(ws)
}

async fn send_json(ws: &mut Ws, msg: &impl Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string(msg)?;
    ws.send(Message::Text(text.into()))
        .await
        .context("send a frame")
}

/// The next JSON text frame, within [`FRAME_TIMEOUT`].
async fn recv_json<T: DeserializeOwned>(ws: &mut Ws) -> anyhow::Result<T> {
    loop {
        let frame = tokio::time::timeout(FRAME_TIMEOUT, ws.next())
            .await
            .with_context(|| format!("no frame within {FRAME_TIMEOUT:?}"))?;
        match frame {
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(text.as_str())
                    .with_context(|| format!("unexpected frame {text}"))
            }
            Some(Ok(Message::Close(_))) | None => anyhow::bail!("the server closed the socket"),
            Some(Err(err)) => return Err(err).context("WebSocket error"),
            Some(Ok(_)) => continue,
        }
    }
}

/// Reads frames until one matches.
async fn wait_for<T: DeserializeOwned>(
    ws: &mut Ws,
    wanted: impl Fn(&T) -> bool,
) -> anyhow::Result<T> {
    loop {
        let msg = recv_json(ws).await?;
        if wanted(&msg) {
            return Ok(msg);
        }
    }
}

/// Runs `op(0..count)` with `concurrency` calls in flight until all are done or `time_limit`
/// has passed; returns the latencies and what the successful calls returned.
async fn load<T, F, Fut>(
    concurrency: usize,
    count: usize,
    time_limit: Duration,
    op: F,
) -> anyhow::Result<(Measurement, Vec<T>)>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<T>> + Send + 'static,
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
        let (m, v) = worker.await?;
        total.merge(m);
        values.extend(v);
    }
    total.finish(start.elapsed());
    Ok((total, values))
}

/// Timings of one relay step.
#[derive(Default)]
struct Legs {
    to_expert: Measurement,
    to_agent: Measurement,
    round_trip: Measurement,
}

/// Every pair runs round trips for [`RELAY_WARM_UP`] plus `measured`; those started after the
/// warm-up count. Returns the pairs for the next step.
async fn relay(pairs: Vec<Pair>, measured: Duration) -> anyhow::Result<(Legs, Vec<Pair>)> {
    let counted_from = Instant::now() + RELAY_WARM_UP;
    let until = counted_from + measured;
    let tasks: Vec<_> = pairs
        .into_iter()
        .map(|pair| tokio::spawn(relay_pair(pair, counted_from, until)))
        .collect();
    let mut total = Legs::default();
    let mut pairs = Vec::new();
    for task in tasks {
        let (pair, legs) = task.await?;
        total.to_expert.merge(legs.to_expert);
        total.to_agent.merge(legs.to_agent);
        total.round_trip.merge(legs.round_trip);
        pairs.push(pair);
    }
    for m in [
        &mut total.to_expert,
        &mut total.to_agent,
        &mut total.round_trip,
    ] {
        m.finish(measured);
    }
    Ok((total, pairs))
}

/// One pair's closed loop of round trips until `until`. A failure ends the pair's loop and is
/// counted against the round trip.
async fn relay_pair(mut pair: Pair, counted_from: Instant, until: Instant) -> (Pair, Legs) {
    let mut legs = Legs::default();
    for seq in 0u64.. {
        let sent = Instant::now();
        if sent >= until {
            break;
        }
        match round_trip(&mut pair, seq).await {
            Ok((at_expert, at_agent)) if sent >= counted_from => {
                legs.to_expert.latencies.push(at_expert - sent);
                legs.to_agent.latencies.push(at_agent - at_expert);
                legs.round_trip.latencies.push(at_agent - sent);
            }
            Ok(_) => {}
            Err(err) => {
                legs.round_trip.failed(err);
                break;
            }
        }
    }
    (pair, legs)
}

/// The agent sends offer `seq`, the expert reads it and answers, the agent reads the answer.
/// Returns when the expert and then the agent had their frame; each must be relayed verbatim.
async fn round_trip(pair: &mut Pair, seq: u64) -> anyhow::Result<(Instant, Instant)> {
    let sdp = format!("v=0\r\no=- {seq} 2 IN IP4 127.0.0.1\r\n{SDP_BODY}");
    let offer = Signal::Offer { sdp: sdp.clone() };
    let msg = AgentToServer::Signal {
        session_id: pair.session,
        signal: offer.clone(),
    };
    send_json(&mut pair.agent, &msg).await?;
    let got: ServerToExpert = recv_json(&mut pair.expert).await?;
    let at_expert = Instant::now();
    ensure!(
        got == ServerToExpert::Signal { signal: offer },
        "the expert got {got:?} instead of offer {seq}"
    );

    let answer = Signal::Answer { sdp };
    let msg = ExpertToServer::Signal {
        signal: answer.clone(),
    };
    send_json(&mut pair.expert, &msg).await?;
    let got: ServerToAgent = recv_json(&mut pair.agent).await?;
    let at_agent = Instant::now();
    let expected = ServerToAgent::Signal {
        session_id: pair.session,
        signal: answer,
    };
    ensure!(
        got == expected,
        "the agent got {got:?} instead of answer {seq}"
    );
    Ok((at_expert, at_agent))
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
    fn failed(&mut self, err: anyhow::Error) {
        self.errors += 1;
        self.first_error.get_or_insert_with(|| format!("{err:#}"));
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
    load: String,
    unit: &'static str,
    m: Measurement,
}

impl Row {
    fn http(backend: &'static str, operation: &str, step: &Step, m: Measurement) -> Self {
        Self {
            backend,
            operation: step.operation(operation),
            load: format!("{} in flight", step.concurrency),
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
            row.load,
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
                row.operation, row.backend, row.load
            );
        }
    }
}
