//! How fast the path to the browser carries video: the agent's congestion controller, fed by
//! the browser's transport-wide feedback through the stack's congestion-control interceptor.
//!
//! AIMD over two signals, as in draft-ietf-rmcat-gcc-02 but with its own parts: the queue the
//! one-way delays show (`queue_delay`), and the share of packets lost. The stack's GCC was
//! tried first and fell to its floor on a 500 kbit/s link within three seconds, never to climb
//! back: its detector noticed overuse only once the queue was seconds long, and its rate control
//! then backed off on every feedback packet while that queue drained, each time to 85 % of a
//! received rate the last backoff had already lowered. Here:
//!
//! * **One backoff per overuse.** After a decrease, the next needs the queue to have stopped
//!   reading as overused since (a fresh overflow), or the overuse to have lasted two round trips
//!   (the backoff did not suffice). Each backoff goes to 85 % of what the browser received, and
//!   never below half the target it replaces.
//! * **A desktop is application-limited.** A still screen sends a few kbit/s; the received rate
//!   then says nothing about the path, so the target neither climbs on it nor is cut to it.
//! * **Climb fast far from trouble, carefully near it**: multiplicatively while the target is
//!   well away from the rate at which the path last overflowed, one packet per round trip near
//!   it; that ceiling is forgotten once the path delivers clearly more.
//! * **Hold while a queue stands**, so that a queue is drained before the rate climbs again.
//! * **Loss moves the rate only when it is heavy.** Random loss of a few per cent is normal on
//!   a home uplink (the browser's NACKs repair it); above [`HEAVY_LOSS`] the target falls in
//!   proportion. The share lost is the browser's own count, from its receiver reports (RTCP
//!   fraction lost, read with the agent's statistics): the transport-wide feedback's "not
//!   received" marks were seen claiming 10–90 % loss on links that lost 1–2 %, since a packet
//!   it reports late is counted lost before the report arrives.

use super::queue_delay::{Queue, QueueDelay};
use super::retransmission::SharedRoundTrip;
use rtc::interceptor::{BandwidthEstimator, EstimatorStats, PacketReport};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A backoff goes to this share of what the browser received.
const BACKOFF: f64 = 0.85;
/// ...and never below this share of the target it replaces.
const DEEPEST_BACKOFF: f64 = 0.5;
/// Growth per second far from the ceiling.
const GROWTH_PER_SECOND: f64 = 1.12;
/// Near the ceiling: within this share of it, the target climbs by one packet per round trip.
const NEAR_CEILING: f64 = 0.15;
/// Bits of one full packet, the additive step near the ceiling.
const PACKET_BITS: f64 = 1_200.0 * 8.0;
/// How long a change is given to show before the next increase.
const SETTLE: Duration = Duration::from_millis(200);
/// The round trip assumed before the stack has measured one.
const DEFAULT_ROUND_TRIP: Duration = Duration::from_millis(100);
/// Below this share of the target the sender is application-limited: the screen produces
/// less than the path could carry.
const APPLICATION_LIMITED: f64 = 0.5;
/// Reported loss above which the target falls.
pub(crate) const HEAVY_LOSS: f64 = 0.10;
/// A backoff for loss shows in the browser's reports this much later (they cover a second or
/// so, and the agent reads them every two), plus a round trip.
const LOSS_SETTLE: Duration = Duration::from_millis(2_500);

/// The share of video packets the browser last reported lost, in millionths; written by the
/// agent's statistics, read by the estimator.
pub(crate) type SharedLoss = Arc<AtomicU32>;

/// How long the received rate is measured over, by the browser's clock.
const RECEIVED_WINDOW: Duration = Duration::from_millis(500);

/// What the browser received, by its own arrival times: the bottleneck's rate while a queue
/// stands before it.
#[derive(Debug, Default)]
struct ReceivedRate {
    /// (arrival, bytes) within [`RECEIVED_WINDOW`] of the newest arrival.
    arrivals: VecDeque<(Duration, usize)>,
}

