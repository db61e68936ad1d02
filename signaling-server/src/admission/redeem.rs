//! An expert opens an invitation with its code (and password, if it has one).
//!
//! Checks, in order: that the invitation exists, that it is open (not revoked, locked, in use
//! or expired), then the password. The password is only checked for an open invitation, so a
//! locked one reveals nothing about guesses. Each guess is counted atomically before it is
//! checked: concurrent guesses never pass the limit, and are each refused as a wrong password
//! or a locked invitation, never an internal error. Success creates a session waiting for the
//! novice's consent ([`super::admit`]).

use super::{admit, Admission};
use crate::audit::{Actor, AuditKind};
use crate::error::{ApiError, ServerError};
use crate::invitation::{codes, PasswordCheck, Refusal, MAX_PASSWORD};
use crate::secrets::verify_password;
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
        Refusal::PasswordRequired => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "password_required",
            "This invitation needs a password.",
        ),
        Refusal::WrongPassword { remaining } => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "wrong_password",
            format!(
                "Wrong password. {remaining} more {} before the invitation locks.",
                if remaining == 1 { "try" } else { "tries" }
            ),
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
    /// The link's code, or a short code as typed.
    pub code: &'a str,
    pub password: Option<&'a str>,
    /// How the expert wants to be named to the novice, already checked
    /// ([`crate::names::clean_name`]).
    pub expert_name: String,
}

/// Opens the invitation the expert gave the code of.
pub async fn redeem(state: &AppState, given: Redemption<'_>) -> Result<RedeemResponse, ApiError> {
    let Redemption {
        code,
        password,
        expert_name,
    } = given;
    let code = code.trim();
    if code.is_empty() || code.len() > MAX_CODE {
        return Err(unknown());
    }
    if password.is_some_and(|p| p.len() > MAX_PASSWORD) {
        return Err(ApiError::bad_request(format!(
            "The password can be at most {MAX_PASSWORD} bytes."
        )));
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
        .check_open(state.clock.now(), state.policy)
        .map_err(refusal_error)?;
    // A password is counted as an attempt before the hashing work, in one atomic statement,
    // so concurrent guesses stop at the limit and a locked invitation costs no hashing.
    let mut counted = None;
    let check = match (password, &found.password_hash) {
        (Some(p), Some(hash)) => {
            let Some(count) = state
                .store
                .count_password_attempt(id, state.policy.max_failed_attempts)
                .await?
            else {
                return Err(refusal_error(Refusal::Locked));
            };
            counted = Some(count);
            let (p, hash) = (p.to_owned(), hash.clone());
            let ok = crate::secrets::run_hashing(move || verify_password(&p, &hash))
                .await
                .map_err(ServerError::from)?;
            if ok {
                PasswordCheck::Correct
            } else {
                PasswordCheck::Wrong
            }
        }
        // A password for an invitation without one is ignored.
        (Some(_), None) => PasswordCheck::Wrong,
        (None, _) => PasswordCheck::NotSupplied,
    };
    // Decided on the row as it is now, held until commit, so that the save cannot conflict.
    let now = state.clock.now();
    let mut writes = state.store.begin().await?;
    let mut inv = writes.lock_invitation(id).await?.ok_or_else(unknown)?;
    let session = SessionId::new_random();
    let before = inv.clone();
    let outcome = inv.handle_redeem(check, session, now, state.policy);
    if inv != before && !writes.save_invitation(&mut inv).await? {
        return Err(ServerError::Invariant("a locked invitation changed".into()).into());
    }
    let audit = |kind| AuditEvent {
        agent: Some(inv.agent_id),
        invitation: Some(inv.id),
        ..AuditEvent::new(kind, Actor::Person(&expert_name))
    };
    match outcome {
        Ok(()) => {
            let admission = Admission {
                session,
                expert_name: expert_name.clone(),
                expert_user: None,
                novice_name: found.novice_name,
                offered_by_desk: None,
                audit: audit(AuditKind::InvitationRedeemed),
            };
            let admitted = admit(state, writes, &inv, admission, now).await?;
            tracing::info!(invitation = %inv.id, session = %session, "invitation redeemed");
            Ok(admitted)
        }
        Err(refusal) => {
            let kind = match (refusal, check) {
                (Refusal::WrongPassword { .. }, _) => Some(AuditKind::WrongPassword),
                // The guess whose count reached the limit locked it.
                (Refusal::Locked, PasswordCheck::Wrong)
                    if counted == Some(state.policy.max_failed_attempts) =>
                {
                    Some(AuditKind::InvitationLocked)
                }
                _ => None,
            };
            if let Some(kind) = kind {
                writes.append_audit(audit(kind), now).await?;
            }
            writes.commit().await?;
            Err(refusal_error(refusal))
        }
    }
}
