//! Owns the [`Hub`] and the outbound queues of the live connections, and carries out the hub's
//! commands: frames go into per-connection bounded queues (never awaited under the lock), and
//! store effects go to one background task in order.
//!
//! A connection whose queue is full is too slow to keep up; it is dropped rather than letting
//! memory grow. While the store's queue is full, the connections stop reading their peers'
//! frames ([`SignalHub::room_for_effects`]) until it has room again.

use super::hub::{Command, ConnId, Hub, LiveSession, NewSession, Recorded};
use crate::clock::Clock;
use crate::session_effects::{Effect, EffectQueue};
use crate::turn::live::LiveSessions;
use protocol::ids::{AgentId, InvitationId, SessionId};
use protocol::signal::{AgentToServer, ExpertToServer, ServerToAgent, ServerToExpert};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use tokio::sync::{mpsc, watch};

/// Frames waiting for one connection.
pub const OUTBOUND_QUEUE: usize = 256;

/// What a connection's writer does next.
#[derive(Debug)]
pub enum Outbound {
    Text(String),
    Close,
}

#[derive(Debug, Default)]
struct Inner {
    hub: Hub,
    conns: HashMap<ConnId, mpsc::Sender<Outbound>>,
    next_conn: ConnId,
}

/// Shared handle to the node's signaling state.
#[derive(Debug)]
pub struct SignalHub {
    inner: Mutex<Inner>,
    clock: Clock,
    effects: EffectQueue,
    /// Counts inputs, so that watchers (the support-desk dashboard) know when to look again.
    changes: watch::Sender<u64>,
    /// The sessions whose TURN credentials the embedded service honours: opened with the
    /// novice's yes, closed when they end.
    turn: LiveSessions,
}

impl SignalHub {
    pub fn new(clock: Clock, effects: EffectQueue, turn: LiveSessions) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            clock,
            effects,
            changes: watch::Sender::new(0),
            turn,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock must not take signaling down for everybody.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Allocates a connection id and its outbound queue.
    pub fn register(&self) -> (ConnId, mpsc::Receiver<Outbound>) {
        let (tx, rx) = mpsc::channel(OUTBOUND_QUEUE);
        let mut inner = self.lock();
        inner.next_conn += 1;
        let conn = inner.next_conn;
        inner.conns.insert(conn, tx);
        (conn, rx)
    }

    /// Sends a frame to a connection outside the hub's routing (greetings, parse errors).
    pub fn send_agent(&self, conn: ConnId, msg: &ServerToAgent) {
        let mut inner = self.lock();
        push(&mut inner.conns, conn, serde_json::to_string(msg));
    }

    pub fn send_expert(&self, conn: ConnId, msg: &ServerToExpert) {
        let mut inner = self.lock();
        push(&mut inner.conns, conn, serde_json::to_string(msg));
    }

    pub fn agent_connected(&self, conn: ConnId, agent: AgentId, serves: Option<InvitationId>) {
        let now = self.clock.now();
        self.with_hub(|hub| hub.handle_agent_connected(conn, agent, serves, now));
    }

    pub fn agent_disconnected(&self, conn: ConnId) {
        let now = self.clock.now();
        self.with_hub(|hub| hub.handle_agent_disconnected(conn, now));
        self.lock().conns.remove(&conn);
    }

    /// Records, off the signaling path, that an enrolled machine's connection ended now.
    pub fn agent_last_seen(&self, agent: AgentId) {
        self.effect(Effect::AgentLastSeen { agent });
    }

    pub fn agent_message(&self, conn: ConnId, msg: AgentToServer) {
        let now = self.clock.now();
        self.with_hub(|hub| hub.handle_agent_message(conn, msg, now));
    }

    /// An expert's page presented a valid ticket for `session`, and `resume` if it has one.
    pub fn expert_connected(&self, conn: ConnId, session: SessionId, resume: Option<&str>) {
        let now = self.clock.now();
        let fresh = crate::secrets::random_token();
        self.with_hub(|hub| hub.handle_expert_connected(conn, session, resume, &fresh, now));
    }

    /// The store reports on a consent or control change it was asked to record.
    pub fn recorded(&self, recorded: Recorded) {
        let now = self.clock.now();
        self.with_hub(|hub| hub.handle_recorded(recorded, now));
    }

    /// Whether the store's queue can take more changes now.
    pub fn has_room_for_effects(&self) -> bool {
        self.effects.has_room()
    }

    /// Waits until the store's queue can take more changes.
    pub async fn room_for_effects(&self) {
        self.effects.room().await
    }