impl ReceivedRate {
    fn handle_arrival(&mut self, arrival: Duration, size: usize) {
        let at = self.arrivals.partition_point(|&(t, _)| t <= arrival);
        self.arrivals.insert(at, (arrival, size));
        let newest = self.arrivals.back().map_or(arrival, |&(t, _)| t);
        while self
            .arrivals
            .front()
            .is_some_and(|&(t, _)| newest.saturating_sub(t) > RECEIVED_WINDOW)
        {
            self.arrivals.pop_front();
        }
    }

    /// Bits per second over the window; `None` until it spans a tenth of it.
    fn bits_per_second(&self) -> Option<f64> {
        let (first, _) = *self.arrivals.front()?;
        let (last, _) = *self.arrivals.back()?;
        let span = last.saturating_sub(first);
        if span < RECEIVED_WINDOW / 10 {
            return None;
        }
        // The first packet's bytes arrived before the span began.
        let bytes: usize = self.arrivals.iter().skip(1).map(|&(_, size)| size).sum();
        Some(bytes as f64 * 8.0 / span.as_secs_f64())
    }
}

/// The agent's bandwidth estimator, plugged into the stack's congestion-control interceptor.
pub(crate) struct LinkEstimator {
    queue: QueueDelay,
    received: ReceivedRate,
    round_trip: SharedRoundTrip,
    reported_loss: SharedLoss,
    target: f64,
    min: f64,
    max: f64,
    /// What the browser received when the path last overflowed.
    ceiling: Option<f64>,
    last_decrease: Option<Instant>,
    last_change: Option<Instant>,
    /// Whether the queue read as anything but overused since the last decrease.
    relieved: bool,
    loss: Option<f64>,
}

impl LinkEstimator {
    /// An estimator starting at `initial`, held within `min..=max`, reading the round trip the
    /// agent's statistics measure.
    pub(crate) fn new(
        initial: f64,
        min: f64,
        max: f64,
        round_trip: SharedRoundTrip,
        reported_loss: SharedLoss,
    ) -> Self {
        Self {
            queue: QueueDelay::default(),
            received: ReceivedRate::default(),
            round_trip,
            reported_loss,
            target: initial.clamp(min, max),
            min,
            max,
            ceiling: None,
            last_decrease: None,
            last_change: None,
            relieved: true,
            loss: None,
        }
    }

    fn round_trip(&self) -> Duration {
        match self.round_trip.load(Ordering::Relaxed) {
            0 => DEFAULT_ROUND_TRIP,
            ms => Duration::from_millis(u64::from(ms)),
        }
    }

    fn decrease(&mut self, now: Instant, received: Option<f64>) {
        let Some(received) = received else {
            return;
        };
        let since = self
            .last_decrease
            .map(|at| now.saturating_duration_since(at));
        let may = match since {
            None => true,
            // A backoff shows in the feedback a round trip and the queue ahead of it later.
            Some(since) => {
                let round_trip = self.round_trip().max(SETTLE);
                let queue = self.queue.queue().unwrap_or_default();
                (self.relieved && since >= round_trip) || since >= 2 * round_trip + queue
            }
        };
        if !may {
            return;
        }
        let backed_off = (BACKOFF * received.min(self.target)).max(DEEPEST_BACKOFF * self.target);
        tracing::debug!(
            from = self.target as u64,
            to = backed_off as u64,
            received = received as u64,
            queue = ?self.queue.queue(),
            growth = ?self.queue.growth(),
            "backing off: the path queues"
        );
        self.target = backed_off.clamp(self.min, self.max);
        if received >= APPLICATION_LIMITED * self.target {
            self.ceiling = Some(received);
        }
        self.last_decrease = Some(now);
        self.last_change = Some(now);
        self.relieved = false;
    }

