//! The one error type of the peer, phrased for the person reading the agent's log.

/// Why a peer operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The WebRTC stack refused our configuration or could not bind its sockets.
    #[error("could not set up the WebRTC connection ({0}); check the ICE server URLs and that UDP sockets can be opened")]
    Setup(#[source] webrtc::error::Error),

    /// The answer or a candidate from the expert's browser could not be applied.
    #[error("could not apply the expert's {what} ({source}); the console may be outdated, ask the expert to reload it")]
    Negotiation {
        what: &'static str,
        #[source]
        source: webrtc::error::Error,
    },

    /// The expert's browser sent something only an offerer could send.
    #[error(
        "the expert's browser sent an unexpected {0} signal; the agent always makes the offer"
    )]
    UnexpectedSignal(&'static str),

    /// The answer accepted no codec the agent can send.
    #[error("the expert's browser decodes neither H.264 Constrained Baseline nor VP8 video; ask the expert to use a current Chrome, Edge, Firefox or Safari")]
    NoCommonCodec,

    /// A frame was encoded in another codec than the browser chose: the encoder is switching.
    #[error("a {frame} frame cannot be sent while {negotiated} is negotiated; the encoder is switching to it")]
    OtherCodec {
        frame: super::VideoCodec,
        negotiated: super::VideoCodec,
    },

    /// Media or data was handed over before the browser's answer arrived.
    #[error("the connection to the expert is not negotiated yet; wait for PeerEvent::Connected before sending")]
    NotConnected,

    /// The network stack refused to send.
    #[error("sending to the expert failed ({0}); the connection is probably gone")]
    Send(#[source] webrtc::error::Error),

    /// The loopback socket of a TURN-over-TCP shim could not be opened or used.
    #[error("could not open a loopback UDP socket for TURN over TCP ({0})")]
    TurnShim(#[source] std::io::Error),

    /// A TURN server reached over TCP or TLS could not be connected to.
    #[error("cannot reach the TURN server {server} ({source}); a network that blocks UDP has no path to the expert without it")]
    TurnUnreachable {
        server: String,
        #[source]
        source: std::io::Error,
    },

    /// A TURN server reached over TLS did not complete the handshake, typically because its
    /// certificate is not trusted.
    #[error("the TURN server {server} failed the TLS handshake ({source}); if its certificate comes from a private CA, give the CA with --turn-ca")]
    TurnTls {
        server: String,
        #[source]
        source: std::io::Error,
    },

    /// The TCP or TLS connection to a TURN server broke or was closed by the server.
    #[error("the connection to the TURN server {server} ended ({source})")]
    TurnConnection {
        server: String,
        #[source]
        source: std::io::Error,
    },

    /// A TURN server sent bytes that are not STUN or ChannelData messages.
    #[error("the TURN server {server} sent something that is not TURN ({source}); its connection was closed")]
    TurnProtocol {
        server: String,
        #[source]
        source: super::turn_tcp::FrameError,
    },

    /// The extra certificate authority for TURN servers over TLS is unusable.
    #[error(
        "the TURN CA certificate cannot be used ({0}); give a PEM file with the CA's certificate"
    )]
    TurnCa(String),
}
