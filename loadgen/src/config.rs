//! Command-line and environment configuration of the load generator.

use clap::Parser;
use std::path::PathBuf;

/// Load generator for the signaling server.
///
/// For each agent count it starts a signaling server on a free loopback port with a fresh
/// SQLite database (or uses the one given by --server and --server-pid), registers that many
/// agents, creates one invitation per agent (no password), redeems each as an expert, accepts
/// the session on the agent's side and keeps both WebSockets open. It reads the server's
/// memory and sockets from /proc with every connection idle, then every agent/expert pair
/// relays an SDP offer and its answer once per --interval-secs, spread evenly, for
/// --relay-secs after one interval of warm-up. It prints Markdown tables on stdout (progress
/// on stderr), and fails when the server exits, a step cannot be set up in time, or the whole
/// run outlives --time-limit-secs.
#[derive(Clone, Debug, Parser)]
#[command(name = "loadgen", version, about, long_about)]
pub struct LoadConfig {
    /// Agents in each step, comma-separated; each has one expert, so a step holds twice as
    /// many WebSockets.
    #[arg(
        long,
        env = "LOADGEN_AGENTS",
        value_delimiter = ',',
        default_value = "1000,10000"
    )]
    pub agents: Vec<usize>,

    /// Seconds between two offer/answer exchanges of one pair (the aggregate rate is agents
    /// divided by this, in round trips per second).
    #[arg(long, env = "LOADGEN_INTERVAL_SECS", default_value_t = 5.0)]
    pub interval_secs: f64,

    /// Seconds of relaying measured in each step, after one interval of warm-up.
    #[arg(long, env = "LOADGEN_RELAY_SECS", default_value_t = 30)]
    pub relay_secs: u64,

    /// Sessions being opened at once while setting up.
    #[arg(long, env = "LOADGEN_SETUP_CONCURRENCY", default_value_t = 32)]
    pub setup_concurrency: usize,

    /// Longest the setup of one step may take, in seconds; the sessions opened by then are
    /// measured.
    #[arg(long, env = "LOADGEN_SETUP_SECS", default_value_t = 600)]
    pub setup_secs: u64,

    /// Longest the whole run may take, in seconds.
    #[arg(long, env = "LOADGEN_TIME_LIMIT_SECS", default_value_t = 1800)]
    pub time_limit_secs: u64,

    /// Server program to start for each step (default: `signaling-server` next to this
    /// program, as `cargo build --release -p signaling-server -p loadgen` leaves it).
    #[arg(long, env = "LOADGEN_SERVER_BIN", conflicts_with = "server")]
    pub server_bin: Option<PathBuf>,

    /// An already running server to load instead (`http://127.0.0.1:8080`); its rate limits
    /// must allow every registration and redemption from one address, and its
    /// --max-connections-per-address every WebSocket from one of --source-addresses.
    #[arg(long, env = "LOADGEN_SERVER", requires = "server_pid")]
    pub server: Option<url::Url>,

    /// Process id of --server, whose memory and sockets are read from /proc.
    #[arg(long, env = "LOADGEN_SERVER_PID", requires = "server")]
    pub server_pid: Option<u32>,

    /// Log filter of a started server; its log is kept beside its database and its last
    /// lines are shown when it fails.
    #[arg(long, env = "LOADGEN_SERVER_LOG", default_value = "warn")]
    pub server_log: String,

    /// Loopback addresses the WebSockets leave from in turn, 127.0.0.2 onwards; each has its
    /// own ephemeral ports (0: the system's choice).
    #[arg(long, env = "LOADGEN_SOURCE_ADDRESSES", default_value_t = 4,
          value_parser = clap::value_parser!(u8).range(0..=250))]
    pub source_addresses: u8,
}
