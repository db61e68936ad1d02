//! An operator offers help to one of the organisation's enrolled machines.
//!
//! The server makes a one-off invitation on the desk's behalf (audited as `help_offered`) and
//! redeems it at once for the operator: the novice is asked exactly as for an invitation, but
//! the prompt names the operator and the desk. Whether the machine is the operator's to help
//! and free to be asked is checked by the caller ([`crate::desk::offer`]).

use super::{admit, Admission};
use crate::accounts::User;
use crate::audit::{Actor, AuditKind};
use crate::error::ServerError;
use crate::invitation::{codes, Invitation, MIN_LIFETIME_SECS};
use crate::state::AppState;
use crate::store::AuditEvent;
use protocol::api::RedeemResponse;
use protocol::ids::{AgentId, InvitationId, SessionId};

/// Lets `user` into a new session with `agent`, the machine called `machine_name`.
pub async fn offer(
    state: &AppState,
    user: &User,
    agent: AgentId,
    machine_name: &str,
) -> Result<RedeemResponse, ServerError> {
    let now = state.clock.now();
    // Long enough for the novice to answer; the invitation is used up at once anyway.
    let lifetime = MIN_LIFETIME_SECS.max(state.consent_timeout_secs.unsigned_abs() + 60);
    let mut inv = Invitation::create(
        InvitationId::new_random(),
        agent,
        false,
        Some(lifetime),
        now,
    )
    .map_err(|e| ServerError::Invariant(format!("the offer's invitation: {e}")))?;
    // The invitation's codes are never shown to anybody: the operator is admitted right here.
    let digests = codes::generate(&mut rand::rngs::OsRng).digests();
    let session = SessionId::new_random();
    let mut writes = state.store.begin().await?;
    writes.insert_invitation(&inv, &digests).await?;
    inv.handle_redeem(session, now).map_err(|refusal| {
        ServerError::Invariant(format!("new invitation refused: {refusal:?}"))
    })?;
    if !writes.save_invitation(&mut inv).await? {
        return Err(ServerError::Invariant(
            "the new invitation changed meanwhile".into(),
        ));
    }
    writes.mark_offered(inv.id, user.id).await?;
    let admission = Admission {
        session,
        expert_name: user.as_expert(),
        expert_user: Some(user.id),
        novice_name: machine_name.to_owned(),
        offered_by_desk: Some(user.org_name.clone()),
        audit: AuditEvent {
            agent: Some(agent),
            invitation: Some(inv.id),
            org: Some(user.org),
            user: Some(user.id),
            ..AuditEvent::new(AuditKind::HelpOffered, Actor::Person(&user.login))
        },
    };
    let admitted = admit(state, writes, &inv, admission, now).await?;
    tracing::info!(agent = %agent, session = %session, "help offered from the desk");
    Ok(admitted)
}
