//! The invitation API over real HTTP on loopback, on SQLite and on PostgreSQL: what the novice's
//! agent and the expert's browser see for every success and every refusal.

mod common;

use common::{Backend, TestDb, TestServer};
use protocol::api::{CreateInvitationRequest, InvitationSummary, RedeemResponse};

/// An invitation whose expert is asked for a password; only the agent knows it.
fn with_password() -> CreateInvitationRequest {
    CreateInvitationRequest {
        has_password: true,
        ..Default::default()
    }
}

async fn create_list_and_redeem(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let agent = server.agent("Alice").await;

    let inv = agent.invite(&CreateInvitationRequest::default()).await;
    assert_eq!(
        inv.expires_at - inv.created_at,
        3600,
        "default lifetime is one hour"
    );
    assert!(inv.link.starts_with(&format!("{}/i/", server.base)));
    assert!(inv.link.ends_with(&inv.code));
    assert!(inv.code.len() >= 22, "at least 128 bits in the link code");
    assert_eq!(inv.short_code.len(), 14);

    let (status, list) = agent.get_json("/api/invitations").await;
    assert_eq!(status, 200);
    let list: Vec<InvitationSummary> = serde_json::from_value(list).expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].status, protocol::api::InvitationStatus::Open);

    // The expert redeems with the link code and gets a ticket naming the novice.
    let expert = server.client();
    let (status, body) = expert.redeem(&inv.code).await;
    assert_eq!(status, 200, "{body}");
    let redeemed: RedeemResponse = serde_json::from_value(body).expect("redeem body");
    assert_eq!(redeemed.novice_name, "Alice");
    assert!(!redeemed.ticket.is_empty());

    // While in use nobody else can redeem it, and the agent sees it in use.
    let (status, body) = expert.redeem(&inv.code).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("in_use")));
    let (_, one) = agent
        .get_json(&format!("/api/invitations/{}", inv.id))
        .await;
    assert_eq!(one["status"], "in_use");
    assert_eq!(one["session_id"], redeemed.session_id.to_string());

    // The short code opens another invitation too, however it is typed.
    let inv2 = agent.invite(&CreateInvitationRequest::default()).await;
    let typed = inv2.short_code.to_lowercase().replace('-', " ");
    let (status, body) = expert.redeem(&typed).await;
    assert_eq!(status, 200, "{body}");

    // Only SHA-256 digests are stored, never the codes.
    let found = server
        .store
        .find_invitation_by_code(&inv.code, None)
        .await
        .expect("query");
    assert!(found.is_none(), "the plain code must not be a stored key");

    server.stop().await;
    db.cleanup().await;
}
both_backends!(create_list_and_redeem, create_list_and_redeem);

async fn password_locks_after_five_wrong_tries(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let agent = server.agent("Alice").await;
    let expert = server.client();

    // The server takes no password: an agent that sends one is told so, and nothing is made.
    let (status, body) = agent
        .post_json(
            "/api/invitations",
            &CreateInvitationRequest {
                password: Some("hunter2".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("password_not_accepted")),
        "{body}"
    );
    let (_, list) = agent.get_json("/api/invitations").await;
    assert_eq!(list.as_array().map(Vec::len), Some(0));

    // It only knows that the console should ask for one, and does not judge it: redeeming
    // takes no password, and the agent checks it once the novice allowed the connection.
    let inv = agent.invite(&with_password()).await;
    assert!(inv.has_password);
    let (status, body) = expert.redeem(&inv.code).await;
    assert_eq!(status, 200, "{body}");
    let session = body["session_id"].clone();
    assert_eq!(body["invitation_id"], inv.id.to_string());

    // The agent reports each failed check; at the fifth it locked the invitation.
    for failed in 1..5 {
        let (status, body) = agent.report_failures(inv.id, failed, false).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["failed_attempts"], failed);
        assert_eq!(body["status"], "in_use");
        assert_eq!(body["session_id"], session);
    }
    let (status, body) = agent.report_failures(inv.id, 5, true).await;
    assert_eq!(
        (status, &body["status"]),
        (200, &serde_json::json!("locked"))
    );
    // Locked: the server refuses it from now on, and the novice sees it locked.
    let (status, body) = expert.redeem(&inv.code).await;
    assert_eq!((status, body["error"].as_str()), (423, Some("locked")));
    let (_, one) = agent
        .get_json(&format!("/api/invitations/{}", inv.id))
        .await;
    assert_eq!(one["status"], "locked");
    assert_eq!(one["failed_attempts"], 5);
    // Only the agent that made it reports on it, and a count stays bounded.
    let other = server.agent("Mallory").await;
    let (status, _) = other.report_failures(inv.id, 0, false).await;
    assert_eq!(status, 404);
    let (status, _) = agent.report_failures(inv.id, 1001, true).await;
    assert_eq!(status, 400);

    // The audit log has each failure and the lock.
    let mut conn = common::raw_connection(&db).await;
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM audit_events WHERE invitation_id = $1 ORDER BY seq")
            .bind(inv.id.to_string())
            .fetch_all(&mut conn)
            .await
            .expect("audit");
    assert_eq!(
        kinds.iter().filter(|k| *k == "wrong_password").count(),
        5,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "invitation_locked").count(),
        1,
        "{kinds:?}"
    );

    server.stop().await;
    db.cleanup().await;
}
both_backends!(
    password_locks_after_five_wrong_tries,
    password_locks_after_five_wrong_tries
);

