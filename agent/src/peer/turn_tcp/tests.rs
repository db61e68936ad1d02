//! The shim against real sockets: a TCP or TLS server on loopback that plays the TURN server's
//! part of the stream, and a UDP socket that plays the WebRTC stack's TURN client.

use super::*;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::PrivateKeyDer;
use std::net::IpAddr;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Long enough for a loaded machine; only reached when something is broken.
const PATIENCE: Duration = Duration::from_secs(10);

/// A STUN Binding request with `attributes` bytes of attributes and a given transaction id.
fn stun(attributes: usize, id: u8) -> Vec<u8> {
    let mut message = vec![0x00, 0x01];
    message.extend_from_slice(&(attributes as u16).to_be_bytes());
    message.extend_from_slice(&[0x21, 0x12, 0xA4, 0x42]);
    message.extend_from_slice(&[id; 12]);
    message.extend(std::iter::repeat_n(0xab, attributes));
    message
}

/// A ChannelData message on channel 0x4001, unpadded.
fn channel_data(data: &[u8]) -> Vec<u8> {
    let mut message = vec![0x40, 0x01];
    message.extend_from_slice(&(data.len() as u16).to_be_bytes());
    message.extend_from_slice(data);
    message
}

fn server(port: u16, tls: bool) -> StreamServer {
    StreamServer {
        tls,
        host: "127.0.0.1".into(),
        port,
    }
}

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(PATIENCE, future).await {
        Ok(value) => value,
        Err(_) => panic!("{what} did not happen within {PATIENCE:?}"),
    }
}

/// A plain TCP server on loopback, and a shim for it.
async fn plain_server_and_shim() -> (TcpListener, TurnShim) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let shim = TurnShim::start(server(port, false), None)
        .await
        .expect("shim");
    (listener, shim)
}

/// A local TURN client: a UDP socket that talks to the shim.
async fn client(shim: &TurnShim) -> UdpSocket {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("a loopback socket");
    socket.connect(shim.local).await.expect("connect");
    socket
}

async fn receive(socket: &UdpSocket) -> Vec<u8> {
    let mut buf = vec![0; 2048];
    let len = within("a datagram from the shim", socket.recv(&mut buf))
        .await
        .expect("recv");
    buf.truncate(len);
    buf
}

/// Reads exactly `len` bytes from the server's side of the stream.
async fn read_exact(stream: &mut (impl AsyncRead + Unpin), len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    within("bytes on the stream", stream.read_exact(&mut buf))
        .await
        .expect("read");
    buf
}

/// The server's side: what the client's datagrams look like on the stream, and the server's
/// messages written in awkward pieces.
async fn exchange(stream: &mut (impl AsyncRead + AsyncWrite + Unpin), client: &UdpSocket) {
    // Client to server: STUN as is, ChannelData padded to four bytes.
    client.send(&stun(8, 1)).await.expect("send");
    assert_eq!(read_exact(stream, 28).await, stun(8, 1));
    client.send(&channel_data(b"hello")).await.expect("send");
    let mut padded = channel_data(b"hello");
    padded.extend_from_slice(&[0, 0, 0]);
    assert_eq!(read_exact(stream, 12).await, padded);

    // Server to client: two messages in one write, then one in two writes.
    let mut both = stun(4, 2);
    both.extend_from_slice(&padded);
    stream.write_all(&both).await.expect("write");
    stream.flush().await.expect("flush");
    assert_eq!(receive(client).await, stun(4, 2));
    assert_eq!(receive(client).await, channel_data(b"hello"));
    let third = stun(0, 3);
    stream.write_all(&third[..5]).await.expect("write");
    stream.flush().await.expect("flush");
    tokio::task::yield_now().await;
    stream.write_all(&third[5..]).await.expect("write");
    stream.flush().await.expect("flush");
    assert_eq!(receive(client).await, third);
}

#[tokio::test]
async fn a_shim_relays_datagrams_over_tcp_both_ways_and_stops_cleanly() {
    let (listener, shim) = plain_server_and_shim().await;
    assert!(shim.url().starts_with("turn:127.0.0.1:"));
    assert!(shim.url().ends_with("?transport=udp"));
    let client = client(&shim).await;
    // Sent before the connection is up: it waits in the shim's socket.
    client.send(&stun(0, 9)).await.expect("send");
    let (mut stream, _) = within("the shim's connection", listener.accept())
        .await
        .expect("accept");
    assert_eq!(read_exact(&mut stream, 20).await, stun(0, 9));
    exchange(&mut stream, &client).await;

    within("the shim to stop", shim.stop()).await;
    let mut rest = Vec::new();
    let read = within("the end of the stream", stream.read_to_end(&mut rest)).await;
    assert_eq!(read.ok(), Some(0), "the server sees the connection close");
}

/// A CA, and a certificate it issued for 127.0.0.1 with its key.
fn certificates() -> (String, CertificateDer<'static>, PrivateKeyDer<'static>) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca =
        CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("the CA");
    let key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("params")
        .signed_by(&key, &ca)
        .expect("the server's certificate");
    let key = PrivateKeyDer::try_from(key.serialize_der()).expect("a private key");
    (ca.pem(), leaf.der().clone(), key)
}

