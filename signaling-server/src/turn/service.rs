//! The embedded STUN/TURN service: `medea-turn` listening on one UDP and one TCP port, relaying
//! over UDP ports in a configured range, accepting the credentials of [`super::credentials`].
//!
//! Clients reach it over UDP or TCP, and optionally over TLS (`turns:`, RFC 8656 §3.1);
//! allocations are UDP relays, which is what WebRTC peers need. The library runs its own tasks;
//! [`EmbeddedTurn`] owns them and stops them when dropped.
//!
//! The library listens on plain TCP only, so TLS ends in [`terminate_tls`]: each decrypted
//! connection is piped into the service's own TCP listener. The library then sees such clients
//! at the terminator's address, which only changes the XOR-MAPPED-ADDRESS it reports to them;
//! the quotas count them at their real address.
//!
//! It is no open relay: credentials open relays only while their session is live
//! ([`super::live`]), and an ended session's allocations are deleted at once; every transport
//! has the [`super::guard`] filter in front (allocation quotas, refused peer addresses).

use super::credentials::{self, TurnSecret};
use super::guard::{self, Guard, Guarded, PeerPolicy, Quotas};
use super::live::LiveSessions;
use crate::clock::Clock;
use ipnet::IpNet;
use medea_turn::relay::Allocator;
use medea_turn::transport::{TcpServer, Transport};
use medea_turn::{AuthHandler, Server, ServerConfig as TurnServerConfig, TurnConfig};
use protocol::turn_stream::{frame_for_stream, StreamDecoder};
use secrecy::SecretString;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

/// Realm of the long-term credentials (RFC 8489 §9.2). Clients echo whatever the server sends;
/// coturn's default is as good as any.
const REALM: &str = "remote-assist";
/// Lifetime of a channel binding (RFC 8656 §12).
const CHANNEL_BIND_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// Tries at finding a free relay port before an allocation fails.
const RELAY_PORT_TRIES: u16 = 50;
/// How long a client may take over its TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// TLS connections served at once; more wait in the listen queue.
const MAX_TLS_CONNECTIONS: usize = 4096;
/// Close notifications of deleted allocations waiting to reach the ledger.
const CLOSE_NOTIFY_QUEUE: usize = 1024;

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
    /// The TLS listener, if there is one.
    pub tls: Option<TurnTlsConfig>,
    /// Peer addresses relays may reach even though they are internal (test networks).
    pub allow_peers: Vec<IpNet>,
    /// Allocations per session and per client address.
    pub quotas: Quotas,
}

/// TURN over TLS (`turns:`).
#[derive(Clone, Debug)]
pub struct TurnTlsConfig {
    /// TCP port; 0 picks a free one.
    pub port: u16,
    /// Host in the `turns:` URL, which the certificate names: a DNS name or an IP address.
    pub host: String,
    /// Certificate and key.
    pub server: Arc<rustls::ServerConfig>,
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
            tls: None,
            allow_peers: Vec::new(),
            quotas: Quotas::default(),
        }
    }
}

