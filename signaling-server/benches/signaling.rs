//! Benchmark of the signaling server over real HTTP and WebSockets on the loopback interface.
//!
//! It starts the whole server in this process on `127.0.0.1:0`, first on SQLite in a temporary
//! directory, then on a fresh PostgreSQL database created under `TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) and dropped afterwards; PostgreSQL is skipped
//! with a note when it cannot be reached. With real clients it measures:
//! * on each database, invitation creation (`POST /api/invitations`) with 1 and 16 requests in
//!   flight, then redemption (`POST /api/redeem`) of the invitations just created (the server
//!   judges no password: the agent does, so one costs the server nothing);
//! * on SQLite only, as relaying never touches the database: setting up agent/expert pairs with
//!   accepted sessions, then the relay through the hub with N pairs at once. Each pair runs a
//!   closed loop: the agent sends an offer, its expert reads it and sends an answer, the agent
//!   reads the answer, then the next offer. Both one-way legs and the round trip are timed by
//!   the client, once it has read and parsed the frame, and each frame must arrive verbatim.
//!
//! Each HTTP step stops after a fixed number of requests or a time limit, whichever comes first,
//! so that the default run takes one to two minutes on two cores. The server's rate limits and
//! its cap on connections per address are raised (every client is 127.0.0.1), and consent requests nobody answers are kept pending for
//! an hour, so that the sessions redeemed by the HTTP steps are not ended and written back
//! during a later measurement. Clients and server share one Tokio runtime and the machine's
//! cores. The result is a Markdown table on stdout; progress and the server's warnings go to
//! stderr.
//!
//! Environment, with defaults:
//! * `BENCH_STEP_SECS=4`: time limit of each HTTP step;
//! * `BENCH_SCALE=1`: multiplies the request count of each HTTP step;
//! * `BENCH_RELAY_SECS=3`: measured time of each relay step, after half a second of warm-up;
//! * `BENCH_PAIRS=1,100,1000`: pairs relaying at once in each relay step, empty for none
//!   (each pair holds four sockets in this process);
//! * `TEST_POSTGRES_URL`: the database next to which the benchmark's own is created;
//! * `TMPDIR`: where the SQLite database lives (on disk by default, as in production);
//! * `RUST_LOG=signaling_server=warn`: what gets logged.
//!
//! The HTTP and WebSocket clients and the latency bookkeeping are the load generator's
//! (`loadgen::client`, `loadgen::measure`), which measures the server as a separate process
//! with thousands of agents at a fixed rate.
//!
//! Run with `cargo bench -p signaling-server --bench signaling`.

use anyhow::Context;
use loadgen::client::{round_trip, Api, Client, Pair};
use loadgen::measure::{load, ms, Measurement};
use signaling_server::clock::Clock;
use signaling_server::config::ServerConfig;
use signaling_server::state::AppState;
use signaling_server::store::Store;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Longest the relay pairs may take to set up.
const SETUP_TIME: Duration = Duration::from_secs(60);
/// Requests in flight while setting up relay pairs.
const SETUP_CONCURRENCY: usize = 16;
/// Relay: round trips started during the warm-up are relayed but not counted.
const RELAY_WARM_UP: Duration = Duration::from_millis(500);
/// One HTTP step: how many requests at most and how many in flight. (No step has a password:
/// the server no longer sees one, so an invitation with a password costs it the same.)
struct Step {
    concurrency: usize,
    count: usize,
}

impl Step {
    fn operation(&self, what: &str) -> String {
        what.to_string()
    }
}

/// Each step creates invitations; the redemption step of the same index redeems them.
static HTTP_STEPS: [Step; 2] = [
    Step {
        concurrency: 1,
        count: 1_000,
    },
    Step {
        concurrency: 16,
        count: 2_000,
    },
];

/// What the environment may change; see the module documentation.
struct Settings {
    step_time: Duration,
    scale: usize,
    relay_time: Duration,
    pairs: Vec<usize>,
    postgres_admin: String,
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let pairs = match std::env::var("BENCH_PAIRS") {
            Ok(list) => list
                .split(',')
                .filter(|n| !n.trim().is_empty())
                .map(|n| parse("BENCH_PAIRS", n))
                .collect::<anyhow::Result<_>>()?,
            Err(_) => vec![1, 100, 1000],
        };
        Ok(Self {
            step_time: Duration::from_secs(env_or("BENCH_STEP_SECS", 4)?),
            scale: env_or("BENCH_SCALE", 1)?,
            relay_time: Duration::from_secs(env_or("BENCH_RELAY_SECS", 3)?),
            pairs,
            postgres_admin: std::env::var("TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into()),
        })
    }
}

fn env_or<T: FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    match std::env::var(name) {
        Ok(value) => parse(name, &value),
        Err(_) => Ok(default),
    }
}

