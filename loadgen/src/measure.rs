//! Latency samples and a bounded driver of concurrent operations.

use crate::error::LoadError;
use std::fmt::Display;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Latencies of the successful operations of one step, and its failures.
#[derive(Debug, Default)]
pub struct Measurement {
    pub latencies: Vec<Duration>,
    pub errors: usize,
    pub first_error: Option<String>,
    pub elapsed: Duration,
}

impl Measurement {
    pub fn failed(&mut self, err: impl Display) {
        self.errors += 1;
        self.first_error.get_or_insert_with(|| format!("{err:#}"));
    }

    pub fn merge(&mut self, other: Measurement) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// Sorts the latencies for [`Measurement::percentile`].
    pub fn finish(&mut self, elapsed: Duration) {
        self.latencies.sort_unstable();
        self.elapsed = elapsed;
    }

    /// Successful operations per second.
    pub fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// Nearest-rank percentile, `q` in (0, 1]; zero when nothing succeeded.
    pub fn percentile(&self, q: f64) -> Duration {
        let n = self.latencies.len();
        if n == 0 {
            return Duration::ZERO;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        self.latencies[rank - 1]
    }
}

/// Milliseconds with two decimals, for tables.
pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

/// Runs `op(0..count)` with `concurrency` calls in flight until all are done or `time_limit`
/// has passed; returns the latencies and what the successful calls returned.
pub async fn load<T, E, F, Fut>(
    concurrency: usize,
    count: usize,
    time_limit: Duration,
    op: F,
) -> Result<(Measurement, Vec<T>), LoadError>
where
    T: Send + 'static,
    E: Display + Send + 'static,
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
{
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + time_limit;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (next, op) = (next.clone(), op.clone());
            tokio::spawn(async move {
                let mut m = Measurement::default();
                let mut values = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count || Instant::now() >= deadline {
                        return (m, values);
                    }
                    let began = Instant::now();
                    match op(i).await {
                        Ok(value) => {
                            m.latencies.push(began.elapsed());
                            values.push(value);
                        }
                        Err(err) => m.failed(err),
                    }
                }
            })
        })
        .collect();
    let mut total = Measurement::default();
    let mut values = Vec::new();
    for worker in workers {
        let (m, v) = worker.await?;
        total.merge(m);
        values.extend(v);
    }
    total.finish(start.elapsed());
    Ok((total, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut m = Measurement {
            latencies: (1..=100).rev().map(Duration::from_millis).collect(),
            ..Default::default()
        };
        m.finish(Duration::from_secs(2));
        assert_eq!(m.percentile(0.5), Duration::from_millis(50));
        assert_eq!(m.percentile(0.99), Duration::from_millis(99));
        assert_eq!(m.percentile(1.0), Duration::from_millis(100));
        assert_eq!(m.rate(), 50.0);
        assert_eq!(Measurement::default().percentile(0.5), Duration::ZERO);
    }
}
