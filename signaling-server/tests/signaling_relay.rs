//! The signaling relay with real WebSocket clients: consent reaches the expert, negotiation
//! frames travel between the two members of a session and nobody else, and bad frames get error
//! frames without disturbing the other peer.

mod common;

use common::{
    agent_ws, agent_ws_with, expect_type, expert_ws, expert_ws_at, recv, recv_within, send,
    Backend, TestDb, TestServer,
};
use protocol::api::{CreateInvitationRequest, RedeemResponse};
use serde_json::json;
use signaling_server::signal::hub::{AGENT_GRACE_SECS, EXPERT_GRACE_SECS};
use signaling_server::signal::hub::{CONTROL_EVENTS_PER_WINDOW, CONTROL_WINDOW_SECS};
use std::time::{Duration, Instant};

struct Pair {
    server: TestServer,
    db: TestDb,
    agent: common::Ws,
    expert: common::Ws,
    session: String,
    alice: common::Client,
    invitation: String,
    ticket: String,
    /// The secret the expert's page was given on its first hello.
    resume: String,
}

/// Agent online, invitation redeemed, expert connected, novice asked (not yet answered).
async fn pending_pair(backend: Backend) -> Pair {
    pending_pair_with(backend, signaling_server::config::ServerConfig::defaults()).await
}

/// [`pending_pair`] on a server with `config`.
async fn pending_pair_with(
    backend: Backend,
    config: signaling_server::config::ServerConfig,
) -> Pair {
    let db = TestDb::new(backend).await;
    let server = TestServer::start_with(&db, config).await;
    let alice = server.agent("Alice").await;
    let mut agent = agent_ws(&server, &alice).await;
    let welcome = expect_type(&mut agent, "welcome").await;
    assert_eq!(welcome["agent_name"], "Alice");

    let inv = alice.invite(&CreateInvitationRequest::default()).await;
    let (status, body) = server.client().redeem(&inv.code).await;
    assert_eq!(status, 200, "{body}");
    let redeemed: RedeemResponse = serde_json::from_value(body).expect("redeem");

    let request = expect_type(&mut agent, "session_request").await;
    assert_eq!(request["expert_name"], "Bob the expert");
    assert_eq!(request["session_id"], redeemed.session_id.to_string());

    let mut expert = expert_ws(&server, &redeemed.ticket).await;
    let consent = expect_type(&mut expert, "consent").await;
    assert_eq!(consent["state"], "waiting");
    assert_eq!(consent["novice_name"], "Alice");
    let resume = consent["resume"]
        .as_str()
        .expect("the first consent frame carries a resume secret")
        .to_string();
    Pair {
        ticket: redeemed.ticket,
        resume,
        server,
        db,
        agent,
        expert,
        session: redeemed.session_id.to_string(),
        alice,
        invitation: inv.id.to_string(),
    }
}

