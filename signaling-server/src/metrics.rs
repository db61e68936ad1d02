//! `GET /metrics`: the embedded TURN service's live allocations and refusals, in the
//! Prometheus text format, on a listener of its own (`--metrics-listen`).
//!
//! It is kept off the main listener because counts of sessions and refusals tell an outsider
//! how busy the service is and whether an attack works; bind it to loopback or an internal
//! network only.

use crate::turn::guard::Guard;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

/// The metrics router; `turn` is the embedded service's guard, when it runs.
pub fn router(turn: Option<Arc<Guard>>) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let body = turn
                .as_ref()
                .map(|g| g.render_metrics())
                .unwrap_or_default();
            async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    body,
                )
                    .into_response()
            }
        }),
    )
}
