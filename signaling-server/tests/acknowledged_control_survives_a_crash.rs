//! What the server acknowledges is in the database: the server process is killed with
//! SIGKILL right after it acknowledged a grant of remote control, and after that the grant is
//! in the audit log and `signaling-server audit verify` finds the chain intact.

mod common;

use common::{
    agent_ws_at, expect_type, expert_ws_at, send, server_command, Backend, Client, TestDb,
};
use protocol::api::{CreateInvitationRequest, RedeemResponse, RegisterAgentResponse};
use serde_json::json;
use signaling_server::store::Store;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// Starts the server binary on a free loopback port and returns it with its base URL.
async fn start_server(db: &TestDb) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_signaling-server"))
        .args(["--listen", "127.0.0.1:0", "--no-embedded-turn"])
        .args(db.cli_args())
        .env_remove("DATABASE_URL")
        .env_remove("ASSIST_DATA_DIR")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start signaling-server");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if line.contains("listening on") {
                return line.rsplit(' ').next().map(str::to_string);
            }
        }
        None
    })
    .await
    .expect("the server starts within 30 s")
    .expect("the server prints its address");
    (child, url.trim_end_matches('/').to_string())
}

async fn an_acknowledged_control_grant_survives_kill_9(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (mut server, base) = start_server(&db).await;
    let ws_base = base.replacen("http", "ws", 1);
    let anyone = Client {
        base: base.clone(),
        http: reqwest::Client::new(),
        token: None,
    };
    let (status, reg) = anyone
        .post::<RegisterAgentResponse>("/api/agents", &json!({"name": "Alice"}))
        .await;
    assert_eq!(status, 201);
    let reg = reg.expect("registration");
    let alice = Client {
        token: Some(reg.agent_token),
        ..anyone.clone()
    };
    let mut agent = agent_ws_at(&ws_base, &alice, "").await.expect("agent ws");
    expect_type(&mut agent, "welcome").await;
    let inv = alice.invite(&CreateInvitationRequest::default()).await;
    let (status, body) = anyone.redeem(&inv.code).await;
    assert_eq!(status, 200, "{body}");
    let redeemed: RedeemResponse = serde_json::from_value(body).expect("redeem");
    let session = redeemed.session_id.to_string();
    expect_type(&mut agent, "session_request").await;
    let mut expert = expert_ws_at(&ws_base, &redeemed.ticket, None).await;
    assert_eq!(
        expect_type(&mut expert, "consent").await["state"],
        "waiting"
    );
    send(
        &mut agent,
        &json!({"type": "consent", "session_id": session, "accept": true}),
    )
    .await;
    assert_eq!(
        expect_type(&mut expert, "consent").await["state"],
        "accepted"
    );

    send(
        &mut agent,
        &json!({"type": "control", "session_id": session, "event": "granted"}),
    )
    .await;
    let ack = expect_type(&mut agent, "control_recorded").await;
    assert_eq!(ack["event"], "granted");
    server.start_kill().expect("SIGKILL");
    server.wait().await.expect("the server is gone");

    let verify = server_command(&db, &["audit", "verify"]).await;
    assert!(
        verify.status.success(),
        "audit verify: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let store = Store::connect(&db.url).await.expect("reopen");
    let audit = store.audit_for_agent(reg.agent_id).await.expect("audit");
    let kinds: Vec<&str> = audit
        .iter()
        .filter(|e| e.session.as_deref() == Some(session.as_str()))
        .map(|e| e.kind.as_str())
        .collect();
    assert!(kinds.contains(&"session_accepted"), "{kinds:?}");
    assert!(kinds.contains(&"control_granted"), "{kinds:?}");
    store.close().await;
    db.cleanup().await;
}
both_backends!(
    an_acknowledged_control_grant_survives_kill_9,
    an_acknowledged_control_grant_survives_kill_9
);
