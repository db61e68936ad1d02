//! What keeps the embedded TURN service from being an open relay: a filter in front of
//! `medea-turn`, which has no hooks for quotas or peer addresses.
//!
//! [`Guarded`] wraps each of the library's transports (UDP, TCP). It reads every request before
//! the library does and answers some itself:
//!
//! * Allocate over a quota: **486 Allocation Quota Reached** (RFC 8656 §7.2, step 10), per
//!   session (the username's id) and per client address, so that one credential or one host
//!   cannot take every relay port.
//! * CreatePermission and ChannelBind naming a peer the [`PeerPolicy`] refuses: **403
//!   Forbidden** (RFC 8656 §9.1); a Send indication to one is dropped (indications get no
//!   answer, RFC 8656 §11.2).
//!
//! It also watches the library's answers (Allocate and Refresh success responses) to keep the
//! [`Ledger`] of live allocations, which the quotas and the metrics count; the library tells
//! of allocations it deletes through its close notifications.
//!
//! The ledger and the policy are pure (the caller passes `now`); [`Guard`] is their shared,
//! locked home, with the counters of [`TurnMetrics`].

use super::credentials;
use super::credentials::TurnSecret;
use async_trait::async_trait;
use ipnet::IpNet;
use medea_turn::attr::{Attribute, ErrorCode, Lifetime, MessageIntegrity, Realm, Username};
use medea_turn::transport::{self, Request, Transport};
use medea_turn::FiveTuple;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use stun_codec::rfc5766::errors::{AllocationQuotaReached, Forbidden};
use stun_codec::rfc5766::methods::{ALLOCATE, CHANNEL_BIND, CREATE_PERMISSION, REFRESH, SEND};
use stun_codec::{Message, MessageClass};
use tokio::time::Instant;

/// Allocations one session may hold at once, by default. A browser allocates once per TURN URL
/// and local interface (three URLs, a few interfaces), the agent as many again through its
/// TCP/TLS shims, and an ICE restart makes new ones before the old ones lapse.
pub const DEFAULT_ALLOCATIONS_PER_SESSION: usize = 32;
/// Allocations one client address may hold at once, by default: both peers of a session can
/// share an address (one office's NAT), and one address can run a few sessions.
pub const DEFAULT_ALLOCATIONS_PER_ADDRESS: usize = 64;
/// Allocate requests waiting for the library's answer; more means answers are being lost, and
/// the oldest are forgotten.
const PENDING_LIMIT: usize = 4096;

/// How many allocations a session and an address may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    pub per_session: usize,
    pub per_address: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            per_session: DEFAULT_ALLOCATIONS_PER_SESSION,
            per_address: DEFAULT_ALLOCATIONS_PER_ADDRESS,
        }
    }
}

/// Which quota an allocation would break.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuotaReached {
    Session,
    Address,
}

/// Which peer addresses relays may send to and hear from.
///
/// Refused unless the allow-list names them: loopback, unspecified, link-local, private
/// (RFC 1918, RFC 6598 shared space, IPv6 unique-local and site-local), multicast, broadcast
/// and reserved addresses, in IPv4 or in IPv4-mapped, IPv4-compatible and NAT64 (RFC 6052)
/// IPv6 form; and the server's own addresses except on its relay ports, so that two
/// relayed peers still reach each other but nothing else on the host is reachable.
#[derive(Clone, Debug)]
pub struct PeerPolicy {
    /// Allowed whatever the other rules say (test networks, a private deployment).
    pub allow: Vec<IpNet>,
    /// The server's own addresses.
    pub own: Vec<IpAddr>,
    /// The relay ports, the only ones reachable on the server's own addresses.
    pub relay_ports: RangeInclusive<u16>,
}

