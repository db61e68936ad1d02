//! Whether the path to the browser is queueing: the delay half of the congestion controller.
//!
//! Each packet's one-way delay is its arrival on the browser's clock (transport-wide feedback)
//! minus its departure on ours. The two clocks differ by an unknown but constant offset, so the
//! smallest one-way delay seen over the last [`BASE_WINDOW`] stands for an empty queue, and
//! whatever a packet took beyond it is time spent queued at the bottleneck (the LEDBAT idea,
//! RFC 6817 §3.4). The queue's growth, the least-squares slope of the one-way delay against
//! departure time over the last [`TREND_WINDOW`], says whether more is sent than the path
//! carries.
//!
//! The stack's GCC detector (a Kalman-filtered delay gradient between 5 ms groups against a
//! threshold starting at 12.5 ms) reads this too late on a paced desktop stream: sending 20 %
//! over a 500 kbit/s link grows each 5 ms group's delay by 1 ms, under its threshold, so it
//! declared overuse only once the queue was seconds long, and then for seconds.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long the smallest one-way delay stands for an empty queue. Long enough to have seen the
/// queue empty; short enough that a route change (an ICE restart onto the relay) is forgotten
/// within a few seconds.
pub(crate) const BASE_WINDOW: Duration = Duration::from_secs(5);
/// The window the queue's growth is measured over.
pub(crate) const TREND_WINDOW: Duration = Duration::from_millis(500);
/// A queue this long that is still growing is overuse...
const QUEUE_OVERUSE: Duration = Duration::from_millis(25);
/// ...growing at least this fast, in milliseconds of queue per second: 2 % over the link's rate.
const GROWTH_OVERUSE: f64 = 20.0;
/// A queue this long is overuse unless it is draining: the bottleneck's buffer is full and
/// drops what does not fit, so the queue stops growing there.
const QUEUE_FULL: Duration = Duration::from_millis(150);
/// Samples a trend needs.
const TREND_SAMPLES: usize = 5;

/// What the delay says about the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Queue {
    /// Nothing to speak of: there is room for more.
    Empty,
    /// Some queue, not growing: hold.
    Standing,
    /// More is sent than the path carries.
    Overused,
}

/// One-way delays of the packets the browser reported, reduced to a queue length and a trend.
#[derive(Debug, Default)]
pub(crate) struct QueueDelay {
    /// The departure all others are measured from, so that delays are plain numbers.
    anchor: Option<Instant>,
    /// Candidates for the smallest delay in [`BASE_WINDOW`]: (departure ms, delay ms), delays
    /// increasing from front to back.
    minima: VecDeque<(f64, f64)>,
    /// (departure ms, delay ms) of the packets that left in the last [`TREND_WINDOW`].
    recent: VecDeque<(f64, f64)>,
}

impl QueueDelay {
    /// One packet that arrived: when it left here, and when it arrived by the browser's clock.
    pub(crate) fn handle_arrival(&mut self, departure: Instant, arrival: Duration) {
        let anchor = *self.anchor.get_or_insert(departure);
        let sent_ms = ms(departure.saturating_duration_since(anchor));
        let delay_ms = ms(arrival) - sent_ms;
        while self.minima.back().is_some_and(|&(_, d)| d >= delay_ms) {
            self.minima.pop_back();
        }
        self.minima.push_back((sent_ms, delay_ms));
        let base_from = sent_ms - ms(BASE_WINDOW);
        while self.minima.front().is_some_and(|&(t, _)| t < base_from) {
            self.minima.pop_front();
        }
        // Feedback reports packets in send order; a reordered one joins where it belongs.
        let at = self.recent.partition_point(|&(t, _)| t <= sent_ms);
        self.recent.insert(at, (sent_ms, delay_ms));
        let newest = self.recent.back().map_or(sent_ms, |&(t, _)| t);
        let trend_from = newest - ms(TREND_WINDOW);
        while self.recent.front().is_some_and(|&(t, _)| t < trend_from) {
            self.recent.pop_front();
        }
    }

    /// How long the newest packets queued, on average over the last tenth of the trend window.
    pub(crate) fn queue(&self) -> Option<Duration> {
        let base = self.minima.front()?.1;
        let newest = self.recent.back()?.0;
        let from = newest - ms(TREND_WINDOW) / 10.0;
        let (sum, n) = self
            .recent
            .iter()
            .rev()
            .take_while(|&&(t, _)| t >= from)
            .fold((0.0, 0u32), |(sum, n), &(_, d)| (sum + d - base, n + 1));
        (n > 0).then(|| Duration::from_secs_f64((sum / f64::from(n)).max(0.0) / 1000.0))
    }

    /// How fast the queue grows, in milliseconds per second of sending; `None` until enough
    /// packets over a long enough span were reported.
    pub(crate) fn growth(&self) -> Option<f64> {
        if self.recent.len() < TREND_SAMPLES {
            return None;
        }
        let (first, last) = (self.recent.front()?.0, self.recent.back()?.0);
        if last - first < ms(TREND_WINDOW) / 5.0 {
            return None;
        }
        let n = self.recent.len() as f64;
        let mean_t = self.recent.iter().map(|&(t, _)| t).sum::<f64>() / n;
        let mean_d = self.recent.iter().map(|&(_, d)| d).sum::<f64>() / n;
        let (cov, var) = self.recent.iter().fold((0.0, 0.0), |(cov, var), &(t, d)| {
            (
                cov + (t - mean_t) * (d - mean_d),
                var + (t - mean_t).powi(2),
            )
        });
        (var > 0.0).then(|| cov / var * 1000.0)
    }

