//! A delay line for shaped test links: takes the packets that an iptables `NFQUEUE` rule hands
//! to user space, holds each one for a set time and lets it go on (`ACCEPT`), in the order they
//! came. The kernel here has no `netem` qdisc, so this is how a test link gets its latency.
//!
//!   ip netns exec ROUTER chrt -f 20 delay_line --queue 0 --delay-ms 50
//!
//! It prints `ready` once it is bound to its queue. On standard input it takes `delay MS`
//! lines, which change the delay from then on and are answered with the same line once in
//! force; it exits when standard input closes, and the kernel drops what it still held. The
//! queue is bounded: the kernel drops packets beyond `--max-packets` held at once, as a full
//! router queue would (never letting them through undelayed).
//!
//! It polls: the queue's socket is read without blocking, every millisecond at least, so a
//! packet is held for its delay plus at most about a millisecond. Run it at real-time priority
//! (`chrt`) so that a busy machine does not add its own delays to that.

use anyhow::{bail, Context, Result};
use clap::Parser;
use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::sync::mpsc::{self, TryRecvError};
use std::time::{Duration, Instant};

/// The longest it sleeps between two looks at the queue.
const TICK: Duration = Duration::from_millis(1);

#[derive(Debug, Parser)]
#[command(about = "Holds the packets of one netfilter queue for a set time, in order")]
struct Config {
    /// The NFQUEUE number to take packets from (`iptables ... -j NFQUEUE --queue-num N`).
    #[arg(long)]
    queue: u16,
    /// How long to hold each packet, in milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// How many packets may be held at once; the kernel drops what comes beyond that.
    #[arg(long, default_value_t = 4096)]
    max_packets: u32,
}

/// When each packet may go: `delay` after it came, and never before one that came earlier, so
/// that a shorter delay set mid-stream does not reorder packets.
#[derive(Debug)]
struct Schedule {
    delay: Duration,
    last_due: Option<Instant>,
}

impl Schedule {
    fn new(delay: Duration) -> Self {
        Self {
            delay,
            last_due: None,
        }
    }

    fn set_delay(&mut self, delay: Duration) {
        self.delay = delay;
    }

    /// The time a packet that came at `now` is due.
    fn handle_arrival(&mut self, now: Instant) -> Instant {
        let due = (now + self.delay).max(self.last_due.unwrap_or(now));
        self.last_due = Some(due);
        due
    }
}

enum Command {
    Delay(u64),
}

fn parse_command(line: &str) -> Result<Command> {
    match line.split_whitespace().collect::<Vec<_>>()[..] {
        ["delay", ms] => Ok(Command::Delay(
            ms.parse()
                .with_context(|| format!("a delay in ms: {ms:?}"))?,
        )),
        _ => bail!("unknown command {line:?} (expected `delay MS`)"),
    }
}

fn main() -> Result<()> {
    let config = Config::parse();
    let q = config.queue;
    let mut queue = nfq::Queue::open()
        .context("opening a netfilter queue socket (this needs root, or CAP_NET_ADMIN)")?;
    queue
        .bind(q)
        .with_context(|| format!("binding to netfilter queue {q}"))?;
    // Only the verdict matters: no payload is copied to user space.
    queue.set_copy_range(q, 0)?;
    queue.set_queue_max_len(q, config.max_packets)?;
    queue.set_fail_open(q, false)?;
    queue.set_nonblocking(true);

    let (commands, incoming) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if commands.send(line).is_err() {
                break;
            }
        }
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready")?;
    out.flush()?;

    let mut schedule = Schedule::new(Duration::from_millis(config.delay_ms));
    let mut held: VecDeque<(Instant, nfq::Message)> = VecDeque::new();
    loop {
        loop {
            match queue.recv() {
                Ok(message) => {
                    let due = schedule.handle_arrival(Instant::now());
                    held.push_back((due, message));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e).context("reading the netfilter queue"),
            }
        }
        let now = Instant::now();
        while held.front().is_some_and(|(due, _)| *due <= now) {
            if let Some((_, mut message)) = held.pop_front() {
                message.set_verdict(nfq::Verdict::Accept);
                queue.verdict(message).context("letting a packet go")?;
            }
        }
        match incoming.try_recv() {
            Ok(line) => match parse_command(&line)? {
                Command::Delay(ms) => {
                    schedule.set_delay(Duration::from_millis(ms));
                    writeln!(out, "delay {ms}")?;
                    out.flush()?;
                }
            },
            Err(TryRecvError::Empty) => {}
            // Whoever started it is gone: so is the link.
            Err(TryRecvError::Disconnected) => return Ok(()),
        }
        let now = Instant::now();
        let wait = held.front().map_or(TICK, |(due, _)| {
            due.saturating_duration_since(now).min(TICK)
        });
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_are_due_after_the_delay_and_never_overtake() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let mut schedule = Schedule::new(ms(50));
        assert_eq!(schedule.handle_arrival(start), start + ms(50));
        assert_eq!(schedule.handle_arrival(start + ms(5)), start + ms(55));
        // A shorter delay: the next packet waits for the one before it.
        schedule.set_delay(ms(10));
        assert_eq!(schedule.handle_arrival(start + ms(6)), start + ms(55));
        assert_eq!(schedule.handle_arrival(start + ms(60)), start + ms(70));
        schedule.set_delay(Duration::ZERO);
        assert_eq!(schedule.handle_arrival(start + ms(80)), start + ms(80));
    }

    #[test]
    fn commands_parse() {
        assert!(matches!(parse_command("delay 40"), Ok(Command::Delay(40))));
        assert!(parse_command("delay").is_err());
        assert!(parse_command("delay -1").is_err());
        assert!(parse_command("rate 5").is_err());
    }
}
