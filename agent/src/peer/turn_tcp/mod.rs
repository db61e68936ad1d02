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
//! The shim serves the first local socket that talks to it: the stack runs one TURN client per
//! local socket, but one allocation gives the relay candidate every path needs. The others get
//! no answer and give up on this server.
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
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;

/// Default port of `turn:` URLs (RFC 8656 §18).
const TURN_PORT: u16 = 3478;
/// Default port of `turns:` URLs (RFC 8656 §18).
const TURNS_PORT: u16 = 5349;
/// How long reaching a server (TCP connect and TLS handshake) may take before the shim gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
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

/// A loopback UDP endpoint that relays TURN messages to and from one server over TCP or TLS.
///
/// It runs until [`TurnShim::stop`], its drop, or the end of its connection.
pub(crate) struct TurnShim {
    local: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), PeerError>>>,
}

impl TurnShim {
    /// Binds the loopback socket and starts connecting to `server` (over TLS with `tls`).
    /// Datagrams that arrive before the connection is up wait in the socket.
    pub(crate) async fn start(
        server: StreamServer,
        tls: Option<Arc<ClientConfig>>,
    ) -> Result<TurnShim, PeerError> {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(PeerError::TurnShim)?;
        let local = udp.local_addr().map_err(PeerError::TurnShim)?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(udp, server, tls, stopped));
        Ok(TurnShim {
            local,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The URL the stack is given for this shim.
    pub(crate) fn url(&self) -> String {
        format!("turn:{}?transport=udp", self.local)
    }

    /// Closes the connection and waits for the shim to end; reports why it ended, if it ended
    /// on its own by a failure.
    pub(crate) async fn stop(mut self) -> Result<(), PeerError> {
        self.stop.take();
        self.finished().await
    }

    /// Waits until the shim ends by itself (its server closed or failed), and says why.
    pub(crate) async fn finished(&mut self) -> Result<(), PeerError> {
        match self.task.take() {
            Some(task) => task.await.unwrap_or(Ok(())),
            None => Ok(()),
        }
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

/// The shim's task: connect, then relay until told to stop or the connection ends.
async fn run(
    udp: UdpSocket,
    server: StreamServer,
    tls: Option<Arc<ClientConfig>>,
    mut stop: oneshot::Receiver<()>,
) -> Result<(), PeerError> {
    let connected = tokio::select! {
        _ = &mut stop => return Ok(()),
        connected = tokio::time::timeout(CONNECT_TIMEOUT, connect(&server, tls)) => connected,
    };
    let result = match connected {
        Ok(Ok(stream)) => {
            tracing::debug!(%server, "connected to the TURN server");
            relay(&udp, stream, &server, stop).await
        }
        Ok(Err(e)) => Err(e),
        Err(_elapsed) => Err(PeerError::TurnUnreachable {
            server: server.to_string(),
            source: std::io::ErrorKind::TimedOut.into(),
        }),
    };
    if let Err(e) = &result {
        tracing::warn!("{e}");
    }
    result
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

/// Relays between the stack's TURN client on `udp` and the server on `stream`.
async fn relay(
    udp: &UdpSocket,
    stream: Box<dyn Stream>,
    server: &StreamServer,
    mut stop: oneshot::Receiver<()>,
) -> Result<(), PeerError> {
    let broken = |source| PeerError::TurnConnection {
        server: server.to_string(),
        source,
    };
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut decoder = StreamDecoder::default();
    // One byte more than any accepted datagram, to notice a longer one.
    let mut datagram = vec![0; MAX_FRAME_LEN + 1];
    let mut chunk = vec![0; READ_CHUNK];
    let mut client: Option<SocketAddr> = None;
    loop {
        tokio::select! {
            _ = &mut stop => {
                // Best effort: the server frees the allocation either way.
                let _ = writer.shutdown().await;
                return Ok(());
            }
            received = udp.recv_from(&mut datagram) => {
                let (len, from) = received.map_err(PeerError::TurnShim)?;
                if *client.get_or_insert(from) != from {
                    tracing::debug!(%server, %from, "ignoring a second local TURN client");
                    continue;
                }
                match frame_for_stream(&datagram[..len]) {
                    Ok(frame) => writer.write_all(&frame).await.map_err(broken)?,
                    Err(e) => tracing::debug!(%server, "dropping a datagram for the server: {e}"),
                }
            }
            read = reader.read(&mut chunk) => {
                let len = read.map_err(broken)?;
                if len == 0 {
                    return Err(broken(std::io::ErrorKind::UnexpectedEof.into()));
                }
                decoder.handle_bytes(&chunk[..len]);
                while let Some(message) = decoder.poll_frame().map_err(|source| {
                    PeerError::TurnProtocol { server: server.to_string(), source }
                })? {
                    let Some(client) = client else {
                        tracing::debug!(%server, "dropping a message that came before any request");
                        continue;
                    };
                    // Loopback drops nothing a listening socket can take; a client gone is the
                    // connection's end, noticed there.
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
