//! Many failed password checks and redemptions at once for one invitation, on SQLite and on
//! PostgreSQL. The agent judges passwords (docs/pake.md) and reports each failed check; the
//! server keeps the largest count, locks the invitation once when the agent says so, answers
//! every redemption of a locked invitation 423, and never answers with an internal error.

mod common;

use common::{Backend, Client, TestDb, TestServer};
use protocol::api::{CreateInvitationRequest, InvitationCreated};
use signaling_server::config::ServerConfig;

/// A server with no limit per address in the way, and an invitation whose expert is asked for
/// a password.
async fn guarded_invitation(backend: Backend) -> (TestDb, TestServer, Client, InvitationCreated) {
    let db = TestDb::new(backend).await;
    let mut config = ServerConfig::defaults();
    config.redeem_per_minute = 1000;
    let server = TestServer::start_with(&db, config).await;
    let agent = server.agent("Alice").await;
    let inv = agent
        .invite(&CreateInvitationRequest {
            has_password: true,
            ..Default::default()
        })
        .await;
    (db, server, agent, inv)
}

async fn concurrent_wrong_passwords_are_counted_and_never_500(backend: Backend) {
    let (db, server, agent, inv) = guarded_invitation(backend).await;

    // The agent's reports of failed checks arrive at once and out of order (it sends each
    // from a task of its own), the fifth locking the invitation, some twice.
    let reports = (0..25).map(|i| {
        let agent = agent.clone();
        let failed = 1 + i % 5;
        tokio::spawn(async move { agent.report_failures(inv.id, failed, failed == 5).await })
    });
    for report in reports {
        let (status, body) = report.await.expect("report task");
        assert_eq!(status, 200, "every report is recorded: {body}");
    }
    let (_, one) = agent
        .get_json(&format!("/api/invitations/{}", inv.id))
        .await;
    assert_eq!(one["status"], "locked");
    assert_eq!(one["failed_attempts"], 5, "the largest count reported");

    // Locked once: one audit event says so, however many reports said it.
    let mut conn = common::raw_connection(&db).await;
    let locks: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE kind = 'invitation_locked' AND invitation_id = $1",
    )
    .bind(inv.id.to_string())
    .fetch_one(&mut conn)
    .await
    .expect("count");
    assert_eq!(locks, 1);

    // Every redemption after it, however many at once, is refused as locked.
    let tries = (0..25).map(|_| {
        let expert = server.client();
        let code = inv.code.clone();
        tokio::spawn(async move { expert.redeem(&code).await })
    });
    for t in tries {
        let (status, body) = t.await.expect("task");
        assert_eq!(
            (status, body["error"].as_str()),
            (423, Some("locked")),
            "{body}"
        );
    }

    server.stop().await;
    db.cleanup().await;
}
both_backends!(
    concurrent_wrong_passwords_are_counted_and_never_500,
    concurrent_wrong_passwords_are_counted_and_never_500
);

async fn a_right_password_among_concurrent_guesses_opens(backend: Backend) {
    let (db, server, agent, inv) = guarded_invitation(backend).await;
    // Five experts open it at once: one gets in and its agent is asked; the others find it in
    // use. Which of them knows the password is for that agent to find out.
    let tries = (0..5).map(|_| {
        let expert = server.client();
        let code = inv.code.clone();
        tokio::spawn(async move { expert.redeem(&code).await })
    });
    let mut opened = 0;
    for t in tries {
        let (status, body) = t.await.expect("task");
        match status {
            200 => opened += 1,
            409 => assert_eq!(body["error"], "in_use"),
            other => panic!("unexpected answer {other} {body}"),
        }
    }
    assert_eq!(opened, 1, "one expert at a time");
    let (_, one) = agent
        .get_json(&format!("/api/invitations/{}", inv.id))
        .await;
    assert_eq!(one["status"], "in_use");
    assert_eq!(one["failed_attempts"], 0, "the server judged no password");
    server.stop().await;
    db.cleanup().await;
}
both_backends!(
    a_right_password_among_concurrent_guesses_opens,
    a_right_password_among_concurrent_guesses_opens
);
