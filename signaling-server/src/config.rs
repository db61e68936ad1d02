//! Command-line and environment configuration of the server.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Remote-assistance signaling server: invitations, consent brokering, WebRTC signaling relay
/// and the expert console.
#[derive(Clone, Debug, Parser)]
#[command(name = "signaling-server", version, about)]
pub struct ServerConfig {
    /// Address to listen on for HTTP and WebSocket connections.
    #[arg(long, env = "ASSIST_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Base URL experts use to reach this server, for invitation links
    /// (default: http://<listen address>).
    #[arg(long, env = "ASSIST_PUBLIC_URL")]
    pub public_url: Option<url::Url>,

    /// Directory for the embedded SQLite database, created on first start.
    #[arg(long, env = "ASSIST_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Database URL; `postgres://...` for PostgreSQL. Default: SQLite in --data-dir.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Directory holding the console's static files (`web/static`).
    #[arg(long, env = "ASSIST_WEB_DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/static"))]
    pub web_dir: PathBuf,

    /// Wrong passwords after which an invitation locks.
    #[arg(long, env = "ASSIST_MAX_FAILED_ATTEMPTS", default_value_t = 5)]
    pub max_failed_attempts: u32,

    /// Seconds the novice has to answer a connection request.
    #[arg(long, env = "ASSIST_CONSENT_TIMEOUT_SECS", default_value_t = 60)]
    pub consent_timeout_secs: u64,

    /// Lifetime of the expert's session ticket, in seconds.
    #[arg(long, env = "ASSIST_TICKET_TTL_SECS", default_value_t = 300)]
    pub ticket_ttl_secs: u64,

    /// Redemption attempts allowed per client address per minute.
    #[arg(long, env = "ASSIST_REDEEM_PER_MINUTE", default_value_t = 30)]
    pub redeem_per_minute: u32,

    /// Agent registrations allowed per client address per minute.
    #[arg(long, env = "ASSIST_REGISTER_PER_MINUTE", default_value_t = 30)]
    pub register_per_minute: u32,

    /// STUN server URLs handed to both peers (comma-separated), e.g. stun:stun.example.org:3478.
    #[arg(long, env = "ASSIST_STUN_URLS", value_delimiter = ',')]
    pub stun_urls: Vec<String>,
}

impl ServerConfig {
    /// The configuration with every default, for tests and embedding.
    pub fn defaults() -> Self {
        Self::parse_from(["signaling-server"])
    }
}
