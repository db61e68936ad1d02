//! Many wrong passwords at once for one invitation, on SQLite and on PostgreSQL: every guess
//! is counted, the invitation locks at the configured limit, and no guess is answered with an
//! internal error.

mod common;

use common::{Backend, Client, TestDb, TestServer};
use protocol::api::{CreateInvitationRequest, InvitationCreated};
use signaling_server::config::ServerConfig;

/// A server locking after five wrong passwords, with no limit per address in the way, and an
/// invitation with the password `hunter2`.
async fn guarded_invitation(backend: Backend) -> (TestDb, TestServer, Client, InvitationCreated) {
    let db = TestDb::new(backend).await;
    let mut config = ServerConfig::defaults();
    config.redeem_per_minute = 1000;
    config.max_failed_attempts = 5;
    let server = TestServer::start_with(&db, config).await;
    let agent = server.agent("Alice").await;
    let inv = agent
        .invite(&CreateInvitationRequest {
            password: Some("hunter2".into()),
            ..Default::default()
        })
        .await;
    (db, server, agent, inv)
}

async fn concurrent_wrong_passwords_are_counted_and_never_500(backend: Backend) {
    let (db, server, agent, inv) = guarded_invitation(backend).await;

    let guesses = (0..25).map(|i| {
        let expert = server.client();
        let code = inv.code.clone();
        tokio::spawn(async move { expert.redeem(&code, Some(&format!("guess {i}"))).await })
    });
    let mut answers = Vec::new();
    for guess in guesses {
        answers.push(guess.await.expect("guess task"));
    }
    for (status, body) in &answers {
        let code = body["error"].as_str();
        assert!(
            matches!(
                (status, code),
                (401, Some("wrong_password")) | (423, Some("locked"))
            ),
            "every guess is a refusal the API defines: {status} {body}"
        );
    }
    let locked = answers.iter().filter(|(status, _)| *status == 423).count();
    assert!(locked >= 20, "at most 5 guesses are checked: {answers:?}");

    let (_, one) = agent
        .get_json(&format!("/api/invitations/{}", inv.id))
        .await;
    assert_eq!(one["status"], "locked");
    assert_eq!(one["failed_attempts"], 5, "locked at the configured limit");

    // The right password comes too late.
    let (status, body) = server.client().redeem(&inv.code, Some("hunter2")).await;
    assert_eq!((status, body["error"].as_str()), (423, Some("locked")));

    server.stop().await;
    db.cleanup().await;
}
both_backends!(
    concurrent_wrong_passwords_are_counted_and_never_500,
    concurrent_wrong_passwords_are_counted_and_never_500
);

async fn a_right_password_among_concurrent_guesses_opens(backend: Backend) {
    let (db, server, agent, inv) = guarded_invitation(backend).await;
    // Four wrong guesses and the right password at once: five attempts fit under the limit.
    let tries = (0..5).map(|i| {
        let expert = server.client();
        let code = inv.code.clone();
        let password = if i == 2 {
            "hunter2".into()
        } else {
            format!("guess {i}")
        };
        tokio::spawn(async move { expert.redeem(&code, Some(&password)).await })
    });
    let mut opened = 0;
    for t in tries {
        let (status, body) = t.await.expect("task");
        match status {
            200 => opened += 1,
            401 | 409 | 423 => {}
            other => panic!("unexpected answer {other} {body}"),
        }
    }
    assert_eq!(opened, 1, "the right password opens");
    let (_, one) = agent
        .get_json(&format!("/api/invitations/{}", inv.id))
        .await;
    assert_eq!(one["status"], "in_use");
    let failed = one["failed_attempts"].as_u64().expect("failed_attempts");
    assert!(
        failed <= 4,
        "only wrong guesses count (those after the right one find it in use): {one}"
    );
    server.stop().await;
    db.cleanup().await;
}
both_backends!(
    a_right_password_among_concurrent_guesses_opens,
    a_right_password_among_concurrent_guesses_opens
);
