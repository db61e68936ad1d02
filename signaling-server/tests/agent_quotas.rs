//! Quotas per agent over real HTTP, on SQLite and PostgreSQL: a cap on open invitations, the
//! invitation list in pages, and a limit on the e-mails the server sends for agents.

mod common;

use common::{Backend, TestDb, TestServer};
use protocol::api::{CreateInvitationRequest, InvitationSummary};
use secrecy::SecretString;
use signaling_server::config::ServerConfig;
use std::collections::HashSet;

async fn an_agent_cannot_hold_more_open_invitations_than_the_cap(backend: Backend) {
    let db = TestDb::new(backend).await;
    let mut config = ServerConfig::defaults();
    config.max_open_invitations = 3;
    let server = TestServer::start_with(&db, config).await;
    let alice = server.agent("Alice").await;
    let first = alice.invite(&CreateInvitationRequest::default()).await;
    for _ in 0..2 {
        alice.invite(&CreateInvitationRequest::default()).await;
    }
    let (status, body) = alice
        .post_json("/api/invitations", &CreateInvitationRequest::default())
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("too_many_invitations")),
        "{body}"
    );
    assert!(body["message"]
        .as_str()
        .is_some_and(|m| m.contains("revoke")));
    let (_, list) = alice.get_json("/api/invitations").await;
    assert_eq!(list.as_array().map(Vec::len), Some(3), "nothing was stored");

    // Another agent has a cap of its own.
    let bob = server.agent("Bob").await;
    bob.invite(&CreateInvitationRequest::default()).await;

    // A revoked invitation, or an expired one, no longer counts.
    alice
        .post_json(&format!("/api/invitations/{}/revoke", first.id), &())
        .await;
    alice.invite(&CreateInvitationRequest::default()).await;
    server.clock.advance(3600);
    alice.invite(&CreateInvitationRequest::default()).await;

    // Many at once for a fresh agent: exactly the cap gets through.
    let carol = server.agent("Carol").await;
    let tries = (0..10).map(|_| {
        let carol = carol.clone();
        tokio::spawn(async move {
            carol
                .post_json("/api/invitations", &CreateInvitationRequest::default())
                .await
        })
    });
    let mut created = 0;
    for t in tries {
        let (status, body) = t.await.expect("task");
        match status {
            201 => created += 1,
            429 => assert_eq!(body["error"], "too_many_invitations"),
            other => panic!("unexpected {other} {body}"),
        }
    }
    assert_eq!(created, 3);
    server.stop().await;
    db.cleanup().await;
}
both_backends!(
    an_agent_cannot_hold_more_open_invitations_than_the_cap,
    an_agent_cannot_hold_more_open_invitations_than_the_cap
);

async fn the_invitation_list_comes_in_pages(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let alice = server.agent("Alice").await;
    let mut made = HashSet::new();
    for _ in 0..7 {
        made.insert(alice.invite(&CreateInvitationRequest::default()).await.id);
    }
    let mut listed = Vec::new();
    let mut path = "/api/invitations?limit=3".to_string();
    let mut sizes = Vec::new();
    loop {
        let (status, page) = alice.get_json(&path).await;
        assert_eq!(status, 200, "{page}");
        let page: Vec<InvitationSummary> = serde_json::from_value(page).expect("page");
        sizes.push(page.len());
        let last = page.last().map(|i| i.id);
        listed.extend(page);
        match last {
            Some(last) if sizes.last() == Some(&3) => {
                path = format!("/api/invitations?limit=3&after={last}");
            }
            _ => break,
        }
    }
    assert_eq!(sizes, [3, 3, 1]);
    let ids: HashSet<_> = listed.iter().map(|i| i.id).collect();
    assert_eq!(ids, made, "every invitation once");
    assert!(listed
        .windows(2)
        .all(|w| w[0].created_at >= w[1].created_at));

    for (query, why) in [
        ("limit=0", "an empty page"),
        ("limit=201", "above the maximum page"),
        ("limit=many", "not a number"),
        ("after=not-an-id", "not an id"),
    ] {
        let (status, body) = alice.get_json(&format!("/api/invitations?{query}")).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("bad_request")),
            "{why}: {body}"
        );
    }
    // Another agent's invitation is no place to start from.
    let bob = server.agent("Bob").await;
    let theirs = bob.invite(&CreateInvitationRequest::default()).await;
    let (status, _) = alice
        .get_json(&format!("/api/invitations?after={}", theirs.id))
        .await;
    assert_eq!(status, 400);
    server.stop().await;
    db.cleanup().await;
}
both_backends!(
    the_invitation_list_comes_in_pages,
    the_invitation_list_comes_in_pages
);

