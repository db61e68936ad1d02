//! Command-line and environment configuration of the server.

use crate::audit::export::{parse_time, ExportFormat};
use clap::{Parser, Subcommand};
use secrecy::SecretString;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::PathBuf;

/// Remote-assistance signaling server: invitations, consent brokering, WebRTC signaling relay,
/// the expert console and the support-desk dashboard.
///
/// Without a command it serves; the commands manage accounts and the audit log in the same
/// database (give them the same --data-dir or DATABASE_URL).
#[derive(Debug, Parser)]
#[command(name = "signaling-server", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub server: ServerConfig,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage support-desk accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Check or export the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the audit log's hash chain and report whether any event was altered, deleted
    /// or inserted since it was written. Exit status 1 names the first broken event.
    Verify,
    /// Write the audit log, oldest event first, as CSV or JSON.
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// File to write (replaced if it exists). Default: standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Only events at or after this time: Unix seconds, a UTC date (2026-11-25) or an
        /// RFC 3339 time (2026-11-25T14:03:00Z).
        #[arg(long, value_parser = parse_time)]
        since: Option<i64>,
        /// Only events before this time (same forms as --since).
        #[arg(long, value_parser = parse_time)]
        until: Option<i64>,
        /// Only events of this kind, e.g. session_ended.
        #[arg(long)]
        kind: Option<String>,
        /// Only events whose actor, or the login of the account that acted, contains this text
        /// (ignoring case).
        #[arg(long)]
        actor: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an administrator (the first one, or another), creating the organisation if it
    /// does not exist yet. The password is read from ASSIST_ADMIN_PASSWORD, else asked for.
    Create {
        /// The organisation (help desk) the administrator belongs to.
        #[arg(long)]
        org: String,
        /// Sign-in name.
        #[arg(long)]
        login: String,
        /// Name shown to colleagues and to the people they help (default: the login).
        #[arg(long)]
        name: Option<String>,
    },
}

/// How the server runs.
#[derive(Clone, Debug, Parser)]
pub struct ServerConfig {
    /// Address to listen on for HTTP and WebSocket connections.
    #[arg(long, env = "ASSIST_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Base URL experts use to reach this server, for invitation links
    /// (default: http://<listen address>).
    #[arg(long, env = "ASSIST_PUBLIC_URL")]
    pub public_url: Option<url::Url>,

    /// Directory for the embedded SQLite database, created on first start.
    #[arg(long, env = "ASSIST_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Database URL; `postgres://...` for PostgreSQL. Default: SQLite in --data-dir.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Directory holding the console's static files (`web/static`).
    #[arg(long, env = "ASSIST_WEB_DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/static"))]
    pub web_dir: PathBuf,

    /// Session changes (consent, control, endings) waiting to be written to the database
    /// above which the server stops reading the peers' frames until the database catches up.
    #[arg(long, env = "ASSIST_MAX_PENDING_CHANGES", default_value_t = crate::session_effects::EFFECT_QUEUE_LIMIT, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_pending_changes: u64,

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

    /// Seconds a client has to send a whole request head, counted from the moment it connects
    /// or starts its next request, and again for the request's body once the head is in. A
    /// connection still sending after that is closed (slow senders cannot hold it).
    #[arg(long, env = "ASSIST_HEADER_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_secs: u64,

    /// Seconds a keep-alive connection may wait for its next request with none in flight
    /// before the server closes it.
    #[arg(long, env = "ASSIST_IDLE_TIMEOUT_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout_secs: u64,

    /// Seconds an expert's WebSocket has to present its ticket (the first frame) before it is
    /// closed. Agents and the dashboard authenticate in the upgrade request itself, which
    /// --header-timeout-secs bounds.
    #[arg(long, env = "ASSIST_WS_AUTH_TIMEOUT_SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub ws_auth_timeout_secs: u64,

    /// Connections one client address may hold at once (HTTP and WebSocket; IPv6 addresses
    /// count per /64). Further ones are closed as soon as they are accepted. Every enrolled
    /// machine holds one, so a site whose machines share one NAT address needs one per machine.
    #[arg(long, env = "ASSIST_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections_per_address: u32,

    /// Connections the server holds at once, from every address; further ones are closed as
    /// soon as they are accepted. Default: the open-file limit minus --reserved-files.
    #[arg(long, env = "ASSIST_MAX_CONNECTIONS",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,

