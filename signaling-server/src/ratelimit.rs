//! Fixed-window rate limiting per client address, for everything that can be guessed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Allows `limit` hits per key (a client address by default) in each window of `window_secs`.
#[derive(Debug)]
pub struct RateLimiter<K = IpAddr> {
    limit: u32,
    window_secs: i64,
    windows: Mutex<HashMap<K, (i64, u32)>>,
}

/// Above this many tracked addresses, finished windows are forgotten.
const PURGE_ABOVE: usize = 10_000;

impl<K: Eq + std::hash::Hash> RateLimiter<K> {
    pub fn new(limit: u32, window_secs: i64) -> Self {
        Self {
            limit,
            window_secs,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one hit for `key` at `now`; false when the key is over its limit.
    pub fn check(&self, key: K, now: i64) -> bool {
        let mut windows = match self.windows.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let start = now - now.rem_euclid(self.window_secs);
        if windows.len() > PURGE_ABOVE {
            windows.retain(|_, (s, _)| *s == start);
        }
        let entry = windows.entry(key).or_insert((start, 0));
        if entry.0 != start {
            *entry = (start, 0);
        }
        entry.1 += 1;
        entry.1 <= self.limit
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
        assert!((0..3).all(|_| rl.check(a, t)));
        assert!(!rl.check(a, t + 59));
        assert!(rl.check(b, t + 59));
        assert!(rl.check(a, t + 60));
    }
}
