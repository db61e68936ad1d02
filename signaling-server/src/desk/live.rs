//! `GET /ws/desk`: the dashboard's live feed. The server sends a JSON snapshot when the
//! connection opens and again whenever it changes; the page sends `ping` every few seconds and
//! is dropped when it falls silent, so a closed laptop does not hold a connection. The page
//! sends `{"type":"audit_filter",...}` to choose which audit events the snapshots carry.

use super::audit::DeskAuditFilter;
use super::auth::{websocket_origin_allowed, SignedIn};
use super::dashboard::{snapshot, Snapshot};
use super::PageError;
use crate::accounts::User;
use crate::locale::Text;
use crate::state::AppState;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::time::Duration;
use tokio::time::{interval, Instant, MissedTickBehavior};

/// Longest silence from the page before the server gives up on it.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(6);
/// Database-only changes (new invitations) are looked for at least this often.
const POLL_EVERY: Duration = Duration::from_secs(2);
/// Snapshots are sent at most this often, however busy the organisation.
const MIN_GAP: Duration = Duration::from_millis(300);
/// Largest frame the page may send.
const MAX_FRAME: usize = 1024;

/// What the page may send.
#[derive(serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum FromDesk {
    Ping,
    AuditFilter {
        #[serde(flatten)]
        filter: DeskAuditFilter,
    },
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ToDesk<'a> {
    Snapshot {
        #[serde(flatten)]
        snapshot: &'a Snapshot,
    },
    /// `code` names what went wrong for the page to say in its language (`bad_message`,
    /// `database`); `message` says it in English.
    Error { code: &'a str, message: &'a str },
}

pub async fn desk_ws(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !websocket_origin_allowed(&headers, &state.public_origin) {
        return PageError::new(
            StatusCode::FORBIDDEN,
            "desk-feed-foreign-title",
            Text::id("desk-feed-foreign"),
        )
        .into_response();
    }
    ws.max_message_size(MAX_FRAME)
        .on_upgrade(move |socket| run(socket, state, signed_in.user))
}

async fn run(mut socket: WebSocket, state: AppState, user: User) {
    // Online for the experts list of the organisation's machines while this feed is open.
    let _here = state.presence.arrive(user.id);
    let mut changes = state.signal.watch_changes();
    let mut poll = interval(POLL_EVERY);
    poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let mut last_sent: Option<Snapshot> = None;
    let mut audit_filter = DeskAuditFilter::default();
    let mut check_silence = interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = poll.tick() => {}
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
                tokio::time::sleep(MIN_GAP).await;
            }
            _ = check_silence.tick() => {
                if last_heard.elapsed() > SILENCE_LIMIT {
                    tracing::debug!(user = %user.id, "dashboard fell silent; closing its feed");
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                continue;
            }
            frame = socket.recv() => match frame {
                Some(Ok(Message::Text(text))) => {
                    last_heard = Instant::now();
                    match serde_json::from_str::<FromDesk>(text.as_str()) {
                        Ok(FromDesk::AuditFilter { filter }) => audit_filter = filter,
                        // "ping" (plain or as JSON) only keeps the feed alive.
                        Ok(FromDesk::Ping) => continue,
                        Err(_) if text.as_str() == "ping" => continue,
                        Err(_) => {
                            let frame = ToDesk::Error { code: "bad_message", message: "The server did not understand the page's message." };
                            if send(&mut socket, &frame).await.is_err() {
                                return;
                            }
                            continue;
                        }
                    }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                    last_heard = Instant::now();
                    continue;
                }
                Some(Ok(Message::Binary(_))) => continue,
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
            },
        }
        let current = match snapshot(&state, &user, &audit_filter).await {
            Ok(s) => s,
            Err(err) => {
                tracing::error!(error = %err, "cannot build the dashboard snapshot");
                let frame = ToDesk::Error {
                    code: "database",
                    message: "The server cannot read its database right now; retrying.",
                };
                if send(&mut socket, &frame).await.is_err() {
                    return;
                }
                continue;
            }
        };
        if last_sent.as_ref() == Some(&current) {
            continue;
        }
        if send(&mut socket, &ToDesk::Snapshot { snapshot: &current })
            .await
            .is_err()
        {
            return;
        }
        last_sent = Some(current);
    }
}

async fn send(socket: &mut WebSocket, frame: &ToDesk<'_>) -> Result<(), ()> {
    let text = serde_json::to_string(frame).map_err(|_| ())?;
    socket
        .send(Message::Text(text.into()))
        .await
        .map_err(|_| ())
}
