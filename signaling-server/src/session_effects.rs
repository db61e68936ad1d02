//! Applies what happens to live sessions to the database, in order, off the signaling path:
//! consent answers are recorded, ended sessions free their invitation, and both are audited.

use crate::clock::Clock;
use crate::error::ServerError;
use crate::invitation::Invitation;
use crate::store::{AuditEvent, Store};
use protocol::ids::{AgentId, InvitationId, SessionId};
use protocol::signal::EndReason;
use tokio::sync::mpsc;

/// A change to persist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    ConsentAnswered {
        session: SessionId,
        invitation: InvitationId,
        agent: AgentId,
        accepted: bool,
    },
    SessionEnded {
        session: SessionId,
        invitation: InvitationId,
        agent: AgentId,
        reason: EndReason,
    },
}

/// Runs until every sender is gone.
pub async fn run(store: Store, clock: Clock, mut effects: mpsc::UnboundedReceiver<Effect>) {
    while let Some(effect) = effects.recv().await {
        if let Err(err) = apply(&store, clock.now(), &effect).await {
            tracing::error!(error = %err, ?effect, "cannot store a session change");
        }
    }
}

async fn apply(store: &Store, now: i64, effect: &Effect) -> Result<(), ServerError> {
    match *effect {
        Effect::ConsentAnswered {
            session,
            invitation,
            agent,
            accepted,
        } => {
            if accepted {
                store.mark_session_accepted(session, now).await?;
            }
            let kind = if accepted {
                "session_accepted"
            } else {
                "session_declined"
            };
            store
                .append_audit(
                    AuditEvent {
                        kind,
                        actor: "novice",
                        agent: Some(agent),
                        invitation: Some(invitation),
                        session: Some(session),
                        detail: "",
                    },
                    now,
                )
                .await
        }
        Effect::SessionEnded {
            session,
            invitation,
            agent,
            reason,
        } => {
            release_invitation(store, invitation, session).await?;
            let reason = reason_code(reason);
            store.end_session(session, &reason, now).await?;
            store
                .append_audit(
                    AuditEvent {
                        kind: "session_ended",
                        actor: "server",
                        agent: Some(agent),
                        invitation: Some(invitation),
                        session: Some(session),
                        detail: &reason,
                    },
                    now,
                )
                .await
        }
    }
}

/// Frees the invitation the ended session was using, retrying on a concurrent write.
async fn release_invitation(
    store: &Store,
    invitation: InvitationId,
    session: SessionId,
) -> Result<(), ServerError> {
    for _ in 0..5 {
        let Some(mut inv): Option<Invitation> = store.invitation_by_id(invitation).await? else {
            return Ok(());
        };
        if inv.active_session != Some(session) {
            return Ok(());
        }
        inv.handle_session_ended(session);
        if store.save_invitation(&mut inv).await? {
            return Ok(());
        }
    }
    Err(ServerError::Corrupt(format!(
        "invitation {invitation} kept changing while releasing session {session}"
    )))
}

/// The snake_case name of an end reason, as stored and shown.
pub fn reason_code(reason: EndReason) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{reason:?}"))
}
