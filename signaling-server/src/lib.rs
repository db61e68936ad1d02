//! Remote-assistance signaling server.
//!
//! It stores invitations, checks passwords and expiry, brokers the novice's consent, relays
//! WebRTC negotiation between the two members of a session, and serves the expert console.
//! Media never passes through it.
//!
//! Layout:
//! * [`invitation`]: invitation lifecycle (pure) and code generation.
//! * [`signal`]: routing and consent (pure [`signal::hub`]), its driver, the WebSocket endpoints.
//! * [`api`]: the JSON API and its OpenAPI description.
//! * [`admission`]: letting an expert into a session, by redeeming an invitation, by an
//!   operator's offer of help or by answering a direct invitation.
//! * [`accounts`], [`enrolment`]: the support desk's people, and the machines enrolled into it.
//! * [`pages`]: the expert console page and security headers.
//! * [`locale`]: the language of each page (its menu, cookie, the browser's `Accept-Language`)
//!   and the words its template and script show.
//! * [`store`]: SQLite/PostgreSQL persistence, including the hash-chained audit log;
//!   [`session_effects`] writes session changes; [`audit`] names what the audit log records
//!   and who did it, and renders exports.
//! * [`turn`]: STUN/TURN servers and credentials for each session; the embedded service.
//! * [`retry`]: one read-decide-write step retried when a concurrent writer changed its row.
//! * [`names`]: the one rule for names of people, machines and organisations.
//! * [`ticket`], [`secrets`], [`ratelimit`], [`clock`], [`config`], [`error`], [`state`].
//! * [`connections`]: the accept loop, with deadlines for slow and idle connections and caps
//!   per client address and in all.
//! * [`limits`]: the open-file limit, raised at start-up (one file per connection), and the
//!   connection budget it leaves.
//! * [`metrics`]: `GET /metrics` on a listener of its own, for the TURN service's counters.
//!
//! Build the router with [`app`], or run a whole server on a bound listener with [`serve`].

pub mod accounts;
pub mod admission;
pub mod api;
pub mod audit;
pub mod clock;
pub mod config;
pub mod connections;
pub mod desk;
pub mod enrolment;
pub mod error;
pub mod invitation;
pub mod limits;
pub mod locale;
pub mod mail;
#[cfg(test)]
mod message_tests;
pub mod metrics;
pub mod names;
pub mod pages;
pub mod ratelimit;
pub mod retry;
pub mod secrets;
pub mod session_effects;
pub mod signal;
pub mod state;
pub mod store;
pub mod ticket;
pub mod turn;

use axum::extract::MatchedPath;
use axum::http::Request;
use axum::routing::get;
use axum::Router;
use state::AppState;
use std::future::Future;
use std::time::Duration;
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    let static_files = ServeDir::new(&state.web_dir);
    Router::new()
        .merge(api::router())
        .merge(desk::router())
        .route("/ws/agent", get(signal::ws::agent_ws))
        .route("/ws/expert", get(signal::ws::expert_ws))
        .route("/i", get(pages::code_entry))
        .route("/i/{code}", get(pages::console))
        .nest_service("/static", static_files)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            locale::remember_language,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            pages::security_headers,
        ))
        .layer(
            // Log the route pattern, never the URI: invitation links carry secrets.
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let route = req
                    .extensions()
                    .get::<MatchedPath>()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "unmatched".into());
                tracing::info_span!("http", method = %req.method(), route)
            }),
        )
        .with_state(state)
}

/// How long a shutdown waits for session changes to reach the database.
const EFFECTS_FLUSH_LIMIT: Duration = Duration::from_secs(10);

/// Serves `state` on `listener` until `shutdown` resolves, then tells every connected peer,
/// closes the WebSockets, waits for requests in flight and stores the sessions' last changes.
/// Connections are accepted with the deadlines and caps of `state.connections`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let ticker = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_millis(500));
            loop {
                interval.tick().await;
                state.signal.tick();
            }
        })
    };
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let purger = {
        let state = state.clone();
        tokio::spawn(async move {
            let every = Duration::from_secs(ratelimit::PURGE_EVERY_SECS);
            let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                interval.tick().await;
                state.purge_limits(state.clock.now());
            }
        })
    };
    let on_shutdown = {
        let state = state.clone();
        tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down");
            state.signal.shutdown();
            let _ = stop.send(true);
        })
    };
    connections::run(listener, app(state.clone()), &state.connections, stopping).await;
    on_shutdown.abort();
    ticker.abort();
    purger.abort();
    // Sessions ended by the shutdown are recorded before the caller closes the database.
    if !state.signal.flush_effects(EFFECTS_FLUSH_LIMIT).await {
        tracing::warn!("some session changes were not stored before shutdown");
    }
    Ok(())
}
