//! Enrolling machines into a support desk with enrolment tokens, over real HTTP on loopback, on
//! SQLite and on PostgreSQL: what the administrator and the novice's agent see for every
//! success and every refusal.

mod common;

use common::{agent_ws, expect_type, Backend, Client, TestDb, TestServer};
use protocol::api::EnrollResponse;
use signaling_server::accounts::{self, Role, User};
use signaling_server::enrolment;
use signaling_server::error::ApiError;

/// A server with the organisation "Acme" and its administrator.
async fn desk(backend: Backend) -> (TestDb, TestServer, User) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let admin = accounts::create_admin(
        &server.store,
        "Acme",
        "ada",
        "Ada Admin",
        "correct horse battery",
        server.clock.now(),
    )
    .await
    .expect("administrator");
    (db, server, admin)
}

/// `POST /api/enroll` with `token`, as machine `name`.
async fn enroll(server: &TestServer, token: &str, name: &str) -> (u16, serde_json::Value) {
    server
        .client()
        .post_json(
            "/api/enroll",
            &serde_json::json!({ "token": token, "name": name }),
        )
        .await
}

async fn a_single_use_token_enrols_one_machine(backend: Backend) {
    let (db, server, admin) = desk(backend).await;
    let now = server.clock.now();
    let token = enrolment::create_token(&server.store, &admin, now + 3600, Some(1), now)
        .await
        .expect("token");

    let (status, body) = enroll(&server, &token.token, "  Alice on laptop ").await;
    assert_eq!(status, 201, "{body}");
    let enrolled: EnrollResponse = serde_json::from_value(body).expect("enrol body");
    assert_eq!(enrolled.organisation, "Acme");

    let (status, body) = enroll(&server, &token.token, "Bob on desktop").await;
    assert_eq!((status, body["error"].as_str()), (410, Some("used_up")));
    assert!(body["message"]
        .as_str()
        .is_some_and(|m| m.contains("ask your administrator")));

    // The machine is in the organisation, and the dashboard's list shows the spent token.
    let machines = server
        .store
        .machines_in_org(admin.org)
        .await
        .expect("machines");
    assert_eq!(machines.len(), 1);
    assert_eq!(machines[0].id, enrolled.agent_id);
    assert_eq!(machines[0].name, "Alice on laptop");
    assert_eq!(machines[0].last_seen_at, None, "never disconnected yet");
    let tokens = enrolment::list_tokens(&server.store, admin.org)
        .await
        .expect("list");
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].id, token.id);
    assert_eq!(tokens[0].created_by, "ada");
    assert_eq!(tokens[0].uses_left, Some(0));

    // Enrolment is audited under the organisation, with the machine as actor.
    let audit = server
        .store
        .audit_for_agent(enrolled.agent_id)
        .await
        .expect("audit");
    assert!(audit
        .iter()
        .any(|e| e.kind == "machine_enrolled" && e.actor == "Alice on laptop"));

    server.stop().await;
    db.cleanup().await;
}
both_backends!(
    a_single_use_token_enrols_one_machine,
    a_single_use_token_enrols_one_machine
);

async fn expired_revoked_and_unknown_tokens_are_refused(backend: Backend) {
    let (db, server, admin) = desk(backend).await;
    let now = server.clock.now();
    let short = enrolment::create_token(&server.store, &admin, now + 60, None, now)
        .await
        .expect("token");
    let revoked = enrolment::create_token(&server.store, &admin, now + 3600, None, now)
        .await
        .expect("token");
    enrolment::revoke_token(&server.store, &admin, revoked.id, now)
        .await
        .expect("revoke");
    // Revoking again is harmless.
    enrolment::revoke_token(&server.store, &admin, revoked.id, now)
        .await
        .expect("revoke twice");

    let (status, body) = enroll(&server, &revoked.token, "Alice").await;
    assert_eq!((status, body["error"].as_str()), (403, Some("revoked")));

    let (status, body) = enroll(&server, "not-a-token", "Alice").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unknown_token"))
    );

    let (status, body) = enroll(&server, &short.token, "").await;
    assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")));

    server.clock.advance(61);
    let (status, body) = enroll(&server, &short.token, "Alice").await;
    assert_eq!((status, body["error"].as_str()), (410, Some("expired")));
    assert_eq!(
        body["message"],
        "This enrolment token has expired; ask your administrator for a new one."
    );

    assert!(server
        .store
        .machines_in_org(admin.org)
        .await
        .expect("machines")
        .is_empty());
    server.stop().await;
    db.cleanup().await;
}
both_backends!(
    expired_revoked_and_unknown_tokens_are_refused,
    expired_revoked_and_unknown_tokens_are_refused
);