/// A server with an SMTP relay nobody listens on: the limits are decided before any delivery.
fn with_dead_relay() -> ServerConfig {
    let mut config = ServerConfig::defaults();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    config.smtp_url = Some(SecretString::from(format!("smtp://127.0.0.1:{closed}")));
    config
}

#[tokio::test]
async fn server_sent_mail_is_limited_per_agent_and_per_recipient() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = with_dead_relay();
    config.mail_per_agent_per_hour = 3;
    config.mail_per_recipient_per_hour = 1;
    let server = TestServer::start_with(&db, config).await;
    let mail = |to: &str| CreateInvitationRequest {
        email_to: Some(to.into()),
        ..Default::default()
    };
    let alice = server.agent("Alice").await;
    let bob = server.agent("Bob").await;
    let refused =
        |status: u16, body: &serde_json::Value| status == 429 && body["error"] == "mail_limited";

    let (status, _) = alice
        .post_json("/api/invitations", &mail("eve@example.org"))
        .await;
    assert_eq!(status, 201);
    let (status, body) = alice
        .post_json("/api/invitations", &mail("EVE@example.org"))
        .await;
    assert!(
        refused(status, &body),
        "one mail an hour to eve: {status} {body}"
    );
    let (status, _) = alice
        .post_json("/api/invitations", &mail("dan@example.org"))
        .await;
    assert_eq!(status, 201);
    let (status, body) = alice
        .post_json("/api/invitations", &mail("carol@example.org"))
        .await;
    assert!(
        refused(status, &body),
        "three requests an hour for alice: {body}"
    );
    assert!(body["message"]
        .as_str()
        .is_some_and(|m| m.contains("own mail program")));
    // Eve is spared by every agent; Bob has mails of his own.
    let (status, body) = bob
        .post_json("/api/invitations", &mail("eve@example.org"))
        .await;
    assert!(refused(status, &body), "{body}");
    let (status, _) = bob
        .post_json("/api/invitations", &mail("frank@example.org"))
        .await;
    assert_eq!(status, 201);
    // A refusal stores no invitation.
    let (_, list) = alice.get_json("/api/invitations").await;
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    // An hour later Alice may mail again.
    server.clock.advance(3600);
    let (status, _) = alice
        .post_json("/api/invitations", &mail("carol@example.org"))
        .await;
    assert_eq!(status, 201);
    server.stop().await;
}

#[tokio::test]
async fn many_agents_together_cannot_turn_the_server_into_a_mass_mailer() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = with_dead_relay();
    config.mail_per_hour = 4;
    let server = TestServer::start_with(&db, config).await;
    let mut answers = Vec::new();
    for i in 0..6 {
        let agent = server.agent(&format!("Agent {i}")).await;
        let (status, body) = agent
            .post_json(
                "/api/invitations",
                &CreateInvitationRequest {
                    email_to: Some(format!("victim{i}@example.org")),
                    ..Default::default()
                },
            )
            .await;
        answers.push((status, body["error"].as_str().map(str::to_string)));
    }
    let sent = answers.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(sent, 4, "{answers:?}");
    assert!(answers[4..]
        .iter()
        .all(|(s, e)| *s == 429 && e.as_deref() == Some("mail_limited")));
    server.stop().await;
}

#[tokio::test]
async fn the_openapi_document_lists_pages_and_quota_refusals() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let (status, spec) = server.client().get_json("/api/openapi.json").await;
    assert_eq!(status, 200);
    let list = &spec["paths"]["/api/invitations"]["get"];
    let params: Vec<&str> = list["parameters"]
        .as_array()
        .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(params, ["limit", "after"], "{list}");
    assert!(list["responses"].get("400").is_some());
    let create = &spec["paths"]["/api/invitations"]["post"];
    assert!(create["responses"].get("429").is_some(), "{create}");
    let direct = &spec["paths"]["/api/invitations/direct"]["post"];
    assert!(direct["responses"].get("429").is_some());
    server.stop().await;
}