/// Polls the invitation until it has `status` (session changes are stored asynchronously).
async fn wait_for_status(p: &Pair, status: &str) {
    for _ in 0..100 {
        let (_, one) = p
            .alice
            .get_json(&format!("/api/invitations/{}", p.invitation))
            .await;
        if one["status"] == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("invitation never became {status}");
}

async fn accept(p: &mut Pair) {
    send(
        &mut p.agent,
        &json!({"type": "consent", "session_id": p.session, "accept": true}),
    )
    .await;
    let consent = expect_type(&mut p.expert, "consent").await;
    assert_eq!(consent["state"], "accepted");
}

async fn relays_between_the_two_members(backend: Backend) {
    let mut p = pending_pair(backend).await;
    accept(&mut p).await;

    let offer = json!({"kind": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"});
    send(
        &mut p.agent,
        &json!({"type": "signal", "session_id": p.session, "signal": offer}),
    )
    .await;
    let got = expect_type(&mut p.expert, "signal").await;
    assert_eq!(got["signal"], offer);

    let cand = json!({"kind": "candidate", "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0});
    send(&mut p.expert, &json!({"type": "signal", "signal": cand})).await;
    let got = expect_type(&mut p.agent, "signal").await;
    assert_eq!(got["signal"], cand);
    assert_eq!(got["session_id"], p.session);

    // The expert hangs up: the agent is told, and the invitation is free again.
    send(&mut p.expert, &json!({"type": "hang_up"})).await;
    let ended = expect_type(&mut p.agent, "session_ended").await;
    assert_eq!(ended["reason"], "expert_hung_up");
    wait_for_status(&p, "open").await;

    p.server.stop().await;
    p.db.cleanup().await;
}
both_backends!(
    relays_between_the_two_members,
    relays_between_the_two_members
);

/// The server reads through a 4 KiB buffer: frames many times that size, mixed with small ones,
/// still arrive whole and in order, both ways.
#[tokio::test]
async fn frames_larger_than_the_read_buffer_arrive_whole() {
    let mut p = pending_pair(Backend::Sqlite).await;
    accept(&mut p).await;
    for (i, size) in [60_000, 10, 17_000, 4_096, 4_097, 60_000]
        .into_iter()
        .enumerate()
    {
        let sdp = format!("v=0\r\no=- {i} 1 IN IP4 127.0.0.1\r\n{}", "a".repeat(size));
        let offer = json!({"kind": "offer", "sdp": sdp});
        send(
            &mut p.agent,
            &json!({"type": "signal", "session_id": p.session, "signal": offer}),
        )
        .await;
        let got = expect_type(&mut p.expert, "signal").await;
        assert_eq!(got["signal"], offer, "offer {i}");
        let answer = json!({"kind": "answer", "sdp": sdp});
        send(&mut p.expert, &json!({"type": "signal", "signal": answer})).await;
        let got = expect_type(&mut p.agent, "signal").await;
        assert_eq!(got["signal"], answer, "answer {i}");
    }
    p.server.stop().await;
    p.db.cleanup().await;
}

#[tokio::test]
async fn declining_tells_the_expert_and_frees_the_invitation() {
    let mut p = pending_pair(Backend::Sqlite).await;
    send(
        &mut p.agent,
        &json!({"type": "consent", "session_id": p.session, "accept": false}),
    )
    .await;
    let ended = expect_type(&mut p.expert, "session_ended").await;
    assert_eq!(ended["reason"], "declined");
    assert!(ended["message"]
        .as_str()
        .is_some_and(|m| m.contains("declined")));
    assert!(
        recv(&mut p.expert).await.is_none(),
        "connection closed after the news"
    );

    // The invitation becomes open again, and the decline is in the audit log.
    wait_for_status(&p, "open").await;
    let agent_id = p.alice.get_json("/api/agents/me").await.1["agent_id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    let audit = p
        .server
        .store
        .audit_for_agent(agent_id)
        .await
        .expect("audit");
    let kinds: Vec<&str> = audit.iter().map(|e| e.kind.as_str()).collect();
    for kind in [
        "agent_registered",
        "invitation_created",
        "invitation_redeemed",
        "session_declined",
        "session_ended",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    p.server.stop().await;
}

#[tokio::test]
async fn unanswered_request_times_out() {
    let mut p = pending_pair(Backend::Sqlite).await;
    p.server.clock.advance(61);
    let ended = expect_type(&mut p.expert, "session_ended").await;
    assert_eq!(ended["reason"], "consent_timeout");
    let ended = expect_type(&mut p.agent, "session_ended").await;
    assert_eq!(ended["reason"], "consent_timeout");
    p.server.stop().await;
}

#[tokio::test]
async fn a_third_client_receives_nothing() {
    let mut p = pending_pair(Backend::Sqlite).await;
    accept(&mut p).await;

    // An intruder without a valid ticket is refused and disconnected.
    let mut intruder = expert_ws(&p.server, "forged.ticket.value").await;
    let err = expect_type(&mut intruder, "error").await;
    assert_eq!(err["code"], "bad_ticket");
    assert!(recv(&mut intruder).await.is_none());

    // An intruder who speaks before saying hello is refused too.
    let (mut rude, _) = tokio_tungstenite::connect_async(format!("{}/ws/expert", p.server.ws_base))
        .await
        .expect("connect");
    send(
        &mut rude,
        &json!({"type": "signal", "signal": {"kind": "end_of_candidates"}}),
    )
    .await;
    assert_eq!(
        expect_type(&mut rude, "error").await["code"],
        "hello_expected"
    );

    // A legitimate expert of another session, and another agent, see none of this session.
    let mallory = p.server.agent("Mallory").await;
    let mut mallory_ws = agent_ws(&p.server, &mallory).await;
    expect_type(&mut mallory_ws, "welcome").await;
    let other = mallory.invite(&CreateInvitationRequest::default()).await;
    let (_, body) = p.server.client().redeem(&other.code).await;
    let other: RedeemResponse = serde_json::from_value(body).expect("redeem");
    let mut other_expert = expert_ws(&p.server, &other.ticket).await;
    expect_type(&mut other_expert, "consent").await;
    expect_type(&mut mallory_ws, "session_request").await;

    // Mallory's agent tries to inject into Alice's session: refused, to Mallory alone.
    send(
        &mut mallory_ws,
        &json!({"type": "signal", "session_id": p.session, "signal": {"kind": "offer", "sdp": "evil"}}),
    )
    .await;
    assert_eq!(
        expect_type(&mut mallory_ws, "error").await["code"],
        "unknown_session"
    );
    send(
        &mut mallory_ws,
        &json!({"type": "hang_up", "session_id": p.session}),
    )
    .await;
    assert_eq!(
        expect_type(&mut mallory_ws, "error").await["code"],
        "unknown_session"
    );

    // Alice's real traffic reaches only Alice's expert.
    send(
        &mut p.agent,
        &json!({"type": "signal", "session_id": p.session, "signal": {"kind": "offer", "sdp": "real"}}),
    )
    .await;
    assert_eq!(
        expect_type(&mut p.expert, "signal").await["signal"]["sdp"],
        "real"
    );
    assert!(recv_within(&mut other_expert, Duration::from_millis(500))
        .await
        .is_err());
    assert!(recv_within(&mut mallory_ws, Duration::from_millis(200))
        .await
        .is_err());
    p.server.stop().await;
}

#[tokio::test]
async fn bad_frames_get_errors_and_the_other_peer_is_untouched() {
    let mut p = pending_pair(Backend::Sqlite).await;
    accept(&mut p).await;
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;

    p.agent
        .send(Message::Text("{not json".into()))
        .await
        .expect("send");
    assert_eq!(
        expect_type(&mut p.agent, "error").await["code"],
        "malformed"
    );
    p.agent
        .send(Message::Text(r#"{"type":"take_over"}"#.into()))
        .await
        .expect("send");
    assert_eq!(
        expect_type(&mut p.agent, "error").await["code"],
        "malformed"
    );
    p.agent
        .send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .expect("send");
    assert_eq!(
        expect_type(&mut p.agent, "error").await["code"],
        "malformed"
    );
    let big = json!({"type": "signal", "session_id": p.session, "signal": {"kind": "offer", "sdp": "x".repeat(100_000)}});
    send(&mut p.agent, &big).await;
    assert_eq!(
        expect_type(&mut p.agent, "error").await["code"],
        "too_large"
    );
    p.expert
        .send(Message::Text("[]".into()))
        .await
        .expect("send");
    assert_eq!(
        expect_type(&mut p.expert, "error").await["code"],
        "malformed"
    );

    // Both connections still work.
    send(&mut p.agent, &json!({"type": "ping"})).await;
    expect_type(&mut p.agent, "pong").await;
    send(&mut p.expert, &json!({"type": "ping"})).await;
    expect_type(&mut p.expert, "pong").await;
    send(
        &mut p.agent,
        &json!({"type": "signal", "session_id": p.session, "signal": {"kind": "end_of_candidates"}}),
    )
    .await;
    assert_eq!(
        expect_type(&mut p.expert, "signal").await["signal"]["kind"],
        "end_of_candidates"
    );
    p.server.stop().await;
}

#[tokio::test]
async fn agent_without_credentials_cannot_connect() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let err = tokio_tungstenite::connect_async(format!("{}/ws/agent", server.ws_base))
        .await
        .expect_err("must be refused");
    match err {
        tokio_tungstenite::tungstenite::Error::Http(res) => assert_eq!(res.status(), 401),
        other => panic!("expected HTTP 401, got {other}"),
    }
    server.stop().await;
}

/// Two programs of one machine, one waiting for the desk and one started for an invitation:
/// the invitation's session goes to its own program only, and nobody is pushed off.
#[tokio::test]
async fn each_program_of_a_machine_hears_of_its_own_invitation() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let alice = server.agent("Alice").await;
    let inv = alice.invite(&CreateInvitationRequest::default()).await;
    let mut program = agent_ws_with(&server, &alice, &format!("?invitation={}", inv.id))
        .await
        .expect("a program for the invitation connects");
    expect_type(&mut program, "welcome").await;
    // The desk's program connects later: newer, yet not the one the invitation is for.
    let mut machine = agent_ws(&server, &alice).await;
    expect_type(&mut machine, "welcome").await;

    let (_, body) = server.client().redeem(&inv.code).await;
    let r: RedeemResponse = serde_json::from_value(body).expect("redeem");
    let _expert = expert_ws(&server, &r.ticket).await;
    let request = expect_type(&mut program, "session_request").await;
    assert_eq!(request["session_id"], r.session_id.to_string());
    assert!(
        recv_within(&mut machine, Duration::from_millis(500))
            .await
            .is_err(),
        "the other program hears nothing, and stays connected"
    );

    // An address that names no invitation is a clear refusal before the upgrade.
    match agent_ws_with(&server, &alice, "?invitation=tomorrow").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status(), 400);
            let body = String::from_utf8_lossy(res.body().as_deref().unwrap_or_default());
            assert!(body.contains("invitation"), "{body}");
        }
        other => panic!("expected HTTP 400, got {:?}", other.map(|_| "a connection")),
    }
    server.stop().await;
}

#[tokio::test]
async fn revoking_an_invitation_in_use_ends_its_session() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let alice = server.agent("Alice").await;
    let mut agent = agent_ws(&server, &alice).await;
    expect_type(&mut agent, "welcome").await;
    let inv = alice.invite(&CreateInvitationRequest::default()).await;
    let (_, body) = server.client().redeem(&inv.code).await;
    let r: RedeemResponse = serde_json::from_value(body).expect("redeem");
    let mut expert = expert_ws(&server, &r.ticket).await;
    expect_type(&mut expert, "consent").await;
    expect_type(&mut agent, "session_request").await;

    let (status, _) = alice
        .post_json(&format!("/api/invitations/{}/revoke", inv.id), &())
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        expect_type(&mut expert, "session_ended").await["reason"],
        "revoked"
    );
    assert_eq!(
        expect_type(&mut agent, "session_ended").await["reason"],
        "revoked"
    );
    server.stop().await;
}

#[tokio::test]
async fn shutdown_tells_connected_peers() {
    let mut p = pending_pair(Backend::Sqlite).await;
    accept(&mut p).await;
    let stop = tokio::spawn(p.server.stop());
    assert_eq!(
        expect_type(&mut p.expert, "session_ended").await["reason"],
        "server_shutdown"
    );
    assert_eq!(
        expect_type(&mut p.agent, "session_ended").await["reason"],
        "server_shutdown"
    );
    stop.await.expect("stopped");

    // The ended session was stored before the database closed, not left for the next start.
    let agent = p.alice.agent_id();
    let store = signaling_server::store::Store::connect(&p.db.url)
        .await
        .expect("reopen");
    let audit = store.audit_for_agent(agent).await.expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.kind == "session_ended" && e.session.as_deref() == Some(p.session.as_str())),
        "{audit:?}"
    );
    store.close().await;
}

