//! TURN over TCP and TLS for a WebRTC stack that speaks TURN over UDP only.
//!
//! A network that blocks UDP leaves a WebRTC peer one way out: a TURN server reached over TCP
//! (`turn:…?transport=tcp`) or TLS (`turns:`, often on port 443). The stack's TURN client sends
//! its requests as UDP datagrams, so for each such server the agent runs a [`TurnShim`]: a UDP
//! socket on loopback that the stack is told is a `turn:127.0.0.1:PORT?transport=udp` server
//! (with the real server's credentials), and one TCP or TLS connection to the real server. Each
//! datagram from the stack goes on the stream as one STUN or ChannelData message (padded as a
//! stream needs) and each message from the server comes back as one datagram.
//! The server sees an ordinary TURN client on a TCP connection (RFC 8656 §3.1); the allocation
//! is a UDP relay as always, so the browser's side is unchanged.
//!
//! The shim gives each local socket that talks to it a connection of its own, made when its
//! first datagram arrives, as a TURN client over TCP would have: the stack runs one TURN client
//! per local socket, and after an ICE restart that follows a change of network its new sockets
//! need new connections, from the new address. A connection that fails is made anew on the
//! next datagram of its socket.
//!
//! * [`StreamServer`]: which ICE server URLs need a shim (pure).
//! * [`TurnTrust`]: the certificates a `turns:` server may present.
//! * [`start_shims`]: the ICE servers as the stack should see them, and the shims behind them.
//!
//! The framing itself (pure) is [`protocol::turn_stream`], shared with the server's TLS listener.

pub use protocol::turn_stream::FrameError;

use super::PeerError;
use protocol::api::IceServer;
use protocol::turn_stream::{frame_for_stream, StreamDecoder, MAX_FRAME_LEN};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use std::collections::HashMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsConnector;

/// Default port of `turn:` URLs (RFC 8656 §18).
const TURN_PORT: u16 = 3478;
/// Default port of `turns:` URLs (RFC 8656 §18).
const TURNS_PORT: u16 = 5349;
/// How long reaching a server (TCP connect and TLS handshake) may take before the shim gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Connection failures a shim keeps for its tests to read; later ones are only logged.
const FAILURES_KEPT: usize = 16;
/// Read size on the stream; messages longer than a read are put together by the decoder.
const READ_CHUNK: usize = 16 * 1024;

/// A TURN server reached over a stream: parsed from a `turn:` URL with `transport=tcp` or a
/// `turns:` URL (RFC 7065 §3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StreamServer {
    /// `turns:`: TLS over TCP.
    pub(crate) tls: bool,
    /// A name or an IP address (without brackets).
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl StreamServer {
    /// The server a URL names, if it is a TURN server over TCP or TLS; `None` for STUN, TURN over
    /// UDP (the stack's own business), `turns:` over DTLS and anything unreadable.
    pub(crate) fn from_url(url: &str) -> Option<StreamServer> {
        let (scheme, rest) = url.split_once(':')?;
        let tls = match scheme.to_ascii_lowercase().as_str() {
            "turn" => false,
            "turns" => true,
            _ => return None,
        };
        let (authority, query) = match rest.split_once('?') {
            Some((authority, query)) => (authority, Some(query)),
            None => (rest, None),
        };
        // RFC 7065 §3.1: `turn:` defaults to UDP, `turns:` to TCP.
        let transport = query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .find_map(|pair| pair.strip_prefix("transport="))
            .map(str::to_ascii_lowercase);
        let over_tcp = match transport.as_deref() {
            Some("tcp") => true,
            Some(_) => false,
            None => tls,
        };
        if !over_tcp {
            return None;
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']')?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        let port = match port {
            Some(port) => port.parse().ok().filter(|p| *p != 0)?,
            None if tls => TURNS_PORT,
            None => TURN_PORT,
        };
        if host.is_empty() {
            return None;
        }
        Some(StreamServer {
            tls,
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for StreamServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "turns" } else { "turn" };
        if self.host.contains(':') {
            write!(f, "{scheme}:[{}]:{}", self.host, self.port)?;
        } else {
            write!(f, "{scheme}:{}:{}", self.host, self.port)?;
        }
        f.write_str("?transport=tcp")
    }
}

/// The certificate authorities a TURN server reached over TLS may prove its name with: the
/// web's public ones, plus any the agent is given (for a server with a private CA).
#[derive(Clone, Default)]
pub struct TurnTrust {
    extra: Vec<CertificateDer<'static>>,
}

impl fmt::Debug for TurnTrust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TurnTrust")
            .field("extra_cas", &self.extra.len())
            .finish()
    }
}

