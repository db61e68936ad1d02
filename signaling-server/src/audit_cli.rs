//! `signaling-server audit verify` and `signaling-server audit export`.

use anyhow::Context;
use signaling_server::config::AuditCommand;
use signaling_server::store::{AuditFilter, AuditVerdict, Store};
use std::io::Write;

/// Runs one audit command on `store`. A broken chain is an error, so the process exits with
/// status 1 and names the first broken event.
pub async fn run(store: &Store, command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify => verify(store).await,
        AuditCommand::Export {
            format,
            output,
            since,
            until,
            kind,
            actor,
        } => {
            let mut events = store
                .audit(&AuditFilter {
                    since,
                    until,
                    kind,
                    actor,
                    ..AuditFilter::default()
                })
                .await
                .context("cannot read the audit log")?;
            events.reverse(); // oldest first
            let text = format.render(&events);
            match output {
                Some(path) => {
                    std::fs::write(&path, text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!(
                        "Exported {} audit events to {}.",
                        events.len(),
                        path.display()
                    );
                }
                None => {
                    let mut stdout = std::io::stdout().lock();
                    stdout
                        .write_all(text.as_bytes())
                        .and_then(|()| stdout.flush())
                        .context("cannot write to standard output")?;
                }
            }
            Ok(())
        }
    }
}

async fn verify(store: &Store) -> anyhow::Result<()> {
    let verdict = store
        .verify_audit()
        .await
        .context("cannot read the audit log")?;
    match verdict {
        AuditVerdict::Intact { events, head_hash } => {
            let prefix = head_hash.get(..16).unwrap_or(&head_hash);
            println!("Audit log intact: {events} events, chain head {prefix}");
            Ok(())
        }
        AuditVerdict::Broken { checked, breach } => {
            anyhow::bail!("audit log broken: {breach} ({checked} events before it are intact)")
        }
    }
}
