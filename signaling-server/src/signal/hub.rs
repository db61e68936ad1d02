//! Signaling routing and consent brokering as a pure state machine.
//!
//! The hub knows which agents are connected, which sessions exist, and which expert connection
//! belongs to which session. Drivers feed it inputs (`handle_*`, with the current time) and then
//! drain [`Command`]s with [`Hub::poll_command`]: frames to send, connections to close, and
//! session endings for the store. It never performs IO and never reads a clock.
//!
//! Routing rule: a frame from one member of a session goes to the other member of that session
//! and to nobody else. An agent may only speak for sessions of its own invitations, and an
//! expert only for the one session its ticket names. Anything else is answered with an error
//! frame to the sender alone; the other peer's connection is never touched by it.
//!
//! Session lifecycle: `Pending` (novice being asked, until `answer_by`) → `Active` (novice said
//! yes; negotiation frames flow) → ended (tombstone kept for a while so a late expert learns why).
//! An active session outlives its agent's connection by [`AGENT_GRACE_SECS`]: a novice whose
//! network changed reconnects and restarts ICE while the media keeps its own path or finds a
//! new one, and neither person has to do anything.

use protocol::api::IceServer;
use protocol::ids::{AgentId, InvitationId, SessionId};
use protocol::signal::{
    AgentToServer, ConsentState, ControlEvent, EndReason, ExpertToServer, ServerToAgent,
    ServerToExpert, SessionStats, ERROR_REPLACED,
};
use std::collections::{HashMap, VecDeque};

/// Identifies one WebSocket connection (agent or expert), assigned by the driver.
pub type ConnId = u64;

/// Frames buffered for an expert whose WebSocket has not connected yet.
const EXPERT_BACKLOG: usize = 256;
/// How long an ended session is remembered, in seconds, so a late expert learns why.
const TOMBSTONE_SECS: i64 = 600;
/// How long an active session waits for its agent to come back after the agent's connection
/// dropped, in seconds. The agent notices a dead connection within its own keep-alive limit
/// and reconnects at once, so this covers a change of network with room to spare.
pub const AGENT_GRACE_SECS: i64 = 20;

/// A side effect for the driver to carry out, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    ToAgent {
        conn: ConnId,
        msg: ServerToAgent,
    },
    ToExpert {
        conn: ConnId,
        msg: ServerToExpert,
    },
    /// Close the connection once the frames queued before this command are sent.
    Close {
        conn: ConnId,
    },
    /// The novice answered the consent request.
    ConsentAnswered {
        session: SessionId,
        invitation: InvitationId,
        agent: AgentId,
        accepted: bool,
    },
    /// Remote control changed in a session, as the agent reports it: record it.
    ControlChanged {
        session: SessionId,
        invitation: InvitationId,
        agent: AgentId,
        event: ControlEvent,
    },
    /// A session is over: free its invitation and record why.
    SessionEnded {
        session: SessionId,
        invitation: InvitationId,
        agent: AgentId,
        reason: EndReason,
    },
}

/// A session the HTTP layer just created by redeeming an invitation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSession {
    pub id: SessionId,
    pub invitation: InvitationId,
    pub agent: AgentId,
    pub expert_name: String,
    pub novice_name: String,
    pub ice_servers: Vec<IceServer>,
    /// Unix seconds after which an unanswered consent request lapses.
    pub answer_by: i64,
    /// The organisation whose operator offered help unasked, if one did.
    pub offered_by_desk: Option<String>,
}

/// A live session as the support desk sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveSession {
    pub id: SessionId,
    pub agent: AgentId,
    pub invitation: InvitationId,
    pub novice_name: String,
    pub expert_name: String,
    /// When the novice accepted; `None` while the novice is still being asked.
    pub since: Option<i64>,
    /// Whether the expert controls mouse and keyboard right now.
    pub control: bool,
    /// The agent's latest measurements.
    pub stats: Option<SessionStats>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Pending { answer_by: i64 },
    Active,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Agent,
    Expert,
}

#[derive(Debug)]
struct Session {
    info: NewSession,
    phase: Phase,
    expert: Option<ConnId>,
    backlog: Vec<ServerToExpert>,
    since: Option<i64>,
    control: bool,
    stats: Option<SessionStats>,
    /// When the agent's connection dropped while the session was active; it ends at this plus
    /// [`AGENT_GRACE_SECS`] unless the agent comes back.
    agent_gone_at: Option<i64>,
    /// What the connection that accepted is there for ([`AgentConn::serves`]): the session's
    /// frames go to that agent program, also after it reconnects.
    served_by: Option<InvitationId>,
}

/// One connection of an agent. A machine may run several agent programs at once (one per
/// invitation it sent, and one waiting for its support desk), all with its identity.
#[derive(Debug)]
struct AgentConn {
    agent: AgentId,
    /// The invitation this program was started for; `None` for the machine's program that
    /// waits for its support desk, which also hears of invitations no program is there for.
    serves: Option<InvitationId>,
}

/// The routing state of one server node.
#[derive(Debug, Default)]
pub struct Hub {
    /// Each connected agent's connections, oldest first.
    agents: HashMap<AgentId, Vec<ConnId>>,
    /// When each connected agent came online.
    online_since: HashMap<AgentId, i64>,
    agent_conns: HashMap<ConnId, AgentConn>,
    /// The live sessions of each agent, so that an agent's arrival or departure touches only
    /// its own sessions, however many the node holds.
    agent_sessions: HashMap<AgentId, Vec<SessionId>>,
    expert_conns: HashMap<ConnId, SessionId>,
    sessions: HashMap<SessionId, Session>,
    ended: HashMap<SessionId, (EndReason, i64)>,
    commands: VecDeque<Command>,
}

impl Hub {
    pub fn new() -> Self {
        Self::default()
    }

    /// Next side effect, if any. Drain after every input.
    pub fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// Earliest time at which [`Hub::handle_timeout`] has something to do.
    pub fn poll_timeout(&self) -> Option<i64> {
        let deadlines = self.sessions.values().filter_map(|s| match s.phase {
            Phase::Pending { answer_by } => Some(answer_by),
            Phase::Active => s.agent_gone_at.map(|at| at + AGENT_GRACE_SECS),
        });
        let purge = self.ended.values().map(|(_, at)| at + TOMBSTONE_SECS);
        deadlines.chain(purge).min()
    }

    /// Number of live sessions (pending or active).
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Whether the agent has a live connection.
    pub fn is_agent_online(&self, agent: AgentId) -> bool {
        self.agents.contains_key(&agent)
    }

    /// Since when the agent has been connected, if it is.
    pub fn online_since(&self, agent: AgentId) -> Option<i64> {
        self.online_since.get(&agent).copied()
    }

