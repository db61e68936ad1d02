//! `agent list` shows every invitation, however many pages the server splits them into.

use agent::server_api::{ServerApi, INVITATIONS_PAGE};
use anyhow::Result;
use protocol::api::CreateInvitationRequest;
use std::collections::HashSet;
use tests::stack::{ScratchDir, ServerProcess};

#[tokio::test]
async fn the_agent_lists_every_invitation_across_pages() -> Result<()> {
    let server = ServerProcess::start_with(&["--max-open-invitations", "1000"]).await?;
    let dir = ScratchDir::new("agent")?;
    let api = ServerApi::connect(server.url(), "Alice", dir.path()).await?;
    let count = INVITATIONS_PAGE + 5;
    let mut made = HashSet::new();
    for _ in 0..count {
        made.insert(
            api.create_invitation(&CreateInvitationRequest::default())
                .await?
                .id,
        );
    }
    let listed = api.invitations().await?;
    assert_eq!(listed.len(), count, "every invitation, on two pages");
    let ids: HashSet<_> = listed.iter().map(|i| i.id).collect();
    assert_eq!(ids, made, "each one once");
    assert!(
        listed
            .windows(2)
            .all(|w| w[0].created_at >= w[1].created_at),
        "newest first"
    );
    Ok(())
}
