//! WebSocket endpoints: `/ws/agent` (bearer token in the upgrade request) and `/ws/expert`
//! (ticket in the first frame, so it never appears in a URL or an access log; a socket that has
//! not sent it within `--ws-auth-timeout-secs` is closed).
//!
//! Each connection is one task that reads frames, hands parsed messages to the [`SignalHub`],
//! and writes whatever the hub queued for it. A frame that does not parse, is binary, or is
//! larger than [`protocol::MAX_SIGNAL_FRAME`] is answered with an error frame; the connection
//! stays open and nobody else is affected.

use super::driver::Outbound;
use crate::api::agents::{authenticate, AuthedAgent};
use crate::desk::auth::websocket_origin_allowed;
use crate::error::ApiError;
use crate::state::AppState;
use crate::ticket::TicketError;
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use protocol::ids::InvitationId;
use protocol::signal::{AgentToServer, ExpertToServer, ServerToAgent, ServerToExpert};
use protocol::MAX_SIGNAL_FRAME;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Transport-level cap: frames between this and [`MAX_SIGNAL_FRAME`] get an error frame,
/// larger ones close the connection.
const TRANSPORT_MAX: usize = 1024 * 1024;
/// Read buffer of each WebSocket. The library's default, 128 KiB, is filled with zeros before
/// every read, so it is both resident for every idle connection and rewritten for every frame;
/// signaling frames are about a kilobyte, and a larger one grows the buffer while it is read.
const READ_BUFFER: usize = 4 * 1024;

/// `/ws/agent?invitation=ID`: the agent program started for that invitation hears of its
/// sessions; without it, the machine's program hears of its support desk's offers and of
/// invitations no program is connected for.
#[derive(Debug, Deserialize)]
pub struct AgentQuery {
    invitation: Option<InvitationId>,
}

pub async fn agent_ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<AgentQuery>, QueryRejection>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(ApiError::unauthorized)?;
    let agent = authenticate(&state, auth).await?;
    let Query(AgentQuery { invitation }) = query.map_err(|e| {
        ApiError::bad_request(format!(
            "`invitation` must be an invitation's id: {}",
            e.body_text()
        ))
    })?;
    Ok(ws
        .max_message_size(TRANSPORT_MAX)
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| run_agent(socket, agent, invitation, state)))
}

/// `/ws/expert`: opened by the console, a page of this server, or by a native client without
/// `Origin`; another site's page (or an opaque `null` origin) is refused before the upgrade.
pub async fn expert_ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if !websocket_origin_allowed(&headers, &state.public_origin) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden_origin",
            "The expert's connection is only for pages of this site.",
        ));
    }
    Ok(ws
        .max_message_size(TRANSPORT_MAX)
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| run_expert(socket, state)))
}

