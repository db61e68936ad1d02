//! Shaped links: the router between the novice and the expert limits the rate, delays and drops
//! packets, as a slow, far or lossy network would, and can change that in the middle of a test.
//!
//! Everything happens on the router's own interfaces, never on the hosts' (a WebRTC stack whose
//! own interface holds its packets back stalls on a full socket instead of seeing a slow
//! network), in the router's `mangle` table and qdiscs:
//!
//! ```text
//!   novice ──▶ tonovice ─ PREROUTING: count the novice's UDP (offered)
//!                        POSTROUTING -o toexpert ─▶ SHAPE_UP: loss (statistic DROP), delay (NFQUEUE 0)
//!                        toexpert root qdisc: rate (tbf) ──▶ expert
//!   expert ──▶ toexpert ─ POSTROUTING -o tonovice ─▶ SHAPE_DOWN: loss, delay (NFQUEUE 1) ──▶ novice
//! ```
//!
//! The rate limits the novice→expert direction only, where the agent's video goes (a novice's
//! uplink is the narrow end of most home connections); delay and loss apply to both directions.
//! The kernel here has no `netem`, so the delay is a user-space delay line
//! (`tests/src/bin/delay_line.rs`) at real-time priority where that is allowed, one per
//! direction, holding each packet its queue hands it. The rate limiter's queue holds
//! [`QUEUE`] of traffic at the link's rate and drops what comes beyond, as a router would.
//! Traffic to and from the router itself (the signaling server, the TURN relay) is shaped on
//! its way out of the router as well.

use anyhow::{anyhow, bail, Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::{Namespace, Network};

/// How long a packet may wait in the rate limiter's queue before it is dropped instead.
pub const QUEUE: Duration = Duration::from_millis(200);
/// Marks the rule that counts the UDP bytes the novice's host sends into the link.
const OFFERED: &str = "offered-by-novice";
/// The delay lines' netfilter queues.
const UP_QUEUE: u16 = 0;
const DOWN_QUEUE: u16 = 1;
/// The interface towards the expert, whose root qdisc limits the rate.
const TOWARDS_EXPERT: &str = "toexpert";
/// Real-time priority of the delay lines (`chrt -f`).
const DELAY_LINE_PRIORITY: &str = "20";
/// Long enough for a delay line to start on a busy machine.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// What the link between the novice and the expert does to the packets crossing it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkProfile {
    /// The novice→expert rate in kbit/s (1 kbit = 1000 bit); `None` for the full speed of the
    /// virtual link.
    pub rate_kbit: Option<u32>,
    /// Added in each direction, in milliseconds: the round trip grows by twice this.
    pub delay_ms: u32,
    /// The share of packets dropped at random in each direction, from 0.0 to 1.0.
    pub loss: f64,
}

impl LinkProfile {
    /// The link as the network is built: no limit, no delay, no loss.
    pub const UNSHAPED: LinkProfile = LinkProfile {
        rate_kbit: None,
        delay_ms: 0,
        loss: 0.0,
    };

    /// The round trip time this profile adds.
    pub fn added_rtt(&self) -> Duration {
        Duration::from_millis(2 * u64::from(self.delay_ms))
    }

    /// Bytes per second at the profile's rate, if it has one.
    pub fn rate_bytes_per_sec(&self) -> Option<f64> {
        self.rate_kbit.map(|k| f64::from(k) * 1000.0 / 8.0)
    }
}

impl std::fmt::Display for LinkProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.rate_kbit {
            Some(k) if k >= 1000 && k % 100 == 0 => write!(f, "{} Mbit/s", f64::from(k) / 1000.0)?,
            Some(k) => write!(f, "{k} kbit/s")?,
            None => write!(f, "unlimited")?,
        }
        write!(
            f,
            ", {} ms RTT, {} % loss",
            self.added_rtt().as_millis(),
            (self.loss * 1000.0).round() / 10.0
        )
    }
}

/// What the router counted on the link since it was shaped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkCounters {
    /// UDP bytes (IP headers included) the novice's host sent into the link, before any loss,
    /// delay or rate limit: what the agent offered.
    pub offered_udp_bytes: u64,
    /// Bytes the rate limiter passed on towards the expert, all traffic; 0 while there is no
    /// rate limit.
    pub sent_bytes: u64,
    /// Packets the rate limiter dropped because its queue was full.
    pub dropped_packets: u64,
}

/// The shaping of a [`Network`]'s link, in force until dropped (then the delay lines stop; the
/// rules and the qdisc go with the network).
#[derive(Debug)]
pub struct ShapedLink {
    router: Namespace,
    profile: LinkProfile,
    up: DelayLine,
    down: DelayLine,
}

