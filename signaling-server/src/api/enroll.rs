//! `POST /api/enroll`: a machine joins an organisation with an enrolment token.
//!
//! Rate-limited per client address together with registration (both create agents). The
//! refusals say what the novice can do: an unknown token is 401, a revoked one 403, an expired
//! or used-up one 410 (it will never work again).

use super::ApiJson;
use crate::enrolment::{self, EnrolError};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::Json;
use protocol::api::{EnrollRequest, EnrollResponse, ErrorBody};
use std::net::SocketAddr;

#[utoipa::path(post, path = "/api/enroll", request_body = EnrollRequest, responses(
    (status = 201, body = EnrollResponse, description = "Enrolled; keep the token"),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody, description = "Unknown enrolment token"),
    (status = 403, body = ErrorBody, description = "Revoked enrolment token"),
    (status = 410, body = ErrorBody, description = "Expired or used-up enrolment token"),
    (status = 429, body = ErrorBody),
))]
pub async fn enroll(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<EnrollRequest>,
) -> Result<(StatusCode, Json<EnrollResponse>), ApiError> {
    let now = state.clock.now();
    if !state.register_limit.check_client(peer.ip(), now) {
        return Err(ApiError::too_many_requests());
    }
    let enrolled = enrolment::enroll(&state.store, &req.token, &req.name, now)
        .await
        .map_err(refusal)?;
    Ok((
        StatusCode::CREATED,
        Json(EnrollResponse {
            agent_id: enrolled.agent_id,
            agent_token: enrolled.agent_token,
            organisation: enrolled.organisation,
        }),
    ))
}

fn refusal(err: EnrolError) -> ApiError {
    let message = err.to_string();
    match err {
        EnrolError::UnknownToken => {
            ApiError::new(StatusCode::UNAUTHORIZED, "unknown_token", message)
        }
        EnrolError::Revoked => ApiError::new(StatusCode::FORBIDDEN, "revoked", message),
        EnrolError::Expired => ApiError::new(StatusCode::GONE, "expired", message),
        EnrolError::UsedUp => ApiError::new(StatusCode::GONE, "used_up", message),
        EnrolError::BadName(text) => ApiError::bad_request(text),
        EnrolError::Server(err) => err.into(),
    }
}