impl TurnTrust {
    /// The public CAs and the certificates in `pem` (one or more `CERTIFICATE` blocks).
    pub fn with_pem(pem: &[u8]) -> Result<TurnTrust, PeerError> {
        let extra = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PeerError::TurnCa(e.to_string()))?;
        if extra.is_empty() {
            return Err(PeerError::TurnCa("it holds no PEM certificate".into()));
        }
        // Each must be usable as a trust anchor.
        let mut roots = RootCertStore::empty();
        for cert in &extra {
            roots
                .add(cert.clone())
                .map_err(|e| PeerError::TurnCa(e.to_string()))?;
        }
        Ok(TurnTrust { extra })
    }

    fn client_config(&self) -> Result<Arc<ClientConfig>, PeerError> {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for cert in &self.extra {
            roots
                .add(cert.clone())
                .map_err(|e| PeerError::TurnCa(e.to_string()))?;
        }
        let config =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| PeerError::TurnCa(e.to_string()))?
                .with_root_certificates(roots)
                .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

/// The ICE servers as the stack should see them: every TURN server over TCP or TLS replaced by
/// a shim on loopback, with the same credentials; and the shims, which must live as long as the
/// connection. A server whose shim cannot start is left out with a warning: other paths may
/// still work.
pub(crate) async fn start_shims(
    servers: &[IceServer],
    trust: &TurnTrust,
) -> (Vec<IceServer>, Vec<TurnShim>) {
    let mut shims = Vec::new();
    let mut tls = None;
    let mut out = Vec::with_capacity(servers.len());
    for server in servers {
        let mut urls = Vec::with_capacity(server.urls.len());
        for url in &server.urls {
            let Some(stream) = StreamServer::from_url(url) else {
                urls.push(url.clone());
                continue;
            };
            let config = if stream.tls {
                let config = tls.get_or_insert_with(|| trust.client_config());
                match config {
                    Ok(config) => Some(Arc::clone(config)),
                    Err(e) => {
                        tracing::warn!(%url, "leaving out a TURN server: {e}");
                        continue;
                    }
                }
            } else {
                None
            };
            match TurnShim::start(stream, config).await {
                Ok(shim) => {
                    tracing::debug!(%url, via = %shim.url(), "TURN server reached through a local shim");
                    urls.push(shim.url());
                    shims.push(shim);
                }
                Err(e) => tracing::warn!(%url, "leaving out a TURN server: {e}"),
            }
        }
        if !urls.is_empty() {
            out.push(IceServer {
                urls,
                ..server.clone()
            });
        }
    }
    (out, shims)
}

/// A loopback UDP endpoint that relays TURN messages to and from one server over TCP or TLS,
/// one connection per local client.
///
/// It runs until [`TurnShim::stop`] or its drop; the failures of its connections are logged.
pub(crate) struct TurnShim {
    local: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// Why connections failed, for tests; the agent reads them in its log. Bounded, as nothing
    /// reads it in the agent while a server that stays unreachable fails on every datagram.
    #[cfg_attr(not(test), allow(dead_code))]
    failures: mpsc::Receiver<PeerError>,
}

impl TurnShim {
    /// Binds the loopback socket and starts serving: a connection to `server` (over TLS with
    /// `tls`) is made for each local client when its first datagram arrives.
    pub(crate) async fn start(
        server: StreamServer,
        tls: Option<Arc<ClientConfig>>,
    ) -> Result<TurnShim, PeerError> {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(PeerError::TurnShim)?;
        let local = udp.local_addr().map_err(PeerError::TurnShim)?;
        let (stop, stopped) = oneshot::channel();
        let (failed, failures) = mpsc::channel(FAILURES_KEPT);
        let task = tokio::spawn(run(Arc::new(udp), server, tls, stopped, failed));
        Ok(TurnShim {
            local,
            stop: Some(stop),
            task: Some(task),
            failures,
        })
    }

    /// The URL the stack is given for this shim.
    pub(crate) fn url(&self) -> String {
        format!("turn:{}?transport=udp", self.local)
    }