impl Network {
    /// Shapes the link between the novice and the expert as `profile` says. `delay_line` is the
    /// `delay_line` program of this crate (`env!("CARGO_BIN_EXE_delay_line")` in a test).
    pub fn shape(&self, delay_line: &Path, profile: LinkProfile) -> Result<ShapedLink> {
        let router = Namespace {
            name: self.router.name.clone(),
        };
        let up = DelayLine::start(&router, delay_line, UP_QUEUE, profile.delay_ms)?;
        let down = DelayLine::start(&router, delay_line, DOWN_QUEUE, profile.delay_ms)?;
        restore(
            &router,
            &format!(
                "*mangle\n\
                 :SHAPE_UP - [0:0]\n\
                 :SHAPE_DOWN - [0:0]\n\
                 -A PREROUTING -i tonovice -p udp -m comment --comment {OFFERED}\n\
                 -A POSTROUTING -o {TOWARDS_EXPERT} -j SHAPE_UP\n\
                 -A POSTROUTING -o tonovice -j SHAPE_DOWN\n\
                 COMMIT\n"
            ),
        )?;
        let mut link = ShapedLink {
            router,
            profile: LinkProfile::UNSHAPED,
            up,
            down,
        };
        link.set(profile)?;
        Ok(link)
    }
}

impl ShapedLink {
    /// The profile in force.
    pub fn profile(&self) -> LinkProfile {
        self.profile
    }

    /// Changes the link to `profile`, at once: packets already held keep their delay, and the
    /// rate limiter keeps its queue.
    pub fn set(&mut self, profile: LinkProfile) -> Result<()> {
        if !(0.0..=1.0).contains(&profile.loss) {
            bail!("a loss of {} is not a share between 0 and 1", profile.loss);
        }
        if profile.rate_kbit == Some(0) {
            bail!("a rate of 0 kbit/s passes nothing; block the path instead");
        }
        self.up.set_delay(profile.delay_ms)?;
        self.down.set_delay(profile.delay_ms)?;
        let mut rules = String::from("*mangle\n-F SHAPE_UP\n-F SHAPE_DOWN\n");
        for (chain, queue) in [("SHAPE_UP", UP_QUEUE), ("SHAPE_DOWN", DOWN_QUEUE)] {
            if profile.loss > 0.0 {
                rules += &format!(
                    "-A {chain} -m statistic --mode random --probability {:.6} -j DROP\n",
                    profile.loss
                );
            }
            if profile.delay_ms > 0 {
                rules += &format!("-A {chain} -j NFQUEUE --queue-num {queue}\n");
            }
        }
        rules += "COMMIT\n";
        restore(&self.router, &rules)?;
        match (profile.rate_bytes_per_sec(), self.profile.rate_kbit) {
            (Some(bytes_per_sec), _) => {
                // A burst of 10 ms at the rate, and never less than two full packets, or the
                // limiter could not pass one; a queue of QUEUE at the rate.
                let burst = (bytes_per_sec / 100.0).max(3028.0) as u64;
                let limit = (bytes_per_sec * QUEUE.as_secs_f64()).max(2.0 * 1514.0) as u64;
                let rate = format!("{}kbit", profile.rate_kbit.unwrap_or_default());
                self.router.run(
                    "tc",
                    &[
                        "qdisc",
                        "replace",
                        "dev",
                        TOWARDS_EXPERT,
                        "root",
                        "tbf",
                        "rate",
                        &rate,
                        "burst",
                        &burst.to_string(),
                        "limit",
                        &limit.to_string(),
                    ],
                )?;
            }
            (None, Some(_)) => {
                self.router
                    .run("tc", &["qdisc", "del", "dev", TOWARDS_EXPERT, "root"])?;
            }
            (None, None) => {}
        }
        self.profile = profile;
        Ok(())
    }