    /// The live sessions of `agent`, oldest first.
    pub fn live_sessions(&self, agent: AgentId) -> Vec<LiveSession> {
        let mut live: Vec<LiveSession> = self
            .sessions_of(agent)
            .map(|s| LiveSession {
                id: s.info.id,
                agent: s.info.agent,
                invitation: s.info.invitation,
                novice_name: s.info.novice_name.clone(),
                expert_name: s.info.expert_name.clone(),
                since: s.since,
                control: s.control,
                stats: s.stats,
            })
            .collect();
        live.sort_by_key(|s| s.since.unwrap_or(i64::MAX));
        live
    }

    /// An agent authenticated on `conn`, there for the invitation `serves` (see
    /// [`AgentConn`]). Other connections of the same agent stay: each program of the machine
    /// hears of its own sessions. The sessions this connection now carries stop waiting for
    /// it, and consent requests still waiting for it are (re)sent.
    pub fn handle_agent_connected(
        &mut self,
        conn: ConnId,
        agent: AgentId,
        serves: Option<InvitationId>,
        now: i64,
    ) {
        self.agents.entry(agent).or_default().push(conn);
        self.agent_conns.insert(conn, AgentConn { agent, serves });
        self.online_since.entry(agent).or_insert(now);
        let mine: Vec<SessionId> = self
            .sessions_of(agent)
            .filter(|s| self.session_conn(s) == Some(conn))
            .map(|s| s.info.id)
            .collect();
        let mut waiting = Vec::new();
        for id in mine {
            if let Some(s) = self.sessions.get_mut(&id) {
                s.agent_gone_at = None;
                if matches!(s.phase, Phase::Pending { answer_by } if answer_by > now) {
                    waiting.push((s.info.answer_by, session_request(&s.info)));
                }
            }
        }
        waiting.sort_by_key(|(answer_by, _)| *answer_by);
        self.commands.extend(
            waiting
                .into_iter()
                .map(|(_, msg)| Command::ToAgent { conn, msg }),
        );
    }

    /// An agent's connection closed. The active sessions it carried wait [`AGENT_GRACE_SECS`]
    /// for the program to come back before they end (the novice is gone); consent requests
    /// keep waiting until they lapse.
    pub fn handle_agent_disconnected(&mut self, conn: ConnId, now: i64) {
        let Some(AgentConn { agent, .. }) = self.agent_conns.remove(&conn) else {
            return;
        };
        if let Some(conns) = self.agents.get_mut(&agent) {
            conns.retain(|c| *c != conn);
            if conns.is_empty() {
                self.agents.remove(&agent);
                self.online_since.remove(&agent);
            }
        }
        let orphaned: Vec<SessionId> = self
            .sessions_of(agent)
            .filter(|s| s.phase == Phase::Active && self.session_conn(s).is_none())
            .map(|s| s.info.id)
            .collect();
        for id in orphaned {
            if let Some(s) = self.sessions.get_mut(&id) {
                s.agent_gone_at.get_or_insert(now);
            }
        }
    }

    /// An invitation was redeemed: ask the novice (now, or when the agent connects).
    pub fn handle_session_created(&mut self, info: NewSession) {
        if let Some(conn) = self.request_conn(info.agent, info.invitation) {
            self.commands.push_back(Command::ToAgent {
                conn,
                msg: session_request(&info),
            });
        }
        let phase = Phase::Pending {
            answer_by: info.answer_by,
        };
        self.agent_sessions
            .entry(info.agent)
            .or_default()
            .push(info.id);
        self.sessions.insert(
            info.id,
            Session {
                info,
                phase,
                expert: None,
                backlog: Vec::new(),
                since: None,
                control: false,
                stats: None,
                agent_gone_at: None,
                served_by: None,
            },
        );
    }

    /// An expert presented a valid ticket for `session` on `conn`.
    pub fn handle_expert_connected(&mut self, conn: ConnId, session: SessionId) {
        let Some(s) = self.sessions.get_mut(&session) else {
            let reason = self
                .ended
                .get(&session)
                .map(|(r, _)| *r)
                .unwrap_or(EndReason::PeerGone);
            self.commands.push_back(Command::ToExpert {
                conn,
                msg: ended_frame(reason),
            });
            self.commands.push_back(Command::Close { conn });
            return;
        };
        if let Some(old) = s.expert.replace(conn) {
            self.expert_conns.remove(&old);
            self.commands.push_back(Command::ToExpert {
                conn: old,
                msg: error_frame(
                    ERROR_REPLACED,
                    "This session was opened in another window; this one is closed.",
                ),
            });
            self.commands.push_back(Command::Close { conn: old });
        }
        self.expert_conns.insert(conn, session);
        self.commands.push_back(Command::ToExpert {
            conn,
            msg: consent_frame(s),
        });
        for msg in s.backlog.drain(..) {
            self.commands.push_back(Command::ToExpert { conn, msg });
        }
    }

    /// The expert's connection closed: the expert is gone, so the session ends.
    pub fn handle_expert_disconnected(&mut self, conn: ConnId, now: i64) {
        if let Some(session) = self.expert_conns.remove(&conn) {
            let current = self.sessions.get(&session).and_then(|s| s.expert);
            if current == Some(conn) {
                self.end(session, EndReason::PeerGone, Some(Side::Expert), now);
            }
        }
    }

    /// A frame from an authenticated agent.
    pub fn handle_agent_message(&mut self, conn: ConnId, msg: AgentToServer, now: i64) {
        let Some(agent) = self.agent_conns.get(&conn).map(|c| c.agent) else {
            return;
        };
        let reject = |code: &str, message: &str| Command::ToAgent {
            conn,
            msg: agent_error(code, message),
        };
        match msg {
            AgentToServer::Ping => self.commands.push_back(Command::ToAgent {
                conn,
                msg: ServerToAgent::Pong,
            }),
            AgentToServer::Consent { session_id, accept } => {
                let Some(s) = own_session(&mut self.sessions, agent, session_id) else {
                    self.commands
                        .push_back(reject("unknown_session", UNKNOWN_SESSION));
                    return;
                };
                if s.phase == Phase::Active {
                    self.commands.push_back(reject(
                        "already_answered",
                        "This session was already accepted.",
                    ));
                    return;
                }
                let invitation = s.info.invitation;
                self.commands.push_back(Command::ConsentAnswered {
                    session: session_id,
                    invitation,
                    agent,
                    accepted: accept,
                });
                if accept {
                    s.phase = Phase::Active;
                    s.since = Some(now);
                    s.served_by = self.agent_conns.get(&conn).and_then(|c| c.serves);
                    // An expert who connects later is told the state on arrival.
                    if let Some(expert) = s.expert {
                        let msg = consent_frame(s);
                        self.commands
                            .push_back(Command::ToExpert { conn: expert, msg });
                    }
                } else {
                    self.end(session_id, EndReason::Declined, Some(Side::Agent), now);
                }
            }
            AgentToServer::Signal { session_id, signal } => {
                let refusal = "Negotiation starts only after the novice accepts.";
                if self
                    .accepted_session(conn, agent, session_id, refusal)
                    .is_some()
                {
                    self.relay_to_expert(session_id, ServerToExpert::Signal { signal }, conn);
                }
            }
            AgentToServer::HangUp { session_id } => {
                if own_session(&mut self.sessions, agent, session_id).is_none() {
                    self.commands
                        .push_back(reject("unknown_session", UNKNOWN_SESSION));
                    return;
                }
                self.end(session_id, EndReason::NoviceHungUp, Some(Side::Agent), now);
            }
            AgentToServer::Stats { session_id, stats } => {
                let refusal = "A session has statistics only after the novice accepts.";
                if let Some(s) = self.accepted_session(conn, agent, session_id, refusal) {
                    s.stats = Some(stats);
                }
            }
            AgentToServer::Control { session_id, event } => {
                let refusal = "Control exists only after the novice accepts.";
                let Some(s) = self.accepted_session(conn, agent, session_id, refusal) else {
                    return;
                };
                s.control = event == ControlEvent::Granted
                    || (s.control && event == ControlEvent::Requested);
                let invitation = s.info.invitation;
                self.commands.push_back(Command::ControlChanged {
                    session: session_id,
                    invitation,
                    agent,
                    event,
                });
            }
        }
    }

