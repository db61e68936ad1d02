//! What the network's estimate means for the encoder, as pure arithmetic.
//!
//! * The encoder aims a little under the estimate, leaving room for retransmissions and for
//!   the encoder's own overshoot, and never above the configured bitrate.
//! * Below about a megabit a desktop is better served by fewer, sharper frames than by many
//!   blurred ones, so the frame rate steps down with the estimate.
//! * Below a floor of bits per pixel even a slow frame rate leaves the picture a blur and each
//!   keyframe takes seconds to cross the link, so the picture is sent at half the width and
//!   height until the link recovers (the console maps input back to the screen's own size).
//! * A keyframe is large: while one is still on its way (a round trip, or as long as the link
//!   needs to carry it, whichever is longer), another request is answered by the keyframe
//!   already sent, not by a new one. Requests in that window wait; none is forgotten.

use std::time::{Duration, Instant};

/// The share of the estimate the encoder aims at.
const HEADROOM: f64 = 0.85;
/// The longest a keyframe request waits for the previous keyframe to land.
const MAX_KEYFRAME_GAP: Duration = Duration::from_secs(3);
/// The shortest gap between keyframes, however fast the link: a burst of requests after a
/// loss is answered once.
const MIN_KEYFRAME_GAP: Duration = Duration::from_millis(100);

/// The encoder's bitrate for a network estimate, at most `configured`.
pub(crate) fn encoder_bitrate(estimate_bps: u32, configured_bps: u32) -> u32 {
    ((f64::from(estimate_bps) * HEADROOM) as u32).clamp(1, configured_bps.max(1))
}

/// The frame rate for an encoder bitrate, at most `max_fps`.
pub(crate) fn frame_rate(encoder_bps: u32, max_fps: u32) -> u32 {
    let fitting = match encoder_bps {
        0..=299_999 => 5,
        300_000..=599_999 => 10,
        600_000..=999_999 => 15,
        _ => u32::MAX,
    };
    fitting.min(max_fps).max(1)
}

/// Below this many bits per second for each pixel of the screen, the picture is halved...
const HALF_SIZE_BELOW: f64 = 0.4;
/// ...and from this many it is whole again: apart, so that a rate hovering at the floor does not
/// switch sizes back and forth (each switch costs a keyframe).
const FULL_SIZE_FROM: f64 = 0.6;

/// The size the picture is encoded at, against the screen's own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum PictureSize {
    #[default]
    Full,
    /// Half the width and half the height.
    Half,
}

impl PictureSize {
    /// The size for an encoder bitrate and a screen of `pixels`, starting from this one.
    pub(crate) fn follow(self, encoder_bps: u32, pixels: u64) -> Self {
        if pixels == 0 {
            return self;
        }
        let per_pixel = f64::from(encoder_bps) / pixels as f64;
        match self {
            Self::Full if per_pixel < HALF_SIZE_BELOW => Self::Half,
            Self::Half if per_pixel >= FULL_SIZE_FROM => Self::Full,
            same => same,
        }
    }
}

/// When the next keyframe may go, given the last one sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyframeGate {
    last: Option<(Instant, usize)>,
    bitrate_bps: u32,
    round_trip: Duration,
}

impl KeyframeGate {
    pub(crate) fn new(bitrate_bps: u32) -> Self {
        Self {
            last: None,
            bitrate_bps,
            round_trip: Duration::ZERO,
        }
    }

    pub(crate) fn handle_bitrate(&mut self, bitrate_bps: u32) {
        self.bitrate_bps = bitrate_bps;
    }

    pub(crate) fn handle_round_trip(&mut self, round_trip: Duration) {
        self.round_trip = round_trip;
    }

    /// A keyframe of `bytes` left at `at`.
    pub(crate) fn handle_keyframe_sent(&mut self, at: Instant, bytes: usize) {
        self.last = Some((at, bytes));
    }

