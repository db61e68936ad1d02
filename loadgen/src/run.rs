//! One load step per agent count: set up, measure idle memory, relay at a fixed rate, report.

use crate::client::{ping, round_trip, Client, Pair, Ws};
use crate::config::LoadConfig;
use crate::error::LoadError;
use crate::limits::raise_open_files;
use crate::measure::{load, ms, Measurement};
use crate::server::{self, ServerUnderTest};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::time::MissedTickBehavior;

/// Open files besides the WebSockets and the setup's HTTP connections: database, log,
/// listener, standard streams, the runtime's own. A started server keeps as many out of its
/// connection budget.
const SPARE_FILES: u64 = 64;
/// Pause after the setup, so that the server's queued database work is done before its memory
/// is read.
const SETTLE: Duration = Duration::from_secs(3);

/// What one step measured.
#[derive(Debug)]
pub struct StepReport {
    pub agents: usize,
    /// Agents given an expert: all of them, unless the open-file limits leave room for fewer.
    pub experts: usize,
    /// Opening each agent (with its session and expert, if it has one).
    pub setup: Measurement,
    /// WebSockets open after the setup.
    pub connections: usize,
    /// Round trips per second asked of all pairs together.
    pub rate: f64,
    pub interval: Duration,
    /// Sockets the server held with every session open and idle.
    pub server_sockets: usize,
    pub rss_before: u64,
    pub rss_idle: u64,
    /// Server CPU time over the relay, warm-up included, as a share of one core.
    pub relay_cpu: f64,
    /// Both one-way legs of every counted round trip.
    pub one_way: Measurement,
    pub round_trip: Measurement,
    /// Pairs whose every exchange arrived and whose sockets stayed open to the end.
    pub pairs_held: usize,
    /// Agents without an expert that still answered a ping at the end.
    pub alone_held: usize,
}

impl StepReport {
    /// Agents connected by the setup.
    pub fn opened(&self) -> usize {
        self.setup.latencies.len()
    }

    /// WebSockets still open and answering at the end.
    pub fn connections_held(&self) -> usize {
        2 * self.pairs_held + self.alone_held
    }

    /// Server memory per open WebSocket, in bytes.
    pub fn memory_per_connection(&self) -> f64 {
        self.rss_idle.saturating_sub(self.rss_before) as f64 / self.connections.max(1) as f64
    }

    /// Every agent and expert connected, every exchange arrived verbatim, every socket held.
    pub fn complete(&self) -> bool {
        self.opened() == self.agents
            && self.round_trip.errors == 0
            && self.connections_held() == self.agents + self.experts
            && !self.round_trip.latencies.is_empty()
    }
}

/// Runs every step of `config` within its time limit.
pub async fn run(config: &LoadConfig) -> Result<Vec<StepReport>, LoadError> {
    let limit = Duration::from_secs(config.time_limit_secs);
    let steps = async {
        let mut reports = Vec::new();
        for &agents in &config.agents {
            let report = run_step(config, agents).await?;
            // Shown at once, so that a later step's failure does not lose it.
            eprintln!("{}", markdown(std::slice::from_ref(&report)));
            reports.push(report);
        }
        Ok(reports)
    };
    tokio::time::timeout(limit, steps)
        .await
        .map_err(|_| LoadError::TimeLimit(limit))?
}

/// One step against a server of its own (or the given one), which is stopped afterwards.
pub async fn run_step(config: &LoadConfig, agents: usize) -> Result<StepReport, LoadError> {
    let overhead = config.setup_concurrency as u64 + SPARE_FILES;
    let wanted = 2 * agents as u64 + overhead;
    let own = raise_open_files(wanted)?;
    let mut server = match (&config.server, config.server_pid) {
        (Some(base), Some(pid)) => ServerUnderTest::running(base.clone(), pid),
        _ => ServerUnderTest::start(&server_bin(config)?, &config.server_log, SPARE_FILES).await?,
    };
    let theirs = server::open_file_limit(server.pid)?;
    let experts = experts_that_fit(agents, own.min(theirs), overhead);
    if experts == 0 {
        server.stop().await;
        return Err(LoadError::Limit(format!(
            "this program may open {own} files and the server {theirs}; {agents} agents and \
             their experts need {wanted}; raise `ulimit -n` (with CAP_SYS_RESOURCE the hard \
             limit is raised too)"
        )));
    }
    if experts < agents {
        eprintln!(
            "{agents} agents: the open-file limits ({own} here, {theirs} in the server) leave \
             room for {experts} experts; the other agents stay connected without a session"
        );
    }
    let (base, pid) = (server.base.clone(), server.pid);
    let outcome = tokio::select! {
        report = measure(config, agents, experts, &base, pid) => Ok(report),
        how = server.exited() => Err(how),
    };
    match outcome {
        Ok(report) => {
            server.stop().await;
            report
        }
        Err(how) => Err(LoadError::Server(format!(
            "{how} during the step with {agents} agents{}",
            server.log_tail()
        ))),
    }
}