    /// `agent`'s own session `id` once the novice has accepted it. Otherwise the agent on
    /// `conn` is told why (`refusal` when it is not accepted yet) and there is none.
    fn accepted_session(
        &mut self,
        conn: ConnId,
        agent: AgentId,
        id: SessionId,
        refusal: &str,
    ) -> Option<&mut Session> {
        let refused = match own_session(&mut self.sessions, agent, id) {
            None => agent_error("unknown_session", UNKNOWN_SESSION),
            Some(s) if s.phase != Phase::Active => agent_error("not_accepted", refusal),
            Some(_) => return self.sessions.get_mut(&id),
        };
        self.commands
            .push_back(Command::ToAgent { conn, msg: refused });
        None
    }

    /// A frame from an authenticated expert.
    pub fn handle_expert_message(&mut self, conn: ConnId, msg: ExpertToServer, now: i64) {
        let Some(&session) = self.expert_conns.get(&conn) else {
            return;
        };
        let reject = |code: &str, message: &str| Command::ToExpert {
            conn,
            msg: error_frame(code, message),
        };
        match msg {
            ExpertToServer::Ping => self.commands.push_back(Command::ToExpert {
                conn,
                msg: ServerToExpert::Pong,
            }),
            ExpertToServer::Hello { .. } => self.commands.push_back(reject(
                "already_authenticated",
                "This connection is already open.",
            )),
            ExpertToServer::HangUp => {
                self.end(session, EndReason::ExpertHungUp, Some(Side::Expert), now)
            }
            ExpertToServer::Signal { signal } => {
                let Some(s) = self.sessions.get(&session) else {
                    return;
                };
                if s.phase != Phase::Active {
                    self.commands
                        .push_back(reject("not_accepted", "The novice has not accepted yet."));
                    return;
                }
                match self.session_conn(s) {
                    Some(agent_conn) => self.commands.push_back(Command::ToAgent {
                        conn: agent_conn,
                        msg: ServerToAgent::Signal {
                            session_id: session,
                            signal,
                        },
                    }),
                    None => self.commands.push_back(reject(
                        "novice_offline",
                        "The novice's agent is not connected right now.",
                    )),
                }
            }
        }
    }

    /// The novice expired the invitation that `session` uses.
    pub fn handle_revoked(&mut self, session: SessionId, now: i64) {
        self.end(session, EndReason::Revoked, None, now);
    }

    /// The expert a direct invitation of `agent` went to declined it: tell the novice, if the
    /// agent is connected (otherwise its invitation list shows it).
    pub fn handle_invitation_declined(
        &mut self,
        agent: AgentId,
        invitation: InvitationId,
        expert_name: String,
    ) {
        if let Some(conn) = self.request_conn(agent, invitation) {
            self.commands.push_back(Command::ToAgent {
                conn,
                msg: ServerToAgent::InvitationDeclined {
                    invitation_id: invitation,
                    expert_name,
                },
            });
        }
    }

    /// The server is going down: tell everybody and close every connection.
    pub fn handle_shutdown(&mut self, now: i64) {
        let ids: Vec<SessionId> = self.sessions.keys().copied().collect();
        for id in ids {
            self.end(id, EndReason::ServerShutdown, None, now);
        }
        let conns: Vec<ConnId> = self
            .agent_conns
            .keys()
            .chain(self.expert_conns.keys())
            .copied()
            .collect();
        for conn in conns {
            self.commands.push_back(Command::Close { conn });
        }
    }

