//! How many connections the server holds, in all and per client address, and the admission
//! of a new one against both caps. An admitted connection holds an [`Admission`] for as long
//! as its socket is open (an upgraded WebSocket included); dropping it frees the places.

use crate::ratelimit::client_key;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Why a connection was not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The server holds its maximum of connections.
    Full,
    /// This client address holds its maximum.
    AddressFull,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
}

/// The server's connections, counted. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Occupancy {
    max_total: usize,
    max_per_address: usize,
    counts: Arc<Mutex<Counts>>,
}

impl Occupancy {
    pub fn new(max_total: usize, max_per_address: usize) -> Self {
        Self {
            max_total,
            max_per_address,
            counts: Arc::default(),
        }
    }

    /// Takes a place for a connection from `ip`, unless a cap is reached.
    pub fn admit(&self, ip: IpAddr) -> Result<Admission, Refusal> {
        // One IPv4 address or one IPv6 /64, as the rate limits count a client.
        let key = client_key(ip);
        let mut counts = self.lock();
        if counts.total >= self.max_total {
            return Err(Refusal::Full);
        }
        let here = counts.per_address.entry(key).or_insert(0);
        if *here >= self.max_per_address {
            return Err(Refusal::AddressFull);
        }
        *here += 1;
        counts.total += 1;
        Ok(Admission {
            key,
            counts: Arc::clone(&self.counts),
        })
    }

    /// Connections held now.
    pub fn total(&self) -> usize {
        self.lock().total
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        // The counts stay consistent whatever panicked while holding them.
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One admitted connection's place; freed on drop.
#[derive(Debug)]
pub struct Admission {
    key: IpAddr,
    counts: Arc<Mutex<Counts>>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.total = counts.total.saturating_sub(1);
        if let Some(here) = counts.per_address.get_mut(&self.key) {
            *here = here.saturating_sub(1);
            if *here == 0 {
                counts.per_address.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn one_address_reaches_its_cap_and_others_still_get_in() {
        let occupancy = Occupancy::new(100, 2);
        let a = occupancy.admit(ip("127.0.0.1")).expect("first");
        let _b = occupancy.admit(ip("127.0.0.1")).expect("second");
        assert_eq!(
            occupancy.admit(ip("127.0.0.1")).err(),
            Some(Refusal::AddressFull)
        );
        assert!(occupancy.admit(ip("127.0.0.2")).is_ok());
        drop(a);
        assert!(occupancy.admit(ip("127.0.0.1")).is_ok());
    }

    #[test]
    fn ipv6_addresses_count_per_slash_64() {
        let occupancy = Occupancy::new(100, 1);
        let _a = occupancy.admit(ip("2001:db8:1:2::1")).expect("first");
        assert_eq!(
            occupancy.admit(ip("2001:db8:1:2:ffff::9")).err(),
            Some(Refusal::AddressFull)
        );
        assert!(occupancy.admit(ip("2001:db8:1:3::1")).is_ok());
        // IPv4 through a dual-stack listener is the same client as plain IPv4.
        let _v4 = occupancy.admit(ip("192.0.2.7")).expect("v4");
        assert_eq!(
            occupancy.admit(ip("::ffff:192.0.2.7")).err(),
            Some(Refusal::AddressFull)
        );
    }

    #[test]
    fn the_total_cap_holds_across_addresses_and_frees_on_drop() {
        let occupancy = Occupancy::new(2, 10);
        let a = occupancy.admit(ip("10.0.0.1")).expect("first");
        let _b = occupancy.admit(ip("10.0.0.2")).expect("second");
        assert_eq!(occupancy.admit(ip("10.0.0.3")).err(), Some(Refusal::Full));
        assert_eq!(occupancy.total(), 2);
        drop(a);
        assert_eq!(occupancy.total(), 1);
        assert!(occupancy.admit(ip("10.0.0.3")).is_ok());
    }
}
