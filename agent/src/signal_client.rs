//! The agent's signaling WebSocket: authenticates with the agent token, forwards frames both
//! ways through channels, answers keep-alives, and reconnects with back-off when the server
//! goes away (the server resends consent requests that are still waiting). A server that
//! refuses the credential itself is not retried: that needs the novice. A program started for
//! one invitation says so when it connects, so that several programs of the same machine can
//! be connected at once, each hearing of its own sessions.
//!
//! A connection whose local address leaves the machine (the laptop joined another network) is
//! given up within a second, without waiting for the server's silence: the sooner the agent
//! is back on the server, the sooner the media path is restarted.

use futures_util::{SinkExt, StreamExt};
use protocol::ids::InvitationId;
use protocol::signal::{AgentToServer, ServerToAgent};
use protocol::text::clean;
use std::net::IpAddr;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// How often the agent pings the server.
const KEEPALIVE: Duration = Duration::from_secs(3);
/// Longest silence from the server before the connection counts as dead: a few pings
/// unanswered.
const SILENCE_LIMIT: Duration = Duration::from_secs(7);
/// How often the agent checks that its connection's local address is still its own.
const ADDRESS_CHECK: Duration = Duration::from_secs(1);
/// Longest wait for the server to accept a new connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// First and longest pause between reconnection attempts.
const FIRST_RETRY: Duration = Duration::from_millis(500);
const MAX_RETRY: Duration = Duration::from_secs(10);

/// What the driver hears from the connection.
#[derive(Debug)]
pub enum SignalEvent {
    Message(ServerToAgent),
    /// The connection dropped; it is being re-established.
    Disconnected(Dropped),
    /// The server refused the agent's credential (401); the task has stopped.
    Unauthorized,
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Why a connection dropped.
#[derive(Debug)]
pub struct Dropped {
    pub reason: String,
    /// Its local address left the machine: every other connection from there is dead too.
    pub network_changed: bool,
}

/// Why one connection ended.
enum Ended {
    /// The server refused the credential.
    Unauthorized,
    /// Its local address left the machine: try again from the address it has now.
    AddressGone(String),
    /// Anything else: try again.
    Lost(String),
}

/// Starts the connection task. Frames sent while disconnected are dropped: the server keeps a
/// live session for a while when its agent's connection drops, and an ICE restart lost this
/// way is repeated by the peer.
pub fn spawn(
    base: &str,
    token: &str,
    serves: Option<InvitationId>,
) -> (mpsc::Sender<AgentToServer>, mpsc::Receiver<SignalEvent>) {
    let mut url = format!(
        "{}/ws/agent",
        base.replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1)
    );
    if let Some(id) = serves {
        url.push_str(&format!("?invitation={id}"));
    }
    let auth = format!("Bearer {token}");
    let (out_tx, mut out_rx) = mpsc::channel::<AgentToServer>(256);
    let (in_tx, in_rx) = mpsc::channel::<SignalEvent>(256);
    tokio::spawn(async move {
        let mut backoff = FIRST_RETRY;
        loop {
            let attempt = tokio::time::Instant::now();
            let dropped = match connect_once(&url, &auth, &mut out_rx, &in_tx).await {
                Ok(()) => return, // the driver went away
                Err(Ended::Unauthorized) => {
                    let _ = in_tx.send(SignalEvent::Unauthorized).await;
                    return;
                }
                Err(Ended::Lost(reason)) => Dropped {
                    reason,
                    network_changed: false,
                },
                Err(Ended::AddressGone(reason)) => Dropped {
                    reason,
                    network_changed: true,
                },
            };
            tracing::warn!(reason = %dropped.reason, "signaling connection lost; retrying");
            if in_tx
                .send(SignalEvent::Disconnected(dropped))
                .await
                .is_err()
            {
                return;
            }
            // A connection that lasted starts the pauses afresh: the novice's network changed,
            // and the server is most likely there at once.
            if attempt.elapsed() > MAX_RETRY {
                backoff = FIRST_RETRY;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_RETRY);
        }
    });
    (out_tx, in_rx)
}

/// Runs one connection until it fails (Err) or the driver hangs up (Ok).
async fn connect_once(
    url: &str,
    auth: &str,
    out_rx: &mut mpsc::Receiver<AgentToServer>,
    in_tx: &mpsc::Sender<SignalEvent>,
) -> Result<(), Ended> {
    let ws = open(url, auth).await?;
    run_connection(ws, out_rx, in_tx).await
}

/// Opens the WebSocket with the agent's credential.
async fn open(url: &str, auth: &str) -> Result<Socket, Ended> {
    let mut req = url
        .into_client_request()
        .map_err(|e| Ended::Lost(e.to_string()))?;
    req.headers_mut().insert(
        "authorization",
        auth.parse().map_err(|_| Ended::Unauthorized)?,
    );
    let connecting = tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(req));
    let Ok(connected) = connecting.await else {
        return Err(Ended::Lost(format!(
            "the server did not answer within {} s",
            CONNECT_TIMEOUT.as_secs()
        )));
    };
    match connected {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(response))
            if response.status()
                == tokio_tungstenite::tungstenite::http::StatusCode::UNAUTHORIZED =>
        {
            Err(Ended::Unauthorized)
        }
        Err(e) => Err(Ended::Lost(e.to_string())),
    }
}

