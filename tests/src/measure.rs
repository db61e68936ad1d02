//! Small helpers for the benchmarks: percentiles, screen sizes, and what `/proc` says a
//! process costs.

use anyhow::{Context, Result};
use std::time::Duration;

/// The `p`th percentile (nearest rank, `p` from 0 to 100) of `values`, ignoring NaNs; `None`
/// when there are none.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted.get(rank.min(sorted.len() - 1)).copied()
}

/// Parses screen sizes such as `1280x720,1920x1080`.
pub fn parse_sizes(text: &str) -> Result<Vec<(u32, u32)>, String> {
    text.split(',')
        .map(|s| {
            let (w, h) = s
                .trim()
                .split_once('x')
                .ok_or_else(|| format!("{s:?} is not WIDTHxHEIGHT"))?;
            let n = |v: &str| v.parse::<u32>().map_err(|e| format!("{s:?}: {e}"));
            Ok((n(w)?, n(h)?))
        })
        .collect()
}

/// A process to read the costs of: this one, or another by id.
#[derive(Clone, Copy, Debug)]
pub enum Process {
    This,
    Id(u32),
}

impl Process {
    fn proc_file(self, name: &str) -> Result<String> {
        let path = match self {
            Process::This => format!("/proc/self/{name}"),
            Process::Id(pid) => format!("/proc/{pid}/{name}"),
        };
        std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))
    }

    /// User plus system CPU time used so far, all threads.
    pub fn cpu_time(self) -> Result<Duration> {
        let stat = self.proc_file("stat")?;
        // The command name in parentheses may contain spaces; the fields after it are plain.
        let after_name = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .context("unexpected /proc/<pid>/stat")?;
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        // Fields 14 (utime) and 15 (stime) of proc(5); `fields[0]` is field 3.
        let ticks = |index: usize| -> Result<u64> {
            fields
                .get(index)
                .context("short /proc/<pid>/stat")?
                .parse()
                .context("a CPU time in /proc/<pid>/stat")
        };
        let total = ticks(11)? + ticks(12)?;
        Ok(Duration::from_secs_f64(
            total as f64 / ticks_per_second() as f64,
        ))
    }

    /// Resident memory now, in bytes.
    pub fn resident_bytes(self) -> Result<u64> {
        let status = self.proc_file("status")?;
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .context("no VmRSS in /proc/<pid>/status")?;
        Ok(kib * 1024)
    }
}

/// The kernel's clock ticks per second for `/proc` times (`getconf CLK_TCK`; 100 on Linux).
fn ticks_per_second() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_sizes_and_own_costs() -> Result<()> {
        let values = [5.0, 1.0, f64::NAN, 3.0, 2.0, 4.0];
        assert_eq!(percentile(&values, 50.0), Some(3.0));
        assert_eq!(percentile(&values, 0.0), Some(1.0));
        assert_eq!(percentile(&values, 100.0), Some(5.0));
        assert_eq!(percentile(&[], 50.0), None);

        assert_eq!(
            parse_sizes("1280x720, 1920x1080"),
            Ok(vec![(1280, 720), (1920, 1080)])
        );
        assert!(parse_sizes("1280").is_err());
        assert!(parse_sizes("axb").is_err());

        let before = Process::This.cpu_time()?;
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(200) {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        assert!(Process::This.cpu_time()? > before, "busy time counts");
        assert!(Process::This.resident_bytes()? > 1 << 20);
        Ok(())
    }
}
