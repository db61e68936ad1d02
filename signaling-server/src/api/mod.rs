//! The JSON API under `/api`, and its OpenAPI description at `/api/openapi.json`.
//!
//! * [`agents`]: registration and the agent's bearer credential.
//! * [`enroll`]: a machine joins an organisation's support desk with an enrolment token.
//! * [`invitations`]: create, list, inspect and revoke (agent only).
//! * [`direct`]: an enrolled machine lists its desk's experts and invites one directly.
//! * [`redeem`]: the expert opens an invitation and receives a session ticket.
//! * [`health`]: liveness and database reachability.

pub mod agents;
pub mod direct;
pub mod enroll;
pub mod health;
pub mod invitations;
pub mod redeem;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, FromRequest};
use axum::routing::{get, post};
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Largest request body the API reads.
pub const MAX_BODY: usize = 64 * 1024;

/// JSON body extractor whose rejections are answered in the API's error format.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

#[derive(OpenApi)]
#[openapi(
    info(title = "Remote assistance signaling server"),
    paths(
        agents::register,
        agents::me,
        enroll::enroll,
        invitations::create,
        invitations::list,
        invitations::get_one,
        invitations::revoke,
        direct::experts,
        direct::send,
        redeem::redeem,
        health::health,
    ),
    modifiers(&AgentAuth)
)]
pub struct ApiDoc;

struct AgentAuth;

impl Modify for AgentAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "agent_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/agents", post(agents::register))
        .route("/api/agents/me", get(agents::me))
        .route("/api/enroll", post(enroll::enroll))
        .route(
            "/api/invitations",
            post(invitations::create).get(invitations::list),
        )
        .route("/api/invitations/direct", post(direct::send))
        .route("/api/experts", get(direct::experts))
        .route("/api/invitations/{id}", get(invitations::get_one))
        .route("/api/invitations/{id}/revoke", post(invitations::revoke))
        .route("/api/redeem", post(redeem::redeem))
        .route(
            "/api/openapi.json",
            get(|| async { Json(ApiDoc::openapi()) }),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .route("/health", get(health::health))
}
