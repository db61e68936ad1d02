//! Presence and direct invitations over real HTTP and WebSockets on loopback, on SQLite and on
//! PostgreSQL: an enrolled machine lists its desk's experts with their online state, invites one
//! directly, and the expert's Accept or Decline reaches the novice; every wrong answer is
//! refused with a clear page.

mod common;

use common::{agent_ws, expect_type, recv_within, Backend, Client, TestDb, TestServer, Ws};
use futures_util::SinkExt;
use protocol::api::{DirectInvitationSent, ExpertSummary, InvitationSummary};
use signaling_server::accounts::{self, NewWebSession, Role, User};
use signaling_server::enrolment;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const PASSWORD: &str = "correct horse battery";

struct Desk {
    db: TestDb,
    server: TestServer,
    /// An operator of Acme, signed in.
    bob: User,
    bob_web: NewWebSession,
    /// The machine enrolled into Acme.
    machine: Client,
}

/// Acme with Ada (administrator) and Bob (operator, signed in), Globex with Gina, and the
/// machine "Alice on laptop" enrolled into Acme.
async fn desk(backend: Backend) -> Desk {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let now = server.clock.now();
    let store = &server.store;
    let ada = accounts::create_admin(store, "Acme", "ada", "Ada Admin", PASSWORD, now)
        .await
        .expect("administrator");
    let bob = accounts::create_user(
        store,
        ada.org,
        Role::Operator,
        "bob",
        "Bob Builder",
        PASSWORD,
        Some(&ada),
        now,
    )
    .await
    .expect("operator");
    accounts::create_admin(store, "Globex", "gina", "Gina Globex", PASSWORD, now)
        .await
        .expect("other organisation");
    let token = enrolment::create_token(store, &ada, now + 3600, Some(1), now)
        .await
        .expect("enrolment token");
    let (status, body) = server
        .client()
        .post_json(
            "/api/enroll",
            &serde_json::json!({ "token": token.token, "name": "Alice on laptop" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let machine = Client {
        token: Some(body["agent_token"].as_str().expect("token").to_string()),
        ..server.client()
    };
    let bob_web = accounts::open_web_session(store, &bob, now)
        .await
        .expect("sign-in");
    Desk {
        db,
        server,
        bob,
        bob_web,
        machine,
    }
}

impl Desk {
    async fn finish(self) {
        self.server.stop().await;
        self.db.cleanup().await;
    }

    /// Bob's dashboard feed, as his browser opens it.
    async fn bob_feed(&self) -> Ws {
        let mut req = format!("{}/ws/desk", self.server.ws_base)
            .into_client_request()
            .expect("request");
        let headers = req.headers_mut();
        headers.insert(
            "cookie",
            format!("desk_session={}", self.bob_web.cookie)
                .parse()
                .expect("header"),
        );
        headers.insert("origin", self.server.base.parse().expect("header"));
        let (ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("desk feed");
        ws
    }

    async fn experts(&self) -> Vec<ExpertSummary> {
        let (status, body) = self.machine.get_json("/api/experts").await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).expect("experts")
    }

    async fn is_online(&self, login: &str) -> bool {
        self.experts()
            .await
            .iter()
            .any(|e| e.login == login && e.online)
    }

    /// Waits (at most `limit`) for `login`'s presence to become `online`; returns how long it took.
    async fn await_presence(&self, login: &str, online: bool, limit: Duration) -> Duration {
        let start = Instant::now();
        while self.is_online(login).await != online {
            assert!(
                start.elapsed() < limit,
                "{login} still {} after {limit:?}",
                if online { "offline" } else { "online" }
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        start.elapsed()
    }

    async fn invite(&self, to: &str, secs: Option<u64>) -> (u16, serde_json::Value) {
        self.machine
            .post_json(
                "/api/invitations/direct",
                &serde_json::json!({ "to": to, "expires_in_secs": secs }),
            )
            .await
    }

    async fn invite_ok(&self, to: &str) -> DirectInvitationSent {
        let (status, body) = self.invite(to, None).await;
        assert_eq!(status, 201, "{body}");
        serde_json::from_value(body).expect("sent")
    }

    /// Bob's browser submits a dashboard form: status, `Location` and page.
    async fn bob_posts(&self, path: &str, csrf: &str) -> (u16, Option<String>, String) {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let res = http
            .post(format!("{}{path}", self.server.base))
            .header("cookie", format!("desk_session={}", self.bob_web.cookie))
            .header("origin", "null")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf={csrf}"))
            .send()
            .await
            .expect("form");
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .map(str::to_string);
        (status, location, res.text().await.unwrap_or_default())
    }

    async fn answer(&self, id: impl std::fmt::Display, verb: &str) -> (u16, String) {
        let path = format!("/desk/invitations/{id}/{verb}");
        let (status, _, page) = self.bob_posts(&path, &self.bob_web.csrf).await;
        (status, page)
    }

    async fn status_of(&self, id: impl std::fmt::Display) -> InvitationSummary {
        let (status, body) = self
            .machine
            .get_json(&format!("/api/invitations/{id}"))
            .await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).expect("summary")
    }
}

/// The next snapshot on a dashboard feed whose direct invitations satisfy `want`.
async fn snapshot_where(feed: &mut Ws, want: impl Fn(&serde_json::Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = recv_within(feed, left)
            .await
            .expect("a snapshot in time")
            .expect("the feed stays open");
        if frame["type"] == "snapshot" && want(&frame["direct"]) {
            return;
        }
    }
}

async fn presence_follows_the_open_dashboard(backend: Backend) {
    let desk = desk(backend).await;
    let experts = desk.experts().await;
    let listed: Vec<(&str, &str, bool)> = experts
        .iter()
        .map(|e| (e.login.as_str(), e.name.as_str(), e.online))
        .collect();
    assert_eq!(
        listed,
        vec![("ada", "Ada Admin", false), ("bob", "Bob Builder", false)],
        "only Acme's people, nobody online yet"
    );

    // Online while the dashboard is open; offline as soon as the page closes.
    let mut feed = desk.bob_feed().await;
    expect_type(&mut feed, "snapshot").await;
    desk.await_presence("bob", true, Duration::from_secs(5))
        .await;
    assert!(!desk.is_online("ada").await);
    feed.send(Message::Close(None)).await.expect("close");
    drop(feed);
    desk.await_presence("bob", false, Duration::from_secs(5))
        .await;

    // A page whose network dropped stops pinging: offline within the silence limit.
    let mut silent = desk.bob_feed().await;
    expect_type(&mut silent, "snapshot").await;
    desk.await_presence("bob", true, Duration::from_secs(5))
        .await;
    let took = desk
        .await_presence("bob", false, Duration::from_secs(15))
        .await;
    eprintln!("a silent dashboard went offline after {took:?}");

    // A machine outside any support desk has nobody to list.
    let loner = desk.server.agent("Zed on desktop").await;
    let (status, body) = loner.get_json("/api/experts").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("not_enrolled"))
    );
    assert!(body["message"]
        .as_str()
        .is_some_and(|m| m.contains("agent enroll")));
    desk.finish().await;
}
both_backends!(
    presence_follows_the_open_dashboard,
    presence_follows_the_open_dashboard
);

async fn an_accepted_direct_invitation_starts_a_session_once(backend: Backend) {
    let desk = desk(backend).await;
    let mut agent = agent_ws(&desk.server, &desk.machine).await;
    expect_type(&mut agent, "welcome").await;
    let mut feed = desk.bob_feed().await;
    expect_type(&mut feed, "snapshot").await;
    desk.await_presence("bob", true, Duration::from_secs(5))
        .await;

    let sent = desk.invite_ok(" bob ").await;
    assert_eq!(sent.to.name, "Bob Builder");
    assert!(sent.to.online);
    assert_eq!(sent.expires_at - sent.created_at, 3600);
    let id = sent.id.to_string();
    snapshot_where(&mut feed, |direct| {
        direct[0]["id"] == id.as_str() && direct[0]["machine"] == "Alice on laptop"
    })
    .await;

    // A form without Bob's token is refused and changes nothing.
    let path = format!("/desk/invitations/{id}/accept");
    let (status, _, _) = desk.bob_posts(&path, "forged").await;
    assert_eq!(status, 403);
    assert_eq!(desk.status_of(&id).await.status.as_str(), "open");

    let (status, page) = desk.answer(&id, "accept").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Helping Alice on laptop"), "{page}");
    assert!(
        page.contains("ticket"),
        "the console holds the session's ticket"
    );
    let request = expect_type(&mut agent, "session_request").await;
    assert_eq!(request["invitation_id"], id.as_str());
    assert_eq!(request["expert_name"], "Bob Builder (Acme support desk)");
    let session = request["session_id"]
        .as_str()
        .expect("session id")
        .to_string();
    assert!(
        page.contains(&session),
        "the console joins that very session"
    );
    assert_eq!(desk.status_of(&id).await.status.as_str(), "in use");
    snapshot_where(&mut feed, |direct| {
        direct.as_array().is_some_and(|d| d.is_empty())
    })
    .await;

    // Each direct invitation is answered once.
    let (status, page) = desk.answer(&id, "accept").await;
    assert_eq!(status, 409);
    assert!(page.contains("Already accepted"), "{page}");
    let (status, page) = desk.answer(&id, "decline").await;
    assert_eq!(status, 409);
    assert!(page.contains("Already accepted"), "{page}");
    assert!(
        recv_within(&mut agent, Duration::from_millis(500))
            .await
            .is_err(),
        "no second request reaches the novice"
    );

    let audit = desk
        .server
        .store
        .audit_for_agent(sent_agent(&desk).await)
        .await
        .expect("audit");
    let kinds: Vec<&str> = audit.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.contains(&"invitation_sent_directly"), "{kinds:?}");
    assert!(kinds.contains(&"direct_invitation_accepted"), "{kinds:?}");
    desk.finish().await;
}
both_backends!(
    an_accepted_direct_invitation_starts_a_session_once,
    an_accepted_direct_invitation_starts_a_session_once
);

/// The machine's agent id, as the server knows it.
async fn sent_agent(desk: &Desk) -> protocol::ids::AgentId {
    let (status, body) = desk.machine.get_json("/api/agents/me").await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body["agent_id"].clone()).expect("agent id")
}

