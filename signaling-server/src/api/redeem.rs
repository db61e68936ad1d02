//! `POST /api/redeem`: the expert opens an invitation.
//!
//! Checks, in order: rate limit per client address, that the invitation exists, that it is
//! open (not revoked, locked, in use or expired), then the password. The password is only
//! checked for an open invitation, so a locked one reveals nothing about guesses. Each guess
//! is counted atomically before it is checked: concurrent guesses never pass the limit, and
//! are each answered 401 or 423, never an internal error. Success
//! creates a session waiting for the novice's consent and returns a short-lived ticket for the
//! expert's WebSocket.

use super::invitations::MAX_PASSWORD;
use super::ApiJson;
use crate::error::{ApiError, ServerError};
use crate::invitation::{codes, Invitation, PasswordCheck, Refusal};
use crate::names::clean_name;
use crate::secrets::verify_password;
use crate::signal::NewSession;
use crate::state::AppState;
use crate::store::AuditEvent;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::Json;
use protocol::api::{ErrorBody, RedeemRequest, RedeemResponse};
use protocol::ids::SessionId;
use std::net::SocketAddr;

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

/// Admits an expert to `session`, just stored for invitation `inv`: the novice is asked (now,
/// or when the agent connects) and the expert gets the ticket for the signaling WebSocket.
pub fn admit(
    state: &AppState,
    session: SessionId,
    inv: &Invitation,
    expert_name: String,
    novice_name: String,
    offered_by_desk: Option<String>,
    now: i64,
) -> Result<RedeemResponse, ServerError> {
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
        ticket,
        ticket_expires_at,
        novice_name,
        ice_servers: state.ice.stun_only(),
    })
}

fn unknown() -> ApiError {
    ApiError::not_found(
        "unknown_invitation",
        "No invitation has this code. Check the link or code you were given.",
    )
}

#[utoipa::path(post, path = "/api/redeem", request_body = RedeemRequest, responses(
    (status = 200, body = RedeemResponse, description = "Waiting for the novice's consent"),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody, description = "password_required or wrong_password"),
    (status = 404, body = ErrorBody, description = "unknown_invitation"),
    (status = 409, body = ErrorBody, description = "in_use"),
    (status = 410, body = ErrorBody, description = "expired or revoked"),
    (status = 423, body = ErrorBody, description = "locked"),
    (status = 429, body = ErrorBody),
))]
pub async fn redeem(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<RedeemRequest>,
) -> Result<Json<RedeemResponse>, ApiError> {
    if !state
        .redeem_limit
        .check_client(peer.ip(), state.clock.now())
    {
        return Err(ApiError::too_many_requests());
    }
    let expert_name = clean_name(&req.expert_name, "Your name")?;
    let code = req.code.trim();
    if code.is_empty() || code.len() > 128 {
        return Err(unknown());
    }
    if req
        .password
        .as_ref()
        .is_some_and(|p| p.len() > MAX_PASSWORD)
    {
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
    let check = match (&req.password, &found.password_hash) {
        (Some(p), Some(hash)) => {
            let Some(count) = state
                .store
                .count_password_attempt(id, state.policy.max_failed_attempts)
                .await?
            else {
                return Err(refusal_error(Refusal::Locked));
            };
            counted = Some(count);
            let (p, hash) = (p.clone(), hash.clone());
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
    let audit = |kind: &'static str, session: Option<SessionId>| AuditEvent {
        kind,
        actor: &expert_name,
        agent: Some(inv.agent_id),
        invitation: Some(inv.id),
        session,
        ..Default::default()
    };
    match outcome {
        Ok(()) => {
            writes
                .insert_session(session, inv.id, inv.agent_id, &expert_name, now)
                .await?;
            writes
                .append_audit(audit("invitation_redeemed", Some(session)), now)
                .await?;
            writes.commit().await?;
            let admitted = admit(
                &state,
                session,
                &inv,
                expert_name.clone(),
                found.novice_name,
                None,
                now,
            )?;
            tracing::info!(invitation = %inv.id, session = %session, "invitation redeemed");
            Ok(Json(admitted))
        }
        Err(refusal) => {
            let kind = match (refusal, check) {
                (Refusal::WrongPassword { .. }, _) => Some("wrong_password"),
                // The guess whose count reached the limit locked it.
                (Refusal::Locked, PasswordCheck::Wrong)
                    if counted == Some(state.policy.max_failed_attempts) =>
                {
                    Some("invitation_locked")
                }
                _ => None,
            };
            if let Some(kind) = kind {
                writes.append_audit(audit(kind, None), now).await?;
            }
            writes.commit().await?;
            Err(refusal_error(refusal))
        }
    }
}
