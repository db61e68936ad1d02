//! Errors: [`Refused`] for what the server will not do and tells the client why (a 4xx),
//! [`ServerError`] for what goes wrong inside (a bare 500), and [`ApiError`], either of them,
//! for what a request or a use case can end with.
//!
//! Every failed request answers `{"error": code, "message": text}` with a fitting status. An
//! internal failure is logged in full and answered with a bare 500 that reveals nothing.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use protocol::api::ErrorBody;

/// Something failed inside the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("password hashing failed: {0}")]
    PasswordHash(String),
    #[error("signing a ticket failed: {0}")]
    Ticket(#[from] jsonwebtoken::errors::Error),
    #[error("a background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// Stored data does not decode: a damaged row or a column changed by hand.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Something the server itself made or just checked turned out otherwise: a bug, not data.
    #[error("broken invariant: {0}")]
    Invariant(String),
    /// A row kept changing under a read-decide-write step for all of its attempts
    /// ([`crate::retry::on_concurrent_change`]).
    #[error("{0} kept changing; gave up after {attempts} attempts", attempts = crate::retry::ATTEMPTS)]
    KeptChanging(String),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot render page: {0}")]
    Template(#[from] askama::Error),
}

/// Something the server will not do, and why, for the person who asked: a 4xx status, a
/// stable code a program can match and a message a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refused {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl Refused {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// The request names something unusable (a name, a lifetime, a password); the text says
    /// what to change.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
}

/// How a request or use case ends when it does not succeed: refused, with the reason for the
/// client, or failed inside, which the client sees only as a bare 500.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Failed(#[from] ServerError),
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Refused::new(status, code, message).into()
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Refused::bad_request(message).into()
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Missing or invalid credentials.",
        )
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn too_many_requests() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many attempts from your address. Wait a minute and try again.",
        )
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        ServerError::from(err).into()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            _ => "bad_request",
        };
        Self::new(status, code, rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        // A path that matched a route but whose parameter does not decode (bad percent-encoding,
        // not UTF-8): nothing by that name exists.
        Self::not_found("not_found", rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::Refused(refused) => refused.into_response(),
            Self::Failed(err) => {
                tracing::error!(error = %err, "internal error");
                json_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Something went wrong on the server. Try again later.".into(),
                )
            }
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        json_error(self.status, self.code, self.message)
    }
}

fn json_error(status: StatusCode, code: &str, message: String) -> Response {
    let body = ErrorBody {
        error: code.to_string(),
        message,
    };
    (status, Json(body)).into_response()
}
