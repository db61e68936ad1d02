//! The one error type of the load generator's library.

use std::time::Duration;

/// Why a client operation, a step or the whole run failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("POST {path}: {source}")]
    Http {
        path: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("POST {path} answered {status}: {body}")]
    Status {
        path: String,
        status: reqwest::StatusCode,
        body: String,
    },
    /// Boxed: the library's error is large and every result here would carry its size.
    #[error("WebSocket: {0}")]
    WebSocket(Box<tokio_tungstenite::tungstenite::Error>),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Unexpected(String),
    #[error("no frame within {0:?}")]
    Timeout(Duration),
    #[error("the server closed the WebSocket")]
    Closed,
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the server {0}")]
    Server(String),
    #[error("open file limit: {0}")]
    Limit(String),
    #[error("the run did not finish within {0:?}")]
    TimeLimit(Duration),
    #[error("a load task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl From<tokio_tungstenite::tungstenite::Error> for LoadError {
    fn from(err: tokio_tungstenite::tungstenite::Error) -> Self {
        Self::WebSocket(Box::new(err))
    }
}

impl LoadError {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }
}
