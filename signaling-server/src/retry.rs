//! Retrying a read-decide-write step whose row a concurrent writer changed meanwhile.
//!
//! Invitation rows carry a `version`; [`crate::store::Writes::save_invitation`] writes only
//! over the version that was read and says whether it did. A step that lost that race reads
//! the row again and decides afresh (the other writer may have revoked, answered or freed the
//! invitation, which changes the decision), up to [`ATTEMPTS`] times in all.

use crate::error::ServerError;
use std::future::Future;

/// Attempts at one step before giving up with [`ServerError::KeptChanging`]. A row changes
/// only when somebody acts on it (an answer, a revoke, a session ending), so losing more than
/// a couple of races in a row means something keeps writing it in a loop, not a busy hour.
pub const ATTEMPTS: usize = 5;

/// Runs `attempt` until it returns `Some` (done) or an error, at most [`ATTEMPTS`] times; `None`
/// means the row changed under it and the step starts again. `what` names the row for the
/// error when every attempt lost.
///
/// Each attempt is a fresh future: capture what it needs by shared reference and start it with
/// `async move`, so that the future owns copies of those references.
pub async fn on_concurrent_change<T, E, Fut>(
    what: impl FnOnce() -> String,
    mut attempt: impl FnMut() -> Fut,
) -> Result<T, E>
where
    Fut: Future<Output = Result<Option<T>, E>>,
    E: From<ServerError>,
{
    for _ in 0..ATTEMPTS {
        if let Some(done) = attempt().await? {
            return Ok(done);
        }
    }
    Err(ServerError::KeptChanging(what()).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn retries_until_done() {
        let tries = AtomicUsize::new(0);
        let done: Result<usize, ServerError> = on_concurrent_change(
            || "the row".into(),
            || async {
                let n = tries.fetch_add(1, Ordering::Relaxed) + 1;
                Ok((n == 3).then_some(n))
            },
        )
        .await;
        assert_eq!(done.ok(), Some(3));
    }

    #[tokio::test]
    async fn gives_up_after_the_limit() {
        let tries = AtomicUsize::new(0);
        let done: Result<(), ServerError> = on_concurrent_change(
            || "the row".into(),
            || async {
                tries.fetch_add(1, Ordering::Relaxed);
                Ok(None)
            },
        )
        .await;
        assert!(matches!(done, Err(ServerError::KeptChanging(w)) if w == "the row"));
        assert_eq!(tries.into_inner(), ATTEMPTS);
    }
}
