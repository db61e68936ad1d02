//! One retransmission of a packet per round trip.
//!
//! The browser asks again for a packet it still misses after about a round trip; on a congested
//! link the round trip grows, the answers queue in the pacer, and the same packets are asked for
//! and queued again and again, each copy taking room from new video. The stack's NACK responder
//! answers every request; this sits between it and the pacer and lets through one copy of a
//! packet per round trip, dropping the repeats.

use rtc::interceptor::{Attribute, Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::sansio::Protocol;
use rtc::shared::error::Error;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Between the NACK responder (4 000) and the pacer (3 000): it sees the responder's copies
/// before they queue (see `rtc::interceptor::Slot`).
pub(crate) const SLOT: usize = 3_500;
/// The window before any round trip was measured, and the least one.
const MIN_WINDOW: Duration = Duration::from_millis(50);
const DEFAULT_WINDOW: Duration = Duration::from_millis(200);
/// Copies remembered at most; older ones are forgotten first.
const REMEMBERED: usize = 4_096;

/// The latest round-trip time to the browser in milliseconds, 0 before one is measured; written
/// by the peer, read by the filter.
pub(crate) type SharedRoundTrip = Arc<AtomicU32>;

/// Drops a retransmission of a packet already retransmitted within the last round trip.
pub(crate) struct RetransmissionFilter {
    round_trip: SharedRoundTrip,
    /// When each (SSRC, sequence number) was last let through, oldest first in `order`.
    sent: HashMap<(u32, u16), Instant>,
    order: VecDeque<(u32, u16)>,
    dropped: u64,
    reads: VecDeque<TaggedPacket>,
    writes: VecDeque<TaggedPacket>,
}

impl RetransmissionFilter {
    pub(crate) fn new(round_trip: SharedRoundTrip) -> Self {
        Self {
            round_trip,
            sent: HashMap::new(),
            order: VecDeque::new(),
            dropped: 0,
            reads: VecDeque::new(),
            writes: VecDeque::new(),
        }
    }

    fn window(&self) -> Duration {
        match self.round_trip.load(Ordering::Relaxed) {
            0 => DEFAULT_WINDOW,
            ms => Duration::from_millis(u64::from(ms)).max(MIN_WINDOW),
        }
    }

    /// Whether this copy may go: the first, or the first after a round trip.
    fn admit(&mut self, key: (u32, u16), now: Instant) -> bool {
        let window = self.window();
        if let Some(last) = self.sent.get(&key) {
            if now.saturating_duration_since(*last) < window {
                self.dropped += 1;
                return false;
            }
        } else {
            self.order.push_back(key);
            if self.order.len() > REMEMBERED {
                if let Some(oldest) = self.order.pop_front() {
                    self.sent.remove(&oldest);
                }
            }
        }
        self.sent.insert(key, now);
        true
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for RetransmissionFilter {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Error> {
        self.reads.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.reads.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Error> {
        if msg.message.has(&Attribute::Retransmission) {
            if let Packet::Rtp(packet) = &msg.message.packet {
                let key = (packet.header.ssrc, packet.header.sequence_number);
                if !self.admit(key, msg.now) {
                    tracing::trace!(
                        ssrc = key.0,
                        seq = key.1,
                        dropped = self.dropped,
                        "a repeated retransmission within a round trip is dropped"
                    );
                    return Ok(());
                }
            }
        }
        self.writes.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.writes.pop_front()
    }
}

impl Interceptor for RetransmissionFilter {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::interceptor::AttributedPacket;
    use rtc::rtp;
    use rtc::shared::TransportContext;

    fn packet(seq: u16, now: Instant, retransmission: bool) -> TaggedPacket {
        let rtp = rtp::Packet {
            header: rtp::header::Header {
                version: 2,
                ssrc: 7,
                sequence_number: seq,
                ..Default::default()
            },
            payload: vec![0u8; 100].into(),
        };
        let mut message = AttributedPacket::new(Packet::Rtp(rtp));
        if retransmission {
            message.add(Attribute::Retransmission);
        }
        TaggedPacket {
            now,
            transport: TransportContext::default(),
            message,
        }
    }

    fn passed(filter: &mut RetransmissionFilter) -> Vec<u16> {
        std::iter::from_fn(|| filter.poll_write())
            .filter_map(|p| match p.message.packet {
                Packet::Rtp(rtp) => Some(rtp.header.sequence_number),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_packet_is_resent_once_per_round_trip() {
        let round_trip = SharedRoundTrip::default();
        round_trip.store(100, Ordering::Relaxed);
        let mut filter = RetransmissionFilter::new(round_trip);
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        for (seq, ms) in [(5, 0), (5, 30), (6, 30), (5, 99), (5, 100), (6, 120)] {
            assert!(filter.handle_write(packet(seq, at(ms), true)).is_ok());
        }
        assert_eq!(passed(&mut filter), [5, 6, 5]);
        assert_eq!(filter.dropped, 3);
    }

    #[test]
    fn first_transmissions_always_pass() {
        let mut filter = RetransmissionFilter::new(SharedRoundTrip::default());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(filter.handle_write(packet(9, t0, false)).is_ok());
        }
        assert_eq!(passed(&mut filter), [9, 9, 9]);
    }

    #[test]
    fn memory_stays_bounded() {
        let mut filter = RetransmissionFilter::new(SharedRoundTrip::default());
        let t0 = Instant::now();
        for seq in 0..=u16::MAX {
            assert!(filter.handle_write(packet(seq, t0, true)).is_ok());
        }
        assert!(filter.sent.len() <= REMEMBERED && filter.order.len() <= REMEMBERED);
        assert_eq!(passed(&mut filter).len(), 65_536);
    }
}
