//! Who of the desk's people is online: signed in, with the dashboard open in a browser.
//!
//! Every open dashboard feed (`/ws/desk`) holds a [`Here`] for its person; the person is online
//! while at least one is held. The feed ends when the page closes, or within
//! [`super::live::SILENCE_LIMIT`] when its network drops (the page stops pinging), so going
//! offline is noticed within seconds. Presence lives in the node that holds the sockets, like
//! the signaling hub.

use protocol::ids::UserId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The online people of this node.
#[derive(Clone, Debug, Default)]
pub struct Presence {
    open_feeds: Arc<Mutex<HashMap<UserId, usize>>>,
}

impl Presence {
    fn lock(&self) -> MutexGuard<'_, HashMap<UserId, usize>> {
        self.open_feeds.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `user` opened a dashboard; they are online until the returned guard is dropped (and no
    /// other of their dashboards is open).
    pub fn arrive(&self, user: UserId) -> Here {
        *self.lock().entry(user).or_insert(0) += 1;
        Here {
            presence: self.clone(),
            user,
        }
    }

    pub fn is_online(&self, user: UserId) -> bool {
        self.lock().contains_key(&user)
    }
}

/// One open dashboard of one person.
#[derive(Debug)]
pub struct Here {
    presence: Presence,
    user: UserId,
}

impl Drop for Here {
    fn drop(&mut self) {
        let mut feeds = self.presence.lock();
        if let Some(n) = feeds.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                feeds.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn online_while_any_dashboard_is_open() {
        let presence = Presence::default();
        let bob = UserId::new_random();
        let carol = UserId::new_random();
        assert!(!presence.is_online(bob));
        let laptop = presence.arrive(bob);
        let phone = presence.arrive(bob);
        let _carol = presence.arrive(carol);
        assert!(presence.is_online(bob));
        drop(laptop);
        assert!(presence.is_online(bob), "still open on the phone");
        drop(phone);
        assert!(!presence.is_online(bob));
        assert!(presence.is_online(carol));
    }
}
