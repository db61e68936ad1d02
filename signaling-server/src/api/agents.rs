//! Agent registration and authentication.
//!
//! An agent registers once and receives a token `<agent id>.<secret>`; the server keeps only
//! SHA-256 of the secret. Every agent call, and the agent's WebSocket, presents it as
//! `Authorization: Bearer <token>`.

use super::ApiJson;
use crate::audit::{Actor, AuditKind};
use crate::error::ApiError;
use crate::names::clean_name;
use crate::secrets::{digests_equal, random_token, sha256_hex};
use crate::state::AppState;
use crate::store::{AgentRecord, AuditEvent};
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::Json;
use protocol::api::{ErrorBody, RegisterAgentRequest, RegisterAgentResponse};
use protocol::ids::{AgentId, OrgId};
use serde::Serialize;
use std::net::SocketAddr;

#[utoipa::path(post, path = "/api/agents", request_body = RegisterAgentRequest, responses(
    (status = 201, body = RegisterAgentResponse, description = "Registered; keep the token"),
    (status = 400, body = ErrorBody,
        description = "The name is empty, longer than 64 characters or has control characters"),
    (status = 429, body = ErrorBody, description = "Too many registrations from this address"),
))]
pub async fn register(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<RegisterAgentRequest>,
) -> Result<(StatusCode, Json<RegisterAgentResponse>), ApiError> {
    let now = state.clock.now();
    if !state.register_limit.check_client(peer.ip(), now) {
        return Err(ApiError::too_many_requests());
    }
    let name = clean_name(&req.name, "The agent's name")?;
    let id = AgentId::new_random();
    let secret = random_token();
    let record = AgentRecord {
        id,
        name,
        token_hash: sha256_hex(&secret),
        org: None,
    };
    let mut writes = state.store.begin().await?;
    writes.insert_agent(&record, now).await?;
    writes
        .append_audit(
            AuditEvent {
                agent: Some(id),
                ..AuditEvent::new(AuditKind::AgentRegistered, Actor::Machine(&record.name))
            },
            now,
        )
        .await?;
    writes.commit().await?;
    tracing::info!(agent = %id, "agent registered");
    Ok((
        StatusCode::CREATED,
        Json(RegisterAgentResponse {
            agent_id: id,
            agent_token: format!("{id}.{secret}"),
        }),
    ))
}

/// An agent that presented a valid token.
#[derive(Clone, Debug)]
pub struct AuthedAgent {
    pub id: AgentId,
    pub name: String,
    /// The organisation of an enrolled machine.
    pub org: Option<OrgId>,
}

impl FromRequestParts<AppState> for AuthedAgent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(ApiError::unauthorized)?;
        authenticate(state, header).await
    }
}

/// Checks an `Authorization` header value against the stored agent.
pub async fn authenticate(state: &AppState, header: &str) -> Result<AuthedAgent, ApiError> {
    let token = header
        .strip_prefix("Bearer ")
        .ok_or_else(ApiError::unauthorized)?;
    let (id, secret) = token.split_once('.').ok_or_else(ApiError::unauthorized)?;
    let id: AgentId = id.parse().map_err(|_| ApiError::unauthorized())?;
    let record = state
        .store
        .agent(id)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    if !digests_equal(&sha256_hex(secret), &record.token_hash) {
        return Err(ApiError::unauthorized());
    }
    Ok(AuthedAgent {
        id,
        name: record.name,
        org: record.org,
    })
}

/// Who the token belongs to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgentInfo {
    pub agent_id: AgentId,
    pub name: String,
}

#[utoipa::path(get, path = "/api/agents/me", security(("agent_token" = [])), responses(
    (status = 200, body = AgentInfo),
    (status = 401, body = ErrorBody),
))]
pub async fn me(agent: AuthedAgent) -> Json<AgentInfo> {
    Json(AgentInfo {
        agent_id: agent.id,
        name: agent.name,
    })
}
