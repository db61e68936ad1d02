//! Connection quality of a live session, as the support desk's dashboard shows it: frames and
//! bytes the media pump actually handed to the peer connection, turned into rates over each
//! reporting interval, with the round-trip time the WebRTC stack measured.
//!
//! The counters are shared with the pump task; the arithmetic is a pure function over two
//! snapshots so that it is tested without a network.

use protocol::signal::SessionStats;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often a live session's quality is reported.
pub const REPORT_INTERVAL: Duration = Duration::from_secs(2);

/// Video sent so far in one session; updated by the pump after every frame the peer took.
#[derive(Debug, Default)]
pub struct SendCounters {
    frames: AtomicU64,
    bytes: AtomicU64,
}

impl SendCounters {
    /// One encoded frame of `bytes` bytes went out.
    pub fn frame_sent(&self, bytes: usize) {
        self.frames.fetch_add(1, Ordering::Relaxed);
        self.bytes
            .fetch_add(u64::try_from(bytes).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The totals so far, taken at `at`.
    pub fn snapshot(&self, at: Instant) -> Snapshot {
        Snapshot {
            frames: self.frames.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            at,
        }
    }
}

/// Totals sent up to one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub frames: u64,
    pub bytes: u64,
    pub at: Instant,
}

/// The quality between two snapshots: frames per second and kbit/s over the interval (zero for
/// an empty interval), and the round-trip time in whole milliseconds when one was measured.
pub fn measure(earlier: Snapshot, later: Snapshot, rtt: Option<Duration>) -> SessionStats {
    let secs = later.at.saturating_duration_since(earlier.at).as_secs_f64();
    let (fps, kbps) = if secs > 0.0 {
        let frames = later.frames.saturating_sub(earlier.frames) as f64;
        let bits = later.bytes.saturating_sub(earlier.bytes) as f64 * 8.0;
        (frames / secs, bits / 1000.0 / secs)
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
        let first = counters.snapshot(t0);
        for _ in 0..50 {
            counters.frame_sent(5_000);
        }
        let second = counters.snapshot(t0 + Duration::from_secs(2));
        let stats = measure(first, second, Some(Duration::from_micros(42_700)));
        assert_eq!(stats.fps, 25.0);
        // 250 000 bytes in 2 s: 1 000 000 bit/s.
        assert_eq!(stats.kbps, 1000);
        assert_eq!(stats.rtt_ms, Some(42));
    }

    #[test]
    fn an_idle_or_empty_interval_reads_zero() {
        let t0 = Instant::now();
        let counters = SendCounters::default();
        counters.frame_sent(1_000);
        let a = counters.snapshot(t0);
        let stats = measure(a, counters.snapshot(t0 + Duration::from_secs(2)), None);
        assert_eq!((stats.fps, stats.kbps, stats.rtt_ms), (0.0, 0, None));
        let stats = measure(a, a, None);
        assert_eq!((stats.fps, stats.kbps), (0.0, 0));
        // Snapshots out of order never underflow.
        let later = Snapshot {
            frames: 10,
            bytes: 10,
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
            bytes: 1_000_000,
            at: t0,
        };
        let b = Snapshot {
            frames: 103,
            bytes: 1_000_300,
            at: t0 + Duration::from_millis(2_000),
        };
        let stats = measure(a, b, None);
        assert_eq!(stats.fps, 1.5);
        // 2 400 bits in 2 s = 1.2 kbit/s, rounded.
        assert_eq!(stats.kbps, 1);
    }
}