/// Forwards frames both ways on an open connection until it fails (Err) or the driver hangs
/// up (Ok). The server answers every ping, so a connection that stays silent for
/// [`SILENCE_LIMIT`] is dead (the network changed or dropped) and is given up at once rather
/// than after the operating system's own timeouts, many minutes later.
async fn run_connection(
    ws: Socket,
    out_rx: &mut mpsc::Receiver<AgentToServer>,
    in_tx: &mpsc::Sender<SignalEvent>,
) -> Result<(), Ended> {
    let lost = |e: &dyn std::fmt::Display| Ended::Lost(e.to_string());
    let local = local_ip(&ws);
    let (mut sink, mut stream) = ws.split();
    let mut keepalive = tokio::time::interval(KEEPALIVE);
    let mut address_check = tokio::time::interval(ADDRESS_CHECK);
    let mut last_heard = tokio::time::Instant::now();
    loop {
        tokio::select! {
            out = out_rx.recv() => {
                let Some(msg) = out else { let _ = sink.send(Message::Close(None)).await; return Ok(()) };
                let text = serde_json::to_string(&msg).map_err(|e| lost(&e))?;
                sink.send(Message::Text(text.into())).await.map_err(|e| lost(&e))?;
            }
            frame = stream.next() => {
                last_heard = tokio::time::Instant::now();
                match frame {
                    Some(Ok(Message::Text(text))) => match serde_json::from_str::<ServerToAgent>(text.as_str()) {
                        Ok(ServerToAgent::Error { code, message }) => {
                            let (code, message) = (clean(&code), clean(&message));
                            tracing::warn!(%code, %message, "server refused a frame");
                        }
                        Ok(msg) => {
                            if in_tx.send(SignalEvent::Message(msg)).await.is_err() {
                                return Ok(());
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "ignoring a frame the agent does not understand"),
                    },
                    Some(Ok(Message::Close(_))) | None => return Err(lost(&"the server closed the connection")),
                    Some(Err(e)) => return Err(lost(&e)),
                    Some(Ok(_)) => {}
                }
            }
            _ = keepalive.tick() => {
                if last_heard.elapsed() > SILENCE_LIMIT {
                    return Err(lost(&format!("no answer from the server for {} s", SILENCE_LIMIT.as_secs())));
                }
                let text = serde_json::to_string(&AgentToServer::Ping).map_err(|e| lost(&e))?;
                sink.send(Message::Text(text.into())).await.map_err(|e| lost(&e))?;
            }
            _ = address_check.tick() => {
                if let Some(ip) = local.filter(|ip| !address_held(*ip)) {
                    return Err(Ended::AddressGone(format!("the network changed: this machine no longer has the address {ip}")));
                }
            }
        }
    }
}

/// The machine's end of the connection, where the operating system tells it.
fn local_ip(ws: &Socket) -> Option<IpAddr> {
    match ws.get_ref() {
        tokio_tungstenite::MaybeTlsStream::Plain(tcp) => tcp.local_addr().ok().map(|a| a.ip()),
        _ => None,
    }
}

/// Whether one of the machine's interfaces still has `ip`. Loopback addresses always stay;
/// when the interfaces cannot be read the answer is yes too: the silence limit still catches a
/// dead connection.
fn address_held(ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    if ip.is_loopback() {
        return true;
    }
    let Ok(mut interfaces) = nix::ifaddrs::getifaddrs() else {
        return true;
    };
    interfaces.any(|i| {
        i.address.is_some_and(|a| {
            a.as_sockaddr_in()
                .map(|v4| IpAddr::V4(v4.ip()))
                .or_else(|| a.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip())))
                == Some(ip)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A server that accepts the agent and then falls silent, as one behind a network that
    /// just went away: the agent gives the connection up and connects again by itself.
    #[tokio::test]
    async fn a_server_fallen_silent_is_left_and_connected_again() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (_out, mut events) = spawn(&base, "token", None);
        let (tcp, _) = listener.accept().await.expect("first connection");
        let mut silent = tokio_tungstenite::accept_async(tcp)
            .await
            .expect("handshake");
        let pings = tokio::spawn(async move {
            let mut pings = 0;
            while let Some(Ok(frame)) = silent.next().await {
                if frame.to_text().is_ok_and(|t| t.contains("ping")) {
                    pings += 1;
                }
            }
            pings
        });

        let reason = tokio::time::timeout(SILENCE_LIMIT * 3, events.recv())
            .await
            .expect("the silence is noticed");
        match reason {
            Some(SignalEvent::Disconnected(dropped)) => {
                assert!(
                    dropped.reason.contains("no answer from the server"),
                    "{dropped:?}"
                );
                assert!(!dropped.network_changed, "{dropped:?}");
            }
            other => panic!("expected a disconnection, got {other:?}"),
        }
        tokio::time::timeout(SILENCE_LIMIT, listener.accept())
            .await
            .expect("the agent connects again")
            .expect("second connection");
        assert!(pings.await.expect("reader") >= 2, "the agent kept pinging");
    }

    #[test]
    fn the_machines_own_addresses_are_held_and_others_are_not() {
        assert!(address_held("127.0.0.1".parse().expect("ip")));
        assert!(address_held("::ffff:127.0.0.1".parse().expect("ip")));
        // TEST-NET-3: documentation only, never on an interface.
        assert!(!address_held("203.0.113.77".parse().expect("ip")));
        assert!(!address_held("2001:db8::77".parse().expect("ip")));
    }
}
