//! *Offer help* from the dashboard over real HTTP and WebSockets, on SQLite and on PostgreSQL:
//! an operator offers help to the organisation's online machine, the novice there is asked
//! naming the operator and the desk, the operator's browser gets the console holding the
//! session's ticket, and the offer is recorded as the operator's, in the sessions and in the
//! audit log.

mod common;

use common::{agent_ws, expect_type, raw_connection, Backend, Client, TestDb, TestServer};
use signaling_server::accounts::{self, Role};
use signaling_server::enrolment;
use sqlx::Row;

const PASSWORD: &str = "correct horse battery";

async fn offered_help_is_the_operators(backend: Backend) {
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
    let machine_id = body["agent_id"].as_str().expect("agent id").to_string();
    let machine = Client {
        token: Some(body["agent_token"].as_str().expect("token").to_string()),
        ..server.client()
    };
    let mut agent = agent_ws(&server, &machine).await;
    expect_type(&mut agent, "welcome").await;
    let web = accounts::open_web_session(store, &bob, now)
        .await
        .expect("sign-in");

    let res = reqwest::Client::new()
        .post(format!("{}/desk/machines/{machine_id}/offer", server.base))
        .header("cookie", format!("desk_session={}", web.cookie))
        .header("origin", "null")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}", web.csrf))
        .send()
        .await
        .expect("offer");
    let status = res.status().as_u16();
    let page = res.text().await.unwrap_or_default();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Offering help to Alice on laptop"), "{page}");
    let request = expect_type(&mut agent, "session_request").await;
    assert_eq!(request["expert_name"], "Bob Builder (Acme support desk)");
    let session = request["session_id"].as_str().expect("session id");
    assert!(
        page.contains(session),
        "the console joins that very session"
    );

    let mut conn = raw_connection(&db).await;
    let row = sqlx::query(
        "SELECT s.expert_user_id, i.offered_by FROM sessions s \
         JOIN invitations i ON i.id = s.invitation_id WHERE s.id = $1",
    )
    .bind(session.to_string())
    .fetch_one(&mut conn)
    .await
    .expect("the session's row");
    let bob_id = bob.id.to_string();
    assert_eq!(
        row.try_get::<Option<String>, _>("expert_user_id").ok(),
        Some(Some(bob_id.clone()))
    );
    assert_eq!(
        row.try_get::<Option<String>, _>("offered_by").ok(),
        Some(Some(bob_id))
    );
    let audit =
        sqlx::query("SELECT actor, session_id FROM audit_events WHERE kind = 'help_offered'")
            .fetch_all(&mut conn)
            .await
            .expect("audit");
    assert_eq!(audit.len(), 1);
    assert_eq!(
        audit[0].try_get::<String, _>("actor").ok().as_deref(),
        Some("bob")
    );
    assert_eq!(
        audit[0].try_get::<Option<String>, _>("session_id").ok(),
        Some(Some(session.to_string()))
    );

    server.stop().await;
    db.cleanup().await;
}
both_backends!(offered_help_is_the_operators, offered_help_is_the_operators);