fn parse<T: FromStr>(name: &str, value: &str) -> anyhow::Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    value
        .trim()
        .parse()
        .with_context(|| format!("{name}: cannot parse {value:?}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The server's own warnings and errors (a 500's cause, a dropped connection) go to stderr.
    // Not those of the session effects: stopping a server closes its database while thousands of
    // session endings are still queued, and each would log the closed pool.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "signaling_server=warn,signaling_server::session_effects=off",
        )
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let settings = Settings::from_env()?;
    let started = Instant::now();
    let sqlite_dir = tempfile::tempdir().context("create a temporary directory for SQLite")?;
    let sqlite_url = format!(
        "sqlite://{}?mode=rwc",
        sqlite_dir.path().join("assist.db").display()
    );
    let mut rows = bench_backend("SQLite", &sqlite_url, &settings, true).await?;

    match create_postgres_database(&settings.postgres_admin).await {
        Ok((url, name)) => {
            let result = bench_backend("PostgreSQL", &url, &settings, false).await;
            drop_postgres_database(&settings.postgres_admin, &name).await;
            rows.extend(result?);
        }
        Err(err) => println!("Note: PostgreSQL skipped: {err:#}\n"),
    }
    print_table(&rows);
    println!("\nTotal run time: {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Every measurement on one database, on a server of its own.
async fn bench_backend(
    backend: &'static str,
    database_url: &str,
    settings: &Settings,
    with_relay: bool,
) -> anyhow::Result<Vec<Row>> {
    eprintln!("{backend}: starting the server");
    let server = Server::start(database_url)
        .await
        .with_context(|| format!("start the server on {backend}"))?;
    let mut rows = Vec::new();
    let mut result = bench_http(backend, &server, settings, &mut rows).await;
    if result.is_ok() && with_relay {
        result = bench_relay(backend, &server, settings, &mut rows).await;
    }
    server.stop().await;
    result.map(|()| rows)
}

/// Creates invitations in every [`HTTP_STEPS`] step, then redeems them.
async fn bench_http(
    backend: &'static str,
    server: &Server,
    settings: &Settings,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let api = Api::new(&server.base)?;
    let token = api
        .register("Bench novice")
        .await
        .context("register the benchmark's agent")?;
    let mut created = Vec::new();
    for step in &HTTP_STEPS {
        eprintln!(
            "{backend}: {}, {} in flight",
            step.operation("create invitation"),
            step.concurrency
        );
        let (api, token) = (api.clone(), token.clone());
        let (m, invitations) = load(
            step.concurrency,
            step.count * settings.scale,
            settings.step_time,
            move |_| {
                let (api, token) = (api.clone(), token.clone());
                async move { api.invite(&token, false).await }
            },
        )
        .await?;
        rows.push(Row::http(backend, "create invitation", step, m));
        let codes: Vec<String> = invitations.into_iter().map(|inv| inv.code).collect();
        created.push(Arc::new(codes));
    }
    for (step, codes) in HTTP_STEPS.iter().zip(created) {
        eprintln!(
            "{backend}: {}, {} in flight",
            step.operation("redeem invitation"),
            step.concurrency
        );
        let api = api.clone();
        let (m, _) = load(
            step.concurrency,
            codes.len(),
            settings.step_time,
            move |i| {
                let (api, codes) = (api.clone(), codes.clone());
                async move { api.redeem(&codes[i]).await }
            },
        )
        .await?;
        rows.push(Row::http(backend, "redeem invitation", step, m));
    }
    Ok(())
}

/// Sets up as many pairs as the largest relay step needs, then relays through the first N of
/// them for every N in the settings.
async fn bench_relay(
    backend: &'static str,
    server: &Server,
    settings: &Settings,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let Some(&max_pairs) = settings.pairs.iter().max() else {
        return Ok(());
    };
    eprintln!("{backend}: setting up {max_pairs} agent/expert pairs");
    let client = Client::new(&server.base.parse()?, Vec::new())?;
    let (m, mut pairs) = load(SETUP_CONCURRENCY, max_pairs, SETUP_TIME, move |i| {
        let client = client.clone();
        async move { client.open_pair(i).await }
    })
    .await?;
    rows.push(Row {
        backend,
        operation: "open session: register, connect, invite, redeem, accept, connect".into(),
        load: format!("{SETUP_CONCURRENCY} in flight"),
        unit: "sessions/s",
        m,
    });
    for &wanted in &settings.pairs {
        let n = wanted.min(pairs.len());
        eprintln!("{backend}: relaying through {n} pairs");
        let rest = pairs.split_off(n);
        let (legs, back) = relay(pairs, settings.relay_time).await?;
        pairs = back;
        pairs.extend(rest);
        let load = format!("{n} pair{}", if n == 1 { "" } else { "s" });
        for (operation, unit, m) in [
            ("relay offer, agent to expert", "frames/s", legs.to_expert),
            ("relay answer, expert to agent", "frames/s", legs.to_agent),
            (
                "relay round trip, offer and answer",
                "round trips/s",
                legs.round_trip,
            ),
        ] {
            rows.push(Row {
                backend,
                operation: operation.into(),
                load: load.clone(),
                unit,
                m,
            });
        }
    }
    Ok(())
}

/// The server, running on a loopback port.
struct Server {
    base: String,
    store: Store,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(database_url: &str) -> anyhow::Result<Self> {
        let mut config = ServerConfig::defaults();
        config.redeem_per_minute = 1_000_000;
        config.register_per_minute = 1_000_000;
        config.consent_timeout_secs = 3_600;
        config.max_connections_per_address = u32::MAX;
        let store = Store::connect(database_url)
            .await
            .context("open and migrate the database")?;
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("bind a loopback port")?;
        let addr = listener.local_addr()?;
        let public: url::Url = format!("http://{addr}").parse()?;
        let state = AppState::new(
            &config,
            store.clone(),
            &public,
            Clock::default(),
            Default::default(),
        )
        .await?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(signaling_server::serve(listener, state, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            base: format!("http://{addr}"),
            store,
            shutdown,
            task,
        })
    }

    /// Graceful shutdown, waiting at most ten seconds for it.
    async fn stop(self) {
        let _ = self.shutdown.send(());
        match tokio::time::timeout(Duration::from_secs(10), self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(err))) => eprintln!("the server stopped with an error: {err}"),
            Ok(Err(err)) => eprintln!("the server task failed: {err}"),
            Err(_) => eprintln!("the server did not stop within 10 s"),
        }
        self.store.close().await;
    }
}

