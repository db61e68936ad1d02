//! Limits on everything that can be guessed: fixed-window rate limiting per client, and a
//! growing back-off per sign-in login.
//!
//! Clients are keyed by [`client_key`]: an IPv4 address as it is, an IPv6 address by its /64
//! network, since one subscriber usually holds a whole /64 and could otherwise take a fresh
//! address for every attempt. Finished windows and forgotten back-offs are dropped by
//! [`RateLimiter::purge`] and [`LoginBackoff::purge`], which the server calls on a timer, so
//! that a check never scans the table.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard};

/// How often the server drops finished windows and forgotten back-offs, in seconds.
pub const PURGE_EVERY_SECS: u64 = 60;

/// The key a client is limited by: an IPv4 address (also when written as an IPv4-mapped IPv6
/// address), or the /64 network of an IPv6 address.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Allows `limit` hits per key (a client by default) in each window of `window_secs`.
#[derive(Debug)]
pub struct RateLimiter<K = IpAddr> {
    limit: u32,
    window_secs: i64,
    windows: Mutex<HashMap<K, (i64, u32)>>,
}

impl<K: Eq + Hash> RateLimiter<K> {
    pub fn new(limit: u32, window_secs: i64) -> Self {
        Self {
            limit,
            window_secs: window_secs.max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn window_start(&self, now: i64) -> i64 {
        now - now.rem_euclid(self.window_secs)
    }

    /// Counts one hit for `key` at `now`; false when the key is over its limit.
    pub fn check(&self, key: K, now: i64) -> bool {
        let start = self.window_start(now);
        let mut windows = lock(&self.windows);
        let entry = windows.entry(key).or_insert((start, 0));
        if entry.0 != start {
            *entry = (start, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 <= self.limit
    }

    /// Forgets every key whose window is over at `now`.
    pub fn purge(&self, now: i64) {
        let start = self.window_start(now);
        lock(&self.windows).retain(|_, (s, _)| *s == start);
    }

    /// Keys tracked now.
    pub fn tracked(&self) -> usize {
        lock(&self.windows).len()
    }
}

impl RateLimiter<IpAddr> {
    /// Counts one hit for the client at `ip` (see [`client_key`]).
    pub fn check_client(&self, ip: IpAddr, now: i64) -> bool {
        self.check(client_key(ip), now)
    }
}

/// Growing delays between sign-in attempts for one login after failures, wherever they come
/// from. Up to `free_failures` failures in a row cost no wait; from the last of them on, each
/// failure doubles the wait before the next attempt, from `first_delay_secs` up to
/// `max_delay_secs`. A success
/// resets the login. Unlike a fixed limit per login this never blocks the real person for
/// longer than the current delay, from any address, while a guesser is slowed to one attempt
/// per `max_delay_secs`.
#[derive(Debug)]
pub struct LoginBackoff {
    free_failures: u32,
    first_delay_secs: i64,
    max_delay_secs: i64,
    logins: Mutex<HashMap<String, Failures>>,
}

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    last: i64,
    /// No attempt for the login is allowed before this time.
    next_allowed: i64,
}

/// Failures older than this are forgotten, in seconds, unless a back-off still runs.
const FORGET_FAILURES_SECS: i64 = 3600;

impl LoginBackoff {
    pub fn new(free_failures: u32, first_delay_secs: u64, max_delay_secs: u64) -> Self {
        let first = i64::try_from(first_delay_secs).unwrap_or(i64::MAX);
        let max = i64::try_from(max_delay_secs).unwrap_or(i64::MAX).max(first);
        Self {
            free_failures,
            first_delay_secs: first,
            max_delay_secs: max,
            logins: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `login` may try now; otherwise the seconds to wait.
    pub fn check(&self, login: &str, now: i64) -> Result<(), i64> {
        match lock(&self.logins).get(login) {
            Some(f) if now < f.next_allowed => Err(f.next_allowed - now),
            _ => Ok(()),
        }
    }

    /// Records a failed attempt for `login` at `now`.
    pub fn failed(&self, login: &str, now: i64) {
        let mut logins = lock(&self.logins);
        let f = logins.entry(login.to_string()).or_insert(Failures {
            count: 0,
            last: now,
            next_allowed: now,
        });
        f.count = f.count.saturating_add(1);
        f.last = now;
        let delay = match f.count.checked_sub(self.free_failures.max(1)) {
            None => 0,
            Some(doublings) => self
                .first_delay_secs
                .checked_mul(1_i64.checked_shl(doublings.min(62)).unwrap_or(i64::MAX))
                .unwrap_or(i64::MAX)
                .min(self.max_delay_secs),
        };
        f.next_allowed = now.saturating_add(delay);
    }

    /// A successful sign-in of `login`: its failures are forgotten.
    pub fn succeeded(&self, login: &str) {
        lock(&self.logins).remove(login);
    }

    /// Forgets logins whose last failure is long past and whose back-off is over.
    pub fn purge(&self, now: i64) {
        lock(&self.logins).retain(|_, f| {
            now < f.next_allowed || now - f.last < FORGET_FAILURES_SECS.max(self.max_delay_secs)
        });
    }

    /// Logins tracked now.
    pub fn tracked(&self) -> usize {
        lock(&self.logins).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_address_and_window() {
        let rl = RateLimiter::new(3, 60);
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        let t = 6_000;
        assert!((0..3).all(|_| rl.check_client(a, t)));
        assert!(!rl.check_client(a, t + 59));
        assert!(rl.check_client(b, t + 59));
        assert!(rl.check_client(a, t + 60));
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64_network() {
        let rl = RateLimiter::new(2, 60);
        let t = 6_000;
        let one: IpAddr = "2001:db8:1:2::1".parse().expect("address");
        let same_net: IpAddr = "2001:db8:1:2:ffff:1234:5678:9abc".parse().expect("address");
        let other_net: IpAddr = "2001:db8:1:3::1".parse().expect("address");
        assert!(rl.check_client(one, t));
        assert!(rl.check_client(same_net, t));
        assert!(
            !rl.check_client("2001:db8:1:2::99".parse().expect("address"), t),
            "a fresh address in the same /64 is the same client"
        );
        assert!(rl.check_client(other_net, t));
        assert_eq!(
            client_key(same_net),
            "2001:db8:1:2::".parse::<IpAddr>().expect("address")
        );
    }

    #[test]
    fn ipv4_is_keyed_by_the_address_also_when_mapped() {
        let v4: IpAddr = [192, 0, 2, 7].into();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("address");
        assert_eq!(client_key(mapped), v4);
        assert_eq!(client_key(v4), v4);
        assert_ne!(client_key([192, 0, 2, 8].into()), v4);
        let rl = RateLimiter::new(1, 60);
        assert!(rl.check_client(v4, 0));
        assert!(!rl.check_client(mapped, 0));
    }

    #[test]
    fn checks_keep_entries_and_the_purge_drops_finished_windows() {
        let rl = RateLimiter::new(1, 60);
        for i in 0..20_000u32 {
            rl.check_client(IpAddr::from(i.to_be_bytes()), 6_000);
        }
        // A check never scans the table: nothing is dropped until the timer purges.
        rl.check_client([10, 0, 0, 1].into(), 6_060);
        assert_eq!(rl.tracked(), 20_001);
        rl.purge(6_059 + 60);
        assert_eq!(rl.tracked(), 1, "only the current window's client is left");
        rl.purge(6_120);
        assert_eq!(rl.tracked(), 0);
    }

    #[test]
    fn back_off_grows_after_the_free_failures_and_success_resets_it() {
        let b = LoginBackoff::new(2, 5, 30);
        let t = 1_000;
        assert_eq!(b.check("ada", t), Ok(()));
        b.failed("ada", t);
        assert_eq!(b.check("ada", t), Ok(()), "a free failure costs nothing");
        b.failed("ada", t);
        assert_eq!(b.check("ada", t), Err(5));
        assert_eq!(b.check("ada", t + 5), Ok(()));
        b.failed("ada", t + 5);
        assert_eq!(b.check("ada", t + 5), Err(10));
        b.failed("ada", t + 15);
        assert_eq!(b.check("ada", t + 15), Err(20));
        for _ in 0..100 {
            b.failed("ada", t + 35);
        }
        assert_eq!(b.check("ada", t + 35), Err(30), "capped at the maximum");
        assert_eq!(
            b.check("bob", t + 35),
            Ok(()),
            "other logins are unaffected"
        );
        b.succeeded("ada");
        assert_eq!(b.check("ada", t + 36), Ok(()));
        b.failed("ada", t + 36);
        assert_eq!(b.check("ada", t + 36), Ok(()), "a success starts afresh");
        let strict = LoginBackoff::new(0, 5, 30);
        strict.failed("ada", t);
        assert_eq!(strict.check("ada", t), Err(5), "no free failure at all");
    }

    #[test]
    fn back_offs_are_forgotten_by_the_purge_once_over_and_old() {
        let b = LoginBackoff::new(0, 5, 30);
        b.failed("ada", 0);
        b.purge(10);
        assert_eq!(b.tracked(), 1, "recent failures still count");
        b.purge(FORGET_FAILURES_SECS);
        assert_eq!(b.tracked(), 0);
    }
}