    /// Open files kept out of reach of connections, for the database, the embedded STUN/TURN
    /// service, static files and logs, so that a flood of connections never leaves the server
    /// without a descriptor. Only used to derive the default of --max-connections.
    #[arg(long, env = "ASSIST_RESERVED_FILES", default_value_t = 256)]
    pub reserved_files: u64,
    /// Support-desk sign-in failures in a row for one login that cost no wait.
    #[arg(long, env = "ASSIST_SIGN_IN_FREE_FAILURES", default_value_t = 5)]
    pub sign_in_free_failures: u32,

    /// Wait, in seconds, before the next sign-in of a login after its free failures; each
    /// further failure doubles it, up to --sign-in-backoff-max-secs. A success resets it.
    #[arg(long, env = "ASSIST_SIGN_IN_BACKOFF_SECS", default_value_t = 5)]
    pub sign_in_backoff_secs: u64,

    /// Longest wait between sign-in attempts of one login, in seconds.
    #[arg(long, env = "ASSIST_SIGN_IN_BACKOFF_MAX_SECS", default_value_t = 300)]
    pub sign_in_backoff_max_secs: u64,

    /// Invitations one agent may have open (or in use) at once; creating more is refused
    /// until some expire or are revoked.
    #[arg(long, env = "ASSIST_MAX_OPEN_INVITATIONS", default_value_t = 100)]
    pub max_open_invitations: u32,

    /// Invitation e-mails the server sends (--send-to) for one agent per hour.
    #[arg(long, env = "ASSIST_MAIL_PER_AGENT_PER_HOUR", default_value_t = 5)]
    pub mail_per_agent_per_hour: u32,

    /// Invitation e-mails the server sends to one recipient address per hour, from all agents.
    #[arg(long, env = "ASSIST_MAIL_PER_RECIPIENT_PER_HOUR", default_value_t = 3)]
    pub mail_per_recipient_per_hour: u32,

    /// Invitation e-mails the server sends per hour in all, whichever agents ask: registering
    /// many agents does not make it a mass mailer.
    #[arg(long, env = "ASSIST_MAIL_PER_HOUR", default_value_t = 200)]
    pub mail_per_hour: u32,

    /// STUN server URLs handed to both peers (comma-separated), e.g. stun:stun.example.org:3478.
    #[arg(long, env = "ASSIST_STUN_URLS", value_delimiter = ',')]
    pub stun_urls: Vec<String>,

    /// TURN server URLs handed to both peers with a short-lived credential (comma-separated),
    /// e.g. turn:turn.example.org:3478?transport=udp,turns:turn.example.org:443?transport=tcp.
    /// Setting them points the peers at external TURN servers (coturn with use-auth-secret and
    /// the same --turn-secret) and leaves the embedded service off.
    #[arg(long, env = "ASSIST_TURN_URLS", value_delimiter = ',')]
    pub turn_urls: Vec<String>,

    /// Shared secret of the TURN credentials (coturn's static-auth-secret). Default: a random
    /// secret kept in the database, which only the embedded service knows.
    #[arg(long, env = "ASSIST_TURN_SECRET", hide_env_values = true, value_parser = parse_secret)]
    pub turn_secret: Option<SecretString>,

    /// Lifetime of the TURN credentials handed out with each session, in seconds. The embedded
    /// service only needs it to cover the novice's answer and the first allocations (it honours
    /// a used credential for as long as its session lives): default 600. External TURN servers
    /// (--turn-urls) check it on every refresh, so there it bounds a relayed session's length:
    /// default 21600 (6 h).
    #[arg(long, env = "ASSIST_TURN_CREDENTIAL_TTL")]
    pub turn_credential_ttl: Option<u64>,

    /// Peer addresses the embedded service relays to although they are internal (loopback,
    /// private, link-local, ... and the server's own addresses), as CIDRs: e.g.
    /// 10.71.0.0/16,127.0.0.0/8 for a test network. Default: none.
    #[arg(
        long,
        env = "ASSIST_TURN_ALLOW_PEER",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    pub turn_allow_peer: Vec<ipnet::IpNet>,

    /// Relay allocations one session may hold at once on the embedded service (486 beyond).
    #[arg(long, env = "ASSIST_TURN_MAX_ALLOCATIONS_PER_SESSION", default_value_t = crate::turn::guard::DEFAULT_ALLOCATIONS_PER_SESSION)]
    pub turn_max_allocations_per_session: usize,