/// One incoming frame, classified.
enum Incoming<T> {
    Message(T),
    Refused(&'static str, String),
    Closed,
    Ignored,
}

fn classify<T: DeserializeOwned>(frame: Option<Result<Message, axum::Error>>) -> Incoming<T> {
    match frame {
        Some(Ok(Message::Text(text))) => {
            if text.len() > MAX_SIGNAL_FRAME {
                return Incoming::Refused(
                    "too_large",
                    format!("Frames can be at most {MAX_SIGNAL_FRAME} bytes."),
                );
            }
            match serde_json::from_str(text.as_str()) {
                Ok(msg) => Incoming::Message(msg),
                Err(e) => Incoming::Refused("malformed", format!("Malformed frame: {e}")),
            }
        }
        Some(Ok(Message::Binary(_))) => {
            Incoming::Refused("malformed", "Frames must be JSON text.".into())
        }
        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => Incoming::Closed,
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Incoming::Ignored,
    }
}

async fn run_agent(
    socket: WebSocket,
    agent: AuthedAgent,
    serves: Option<InvitationId>,
    state: AppState,
) {
    let (conn, mut outbound) = state.signal.register();
    tracing::info!(agent = %agent.id, conn, "agent connected");
    state.signal.send_agent(
        conn,
        &ServerToAgent::Welcome {
            agent_name: agent.name.clone(),
        },
    );
    state.signal.agent_connected(conn, agent.id, serves);
    let (mut sink, mut stream) = socket.split();
    loop {
        let room = state.signal.has_room_for_effects();
        tokio::select! {
            out = outbound.recv() => if !write(&mut sink, out).await { break },
            // The store is behind: this peer's frames wait in its socket until it catches up.
            () = state.signal.room_for_effects(), if !room => {}
            frame = stream.next(), if room => match classify::<AgentToServer>(frame) {
                Incoming::Message(msg) => state.signal.agent_message(conn, msg),
                Incoming::Refused(code, message) => state.signal.send_agent(conn, &ServerToAgent::Error { code: code.into(), message }),
                Incoming::Closed => break,
                Incoming::Ignored => {}
            },
        }
    }
    state.signal.agent_disconnected(conn);
    if agent.org.is_some() {
        // The dashboard shows when an enrolled machine was last online.
        state.signal.agent_last_seen(agent.id);
    }
    tracing::info!(agent = %agent.id, conn, "agent disconnected");
}

async fn run_expert(socket: WebSocket, state: AppState) {
    let (mut sink, mut stream) = socket.split();
    let refuse = |code: &str, message: &str| {
        serde_json::to_string(&ServerToExpert::Error {
            code: code.into(),
            message: message.into(),
        })
        .unwrap_or_default()
    };
    // A socket that says nothing, or anything but its ticket, within the deadline is closed.
    let hello = tokio::time::timeout(state.connections.ws_auth_timeout, stream.next()).await;
    let (ticket, resume) = match hello.map(classify::<ExpertToServer>) {
        Ok(Incoming::Message(ExpertToServer::Hello { ticket, resume })) => (ticket, resume),
        Ok(Incoming::Closed) => return,
        _ => {
            let text = refuse(
                "hello_expected",
                "The first frame must be a hello with the ticket.",
            );
            let _ = sink.send(Message::Text(text.into())).await;
            let _ = sink.send(Message::Close(None)).await;
            return;
        }
    };
    let claims = match state.tickets.verify(&ticket, state.clock.now()) {
        Ok(claims) => claims,
        Err(err) => {
            let code = match err {
                TicketError::Expired => "ticket_expired",
                TicketError::Invalid => "bad_ticket",
            };
            let text = refuse(code, &err.to_string());
            let _ = sink.send(Message::Text(text.into())).await;
            let _ = sink.send(Message::Close(None)).await;
            return;
        }
    };
    let (conn, mut outbound) = state.signal.register();
    tracing::info!(session = %claims.sub, conn, "expert connected");
    state
        .signal
        .expert_connected(conn, claims.sub, resume.as_deref());
    loop {
        let room = state.signal.has_room_for_effects();
        tokio::select! {
            out = outbound.recv() => if !write(&mut sink, out).await { break },
            () = state.signal.room_for_effects(), if !room => {}
            frame = stream.next(), if room => match classify::<ExpertToServer>(frame) {
                Incoming::Message(msg) => state.signal.expert_message(conn, msg),
                Incoming::Refused(code, message) => state.signal.send_expert(conn, &ServerToExpert::Error { code: code.into(), message }),
                Incoming::Closed => break,
                Incoming::Ignored => {}
            },
        }
    }
    state.signal.expert_disconnected(conn);
    tracing::info!(session = %claims.sub, conn, "expert disconnected");
}

/// Writes one queued item; false when the connection is over.
async fn write(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    out: Option<Outbound>,
) -> bool {
    match out {
        Some(Outbound::Text(text)) => sink.send(Message::Text(text.into())).await.is_ok(),
        Some(Outbound::Close) | None => {
            let _ = sink.send(Message::Close(None)).await;
            false
        }
    }
}
