//! A machine keeps its registration on a server whatever `--name` it is given later: its
//! invitations stay its own, to list and revoke, and the novice is told that the name the
//! expert sees stays the registered one.

use anyhow::Result;
use tests::console::{invitation_link, WAIT};
use tests::stack::{AgentProcess, ServerProcess};

/// The invitation ids in the output of `agent list`.
fn ids(list: &str) -> Vec<String> {
    list.lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_new_name_keeps_the_credential_and_its_invitations() -> Result<()> {
    let server = ServerProcess::start().await?;
    let mut first =
        AgentProcess::start(server.url(), "Nora", &["invite", "--local-ip", "127.0.0.1"]).await?;
    invitation_link(&mut first).await?;
    let first_ids = ids(&first.run(&["list"]).await?);
    let [first_id] = first_ids.as_slice() else {
        anyhow::bail!("one invitation after the first invite: {first_ids:?}");
    };

    // The same machine invites again under another name.
    let mut second =
        first.start_beside_as("Nora at work", &["invite", "--local-ip", "127.0.0.1"])?;
    invitation_link(&mut second).await?;

    // Under the new name it is still the same agent: both invitations are its own, and the
    // novice is told which name the expert sees.
    let (list, said) = first.run_as("Nora at work", &["list"]).await?;
    let all = ids(&list);
    assert_eq!(all.len(), 2, "{list}");
    assert!(all.contains(first_id), "{list}");
    assert!(
        said.contains("registered on")
            && said.contains("\"Nora\"")
            && said.contains("Nora at work"),
        "{said}"
    );
    let (revoked, _) = first.run_as("Nora at work", &["revoke", first_id]).await?;
    assert!(revoked.contains("is now revoked"), "{revoked}");

    // Under the registered name nothing needs saying.
    let (_, said) = first.run_as("Nora", &["list"]).await?;
    assert!(!said.contains("registered on"), "{said}");

    first.type_line("/quit").await?;
    second.type_line("/quit").await?;
    assert!(second.wait(WAIT).await?.success());
    assert!(first.wait(WAIT).await?.success());
    server.stop().await;
    Ok(())
}