/// How many of `agents` can have an expert when each side may open `limit` files and needs
/// `overhead` of them for other things: all of them, or as many as fit once every agent is
/// connected. Zero when not even the agents fit.
fn experts_that_fit(agents: usize, limit: u64, overhead: u64) -> usize {
    let room = limit.saturating_sub(overhead + agents as u64);
    if room == 0 {
        return 0;
    }
    agents.min(usize::try_from(room).unwrap_or(usize::MAX))
}

fn server_bin(config: &LoadConfig) -> Result<PathBuf, LoadError> {
    if let Some(bin) = &config.server_bin {
        return Ok(bin.clone());
    }
    let exe = std::env::current_exe().map_err(LoadError::io("locate this program"))?;
    let bin = exe.with_file_name("signaling-server");
    if !bin.exists() {
        return Err(LoadError::Server(format!(
            "program {} is missing: build it with `cargo build --release -p signaling-server` \
             or name it with --server-bin",
            bin.display()
        )));
    }
    Ok(bin)
}

/// 127.0.0.2 onwards.
fn source_addresses(count: u8) -> Vec<IpAddr> {
    (0..count)
        .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + i)))
        .collect()
}

/// One connected agent: in a session with its expert, or alone.
enum Member {
    Pair(Box<Pair>),
    Alone(Box<Ws>),
}

async fn measure(
    config: &LoadConfig,
    agents: usize,
    experts: usize,
    base: &url::Url,
    pid: u32,
) -> Result<StepReport, LoadError> {
    let client = Client::new(base, source_addresses(config.source_addresses))?;
    let rss_before = server::rss_bytes(pid)?;
    eprintln!("{agents} agents: opening sessions");
    let (setup, members) = load(
        config.setup_concurrency,
        agents,
        Duration::from_secs(config.setup_secs),
        move |i| {
            let client = client.clone();
            async move {
                if i < experts {
                    client.open_pair(i).await.map(|p| Member::Pair(Box::new(p)))
                } else {
                    client
                        .open_agent(i)
                        .await
                        .map(|(_, ws)| Member::Alone(Box::new(ws)))
                }
            }
        },
    )
    .await?;
    let (mut pairs, mut alone) = (Vec::new(), Vec::new());
    for member in members {
        match member {
            Member::Pair(pair) => pairs.push(*pair),
            Member::Alone(ws) => alone.push(*ws),
        }
    }
    eprintln!(
        "{agents} agents: {} sessions and {} lone agents open after {:.0} s",
        pairs.len(),
        alone.len(),
        setup.elapsed.as_secs_f64()
    );
    if pairs.is_empty() {
        return Err(LoadError::Server(format!(
            "opened no session: {}",
            setup.first_error.as_deref().unwrap_or("no error")
        )));
    }
    let connections = 2 * pairs.len() + alone.len();
    tokio::time::sleep(SETTLE).await;
    let rss_idle = server::rss_bytes(pid)?;
    let server_sockets = server::socket_count(pid)?;

    let interval = Duration::from_secs_f64(config.interval_secs.max(0.001));
    let measured = Duration::from_secs(config.relay_secs);
    let rate = pairs.len() as f64 / interval.as_secs_f64();
    eprintln!("{agents} agents: relaying {rate:.0} round trips/s for {measured:?} after {interval:?} of warm-up");
    let cpu_before = server::cpu_time(pid)?;
    let relayed = relay(pairs, interval, measured).await?;
    let cpu = server::cpu_time(pid)?.saturating_sub(cpu_before);
    let mut alone_held = 0;
    for mut agent in alone {
        alone_held += usize::from(ping(&mut agent).await.is_ok());
    }
    Ok(StepReport {
        agents,
        experts,
        setup,
        connections,
        rate,
        interval,
        server_sockets,
        rss_before,
        rss_idle,
        relay_cpu: cpu.as_secs_f64() / (interval + measured).as_secs_f64(),
        one_way: relayed.one_way,
        round_trip: relayed.round_trip,
        pairs_held: relayed.held,
        alone_held,
    })
}

