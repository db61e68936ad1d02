//! Harness for the server's tests: a real server on a loopback port, on SQLite in a temporary
//! directory or on a fresh PostgreSQL database, with real HTTP and WebSocket clients.

#![allow(dead_code)] // each test binary uses a different part of the harness

use futures_util::{SinkExt, StreamExt};
use protocol::api::{
    CreateInvitationRequest, IceServer, InvitationCreated, RedeemRequest, RedeemResponse,
    RegisterAgentResponse,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use signaling_server::clock::Clock;
use signaling_server::config::ServerConfig;
use signaling_server::state::AppState;
use signaling_server::store::Store;
use signaling_server::turn::live::LiveSessions;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Which database a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async test body once per backend: `both_backends!(name, body_fn)`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:path) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                $body(common::Backend::Sqlite).await;
            }
            #[tokio::test]
            async fn postgres() {
                $body(common::Backend::Postgres).await;
            }
        }
    };
}

/// A database that outlives server restarts within one test.
pub struct TestDb {
    pub url: String,
    dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("assist.db").display()
                );
                Self {
                    url,
                    dir: Some(dir),
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                sqlx::any::install_default_drivers();
                let admin = postgres_admin_url();
                let name = format!("assist_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
                    .await
                    .expect("PostgreSQL must be reachable at TEST_POSTGRES_URL or 127.0.0.1:5432");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                Self {
                    url: format!("{base}/{name}"),
                    dir: None,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// The directory holding an SQLite test database, as `--data-dir` names it.
    pub fn sqlite_dir(&self) -> Option<&std::path::Path> {
        self.dir.as_ref().map(tempfile::TempDir::path)
    }

    /// Options giving a `signaling-server` command this database.
    pub fn cli_args(&self) -> Vec<String> {
        match self.sqlite_dir() {
            Some(dir) => vec!["--data-dir".into(), dir.display().to_string()],
            None => vec!["--database-url".into(), self.url.clone()],
        }
    }

    /// Drops a PostgreSQL test database (SQLite's directory goes with the value).
    pub async fn cleanup(self) {
        if let Some(name) = &self.pg_name {
            if let Ok(mut conn) =
                <sqlx::AnyConnection as sqlx::Connection>::connect(&postgres_admin_url()).await
            {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        }
    }
}

/// A running server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    pub ws_base: String,
    pub clock: Clock,
    pub state: AppState,
    pub store: Store,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start(db: &TestDb) -> Self {
        Self::start_with(db, ServerConfig::defaults()).await
    }

    pub async fn start_with(db: &TestDb, config: ServerConfig) -> Self {
        Self::start_with_turn(db, config, LiveSessions::default()).await
    }

    /// A server that tells `turn_sessions` (an embedded TURN service's) which sessions are live.
    pub async fn start_with_turn(
        db: &TestDb,
        config: ServerConfig,
        turn_sessions: LiveSessions,
    ) -> Self {
        let store = Store::connect(&db.url).await.expect("open database");
        let clock = Clock::default();
        store
            .release_stale_sessions(clock.now())
            .await
            .expect("release stale sessions");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let base = format!("http://{addr}");
        let public: url::Url = match &config.public_url {
            Some(url) => url.clone(),
            None => base.parse().expect("url"),
        };
        let state = AppState::new(
            &config,
            store.clone(),
            &public,
            clock.clone(),
            turn_sessions,
        )
        .await
        .expect("state");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(signaling_server::serve(listener, state.clone(), async {
            let _ = rx.await;
        }));
        Self {
            addr,
            ws_base: format!("ws://{addr}"),
            base,
            clock,
            state,
            store,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Graceful shutdown; waits until the server has stopped.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        self.store.close().await;
    }

    pub fn client(&self) -> Client {
        Client {
            base: self.base.clone(),
            http: reqwest::Client::new(),
            token: None,
        }
    }

    /// A client whose connections leave from `source`, a loopback address such as 127.0.0.2.
    pub fn client_from(&self, source: IpAddr) -> Client {
        client_at(&self.base, source)
    }

    /// Registers a new agent and returns a client authenticated as it.
    pub async fn agent(&self, name: &str) -> Client {
        self.register(self.client(), name).await
    }

    /// Registers a new agent from `source` and returns a client of that address authenticated
    /// as it.
    pub async fn agent_from(&self, name: &str, source: IpAddr) -> Client {
        self.register(self.client_from(source), name).await
    }

    async fn register(&self, c: Client, name: &str) -> Client {
        let (status, body) = c
            .post::<RegisterAgentResponse>("/api/agents", &serde_json::json!({ "name": name }))
            .await;
        assert_eq!(status, 201, "register agent");
        let reg = body.expect("registration body");
        Client {
            token: Some(reg.agent_token),
            ..c
        }
    }
}

/// A client of the server at `base` whose connections leave from `source`.
pub fn client_at(base: &str, source: IpAddr) -> Client {
    Client {
        base: base.to_string(),
        http: reqwest::Client::builder()
            .local_address(source)
            .no_proxy()
            .build()
            .expect("HTTP client"),
        token: None,
    }
}

/// An HTTP client, optionally authenticated as an agent.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub token: Option<String>,
}

impl Client {
    fn auth(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// POST JSON; returns the status and the parsed body when it parses as `T`.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> (u16, Option<T>) {
        let res = self
            .auth(self.http.post(format!("{}{path}", self.base)).json(body))
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        (status, serde_json::from_str(&text).ok())
    }

    /// POST and return status plus raw JSON (for error bodies).
    pub async fn post_json(&self, path: &str, body: &impl Serialize) -> (u16, serde_json::Value) {
        let (status, v) = self.post::<serde_json::Value>(path, body).await;
        (status, v.unwrap_or(serde_json::Value::Null))
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let res = self
            .auth(self.http.get(format!("{}{path}", self.base)))
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn invite(&self, req: &CreateInvitationRequest) -> InvitationCreated {
        let (status, body) = self
            .post::<InvitationCreated>("/api/invitations", req)
            .await;
        assert_eq!(status, 201, "create invitation");
        body.expect("invitation body")
    }

    pub async fn redeem(&self, code: &str) -> (u16, serde_json::Value) {
        self.post_json(
            "/api/redeem",
            &RedeemRequest {
                code: code.into(),
                expert_name: "Bob the expert".into(),
            },
        )
        .await
    }

    /// The agent reports `failed_attempts` failed password checks of invitation `id`, locked or
    /// not, as `agent` does after each failed check.
    pub async fn report_failures(
        &self,
        id: protocol::ids::InvitationId,
        failed_attempts: u32,
        locked: bool,
    ) -> (u16, serde_json::Value) {
        self.post_json(
            &format!("/api/invitations/{id}/failures"),
            &protocol::api::FailedChecks {
                failed_attempts,
                locked,
            },
        )
        .await
    }
}

impl Client {
    /// The id of the agent this client is authenticated as (the first part of its token).
    pub fn agent_id(&self) -> protocol::ids::AgentId {
        self.token
            .as_deref()
            .and_then(|t| t.split('.').next())
            .expect("agent token")
            .parse()
            .expect("agent id")
    }
}

/// Runs `signaling-server <args>` on `db`, as an operator would, and returns its output.
pub async fn server_command(db: &TestDb, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_signaling-server"))
        .args(args)
        .args(db.cli_args())
        .env_remove("DATABASE_URL")
        .env_remove("ASSIST_DATA_DIR")
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run signaling-server")
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens the agent's WebSocket with its bearer token.
pub async fn agent_ws(server: &TestServer, client: &Client) -> Ws {
    agent_ws_with(server, client, "").await.expect("agent ws")
}

/// Opens an agent WebSocket with `query` (such as `?invitation=ID`) on its address.
pub async fn agent_ws_with(
    server: &TestServer,
    client: &Client,
    query: &str,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    agent_ws_at(&server.ws_base, client, query).await
}

/// Opens an agent WebSocket on the server at `ws_base` (`ws://host:port`).
pub async fn agent_ws_at(
    ws_base: &str,
    client: &Client,
    query: &str,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut req = format!("{ws_base}/ws/agent{query}")
        .into_client_request()
        .expect("request");
    let token = client.token.as_deref().expect("agent token");
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

/// Opens an expert WebSocket and presents `ticket`.
pub async fn expert_ws(server: &TestServer, ticket: &str) -> Ws {
    expert_ws_at(&server.ws_base, ticket, None).await
}

/// Opens an expert WebSocket on the server at `ws_base` and presents `ticket`, with the
/// page's `resume` secret if given.
pub async fn expert_ws_at(ws_base: &str, ticket: &str, resume: Option<&str>) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{ws_base}/ws/expert"))
        .await
        .expect("expert ws");
    let mut hello = serde_json::json!({"type": "hello", "ticket": ticket});
    if let Some(resume) = resume {
        hello["resume"] = resume.into();
    }
    send(&mut ws, &hello).await;
    ws
}

/// A TCP connection to the server from `source`, a loopback address such as 127.0.0.2.
pub async fn tcp_from(server: SocketAddr, source: IpAddr) -> std::io::Result<TcpStream> {
    let socket = match source {
        IpAddr::V4(_) => TcpSocket::new_v4()?,
        IpAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.bind(SocketAddr::new(source, 0))?;
    socket.connect(server).await
}

/// Opens a WebSocket at `path` from `source`, with the bearer `token` if given.
pub async fn ws_from(
    server: SocketAddr,
    source: IpAddr,
    path: &str,
    token: Option<&str>,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut req = format!("ws://{server}{path}")
        .into_client_request()
        .expect("request");
    if let Some(token) = token {
        req.headers_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
    }
    let stream = tcp_from(server, source).await?;
    tokio_tungstenite::client_async(req, MaybeTlsStream::Plain(stream))
        .await
        .map(|(ws, _)| ws)
}

pub async fn send(ws: &mut Ws, msg: &impl Serialize) {
    let text = serde_json::to_string(msg).expect("json");
    ws.send(Message::Text(text.into())).await.expect("send");
}

/// Next JSON frame, or None if the connection closed. Panics after 10 s of silence.
pub async fn recv(ws: &mut Ws) -> Option<serde_json::Value> {
    recv_within(ws, Duration::from_secs(10))
        .await
        .expect("a frame within 10 s")
}

/// Next JSON frame within `wait`: Err on timeout, Ok(None) when closed.
pub async fn recv_within(ws: &mut Ws, wait: Duration) -> Result<Option<serde_json::Value>, ()> {
    loop {
        match tokio::time::timeout(wait, ws.next()).await {
            Err(_) => return Err(()),
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return Ok(None),
            Ok(Some(Ok(Message::Text(t)))) => {
                return Ok(Some(
                    serde_json::from_str(t.as_str()).expect("server sent JSON"),
                ))
            }
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// Next frame whose `type` is not `pong`, asserting its type.
pub async fn expect_type(ws: &mut Ws, ty: &str) -> serde_json::Value {
    let frame = recv(ws)
        .await
        .unwrap_or_else(|| panic!("closed while waiting for {ty}"));
    assert_eq!(frame["type"], ty, "unexpected frame {frame}");
    frame
}

/// A connection of its own to the test database, for changing it behind the server's back.
pub async fn raw_connection(db: &TestDb) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url)
        .await
        .expect("connect to the test database")
}

/// Runs one SQL statement on `conn`, returning the database's refusal if any.
pub async fn exec(conn: &mut sqlx::AnyConnection, sql: &str) -> Result<u64, sqlx::Error> {
    sqlx::query(sql)
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected())
}

/// Removes the triggers that keep audit events from being changed or deleted, as someone with
/// direct access to the database could.
pub async fn drop_audit_triggers(db: &TestDb, backend: Backend) {
    let mut conn = raw_connection(db).await;
    for trigger in ["audit_events_refuse_update", "audit_events_refuse_delete"] {
        let sql = match backend {
            Backend::Sqlite => format!("DROP TRIGGER {trigger}"),
            Backend::Postgres => format!("DROP TRIGGER {trigger} ON audit_events"),
        };
        exec(&mut conn, &sql).await.expect("drop trigger");
    }
}

/// Appends `count` events, one transaction each, with details `prefix 0`, `prefix 1`, …
pub async fn append_events(store: &Store, prefix: &str, count: usize, now: i64) {
    for i in 0..count {
        let detail = format!("{prefix} {i}");
        let mut writes = store.begin().await.expect("begin");
        writes
            .append_audit(
                signaling_server::store::AuditEvent {
                    kind: "test_event",
                    actor: "tester",
                    detail: &detail,
                    ..Default::default()
                },
                now,
            )
            .await
            .expect("append");
        writes.commit().await.expect("commit");
    }
}

/// What a sign-in to the desk answered: status, page, and the session cookie when signed in.
pub struct SignIn {
    pub status: u16,
    pub page: String,
    pub session_cookie: Option<String>,
}

/// Signs in to the desk at `base` as a browser at address `from` would: fetches the form, then
/// posts `login` and `password` with the form's token.
pub async fn desk_sign_in(
    base: &str,
    from: std::net::IpAddr,
    login: &str,
    password: &str,
) -> SignIn {
    let http = reqwest::Client::builder()
        .local_address(from)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let cookie = |res: &reqwest::Response, name: &str| {
        res.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix(&format!("{name}=")).map(str::to_string))
            .and_then(|v| v.split(';').next().map(str::to_string))
            .filter(|v| !v.is_empty())
    };
    let form = http
        .get(format!("{base}/desk/sign-in"))
        .send()
        .await
        .expect("sign-in form");
    let token = cookie(&form, "desk_sign_in").expect("form cookie");
    let res = http
        .post(format!("{base}/desk/sign-in"))
        .header("cookie", format!("desk_sign_in={token}"))
        .form(&[("login", login), ("password", password), ("csrf", &token)])
        .send()
        .await
        .expect("sign in");
    let session_cookie = cookie(&res, "desk_session");
    SignIn {
        status: res.status().as_u16(),
        session_cookie,
        page: res.text().await.unwrap_or_default(),
    }
}

/// An invitation redeemed, with the agent asked: the redeem response, the consent request's
/// servers, and both WebSockets.
pub async fn redeemed_session(server: &TestServer) -> (RedeemResponse, Vec<IceServer>, Ws, Ws) {
    let alice = server.agent("Alice").await;
    let mut agent = agent_ws(server, &alice).await;
    expect_type(&mut agent, "welcome").await;
    let invitation = alice.invite(&CreateInvitationRequest::default()).await;
    let (status, body) = server.client().redeem(&invitation.code).await;
    assert_eq!(status, 200, "{body}");
    let redeemed: RedeemResponse = serde_json::from_value(body).expect("redeem response");
    let request = expect_type(&mut agent, "session_request").await;
    let agent_servers: Vec<IceServer> =
        serde_json::from_value(request["ice_servers"].clone()).expect("agent's ice servers");
    let mut expert = expert_ws(server, &redeemed.ticket).await;
    let consent = expect_type(&mut expert, "consent").await;
    assert_eq!(consent["state"], "waiting");
    assert!(consent.get("ice_servers").is_none(), "{consent}");
    (redeemed, agent_servers, agent, expert)
}

/// The novice says yes; the expert's consent frame with its servers.
pub async fn accept(session: &RedeemResponse, agent: &mut Ws, expert: &mut Ws) -> Vec<IceServer> {
    send(
        agent,
        &serde_json::json!({"type": "consent", "session_id": session.session_id, "accept": true}),
    )
    .await;
    let consent = expect_type(expert, "consent").await;
    assert_eq!(consent["state"], "accepted");
    serde_json::from_value(consent["ice_servers"].clone()).expect("servers with the consent")
}

/// Whether a test may pass without running when a tool it needs is missing: only where the
/// environment says so (`ASSIST_ALLOW_SKIP=1`). Everywhere else, CI included, it fails.
pub fn skip_allowed() -> bool {
    std::env::var("ASSIST_ALLOW_SKIP").is_ok_and(|v| v == "1")
}
