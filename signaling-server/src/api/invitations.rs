//! The novice's invitations: create, list, inspect, revoke, and the agent's report of failed
//! password checks. Agent only.
//!
//! No password reaches the server: the agent checks it with the expert's browser
//! (`docs/pake.md`). A creation request that carries one is refused (400
//! `password_not_accepted`) rather than ignored, so that an agent of an older version, which
//! would rely on the server to check it, learns at once that nothing would.
//!
//! Quotas keep one agent from flooding the server: at most `--max-open-invitations` open at
//! once, the list comes in pages (`?limit=&after=`), and invitation e-mails the server sends
//! itself are limited per agent, per recipient and in all each hour.

use super::agents::AuthedAgent;
use super::{ApiJson, ApiPath};
use crate::audit::{Actor, AuditKind};
use crate::error::ApiError;
use crate::invitation::{codes, Invitation, MAX_REPORTED_FAILURES};
use crate::retry;
use crate::state::AppState;
use crate::store::{AuditEvent, Writes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use lettre::message::Mailbox;
use protocol::api::{
    CreateInvitationRequest, ErrorBody, FailedChecks, InvitationCreated, InvitationSummary,
};
use protocol::ids::{AgentId, InvitationId};
use serde::Deserialize;
use utoipa::IntoParams;

/// Invitations in one page of `GET /api/invitations` when `limit` is not given.
pub const DEFAULT_PAGE: u32 = 50;
/// Most invitations one page may hold.
pub const MAX_PAGE: u32 = 200;

/// Refuses a new invitation of `agent` when it has as many open (or in use) as the server
/// allows. Runs first in the transaction that stores the invitation, so that concurrent
/// creations are counted one after the other.
pub async fn check_quota(
    writes: &mut Writes,
    state: &AppState,
    agent: AgentId,
    now: i64,
) -> Result<(), ApiError> {
    let open = writes.open_invitations(agent, now).await?;
    if open >= u64::from(state.max_open_invitations) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_invitations",
            format!(
                "You have {open} open invitations, the most this server allows. Revoke some \
                 (agent revoke ID) or wait until they expire."
            ),
        ));
    }
    Ok(())
}

/// Counts one server-sent e-mail for `agent` to `to`; refused above the hourly limits per
/// agent, per recipient and in all, so that the server's relay cannot be used to send spam.
fn check_mail_limits(state: &AppState, agent: AgentId, to: &Mailbox) -> Result<(), ApiError> {
    let now = state.clock.now();
    let refused = |what: &str| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "mail_limited",
            format!(
                "This server sends only a few invitation e-mails an hour {what}; send the link \
                 from your own mail program instead."
            ),
        )
    };
    if !state.mail_agent_limit.check(agent, now) {
        return Err(refused("for one machine"));
    }
    if !state
        .mail_recipient_limit
        .check(to.email.to_string().to_lowercase(), now)
    {
        return Err(refused("to one address"));
    }
    if !state.mail_total_limit.check((), now) {
        return Err(refused("in all"));
    }
    Ok(())
}

