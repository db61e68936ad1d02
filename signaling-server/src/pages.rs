//! Server-rendered pages (askama templates in `web/templates`), and the security headers every
//! response carries.
//!
//! `GET /i/{code}` is the expert console for one invitation: it names who invited, asks for a
//! password when one is set, and says plainly when the invitation is unknown, expired, revoked,
//! locked or in use. Scripts come only from `/static` (no inline script), so the page works under
//! a strict Content-Security-Policy.

use crate::error::{ApiError, ServerError};
use crate::invitation::codes;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use protocol::api::InvitationStatus;

/// Content-Security-Policy for every response: our own origin only, no inline script, no
/// framing. `connect-src` allows the WebSocket to the same host.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; media-src 'self' blob:; connect-src 'self' ws: wss:; \
    object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

#[derive(Template)]
#[template(path = "console.html")]
pub struct ConsolePage {
    novice_name: String,
    /// `open`, `in_use`, `expired`, `revoked`, `locked` or `unknown`; `waiting` for help a
    /// support-desk operator offered.
    state: &'static str,
    headline: String,
    explanation: &'static str,
    has_password: bool,
    /// For offered help: the session to join, as JSON (see [`crate::desk::offer`]).
    offer: String,
}

impl ConsolePage {
    /// The console of a desk operator admitted to a session with `machine` (help they offered,
    /// or a direct invitation they accepted), joining `offer` at once.
    pub fn offered(machine: &str, headline: String, offer: String) -> Self {
        Self {
            novice_name: machine.to_string(),
            state: "waiting",
            headline,
            explanation: "The person there is asked whether to let you see their screen.",
            has_password: false,
            offer,
        }
    }
}

fn state_code(status: InvitationStatus) -> &'static str {
    match status {
        InvitationStatus::Open => "open",
        InvitationStatus::InUse => "in_use",
        InvitationStatus::Expired => "expired",
        InvitationStatus::Revoked => "revoked",
        InvitationStatus::Locked => "locked",
        InvitationStatus::Declined => "declined",
    }
}

pub async fn console(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let found = if code.len() <= 128 {
        state
            .store
            .find_invitation_by_code(&codes::digest(&code), codes::short_digest(&code).as_deref())
            .await?
    } else {
        None
    };
    let (page, status) = match found {
        None => (
            ConsolePage {
                novice_name: String::new(),
                state: "unknown",
                headline: "This invitation does not exist".into(),
                explanation: "Check that you copied the whole link, or ask for a new invitation.",
                has_password: false,
                offer: String::new(),
            },
            StatusCode::NOT_FOUND,
        ),
        Some(found) => {
            let status = found.invitation.status(state.clock.now(), state.policy);
            let explanation = match status {
                InvitationStatus::Open => {
                    "Enter your name so they know who is connecting. They will be asked to allow it."
                }
                InvitationStatus::InUse => "Someone is already connected through this invitation.",
                InvitationStatus::Expired => "This invitation has expired. Ask for a new one.",
                InvitationStatus::Revoked => {
                    "This invitation was cancelled by the person who sent it."
                }
                InvitationStatus::Locked => {
                    "This invitation is locked after too many wrong passwords. Ask for a new one."
                }
                InvitationStatus::Declined => "This invitation was declined.",
            };
            let code = if status == InvitationStatus::Open {
                StatusCode::OK
            } else {
                StatusCode::GONE
            };
            (
                ConsolePage {
                    headline: format!("{} asks for your help", found.novice_name),
                    novice_name: found.novice_name,
                    state: state_code(status),
                    explanation,
                    has_password: found.invitation.has_password,
                    offer: String::new(),
                },
                code,
            )
        }
    };
    let html = page.render().map_err(ServerError::from)?;
    Ok((status, Html(html)).into_response())
}

/// Adds the security headers to every response.
pub async fn security_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}
