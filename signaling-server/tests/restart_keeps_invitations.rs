//! Stopping the server and starting it again on the same database keeps agents and their
//! invitations as they were; the agent reconnects with the credential it already has.

mod common;

use common::{agent_ws, expect_type, Backend, TestDb, TestServer};
use protocol::api::{CreateInvitationRequest, InvitationStatus, InvitationSummary};
use std::collections::HashMap;

async fn statuses(agent: &common::Client) -> HashMap<String, InvitationStatus> {
    let (status, list) = agent.get_json("/api/invitations").await;
    assert_eq!(status, 200);
    let list: Vec<InvitationSummary> = serde_json::from_value(list).expect("list");
    list.into_iter()
        .map(|i| (i.id.to_string(), i.status))
        .collect()
}

async fn restart_keeps_invitations(backend: Backend) {
    let db = TestDb::new(backend).await;
    let server = TestServer::start(&db).await;
    let alice = server.agent("Alice").await;
    let expert = server.client();

    let open = alice.invite(&CreateInvitationRequest::default()).await;
    let revoked = alice.invite(&CreateInvitationRequest::default()).await;
    alice
        .post_json(&format!("/api/invitations/{}/revoke", revoked.id), &())
        .await;
    let locked = alice
        .invite(&CreateInvitationRequest {
            expires_in_secs: Some(7200),
            has_password: true,
            ..Default::default()
        })
        .await;
    // The agent judged five wrong passwords and locked it.
    let (status, _) = alice.report_failures(locked.id, 5, true).await;
    assert_eq!(status, 200);
    let in_use = alice.invite(&CreateInvitationRequest::default()).await;
    let (status, _) = expert.redeem(&in_use.code).await;
    assert_eq!(status, 200);

    let before = statuses(&alice).await;
    assert_eq!(before[&open.id.to_string()], InvitationStatus::Open);
    assert_eq!(before[&revoked.id.to_string()], InvitationStatus::Revoked);
    assert_eq!(before[&locked.id.to_string()], InvitationStatus::Locked);
    assert_eq!(before[&in_use.id.to_string()], InvitationStatus::InUse);
    server.stop().await;

    let server = TestServer::start(&db).await;
    let alice = common::Client {
        base: server.base.clone(),
        ..alice
    };
    let after = statuses(&alice).await;
    assert_eq!(after.len(), 4);
    assert_eq!(after[&open.id.to_string()], InvitationStatus::Open);
    assert_eq!(after[&revoked.id.to_string()], InvitationStatus::Revoked);
    assert_eq!(after[&locked.id.to_string()], InvitationStatus::Locked);
    // No WebSocket survives a restart, so the session that held it is over and it is open.
    assert_eq!(after[&in_use.id.to_string()], InvitationStatus::Open);

    // The agent's credential still works on the new process, for HTTP and its WebSocket.
    let mut ws = agent_ws(&server, &alice).await;
    assert_eq!(expect_type(&mut ws, "welcome").await["agent_name"], "Alice");
    let expert = server.client();
    let (status, body) = expert.redeem(&open.code).await;
    assert_eq!(status, 200, "{body}");
    expect_type(&mut ws, "session_request").await;
    let (status, _) = expert.redeem(&locked.code).await;
    assert_eq!(status, 423);

    server.stop().await;
    db.cleanup().await;
}
both_backends!(restart_keeps_invitations, restart_keeps_invitations);