async fn tls_listener(
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> (TcpListener, TlsAcceptor) {
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .expect("a server config");
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("listen");
    (listener, TlsAcceptor::from(Arc::new(config)))
}

#[tokio::test]
async fn a_shim_relays_over_tls_to_a_server_whose_ca_it_was_given() {
    let (ca, cert, key) = certificates();
    let (listener, acceptor) = tls_listener(cert, key).await;
    let port = listener.local_addr().expect("addr").port();
    let trust = TurnTrust::with_pem(ca.as_bytes()).expect("the CA");
    let shim = TurnShim::start(
        server(port, true),
        Some(trust.client_config().expect("config")),
    )
    .await
    .expect("shim");
    let client = client(&shim).await;
    client.send(&stun(0, 9)).await.expect("send");
    let (tcp, _) = within("the shim's connection", listener.accept())
        .await
        .expect("accept");
    let mut stream = within("the TLS handshake", acceptor.accept(tcp))
        .await
        .expect("a TLS handshake");
    assert_eq!(read_exact(&mut stream, 20).await, stun(0, 9));
    exchange(&mut stream, &client).await;
    within("the shim to stop", shim.stop()).await;
}

#[tokio::test]
async fn a_tls_server_with_an_unknown_ca_is_refused() {
    let (_ca, cert, key) = certificates();
    let (listener, acceptor) = tls_listener(cert, key).await;
    let port = listener.local_addr().expect("addr").port();
    let mut shim = TurnShim::start(
        server(port, true),
        Some(TurnTrust::default().client_config().expect("config")),
    )
    .await
    .expect("shim");
    let client = client(&shim).await;
    client.send(&stun(0, 1)).await.expect("send");
    let (tcp, _) = within("the shim's connection", listener.accept())
        .await
        .expect("accept");
    let _ = acceptor.accept(tcp).await;
    let error = within("the connection to fail", shim.next_failure()).await;
    assert!(
        matches!(&error, Some(PeerError::TurnTls { server, .. }) if server.starts_with("turns:127.0.0.1:")),
        "{error:?}"
    );
    let message = error.map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("--turn-ca"), "{message}");
}

#[tokio::test]
async fn an_unreachable_server_is_an_error_naming_it() {
    // A port nobody listens on: bound, then freed.
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("listen")
        .local_addr()
        .expect("addr")
        .port();
    let mut shim = TurnShim::start(server(port, false), None)
        .await
        .expect("shim");
    let client = client(&shim).await;
    client.send(&stun(0, 1)).await.expect("send");
    let error = within("the connection to fail", shim.next_failure()).await;
    assert!(
        matches!(&error, Some(PeerError::TurnUnreachable { server, .. }) if *server == format!("turn:127.0.0.1:{port}?transport=tcp")),
        "{error:?}"
    );
}

/// A server that sends something other than TURN, or hangs up, ends that connection; the
/// client's next datagram makes a new one.
#[tokio::test]
async fn a_server_that_sends_no_turn_or_hangs_up_is_connected_to_again() {
    let (listener, mut shim) = plain_server_and_shim().await;
    let client = client(&shim).await;

    // Something that is not TURN: an HTTP response.
    client.send(&stun(0, 1)).await.expect("send");
    let (mut stream, _) = listener.accept().await.expect("accept");
    stream
        .write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        .await
        .expect("write");
    let error = within("the connection to fail", shim.next_failure()).await;
    assert!(
        matches!(error, Some(PeerError::TurnProtocol { .. })),
        "{error:?}"
    );

    // A length beyond the limit, announced before any of it is sent.
    client.send(&stun(0, 2)).await.expect("send");
    let (mut stream, _) = within("a new connection", listener.accept())
        .await
        .expect("accept");
    stream
        .write_all(&[0x40, 0x01, 0xff, 0xff])
        .await
        .expect("write");
    let error = within("the connection to fail", shim.next_failure()).await;
    assert!(
        matches!(
            error,
            Some(PeerError::TurnProtocol {
                source: FrameError::TooLong(_),
                ..
            })
        ),
        "{error:?}"
    );

    // The server closes the connection.
    client.send(&stun(0, 3)).await.expect("send");
    let (stream, _) = within("a new connection", listener.accept())
        .await
        .expect("accept");
    drop(stream);
    let error = within("the connection to end", shim.next_failure()).await;
    assert!(
        matches!(error, Some(PeerError::TurnConnection { .. })),
        "{error:?}"
    );

    // And the next works.
    client.send(&stun(0, 4)).await.expect("send");
    let (mut stream, _) = within("a new connection", listener.accept())
        .await
        .expect("accept");
    assert_eq!(read_exact(&mut stream, 20).await, stun(0, 4));
    exchange(&mut stream, &client).await;
}

