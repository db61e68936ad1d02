//! Everything a request handler may reach, built once at start-up and passed down.

use crate::clock::Clock;
use crate::config::ServerConfig;
use crate::connections::ConnectionLimits;
use crate::desk::presence::Presence;
use crate::error::ServerError;
use crate::mail::Mailer;
use crate::pages::{origin_of, SecurityHeaders};
use crate::ratelimit::{LoginBackoff, RateLimiter};
use crate::session_effects;
use crate::signal::SignalHub;
use crate::store::Store;
use crate::ticket::Tickets;
use crate::turn::live::LiveSessions;
use crate::turn::IceServers;
use protocol::ids::AgentId;
use secrecy::ExposeSecret;
use std::path::PathBuf;
use std::sync::Arc;

/// Sign-in attempts allowed per minute from one address (an office behind one NAT included).
const SIGN_INS_PER_MINUTE_PER_ADDRESS: u32 = 20;

/// Cheap-to-clone handle to the server's shared state.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

#[derive(Debug)]
pub struct Shared {
    pub store: Store,
    pub clock: Clock,
    pub signal: SignalHub,
    pub tickets: Tickets,
    /// Base of invitation links, without a trailing slash.
    pub public_url: String,
    /// The server's origin as browsers name it (`scheme://host[:port]`).
    pub public_origin: String,
    /// CSP and HSTS headers for the public URL.
    pub security_headers: SecurityHeaders,
    pub consent_timeout_secs: i64,
    /// STUN and TURN servers of every session.
    pub ice: IceServers,
    pub redeem_limit: RateLimiter,
    pub register_limit: RateLimiter,
    /// Support-desk sign-in attempts per client address.
    pub sign_in_limit: RateLimiter,
    /// Growing waits between sign-in attempts of one login after failures.
    pub sign_in_backoff: LoginBackoff,
    /// Invitations one agent may have open at once.
    pub max_open_invitations: u32,
    /// Invitation e-mails sent by the server per agent, and per recipient address, each hour.
    pub mail_agent_limit: RateLimiter<AgentId>,
    pub mail_recipient_limit: RateLimiter<String>,
    /// Invitation e-mails sent by the server in all each hour.
    pub mail_total_limit: RateLimiter<()>,
    pub web_dir: PathBuf,
    /// The SMTP relay for invitations the server sends itself, if one is configured.
    pub mailer: Option<Mailer>,
    /// Which of the desk's people have a dashboard open.
    pub presence: Presence,
    /// Deadlines and caps of the server's connections.
    pub connections: ConnectionLimits,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// Drops finished rate-limit windows and forgotten sign-in back-offs; called on a timer.
    pub fn purge_limits(&self, now: i64) {
        self.redeem_limit.purge(now);
        self.register_limit.purge(now);
        self.sign_in_limit.purge(now);
        self.sign_in_backoff.purge(now);
        self.mail_agent_limit.purge(now);
        self.mail_recipient_limit.purge(now);
        self.mail_total_limit.purge(now);
    }

    /// Builds the state and starts the task that stores session changes. Needs a Tokio runtime.
    /// `turn_sessions` learns which sessions are live (the embedded TURN service's, if any).
    pub async fn new(
        config: &ServerConfig,
        store: Store,
        public_url: &url::Url,
        clock: Clock,
        turn_sessions: LiveSessions,
    ) -> Result<Self, ServerError> {
        let secret = store
            .key("ticket_signing_key", crate::secrets::random_token)
            .await?;
        let (effects, recorded) = session_effects::EffectQueue::start_with_limit(
            store.clone(),
            clock.clone(),
            config.max_pending_changes,
        );
        let ice = IceServers {
            stun_urls: config.stun_urls.clone(),
            turn_urls: config.turn_urls.clone(),
            secret: if config.turn_urls.is_empty() {
                None
            } else {
                Some(crate::turn::shared_secret(config, &store).await?)
            },
        };
        let mailer = config
            .smtp_url
            .as_ref()
            .map(|url| Mailer::new(url.expose_secret(), &config.smtp_from))
            .transpose()?;
        let shared = Arc::new(Shared {
            mailer,
            presence: Presence::default(),
            connections: ConnectionLimits::from_config(config),
            signal: SignalHub::new(clock.clone(), effects, turn_sessions),
            tickets: Tickets::new(secret.as_bytes(), config.ticket_ttl_secs as i64),
            public_url: public_url.as_str().trim_end_matches('/').to_string(),
            public_origin: origin_of(public_url),
            security_headers: SecurityHeaders::new(public_url),
            consent_timeout_secs: config.consent_timeout_secs as i64,
            ice,
            redeem_limit: RateLimiter::new(config.redeem_per_minute, 60),
            register_limit: RateLimiter::new(config.register_per_minute, 60),
            sign_in_limit: RateLimiter::new(SIGN_INS_PER_MINUTE_PER_ADDRESS, 60),
            sign_in_backoff: LoginBackoff::new(
                config.sign_in_free_failures,
                config.sign_in_backoff_secs,
                config.sign_in_backoff_max_secs,
            ),
            max_open_invitations: config.max_open_invitations,
            mail_agent_limit: RateLimiter::new(config.mail_per_agent_per_hour, 3600),
            mail_recipient_limit: RateLimiter::new(config.mail_per_recipient_per_hour, 3600),
            mail_total_limit: RateLimiter::new(config.mail_per_hour, 3600),
            web_dir: config.web_dir.clone(),
            store,
            clock,
        });
        tokio::spawn(report_recorded(Arc::downgrade(&shared), recorded));
        Ok(Self(shared))
    }
}

/// Hands the store's reports (an acceptance or a change of control is in the audit log) to
/// the signaling hub, which only then tells the peers; ends with the server.
async fn report_recorded(
    shared: std::sync::Weak<Shared>,
    mut recorded: tokio::sync::mpsc::UnboundedReceiver<crate::signal::hub::Recorded>,
) {
    while let Some(r) = recorded.recv().await {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        shared.signal.recorded(r);
    }
}
