//! The expert a novice invited directly ([`crate::api::direct`]) answers, once: accepting
//! uses the invitation up and lets the expert in; declining tells the novice's agent at once
//! and shows the invitation as declined in the novice's list.
//!
//! An answer is decided on the invitation as read and stored with its audit event in one
//! transaction, read again and decided afresh when another answer changed the row meanwhile
//! ([`crate::retry`]).

use super::{admit, Admission};
use crate::accounts::User;
use crate::audit::{Actor, AuditKind};
use crate::error::ServerError;
use crate::invitation::{AnswerRefusal, Invitation};
use crate::retry;
use crate::state::AppState;
use crate::store::{AuditEvent, Writes};
use protocol::api::RedeemResponse;
use protocol::ids::{InvitationId, SessionId};

/// Why an answer was not taken.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// The invitation cannot be answered by this person now; nothing changed.
    #[error("{0:?}")]
    Refused(AnswerRefusal),
    #[error(transparent)]
    Failed(#[from] ServerError),
}

impl From<AnswerRefusal> for AnswerError {
    fn from(refusal: AnswerRefusal) -> Self {
        Self::Refused(refusal)
    }
}

/// An expert let in by accepting.
#[derive(Debug)]
pub struct Accepted {
    pub invitation: Invitation,
    /// The machine's name.
    pub machine: String,
    pub session: RedeemResponse,
}

/// Reads invitation `id` in a new transaction and applies `decide` to it; `None` when
/// another answer changed the row between reading and saving.
async fn answered(
    state: &AppState,
    id: InvitationId,
    decide: impl FnOnce(&mut Invitation) -> Result<(), AnswerRefusal>,
) -> Result<Option<(Writes, Invitation)>, AnswerError> {
    let mut writes = state.store.begin().await?;
    let mut inv = writes
        .invitation_by_id(id)
        .await?
        .ok_or(AnswerRefusal::NotYours)?;
    decide(&mut inv)?;
    Ok(writes
        .save_invitation(&mut inv)
        .await?
        .then_some((writes, inv)))
}

fn audit<'a>(kind: AuditKind, user: &'a User, inv: &Invitation) -> AuditEvent<'a> {
    AuditEvent {
        agent: Some(inv.agent_id),
        invitation: Some(inv.id),
        org: Some(user.org),
        user: Some(user.id),
        ..AuditEvent::new(kind, Actor::Person(&user.login))
    }
}

/// `user` accepts invitation `id`: a session starts and the novice is asked.
pub async fn accept(
    state: &AppState,
    id: InvitationId,
    user: &User,
) -> Result<Accepted, AnswerError> {
    let now = state.clock.now();
    let session = SessionId::new_random();
    let accepted = retry::on_concurrent_change::<_, AnswerError, _>(
        || format!("invitation {id} being accepted"),
        || async move {
            let decide = |inv: &mut Invitation| inv.handle_accept(user.id, session, now);
            let Some((mut writes, invitation)) = answered(state, id, decide).await? else {
                return Ok(None);
            };
            let machine = writes
                .agent_name(invitation.agent_id)
                .await?
                .unwrap_or_default();
            let admission = Admission {
                session,
                expert_name: user.as_expert(),
                expert_user: Some(user.id),
                novice_name: machine.clone(),
                offered_by_desk: None,
                audit: audit(AuditKind::DirectInvitationAccepted, user, &invitation),
            };
            let session = admit(state, writes, &invitation, admission, now).await?;
            Ok(Some(Accepted {
                invitation,
                machine,
                session,
            }))
        },
    )
    .await?;
    tracing::info!(invitation = %id, session = %session, "direct invitation accepted");
    Ok(accepted)
}

/// `user` declines invitation `id`; the novice's agent is told at once.
pub async fn decline(
    state: &AppState,
    id: InvitationId,
    user: &User,
) -> Result<Invitation, AnswerError> {
    let now = state.clock.now();
    let inv = retry::on_concurrent_change::<_, AnswerError, _>(
        || format!("invitation {id} being declined"),
        || async move {
            let decide = |inv: &mut Invitation| inv.handle_decline(user.id, now);
            let Some((mut writes, inv)) = answered(state, id, decide).await? else {
                return Ok(None);
            };
            writes
                .append_audit(audit(AuditKind::DirectInvitationDeclined, user, &inv), now)
                .await?;
            writes.commit().await?;
            Ok(Some(inv))
        },
    )
    .await?;
    state
        .signal
        .invitation_declined(inv.agent_id, inv.id, user.as_expert());
    state.signal.nudge();
    tracing::info!(invitation = %inv.id, "direct invitation declined");
    Ok(inv)
}