impl PeerPolicy {
    /// Whether a relay may exchange packets with `peer`.
    pub fn permits(&self, peer: SocketAddr) -> bool {
        let ip = canonical(peer.ip());
        if self
            .allow
            .iter()
            .any(|net| net.contains(&ip) || net.contains(&peer.ip()))
        {
            return true;
        }
        if is_special(peer.ip()) || is_special(ip) {
            return false;
        }
        if self.own.iter().any(|own| canonical(*own) == ip) {
            return self.relay_ports.contains(&peer.port());
        }
        true
    }
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`)
/// IPv6 address; any other address as it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return IpAddr::V4(Ipv4Addr::new(a, b, c, d));
            }
            IpAddr::V6(v6)
        }
        v4 => v4,
    }
}

/// Addresses no relay of a public service has business reaching.
fn is_special(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            a == 0 // "this network", 0.0.0.0 included
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || (a == 100 && (b & 0xc0) == 64) // shared address space, RFC 6598
                || (a == 192 && b == 0 && c == 0) // IETF protocol assignments, RFC 6890
                || (a == 198 && (b & 0xfe) == 18) // benchmarking, RFC 2544
                || v4.is_multicast()
                || a >= 240 // reserved, and the limited broadcast address
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (first & 0xfe00) == 0xfc00 // unique local
                // IPv4-compatible (deprecated): ::a.b.c.d
                || v6.segments()[..6] == [0; 6]
        }
    }
}

/// The addresses of this host's interfaces, as far as the system tells them.
pub fn host_addresses() -> Vec<IpAddr> {
    let Ok(addresses) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    addresses
        .filter_map(|a| a.address)
        .filter_map(|a| {
            a.as_sockaddr_in()
                .map(|v4| IpAddr::V4(v4.ip()))
                .or_else(|| a.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip())))
        })
        .collect()
}

/// One live allocation.
#[derive(Clone, Debug)]
struct Held {
    session: String,
    client: IpAddr,
    expires_at: Instant,
}

/// The live allocations, by five-tuple, with what they count against.
#[derive(Debug, Default)]
pub struct Ledger {
    quotas: Quotas,
    held: HashMap<FiveTuple, Held>,
}

impl Ledger {
    pub fn new(quotas: Quotas) -> Self {
        Self {
            quotas,
            held: HashMap::new(),
        }
    }

    /// Whether `session` may allocate once more from `client` at `now`.
    pub fn check(
        &mut self,
        session: &str,
        client: IpAddr,
        now: Instant,
    ) -> Result<(), QuotaReached> {
        self.held.retain(|_, held| held.expires_at > now);
        let of_session = self.held.values().filter(|h| h.session == session).count();
        if of_session >= self.quotas.per_session {
            return Err(QuotaReached::Session);
        }
        let of_client = self.held.values().filter(|h| h.client == client).count();
        if of_client >= self.quotas.per_address {
            return Err(QuotaReached::Address);
        }
        Ok(())
    }

    /// The library allocated for `five_tuple`, for `lifetime`.
    pub fn allocated(
        &mut self,
        five_tuple: FiveTuple,
        session: String,
        client: IpAddr,
        lifetime: Duration,
        now: Instant,
    ) {
        let held = Held {
            session,
            client,
            expires_at: now + lifetime,
        };
        self.held.insert(five_tuple, held);
    }

    /// The allocation of `five_tuple` was refreshed for `lifetime` (zero: deleted).
    pub fn refreshed(&mut self, five_tuple: &FiveTuple, lifetime: Duration, now: Instant) {
        if lifetime.is_zero() {
            self.held.remove(five_tuple);
        } else if let Some(held) = self.held.get_mut(five_tuple) {
            held.expires_at = now + lifetime;
        }
    }

    /// The library deleted the allocation of `five_tuple`.
    pub fn closed(&mut self, five_tuple: &FiveTuple) {
        self.held.remove(five_tuple);
    }

    /// How many allocations are live at `now`.
    pub fn live(&self, now: Instant) -> usize {
        self.held.values().filter(|h| h.expires_at > now).count()
    }
}

/// The counters of the embedded service, for `GET /metrics`.
#[derive(Debug, Default)]
struct Counters {
    refused_session_quota: AtomicU64,
    refused_address_quota: AtomicU64,
    refused_credentials: AtomicU64,
    refused_peers: AtomicU64,
}

/// The shared state of the filter: policy, ledger, counters, and the real addresses of the
/// clients that reach the service through its TLS terminator.
#[derive(Debug)]
pub struct Guard {
    policy: PeerPolicy,
    secret: TurnSecret,
    ledger: Mutex<Ledger>,
    /// Allocate requests passed to the library, by five-tuple: whose they are.
    pending: Mutex<HashMap<FiveTuple, (String, IpAddr)>>,
    /// Local address of a TLS terminator's connection to the TCP listener → the TLS client.
    tls_clients: Mutex<HashMap<SocketAddr, SocketAddr>>,
    counters: Counters,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Each lock guards plain bookkeeping that a panic cannot leave half-changed.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What to do with one request.
#[derive(Debug)]
enum Verdict {
    Pass,
    Drop,
    Answer(Message<Attribute>),
}

impl Guard {
    pub fn new(policy: PeerPolicy, quotas: Quotas, secret: TurnSecret) -> Self {
        Self {
            policy,
            secret,
            ledger: Mutex::new(Ledger::new(quotas)),
            pending: Mutex::default(),
            tls_clients: Mutex::default(),
            counters: Counters::default(),
        }
    }

    /// A TLS client's decrypted stream reaches the TCP listener from `local`.
    pub(crate) fn tls_client_connected(&self, local: SocketAddr, client: SocketAddr) {
        lock(&self.tls_clients).insert(local, client);
    }

    pub(crate) fn tls_client_gone(&self, local: SocketAddr) {
        lock(&self.tls_clients).remove(&local);
    }

    /// A request was refused for its credential (unknown session, over, or expired).
    pub(crate) fn credential_refused(&self) {
        self.counters
            .refused_credentials
            .fetch_add(1, Ordering::Relaxed);
    }

    /// The library deleted an allocation.
    pub(crate) fn allocation_closed(&self, five_tuple: &FiveTuple) {
        lock(&self.ledger).closed(five_tuple);
    }

    /// The client behind `src` on a transport of protocol `proto`.
    fn client_of(&self, src: SocketAddr, proto: u8) -> IpAddr {
        if proto == TCP {
            if let Some(client) = lock(&self.tls_clients).get(&src) {
                return client.ip();
            }
        }
        src.ip()
    }

    fn inspect(&self, request: &Request, five_tuple: FiveTuple) -> Verdict {
        let Request::Message(msg) = request else {
            // ChannelData goes to a channel's peer, checked when the channel was bound.
            return Verdict::Pass;
        };
        match (msg.method(), msg.class()) {
            (ALLOCATE, MessageClass::Request) => self.inspect_allocate(msg, five_tuple),
            (CREATE_PERMISSION | CHANNEL_BIND, MessageClass::Request) => {
                if self.peers_permitted(msg, five_tuple.src_addr) {
                    Verdict::Pass
                } else {
                    Verdict::Answer(self.error(msg, ErrorCode::from(Forbidden)))
                }
            }
            (SEND, MessageClass::Indication) => {
                if self.peers_permitted(msg, five_tuple.src_addr) {
                    Verdict::Pass
                } else {
                    Verdict::Drop
                }
            }
            _ => Verdict::Pass,
        }
    }

    fn inspect_allocate(&self, msg: &Message<Attribute>, five_tuple: FiveTuple) -> Verdict {
        // Unauthenticated requests get the library's 401 with a nonce.
        let (Some(username), Some(_)) = (
            msg.get_attribute::<Username>(),
            msg.get_attribute::<MessageIntegrity>(),
        ) else {
            return Verdict::Pass;
        };
        let session = credentials::session_of(username.name()).to_owned();
        let client = self.client_of(five_tuple.src_addr, five_tuple.protocol);
        let checked = lock(&self.ledger).check(&session, client, Instant::now());
        match checked {
            Ok(()) => {
                let mut pending = lock(&self.pending);
                if pending.len() >= PENDING_LIMIT {
                    pending.clear();
                }
                pending.insert(five_tuple, (session, client));
                Verdict::Pass
            }
            Err(reached) => {
                let counter = match reached {
                    QuotaReached::Session => &self.counters.refused_session_quota,
                    QuotaReached::Address => &self.counters.refused_address_quota,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                tracing::info!(%client, ?reached, "TURN allocation refused: quota reached");
                Verdict::Answer(self.error(msg, ErrorCode::from(AllocationQuotaReached)))
            }
        }
    }

    /// Whether every XOR-PEER-ADDRESS of `msg` is one the policy permits.
    fn peers_permitted(&self, msg: &Message<Attribute>, from: SocketAddr) -> bool {
        let refused = msg.attributes().find_map(|a| match a {
            Attribute::XorPeerAddress(peer) if !self.policy.permits(peer.address()) => {
                Some(peer.address())
            }
            _ => None,
        });
        match refused {
            None => true,
            Some(peer) => {
                self.counters.refused_peers.fetch_add(1, Ordering::Relaxed);
                tracing::info!(%from, %peer, "TURN peer address refused");
                false
            }
        }
    }

    /// An error response to `request`, with MESSAGE-INTEGRITY when its username is one of ours
    /// (RFC 8489 §9.2.4: clients may ignore unauthenticated answers to authenticated requests).
    fn error(&self, request: &Message<Attribute>, code: ErrorCode) -> Message<Attribute> {
        let mut msg = Message::new(
            MessageClass::ErrorResponse,
            request.method(),
            request.transaction_id(),
        );
        msg.add_attribute(code);
        if let (Some(username), Some(realm)) = (
            request.get_attribute::<Username>(),
            request.get_attribute::<Realm>(),
        ) {
            let password = self.secret.password_of(username.name());
            if let Ok(integrity) =
                MessageIntegrity::new_long_term_credential(&msg, username, realm, &password)
            {
                msg.add_attribute(integrity);
            }
        }
        msg
    }

    /// The library answers on `five_tuple`: keep the ledger in step with its allocations.
    fn observe(&self, msg: &Message<Attribute>, five_tuple: FiveTuple) {
        let lifetime = || msg.get_attribute::<Lifetime>().map(Lifetime::lifetime);
        match (msg.method(), msg.class()) {
            (ALLOCATE, MessageClass::SuccessResponse) => {
                let whose = lock(&self.pending).remove(&five_tuple);
                if let (Some((session, client)), Some(lifetime)) = (whose, lifetime()) {
                    lock(&self.ledger).allocated(
                        five_tuple,
                        session,
                        client,
                        lifetime,
                        Instant::now(),
                    );
                }
            }
            (ALLOCATE, MessageClass::ErrorResponse) => {
                lock(&self.pending).remove(&five_tuple);
            }
            (REFRESH, MessageClass::SuccessResponse) => {
                if let Some(lifetime) = lifetime() {
                    lock(&self.ledger).refreshed(&five_tuple, lifetime, Instant::now());
                }
            }
            _ => {}
        }
    }

    /// The metrics in the Prometheus text format (version 0.0.4).
    pub fn render_metrics(&self) -> String {
        let live = lock(&self.ledger).live(Instant::now());
        let c = &self.counters;
        let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
        let mut out = String::new();
        let _ = write!(
            out,
            "# HELP assist_turn_allocations Live allocations of the embedded TURN service.\n\
             # TYPE assist_turn_allocations gauge\n\
             assist_turn_allocations {live}\n\
             # HELP assist_turn_allocations_refused_total Allocate requests refused with 486, by quota.\n\
             # TYPE assist_turn_allocations_refused_total counter\n\
             assist_turn_allocations_refused_total{{reason=\"session_quota\"}} {}\n\
             assist_turn_allocations_refused_total{{reason=\"address_quota\"}} {}\n\
             # HELP assist_turn_credentials_refused_total TURN requests refused for a credential of no live session, or expired.\n\
             # TYPE assist_turn_credentials_refused_total counter\n\
             assist_turn_credentials_refused_total {}\n\
             # HELP assist_turn_peers_refused_total Permissions, channels and sends refused for their peer address.\n\
             # TYPE assist_turn_peers_refused_total counter\n\
             assist_turn_peers_refused_total {}\n",
            get(&c.refused_session_quota),
            get(&c.refused_address_quota),
            get(&c.refused_credentials),
            get(&c.refused_peers),
        );
        out
    }
}

/// IANA protocol number of TCP, as the library tags its transports.
const TCP: u8 = 6;

/// One of the library's transports, with the [`Guard`] in front of it.
pub struct Guarded {
    inner: Arc<dyn Transport + Send + Sync>,
    guard: Arc<Guard>,
    local: SocketAddr,
    proto: u8,
}

impl Guarded {
    pub fn new(inner: Arc<dyn Transport + Send + Sync>, guard: Arc<Guard>) -> Self {
        let (local, proto) = (inner.local_addr(), inner.proto());
        Self {
            inner,
            guard,
            local,
            proto,
        }
    }

    fn five_tuple(&self, src: SocketAddr) -> FiveTuple {
        FiveTuple {
            protocol: self.proto,
            src_addr: src,
            dst_addr: self.local,
        }
    }
}

#[async_trait]
impl Transport for Guarded {
    async fn recv_from(&self) -> Result<(Request, SocketAddr), transport::Error> {
        loop {
            let (request, src) = self.inner.recv_from().await?;
            match self.guard.inspect(&request, self.five_tuple(src)) {
                Verdict::Pass => return Ok((request, src)),
                Verdict::Drop => {}
                Verdict::Answer(answer) => {
                    if let Err(e) = self.inner.send_msg_to(answer, src).await {
                        tracing::debug!(%src, "TURN refusal not sent: {e}");
                    }
                }
            }
        }
    }

    async fn send_to(
        &self,
        data: Cow<'_, [u8]>,
        target: SocketAddr,
    ) -> Result<(), transport::Error> {
        self.inner.send_to(data, target).await
    }

    async fn send_msg_to(
        &self,
        msg: Message<Attribute>,
        dst: SocketAddr,
    ) -> Result<(), transport::Error> {
        self.guard.observe(&msg, self.five_tuple(dst));
        self.inner.send_msg_to(msg, dst).await
    }

    fn local_addr(&self) -> SocketAddr {
        self.local
    }

    fn proto(&self) -> u8 {
        self.proto
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allow: &[&str]) -> PeerPolicy {
        PeerPolicy {
            allow: allow.iter().filter_map(|n| n.parse().ok()).collect(),
            own: vec!["203.0.113.5"
                .parse()
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))],
            relay_ports: 49152..=65535,
        }
    }

    fn permits(p: &PeerPolicy, addr: &str) -> bool {
        addr.parse().map(|a| p.permits(a)).unwrap_or(false)
    }

    #[test]
    fn internal_addresses_are_refused_in_every_form() {
        let p = policy(&[]);
        for refused in [
            "127.0.0.1:5432",
            "127.1.2.3:53",
            "0.0.0.0:80",
            "10.1.2.3:9",
            "172.16.0.1:9",
            "172.31.255.254:9",
            "192.168.1.1:9",
            "169.254.169.254:80",
            "100.64.0.1:9",
            "224.0.0.251:5353",
            "255.255.255.255:9",
            "240.0.0.1:9",
            "[::1]:9",
            "[::]:9",
            "[fe80::1]:9",
            "[fd00::1]:9",
            "[ff02::1]:9",
            "[::ffff:127.0.0.1]:9",
            "[::ffff:10.0.0.1]:9",
            "[::127.0.0.1]:9",
            "[64:ff9b::a00:1]:9",
            "[64:ff9b::7f00:1]:9",
            // The server itself, off its relay ports.
            "203.0.113.5:8080",
            "[::ffff:203.0.113.5]:22",
        ] {
            assert!(!permits(&p, refused), "{refused} is permitted");
        }
        for permitted in [
            "198.51.100.7:50000",
            "8.8.8.8:53",
            "172.32.0.1:9",
            "[2001:db8::1]:9",
            "[64:ff9b::808:808]:53",
            // Another relay of the same server: two relayed peers talk through both.
            "203.0.113.5:50000",
        ] {
            assert!(permits(&p, permitted), "{permitted} is refused");
        }
    }

    #[test]
    fn the_allow_list_opens_exactly_what_it_names() {
        let p = policy(&["127.0.0.0/8", "10.71.0.0/16"]);
        assert!(permits(&p, "127.0.0.1:5432"));
        assert!(permits(&p, "[::ffff:127.0.0.1]:5432"));
        assert!(permits(&p, "10.71.1.2:9"));
        assert!(!permits(&p, "10.72.1.2:9"));
        assert!(!permits(&p, "192.168.1.1:9"));
    }

    fn tuple(port: u16) -> FiveTuple {
        FiveTuple {
            protocol: 17,
            src_addr: SocketAddr::from(([198, 51, 100, 1], port)),
            dst_addr: SocketAddr::from(([203, 0, 113, 5], 3478)),
        }
    }

    #[test]
    fn the_ledger_counts_live_allocations_against_both_quotas() {
        let now = Instant::now();
        let client: IpAddr = [198, 51, 100, 1].into();
        let other: IpAddr = [198, 51, 100, 2].into();
        let minute = Duration::from_secs(60);
        let mut ledger = Ledger::new(Quotas {
            per_session: 2,
            per_address: 3,
        });
        ledger.allocated(tuple(1), "s".into(), client, minute, now);
        assert_eq!(ledger.check("s", client, now), Ok(()));
        ledger.allocated(tuple(2), "s".into(), client, minute, now);
        assert_eq!(ledger.check("s", other, now), Err(QuotaReached::Session));
        assert_eq!(ledger.check("t", client, now), Ok(()));
        ledger.allocated(tuple(3), "t".into(), client, minute, now);
        assert_eq!(ledger.check("u", client, now), Err(QuotaReached::Address));
        assert_eq!(ledger.check("u", other, now), Ok(()));
        assert_eq!(ledger.live(now), 3);

        // A deleted, a refreshed-to-zero and an expired allocation count no more.
        ledger.closed(&tuple(3));
        ledger.refreshed(&tuple(2), Duration::ZERO, now);
        assert_eq!(ledger.check("s", client, now), Ok(()));
        assert_eq!(ledger.live(now), 1);
        assert_eq!(ledger.live(now + 2 * minute), 0);
        ledger.refreshed(&tuple(1), 3 * minute, now + minute);
        assert_eq!(ledger.live(now + 2 * minute), 1);
    }
}