    /// Relay allocations one client address may hold at once on the embedded service (486
    /// beyond).
    #[arg(long, env = "ASSIST_TURN_MAX_ALLOCATIONS_PER_ADDRESS", default_value_t = crate::turn::guard::DEFAULT_ALLOCATIONS_PER_ADDRESS)]
    pub turn_max_allocations_per_address: usize,

    /// Address of a second HTTP listener serving `GET /metrics` (Prometheus text: TURN
    /// allocations and refusals), e.g. 127.0.0.1:9090. Off unless set; keep it off the public
    /// network.
    #[arg(long, env = "ASSIST_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// SMTP relay through which the server e-mails invitations when a novice asks it to, e.g.
    /// smtp://relay.example.org:25, smtp://user:password@host:587?tls=required or
    /// smtps://host:465. Without it, novices send invitations from their own mail program.
    #[arg(long, env = "ASSIST_SMTP_URL", hide_env_values = true, value_parser = parse_secret)]
    pub smtp_url: Option<SecretString>,

    /// Sender of the invitation e-mails.
    #[arg(
        long,
        env = "ASSIST_SMTP_FROM",
        default_value = "Remote assistance <noreply@localhost>"
    )]
    pub smtp_from: String,

    /// Do not run the embedded STUN/TURN service.
    #[arg(long, env = "ASSIST_NO_EMBEDDED_TURN")]
    pub no_embedded_turn: bool,

    /// UDP port of the embedded STUN/TURN service; 0 picks a free one.
    #[arg(long, env = "ASSIST_TURN_UDP_PORT", default_value_t = 3478)]
    pub turn_udp_port: u16,

    /// TCP port of the embedded STUN/TURN service; 0 picks a free one.
    #[arg(long, env = "ASSIST_TURN_TCP_PORT", default_value_t = 3478)]
    pub turn_tcp_port: u16,

    /// TCP port on which the embedded STUN/TURN service also speaks TLS (`turns:`), for
    /// networks that let only TLS out (use 443 there); 0 picks a free one. Off unless set.
    /// Needs --turn-tls-cert and --turn-tls-key.
    #[arg(long, env = "ASSIST_TURN_TLS_PORT", requires_all = ["turn_tls_cert", "turn_tls_key"])]
    pub turn_tls_port: Option<u16>,

    /// Certificate chain (PEM, the server's certificate first) of the TLS listener. It must
    /// name --turn-tls-host, or the public address when that is not set.
    #[arg(long, env = "ASSIST_TURN_TLS_CERT", value_name = "FILE")]
    pub turn_tls_cert: Option<PathBuf>,

    /// Private key (PEM: PKCS#8, PKCS#1 or SEC1) of the TLS listener's certificate.
    #[arg(long, env = "ASSIST_TURN_TLS_KEY", value_name = "FILE")]
    pub turn_tls_key: Option<PathBuf>,

    /// Host name in the `turns:` URL handed to peers, which they check the certificate against.
    /// Default: --turn-public-ip.
    #[arg(long, env = "ASSIST_TURN_TLS_HOST")]
    pub turn_tls_host: Option<String>,

    /// Local address of the embedded service's listeners and relay sockets.
    /// Default: the address of --listen.
    #[arg(long, env = "ASSIST_TURN_LISTEN_IP")]
    pub turn_listen_ip: Option<IpAddr>,

    /// Address peers reach the embedded service at, when a 1:1 NAT stands in front of it.
    /// Default: --turn-listen-ip.
    #[arg(long, env = "ASSIST_TURN_PUBLIC_IP")]
    pub turn_public_ip: Option<IpAddr>,

    /// UDP ports the embedded service relays through, as FIRST-LAST.
    #[arg(long, env = "ASSIST_TURN_RELAY_PORTS", default_value = "49152-65535", value_parser = parse_port_range)]
    pub turn_relay_ports: RangeInclusive<u16>,
}

fn parse_secret(text: &str) -> Result<SecretString, String> {
    if text.is_empty() {
        return Err("the secret must not be empty".into());
    }
    Ok(SecretString::from(text))
}