    /// Lapses unanswered consent requests, ends the sessions whose agent did not come back in
    /// time, and forgets old tombstones.
    pub fn handle_timeout(&mut self, now: i64) {
        let lapsed: Vec<SessionId> = self
            .sessions
            .iter()
            .filter(|(_, s)| matches!(s.phase, Phase::Pending { answer_by } if answer_by <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in lapsed {
            self.end(id, EndReason::ConsentTimeout, None, now);
        }
        let abandoned: Vec<SessionId> = self
            .sessions
            .iter()
            .filter(|(_, s)| {
                s.agent_gone_at
                    .is_some_and(|at| at + AGENT_GRACE_SECS <= now)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in abandoned {
            self.end(id, EndReason::PeerGone, Some(Side::Agent), now);
        }
        self.ended.retain(|_, (_, at)| *at + TOMBSTONE_SECS > now);
    }

    /// The newest connection of `agent` that is there for `serves`.
    fn newest_conn(&self, agent: AgentId, serves: Option<InvitationId>) -> Option<ConnId> {
        self.agents.get(&agent)?.iter().rev().copied().find(|c| {
            self.agent_conns
                .get(c)
                .is_some_and(|conn| conn.serves == serves)
        })
    }

    /// Where news of `invitation` goes: the program started for it, else the machine's
    /// program waiting for its support desk, else whichever program of the machine connected
    /// last (a machine that shows online can be offered help).
    fn request_conn(&self, agent: AgentId, invitation: InvitationId) -> Option<ConnId> {
        self.newest_conn(agent, Some(invitation))
            .or_else(|| self.newest_conn(agent, None))
            .or_else(|| self.agents.get(&agent)?.last().copied())
    }

    /// Where a session's frames go: once accepted, to the program that accepted it.
    fn session_conn(&self, s: &Session) -> Option<ConnId> {
        match s.phase {
            Phase::Active => self.newest_conn(s.info.agent, s.served_by),
            Phase::Pending { .. } => self.request_conn(s.info.agent, s.info.invitation),
        }
    }

    /// The live sessions of `agent`.
    fn sessions_of(&self, agent: AgentId) -> impl Iterator<Item = &Session> {
        self.agent_sessions
            .get(&agent)
            .into_iter()
            .flatten()
            .filter_map(|id| self.sessions.get(id))
    }

    /// Sends to the session's expert, or buffers until the expert connects.
    fn relay_to_expert(&mut self, id: SessionId, msg: ServerToExpert, agent_conn: ConnId) {
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        match s.expert {
            Some(conn) => self.commands.push_back(Command::ToExpert { conn, msg }),
            None if s.backlog.len() < EXPERT_BACKLOG => s.backlog.push(msg),
            None => self.commands.push_back(Command::ToAgent {
                conn: agent_conn,
                msg: agent_error(
                    "backlog_full",
                    "The expert has not connected yet and too many frames are waiting.",
                ),
            }),
        }
    }

    /// Ends a session, telling each side that did not end it.
    fn end(&mut self, id: SessionId, reason: EndReason, origin: Option<Side>, now: i64) {
        let agent_conn = self.sessions.get(&id).and_then(|s| self.session_conn(s));
        let Some(s) = self.sessions.remove(&id) else {
            return;
        };
        if let Some(ids) = self.agent_sessions.get_mut(&s.info.agent) {
            ids.retain(|other| *other != id);
            if ids.is_empty() {
                self.agent_sessions.remove(&s.info.agent);
            }
        }
        if origin != Some(Side::Expert) {
            if let Some(conn) = s.expert {
                self.commands.push_back(Command::ToExpert {
                    conn,
                    msg: ended_frame(reason),
                });
                self.commands.push_back(Command::Close { conn });
            }
        }
        if let Some(conn) = s.expert {
            self.expert_conns.remove(&conn);
        }
        if origin != Some(Side::Agent) {
            if let Some(conn) = agent_conn {
                self.commands.push_back(Command::ToAgent {
                    conn,
                    msg: ServerToAgent::SessionEnded {
                        session_id: id,
                        reason,
                    },
                });
            }
        }
        self.commands.push_back(Command::SessionEnded {
            session: id,
            invitation: s.info.invitation,
            agent: s.info.agent,
            reason,
        });
        self.ended.insert(id, (reason, now));
    }
}

/// The session `id` if it belongs to `agent`.
fn own_session(
    sessions: &mut HashMap<SessionId, Session>,
    agent: AgentId,
    id: SessionId,
) -> Option<&mut Session> {
    sessions.get_mut(&id).filter(|s| s.info.agent == agent)
}

const UNKNOWN_SESSION: &str = "No such session belongs to this agent.";

fn session_request(info: &NewSession) -> ServerToAgent {
    ServerToAgent::SessionRequest {
        session_id: info.id,
        invitation_id: info.invitation,
        expert_name: info.expert_name.clone(),
        ice_servers: info.ice_servers.clone(),
        answer_by: info.answer_by,
        offered_by_desk: info.offered_by_desk.clone(),
    }
}

/// What the expert is told of the novice's decision. The session's STUN and TURN servers (with
/// its TURN credential) go with the acceptance, never before: an expert the novice has not let
/// in gets no relay.
fn consent_frame(s: &Session) -> ServerToExpert {
    let (state, ice_servers) = match s.phase {
        Phase::Pending { .. } => (ConsentState::Waiting, Vec::new()),
        Phase::Active => (ConsentState::Accepted, s.info.ice_servers.clone()),
    };
    ServerToExpert::Consent {
        state,
        novice_name: s.info.novice_name.clone(),
        ice_servers,
    }
}

fn ended_frame(reason: EndReason) -> ServerToExpert {
    ServerToExpert::SessionEnded {
        reason,
        message: reason.describe().to_string(),
    }
}

fn error_frame(code: &str, message: &str) -> ServerToExpert {
    ServerToExpert::Error {
        code: code.to_string(),
        message: message.to_string(),
    }
}

fn agent_error(code: &str, message: &str) -> ServerToAgent {
    ServerToAgent::Error {
        code: code.to_string(),
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::signal::Signal;

    const T0: i64 = 1_800_000_000;
    const AGENT_CONN: ConnId = 1;
    const EXPERT_CONN: ConnId = 2;

    struct Fixture {
        hub: Hub,
        agent: AgentId,
        session: SessionId,
        invitation: InvitationId,
    }

    fn drain(hub: &mut Hub) -> Vec<Command> {
        std::iter::from_fn(|| hub.poll_command()).collect()
    }

    fn new_session(agent: AgentId) -> NewSession {
        NewSession {
            id: SessionId::new_random(),
            invitation: InvitationId::new_random(),
            agent,
            expert_name: "Bob".into(),
            novice_name: "Alice".into(),
            ice_servers: vec![],
            answer_by: T0 + 60,
            offered_by_desk: None,
        }
    }

    /// Agent online, session created, expert connected; commands drained.
    fn pending() -> Fixture {
        let mut hub = Hub::new();
        let agent = AgentId::new_random();
        hub.handle_agent_connected(AGENT_CONN, agent, None, T0);
        let info = new_session(agent);
        let (session, invitation) = (info.id, info.invitation);
        hub.handle_session_created(info);
        hub.handle_expert_connected(EXPERT_CONN, session);
        drain(&mut hub);
        Fixture {
            hub,
            agent,
            session,
            invitation,
        }
    }

    fn active() -> Fixture {
        let mut f = pending();
        f.hub.handle_agent_message(
            AGENT_CONN,
            AgentToServer::Consent {
                session_id: f.session,
                accept: true,
            },
            T0,
        );
        drain(&mut f.hub);
        f
    }

    fn offer() -> Signal {
        Signal::Offer { sdp: "v=0".into() }
    }

    fn is_error_to(cmd: &Command, to: ConnId, expected: &str) -> bool {
        match cmd {
            Command::ToAgent {
                conn,
                msg: ServerToAgent::Error { code, .. },
            }
            | Command::ToExpert {
                conn,
                msg: ServerToExpert::Error { code, .. },
            } => *conn == to && code == expected,
            _ => false,
        }
    }

    #[test]
    fn online_agent_is_asked_at_once() {
        let mut hub = Hub::new();
        let agent = AgentId::new_random();
        hub.handle_agent_connected(AGENT_CONN, agent, None, T0);
        let info = new_session(agent);
        let id = info.id;
        hub.handle_session_created(info);
        let cmds = drain(&mut hub);
        assert!(matches!(
            &cmds[..],
            [Command::ToAgent { conn: AGENT_CONN, msg: ServerToAgent::SessionRequest { session_id, expert_name, .. } }]
                if *session_id == id && expert_name == "Bob"
        ));
    }

    #[test]
    fn a_declined_direct_invitation_is_told_to_its_agent_only() {
        let mut hub = Hub::new();
        let agent = AgentId::new_random();
        let other = AgentId::new_random();
        hub.handle_agent_connected(AGENT_CONN, agent, None, T0);
        hub.handle_agent_connected(EXPERT_CONN, other, None, T0);
        drain(&mut hub);
        let invitation = InvitationId::new_random();
        hub.handle_invitation_declined(agent, invitation, "Bob".into());
        assert_eq!(
            drain(&mut hub),
            vec![Command::ToAgent {
                conn: AGENT_CONN,
                msg: ServerToAgent::InvitationDeclined {
                    invitation_id: invitation,
                    expert_name: "Bob".into()
                }
            }]
        );
        // An agent that is not connected learns it from its invitation list instead.
        hub.handle_invitation_declined(AgentId::new_random(), invitation, "Bob".into());
        assert!(drain(&mut hub).is_empty());
    }

    #[test]
    fn offline_agent_is_asked_when_it_connects() {
        let mut hub = Hub::new();
        let agent = AgentId::new_random();
        let info = new_session(agent);
        let id = info.id;
        hub.handle_session_created(info);
        assert!(drain(&mut hub).is_empty());
        hub.handle_agent_connected(AGENT_CONN, agent, None, T0 + 1);
        let cmds = drain(&mut hub);
        assert!(matches!(
            &cmds[..],
            [Command::ToAgent { msg: ServerToAgent::SessionRequest { session_id, .. }, .. }] if *session_id == id
        ));
    }

    #[test]
    fn expert_waits_then_learns_acceptance() {
        let mut f = pending();
        // Before consent the expert was told it is waiting (checked via a fresh connection).
        f.hub.handle_expert_connected(3, f.session);
        let cmds = drain(&mut f.hub);
        assert!(cmds.iter().any(|c| matches!(
            c,
            Command::ToExpert {
                conn: 3,
                msg: ServerToExpert::Consent {
                    state: ConsentState::Waiting,
                    ..
                }
            }
        )));
        f.hub.handle_agent_message(
            AGENT_CONN,
            AgentToServer::Consent {
                session_id: f.session,
                accept: true,
            },
            T0,
        );
        let cmds = drain(&mut f.hub);
        assert!(cmds.contains(&Command::ConsentAnswered {
            session: f.session,
            invitation: f.invitation,
            agent: f.agent,
            accepted: true
        }));
        assert!(cmds.iter().any(|c| matches!(
            c,
            Command::ToExpert {
                conn: 3,
                msg: ServerToExpert::Consent {
                    state: ConsentState::Accepted,
                    ..
                }
            }
        )));
    }

    #[test]
    fn the_expert_gets_the_relay_only_with_the_acceptance() {
        let mut hub = Hub::new();
        let agent = AgentId::new_random();
        hub.handle_agent_connected(AGENT_CONN, agent, None, T0);
        let turn = IceServer {
            urls: vec!["turn:192.0.2.1:3478?transport=udp".into()],
            username: Some("1800000600:s".into()),
            credential: Some("secret".into()),
        };
        let info = NewSession {
            ice_servers: vec![turn.clone()],
            ..new_session(agent)
        };
        let session = info.id;
        hub.handle_session_created(info);
        hub.handle_expert_connected(EXPERT_CONN, session);
        let waiting = drain(&mut hub);
        assert!(
            waiting.iter().any(|c| matches!(
                c,
                Command::ToExpert {
                    msg: ServerToExpert::Consent { state: ConsentState::Waiting, ice_servers, .. },
                    ..
                } if ice_servers.is_empty()
            )),
            "{waiting:?}"
        );
        hub.handle_agent_message(
            AGENT_CONN,
            AgentToServer::Consent {
                session_id: session,
                accept: true,
            },
            T0,
        );
        let accepted = drain(&mut hub);
        assert!(
            accepted.iter().any(|c| matches!(
                c,
                Command::ToExpert {
                    msg: ServerToExpert::Consent { state: ConsentState::Accepted, ice_servers, .. },
                    ..
                } if *ice_servers == [turn.clone()]
            )),
            "{accepted:?}"
        );
        // An expert who reconnects to the accepted session hears it again, with the relay.
        hub.handle_expert_connected(EXPERT_CONN + 1, session);
        let again = drain(&mut hub);
        assert!(again.iter().any(|c| matches!(
            c,
            Command::ToExpert {
                conn,
                msg: ServerToExpert::Consent { ice_servers, .. },
            } if *conn == EXPERT_CONN + 1 && *ice_servers == [turn.clone()]
        )));
    }

    #[test]
    fn decline_ends_the_session_for_the_expert() {
        let mut f = pending();
        f.hub.handle_agent_message(
            AGENT_CONN,
            AgentToServer::Consent {
                session_id: f.session,
                accept: false,
            },
            T0,
        );
        let cmds = drain(&mut f.hub);
        assert!(cmds.iter().any(|c| matches!(
            c,
            Command::ToExpert {
                conn: EXPERT_CONN,
                msg: ServerToExpert::SessionEnded {
                    reason: EndReason::Declined,
                    ..
                }
            }
        )));
        assert!(cmds.contains(&Command::Close { conn: EXPERT_CONN }));
        assert!(cmds.contains(&Command::SessionEnded {
            session: f.session,
            invitation: f.invitation,
            agent: f.agent,
            reason: EndReason::Declined
        }));
        // The agent ended it, so the agent is not told.
        assert!(!cmds.iter().any(|c| matches!(c, Command::ToAgent { .. })));
        assert_eq!(f.hub.session_count(), 0);
        // An expert arriving late learns it was declined.
        f.hub.handle_expert_connected(9, f.session);
        let cmds = drain(&mut f.hub);
        assert!(cmds.iter().any(|c| matches!(
            c,
            Command::ToExpert {
                conn: 9,
                msg: ServerToExpert::SessionEnded {
                    reason: EndReason::Declined,
                    ..
                }
            }
        )));
    }

    #[test]
    fn consent_lapses_after_deadline() {
        let mut f = pending();
        assert_eq!(f.hub.poll_timeout(), Some(T0 + 60));
        f.hub.handle_timeout(T0 + 59);
        assert!(drain(&mut f.hub).is_empty());
        f.hub.handle_timeout(T0 + 60);
        let cmds = drain(&mut f.hub);
        assert!(cmds.iter().any(|c| matches!(
            c,
            Command::ToExpert {
                msg: ServerToExpert::SessionEnded {
                    reason: EndReason::ConsentTimeout,
                    ..
                },
                ..
            }
        )));
        assert!(cmds.iter().any(|c| matches!(
            c,
            Command::ToAgent {
                msg: ServerToAgent::SessionEnded {
                    reason: EndReason::ConsentTimeout,
                    ..
                },
                ..
            }
        )));
        // Tombstones are purged eventually.
        f.hub.handle_timeout(T0 + 60 + TOMBSTONE_SECS);
        assert_eq!(f.hub.poll_timeout(), None);
    }

    #[test]
    fn signals_flow_both_ways_only_after_consent() {
        let mut f = pending();
        f.hub.handle_agent_message(
            AGENT_CONN,
            AgentToServer::Signal {
                session_id: f.session,
                signal: offer(),
            },
            T0,
        );
        let cmds = drain(&mut f.hub);
        assert!(is_error_to(&cmds[0], AGENT_CONN, "not_accepted"));
        f.hub
            .handle_expert_message(EXPERT_CONN, ExpertToServer::Signal { signal: offer() }, T0);
        let cmds = drain(&mut f.hub);
        assert!(is_error_to(&cmds[0], EXPERT_CONN, "not_accepted"));

        let mut f = active();
        f.hub.handle_agent_message(
            AGENT_CONN,
            AgentToServer::Signal {
                session_id: f.session,
                signal: offer(),
            },
            T0,
        );
        assert_eq!(
            drain(&mut f.hub),
            vec![Command::ToExpert {
                conn: EXPERT_CONN,
                msg: ServerToExpert::Signal { signal: offer() }
            }]
        );
        let answer = Signal::Answer {
            sdp: "v=0 a".into(),
        };
        f.hub.handle_expert_message(
            EXPERT_CONN,
            ExpertToServer::Signal {
                signal: answer.clone(),
            },
            T0,
        );
        assert_eq!(
            drain(&mut f.hub),
            vec![Command::ToAgent {
                conn: AGENT_CONN,
                msg: ServerToAgent::Signal {
                    session_id: f.session,
                    signal: answer
                }
            }]
        );
    }

    #[test]
    fn frames_before_the_expert_connects_are_buffered_in_order() {
        let mut hub = Hub::new();
        let agent = AgentId::new_random();
        hub.handle_agent_connected(AGENT_CONN, agent, None, T0);
        let info = new_session(agent);
        let id = info.id;
        hub.handle_session_created(info);
        hub.handle_agent_message(
            AGENT_CONN,
            AgentToServer::Consent {
                session_id: id,
                accept: true,
            },
            T0,
        );
        hub.handle_agent_message(
            AGENT_CONN,
            AgentToServer::Signal {
                session_id: id,
                signal: offer(),
            },
            T0,
        );
        drain(&mut hub);
        hub.handle_expert_connected(EXPERT_CONN, id);
        let cmds = drain(&mut hub);
        assert!(matches!(
            &cmds[0],
            Command::ToExpert {
                msg: ServerToExpert::Consent {
                    state: ConsentState::Accepted,
                    ..
                },
                ..
            }
        ));
        assert_eq!(cmds.len(), 2, "{cmds:?}");
        assert_eq!(
            cmds[1],
            Command::ToExpert {
                conn: EXPERT_CONN,
                msg: ServerToExpert::Signal { signal: offer() }
            }
        );
    }

    #[test]
    fn another_agent_cannot_touch_the_session() {
        let mut f = active();
        let intruder = AgentId::new_random();
        f.hub.handle_agent_connected(7, intruder, None, T0);
        drain(&mut f.hub);
        for msg in [
            AgentToServer::Signal {
                session_id: f.session,
                signal: offer(),
            },
            AgentToServer::Consent {
                session_id: f.session,
                accept: false,
            },
            AgentToServer::HangUp {
                session_id: f.session,
            },
        ] {
            f.hub.handle_agent_message(7, msg, T0);
            let cmds = drain(&mut f.hub);
            assert_eq!(cmds.len(), 1, "{cmds:?}");
            assert!(is_error_to(&cmds[0], 7, "unknown_session"));
        }
        assert_eq!(f.hub.session_count(), 1);
    }

    #[test]
    fn an_expert_of_another_session_receives_nothing() {
        let mut f = active();
        let other = new_session(f.agent);
        let other_id = other.id;
        f.hub.handle_session_created(other);
        f.hub.handle_expert_connected(8, other_id);
        drain(&mut f.hub);
        f.hub.handle_agent_message(
            AGENT_CONN,
            AgentToServer::Signal {
                session_id: f.session,
                signal: offer(),
            },
            T0,
        );
        let cmds = drain(&mut f.hub);
        assert!(cmds
            .iter()
            .all(|c| !matches!(c, Command::ToExpert { conn: 8, .. })));
    }

    #[test]
    fn hang_up_from_either_side_tells_the_other() {
        let mut f = active();
        f.hub
            .handle_expert_message(EXPERT_CONN, ExpertToServer::HangUp, T0);
        let cmds = drain(&mut f.hub);
        assert!(cmds.iter().any(|c| matches!(
            c,
            Command::ToAgent {
                conn: AGENT_CONN,
                msg: ServerToAgent::SessionEnded {
                    reason: EndReason::ExpertHungUp,
                    ..
                }
            }
        )));
        assert!(!cmds.iter().any(|c| matches!(c, Command::ToExpert { .. })));

        let mut f = active();
        f.hub.handle_agent_message(
            AGENT_CONN,
            AgentToServer::HangUp {
                session_id: f.session,
            },
            T0,
        );
        let cmds = drain(&mut f.hub);
        assert!(cmds.iter().any(|c| matches!(
            c,
            Command::ToExpert {
                conn: EXPERT_CONN,
                msg: ServerToExpert::SessionEnded {
                    reason: EndReason::NoviceHungUp,
                    ..
                }
            }
        )));
        assert!(!cmds.iter().any(|c| matches!(c, Command::ToAgent { .. })));
    }

    #[test]
    fn vanishing_peers_end_the_session() {
        let mut f = active();
        f.hub.handle_expert_disconnected(EXPERT_CONN, T0);
        let cmds = drain(&mut f.hub);
        assert!(cmds.iter().any(|c| matches!(
            c,
            Command::ToAgent {
                msg: ServerToAgent::SessionEnded {
                    reason: EndReason::PeerGone,
                    ..
                },
                ..
            }
        )));

        let mut f = active();
        f.hub.handle_agent_disconnected(AGENT_CONN, T0);
        assert!(!f.hub.is_agent_online(f.agent));
        assert!(
            drain(&mut f.hub).is_empty(),
            "the session waits for the agent"
        );
        assert_eq!(f.hub.poll_timeout(), Some(T0 + AGENT_GRACE_SECS));
        f.hub.handle_timeout(T0 + AGENT_GRACE_SECS - 1);
        assert!(drain(&mut f.hub).is_empty());
        f.hub.handle_timeout(T0 + AGENT_GRACE_SECS);
        let cmds = drain(&mut f.hub);
        assert!(cmds.iter().any(|c| matches!(
            c,
            Command::ToExpert {
                msg: ServerToExpert::SessionEnded {
                    reason: EndReason::PeerGone,
                    ..
                },
                ..
            }
        )));
        assert_eq!(f.hub.session_count(), 0);
    }

    #[test]
    fn an_active_session_survives_its_agent_reconnecting() {
        let mut f = active();
        f.hub.handle_agent_disconnected(AGENT_CONN, T0);
        f.hub
            .handle_agent_connected(5, f.agent, None, T0 + AGENT_GRACE_SECS - 1);
        drain(&mut f.hub);
        f.hub.handle_timeout(T0 + 10 * AGENT_GRACE_SECS);
        assert!(drain(&mut f.hub).is_empty(), "nothing ends");
        // The ICE restart goes through the new connection.
        f.hub.handle_agent_message(
            5,
            AgentToServer::Signal {
                session_id: f.session,
                signal: offer(),
            },
            T0 + AGENT_GRACE_SECS,
        );
        assert_eq!(
            drain(&mut f.hub),
            vec![Command::ToExpert {
                conn: EXPERT_CONN,
                msg: ServerToExpert::Signal { signal: offer() },
            }]
        );
        // A later drop starts a new grace period.
        f.hub.handle_agent_disconnected(5, T0 + 100);
        assert_eq!(f.hub.poll_timeout(), Some(T0 + 100 + AGENT_GRACE_SECS));
    }

    #[test]
    fn pending_request_survives_an_agent_reconnect() {
        let mut f = pending();
        f.hub.handle_agent_disconnected(AGENT_CONN, T0);
        assert!(drain(&mut f.hub).is_empty());
        f.hub.handle_agent_connected(5, f.agent, None, T0 + 10);
        let cmds = drain(&mut f.hub);
        assert!(matches!(
            &cmds[..],
            [Command::ToAgent {
                conn: 5,
                msg: ServerToAgent::SessionRequest { .. }
            }]
        ));
    }

    #[test]
    fn a_returning_agent_hears_only_its_own_pending_requests() {
        let mut hub = Hub::new();
        let (agent, other) = (AgentId::new_random(), AgentId::new_random());
        let mine: Vec<NewSession> = (0..3).map(|_| new_session(agent)).collect();
        let ids: Vec<SessionId> = mine.iter().map(|s| s.id).collect();
        for info in mine {
            hub.handle_session_created(info);
        }
        hub.handle_session_created(new_session(other));
        // One of the agent's requests is declined while it is connected, then it leaves.
        hub.handle_agent_connected(AGENT_CONN, agent, None, T0);
        hub.handle_agent_message(
            AGENT_CONN,
            AgentToServer::Consent {
                session_id: ids[1],
                accept: false,
            },
            T0,
        );
        hub.handle_agent_disconnected(AGENT_CONN, T0);
        drain(&mut hub);
        hub.handle_agent_connected(5, agent, None, T0 + 1);
        let asked: Vec<SessionId> = drain(&mut hub)
            .into_iter()
            .filter_map(|c| match c {
                Command::ToAgent {
                    conn: 5,
                    msg: ServerToAgent::SessionRequest { session_id, .. },
                } => Some(session_id),
                _ => None,
            })
            .collect();
        assert_eq!(asked.len(), 2);
        assert!(asked.contains(&ids[0]) && asked.contains(&ids[2]));
        // Once the last of them ends, the agent has no sessions left to be asked about.
        for id in [ids[0], ids[2]] {
            hub.handle_agent_message(
                5,
                AgentToServer::Consent {
                    session_id: id,
                    accept: false,
                },
                T0 + 1,
            );
        }
        drain(&mut hub);
        hub.handle_agent_connected(6, agent, None, T0 + 2);
        assert_eq!(drain(&mut hub), vec![]);
        assert!(!hub.agent_sessions.contains_key(&agent));
        assert_eq!(hub.session_count(), 1);
    }

    /// Whom a session request reached, if anyone.
    fn asked(cmds: &[Command], session: SessionId) -> Option<ConnId> {
        cmds.iter().find_map(|c| match c {
            Command::ToAgent {
                conn,
                msg: ServerToAgent::SessionRequest { session_id, .. },
            } if *session_id == session => Some(*conn),
            _ => None,
        })
    }

    #[test]
    fn each_program_of_a_machine_hears_of_its_own_invitation() {
        let mut hub = Hub::new();
        let agent = AgentId::new_random();
        let (a, b, desk_offer) = (new_session(agent), new_session(agent), new_session(agent));
        let (session_a, invitation_a) = (a.id, a.invitation);
        // The machine's program for its support desk, and one program per invitation.
        hub.handle_agent_connected(1, agent, None, T0);
        hub.handle_agent_connected(3, agent, Some(a.invitation), T0);
        hub.handle_agent_connected(4, agent, Some(b.invitation), T0);
        assert_eq!(drain(&mut hub), vec![], "nobody is pushed off");
        for (info, program) in [(a, 3), (b, 4), (desk_offer, 1)] {
            let id = info.id;
            hub.handle_session_created(info);
            assert_eq!(asked(&drain(&mut hub), id), Some(program));
        }

        // Accepted by its program, the session's frames go there and nowhere else.
        hub.handle_expert_connected(EXPERT_CONN, session_a);
        hub.handle_agent_message(
            3,
            AgentToServer::Consent {
                session_id: session_a,
                accept: true,
            },
            T0,
        );
        drain(&mut hub);
        let signal = ExpertToServer::Signal { signal: offer() };
        hub.handle_expert_message(EXPERT_CONN, signal.clone(), T0);
        assert!(matches!(
            &drain(&mut hub)[..],
            [Command::ToAgent { conn: 3, .. }]
        ));

        // That program drops: the desk's does not take its session over; the session waits,
        // and the program coming back carries on with it.
        hub.handle_agent_disconnected(3, T0 + 1);
        assert!(hub.is_agent_online(agent));
        hub.handle_expert_message(EXPERT_CONN, signal.clone(), T0 + 1);
        assert!(is_error_to(
            &drain(&mut hub)[0],
            EXPERT_CONN,
            "novice_offline"
        ));
        assert_eq!(hub.poll_timeout(), Some(T0 + 1 + AGENT_GRACE_SECS));
        hub.handle_agent_connected(5, agent, Some(invitation_a), T0 + 2);
        hub.handle_expert_message(EXPERT_CONN, signal, T0 + 2);
        assert!(matches!(
            &drain(&mut hub)[..],
            [Command::ToAgent { conn: 5, .. }]
        ));
        hub.handle_timeout(T0 + 2 + AGENT_GRACE_SECS);
        assert_eq!(hub.session_count(), 3, "nothing ended");
    }

    #[test]
    fn without_its_program_an_invitation_is_told_to_the_machines_program() {
        let mut hub = Hub::new();
        let agent = AgentId::new_random();
        let info = new_session(agent);
        let (session, invitation) = (info.id, info.invitation);
        hub.handle_agent_connected(1, agent, None, T0);
        hub.handle_agent_connected(4, agent, Some(InvitationId::new_random()), T0);
        hub.handle_session_created(info);
        assert_eq!(
            asked(&drain(&mut hub), session),
            Some(1),
            "not the newer program of another invitation"
        );
        // Its own program, once there, is asked instead.
        hub.handle_agent_connected(6, agent, Some(invitation), T0);
        assert_eq!(asked(&drain(&mut hub), session), Some(6));
        hub.handle_invitation_declined(agent, invitation, "Bob".into());
        assert!(matches!(
            &drain(&mut hub)[..],
            [Command::ToAgent { conn: 6, .. }]
        ));
    }

    #[test]
    fn a_machine_with_only_other_programs_connected_still_hears_an_offer() {
        let mut hub = Hub::new();
        let agent = AgentId::new_random();
        hub.handle_agent_connected(3, agent, Some(InvitationId::new_random()), T0);
        hub.handle_agent_connected(4, agent, Some(InvitationId::new_random()), T0);
        let offer = new_session(agent);
        let id = offer.id;
        hub.handle_session_created(offer);
        assert_eq!(asked(&drain(&mut hub), id), Some(4), "the newest program");
    }

    #[test]
    fn second_expert_window_replaces_the_first() {
        let mut f = active();
        f.hub.handle_expert_connected(6, f.session);
        let cmds = drain(&mut f.hub);
        assert!(is_error_to(&cmds[0], EXPERT_CONN, "replaced"));
        assert_eq!(cmds[1], Command::Close { conn: EXPERT_CONN });
        f.hub.handle_expert_disconnected(EXPERT_CONN, T0);
        assert_eq!(f.hub.session_count(), 1);
    }

    #[test]
    fn revoking_ends_a_session_in_use() {
        let mut f = active();
        f.hub.handle_revoked(f.session, T0);
        let cmds = drain(&mut f.hub);
        assert!(cmds.iter().any(|c| matches!(
            c,
            Command::ToExpert {
                msg: ServerToExpert::SessionEnded {
                    reason: EndReason::Revoked,
                    ..
                },
                ..
            }
        )));
        assert!(cmds.iter().any(|c| matches!(
            c,
            Command::ToAgent {
                msg: ServerToAgent::SessionEnded {
                    reason: EndReason::Revoked,
                    ..
                },
                ..
            }
        )));
    }

    #[test]
    fn double_consent_is_refused() {
        let mut f = active();
        f.hub.handle_agent_message(
            AGENT_CONN,
            AgentToServer::Consent {
                session_id: f.session,
                accept: false,
            },
            T0,
        );
        let cmds = drain(&mut f.hub);
        assert!(is_error_to(&cmds[0], AGENT_CONN, "already_answered"));
        assert_eq!(f.hub.session_count(), 1);
    }

    #[test]
    fn shutdown_closes_everything() {
        let mut f = active();
        f.hub.handle_shutdown(T0);
        let cmds = drain(&mut f.hub);
        assert!(cmds.iter().any(|c| matches!(
            c,
            Command::ToExpert {
                msg: ServerToExpert::SessionEnded {
                    reason: EndReason::ServerShutdown,
                    ..
                },
                ..
            }
        )));
        assert!(cmds.contains(&Command::Close { conn: AGENT_CONN }));
        assert_eq!(f.hub.session_count(), 0);
    }

    #[test]
    fn ping_is_answered() {
        let mut f = active();
        f.hub
            .handle_agent_message(AGENT_CONN, AgentToServer::Ping, T0);
        f.hub
            .handle_expert_message(EXPERT_CONN, ExpertToServer::Ping, T0);
        assert_eq!(
            drain(&mut f.hub),
            vec![
                Command::ToAgent {
                    conn: AGENT_CONN,
                    msg: ServerToAgent::Pong
                },
                Command::ToExpert {
                    conn: EXPERT_CONN,
                    msg: ServerToExpert::Pong
                }
            ]
        );
    }

    #[test]
    fn the_desk_sees_who_is_online_and_what_their_sessions_do() {
        let mut f = active();
        assert_eq!(f.hub.online_since(f.agent), Some(T0));
        let stats = SessionStats {
            fps: 24.5,
            kbps: 900,
            rtt_ms: Some(12),
        };
        for msg in [
            AgentToServer::Stats {
                session_id: f.session,
                stats,
            },
            AgentToServer::Control {
                session_id: f.session,
                event: ControlEvent::Granted,
            },
        ] {
            f.hub.handle_agent_message(AGENT_CONN, msg, T0 + 5);
        }
        let cmds = drain(&mut f.hub);
        assert!(matches!(
            &cmds[..],
            [Command::ControlChanged { session, event: ControlEvent::Granted, .. }] if *session == f.session
        ));
        let live = f.hub.live_sessions(f.agent);
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].since, Some(T0));
        assert!(live[0].control);
        assert_eq!(live[0].stats, Some(stats));

        f.hub.handle_agent_message(
            AGENT_CONN,
            AgentToServer::Control {
                session_id: f.session,
                event: ControlEvent::Stopped,
            },
            T0 + 6,
        );
        assert!(!f.hub.live_sessions(f.agent)[0].control);

        f.hub.handle_agent_disconnected(AGENT_CONN, T0 + 7);
        assert_eq!(f.hub.online_since(f.agent), None);
        f.hub.handle_timeout(T0 + 7 + AGENT_GRACE_SECS);
        assert!(f.hub.live_sessions(f.agent).is_empty());
    }

    #[test]
    fn stats_and_control_of_a_session_not_yet_accepted_or_not_owned_are_refused() {
        let mut f = pending();
        f.hub.handle_agent_message(
            AGENT_CONN,
            AgentToServer::Control {
                session_id: f.session,
                event: ControlEvent::Granted,
            },
            T0,
        );
        let cmds = drain(&mut f.hub);
        assert!(is_error_to(&cmds[0], AGENT_CONN, "not_accepted"));
        f.hub.handle_agent_message(
            AGENT_CONN,
            AgentToServer::Stats {
                session_id: SessionId::new_random(),
                stats: SessionStats {
                    fps: 1.0,
                    kbps: 1,
                    rtt_ms: None,
                },
            },
            T0,
        );
        let cmds = drain(&mut f.hub);
        assert!(is_error_to(&cmds[0], AGENT_CONN, "unknown_session"));
        assert!(f.hub.live_sessions(f.agent)[0].stats.is_none());
    }
}