#[derive(Debug, Default)]
struct Relayed {
    one_way: Measurement,
    round_trip: Measurement,
    held: usize,
}

/// Every pair exchanges an offer and its answer once per `interval`, the pairs' first
/// exchanges spread evenly over the first interval, which is warm-up; the exchanges due in
/// the `measured` time after it count. A pair stops at its first failure.
async fn relay(
    pairs: Vec<Pair>,
    interval: Duration,
    measured: Duration,
) -> Result<Relayed, LoadError> {
    let n = pairs.len();
    let start = Instant::now() + Duration::from_millis(100);
    let counted_from = start + interval;
    let until = counted_from + measured;
    let tasks: Vec<_> = pairs
        .into_iter()
        .enumerate()
        .map(|(i, pair)| {
            let first = start + interval.mul_f64(i as f64 / n as f64);
            tokio::spawn(relay_pair(pair, first, interval, counted_from, until))
        })
        .collect();
    let mut total = Relayed::default();
    for task in tasks {
        let (one_way, round_trip, held) = task.await?;
        total.one_way.merge(one_way);
        total.round_trip.merge(round_trip);
        total.held += usize::from(held);
    }
    total.one_way.finish(measured);
    total.round_trip.finish(measured);
    Ok(total)
}

async fn relay_pair(
    mut pair: Pair,
    first: Instant,
    interval: Duration,
    counted_from: Instant,
    until: Instant,
) -> (Measurement, Measurement, bool) {
    let (mut one_way, mut whole) = (Measurement::default(), Measurement::default());
    let mut ticks = tokio::time::interval_at(first.into(), interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    for seq in 0u64.. {
        let due = ticks.tick().await.into_std();
        if due >= until {
            break;
        }
        let sent = Instant::now();
        match round_trip(&mut pair, seq).await {
            Ok((at_expert, at_agent)) if due >= counted_from => {
                one_way.latencies.push(at_expert - sent);
                one_way.latencies.push(at_agent - at_expert);
                whole.latencies.push(at_agent - sent);
            }
            Ok(_) => {}
            Err(err) => {
                whole.failed(err);
                return (one_way, whole, false);
            }
        }
    }
    (one_way, whole, true)
}

/// The reports as two Markdown tables, then the first error of any step.
pub fn markdown(reports: &[StepReport]) -> String {
    let mib = |b: u64| format!("{:.1}", b as f64 / (1024.0 * 1024.0));
    let mut out = String::from(
        "| agents | experts | connected | setup | agents/s | server sockets | server RSS before → idle MiB | per connection KiB |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in reports {
        out += &format!(
            "| {} | {} | {} | {:.0} s | {:.0} | {} | {} → {} | {:.1} |\n",
            r.agents,
            r.experts,
            r.connections,
            r.setup.elapsed.as_secs_f64(),
            r.setup.rate(),
            r.server_sockets,
            mib(r.rss_before),
            mib(r.rss_idle),
            r.memory_per_connection() / 1024.0,
        );
    }
    out += "\n| agents | rate | round trips | failed | connections held | one way p50 ms | p99 ms | max ms | round trip p50 ms | p99 ms | server CPU |\n\
            |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for r in reports {
        let (o, t) = (&r.one_way, &r.round_trip);
        out += &format!(
            "| {} | {:.0}/s (every {:?}) | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} % |\n",
            r.agents,
            r.rate,
            r.interval,
            t.latencies.len(),
            t.errors,
            r.connections_held(),
            ms(o.percentile(0.5)),
            ms(o.percentile(0.99)),
            ms(o.percentile(1.0)),
            ms(t.percentile(0.5)),
            ms(t.percentile(0.99)),
            r.relay_cpu * 100.0,
        );
    }
    for r in reports {
        for (what, m) in [("opening a session", &r.setup), ("relaying", &r.round_trip)] {
            if let Some(err) = &m.first_error {
                out += &format!(
                    "\nFirst error {what} with {} agents ({} in all): {err}\n",
                    r.agents, m.errors
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn experts_fill_what_the_agents_leave() {
        assert_eq!(experts_that_fit(1000, 20_000, 96), 1000);
        assert_eq!(experts_that_fit(10_000, 20_000, 96), 9_904);
        assert_eq!(experts_that_fit(10_000, 20_192, 96), 10_000);
        assert_eq!(experts_that_fit(10_000, 10_096, 96), 0);
        assert_eq!(experts_that_fit(10_000, 1024, 96), 0);
    }
}
