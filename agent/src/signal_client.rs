//! The agent's signaling WebSocket: authenticates with the agent token, forwards frames both
//! ways through channels, answers keep-alives, and reconnects with back-off when the server
//! goes away (the server resends consent requests that are still waiting). A server that
//! refuses the credential itself is not retried: that needs the novice. Neither is a
//! connection that another agent with the same identity replaced: reconnecting would take the
//! identity back from it, and the two would keep pushing each other off.

use futures_util::{SinkExt, StreamExt};
use protocol::signal::{AgentToServer, ServerToAgent, ERROR_REPLACED};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// How often the agent pings the server.
const KEEPALIVE: Duration = Duration::from_secs(3);
/// Longest silence from the server before the connection counts as dead: a few pings
/// unanswered.
const SILENCE_LIMIT: Duration = Duration::from_secs(7);
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
    Disconnected(String),
    /// The server refused the agent's credential (401); the task has stopped.
    Unauthorized,
    /// Another agent with the same identity connected and took this one's place (the server's
    /// words); the task has stopped.
    Replaced(String),
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Why one connection ended.
enum Ended {
    /// The server refused the credential.
    Unauthorized,
    /// A newer connection of the same agent took this one's place.
    Replaced(String),
    /// Anything else: try again.
    Lost(String),
}

/// Starts the connection task. Frames sent while disconnected are dropped: the server keeps a
/// live session for a while when its agent's connection drops, and an ICE restart lost this
/// way is repeated by the peer.
pub fn spawn(
    base: &str,
    token: &str,
) -> (mpsc::Sender<AgentToServer>, mpsc::Receiver<SignalEvent>) {
    let url = format!(
        "{}/ws/agent",
        base.replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1)
    );
    let auth = format!("Bearer {token}");
    let (out_tx, mut out_rx) = mpsc::channel::<AgentToServer>(256);
    let (in_tx, in_rx) = mpsc::channel::<SignalEvent>(256);
    tokio::spawn(async move {
        let mut backoff = FIRST_RETRY;
        loop {
            let attempt = tokio::time::Instant::now();
            match connect_once(&url, &auth, &mut out_rx, &in_tx).await {
                Ok(()) => return, // the driver went away
                Err(Ended::Unauthorized) => {
                    let _ = in_tx.send(SignalEvent::Unauthorized).await;
                    return;
                }
                Err(Ended::Replaced(message)) => {
                    let _ = in_tx.send(SignalEvent::Replaced(message)).await;
                    return;
                }
                Err(Ended::Lost(reason)) => {
                    if in_tx
                        .send(SignalEvent::Disconnected(reason.clone()))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    tracing::warn!(%reason, "signaling connection lost; retrying");
                }
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
    let (mut sink, mut stream) = ws.split();
    let mut keepalive = tokio::time::interval(KEEPALIVE);
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
                        Ok(ServerToAgent::Error { code, message }) if code == ERROR_REPLACED => {
                            return Err(Ended::Replaced(message));
                        }
                        Ok(ServerToAgent::Error { code, message }) => {
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
        }
    }
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
        let (_out, mut events) = spawn(&base, "token");
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
            Some(SignalEvent::Disconnected(reason)) => {
                assert!(reason.contains("no answer from the server"), "{reason}")
            }
            other => panic!("expected a disconnection, got {other:?}"),
        }
        tokio::time::timeout(SILENCE_LIMIT, listener.accept())
            .await
            .expect("the agent connects again")
            .expect("second connection");
        assert!(pings.await.expect("reader") >= 2, "the agent kept pinging");
    }
}