async fn concurrent_enrolments_spend_each_use_once(backend: Backend) {
    let (db, server, admin) = desk(backend).await;
    let now = server.clock.now();
    let token = enrolment::create_token(&server.store, &admin, now + 3600, Some(3), now)
        .await
        .expect("token");
    let attempts = (0..10).map(|i| {
        let client: Client = server.client();
        let token = token.token.clone();
        tokio::spawn(async move {
            client
                .post_json(
                    "/api/enroll",
                    &serde_json::json!({ "token": token, "name": format!("machine {i}") }),
                )
                .await
        })
    });
    let mut statuses = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        statuses.push(attempt.await.expect("attempt").0);
    }
    assert_eq!(
        statuses.iter().filter(|&&s| s == 201).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 410).count(),
        7,
        "{statuses:?}"
    );
    assert_eq!(
        server
            .store
            .machines_in_org(admin.org)
            .await
            .expect("machines")
            .len(),
        3
    );
    server.stop().await;
    db.cleanup().await;
}
both_backends!(
    concurrent_enrolments_spend_each_use_once,
    concurrent_enrolments_spend_each_use_once
);

async fn only_administrators_manage_tokens_of_their_own_organisation(backend: Backend) {
    let (db, server, admin) = desk(backend).await;
    let now = server.clock.now();
    let operator = accounts::create_user(
        &server.store,
        admin.org,
        Role::Operator,
        "otto",
        "Otto Operator",
        "correct horse battery",
        Some(&admin),
        now,
    )
    .await
    .expect("operator");
    let refused = enrolment::create_token(&server.store, &operator, now + 3600, None, now).await;
    assert!(
        matches!(&refused, Err(ApiError::Refused(r)) if r.message.contains("administrator")),
        "{refused:?}"
    );

    let token = enrolment::create_token(&server.store, &admin, now + 3600, None, now)
        .await
        .expect("token");
    assert!(
        enrolment::revoke_token(&server.store, &operator, token.id, now)
            .await
            .is_err()
    );
    let other = accounts::create_admin(
        &server.store,
        "Globex",
        "gil",
        "Gil Admin",
        "correct horse battery",
        now,
    )
    .await
    .expect("other administrator");
    assert!(matches!(
        enrolment::revoke_token(&server.store, &other, token.id, now).await,
        Err(ApiError::Refused(_))
    ));
    assert!(enrolment::list_tokens(&server.store, other.org)
        .await
        .expect("list")
        .is_empty());
    // Still usable: neither refusal touched it.
    let (status, body) = enroll(&server, &token.token, "Alice").await;
    assert_eq!(status, 201, "{body}");

    server.stop().await;
    db.cleanup().await;
}
both_backends!(
    only_administrators_manage_tokens_of_their_own_organisation,
    only_administrators_manage_tokens_of_their_own_organisation
);

async fn an_enrolled_machine_connects_and_its_last_visit_is_kept(backend: Backend) {
    let (db, server, admin) = desk(backend).await;
    let now = server.clock.now();
    let token = enrolment::create_token(&server.store, &admin, now + 3600, Some(1), now)
        .await
        .expect("token");
    let (status, body) = enroll(&server, &token.token, "Alice").await;
    assert_eq!(status, 201, "{body}");
    let enrolled: EnrollResponse = serde_json::from_value(body).expect("enrol body");
    let agent = Client {
        token: Some(enrolled.agent_token),
        ..server.client()
    };

    let (status, me) = agent.get_json("/api/agents/me").await;
    assert_eq!((status, me["name"].as_str()), (200, Some("Alice")));
    let mut ws = agent_ws(&server, &agent).await;
    let welcome = expect_type(&mut ws, "welcome").await;
    assert_eq!(welcome["agent_name"], "Alice");
    assert!(server.state.signal.is_agent_online(enrolled.agent_id));
    drop(ws);

    let mut last_seen = None;
    for _ in 0..100 {
        let machines = server
            .store
            .machines_in_org(admin.org)
            .await
            .expect("machines");
        last_seen = machines.first().and_then(|m| m.last_seen_at);
        if last_seen.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let last_seen = last_seen.expect("last_seen_at is recorded when the connection ends");
    assert!(last_seen >= now);

    server.stop().await;
    db.cleanup().await;
}
both_backends!(
    an_enrolled_machine_connects_and_its_last_visit_is_kept,
    an_enrolled_machine_connects_and_its_last_visit_is_kept
);