    /// Closes every connection and waits for the shim to end.
    pub(crate) async fn stop(mut self) {
        self.stop.take();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Waits until one of the shim's connections fails, and says why.
    #[cfg(test)]
    pub(crate) async fn next_failure(&mut self) -> Option<PeerError> {
        self.failures.recv().await
    }
}

impl Drop for TurnShim {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A byte stream to the server: TCP or TLS over TCP.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Datagrams of one client waiting for its connection; more are dropped, as UDP would.
const CLIENT_QUEUE: usize = 64;

/// The shim's task: hands each client's datagrams to that client's connection until told to
/// stop. Dropping the connections' senders and tasks closes them.
async fn run(
    udp: Arc<UdpSocket>,
    server: StreamServer,
    tls: Option<Arc<ClientConfig>>,
    mut stop: oneshot::Receiver<()>,
    failed: mpsc::Sender<PeerError>,
) {
    let mut clients: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>> = HashMap::new();
    let mut connections: JoinSet<(SocketAddr, Result<(), PeerError>)> = JoinSet::new();
    // One byte more than any accepted datagram, to notice a longer one.
    let mut datagram = vec![0; MAX_FRAME_LEN + 1];
    loop {
        tokio::select! {
            _ = &mut stop => return,
            received = udp.recv_from(&mut datagram) => {
                let (len, from) = match received {
                    Ok(received) => received,
                    Err(e) => {
                        tracing::warn!(%server, "the local TURN socket failed: {e}");
                        let _ = failed.try_send(PeerError::TurnShim(e));
                        return;
                    }
                };
                let frame = match frame_for_stream(&datagram[..len]) {
                    Ok(frame) => frame,
                    Err(e) => {
                        tracing::debug!(%server, "dropping a datagram for the server: {e}");
                        continue;
                    }
                };
                let queue = clients.entry(from).or_insert_with(|| {
                    tracing::debug!(%server, client = %from, "connecting a local TURN client");
                    let (tx, rx) = mpsc::channel(CLIENT_QUEUE);
                    let (udp, server, tls) = (Arc::clone(&udp), server.clone(), tls.clone());
                    connections.spawn(async move {
                        (from, serve_client(udp, from, rx, server, tls).await)
                    });
                    tx
                });
                if queue.try_send(frame).is_err() {
                    tracing::debug!(%server, client = %from, "dropping a datagram: its connection is behind");
                }
            }
            Some(ended) = connections.join_next() => {
                let Ok((client, result)) = ended else { continue };
                clients.remove(&client);
                if let Err(e) = result {
                    tracing::warn!("{e}");
                    let _ = failed.try_send(e);
                }
            }
        }
    }
}

/// One client's connection: made now, then relayed until the client's queue closes (the shim
/// stops) or the connection ends.
async fn serve_client(
    udp: Arc<UdpSocket>,
    client: SocketAddr,
    mut queue: mpsc::Receiver<Vec<u8>>,
    server: StreamServer,
    tls: Option<Arc<ClientConfig>>,
) -> Result<(), PeerError> {
    let stream = match tokio::time::timeout(CONNECT_TIMEOUT, connect(&server, tls)).await {
        Ok(connected) => connected?,
        Err(_elapsed) => {
            return Err(PeerError::TurnUnreachable {
                server: server.to_string(),
                source: std::io::ErrorKind::TimedOut.into(),
            })
        }
    };
    tracing::debug!(%server, %client, "connected to the TURN server");
    relay(&udp, client, &mut queue, stream, &server).await
}

async fn connect(
    server: &StreamServer,
    tls: Option<Arc<ClientConfig>>,
) -> Result<Box<dyn Stream>, PeerError> {
    let unreachable = |source| PeerError::TurnUnreachable {
        server: server.to_string(),
        source,
    };
    let tcp = TcpStream::connect((server.host.as_str(), server.port))
        .await
        .map_err(unreachable)?;
    // Relayed media is many small messages, each wanted at once.
    tcp.set_nodelay(true).map_err(unreachable)?;
    let Some(tls) = tls else {
        return Ok(Box::new(tcp));
    };
    let tls_error = |source| PeerError::TurnTls {
        server: server.to_string(),
        source,
    };
    let name = ServerName::try_from(server.host.clone()).map_err(|e| {
        tls_error(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            e.to_string(),
        ))
    })?;
    let stream = TlsConnector::from(tls)
        .connect(name, tcp)
        .await
        .map_err(tls_error)?;
    Ok(Box::new(stream))
}

/// Relays between the stack's TURN client at `client` and the server on `stream`.
async fn relay(
    udp: &UdpSocket,
    client: SocketAddr,
    queue: &mut mpsc::Receiver<Vec<u8>>,
    stream: Box<dyn Stream>,
    server: &StreamServer,
) -> Result<(), PeerError> {
    let broken = |source| PeerError::TurnConnection {
        server: server.to_string(),
        source,
    };
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut decoder = StreamDecoder::default();
    let mut chunk = vec![0; READ_CHUNK];
    loop {
        tokio::select! {
            frame = queue.recv() => match frame {
                Some(frame) => writer.write_all(&frame).await.map_err(broken)?,
                None => {
                    // The shim stops. Best effort: the server frees the allocation either way.
                    let _ = writer.shutdown().await;
                    return Ok(());
                }
            },
            read = reader.read(&mut chunk) => {
                let len = read.map_err(broken)?;
                if len == 0 {
                    return Err(broken(std::io::ErrorKind::UnexpectedEof.into()));
                }
                decoder.handle_bytes(&chunk[..len]);
                while let Some(message) = decoder.poll_frame().map_err(|source| {
                    PeerError::TurnProtocol { server: server.to_string(), source }
                })? {
                    // Loopback drops nothing a listening socket can take; a client gone (its
                    // socket replaced by a restart) only stops answering.
                    if let Err(e) = udp.send_to(&message, client).await {
                        tracing::debug!(%server, "passing a message to the local TURN client: {e}");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