async fn the_database_holds_no_password_material(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let agent = server.agent("Alice").await;
    let inv = agent.invite(&with_password()).await;
    let plain = agent.invite(&CreateInvitationRequest::default()).await;
    server.client().redeem(&inv.code).await;
    agent.report_failures(inv.id, 2, false).await;
    server.stop().await;

    let mut conn = common::raw_connection(&db).await;
    // The schema: invitations have no column for a password or anything made from one.
    let columns_sql = match backend {
        Backend::Sqlite => "SELECT name FROM pragma_table_info('invitations')",
        Backend::Postgres => {
            "SELECT CAST(column_name AS TEXT) AS name FROM information_schema.columns \
             WHERE table_name = 'invitations' AND table_schema = current_schema()"
        }
    };
    let columns: Vec<String> = sqlx::query_scalar(columns_sql)
        .fetch_all(&mut conn)
        .await
        .expect("columns");
    assert!(columns.contains(&"has_password".to_string()), "{columns:?}");
    for column in &columns {
        assert!(
            column == "has_password" || !column.contains("password"),
            "no password material in invitations: {columns:?}"
        );
    }
    // The rows: every value stored for the two invitations, none of which is more than a
    // digest of a code, a flag or a time.
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT id, code_hash, short_code_hash, has_password FROM invitations ORDER BY created_at",
    )
    .fetch_all(&mut conn)
    .await
    .expect("rows");
    assert_eq!(rows.len(), 2);
    for (id, code_hash, short_hash, has_password) in &rows {
        assert_eq!(code_hash.len(), 64, "a SHA-256 digest");
        assert_eq!(short_hash.len(), 64, "a SHA-256 digest");
        assert_eq!(*has_password, i64::from(*id == inv.id.to_string()));
        assert_ne!(*id, plain.code);
    }
    // Nothing anywhere in the database looks like an Argon2 hash of an invitation password.
    let hashes: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE password_hash LIKE '$argon2%'")
            .fetch_one(&mut conn)
            .await
            .expect("count");
    assert_eq!(
        hashes, 0,
        "no desk accounts here, and no other Argon2 hashes"
    );
    db.cleanup().await;
}
both_backends!(
    the_database_holds_no_password_material,
    the_database_holds_no_password_material
);

async fn expired_revoked_and_unknown_are_refused(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let agent = server.agent("Alice").await;
    let expert = server.client();

    let short = agent
        .invite(&CreateInvitationRequest {
            expires_in_secs: Some(120),
            ..Default::default()
        })
        .await;
    let revoked = agent.invite(&CreateInvitationRequest::default()).await;

    let (status, body) = agent
        .post_json(&format!("/api/invitations/{}/revoke", revoked.id), &())
        .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("revoked")));
    let (status, body) = expert.redeem(&revoked.code).await;
    assert_eq!((status, body["error"].as_str()), (410, Some("revoked")));

    server.clock.advance(121);
    let (status, body) = expert.redeem(&short.code).await;
    assert_eq!((status, body["error"].as_str()), (410, Some("expired")));
    let (_, one) = agent
        .get_json(&format!("/api/invitations/{}", short.id))
        .await;
    assert_eq!(one["status"], "expired");

    let (status, body) = expert.redeem("no-such-code-at-all").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("unknown_invitation"))
    );

    // Lifetimes out of range are refused with a reason.
    for secs in [10, 31 * 24 * 3600] {
        let (status, body) = agent
            .post_json(
                "/api/invitations",
                &serde_json::json!({ "expires_in_secs": secs }),
            )
            .await;
        assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")));
    }

    server.stop().await;
    db.cleanup().await;
}
both_backends!(
    expired_revoked_and_unknown_are_refused,
    expired_revoked_and_unknown_are_refused
);

async fn agents_see_only_their_own_invitations(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let alice = server.agent("Alice").await;
    let mallory = server.agent("Mallory").await;
    let inv = alice.invite(&CreateInvitationRequest::default()).await;

    let (status, list) = mallory.get_json("/api/invitations").await;
    assert_eq!((status, list.as_array().map(Vec::len)), (200, Some(0)));
    let (status, body) = mallory
        .get_json(&format!("/api/invitations/{}", inv.id))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("unknown_invitation"))
    );
    let (status, _) = mallory
        .post_json(&format!("/api/invitations/{}/revoke", inv.id), &())
        .await;
    assert_eq!(status, 404);
    let (_, one) = alice
        .get_json(&format!("/api/invitations/{}", inv.id))
        .await;
    assert_eq!(one["status"], "open");

    server.stop().await;
    db.cleanup().await;
}
both_backends!(
    agents_see_only_their_own_invitations,
    agents_see_only_their_own_invitations
);

