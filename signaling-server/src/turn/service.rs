//! The embedded STUN/TURN service: `medea-turn` listening on one UDP and one TCP port, relaying
//! over UDP ports in a configured range, accepting the credentials of [`super::credentials`].
//!
//! Clients reach it over UDP or TCP; allocations are UDP relays (RFC 8656 §3.1), which is what
//! WebRTC peers need. The library runs its own tasks; [`EmbeddedTurn`] owns them and stops them
//! when dropped.

use super::credentials::TurnSecret;
use crate::clock::Clock;
use medea_turn::relay::Allocator;
use medea_turn::transport::{TcpServer, Transport};
use medea_turn::{AuthHandler, Server, ServerConfig as TurnServerConfig, TurnConfig};
use secrecy::SecretString;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, UdpSocket};

/// Realm of the long-term credentials (RFC 8489 §9.2). Clients echo whatever the server sends;
/// coturn's default is as good as any.
const REALM: &str = "remote-assist";
/// Lifetime of a channel binding (RFC 8656 §12).
const CHANNEL_BIND_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// Tries at finding a free relay port before an allocation fails.
const RELAY_PORT_TRIES: u16 = 50;

/// Where the service listens and what it tells clients.
#[derive(Clone, Debug)]
pub struct TurnServiceConfig {
    /// Local address to bind the listeners and relay sockets to.
    pub listen_ip: IpAddr,
    /// The address clients and peers reach the service at (the listen address, or a public
    /// address in front of it).
    pub public_ip: IpAddr,
    /// 0 picks a free port.
    pub udp_port: u16,
    /// 0 picks a free port.
    pub tcp_port: u16,
    pub relay_ports: RangeInclusive<u16>,
}

impl TurnServiceConfig {
    /// On loopback, on free ports, relaying through any dynamic port (RFC 6335 §6): for tests
    /// and benchmarks on one machine.
    pub fn loopback() -> Self {
        let loopback = IpAddr::from([127, 0, 0, 1]);
        Self {
            listen_ip: loopback,
            public_ip: loopback,
            udp_port: 0,
            tcp_port: 0,
            relay_ports: 49152..=65535,
        }
    }
}

/// The running service; dropping it stops it.
#[derive(Debug)]
pub struct EmbeddedTurn {
    /// Its tasks stop when this (their command channel) is dropped.
    _server: Server,
    public_ip: IpAddr,
    udp: SocketAddr,
    tcp: SocketAddr,
}

impl EmbeddedTurn {
    /// Binds the listeners and starts serving. Needs a Tokio runtime.
    pub async fn start(
        config: &TurnServiceConfig,
        secret: TurnSecret,
        clock: Clock,
    ) -> std::io::Result<Self> {
        let udp = UdpSocket::bind((config.listen_ip, config.udp_port)).await?;
        let tcp = TcpListener::bind((config.listen_ip, config.tcp_port)).await?;
        let (udp_addr, tcp_addr) = (udp.local_addr()?, tcp.local_addr()?);
        let tcp = TcpServer::new(tcp).map_err(std::io::Error::other)?;
        let connections: Vec<Arc<dyn Transport + Send + Sync>> = vec![Arc::new(udp), Arc::new(tcp)];
        let server = Server::new(TurnServerConfig {
            connections,
            turn: Some(TurnConfig {
                relay_addr_generator: Allocator {
                    relay_address: config.public_ip,
                    min_port: *config.relay_ports.start(),
                    max_port: *config.relay_ports.end(),
                    max_retries: RELAY_PORT_TRIES,
                    address: config.listen_ip.to_string(),
                },
                realm: REALM.to_owned(),
                auth_handler: Arc::new(RestAuth { secret, clock }),
                channel_bind_lifetime: CHANNEL_BIND_LIFETIME,
                alloc_close_notify: None,
            }),
        });
        tracing::info!(udp = %udp_addr, tcp = %tcp_addr, public_ip = %config.public_ip, "STUN/TURN service listening");
        Ok(Self {
            _server: server,
            public_ip: config.public_ip,
            udp: udp_addr,
            tcp: tcp_addr,
        })
    }

    /// The URLs peers use: TURN over UDP and over TCP, and STUN.
    pub fn urls(&self) -> Vec<String> {
        let host = |port: u16| SocketAddr::new(self.public_ip, port);
        vec![
            format!("turn:{}?transport=udp", host(self.udp.port())),
            format!("turn:{}?transport=tcp", host(self.tcp.port())),
        ]
    }

    /// The STUN URL of the same service.
    pub fn stun_url(&self) -> String {
        format!("stun:{}", SocketAddr::new(self.public_ip, self.udp.port()))
    }
}

/// Accepts usernames whose expiry lies ahead, with the password the shared secret gives them.
struct RestAuth {
    secret: TurnSecret,
    clock: Clock,
}

impl AuthHandler for RestAuth {
    fn auth_handle(
        &self,
        username: &str,
        _realm: &str,
        src_addr: SocketAddr,
    ) -> Result<SecretString, medea_turn::Error> {
        match self.secret.password_for(username, self.clock.now()) {
            Ok(password) => Ok(password.into()),
            Err(reason) => {
                tracing::info!(%src_addr, "TURN request refused: {reason}");
                Err(medea_turn::Error::NoSuchUser)
            }
        }
    }
}