    fn increase(&mut self, now: Instant, received: Option<f64>) {
        let elapsed = match self.last_change {
            Some(at) if now.saturating_duration_since(at) < SETTLE => return,
            Some(at) => now
                .saturating_duration_since(at)
                .min(Duration::from_secs(1)),
            None => SETTLE,
        };
        // A still screen says nothing about the path; hold.
        let Some(received) = received else {
            return;
        };
        if received < APPLICATION_LIMITED * self.target {
            return;
        }
        if self
            .ceiling
            .is_some_and(|ceiling| received > ceiling * (1.0 + 2.0 * NEAR_CEILING))
        {
            // The path now delivers clearly more than when it last overflowed.
            self.ceiling = None;
        }
        let near = self.ceiling.is_some_and(|ceiling| {
            (self.target - ceiling).abs() <= NEAR_CEILING * ceiling || self.target > ceiling
        });
        self.target = if near {
            let per_second =
                PACKET_BITS / (self.round_trip() + Duration::from_millis(100)).as_secs_f64();
            self.target + per_second * elapsed.as_secs_f64()
        } else {
            self.target * GROWTH_PER_SECOND.powf(elapsed.as_secs_f64())
        }
        .clamp(self.min, self.max);
        self.last_change = Some(now);
    }

    fn follow_loss(&mut self, now: Instant) {
        let loss = f64::from(self.reported_loss.load(Ordering::Relaxed)) / 1e6;
        self.loss = Some(loss);
        let settled = self
            .last_decrease
            .is_none_or(|at| now.saturating_duration_since(at) >= LOSS_SETTLE + self.round_trip());
        if loss > HEAVY_LOSS && settled {
            tracing::debug!(
                from = self.target as u64,
                loss,
                "backing off: the path loses packets"
            );
            self.target = (self.target * (1.0 - 0.5 * loss)).clamp(self.min, self.max);
            self.last_decrease = Some(now);
            self.last_change = Some(now);
        }
    }
}

impl BandwidthEstimator for LinkEstimator {
    fn on_reports(&mut self, now: Instant, reports: &[PacketReport]) {
        if reports.is_empty() {
            return;
        }
        for report in reports {
            if let (true, Some(arrival)) = (report.arrived, report.arrival) {
                self.received.handle_arrival(arrival, report.size);
                self.queue.handle_arrival(report.departure, arrival);
            }
        }
        let queue = self.queue.state();
        if queue != Queue::Overused {
            self.relieved = true;
        }
        let received = self.received.bits_per_second();
        match queue {
            Queue::Overused => self.decrease(now, received),
            Queue::Standing => {}
            Queue::Empty if self.loss.unwrap_or(0.0) <= HEAVY_LOSS => self.increase(now, received),
            Queue::Empty => {}
        }
        self.follow_loss(now);
    }

    fn target_bitrate(&self) -> f64 {
        self.target
    }

