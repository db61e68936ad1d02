//! The sessions whose TURN credentials the embedded service honours: those the novice has
//! accepted and that have not ended.
//!
//! The signaling hub's driver opens a session here when the novice says yes and closes it when
//! the session ends; the embedded service asks [`LiveSessions::admits`] on every authenticated
//! TURN request (Allocate, Refresh, CreatePermission, ChannelBind). Closing a session also hands
//! the usernames it used to the service, which deletes their allocations, so an ended session's
//! relays stop at once instead of running out their lifetime.
//!
//! A credential's expiry bounds when it can first be used. A session lasts as long as the two
//! people want, so a username the service already accepted for a live session stays good after
//! its expiry: refreshing allocations, permissions and channels, and new allocations after an
//! ICE restart, keep working until the session ends.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;

/// Usernames remembered per session. A session's two peers share one credential; more only
/// come from someone trying names, and the cap keeps that from growing memory.
const USERNAMES_PER_SESSION: usize = 8;

/// Why a TURN username is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("its session is not live (not accepted yet, or over)")]
    NotLive,
    #[error("it expired before it was first used")]
    Expired,
}

/// Cheap-to-clone handle to the shared set of live sessions.
#[derive(Clone, Debug, Default)]
pub struct LiveSessions(Arc<Mutex<Inner>>);

#[derive(Debug, Default)]
struct Inner {
    /// Live session id → the usernames the service has accepted for it.
    live: HashMap<String, HashSet<String>>,
    /// Where the usernames of ended sessions go, to have their allocations deleted.
    revoked: Option<mpsc::UnboundedSender<String>>,
}

impl LiveSessions {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing here can be left half-changed by a panic.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The novice accepted `session`: its credential now opens relays.
    pub fn open(&self, session: &str) {
        self.lock().live.entry(session.to_owned()).or_default();
    }

    /// `session` ended: its credential opens nothing any more and its allocations go.
    pub fn close(&self, session: &str) {
        let mut inner = self.lock();
        let Some(usernames) = inner.live.remove(session) else {
            return;
        };
        if let Some(revoked) = &inner.revoked {
            for username in usernames {
                let _ = revoked.send(username);
            }
        }
    }

    /// Whether `session` is live.
    pub fn is_live(&self, session: &str) -> bool {
        self.lock().live.contains_key(session)
    }

    /// Whether the service may accept `username` (of `session`, expiring at `expires_at`) at
    /// `now`. An accepted username is remembered for its session.
    pub fn admits(
        &self,
        session: &str,
        username: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), Refusal> {
        let mut inner = self.lock();
        let Some(usernames) = inner.live.get_mut(session) else {
            return Err(Refusal::NotLive);
        };
        if usernames.contains(username) {
            return Ok(());
        }
        if expires_at <= now {
            return Err(Refusal::Expired);
        }
        if usernames.len() < USERNAMES_PER_SESSION {
            usernames.insert(username.to_owned());
        }
        Ok(())
    }

    /// From now on the usernames of sessions that end are sent to `revoked`.
    pub(crate) fn on_revoked(&self, revoked: mpsc::UnboundedSender<String>) {
        self.lock().revoked = Some(revoked);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_accepted_sessions_are_admitted_and_only_until_they_end() {
        let live = LiveSessions::default();
        assert_eq!(live.admits("s", "100:s", 100, 10), Err(Refusal::NotLive));
        live.open("s");
        assert_eq!(live.admits("s", "100:s", 100, 10), Ok(()));
        live.close("s");
        assert_eq!(live.admits("s", "100:s", 100, 10), Err(Refusal::NotLive));
    }

    #[test]
    fn a_used_username_outlives_its_expiry_while_the_session_lasts() {
        let live = LiveSessions::default();
        live.open("s");
        assert_eq!(live.admits("s", "100:s", 100, 10), Ok(()));
        assert_eq!(live.admits("s", "100:s", 100, 5000), Ok(()));
        // One never used before its expiry stays refused.
        assert_eq!(live.admits("s", "90:s", 90, 5000), Err(Refusal::Expired));
    }

    #[test]
    fn closing_a_session_revokes_the_usernames_it_used() {
        let live = LiveSessions::default();
        let (tx, mut rx) = mpsc::unbounded_channel();
        live.on_revoked(tx);
        live.open("s");
        live.open("t");
        live.admits("s", "100:s", 100, 10).ok();
        live.admits("t", "100:t", 100, 10).ok();
        live.close("s");
        assert_eq!(rx.try_recv().ok().as_deref(), Some("100:s"));
        assert!(rx.try_recv().is_err());
    }
}
