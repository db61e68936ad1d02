//! `POST /api/redeem`: the expert opens an invitation ([`crate::admission::redeem`]).
//!
//! Here only what is about HTTP: the rate limit per client address, the request's shape and
//! the statuses the OpenAPI document promises. Success returns a short-lived ticket for the
//! expert's WebSocket.

use super::ApiJson;
use crate::admission::redeem::{self, Redemption};
use crate::error::ApiError;
use crate::names::clean_name;
use crate::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::Json;
use protocol::api::{ErrorBody, RedeemRequest, RedeemResponse};
use std::net::SocketAddr;

#[utoipa::path(post, path = "/api/redeem", request_body = RedeemRequest, responses(
    (status = 200, body = RedeemResponse, description = "Waiting for the novice's consent"),
    (status = 400, body = ErrorBody),
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
    let given = Redemption {
        code: &req.code,
        expert_name,
    };
    let admitted = redeem::redeem(&state, given).await?;
    Ok(Json(admitted))
}