    fn stats(&self) -> EstimatorStats {
        let mut stats = EstimatorStats::default();
        stats.delay_based_bitrate = Some(self.target);
        stats.packet_loss = self.loss;
        stats.round_trip_time = Some(self.round_trip());
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::rtcp::transport_feedbacks::cc_feedback_report::Ecn;

    const MIN: f64 = 100_000.0;
    const MAX: f64 = 5_000_000.0;

    /// A simulated bottleneck: a FIFO draining at `link` bits/s with `base` one-way delay, and
    /// random loss from a fixed pseudo-random sequence. The sender sends what the estimate
    /// allows, or less when `offered` (the screen's own rate) is lower.
    struct Path {
        link: f64,
        base: Duration,
        loss: f64,
        /// When the bottleneck's queue next frees up.
        free_at: Duration,
        seed: u64,
        id: u64,
        /// Packets sent and lost since the last receiver report.
        counts: (u32, u32),
    }

    impl Path {
        fn new(link: f64, round_trip_ms: u64, loss: f64) -> Self {
            Self {
                link,
                base: Duration::from_millis(round_trip_ms / 2),
                loss,
                free_at: Duration::ZERO,
                seed: 0x2545_f491_4f6c_dd1d,
                id: 0,
                counts: (0, 0),
            }
        }

        fn lost(&mut self) -> bool {
            // xorshift64: deterministic, good enough for a loss pattern.
            self.seed ^= self.seed << 13;
            self.seed ^= self.seed >> 7;
            self.seed ^= self.seed << 17;
            (self.seed % 10_000) as f64 / 10_000.0 < self.loss
        }

        /// One packet of `size` bytes leaving at `departure` (since `epoch`); like a token
        /// bucket, the bottleneck drops what would queue longer than 200 ms.
        fn send(&mut self, epoch: Instant, departure: Duration, size: usize) -> PacketReport {
            let start = self.free_at.max(departure);
            let overflow = start - departure > Duration::from_millis(200);
            let serialised = Duration::from_secs_f64(size as f64 * 8.0 / self.link);
            if !overflow {
                self.free_at = start + serialised;
            }
            let arrival = self.free_at + self.base;
            let id = self.id;
            self.id += 1;
            let lost = self.lost() || overflow;
            self.counts.0 += 1;
            self.counts.1 += u32::from(lost);
            PacketReport {
                ssrc: 1,
                id,
                rtp_sequence_number: id as u16,
                is_twcc: true,
                twcc_sequence_number: id as u16,
                size,
                arrived: !lost,
                departure: epoch + departure,
                arrival: (!lost).then_some(arrival),
                ecn: Ecn::default(),
            }
        }
    }

    /// A sender pacing at min(estimate, what the screen offers) over a path, with feedback
    /// every 100 ms reporting the packets the browser has seen by then, half a round trip
    /// before it reaches the sender.
    struct Sim {
        estimator: LinkEstimator,
        /// What the browser's receiver reports say was lost, once a second.
        reported_loss: SharedLoss,
        path: Path,
        epoch: Instant,
        t: Duration,
        pending: Vec<PacketReport>,
        credit: f64,
    }

    impl Sim {
        fn new(initial: f64, round_trip_ms: u32, path: Path) -> Self {
            let round_trip = SharedRoundTrip::default();
            round_trip.store(round_trip_ms, Ordering::Relaxed);
            let reported_loss = SharedLoss::default();
            let estimator =
                LinkEstimator::new(initial, MIN, MAX, round_trip, Arc::clone(&reported_loss));
            Self {
                estimator,
                reported_loss,
                path,
                epoch: Instant::now(),
                t: Duration::ZERO,
                pending: Vec::new(),
                credit: 0.0,
            }
        }

        /// Runs `seconds` with the screen offering `offered` bits/s, and returns the target
        /// after each second.
        fn run(&mut self, offered: f64, seconds: u64) -> Vec<f64> {
            let step = Duration::from_millis(20);
            let mut targets = Vec::new();
            let end = self.t + Duration::from_secs(seconds);
            while self.t < end {
                let rate = self.estimator.target_bitrate().min(offered);
                self.credit += rate * step.as_secs_f64() / 8.0;
                while self.credit >= 1200.0 {
                    self.credit -= 1200.0;
                    let report = self.path.send(self.epoch, self.t, 1200);
                    self.pending.push(report);
                }
                self.t += step;
                if self.t.as_millis().is_multiple_of(100) {
                    let seen_by = self.t.saturating_sub(self.path.base);
                    let departed_by = self.epoch + seen_by;
                    let (reported, waiting): (Vec<_>, Vec<_>) =
                        self.pending.drain(..).partition(|r| {
                            r.arrival.is_none_or(|a| a <= seen_by) && r.departure <= departed_by
                        });
                    self.pending = waiting;
                    self.estimator.on_reports(self.epoch + self.t, &reported);
                }
                if self.t.as_millis().is_multiple_of(1000) {
                    targets.push(self.estimator.target_bitrate());
                    let (sent, lost) = std::mem::take(&mut self.path.counts);
                    if sent > 0 {
                        let share = f64::from(lost) / f64::from(sent);
                        self.reported_loss
                            .store((share * 1e6) as u32, Ordering::Relaxed);
                    }
                }
            }
            targets
        }
    }

    #[test]
    fn a_half_megabit_link_with_loss_is_found_and_kept() {
        let mut sim = Sim::new(1_000_000.0, 100, Path::new(500_000.0, 100, 0.02));
        let targets = sim.run(f64::MAX, 30);
        eprintln!("targets, one a second: {targets:.0?}");
        let late = &targets[10..];
        let low = late.iter().copied().fold(f64::MAX, f64::min);
        let high = late.iter().copied().fold(0.0, f64::max);
        assert!(
            low > 300_000.0 && high < 700_000.0,
            "the estimate settles near 500 kbit/s, not at the floor: {targets:?}"
        );
    }

    #[test]
    fn a_drop_is_followed_within_seconds_and_the_rate_comes_back() {
        let mut sim = Sim::new(1_000_000.0, 40, Path::new(5_000_000.0, 40, 0.0));
        let before = sim.run(2_000_000.0, 20);
        assert!(
            before[19] > 1_500_000.0,
            "climbs to what the screen offers: {before:?}"
        );
        sim.path.link = 600_000.0;
        let slow = sim.run(2_000_000.0, 10);
        assert!(
            slow[2..].iter().all(|&t| t < 900_000.0 && t > 300_000.0),
            "follows the drop within two seconds and stays near the link: {slow:?}"
        );
        sim.path.link = 5_000_000.0;
        let back = sim.run(2_000_000.0, 20);
        eprintln!("targets, one a second: {before:.0?} {slow:.0?} {back:.0?}");
        assert!(
            back[19] > 1_500_000.0,
            "climbs back once the link is back: {back:?}"
        );
    }

    #[test]
    fn a_still_screen_leaves_the_estimate_alone() {
        let mut sim = Sim::new(1_000_000.0, 40, Path::new(5_000_000.0, 40, 0.0));
        let targets = sim.run(20_000.0, 20);
        assert!(
            targets.iter().all(|&t| (t - 1_000_000.0).abs() < 1.0),
            "neither climbs nor falls on an idle sender: {targets:?}"
        );
    }

    #[test]
    fn heavy_loss_lowers_the_target() {
        let mut sim = Sim::new(1_000_000.0, 40, Path::new(5_000_000.0, 40, 0.3));
        let targets = sim.run(f64::MAX, 20);
        assert!(
            targets.windows(2).all(|w| w[1] <= w[0]) && targets[19] < 500_000.0,
            "30 % loss brings the rate down, and it does not climb meanwhile: {targets:?}"
        );
    }

    #[test]
    fn the_target_stays_within_its_bounds() {
        let mut sim = Sim::new(200_000.0, 40, Path::new(50_000.0, 40, 0.05));
        let targets = sim.run(f64::MAX, 20);
        assert!(
            targets.iter().all(|&t| (MIN..=MAX).contains(&t)),
            "{targets:?}"
        );
        let mut sim = Sim::new(4_000_000.0, 40, Path::new(50_000_000.0, 40, 0.0));
        let targets = sim.run(f64::MAX, 20);
        assert!(
            targets.iter().all(|&t| (MIN..=MAX).contains(&t)),
            "{targets:?}"
        );
        assert_eq!(targets[19], MAX);
    }

    #[test]
    fn no_feedback_moves_nothing() {
        let mut sim = Sim::new(700_000.0, 40, Path::new(1_000_000.0, 40, 0.0));
        sim.estimator.on_reports(Instant::now(), &[]);
        assert_eq!(sim.estimator.target_bitrate(), 700_000.0);
    }
}