/// Each local socket gets its own connection, and the server's answers on it go back to that
/// socket alone: after an ICE restart the stack's new sockets talk to the same shim.
#[tokio::test]
async fn each_local_client_has_a_connection_of_its_own() {
    let (listener, shim) = plain_server_and_shim().await;
    let (first, second) = (client(&shim).await, client(&shim).await);
    first.send(&stun(0, 1)).await.expect("send");
    let (mut first_stream, _) = within("the first connection", listener.accept())
        .await
        .expect("accept");
    assert_eq!(read_exact(&mut first_stream, 20).await, stun(0, 1));
    second.send(&stun(0, 2)).await.expect("send");
    let (mut second_stream, _) = within("the second connection", listener.accept())
        .await
        .expect("accept");
    assert_eq!(read_exact(&mut second_stream, 20).await, stun(0, 2));

    exchange(&mut second_stream, &second).await;
    exchange(&mut first_stream, &first).await;
    within("the shim to stop", shim.stop()).await;
    for mut stream in [first_stream, second_stream] {
        let mut rest = Vec::new();
        let read = within("the end of a stream", stream.read_to_end(&mut rest)).await;
        assert_eq!(read.ok(), Some(0), "every connection closes");
    }
}

#[tokio::test]
async fn a_dropped_shim_closes_its_connection() {
    let (listener, shim) = plain_server_and_shim().await;
    let client = client(&shim).await;
    client.send(&stun(0, 1)).await.expect("send");
    let (mut stream, _) = listener.accept().await.expect("accept");
    assert_eq!(read_exact(&mut stream, 20).await, stun(0, 1));
    drop(shim);
    let mut rest = Vec::new();
    let read = within("the end of the stream", stream.read_to_end(&mut rest)).await;
    assert!(read.is_ok_and(|n| n == 0), "the connection closes");
}

#[test]
fn only_turn_over_tcp_and_tls_needs_a_shim() {
    let parsed = |url: &str| StreamServer::from_url(url);
    let stream = |tls, host: &str, port| {
        Some(StreamServer {
            tls,
            host: host.into(),
            port,
        })
    };
    assert_eq!(
        parsed("turn:192.0.2.1:3478?transport=tcp"),
        stream(false, "192.0.2.1", 3478)
    );
    assert_eq!(
        parsed("turns:turn.example.org:443?transport=tcp"),
        stream(true, "turn.example.org", 443)
    );
    assert_eq!(
        parsed("turns:turn.example.org"),
        stream(true, "turn.example.org", 5349)
    );
    assert_eq!(
        parsed("TURN:[2001:db8::1]?transport=TCP"),
        stream(false, "2001:db8::1", 3478)
    );
    assert_eq!(
        parsed("turns:[2001:db8::1]:443"),
        stream(true, "2001:db8::1", 443)
    );
    for stack_handles_it in [
        "turn:192.0.2.1:3478?transport=udp",
        "turn:192.0.2.1:3478",
        "stun:192.0.2.1:3478",
        "turns:192.0.2.1:5349?transport=udp",
    ] {
        assert_eq!(parsed(stack_handles_it), None, "{stack_handles_it}");
    }
    for garbage in [
        "turn:",
        "turn:host:0?transport=tcp",
        "turn:host:x?transport=tcp",
        "turn:[::1?transport=tcp",
        "nonsense",
    ] {
        assert_eq!(parsed(garbage), None, "{garbage}");
    }
    assert_eq!(
        stream(true, "2001:db8::1", 443).map(|s| s.to_string()),
        Some("turns:[2001:db8::1]:443?transport=tcp".into())
    );
}

#[tokio::test]
async fn stream_servers_are_replaced_by_shims_with_the_same_credentials() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let servers = vec![
        IceServer {
            urls: vec!["stun:192.0.2.1:3478".into()],
            username: None,
            credential: None,
        },
        IceServer {
            urls: vec![
                "turn:192.0.2.1:3478?transport=udp".into(),
                format!("turn:127.0.0.1:{port}?transport=tcp"),
            ],
            username: Some("1700000000:s".into()),
            credential: Some("secret".into()),
        },
    ];
    let (stack, shims) = start_shims(&servers, &TurnTrust::default()).await;
    assert_eq!(shims.len(), 1);
    assert_eq!(stack.len(), 2);
    assert_eq!(stack[0].urls, servers[0].urls);
    assert_eq!(
        stack[1].urls,
        vec![
            "turn:192.0.2.1:3478?transport=udp".to_owned(),
            shims[0].url()
        ]
    );
    assert_eq!(stack[1].username, servers[1].username);
    assert_eq!(stack[1].credential, servers[1].credential);
    let shim_ip: Option<IpAddr> = shims[0]
        .url()
        .strip_prefix("turn:")
        .and_then(|rest| rest.split(':').next())
        .and_then(|ip| ip.parse().ok());
    assert_eq!(shim_ip, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
}

#[test]
fn a_ca_file_without_certificates_is_refused() {
    assert!(matches!(
        TurnTrust::with_pem(b"not a certificate"),
        Err(PeerError::TurnCa(_))
    ));
}