/// A novice whose network changes loses the agent's WebSocket: the session waits for the agent
/// to come back, and negotiation goes on over the new connection; an agent that does not come
/// back ends the session after the grace period.
async fn an_agent_that_reconnects_keeps_its_session(backend: Backend) {
    let mut p = pending_pair(backend).await;
    accept(&mut p).await;

    drop(p.agent);
    assert_eq!(
        recv_within(&mut p.expert, Duration::from_millis(700)).await,
        Err(()),
        "the expert hears nothing while the agent is away"
    );
    p.server.clock.advance(AGENT_GRACE_SECS - 5);
    p.agent = agent_ws(&p.server, &p.alice).await;
    expect_type(&mut p.agent, "welcome").await;
    p.server.clock.advance(10);
    let offer = json!({"kind": "offer", "sdp": "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\n"});
    send(
        &mut p.agent,
        &json!({"type": "signal", "session_id": p.session, "signal": offer}),
    )
    .await;
    assert_eq!(expect_type(&mut p.expert, "signal").await["signal"], offer);
    wait_for_status(&p, "in_use").await;

    // Gone for good this time.
    p.agent.close(None).await.expect("close");
    tokio::time::sleep(Duration::from_millis(300)).await;
    p.server.clock.advance(AGENT_GRACE_SECS);
    let ended = expect_type(&mut p.expert, "session_ended").await;
    assert_eq!(ended["reason"], "peer_gone");
    wait_for_status(&p, "open").await;

    p.server.stop().await;
    p.db.cleanup().await;
}
both_backends!(
    an_agent_that_reconnects_keeps_its_session,
    an_agent_that_reconnects_keeps_its_session
);