    /// The earliest moment another keyframe may be made.
    pub(crate) fn poll_open_at(&self) -> Option<Instant> {
        let (at, bytes) = self.last?;
        let on_the_wire =
            Duration::from_secs_f64(bytes as f64 * 8.0 / f64::from(self.bitrate_bps.max(1)));
        let gap = self
            .round_trip
            .max(on_the_wire)
            .clamp(MIN_KEYFRAME_GAP, MAX_KEYFRAME_GAP);
        Some(at + gap)
    }

    /// Whether a keyframe may be made at `now`.
    pub(crate) fn is_open(&self, now: Instant) -> bool {
        self.poll_open_at().is_none_or(|at| now >= at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_encoder_aims_under_the_estimate_and_never_above_its_setting() {
        assert_eq!(encoder_bitrate(1_000_000, 2_000_000), 850_000);
        assert_eq!(encoder_bitrate(10_000_000, 2_000_000), 2_000_000);
        assert_eq!(encoder_bitrate(0, 2_000_000), 1);
    }

    #[test]
    fn the_picture_is_halved_below_the_floor_and_whole_again_well_above_it() {
        let screen = 1280 * 720;
        assert_eq!(PictureSize::Full.follow(850_000, screen), PictureSize::Full);
        assert_eq!(PictureSize::Full.follow(360_000, screen), PictureSize::Half);
        // Between the two thresholds the size stays what it was.
        assert_eq!(PictureSize::Half.follow(450_000, screen), PictureSize::Half);
        assert_eq!(PictureSize::Full.follow(450_000, screen), PictureSize::Full);
        assert_eq!(PictureSize::Half.follow(600_000, screen), PictureSize::Full);
        // A larger screen needs more.
        assert_eq!(
            PictureSize::Full.follow(600_000, 1920 * 1080),
            PictureSize::Half
        );
        assert_eq!(PictureSize::Half.follow(600_000, 0), PictureSize::Half);
    }

    #[test]
    fn the_frame_rate_steps_down_on_slow_links() {
        assert_eq!(frame_rate(2_000_000, 30), 30);
        assert_eq!(frame_rate(800_000, 30), 15);
        assert_eq!(frame_rate(400_000, 30), 10);
        assert_eq!(frame_rate(100_000, 30), 5);
        assert_eq!(frame_rate(100_000, 3), 3);
        assert_eq!(frame_rate(2_000_000, 0), 1);
    }

    #[test]
    fn the_first_keyframe_goes_at_once() {
        let gate = KeyframeGate::new(1_000_000);
        assert!(gate.is_open(Instant::now()));
        assert_eq!(gate.poll_open_at(), None);
    }

    #[test]
    fn another_keyframe_waits_while_the_last_one_is_on_the_wire() {
        let t0 = Instant::now();
        let mut gate = KeyframeGate::new(500_000);
        gate.handle_round_trip(Duration::from_millis(100));
        // 100 KB at 500 kbit/s: 1.6 s on the wire, longer than the round trip.
        gate.handle_keyframe_sent(t0, 100_000);
        assert!(!gate.is_open(t0 + Duration::from_millis(1500)));
        assert!(gate.is_open(t0 + Duration::from_millis(1600)));
        // On a fast link the round trip decides.
        gate.handle_bitrate(50_000_000);
        assert_eq!(gate.poll_open_at(), Some(t0 + Duration::from_millis(100)));
        // A tiny frame on loopback still waits the minimum gap.
        gate.handle_round_trip(Duration::ZERO);
        gate.handle_keyframe_sent(t0, 10);
        assert_eq!(gate.poll_open_at(), Some(t0 + MIN_KEYFRAME_GAP));
        // And a huge one on a crawling link never waits past the maximum.
        gate.handle_bitrate(1);
        gate.handle_keyframe_sent(t0, 10_000_000);
        assert_eq!(gate.poll_open_at(), Some(t0 + MAX_KEYFRAME_GAP));
    }
}