/// Creates `bench_<random>` next to the database of the admin URL; returns its URL and name.
async fn create_postgres_database(admin: &str) -> anyhow::Result<(String, String)> {
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(admin)
        .await
        .with_context(|| format!("cannot connect to {admin}"))?;
    let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .context("cannot create the benchmark's database")?;
    let base = admin.rsplit_once('/').map_or(admin, |(base, _)| base);
    Ok((format!("{base}/{name}"), name))
}

async fn drop_postgres_database(admin: &str, name: &str) {
    let dropped = match <sqlx::AnyConnection as sqlx::Connection>::connect(admin).await {
        Ok(mut conn) => sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .map(drop),
        Err(err) => Err(err),
    };
    if let Err(err) = dropped {
        eprintln!("could not drop the benchmark database {name}: {err}");
    }
}

/// Timings of one relay step.
#[derive(Default)]
struct Legs {
    to_expert: Measurement,
    to_agent: Measurement,
    round_trip: Measurement,
}

/// Every pair runs round trips for [`RELAY_WARM_UP`] plus `measured`; those started after the
/// warm-up count. Returns the pairs for the next step.
async fn relay(pairs: Vec<Pair>, measured: Duration) -> anyhow::Result<(Legs, Vec<Pair>)> {
    let counted_from = Instant::now() + RELAY_WARM_UP;
    let until = counted_from + measured;
    let tasks: Vec<_> = pairs
        .into_iter()
        .map(|pair| tokio::spawn(relay_pair(pair, counted_from, until)))
        .collect();
    let mut total = Legs::default();
    let mut pairs = Vec::new();
    for task in tasks {
        let (pair, legs) = task.await?;
        total.to_expert.merge(legs.to_expert);
        total.to_agent.merge(legs.to_agent);
        total.round_trip.merge(legs.round_trip);
        pairs.push(pair);
    }
    for m in [
        &mut total.to_expert,
        &mut total.to_agent,
        &mut total.round_trip,
    ] {
        m.finish(measured);
    }
    Ok((total, pairs))
}

/// One pair's closed loop of round trips until `until`. A failure ends the pair's loop and is
/// counted against the round trip.
async fn relay_pair(mut pair: Pair, counted_from: Instant, until: Instant) -> (Pair, Legs) {
    let mut legs = Legs::default();
    for seq in 0u64.. {
        let sent = Instant::now();
        if sent >= until {
            break;
        }
        match round_trip(&mut pair, seq).await {
            Ok((at_expert, at_agent)) if sent >= counted_from => {
                legs.to_expert.latencies.push(at_expert - sent);
                legs.to_agent.latencies.push(at_agent - at_expert);
                legs.round_trip.latencies.push(at_agent - sent);
            }
            Ok(_) => {}
            Err(err) => {
                legs.round_trip.failed(err);
                break;
            }
        }
    }
    (pair, legs)
}

/// One line of the result table.
struct Row {
    backend: &'static str,
    operation: String,
    load: String,
    unit: &'static str,
    m: Measurement,
}

impl Row {
    fn http(backend: &'static str, operation: &str, step: &Step, m: Measurement) -> Self {
        Self {
            backend,
            operation: step.operation(operation),
            load: format!("{} in flight", step.concurrency),
            unit: "req/s",
            m,
        }
    }
}

fn print_table(rows: &[Row]) {
    println!(
        "| Backend | Operation | Load | Done | Errors | Throughput | p50 ms | p99 ms | max ms |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let m = &row.m;
        println!(
            "| {} | {} | {} | {} | {} | {:.0} {} | {} | {} | {} |",
            row.backend,
            row.operation,
            row.load,
            m.latencies.len(),
            m.errors,
            m.rate(),
            row.unit,
            ms(m.percentile(0.5)),
            ms(m.percentile(0.99)),
            ms(m.percentile(1.0)),
        );
    }
    for row in rows {
        if let Some(err) = &row.m.first_error {
            println!(
                "\nFirst error of \"{}\" ({}, {}): {err}",
                row.operation, row.backend, row.load
            );
        }
    }
}