/// The running service; dropping it stops it.
#[derive(Debug)]
pub struct EmbeddedTurn {
    /// The library's tasks stop when the last handle to it (their command channel) is dropped.
    _server: Arc<Server>,
    guard: Arc<Guard>,
    public_ip: IpAddr,
    udp: SocketAddr,
    tcp: SocketAddr,
    /// The TLS listener's address and the host named in its URL.
    tls: Option<(SocketAddr, String)>,
    /// The TLS terminator with its connections, the revoker and the ledger's close watcher;
    /// aborted on drop.
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for EmbeddedTurn {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl EmbeddedTurn {
    /// Binds the listeners and starts serving the credentials of the sessions `sessions` says
    /// are live. Needs a Tokio runtime.
    pub async fn start(
        config: &TurnServiceConfig,
        secret: TurnSecret,
        clock: Clock,
        sessions: LiveSessions,
    ) -> std::io::Result<Self> {
        let udp = UdpSocket::bind((config.listen_ip, config.udp_port)).await?;
        let tcp = TcpListener::bind((config.listen_ip, config.tcp_port)).await?;
        let (udp_addr, tcp_addr) = (udp.local_addr()?, tcp.local_addr()?);
        let tls = match &config.tls {
            Some(tls) => Some((TcpListener::bind((config.listen_ip, tls.port)).await?, tls)),
            None => None,
        };
        let tcp = TcpServer::new(tcp).map_err(std::io::Error::other)?;
        let mut own = guard::host_addresses();
        own.extend([config.listen_ip, config.public_ip]);
        let policy = PeerPolicy {
            allow: config.allow_peers.clone(),
            own,
            relay_ports: config.relay_ports.clone(),
        };
        let guard = Arc::new(Guard::new(policy, config.quotas, secret.clone()));
        let connections: Vec<Arc<dyn Transport + Send + Sync>> = vec![
            Arc::new(Guarded::new(Arc::new(udp), Arc::clone(&guard))),
            Arc::new(Guarded::new(Arc::new(tcp), Arc::clone(&guard))),
        ];
        let (closed_tx, mut closed_rx) = mpsc::channel(CLOSE_NOTIFY_QUEUE);
        let server = Arc::new(Server::new(TurnServerConfig {
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
                auth_handler: Arc::new(RestAuth {
                    secret,
                    clock,
                    sessions: sessions.clone(),
                    guard: Arc::clone(&guard),
                }),
                channel_bind_lifetime: CHANNEL_BIND_LIFETIME,
                alloc_close_notify: Some(closed_tx),
            }),
        }));
        let mut tasks = Vec::new();
        let watcher = Arc::clone(&guard);
        tasks.push(tokio::spawn(async move {
            while let Some(info) = closed_rx.recv().await {
                watcher.allocation_closed(&info.five_tuple);
            }
        }));
        let (revoked_tx, mut revoked_rx) = mpsc::unbounded_channel::<String>();
        sessions.on_revoked(revoked_tx);
        let revoker = Arc::clone(&server);
        tasks.push(tokio::spawn(async move {
            while let Some(username) = revoked_rx.recv().await {
                if revoker
                    .delete_allocations_by_username(username)
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }));
        let tls = match tls {
            Some((listener, tls)) => {
                let addr = listener.local_addr()?;
                // Decrypted streams go to the TCP listener, on loopback when it listens on all.
                let inner = match tcp_addr.ip() {
                    ip if ip.is_unspecified() && ip.is_ipv4() => {
                        SocketAddr::from(([127, 0, 0, 1], tcp_addr.port()))
                    }
                    ip if ip.is_unspecified() => {
                        SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, tcp_addr.port()))
                    }
                    _ => tcp_addr,
                };
                let acceptor = TlsAcceptor::from(Arc::clone(&tls.server));
                let guard = Arc::clone(&guard);
                tasks.push(tokio::spawn(terminate_tls(
                    listener, acceptor, inner, guard,
                )));
                Some((addr, tls.host.clone()))
            }
            None => None,
        };
        tracing::info!(udp = %udp_addr, tcp = %tcp_addr, tls = ?tls.as_ref().map(|t| t.0), public_ip = %config.public_ip, "STUN/TURN service listening");
        Ok(Self {
            _server: server,
            guard,
            public_ip: config.public_ip,
            udp: udp_addr,
            tcp: tcp_addr,
            tls,
            tasks,
        })
    }

    /// Its counters and live allocations, for `GET /metrics`.
    pub fn metrics(&self) -> Arc<Guard> {
        Arc::clone(&self.guard)
    }

    /// The URLs peers use: TURN over UDP, over TCP and, when it listens, over TLS.
    pub fn urls(&self) -> Vec<String> {
        let host = |port: u16| SocketAddr::new(self.public_ip, port);
        let mut urls = vec![
            format!("turn:{}?transport=udp", host(self.udp.port())),
            format!("turn:{}?transport=tcp", host(self.tcp.port())),
        ];
        if let Some((addr, name)) = &self.tls {
            let authority = match name.parse::<IpAddr>() {
                Ok(ip) => SocketAddr::new(ip, addr.port()).to_string(),
                Err(_) => format!("{name}:{}", addr.port()),
            };
            urls.push(format!("turns:{authority}?transport=tcp"));
        }
        urls
    }

    /// Where the TLS listener listens, if it does.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls.as_ref().map(|(addr, _)| *addr)
    }

    /// The STUN URL of the same service.
    pub fn stun_url(&self) -> String {
        format!("stun:{}", SocketAddr::new(self.public_ip, self.udp.port()))
    }
}