async fn a_declined_direct_invitation_is_told_to_the_novice(backend: Backend) {
    let desk = desk(backend).await;
    let mut agent = agent_ws(&desk.server, &desk.machine).await;
    expect_type(&mut agent, "welcome").await;
    // Bob is offline: the invitation waits on his dashboard all the same.
    let sent = desk.invite_ok("bob").await;
    assert!(!sent.to.online);
    let id = sent.id.to_string();

    let (status, location, _) = desk
        .bob_posts(
            &format!("/desk/invitations/{id}/decline"),
            &desk.bob_web.csrf,
        )
        .await;
    assert_eq!((status, location.as_deref()), (303, Some("/desk")));
    let told = expect_type(&mut agent, "invitation_declined").await;
    assert_eq!(told["invitation_id"], id.as_str());
    assert_eq!(told["expert_name"], "Bob Builder (Acme support desk)");
    assert_eq!(desk.status_of(&id).await.status.as_str(), "declined");

    let (status, page) = desk.answer(&id, "decline").await;
    assert_eq!(status, 409);
    assert!(page.contains("Already declined"), "{page}");
    let (status, page) = desk.answer(&id, "accept").await;
    assert_eq!(status, 409);
    assert!(page.contains("Already declined"), "{page}");
    assert!(
        recv_within(&mut agent, Duration::from_millis(500))
            .await
            .is_err(),
        "no session request after a decline"
    );
    desk.finish().await;
}
both_backends!(
    a_declined_direct_invitation_is_told_to_the_novice,
    a_declined_direct_invitation_is_told_to_the_novice
);

