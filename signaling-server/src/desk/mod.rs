//! The support desk in the browser.
//!
//! * [`auth`]: sign-in and sign-out with a session cookie, CSRF tokens on every form.
//! * [`dashboard`]: the dashboard page and the snapshot of what the organisation has going on.
//! * [`live`]: the dashboard's WebSocket, which pushes a new snapshot whenever one changes.
//! * [`admin`]: administrators create operator accounts and enrolment tokens.
//! * [`audit`]: the organisation's audit log, filtered, live and as CSV or JSON downloads.
//! * [`offer`]: *Offer help* on an enrolled machine; the operator's browser becomes the console.
//! * [`presence`]: who is online (signed in with a dashboard open), for the novices' agents.
//! * [`direct`]: Accept or Decline an invitation a novice sent straight to the signed-in person.
//!
//! Pages are askama templates in `web/templates/desk_*.html`; the script is
//! `web/static/js/desk.js`. Everything is scoped to the signed-in person's organisation. Pages
//! speak the language the request asks for ([`crate::locale`]); a [`PageError`] is decided
//! before that is looked at, so [`speak_the_readers_language`] renders it in that language on
//! its way out.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod dashboard;
pub mod direct;
pub mod live;
pub mod offer;
pub mod presence;

use crate::error::{ApiError, Refused, ServerError};
use crate::locale::{self, Text, Words};
use crate::state::AppState;
use askama::Template;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use i18n::Language;

/// Largest form the desk reads.
const MAX_FORM: usize = 16 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/desk", get(dashboard::page))
        .route("/desk/sign-in", get(auth::sign_in_page).post(auth::sign_in))
        .route("/desk/sign-out", post(auth::sign_out))
        .route("/desk/machines/{id}/offer", post(offer::offer_help))
        .route("/desk/invitations/{id}/accept", post(direct::accept))
        .route("/desk/invitations/{id}/decline", post(direct::decline))
        .route("/desk/operators", post(admin::create_operator))
        .route(
            "/desk/enrolment-tokens",
            post(admin::create_enrolment_token),
        )
        .route("/desk/audit.csv", get(audit::export_csv))
        .route("/desk/audit.json", get(audit::export_json))
        .route("/ws/desk", get(live::desk_ws))
        .layer(DefaultBodyLimit::max(MAX_FORM))
        .layer(axum::middleware::from_fn(speak_the_readers_language))
}

/// A page telling the person what went wrong and where to go from here: a title and a
/// message, rendered in English unless [`speak_the_readers_language`] knows better.
#[derive(Clone, Debug)]
pub struct PageError {
    pub status: StatusCode,
    /// The id of the title's message.
    pub title: &'static str,
    pub message: Text,
}

impl PageError {
    pub fn new(status: StatusCode, title: &'static str, message: Text) -> Self {
        Self {
            status,
            title,
            message,
        }
    }

    /// The form did not carry this browser's token: stale page or another site's form.
    pub fn forged() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "desk-forged-title",
            Text::id("desk-forged"),
        )
    }

    fn render(&self, language: Language) -> Response {
        let words = Words::new(language, "");
        let message = self.message.in_language(language);
        let page = MessagePage {
            title: words.t(self.title),
            message: &message,
            words,
        };
        match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(err) => {
                tracing::error!(error = %err, "cannot render the error page");
                (self.status, message).into_response()
            }
        }
    }
}

impl From<Refused> for PageError {
    fn from(refused: Refused) -> Self {
        // What the rule that refused said, as it said it.
        Self::new(
            refused.status,
            "desk-refused-title",
            Text::Verbatim(refused.message),
        )
    }
}

impl From<ServerError> for PageError {
    fn from(err: ServerError) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "desk-failed-title",
            Text::id("desk-failed"),
        )
    }
}

impl From<ApiError> for PageError {
    fn from(err: ApiError) -> Self {
        match err {
            ApiError::Refused(refused) => refused.into(),
            ApiError::Failed(err) => err.into(),
        }
    }
}

#[derive(Template)]
#[template(path = "desk_message.html")]
struct MessagePage<'a> {
    words: Words,
    title: String,
    message: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut res = self.render(Language::English);
        res.extensions_mut().insert(self);
        res
    }
}

/// Renders a [`PageError`] the desk answered with in the language of the request.
pub async fn speak_the_readers_language(req: Request, next: Next) -> Response {
    let language = locale::choose(req.uri().query(), req.headers());
    let mut res = next.run(req).await;
    match res.extensions_mut().remove::<PageError>() {
        Some(err) if language != Language::English => err.render(language),
        _ => res,
    }
}