/// Accepts TLS connections and pipes each one, decrypted, into the TURN service's TCP listener
/// at `inner`. Runs until aborted; its connections end with it.
async fn terminate_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    inner: SocketAddr,
    guard: Arc<Guard>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept(), if connections.len() < MAX_TLS_CONNECTIONS => {
                match accepted {
                    Ok((stream, from)) => {
                        let (acceptor, guard) = (acceptor.clone(), Arc::clone(&guard));
                        connections.spawn(async move {
                            pipe_tls(stream, from, acceptor, inner, &guard).await;
                        });
                    }
                    Err(e) => {
                        // Out of file descriptors, typically: wait instead of spinning.
                        tracing::warn!("accepting a TURN/TLS connection: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// One TLS client: handshake, then its plaintext to and from the TURN service over TCP.
async fn pipe_tls(
    stream: TcpStream,
    from: SocketAddr,
    acceptor: TlsAcceptor,
    inner: SocketAddr,
    guard: &Guard,
) {
    // Relayed media is many small messages, each wanted at once.
    let _ = stream.set_nodelay(true);
    let tls = match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::debug!(%from, "TURN/TLS handshake failed: {e}");
            return;
        }
        Err(_) => {
            tracing::debug!(%from, "TURN/TLS handshake timed out");
            return;
        }
    };
    let plain = match TcpStream::connect(inner).await {
        Ok(plain) => plain,
        Err(e) => {
            tracing::warn!(%from, "TURN/TLS: cannot reach the TURN service at {inner}: {e}");
            return;
        }
    };
    let _ = plain.set_nodelay(true);
    // The service's quotas count this client at its own address, not the terminator's.
    let local = plain.local_addr().ok();
    if let Some(local) = local {
        guard.tls_client_connected(local, from);
    }
    let ended = pipe(tls, plain).await;
    if let Some(local) = local {
        guard.tls_client_gone(local);
    }
    if let Err(e) = ended {
        tracing::debug!(%from, "TURN/TLS connection ended: {e}");
    }
}

/// Copies between a TLS client and the TURN service's TCP listener until either side ends.
async fn pipe(
    tls: tokio_rustls::server::TlsStream<TcpStream>,
    mut plain: TcpStream,
) -> std::io::Result<()> {
    let (mut tls_read, mut tls_write) = tokio::io::split(tls);
    let (mut plain_read, mut plain_write) = plain.split();
    // The service splits the client's stream itself. Its answers go back one message per TLS
    // record, as a TLS TURN server writes them: some clients read one message per record.
    let upstream = tokio::io::copy(&mut tls_read, &mut plain_write);
    let downstream = async {
        let mut decoder = StreamDecoder::default();
        let mut chunk = vec![0; 16 * 1024];
        loop {
            let len = plain_read.read(&mut chunk).await?;
            if len == 0 {
                return tls_write.shutdown().await;
            }
            decoder.handle_bytes(&chunk[..len]);
            while let Some(message) = decoder.poll_frame().map_err(std::io::Error::other)? {
                let frame = frame_for_stream(&message).map_err(std::io::Error::other)?;
                tls_write.write_all(&frame).await?;
                tls_write.flush().await?;
            }
        }
    };
    // Either side's end is the connection's end.
    tokio::select! {
        ended = upstream => ended.map(drop),
        ended = downstream => ended,
    }
}

/// Accepts the usernames of live sessions ([`LiveSessions::admits`]), with the password the
/// shared secret gives them.
struct RestAuth {
    secret: TurnSecret,
    clock: Clock,
    sessions: LiveSessions,
    guard: Arc<Guard>,
}

impl AuthHandler for RestAuth {
    fn auth_handle(
        &self,
        username: &str,
        _realm: &str,
        src_addr: SocketAddr,
    ) -> Result<SecretString, medea_turn::Error> {
        let admitted = credentials::expiry_of(username)
            .map_err(|e| e.to_string())
            .and_then(|expires_at| {
                let session = credentials::session_of(username);
                self.sessions
                    .admits(session, username, expires_at, self.clock.now())
                    .map_err(|e| e.to_string())
            });
        match admitted {
            Ok(()) => Ok(self.secret.password_of(username).into()),
            Err(reason) => {
                self.guard.credential_refused();
                tracing::info!(%src_addr, "TURN request refused: the credential {reason}");
                Err(medea_turn::Error::NoSuchUser)
            }
        }
    }
}