pub fn summary(state: &AppState, inv: &Invitation) -> InvitationSummary {
    InvitationSummary {
        id: inv.id,
        status: inv.status(state.clock.now()),
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
    (status = 400, body = ErrorBody, description = "Lifetime out of range, an address the server \
        cannot mail, or password_not_accepted: the request carries a password, which the server \
        never takes (the agent checks it)"),
    (status = 401, body = ErrorBody),
    (status = 429, body = ErrorBody, description = "too_many_invitations: the agent has as many \
        open invitations as the server allows (--max-open-invitations); mail_limited: too many \
        server-sent e-mails this hour for this agent, to this address or in all"),
))]
pub async fn create(
    State(state): State<AppState>,
    agent: AuthedAgent,
    ApiJson(req): ApiJson<CreateInvitationRequest>,
) -> Result<(StatusCode, Json<InvitationCreated>), ApiError> {
    let now = state.clock.now();
    if req.password.is_some() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "password_not_accepted",
            "This server never takes an invitation's password: the agent checks it with the \
             expert's browser. Update the agent, and send `has_password` instead.",
        ));
    }
    // Checked before anything is stored, so that a refusal leaves no invitation behind.
    let email_to = match (&req.email_to, &state.mailer) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(ApiError::bad_request(
                "This server cannot send e-mail (no SMTP relay is configured); send the link \
                 from your own mail program instead.",
            ))
        }
        (Some(to), Some(_)) => {
            let to = crate::mail::recipient(to).map_err(ApiError::bad_request)?;
            check_mail_limits(&state, agent.id, &to)?;
            Some(to)
        }
    };
    let inv = Invitation::create(
        InvitationId::new_random(),
        agent.id,
        req.has_password,
        req.expires_in_secs,
        now,
    )
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let new_codes = codes::generate(&mut rand::rngs::OsRng);
    let digests = new_codes.digests();
    let mut writes = state.store.begin().await?;
    check_quota(&mut writes, &state, agent.id, now).await?;
    writes.insert_invitation(&inv, &digests).await?;
    writes
        .append_audit(
            AuditEvent {
                agent: Some(agent.id),
                invitation: Some(inv.id),
                ..AuditEvent::new(AuditKind::InvitationCreated, Actor::Machine(&agent.name))
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

/// `GET /api/invitations` query: one page of the agent's invitations.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Invitations in the page: 1 to 200, default 50. A page shorter than this is the last.
    limit: Option<u32>,
    /// The id of the last invitation of the previous page; the page starts after it.
    after: Option<String>,
}

#[utoipa::path(get, path = "/api/invitations", security(("agent_token" = [])),
    params(ListQuery), responses(
    (status = 200, body = Vec<InvitationSummary>, description = "One page, newest first; a page \
        shorter than `limit` is the last, otherwise pass its last id as `after` for the next"),
    (status = 400, body = ErrorBody, description = "limit out of range, or after names no \
        invitation of this agent"),
    (status = 401, body = ErrorBody),
))]
pub async fn list(
    State(state): State<AppState>,
    agent: AuthedAgent,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<InvitationSummary>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "`limit` must be from 1 to {MAX_PAGE}."
        )));
    }
    let after = match &query.after {
        None => None,
        Some(raw) => {
            let unknown = || ApiError::bad_request("`after` names no invitation of yours.");
            let id = raw.parse().map_err(|_| unknown())?;
            Some(
                state
                    .store
                    .invitation(agent.id, id)
                    .await?
                    .ok_or_else(unknown)?,
            )
        }
    };
    let page = state
        .store
        .invitations(agent.id, after.as_ref(), limit)
        .await?;
    Ok(Json(page.iter().map(|i| summary(&state, i)).collect()))
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
    let (state, agent, id) = (&state, &agent, &id);
    let inv = retry::on_concurrent_change(
        || format!("invitation {id} being revoked"),
        || async move {
            let mut inv = owned(state, agent, id).await?;
            let now = state.clock.now();
            let was_revoked = inv.revoked_at.is_some();
            let session = inv.handle_revoke(now);
            let mut writes = state.store.begin().await?;
            if !writes.save_invitation(&mut inv).await? {
                return Ok(None);
            }
            if !was_revoked {
                writes
                    .append_audit(
                        AuditEvent {
                            agent: Some(agent.id),
                            invitation: Some(inv.id),
                            session,
                            ..AuditEvent::new(
                                AuditKind::InvitationRevoked,
                                Actor::Machine(&agent.name),
                            )
                        },
                        now,
                    )
                    .await?;
            }
            writes.commit().await?;
            if let Some(session) = session {
                state.signal.revoked(session);
            }
            Ok::<_, ApiError>(Some(inv))
        },
    )
    .await?;
    Ok(Json(summary(state, &inv)))
}

#[utoipa::path(post, path = "/api/invitations/{id}/failures", security(("agent_token" = [])),
    params(("id" = String, Path, description = "Invitation id")),
    request_body = FailedChecks, responses(
    (status = 200, body = InvitationSummary, description = "Recorded; a lock makes redemption \
        answer 423 locked from now on"),
    (status = 400, body = ErrorBody, description = "failed_attempts above 1000"),
    (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody),
))]
pub async fn failures(
    State(state): State<AppState>,
    agent: AuthedAgent,
    ApiPath(id): ApiPath<String>,
    ApiJson(report): ApiJson<FailedChecks>,
) -> Result<Json<InvitationSummary>, ApiError> {
    if report.failed_attempts > MAX_REPORTED_FAILURES {
        return Err(ApiError::bad_request(format!(
            "`failed_attempts` is at most {MAX_REPORTED_FAILURES}."
        )));
    }
    let (state, agent, id) = (&state, &agent, &id);
    let inv = retry::on_concurrent_change(
        || format!("failed checks of invitation {id} being recorded"),
        || async move {
            let mut inv = owned(state, agent, id).await?;
            let now = state.clock.now();
            let before = inv.failed_attempts;
            let locked = inv.handle_failed_checks(report.failed_attempts, report.locked, now);
            let mut writes = state.store.begin().await?;
            if !writes.save_invitation(&mut inv).await? {
                return Ok(None);
            }
            let event = |kind| AuditEvent {
                agent: Some(agent.id),
                invitation: Some(inv.id),
                session: inv.active_session,
                ..AuditEvent::new(kind, Actor::Machine(&agent.name))
            };
            if inv.failed_attempts > before {
                writes
                    .append_audit(event(AuditKind::WrongPassword), now)
                    .await?;
            }
            if locked {
                writes
                    .append_audit(event(AuditKind::InvitationLocked), now)
                    .await?;
            }
            writes.commit().await?;
            Ok::<_, ApiError>(Some(inv))
        },
    )
    .await?;
    Ok(Json(summary(state, &inv)))
}
