//! Connection quality of a live session, as the support desk's dashboard shows it: the frames
//! and bytes that really left for the browser, turned into rates over each reporting interval,
//! with the round-trip time the WebRTC stack measured.
//!
//! What the media pump handed to the peer connection is not what left: the stack may still
//! drop packets (a refused header extension, a full pacer). So the bytes are the stack's own
//! count of what it sent, and frames count in the share of their packets the stack sent. The
//! pump's counters are shared with it; the arithmetic is a pure function over two snapshots so
//! that it is tested without a network.

use protocol::signal::SessionStats;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often a live session's quality is reported.
pub const REPORT_INTERVAL: Duration = Duration::from_secs(2);

/// Video handed to the peer connection so far in one session; updated by the pump after every
/// frame the peer took.
#[derive(Debug, Default)]
pub struct SendCounters {
    frames: AtomicU64,
    packets: AtomicU64,
}

impl SendCounters {
    /// One encoded frame went to the peer connection as `packets` RTP packets.
    pub fn frame_handed_over(&self, packets: usize) {
        self.frames.fetch_add(1, Ordering::Relaxed);
        self.packets.fetch_add(
            u64::try_from(packets).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// The totals so far, taken at `at`, with the stack's count of the video's RTP packets
    /// and bytes it really sent.
    pub fn snapshot(&self, at: Instant, (packets_sent, bytes_sent): (u64, u64)) -> Snapshot {
        Snapshot {
            frames: self.frames.load(Ordering::Relaxed),
            packets_handed: self.packets.load(Ordering::Relaxed),
            packets_sent,
            bytes_sent,
            at,
        }
    }
}

/// Totals up to one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Frames handed to the peer connection.
    pub frames: u64,
    /// Their RTP packets.
    pub packets_handed: u64,
    /// RTP packets and bytes the stack sent, retransmissions included.
    pub packets_sent: u64,
    pub bytes_sent: u64,
    pub at: Instant,
}

/// The quality between two snapshots: frames per second and kbit/s that left over the interval
/// (zero for an empty interval), and the round-trip time in whole milliseconds when one was
/// measured.
pub fn measure(earlier: Snapshot, later: Snapshot, rtt: Option<Duration>) -> SessionStats {
    let secs = later.at.saturating_duration_since(earlier.at).as_secs_f64();
    let (fps, kbps) = if secs > 0.0 {
        let frames = later.frames.saturating_sub(earlier.frames) as f64;
        let handed = later.packets_handed.saturating_sub(earlier.packets_handed) as f64;
        let sent = later.packets_sent.saturating_sub(earlier.packets_sent) as f64;
        // Retransmissions can make the stack send more packets than it was handed.
        let share_left = if handed > 0.0 {
            (sent / handed).min(1.0)
        } else {
            0.0
        };
        let bits = later.bytes_sent.saturating_sub(earlier.bytes_sent) as f64 * 8.0;
        (frames * share_left / secs, bits / 1000.0 / secs)
    } else {
        (0.0, 0.0)
    };
    SessionStats {
        fps: fps as f32,
        // `as` saturates: an absurd rate reads as u32::MAX, never wraps.
        kbps: kbps.round() as u32,
        rtt_ms: rtt.map(|d| u32::try_from(d.as_millis()).unwrap_or(u32::MAX)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_per_second_over_the_interval() {
        let t0 = Instant::now();
        let counters = SendCounters::default();
        let first = counters.snapshot(t0, (0, 0));
        for _ in 0..50 {
            counters.frame_handed_over(4);
        }
        let second = counters.snapshot(t0 + Duration::from_secs(2), (200, 250_000));
        let stats = measure(first, second, Some(Duration::from_micros(42_700)));
        assert_eq!(stats.fps, 25.0);
        // 250 000 bytes in 2 s: 1 000 000 bit/s.
        assert_eq!(stats.kbps, 1000);
        assert_eq!(stats.rtt_ms, Some(42));
    }

    #[test]
    fn frames_the_stack_did_not_send_do_not_count() {
        let t0 = Instant::now();
        let counters = SendCounters::default();
        let first = counters.snapshot(t0, (0, 0));
        for _ in 0..60 {
            counters.frame_handed_over(2);
        }
        // Every packet dropped inside the stack: nothing left, whatever was handed over.
        let dropped = counters.snapshot(t0 + Duration::from_secs(2), (0, 0));
        assert_eq!(measure(first, dropped, None).fps, 0.0);
        assert_eq!(measure(first, dropped, None).kbps, 0);
        // Half of them sent.
        let half = counters.snapshot(t0 + Duration::from_secs(2), (60, 60_000));
        assert_eq!(measure(first, half, None).fps, 15.0);
        // Retransmissions never make more frames than were encoded.
        let resent = counters.snapshot(t0 + Duration::from_secs(2), (180, 180_000));
        assert_eq!(measure(first, resent, None).fps, 30.0);
    }

    #[test]
    fn an_idle_or_empty_interval_reads_zero() {
        let t0 = Instant::now();
        let counters = SendCounters::default();
        counters.frame_handed_over(1);
        let a = counters.snapshot(t0, (1, 1_000));
        let stats = measure(
            a,
            counters.snapshot(t0 + Duration::from_secs(2), (1, 1_000)),
            None,
        );
        assert_eq!((stats.fps, stats.kbps, stats.rtt_ms), (0.0, 0, None));
        let stats = measure(a, a, None);
        assert_eq!((stats.fps, stats.kbps), (0.0, 0));
        // Snapshots out of order never underflow.
        let later = Snapshot {
            frames: 10,
            packets_handed: 10,
            packets_sent: 10,
            bytes_sent: 10,
            at: t0 + Duration::from_secs(1),
        };
        let stats = measure(later, a, None);
        assert_eq!((stats.fps, stats.kbps), (0.0, 0));
    }

    #[test]
    fn fractional_rates() {
        let t0 = Instant::now();
        let a = Snapshot {
            frames: 100,
            packets_handed: 100,
            packets_sent: 100,
            bytes_sent: 1_000_000,
            at: t0,
        };
        let b = Snapshot {
            frames: 103,
            packets_handed: 103,
            packets_sent: 103,
            bytes_sent: 1_000_300,
            at: t0 + Duration::from_millis(2_000),
        };
        let stats = measure(a, b, None);
        assert_eq!(stats.fps, 1.5);
        // 2 400 bits in 2 s = 1.2 kbit/s, rounded.
        assert_eq!(stats.kbps, 1);
    }
}
