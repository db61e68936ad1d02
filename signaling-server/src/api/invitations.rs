//! The novice's invitations: create, list, inspect, revoke. Agent only.

use super::agents::AuthedAgent;
use super::{ApiJson, ApiPath};
use crate::error::{ApiError, ServerError};
use crate::invitation::{codes, Invitation};
use crate::secrets::hash_password;
use crate::state::AppState;
use crate::store::AuditEvent;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use protocol::api::{CreateInvitationRequest, ErrorBody, InvitationCreated, InvitationSummary};
use protocol::ids::InvitationId;

/// Longest password accepted, in bytes (hashing cost grows with length).
pub const MAX_PASSWORD: usize = 256;

pub fn summary(state: &AppState, inv: &Invitation) -> InvitationSummary {
    InvitationSummary {
        id: inv.id,
        status: inv.status(state.clock.now(), state.policy),
        created_at: inv.created_at,
        expires_at: inv.expires_at,
        has_password: inv.has_password,
        failed_attempts: inv.failed_attempts,
        session_id: inv.active_session,
    }
}

#[utoipa::path(post, path = "/api/invitations", security(("agent_token" = [])),
    request_body = CreateInvitationRequest, responses(
    (status = 201, body = InvitationCreated),
    (status = 400, body = ErrorBody, description = "Lifetime out of range or bad password"),
    (status = 401, body = ErrorBody),
))]
pub async fn create(
    State(state): State<AppState>,
    agent: AuthedAgent,
    ApiJson(req): ApiJson<CreateInvitationRequest>,
) -> Result<(StatusCode, Json<InvitationCreated>), ApiError> {
    let now = state.clock.now();
    // Checked before anything is stored, so that a refusal leaves no invitation behind.
    let email_to = match (&req.email_to, &state.mailer) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(ApiError::bad_request(
                "This server cannot send e-mail (no SMTP relay is configured); send the link \
                 from your own mail program instead.",
            ))
        }
        (Some(to), Some(_)) => Some(crate::mail::recipient(to).map_err(ApiError::bad_request)?),
    };
    let inv = Invitation::create(
        InvitationId::new_random(),
        agent.id,
        req.password.is_some(),
        req.expires_in_secs,
        now,
    )
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let password_hash = match req.password {
        Some(p) if p.is_empty() => {
            return Err(ApiError::bad_request(
                "The password must not be empty; leave it out for no password.",
            ))
        }
        Some(p) if p.len() > MAX_PASSWORD => {
            return Err(ApiError::bad_request(format!(
                "The password can be at most {MAX_PASSWORD} bytes."
            )))
        }
        Some(p) => Some(
            crate::secrets::run_hashing(move || hash_password(&p))
                .await
                .map_err(ServerError::from)?
                .map_err(|e| ServerError::PasswordHash(e.to_string()))?,
        ),
        None => None,
    };
    let new_codes = codes::generate(&mut rand::rngs::OsRng);
    let (code_hash, short_hash) = new_codes.digests();
    let mut writes = state.store.begin().await?;
    writes
        .insert_invitation(&inv, &code_hash, &short_hash, password_hash.as_deref())
        .await?;
    writes
        .append_audit(
            AuditEvent {
                kind: "invitation_created",
                actor: &agent.name,
                agent: Some(agent.id),
                invitation: Some(inv.id),
                ..Default::default()
            },
            now,
        )
        .await?;
    writes.commit().await?;
    let mut created = InvitationCreated {
        id: inv.id,
        link: format!("{}/i/{}", state.public_url, new_codes.code),
        code: new_codes.code,
        short_code: new_codes.short_code,
        created_at: inv.created_at,
        expires_at: inv.expires_at,
        has_password: inv.has_password,
        emailed_to: None,
        email_error: None,
    };
    if let (Some(to), Some(mailer)) = (email_to, &state.mailer) {
        match mailer.send_invitation(&to, &agent.name, &created).await {
            Ok(()) => created.emailed_to = Some(to.to_string()),
            Err(error) => {
                tracing::warn!(invitation = %inv.id, %error, "invitation e-mail not sent");
                created.email_error = Some(error);
            }
        }
    }
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/api/invitations", security(("agent_token" = [])), responses(
    (status = 200, body = Vec<InvitationSummary>, description = "Newest first"),
    (status = 401, body = ErrorBody),
))]
pub async fn list(
    State(state): State<AppState>,
    agent: AuthedAgent,
) -> Result<Json<Vec<InvitationSummary>>, ApiError> {
    let all = state.store.invitations(agent.id).await?;
    Ok(Json(all.iter().map(|i| summary(&state, i)).collect()))
}

fn parse_id(raw: &str) -> Result<InvitationId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found("unknown_invitation", "No such invitation."))
}

async fn owned(state: &AppState, agent: &AuthedAgent, id: &str) -> Result<Invitation, ApiError> {
    state
        .store
        .invitation(agent.id, parse_id(id)?)
        .await?
        .ok_or_else(|| ApiError::not_found("unknown_invitation", "No such invitation."))
}

#[utoipa::path(get, path = "/api/invitations/{id}", security(("agent_token" = [])),
    params(("id" = String, Path, description = "Invitation id")), responses(
    (status = 200, body = InvitationSummary),
    (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody),
))]
pub async fn get_one(
    State(state): State<AppState>,
    agent: AuthedAgent,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<InvitationSummary>, ApiError> {
    let inv = owned(&state, &agent, &id).await?;
    Ok(Json(summary(&state, &inv)))
}

#[utoipa::path(post, path = "/api/invitations/{id}/revoke", security(("agent_token" = [])),
    params(("id" = String, Path, description = "Invitation id")), responses(
    (status = 200, body = InvitationSummary, description = "Expired now; a session using it ends"),
    (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody),
))]
pub async fn revoke(
    State(state): State<AppState>,
    agent: AuthedAgent,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<InvitationSummary>, ApiError> {
    for _ in 0..5 {
        let mut inv = owned(&state, &agent, &id).await?;
        let now = state.clock.now();
        let was_revoked = inv.revoked_at.is_some();
        let session = inv.handle_revoke(now);
        let mut writes = state.store.begin().await?;
        if !writes.save_invitation(&mut inv).await? {
            continue;
        }
        if !was_revoked {
            writes
                .append_audit(
                    AuditEvent {
                        kind: "invitation_revoked",
                        actor: &agent.name,
                        agent: Some(agent.id),
                        invitation: Some(inv.id),
                        session,
                        ..Default::default()
                    },
                    now,
                )
                .await?;
        }
        writes.commit().await?;
        if let Some(session) = session {
            state.signal.revoked(session);
        }
        return Ok(Json(summary(&state, &inv)));
    }
    Err(ServerError::Corrupt("invitation kept changing during revoke".into()).into())
}