    pub fn expert_disconnected(&self, conn: ConnId) {
        let now = self.clock.now();
        self.with_hub(|hub| hub.handle_expert_disconnected(conn, now));
        self.lock().conns.remove(&conn);
    }

    pub fn expert_message(&self, conn: ConnId, msg: ExpertToServer) {
        let now = self.clock.now();
        self.with_hub(|hub| hub.handle_expert_message(conn, msg, now));
    }

    pub fn session_created(&self, info: NewSession) {
        self.with_hub(|hub| hub.handle_session_created(info));
    }

    pub fn revoked(&self, session: SessionId) {
        let now = self.clock.now();
        self.with_hub(|hub| hub.handle_revoked(session, now));
    }

    pub fn invitation_declined(
        &self,
        agent: AgentId,
        invitation: InvitationId,
        expert_name: String,
    ) {
        self.with_hub(|hub| hub.handle_invitation_declined(agent, invitation, expert_name));
    }

    /// Wakes the dashboards' feeds: something they show changed in the database only.
    pub fn nudge(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn tick(&self) {
        let now = self.clock.now();
        self.with_hub(|hub| hub.handle_timeout(now));
    }

    pub fn shutdown(&self) {
        let now = self.clock.now();
        self.with_hub(|hub| hub.handle_shutdown(now));
    }

    /// Whether `session` has its expert's page connected right now.
    pub fn is_expert_connected(&self, session: SessionId) -> bool {
        self.lock().hub.is_expert_connected(session)
    }

    pub fn is_agent_online(&self, agent: AgentId) -> bool {
        self.lock().hub.is_agent_online(agent)
    }

    /// Since when each of `agents` has been online (`None`: offline), and its live sessions.
    pub fn live_view(&self, agents: &[AgentId]) -> Vec<(Option<i64>, Vec<LiveSession>)> {
        let inner = self.lock();
        agents
            .iter()
            .map(|&a| (inner.hub.online_since(a), inner.hub.live_sessions(a)))
            .collect()
    }

    /// Changes whenever something happened to connections or sessions.
    pub fn watch_changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Runs one input and carries out every resulting command before releasing the lock, so
    /// frames leave in the order the hub decided.
    fn with_hub(&self, f: impl FnOnce(&mut Hub)) {
        let mut inner = self.lock();
        let inner = &mut *inner;
        f(&mut inner.hub);
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
        while let Some(cmd) = inner.hub.poll_command() {
            match cmd {
                Command::ToAgent { conn, msg } => {
                    push(&mut inner.conns, conn, serde_json::to_string(&msg))
                }
                Command::ToExpert { conn, msg } => {
                    push(&mut inner.conns, conn, serde_json::to_string(&msg))
                }
                Command::Close { conn } => {
                    if let Some(tx) = inner.conns.remove(&conn) {
                        let _ = tx.try_send(Outbound::Close);
                    }
                }
                Command::ConsentAnswered {
                    session,
                    invitation,
                    agent,
                    accepted,
                } => {
                    if accepted {
                        self.turn.open(&session.to_string());
                    }
                    self.effect(Effect::ConsentAnswered {
                        session,
                        invitation,
                        agent,
                        accepted,
                    })
                }
                Command::ControlChanged {
                    session,
                    invitation,
                    agent,
                    event,
                } => self.effect(Effect::ControlChanged {
                    session,
                    invitation,
                    agent,
                    event,
                }),
                Command::SessionEnded {
                    session,
                    invitation,
                    agent,
                    reason,
                } => {
                    self.turn.close(&session.to_string());
                    self.effect(Effect::SessionEnded {
                        session,
                        invitation,
                        agent,
                        reason,
                    })
                }
            }
        }
    }

    fn effect(&self, effect: Effect) {
        self.effects.push(effect);
    }

    /// Waits until every session change so far is in the database, at most `limit`.
    pub async fn flush_effects(&self, limit: std::time::Duration) -> bool {
        self.effects.flush(limit).await
    }
}

fn push(
    conns: &mut HashMap<ConnId, mpsc::Sender<Outbound>>,
    conn: ConnId,
    text: Result<String, serde_json::Error>,
) {
    let Ok(text) = text else {
        tracing::error!("a server frame failed to serialise");
        return;
    };
    let Some(tx) = conns.get(&conn) else {
        return;
    };
    if tx.try_send(Outbound::Text(text)).is_err() {
        // Full or closed: the peer cannot keep up, so it loses its connection, not its memory.
        tracing::warn!(conn, "connection too slow or gone; dropping it");
        conns.remove(&conn);
    }
}