    /// What the delays say now.
    pub(crate) fn state(&self) -> Queue {
        let Some(queue) = self.queue() else {
            return Queue::Empty;
        };
        let growth = self.growth().unwrap_or(0.0);
        let full = queue >= QUEUE_FULL && growth > -GROWTH_OVERUSE;
        if full || (queue >= QUEUE_OVERUSE && growth >= GROWTH_OVERUSE) {
            Queue::Overused
        } else if queue < QUEUE_OVERUSE {
            Queue::Empty
        } else {
            Queue::Standing
        }
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packets every `gap` ms for `count`, each taking `delay(i)` ms one way, on a browser clock
    /// 1 000 s ahead of ours.
    fn feed(
        queue: &mut QueueDelay,
        epoch: Instant,
        start: u64,
        gap: u64,
        count: u64,
        delay: impl Fn(u64) -> f64,
    ) {
        for i in 0..count {
            let sent = start + i * gap;
            let arrival = 1_000_000.0 + sent as f64 + delay(i);
            queue.handle_arrival(
                epoch + Duration::from_millis(sent),
                Duration::from_secs_f64(arrival / 1000.0),
            );
        }
    }

    #[test]
    fn a_steady_path_has_no_queue_whatever_its_delay_and_clock_offset() {
        let mut queue = QueueDelay::default();
        feed(&mut queue, Instant::now(), 0, 5, 400, |i| {
            50.0 + (i % 3) as f64
        });
        assert!(queue.queue().is_some_and(|q| q < Duration::from_millis(3)));
        assert!(queue.growth().is_some_and(|g| g.abs() < 5.0));
        assert_eq!(queue.state(), Queue::Empty);
    }

    #[test]
    fn sending_a_fifth_over_the_link_is_overuse_once_the_queue_builds() {
        let mut queue = QueueDelay::default();
        let epoch = Instant::now();
        feed(&mut queue, epoch, 0, 5, 100, |_| 50.0);
        // 20 % more than the link carries: each 5 ms of sending adds 1 ms of queue.
        feed(&mut queue, epoch, 500, 5, 20, |i| 50.0 + i as f64);
        assert_eq!(
            queue.state(),
            Queue::Empty,
            "20 ms of queue is not yet overuse"
        );
        feed(&mut queue, epoch, 600, 5, 40, |i| 70.0 + i as f64);
        assert_eq!(queue.state(), Queue::Overused);
        assert!(queue.growth().is_some_and(|g| g > 100.0));
    }

    #[test]
    fn a_draining_queue_holds_and_an_empty_one_frees() {
        let mut queue = QueueDelay::default();
        let epoch = Instant::now();
        feed(&mut queue, epoch, 0, 5, 100, |_| 50.0);
        feed(&mut queue, epoch, 500, 5, 100, |i| 150.0 - i as f64 / 2.0);
        assert_eq!(queue.state(), Queue::Standing, "50 ms of queue, falling");
        feed(&mut queue, epoch, 1000, 5, 100, |_| 52.0);
        assert_eq!(queue.state(), Queue::Empty);
    }

    #[test]
    fn a_full_buffer_is_overuse_even_when_it_stops_growing() {
        let mut queue = QueueDelay::default();
        let epoch = Instant::now();
        feed(&mut queue, epoch, 0, 5, 100, |_| 20.0);
        feed(&mut queue, epoch, 500, 5, 200, |_| 220.0);
        assert_eq!(queue.state(), Queue::Overused);
    }

    #[test]
    fn a_long_queue_that_drains_is_not_overuse() {
        let mut queue = QueueDelay::default();
        let epoch = Instant::now();
        feed(&mut queue, epoch, 0, 5, 100, |_| 20.0);
        feed(&mut queue, epoch, 500, 5, 200, |i| 900.0 - i as f64);
        assert_eq!(queue.state(), Queue::Standing);
    }

    #[test]
    fn a_longer_route_is_forgotten_within_the_base_window() {
        let mut queue = QueueDelay::default();
        let epoch = Instant::now();
        feed(&mut queue, epoch, 0, 5, 100, |_| 20.0);
        // Moved onto a route 60 ms longer: looks like a standing queue at first...
        feed(&mut queue, epoch, 500, 5, 100, |_| 80.0);
        assert_eq!(queue.state(), Queue::Standing);
        // ...and like no queue once the old route's delays have left the window.
        let after = 500 + ms(BASE_WINDOW) as u64;
        feed(&mut queue, epoch, after, 5, 100, |_| 80.0);
        assert_eq!(queue.state(), Queue::Empty);
    }

    #[test]
    fn nothing_reported_is_no_queue() {
        assert_eq!(QueueDelay::default().state(), Queue::Empty);
        assert_eq!(QueueDelay::default().growth(), None);
    }
}
