//! Letting an expert into a session.
//!
//! There are three ways in, one file each: [`redeem`] (an expert opens an invitation),
//! [`offer`] (an operator offers help to an enrolled machine) and [`answer`] (the expert a
//! novice invited directly accepts, or declines). Each decides, in one transaction, whether the
//! expert may come in and puts the invitation in use; [`admit`] does the rest the same way for
//! all three: the session's row, the audit event and the commit, then the expert's ticket and
//! the novice's question (now, or when the agent connects).

pub mod answer;
pub mod offer;
pub mod redeem;

use crate::error::ServerError;
use crate::invitation::Invitation;
use crate::signal::NewSession;
use crate::state::AppState;
use crate::store::{AuditEvent, Writes};
use protocol::api::RedeemResponse;
use protocol::ids::{SessionId, UserId};

/// An expert about to be let into `session`.
#[derive(Debug)]
pub struct Admission<'a> {
    pub session: SessionId,
    /// How the novice sees the expert in the consent prompt.
    pub expert_name: String,
    /// The desk account of the expert, when a signed-in person comes in.
    pub expert_user: Option<UserId>,
    /// The machine's name, as the expert sees it.
    pub novice_name: String,
    /// The support desk offering help, named to the novice.
    pub offered_by_desk: Option<String>,
    /// What the audit log records; its session is `session`.
    pub audit: AuditEvent<'a>,
}

/// Admits the expert through `inv`, which `writes` has just put in use for the session:
/// stores the session and the audit event, commits, and then tells the hub, which asks the
/// novice. The answer holds the expert's ticket for the signaling WebSocket.
pub async fn admit(
    state: &AppState,
    mut writes: Writes,
    inv: &Invitation,
    admission: Admission<'_>,
    now: i64,
) -> Result<RedeemResponse, ServerError> {
    let Admission {
        session,
        expert_name,
        expert_user,
        novice_name,
        offered_by_desk,
        audit,
    } = admission;
    writes
        .insert_session(session, inv.id, inv.agent_id, &expert_name, now)
        .await?;
    if let Some(user) = expert_user {
        writes.set_session_expert(session, user).await?;
    }
    writes
        .append_audit(
            AuditEvent {
                session: Some(session),
                ..audit
            },
            now,
        )
        .await?;
    writes.commit().await?;

    let (ticket, ticket_expires_at) = state.tickets.issue(session, inv.id, now)?;
    // The TURN credential goes to the expert with the novice's yes (the hub's consent frame).
    state.signal.session_created(NewSession {
        id: session,
        invitation: inv.id,
        agent: inv.agent_id,
        expert_name,
        novice_name: novice_name.clone(),
        ice_servers: state.ice.for_session(&session.to_string(), now),
        answer_by: now + state.consent_timeout_secs,
        offered_by_desk,
    });
    Ok(RedeemResponse {
        session_id: session,
        invitation_id: inv.id,
        ticket,
        ticket_expires_at,
        novice_name,
        ice_servers: state.ice.stun_only(),
    })
}
