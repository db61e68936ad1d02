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

/// Starts the connection task. Frames sent while disconnected are dropped (the server ends
/// live sessions of a vanished agent anyway).
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
        let mut backoff = Duration::from_millis(500);
        loop {
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
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
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
    match tokio_tungstenite::connect_async(req).await {
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
/// up (Ok).
async fn run_connection(
    ws: Socket,
    out_rx: &mut mpsc::Receiver<AgentToServer>,
    in_tx: &mpsc::Sender<SignalEvent>,
) -> Result<(), Ended> {
    let lost = |e: &dyn std::fmt::Display| Ended::Lost(e.to_string());
    let (mut sink, mut stream) = ws.split();
    let mut keepalive = tokio::time::interval(Duration::from_secs(20));
    loop {
        tokio::select! {
            out = out_rx.recv() => {
                let Some(msg) = out else { let _ = sink.send(Message::Close(None)).await; return Ok(()) };
                let text = serde_json::to_string(&msg).map_err(|e| lost(&e))?;
                sink.send(Message::Text(text.into())).await.map_err(|e| lost(&e))?;
            }
            frame = stream.next() => match frame {
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
            },
            _ = keepalive.tick() => {
                let text = serde_json::to_string(&AgentToServer::Ping).map_err(|e| lost(&e))?;
                sink.send(Message::Text(text.into())).await.map_err(|e| lost(&e))?;
            }
        }
    }
}
