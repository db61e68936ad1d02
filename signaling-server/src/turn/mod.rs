//! NAT traversal: the STUN and TURN servers each session's peers are told about, with
//! short-lived TURN credentials.
//!
//! * [`credentials`]: the TURN REST API credential scheme (pure), shared with coturn.
//! * [`service`]: the embedded STUN/TURN service the server runs unless told to use others.
//! * [`live`]: the sessions whose credentials the embedded service honours.
//! * [`guard`]: the filter in front of it: allocation quotas, refused peer addresses, metrics.
//!
//! [`IceServers`] turns the configuration into the `iceServers` list of one session. The
//! expert's browser gets the STUN part when it redeems, and the TURN credential only with the
//! novice's yes; the agent hears of it with the consent request, but the embedded service
//! honours it only once the session is accepted.

pub mod credentials;
pub mod guard;
pub mod live;
pub mod service;

use crate::config::ServerConfig;
use crate::error::ServerError;
use crate::store::Store;
use credentials::TurnSecret;
use protocol::api::IceServer;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use secrecy::SecretString;
use service::{TurnServiceConfig, TurnTlsConfig};
use std::path::Path;
use std::sync::Arc;

/// The shared secret of the TURN credentials: the configured one, or else a random one made on
/// first start and kept in the database, so that credentials survive a restart.
pub async fn shared_secret(
    config: &ServerConfig,
    store: &Store,
) -> Result<TurnSecret, ServerError> {
    let secret = match &config.turn_secret {
        Some(secret) => secret.clone(),
        None => SecretString::from(
            store
                .key("turn_shared_secret", crate::secrets::random_token)
                .await?,
        ),
    };
    Ok(TurnSecret::new(secret, config.credential_ttl() as i64))
}

/// Where the embedded service should run, or `None` when it is off: disabled, or replaced by
/// the external servers of `--turn-urls`.
pub fn service_config(config: &ServerConfig) -> Result<Option<TurnServiceConfig>, ServerError> {
    if config.no_embedded_turn || !config.turn_urls.is_empty() {
        return Ok(None);
    }
    let listen_ip = config.turn_listen_ip.unwrap_or(config.listen.ip());
    let public_ip = config.turn_public_ip.unwrap_or(listen_ip);
    if public_ip.is_unspecified() {
        return Err(ServerError::Config(format!(
            "the embedded TURN service listens on {listen_ip}; set --turn-public-ip to the \
             address peers reach it at, or --no-embedded-turn"
        )));
    }
    let tls = match (
        config.turn_tls_port,
        &config.turn_tls_cert,
        &config.turn_tls_key,
    ) {
        (Some(port), Some(cert), Some(key)) => Some(TurnTlsConfig {
            port,
            host: config
                .turn_tls_host
                .clone()
                .unwrap_or_else(|| public_ip.to_string()),
            server: tls_server_config(cert, key)?,
        }),
        (Some(_), _, _) => {
            return Err(ServerError::Config(
                "--turn-tls-port needs --turn-tls-cert and --turn-tls-key".into(),
            ))
        }
        (None, _, _) => None,
    };
    Ok(Some(TurnServiceConfig {
        listen_ip,
        public_ip,
        udp_port: config.turn_udp_port,
        tcp_port: config.turn_tcp_port,
        relay_ports: config.turn_relay_ports.clone(),
        tls,
        allow_peers: config.turn_allow_peer.clone(),
        quotas: guard::Quotas {
            per_session: config.turn_max_allocations_per_session,
            per_address: config.turn_max_allocations_per_address,
        },
    }))
}

/// The TLS side of the TURN listener: the certificate chain and key from PEM files.
fn tls_server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, ServerError> {
    let bad = |what: &str, path: &Path, e: &dyn std::fmt::Display| {
        ServerError::Config(format!("cannot use {} as {what}: {e}", path.display()))
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| bad("--turn-tls-cert", cert, &e))?;
    if chain.is_empty() {
        return Err(bad("--turn-tls-cert", cert, &"it holds no PEM certificate"));
    }
    let private_key =
        PrivateKeyDer::from_pem_file(key).map_err(|e| bad("--turn-tls-key", key, &e))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ServerError::Config(format!("TLS for TURN: {e}")))?
    .with_no_client_auth()
    .with_single_cert(chain, private_key)
    .map_err(|e| bad("--turn-tls-cert and --turn-tls-key", cert, &e))?;
    Ok(Arc::new(config))
}

