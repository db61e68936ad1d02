//! An expert opens an invitation with its code.
//!
//! Checks that the invitation exists and is open (not revoked, locked, in use or expired), puts
//! it in use and creates a session waiting for the novice's consent ([`super::admit`]). No
//! password is given here, nor the secret after a link's `#`: the agent checks those with the
//! expert's browser once the novice has allowed the connection (`docs/pake.md`), and tells the
//! server when it locks the invitation after too many failures.

use super::{admit, Admission};
use crate::audit::{Actor, AuditKind};
use crate::error::{ApiError, ServerError};
use crate::invitation::{codes, Refusal};
use crate::state::AppState;
use crate::store::AuditEvent;
use axum::http::StatusCode;
use protocol::api::RedeemResponse;
use protocol::ids::SessionId;

/// Longest code looked up; anything longer names no invitation.
const MAX_CODE: usize = 128;

/// What the expert is told for each refusal.
pub fn refusal_error(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::Expired => ApiError::new(
            StatusCode::GONE,
            "expired",
            "This invitation has expired. Ask for a new one.",
        ),
        Refusal::Revoked => ApiError::new(
            StatusCode::GONE,
            "revoked",
            "This invitation was cancelled by the person who sent it.",
        ),
        Refusal::Locked => ApiError::new(
            StatusCode::LOCKED,
            "locked",
            "This invitation is locked after too many wrong passwords. Ask for a new one.",
        ),
        Refusal::InUse => ApiError::new(
            StatusCode::CONFLICT,
            "in_use",
            "Someone is already connected through this invitation.",
        ),
    }
}

fn unknown() -> ApiError {
    ApiError::not_found(
        "unknown_invitation",
        "No invitation has this code. Check the link or code you were given.",
    )
}

/// What an expert gives to open an invitation.
#[derive(Debug)]
pub struct Redemption<'a> {
    /// The link's code, or a short code's lookup part as typed.
    pub code: &'a str,
    /// How the expert wants to be named to the novice, already checked
    /// ([`crate::names::clean_name`]).
    pub expert_name: String,
}

/// Opens the invitation the expert gave the code of.
pub async fn redeem(state: &AppState, given: Redemption<'_>) -> Result<RedeemResponse, ApiError> {
    let Redemption { code, expert_name } = given;
    let code = code.trim();
    if code.is_empty() || code.len() > MAX_CODE {
        return Err(unknown());
    }
    let code_hash = codes::digest(code);
    let short_hash = codes::short_digest(code);

    let found = state
        .store
        .find_invitation_by_code(&code_hash, short_hash.as_deref())
        .await?
        .ok_or_else(unknown)?;
    let id = found.invitation.id;
    // What cannot be opened is answered from what was read: nothing changes.
    found
        .invitation
        .check_open(state.clock.now())
        .map_err(refusal_error)?;
    // Decided on the row as it is now, held until commit, so that the save cannot conflict.
    let now = state.clock.now();
    let mut writes = state.store.begin().await?;
    let mut inv = writes.lock_invitation(id).await?.ok_or_else(unknown)?;
    let session = SessionId::new_random();
    inv.handle_redeem(session, now).map_err(refusal_error)?;
    if !writes.save_invitation(&mut inv).await? {
        return Err(ServerError::Invariant("a locked invitation changed".into()).into());
    }
    let admission = Admission {
        session,
        expert_name: expert_name.clone(),
        expert_user: None,
        novice_name: found.novice_name,
        offered_by_desk: None,
        audit: AuditEvent {
            agent: Some(inv.agent_id),
            invitation: Some(inv.id),
            ..AuditEvent::new(AuditKind::InvitationRedeemed, Actor::Person(&expert_name))
        },
    };
    let admitted = admit(state, writes, &inv, admission, now).await?;
    tracing::info!(invitation = %inv.id, session = %session, "invitation redeemed");
    Ok(admitted)
}