/// Waits until the server has noticed that the expert's page is gone.
async fn wait_until_the_expert_is_gone(p: &Pair) {
    let session = p.session.parse().expect("session id");
    for _ in 0..200 {
        if !p.server.state.signal.is_expert_connected(session) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the server never noticed the expert leave");
}

/// A frame from the expert's page reaches the agent, for `session`.
async fn expert_signal_reaches_the_agent(
    expert: &mut common::Ws,
    agent: &mut common::Ws,
    session: &str,
) {
    send(
        expert,
        &json!({"type": "signal", "signal": {"kind": "end_of_candidates"}}),
    )
    .await;
    assert_eq!(expect_type(agent, "signal").await["session_id"], session);
}

/// Nothing at all arrives on `ws` for a while.
async fn hears_nothing(ws: &mut common::Ws) -> bool {
    recv_within(ws, Duration::from_millis(500)).await.is_err()
}

/// Whoever else holds the expert's ticket after consent gets nothing: refused and closed,
/// while the real expert keeps the session and neither the agent nor the expert hears of it.
async fn a_reused_ticket_cannot_take_over_a_session(backend: Backend) {
    let mut p = pending_pair(backend).await;
    accept(&mut p).await;

    for resume in [None, Some("a guessed secret")] {
        let mut intruder = expert_ws_at(&p.server.ws_base, &p.ticket, resume).await;
        let refused = expect_type(&mut intruder, "error").await;
        assert_eq!(refused["code"], "ticket_used");
        assert!(
            recv(&mut intruder).await.is_none(),
            "closed after the refusal"
        );
    }
    assert!(
        hears_nothing(&mut p.expert).await,
        "the expert is not replaced"
    );
    assert!(
        hears_nothing(&mut p.agent).await,
        "nothing changes for the novice"
    );

    // Both members still speak to each other, and only to each other.
    send(
        &mut p.agent,
        &json!({"type": "signal", "session_id": p.session, "signal": {"kind": "offer", "sdp": "real"}}),
    )
    .await;
    assert_eq!(
        expect_type(&mut p.expert, "signal").await["signal"]["sdp"],
        "real"
    );
    send(
        &mut p.expert,
        &json!({"type": "signal", "signal": {"kind": "end_of_candidates"}}),
    )
    .await;
    assert_eq!(
        expect_type(&mut p.agent, "signal").await["session_id"],
        p.session
    );
    wait_for_status(&p, "in_use").await;
    p.server.stop().await;
    p.db.cleanup().await;
}
both_backends!(
    a_reused_ticket_cannot_take_over_a_session,
    a_reused_ticket_cannot_take_over_a_session
);

/// The expert's page loses its WebSocket and reconnects with the secret it was given: the
/// session goes on unasked, and what the agent sent meanwhile arrives.
async fn an_expert_that_reconnects_keeps_its_session(backend: Backend) {
    let mut p = pending_pair(backend).await;
    accept(&mut p).await;

    p.expert.close(None).await.expect("close");
    wait_until_the_expert_is_gone(&p).await;
    let offer = json!({"kind": "offer", "sdp": "v=0\r\no=- 3 3 IN IP4 127.0.0.1\r\n"});
    send(
        &mut p.agent,
        &json!({"type": "signal", "session_id": p.session, "signal": offer}),
    )
    .await;
    p.server.clock.advance(EXPERT_GRACE_SECS - 5);
    let mut back = expert_ws_at(&p.server.ws_base, &p.ticket, Some(&p.resume)).await;
    let consent = expect_type(&mut back, "consent").await;
    assert_eq!(consent["state"], "accepted");
    assert_eq!(expect_type(&mut back, "signal").await["signal"], offer);
    assert!(
        hears_nothing(&mut p.agent).await,
        "the novice is not asked again"
    );
    p.server.clock.advance(10);
    expert_signal_reaches_the_agent(&mut back, &mut p.agent, &p.session).await;

    // Gone for good this time: the session ends after the grace period.
    drop(back);
    wait_until_the_expert_is_gone(&p).await;
    p.server.clock.advance(EXPERT_GRACE_SECS);
    let ended = expect_type(&mut p.agent, "session_ended").await;
    assert_eq!(ended["reason"], "peer_gone");
    wait_for_status(&p, "open").await;
    p.server.stop().await;
    p.db.cleanup().await;
}
both_backends!(
    an_expert_that_reconnects_keeps_its_session,
    an_expert_that_reconnects_keeps_its_session
);

/// A page that comes back with the bare ticket (reloaded, or somebody else's) while the
/// expert is away is let in only once the novice says yes again.
#[tokio::test]
async fn a_page_back_without_its_secret_makes_the_novice_answer_again() {
    let mut p = pending_pair(Backend::Sqlite).await;
    accept(&mut p).await;
    p.expert.close(None).await.expect("close");
    wait_until_the_expert_is_gone(&p).await;

    let mut reloaded = expert_ws(&p.server, &p.ticket).await;
    let consent = expect_type(&mut reloaded, "consent").await;
    assert_eq!(consent["state"], "waiting");
    let request = expect_type(&mut p.agent, "session_request").await;
    assert_eq!(request["session_id"], p.session);
    assert_eq!(request["again"], true);
    // Until then, nothing passes either way.
    send(
        &mut p.agent,
        &json!({"type": "signal", "session_id": p.session, "signal": {"kind": "offer", "sdp": "x"}}),
    )
    .await;
    assert_eq!(
        expect_type(&mut p.agent, "error").await["code"],
        "not_accepted"
    );
    send(
        &mut p.agent,
        &json!({"type": "consent", "session_id": p.session, "accept": true}),
    )
    .await;
    assert_eq!(
        expect_type(&mut reloaded, "consent").await["state"],
        "accepted"
    );
    p.server.stop().await;
}

/// The novice's yes is in the audit log by the time the expert hears of it.
#[tokio::test]
async fn a_consent_is_in_the_audit_log_before_the_expert_hears_of_it() {
    let mut p = pending_pair(Backend::Sqlite).await;
    accept(&mut p).await;
    let session = p.session.clone();
    let agent: protocol::ids::AgentId = p.alice.get_json("/api/agents/me").await.1["agent_id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    let audit = p.server.store.audit_for_agent(agent).await.expect("audit");
    assert!(
        audit
            .iter()
            .any(|e| e.kind == "session_accepted" && e.session.as_deref() == Some(session.as_str())),
        "{audit:?}"
    );
    p.server.stop().await;
}

/// The kinds of the session's control events in the audit log, oldest first.
async fn control_trail(p: &Pair) -> Vec<String> {
    let agent = p.alice.agent_id();
    let audit = p.server.store.audit_for_agent(agent).await.expect("audit");
    audit
        .into_iter()
        .filter(|e| {
            e.session.as_deref() == Some(p.session.as_str()) && e.kind.starts_with("control_")
        })
        .map(|e| e.kind)
        .collect()
}

/// An agent (or whoever has its credential) sends twenty thousand control reports as fast as
/// it can: the audit log gets a handful of rows, bounded by the time the flood took, which
/// still begin with its first report and end with its last state; each row is acknowledged,
/// and the connection keeps working.
async fn a_control_flood_leaves_a_bounded_audit_trail(backend: Backend) {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let mut p = pending_pair(backend).await;
    accept(&mut p).await;

    const FLOOD: usize = 20_001;
    let started = Instant::now();
    for i in 0..FLOOD {
        let event = match i {
            0 => "requested",
            i if i % 2 == 1 => "granted",
            _ => "stopped",
        };
        let frame = json!({"type": "control", "session_id": p.session, "event": event});
        p.agent
            .feed(Message::Text(frame.to_string().into()))
            .await
            .expect("send");
    }
    send(&mut p.agent, &json!({"type": "ping"})).await;
    let mut acks = 0;
    loop {
        let frame = recv(&mut p.agent).await.expect("the agent stays connected");
        match frame["type"].as_str() {
            Some("control_recorded") => acks += 1,
            Some("pong") => break,
            _ => panic!("unexpected frame {frame}"),
        }
    }
    let took = started.elapsed().as_secs() as i64;

    // The window's held last state is stored once the window closes.
    let deadline = Instant::now() + Duration::from_secs(10);
    let trail = loop {
        let trail = control_trail(&p).await;
        if trail.last().map(String::as_str) == Some("control_stopped") || Instant::now() > deadline
        {
            break trail;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let windows = took / CONTROL_WINDOW_SECS + 3;
    let bound = windows as usize * (CONTROL_EVENTS_PER_WINDOW as usize + 1);
    assert!(
        trail.len() <= bound,
        "{} rows for a flood of {FLOOD} in {took} s (at most {bound})",
        trail.len()
    );
    assert_eq!(trail.first().map(String::as_str), Some("control_requested"));
    assert_eq!(
        trail.last().map(String::as_str),
        Some("control_stopped"),
        "{trail:?}"
    );
    while acks < trail.len() {
        let frame = expect_type(&mut p.agent, "control_recorded").await;
        assert_eq!(frame["session_id"], p.session);
        acks += 1;
    }
    assert!(
        hears_nothing(&mut p.agent).await,
        "one acknowledgement per row"
    );
    p.server.stop().await;
    p.db.cleanup().await;
}
both_backends!(
    a_control_flood_leaves_a_bounded_audit_trail,
    a_control_flood_leaves_a_bounded_audit_trail
);

/// While the database is behind (here: another writer holds it), a peer that keeps sending is
/// not read any further: its ping waits, unanswered, and nothing it sent is lost; once the
/// database takes the writes again, the peer is answered and its report acknowledged.
#[tokio::test]
async fn a_peer_waits_while_the_database_is_behind() {
    let mut config = signaling_server::config::ServerConfig::defaults();
    config.max_pending_changes = 1;
    let mut p = pending_pair_with(Backend::Sqlite, config).await;
    accept(&mut p).await;
    let (agent, session) = (&mut p.agent, &p.session);

    let mut writer = common::raw_connection(&p.db).await;
    common::exec(&mut writer, "BEGIN IMMEDIATE")
        .await
        .expect("hold the database");
    send(
        agent,
        &json!({"type": "control", "session_id": session, "event": "granted"}),
    )
    .await;
    send(agent, &json!({"type": "ping"})).await;
    assert!(
        hears_nothing(agent).await,
        "the ping waits for the database"
    );
    common::exec(&mut writer, "COMMIT")
        .await
        .expect("release the database");
    let mut heard = vec![
        recv(agent).await.expect("a frame")["type"].to_string(),
        recv(agent).await.expect("a frame")["type"].to_string(),
    ];
    heard.sort();
    assert_eq!(heard, vec!["\"control_recorded\"", "\"pong\""]);
    p.server.stop().await;
}
