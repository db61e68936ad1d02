//! The "messenger" path for an enrolled machine: list the experts of its support desk with
//! their presence (`GET /api/experts`), and send one of them an invitation directly
//! (`POST /api/invitations/direct`). The expert answers on the dashboard
//! ([`crate::desk::direct`]); a decline reaches the agent over its signaling connection.

use super::agents::AuthedAgent;
use super::ApiJson;
use crate::accounts::User;
use crate::audit::{Actor, AuditKind};
use crate::error::ApiError;
use crate::invitation::{codes, Invitation};
use crate::state::AppState;
use crate::store::AuditEvent;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use protocol::api::{DirectInvitationRequest, DirectInvitationSent, ErrorBody, ExpertSummary};
use protocol::ids::{InvitationId, OrgId};

fn not_enrolled() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "not_enrolled",
        "This machine is not enrolled into a support desk, so it has no experts to list. \
         Enrol it with `agent enroll --token TOKEN`, or invite a helper with a link.",
    )
}

fn org_of(agent: &AuthedAgent) -> Result<OrgId, ApiError> {
    agent.org.ok_or_else(not_enrolled)
}

fn summary(state: &AppState, user: &User) -> ExpertSummary {
    ExpertSummary {
        login: user.login.clone(),
        name: user.display_name.clone(),
        online: state.presence.is_online(user.id),
    }
}

#[utoipa::path(get, path = "/api/experts", security(("agent_token" = [])), responses(
    (status = 200, body = Vec<ExpertSummary>, description = "The support desk's people, by name"),
    (status = 401, body = ErrorBody),
    (status = 409, body = ErrorBody, description = "not_enrolled"),
))]
pub async fn experts(
    State(state): State<AppState>,
    agent: AuthedAgent,
) -> Result<Json<Vec<ExpertSummary>>, ApiError> {
    let org = org_of(&agent)?;
    let people = state.store.users_in_org(org).await?;
    Ok(Json(people.iter().map(|u| summary(&state, u)).collect()))
}

#[utoipa::path(post, path = "/api/invitations/direct", security(("agent_token" = [])),
    request_body = DirectInvitationRequest, responses(
    (status = 201, body = DirectInvitationSent, description = "On the expert's dashboard"),
    (status = 400, body = ErrorBody, description = "Lifetime out of range"),
    (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "unknown_expert"),
    (status = 409, body = ErrorBody, description = "not_enrolled"),
    (status = 429, body = ErrorBody, description = "too_many_invitations"),
))]
pub async fn send(
    State(state): State<AppState>,
    agent: AuthedAgent,
    ApiJson(req): ApiJson<DirectInvitationRequest>,
) -> Result<(StatusCode, Json<DirectInvitationSent>), ApiError> {
    let org = org_of(&agent)?;
    let login = req.to.trim();
    let expert = match state.store.user_by_login(login).await? {
        Some((user, _)) if user.org == org => user,
        // Somebody of another organisation is as unknown as nobody at all.
        _ => {
            return Err(ApiError::not_found(
                "unknown_expert",
                format!(
                    "Nobody with the login {login:?} works at your support desk; \
                     `agent experts` lists who does."
                ),
            ))
        }
    };
    let now = state.clock.now();
    let inv = Invitation::create_direct(
        InvitationId::new_random(),
        agent.id,
        expert.id,
        req.expires_in_secs,
        now,
    )
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    // The codes are never shown to anybody: only the addressed expert can answer.
    let digests = codes::generate(&mut rand::rngs::OsRng).digests();
    let detail = format!("to {}", expert.login);
    let mut writes = state.store.begin().await?;
    super::invitations::check_quota(&mut writes, &state, agent.id, now).await?;
    writes.insert_invitation(&inv, &digests).await?;
    writes
        .append_audit(
            AuditEvent {
                agent: Some(agent.id),
                invitation: Some(inv.id),
                org: Some(org),
                detail: &detail,
                ..AuditEvent::new(
                    AuditKind::InvitationSentDirectly,
                    Actor::Machine(&agent.name),
                )
            },
            now,
        )
        .await?;
    writes.commit().await?;
    state.signal.nudge();
    tracing::info!(invitation = %inv.id, agent = %agent.id, "direct invitation sent");
    Ok((
        StatusCode::CREATED,
        Json(DirectInvitationSent {
            id: inv.id,
            to: summary(&state, &expert),
            created_at: inv.created_at,
            expires_at: inv.expires_at,
        }),
    ))
}