fn parse_port_range(text: &str) -> Result<RangeInclusive<u16>, String> {
    let (first, last) = text
        .split_once('-')
        .ok_or_else(|| format!("expected FIRST-LAST, got {text:?}"))?;
    let port = |p: &str| {
        p.trim()
            .parse::<u16>()
            .map_err(|e| format!("{p:?} is not a port: {e}"))
    };
    let (first, last) = (port(first)?, port(last)?);
    if first == 0 || first > last {
        return Err(format!("{text:?} is not a range of ports from 1 to 65535"));
    }
    Ok(first..=last)
}

/// Lifetime of TURN credentials for the embedded service, by default.
const EMBEDDED_CREDENTIAL_TTL: u64 = 600;
/// Lifetime of TURN credentials for external TURN servers, by default.
const EXTERNAL_CREDENTIAL_TTL: u64 = 6 * 3600;

impl ServerConfig {
    /// The configuration with every default, for tests and embedding.
    pub fn defaults() -> Self {
        Self::parse_from(["signaling-server"])
    }

    /// Seconds a TURN credential is valid: --turn-credential-ttl, or the default for the
    /// embedded service or for external servers.
    pub fn credential_ttl(&self) -> u64 {
        self.turn_credential_ttl
            .unwrap_or(if self.turn_urls.is_empty() {
                EMBEDDED_CREDENTIAL_TTL
            } else {
                EXTERNAL_CREDENTIAL_TTL
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges_parse_and_bad_ones_are_refused() {
        assert_eq!(parse_port_range("49152-65535"), Ok(49152..=65535));
        assert_eq!(parse_port_range("5000-5000"), Ok(5000..=5000));
        assert!(parse_port_range("6000-5000").is_err());
        assert!(parse_port_range("0-10").is_err());
        assert!(parse_port_range("5000").is_err());
    }

    #[test]
    fn audit_commands_parse_with_the_database_options_after_them() {
        let cli = Cli::parse_from([
            "s",
            "audit",
            "export",
            "--format",
            "json",
            "--since",
            "2025-11-25",
            "--data-dir",
            "/tmp/x",
        ]);
        assert_eq!(cli.server.data_dir, PathBuf::from("/tmp/x"));
        match cli.command {
            Some(Command::Audit {
                command: AuditCommand::Export { format, since, .. },
            }) => {
                assert_eq!(format, ExportFormat::Json);
                assert_eq!(since, Some(1_764_028_800));
            }
            other => panic!("parsed as {other:?}"),
        }
        assert!(Cli::try_parse_from(["s", "audit", "export", "--since", "soon"]).is_err());
    }

    #[test]
    fn connection_limits_default_to_values_a_deployment_can_use_and_refuse_zero() {
        let config = ServerConfig::defaults();
        assert_eq!(config.header_timeout_secs, 10);
        assert_eq!(config.idle_timeout_secs, 60);
        assert_eq!(config.ws_auth_timeout_secs, 5);
        assert_eq!(config.max_connections_per_address, 256);
        assert_eq!(config.max_connections, None);
        assert_eq!(config.reserved_files, 256);
        for flag in [
            "--header-timeout-secs",
            "--idle-timeout-secs",
            "--ws-auth-timeout-secs",
            "--max-connections-per-address",
            "--max-connections",
        ] {
            assert!(
                ServerConfig::try_parse_from(["s", flag, "0"]).is_err(),
                "{flag} 0"
            );
        }
    }

    #[test]
    fn credentials_live_long_only_for_external_turn_servers() {
        assert_eq!(ServerConfig::defaults().credential_ttl(), 600);
        let external = ServerConfig::parse_from(["s", "--turn-urls", "turn:192.0.2.1:3478"]);
        assert_eq!(external.credential_ttl(), 21600);
        let set = ServerConfig::parse_from(["s", "--turn-credential-ttl", "60"]);
        assert_eq!(set.credential_ttl(), 60);
    }

    #[test]
    fn peer_allow_lists_parse_as_cidrs() {
        let config =
            ServerConfig::parse_from(["s", "--turn-allow-peer", "10.71.0.0/16,127.0.0.0/8"]);
        assert_eq!(config.turn_allow_peer.len(), 2);
        assert!(ServerConfig::try_parse_from(["s", "--turn-allow-peer", "10.71.0.0"]).is_err());
    }

    #[test]
    fn the_turn_secret_is_not_printed() {
        let config = ServerConfig::parse_from(["s", "--turn-secret", "hunter2"]);
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