#[tokio::test]
async fn missing_or_wrong_credentials_are_refused() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let alice = server.agent("Alice").await;
    let anonymous = server.client();
    let (status, body) = anonymous.get_json("/api/invitations").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unauthorized"))
    );

    let token = alice.token.clone().expect("token");
    let (id, _) = token.split_once('.').expect("token shape");
    for bad in [
        format!("{id}.wrongsecret"),
        "garbage".to_string(),
        format!("{}.x", uuid::Uuid::new_v4()),
    ] {
        let forged = common::Client {
            token: Some(bad),
            ..alice.clone()
        };
        let (status, _) = forged.get_json("/api/invitations").await;
        assert_eq!(status, 401);
    }
    let (status, me) = alice.get_json("/api/agents/me").await;
    assert_eq!((status, me["name"].as_str()), (200, Some("Alice")));
    server.stop().await;
}

#[tokio::test]
async fn bad_requests_get_json_errors() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/redeem", server.base);

    let res = http
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("send");
    assert_eq!(res.status().as_u16(), 400);
    let body: serde_json::Value = res.json().await.expect("json error body");
    assert_eq!(body["error"], "bad_request");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));

    let res = http
        .post(&url)
        .header("content-type", "application/json")
        .body(format!("{{\"code\":\"{}\"}}", "x".repeat(200 * 1024)))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status().as_u16(), 413);
    let body: serde_json::Value = res.json().await.expect("json error body");
    assert_eq!(body["error"], "payload_too_large");

    let res = http.post(&url).body("code=x").send().await.expect("send");
    assert_eq!(res.status().as_u16(), 415);

    // A missing field is a 4xx with a message, not a 500.
    let res = http
        .post(&url)
        .json(&serde_json::json!({ "code": "x" }))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status().as_u16(), 422);
    let body: serde_json::Value = res.json().await.expect("json error body");
    assert!(body["message"]
        .as_str()
        .is_some_and(|m| m.contains("expert_name")));

    // An empty name is refused before anything else.
    let (status, body) = server
        .client()
        .post_json(
            "/api/redeem",
            &serde_json::json!({ "code": "x", "expert_name": "  " }),
        )
        .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")));

    server.stop().await;
}

#[tokio::test]
async fn redemption_is_rate_limited_per_address() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = signaling_server::config::ServerConfig::defaults();
    config.redeem_per_minute = 3;
    let server = TestServer::start_with(&db, config).await;
    let c = server.client();
    for _ in 0..3 {
        let (status, _) = c.redeem("nope").await;
        assert_eq!(status, 404);
    }
    let (status, body) = c.redeem("nope").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("rate_limited"))
    );
    server.stop().await;
}

#[tokio::test]
async fn health_openapi_and_pages() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let c = server.client();
    let (status, health) = c.get_json("/health").await;
    assert_eq!((status, health["database"].as_str()), (200, Some("ok")));

    let (status, spec) = c.get_json("/api/openapi.json").await;
    assert_eq!(status, 200);
    for path in [
        "/api/agents",
        "/api/invitations",
        "/api/redeem",
        "/api/invitations/{id}/revoke",
        "/api/invitations/{id}/failures",
    ] {
        assert!(spec["paths"].get(path).is_some(), "{path} documented");
    }

    let agent = server.agent("Alice & <Bob>").await;
    let inv = agent.invite(&with_password()).await;
    let res = reqwest::get(&inv.link).await.expect("page");
    assert_eq!(res.status().as_u16(), 200);
    // Its policy: vendored_modules_are_pinned.rs.
    let html = res.text().await.expect("html");
    assert!(
        html.contains("Alice &#38; &#60;Bob&#62; asks for your help"),
        "the novice's name is shown, HTML-escaped: {html}"
    );
    assert!(!html.contains("<Bob>"));
    assert!(html.contains("id=\"password\""));

    let res = reqwest::get(format!("{}/i/unknown-code", server.base))
        .await
        .expect("page");
    assert_eq!(res.status().as_u16(), 404);
    assert!(res.text().await.expect("html").contains("does not exist"));

    agent
        .post_json(&format!("/api/invitations/{}/revoke", inv.id), &())
        .await;
    let res = reqwest::get(&inv.link).await.expect("page");
    assert_eq!(res.status().as_u16(), 410);
    assert!(res.text().await.expect("html").contains("cancelled"));
    server.stop().await;
}
