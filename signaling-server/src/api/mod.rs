//! The JSON API under `/api`, and its OpenAPI description at `/api/openapi.json`.
//!
//! * [`agents`]: registration and the agent's bearer credential.
//! * [`enroll`]: a machine joins an organisation's support desk with an enrolment token.
//! * [`invitations`]: create, list, inspect and revoke, and the agent's report of failed
//!   password checks (agent only).
//! * [`direct`]: an enrolled machine lists its desk's experts and invites one directly.
//! * [`redeem`]: the expert opens an invitation and receives a session ticket.
//! * [`health`]: liveness and database reachability.
//!
//! The document tells what the server really answers. Besides what each handler lists, every
//! operation with a JSON body also answers 400 (not JSON), 413 (over [`MAX_BODY`]), 415 (no
//! `Content-Type: application/json`) and 422 (JSON of the wrong shape), and every operation
//! behind the agent's bearer token 401; [`ApiJson`] and [`ApiPath`] give those rejections in the
//! API's JSON error format, and [`Rejections`] adds them to the document.

pub mod agents;
pub mod direct;
pub mod enroll;
pub mod health;
pub mod invitations;
pub mod redeem;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts};
use axum::routing::{get, post};
use axum::{Json, Router};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

/// Largest request body the API reads.
pub const MAX_BODY: usize = 64 * 1024;

/// JSON body extractor whose rejections are answered in the API's error format.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// Path parameter extractor whose rejections are answered in the API's error format.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

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
        invitations::failures,
        direct::experts,
        direct::send,
        redeem::redeem,
        health::health,
    ),
    modifiers(&AgentAuth, &Rejections)
)]
pub struct ApiDoc;

/// Adds to the document what the extractors answer before any handler runs.
struct Rejections;

/// Refusals of a JSON body by [`ApiJson`], by status.
fn body_rejections() -> [(&'static str, String); 4] {
    [
        (
            "400",
            "The body is not JSON, or a value in it is refused".into(),
        ),
        (
            "413",
            format!("The body is larger than {} KiB", MAX_BODY / 1024),
        ),
        (
            "415",
            "The request lacks `Content-Type: application/json`".into(),
        ),
        (
            "422",
            "The body is JSON but not of the documented shape (a missing field, a wrong type, \
             a number out of range)"
                .into(),
        ),
    ]
}

fn error_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .into()
}

impl Rejections {
    fn complete(operation: &mut Operation) {
        let responses = &mut operation.responses.responses;
        if operation.request_body.is_some() {
            for (status, description) in body_rejections() {
                responses
                    .entry(status.into())
                    .or_insert_with(|| error_response(&description));
            }
        }
        if operation.security.is_some() {
            responses
                .entry("401".into())
                .or_insert_with(|| error_response("Missing or invalid agent token"));
        }
    }
}

impl Modify for Rejections {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                Self::complete(operation);
            }
        }
    }
}

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
        .route(
            "/api/invitations/{id}/failures",
            post(invitations::failures),
        )
        .route("/api/redeem", post(redeem::redeem))
        .route(
            "/api/openapi.json",
            get(|| async { Json(ApiDoc::openapi()) }),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .route("/health", get(health::health))
}