/// What every session is told about STUN and TURN.
#[derive(Clone, Debug, Default)]
pub struct IceServers {
    /// STUN URLs, handed out without credentials.
    pub stun_urls: Vec<String>,
    /// TURN URLs (`turn:` or `turns:`), handed out with one fresh credential.
    pub turn_urls: Vec<String>,
    /// Signs the TURN credentials; without it no TURN server is handed out.
    pub secret: Option<TurnSecret>,
}

impl IceServers {
    /// The list for `session`, with TURN credentials valid from `now`.
    pub fn for_session(&self, session: &str, now: i64) -> Vec<IceServer> {
        let mut servers = Vec::new();
        if !self.stun_urls.is_empty() {
            servers.push(IceServer {
                urls: self.stun_urls.clone(),
                username: None,
                credential: None,
            });
        }
        if let (false, Some(secret)) = (self.turn_urls.is_empty(), &self.secret) {
            let credential = secret.issue(session, now);
            servers.push(IceServer {
                urls: self.turn_urls.clone(),
                username: Some(credential.username),
                credential: Some(credential.password),
            });
        }
        servers
    }

    /// The STUN part alone: what an expert gets before the novice has said yes.
    pub fn stun_only(&self) -> Vec<IceServer> {
        Self {
            secret: None,
            ..self.clone()
        }
        .for_session("", 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn turn_servers_get_a_fresh_credential_stun_servers_none() {
        let servers = IceServers {
            stun_urls: vec!["stun:192.0.2.1:3478".into()],
            turn_urls: vec![
                "turn:192.0.2.1:3478?transport=udp".into(),
                "turns:192.0.2.1:443?transport=tcp".into(),
            ],
            secret: Some(TurnSecret::new(SecretString::from("k"), 600)),
        };
        let list = servers.for_session("s1", 1000);
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].urls, ["stun:192.0.2.1:3478"]);
        assert_eq!(list[0].username, None);
        assert_eq!(list[1].urls.len(), 2);
        assert_eq!(list[1].username.as_deref(), Some("1600:s1"));
        let password = TurnSecret::new(SecretString::from("k"), 600)
            .password_for("1600:s1", 1000)
            .ok();
        assert_eq!(list[1].credential, password);
    }

    #[test]
    fn before_consent_there_is_no_turn_credential() {
        let servers = IceServers {
            stun_urls: vec!["stun:192.0.2.1:3478".into()],
            turn_urls: vec!["turn:192.0.2.1:3478?transport=udp".into()],
            secret: Some(TurnSecret::new(SecretString::from("k"), 600)),
        };
        let list = servers.stun_only();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].urls, ["stun:192.0.2.1:3478"]);
        assert_eq!((&list[0].username, &list[0].credential), (&None, &None));
    }

    #[test]
    fn embedded_service_follows_the_listen_address_unless_told_otherwise() {
        let parse = |args: &[&str]| {
            let mut all = vec!["signaling-server"];
            all.extend_from_slice(args);
            service_config(&ServerConfig::parse_from(all))
        };
        let default = parse(&[])
            .ok()
            .flatten()
            .map(|c| (c.listen_ip, c.public_ip));
        let loopback: std::net::IpAddr = [127, 0, 0, 1].into();
        assert_eq!(default, Some((loopback, loopback)));

        assert!(parse(&["--listen", "0.0.0.0:80"]).is_err());
        let public = parse(&["--listen", "0.0.0.0:80", "--turn-public-ip", "192.0.2.7"])
            .ok()
            .flatten()
            .map(|c| c.public_ip.to_string());
        assert_eq!(public.as_deref(), Some("192.0.2.7"));

        assert!(matches!(parse(&["--no-embedded-turn"]), Ok(None)));
        assert!(matches!(
            parse(&["--turn-urls", "turn:turn.example.org:3478"]),
            Ok(None)
        ));
    }

    #[test]
    fn a_tls_listener_needs_a_certificate_and_key_that_load() {
        assert!(ServerConfig::try_parse_from(["s", "--turn-tls-port", "5349"]).is_err());
        let config = ServerConfig::parse_from([
            "s",
            "--turn-tls-port",
            "5349",
            "--turn-tls-cert",
            "/nonexistent/cert.pem",
            "--turn-tls-key",
            "/nonexistent/key.pem",
        ]);
        let error = service_config(&config).err().map(|e| e.to_string());
        assert!(
            error
                .as_deref()
                .is_some_and(|e| e.contains("/nonexistent/cert.pem")),
            "{error:?}"
        );
    }

    #[test]
    fn nothing_configured_means_no_servers() {
        assert!(IceServers::default().for_session("s", 0).is_empty());
    }
}