    /// What the router counted so far.
    pub fn counters(&self) -> Result<LinkCounters> {
        let mut counters = LinkCounters {
            offered_udp_bytes: offered_bytes(&self.router)?,
            ..LinkCounters::default()
        };
        let output = self
            .router
            .command("tc")
            .args(["-s", "-j", "qdisc", "show", "dev", TOWARDS_EXPERT])
            .stdin(Stdio::null())
            .output()
            .context("running tc")?;
        if !output.status.success() {
            bail!(
                "tc -s qdisc show failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let qdiscs: serde_json::Value =
            serde_json::from_slice(&output.stdout).context("tc's JSON")?;
        if let Some(tbf) = qdiscs
            .as_array()
            .and_then(|all| all.iter().find(|q| q["kind"] == "tbf"))
        {
            counters.sent_bytes = tbf["bytes"].as_u64().unwrap_or(0);
            counters.dropped_packets = tbf["drops"].as_u64().unwrap_or(0);
        }
        Ok(counters)
    }
}

/// The byte counter of the rule that counts what the novice's host sends.
fn offered_bytes(router: &Namespace) -> Result<u64> {
    let output = router
        .command("iptables-save")
        .args(["-c", "-t", "mangle"])
        .stdin(Stdio::null())
        .output()
        .context("running iptables-save")?;
    let rules = String::from_utf8_lossy(&output.stdout);
    // [packets:bytes] -A PREROUTING -i tonovice -p udp -m comment --comment offered-by-novice
    let line = rules
        .lines()
        .find(|l| l.contains(OFFERED))
        .ok_or_else(|| anyhow!("no counting rule in the router's mangle table:\n{rules}"))?;
    line.strip_prefix('[')
        .and_then(|l| l.split_once(']'))
        .and_then(|(counts, _)| counts.split_once(':'))
        .and_then(|(_, bytes)| bytes.parse().ok())
        .ok_or_else(|| anyhow!("no byte count in {line:?}"))
}

/// Applies `rules` (iptables-restore's format) atomically, leaving every other rule in place.
fn restore(ns: &Namespace, rules: &str) -> Result<()> {
    let mut child = ns
        .command("iptables-restore")
        .arg("--noflush")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("running iptables-restore")?;
    child
        .stdin
        .take()
        .ok_or_else(|| anyhow!("iptables-restore's stdin"))?
        .write_all(rules.as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!(
            "iptables-restore failed ({}) on\n{rules}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// One running `delay_line`, bound to one netfilter queue of the router.
#[derive(Debug)]
struct DelayLine {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    queue: u16,
}

impl DelayLine {
    fn start(router: &Namespace, program: &Path, queue: u16, delay_ms: u32) -> Result<Self> {
        let mut command = router.command("chrt");
        if realtime_allowed() {
            command.args(["-f", DELAY_LINE_PRIORITY]).arg(program);
        } else {
            command = router.command(program);
        }
        let mut child = command
            .args(["--queue", &queue.to_string()])
            .args(["--delay-ms", &delay_ms.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let stdin = child.stdin.take().ok_or_else(|| anyhow!("stdin"))?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("stdout"))?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut line = DelayLine {
            child,
            stdin,
            lines,
            queue,
        };
        line.expect("ready")?;
        Ok(line)
    }

    fn set_delay(&mut self, delay_ms: u32) -> Result<()> {
        writeln!(self.stdin, "delay {delay_ms}")
            .with_context(|| format!("the delay line of queue {} has stopped", self.queue))?;
        self.expect(&format!("delay {delay_ms}"))
    }

    fn expect(&mut self, want: &str) -> Result<()> {
        match self.lines.recv_timeout(START_TIMEOUT) {
            Ok(line) if line == want => Ok(()),
            Ok(line) => bail!(
                "the delay line of queue {} said {line:?}, not {want:?}",
                self.queue
            ),
            Err(_) => bail!(
                "the delay line of queue {} did not say {want:?} ({:?})",
                self.queue,
                self.child.try_wait()
            ),
        }
    }
}

impl Drop for DelayLine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether this process may start programs at real-time priority (in a container it may not).
fn realtime_allowed() -> bool {
    static ALLOWED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ALLOWED.get_or_init(|| {
        let allowed = Command::new("chrt")
            .args(["-f", DELAY_LINE_PRIORITY, "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !allowed {
            eprintln!("the delay lines run at normal priority: chrt -f is not allowed here");
        }
        allowed
    })
}

/// Checks that the link's counters parse and its profile prints, without a network.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_print_as_people_say_them() {
        let slow = LinkProfile {
            rate_kbit: Some(500),
            delay_ms: 50,
            loss: 0.02,
        };
        assert_eq!(slow.to_string(), "500 kbit/s, 100 ms RTT, 2 % loss");
        assert_eq!(slow.rate_bytes_per_sec(), Some(62_500.0));
        let fast = LinkProfile {
            rate_kbit: Some(5000),
            ..LinkProfile::UNSHAPED
        };
        assert_eq!(fast.to_string(), "5 Mbit/s, 0 ms RTT, 0 % loss");
        assert_eq!(
            LinkProfile::UNSHAPED.to_string(),
            "unlimited, 0 ms RTT, 0 % loss"
        );
    }
}