async fn wrong_direct_invitations_and_answers_are_refused(backend: Backend) {
    let desk = desk(backend).await;

    let (status, body) = desk.invite("nobody", None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("unknown_expert"))
    );
    assert!(body["message"]
        .as_str()
        .is_some_and(|m| m.contains("\"nobody\"") && m.contains("agent experts")));
    // Another organisation's expert is as unknown as nobody.
    let (status, body) = desk.invite("gina", None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("unknown_expert"))
    );
    let (status, body) = desk.invite("bob", Some(10)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")));
    let loner = desk.server.agent("Zed on desktop").await;
    let (status, body) = loner
        .post_json(
            "/api/invitations/direct",
            &serde_json::json!({ "to": "bob" }),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("not_enrolled"))
    );

    // Meant for Ada: Bob cannot answer it.
    let for_ada = desk.invite_ok("ada").await;
    let (status, page) = desk.answer(for_ada.id, "accept").await;
    assert_eq!(status, 404);
    assert!(page.contains("No such invitation"), "{page}");
    assert_eq!(desk.status_of(for_ada.id).await.status.as_str(), "open");
    let (status, _) = desk.answer("not-an-id", "accept").await;
    assert_eq!(status, 404);

    // Expired before Bob answered.
    let (status, body) = desk.invite("bob", Some(60)).await;
    assert_eq!(status, 201, "{body}");
    let late: DirectInvitationSent = serde_json::from_value(body).expect("sent");
    desk.server.clock.advance(61);
    for verb in ["accept", "decline"] {
        let (status, page) = desk.answer(late.id, verb).await;
        assert_eq!(status, 410, "{verb}");
        assert!(page.contains("has expired"), "{page}");
    }
    assert_eq!(desk.status_of(late.id).await.status.as_str(), "expired");
    let waiting = desk
        .server
        .store
        .direct_invitations_for(desk.bob.id, desk.server.clock.now())
        .await
        .expect("waiting");
    assert!(
        waiting.is_empty(),
        "an expired invitation leaves the dashboard"
    );

    // Withdrawn by the novice before Bob answered.
    let withdrawn = desk.invite_ok("bob").await;
    let (status, body) = desk
        .machine
        .post_json(
            &format!("/api/invitations/{}/revoke", withdrawn.id),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, page) = desk.answer(withdrawn.id, "accept").await;
    assert_eq!(status, 410);
    assert!(page.contains("withdrawn"), "{page}");
    desk.finish().await;
}
both_backends!(
    wrong_direct_invitations_and_answers_are_refused,
    wrong_direct_invitations_and_answers_are_refused
);
