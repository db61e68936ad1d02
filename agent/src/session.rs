//! The novice's side of a session as a pure state machine: who is asking, what the novice
//! answered, whether the desktop is being shared. No IO, no clock reads.
//!
//! The agent is the authority on consent: media starts only through [`Command::StartSharing`],
//! which is only ever emitted after the novice typed yes to a request that is still pending.
//! Everything else (a server claiming the session is accepted, a peer sending frames) cannot
//! start sharing.
//!
//! States: `Idle` → `Asking` (a request is on screen, until its deadline) → `Live` (sharing) →
//! back to `Idle` when either side ends it. A second request while one is asked or live is
//! declined at once: one helper at a time.

use protocol::api::IceServer;
use protocol::data::DataMessage;
use protocol::ids::SessionId;
use protocol::signal::{AgentToServer, EndReason, ServerToAgent, Signal};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long the novice has to answer when the server gives no usable deadline.
pub const DEFAULT_ANSWER_TIME: Duration = Duration::from_secs(60);

/// A side effect for the driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// A line for the novice to read.
    Say(String),
    /// A yes/no question for the novice; the next line typed answers it.
    Ask(String),
    ToServer(AgentToServer),
    /// The novice said yes: create the WebRTC peer and start capturing.
    StartSharing {
        session: SessionId,
        ice_servers: Vec<IceServer>,
    },
    /// Negotiation from the expert, for the peer.
    ToPeer(Signal),
    /// A message for the expert on the data channel.
    ToExpert(DataMessage),
    /// Stop capturing and close the peer.
    StopSharing,
    /// The novice asked to quit the agent.
    Quit,
}

/// What happened on the peer connection, as far as the session cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerNews {
    /// Negotiation to send to the expert.
    Signal(Signal),
    Connected,
    Data(DataMessage),
    Closed(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Idle,
    Asking {
        session: SessionId,
        expert: String,
        ice_servers: Vec<IceServer>,
        deadline: Instant,
    },
    Live {
        session: SessionId,
        expert: String,
    },
}

/// The novice's session state.
#[derive(Debug)]
pub struct Session {
    novice_name: String,
    state: State,
    commands: VecDeque<Command>,
}

impl Session {
    pub fn new(novice_name: impl Into<String>) -> Self {
        Self {
            novice_name: novice_name.into(),
            state: State::Idle,
            commands: VecDeque::new(),
        }
    }

    pub fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// When the pending question lapses, if one is pending.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Asking { deadline, .. } => Some(deadline),
            _ => None,
        }
    }

    /// Whether the desktop is being shared right now.
    pub fn is_live(&self) -> bool {
        matches!(self.state, State::Live { .. })
    }

    fn say(&mut self, line: impl Into<String>) {
        self.commands.push_back(Command::Say(line.into()));
    }

    /// A frame from the signaling server. `answer_time` is how long the novice gets to answer
    /// a request (the driver derives it from the server's deadline).
    pub fn handle_server(&mut self, msg: ServerToAgent, now: Instant, answer_time: Duration) {
        match msg {
            ServerToAgent::SessionRequest {
                session_id,
                expert_name,
                ice_servers,
                ..
            } => {
                if self.state != State::Idle {
                    self.commands
                        .push_back(Command::ToServer(AgentToServer::Consent {
                            session_id,
                            accept: false,
                        }));
                    self.say(format!(
                        "{expert_name} also asked to connect; declined because another helper is connected."
                    ));
                    return;
                }
                self.commands.push_back(Command::Ask(format!(
                    "{expert_name} wants to see your screen. Allow? [y/N] ({} s to answer)",
                    answer_time.as_secs()
                )));
                self.state = State::Asking {
                    session: session_id,
                    expert: expert_name,
                    ice_servers,
                    deadline: now + answer_time,
                };
            }
            ServerToAgent::Signal { session_id, signal } => {
                if self.live_session() == Some(session_id) {
                    self.commands.push_back(Command::ToPeer(signal));
                }
            }
            ServerToAgent::SessionEnded { session_id, reason } => {
                if self.current_session() != Some(session_id) {
                    return;
                }
                if self.is_live() {
                    self.commands.push_back(Command::StopSharing);
                }
                self.state = State::Idle;
                self.say(ended_line(reason));
            }
            ServerToAgent::Welcome { .. } | ServerToAgent::Pong | ServerToAgent::Error { .. } => {}
        }
    }

    /// A line the novice typed.
    pub fn handle_line(&mut self, line: &str) {
        let line = line.trim();
        if line == "/quit" {
            self.end_by_novice();
            self.commands.push_back(Command::Quit);
            return;
        }
        match &self.state {
            State::Asking { .. } => {
                let yes = matches!(line.to_ascii_lowercase().as_str(), "y" | "yes");
                self.answer(yes);
            }
            State::Live { .. } if line == "/end" => self.end_by_novice(),
            State::Live { .. } if line.is_empty() => {}
            State::Live { .. } => {
                self.commands
                    .push_back(Command::ToExpert(DataMessage::Chat {
                        from: self.novice_name.clone(),
                        text: line.to_string(),
                    }));
            }
            State::Idle if line == "/end" => self.say("No session is running."),
            State::Idle => {}
        }
    }

    /// Something happened on the peer connection.
    pub fn handle_peer(&mut self, news: PeerNews) {
        let Some(session) = self.live_session() else {
            return;
        };
        match news {
            PeerNews::Signal(signal) => {
                self.commands
                    .push_back(Command::ToServer(AgentToServer::Signal {
                        session_id: session,
                        signal,
                    }))
            }
            PeerNews::Connected => {
                if let State::Live { expert, .. } = &self.state {
                    let line = format!(
                        "{expert} is now watching your screen. Type a message and press Enter to chat; /end ends the session."
                    );
                    self.say(line);
                }
            }
            PeerNews::Data(DataMessage::Chat { from, text }) => {
                self.say(format!("[{from}] {text}"));
            }
            PeerNews::Data(DataMessage::Bye) => {}
            PeerNews::Data(_) => {}
            PeerNews::Closed(reason) => {
                self.commands
                    .push_back(Command::ToServer(AgentToServer::HangUp {
                        session_id: session,
                    }));
                self.commands.push_back(Command::StopSharing);
                self.state = State::Idle;
                self.say(format!(
                    "The connection to your helper was lost ({reason})."
                ));
            }
        }
    }

    /// The pending question lapsed: no answer is a no.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let State::Asking { deadline, .. } = self.state {
            if now >= deadline {
                self.say("No answer in time: the request was declined.");
                self.answer(false);
            }
        }
    }

    fn answer(&mut self, yes: bool) {
        let State::Asking {
            session,
            expert,
            ice_servers,
            ..
        } = std::mem::replace(&mut self.state, State::Idle)
        else {
            return;
        };
        self.commands
            .push_back(Command::ToServer(AgentToServer::Consent {
                session_id: session,
                accept: yes,
            }));
        if yes {
            self.commands.push_back(Command::StartSharing {
                session,
                ice_servers,
            });
            self.say(format!("Connecting {expert} to your screen..."));
            self.state = State::Live { session, expert };
        } else {
            self.say(format!("You declined {expert}'s request."));
        }
    }

    fn end_by_novice(&mut self) {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Live { session, .. } => {
                self.commands.push_back(Command::ToExpert(DataMessage::Bye));
                self.commands
                    .push_back(Command::ToServer(AgentToServer::HangUp {
                        session_id: session,
                    }));
                self.commands.push_back(Command::StopSharing);
                self.say("You ended the session.");
            }
            State::Asking { session, .. } => {
                self.commands
                    .push_back(Command::ToServer(AgentToServer::Consent {
                        session_id: session,
                        accept: false,
                    }));
            }
            State::Idle => {}
        }
    }

    fn live_session(&self) -> Option<SessionId> {
        match self.state {
            State::Live { session, .. } => Some(session),
            _ => None,
        }
    }

    fn current_session(&self) -> Option<SessionId> {
        match self.state {
            State::Live { session, .. } | State::Asking { session, .. } => Some(session),
            State::Idle => None,
        }
    }
}

fn ended_line(reason: EndReason) -> String {
    let text = match reason {
        EndReason::ExpertHungUp => "Your helper ended the session.",
        EndReason::PeerGone => "Your helper's connection was lost; the session ended.",
        EndReason::ConsentTimeout => "The request lapsed without an answer.",
        EndReason::Revoked => "The invitation was expired; the session ended.",
        EndReason::ServerShutdown => "The server is shutting down; the session ended.",
        EndReason::Declined => "The request was declined.",
        EndReason::NoviceHungUp => "You ended the session.",
    };
    format!("Session ended: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: Duration = Duration::from_secs(60);

    fn drain(s: &mut Session) -> Vec<Command> {
        std::iter::from_fn(|| s.poll_command()).collect()
    }

    fn request(id: SessionId) -> ServerToAgent {
        ServerToAgent::SessionRequest {
            session_id: id,
            invitation_id: protocol::ids::InvitationId::new_random(),
            expert_name: "Bob".into(),
            ice_servers: vec![],
            answer_by: 0,
        }
    }

    fn asking() -> (Session, SessionId, Instant) {
        let mut s = Session::new("Alice");
        let id = SessionId::new_random();
        let t0 = Instant::now();
        s.handle_server(request(id), t0, ANSWER);
        (s, id, t0)
    }

    fn live() -> (Session, SessionId) {
        let (mut s, id, _) = asking();
        s.handle_line("y");
        drain(&mut s);
        (s, id)
    }

    fn starts_sharing(cmds: &[Command]) -> bool {
        cmds.iter()
            .any(|c| matches!(c, Command::StartSharing { .. }))
    }

    #[test]
    fn request_asks_the_novice_and_shares_nothing_yet() {
        let (mut s, _, t0) = asking();
        let cmds = drain(&mut s);
        assert!(
            matches!(&cmds[..], [Command::Ask(q)] if q.contains("Bob wants to see your screen. Allow? [y/N]"))
        );
        assert_eq!(s.poll_timeout(), Some(t0 + ANSWER));
        assert!(!s.is_live());
    }

    #[test]
    fn yes_accepts_and_starts_sharing() {
        let (mut s, id, _) = asking();
        drain(&mut s);
        s.handle_line(" Yes ");
        let cmds = drain(&mut s);
        assert_eq!(
            cmds[0],
            Command::ToServer(AgentToServer::Consent {
                session_id: id,
                accept: true
            })
        );
        assert!(starts_sharing(&cmds));
        assert!(s.is_live());
    }

    #[test]
    fn anything_but_yes_is_no() {
        for answer in ["n", "", "no", "maybe", "yy"] {
            let (mut s, id, _) = asking();
            drain(&mut s);
            s.handle_line(answer);
            let cmds = drain(&mut s);
            assert_eq!(
                cmds[0],
                Command::ToServer(AgentToServer::Consent {
                    session_id: id,
                    accept: false
                }),
                "{answer:?}"
            );
            assert!(!starts_sharing(&cmds));
            assert!(!s.is_live());
        }
    }

    #[test]
    fn silence_is_no() {
        let (mut s, id, t0) = asking();
        drain(&mut s);
        s.handle_timeout(t0 + ANSWER - Duration::from_millis(1));
        assert!(drain(&mut s).is_empty());
        s.handle_timeout(t0 + ANSWER);
        let cmds = drain(&mut s);
        assert!(cmds.contains(&Command::ToServer(AgentToServer::Consent {
            session_id: id,
            accept: false
        })));
        assert!(!starts_sharing(&cmds));
        // A late "y" after the deadline starts nothing.
        s.handle_line("y");
        assert!(!starts_sharing(&drain(&mut s)));
    }

    #[test]
    fn nothing_the_server_says_starts_sharing() {
        let mut s = Session::new("Alice");
        let id = SessionId::new_random();
        for msg in [
            ServerToAgent::Signal {
                session_id: id,
                signal: Signal::Offer { sdp: "x".into() },
            },
            ServerToAgent::Welcome {
                agent_name: "x".into(),
            },
            ServerToAgent::SessionEnded {
                session_id: id,
                reason: EndReason::Declined,
            },
        ] {
            s.handle_server(msg, Instant::now(), ANSWER);
        }
        s.handle_line("y");
        s.handle_peer(PeerNews::Connected);
        assert!(drain(&mut s).is_empty());
        assert!(!s.is_live());
    }

    #[test]
    fn a_second_request_is_declined_while_busy() {
        let (mut s, _) = live();
        let other = SessionId::new_random();
        s.handle_server(request(other), Instant::now(), ANSWER);
        let cmds = drain(&mut s);
        assert_eq!(
            cmds[0],
            Command::ToServer(AgentToServer::Consent {
                session_id: other,
                accept: false
            })
        );
        assert!(s.is_live());
    }

    #[test]
    fn chat_flows_both_ways_while_live() {
        let (mut s, _) = live();
        s.handle_line("hello Bob");
        assert_eq!(
            drain(&mut s),
            vec![Command::ToExpert(DataMessage::Chat {
                from: "Alice".into(),
                text: "hello Bob".into()
            })]
        );
        s.handle_peer(PeerNews::Data(DataMessage::Chat {
            from: "Bob".into(),
            text: "hi".into(),
        }));
        assert_eq!(drain(&mut s), vec![Command::Say("[Bob] hi".into())]);
    }

    #[test]
    fn signals_are_relayed_only_for_the_live_session() {
        let (mut s, id) = live();
        let sig = Signal::Answer { sdp: "a".into() };
        s.handle_server(
            ServerToAgent::Signal {
                session_id: SessionId::new_random(),
                signal: sig.clone(),
            },
            Instant::now(),
            ANSWER,
        );
        assert!(drain(&mut s).is_empty());
        s.handle_server(
            ServerToAgent::Signal {
                session_id: id,
                signal: sig.clone(),
            },
            Instant::now(),
            ANSWER,
        );
        assert_eq!(drain(&mut s), vec![Command::ToPeer(sig.clone())]);
        s.handle_peer(PeerNews::Signal(sig.clone()));
        assert_eq!(
            drain(&mut s),
            vec![Command::ToServer(AgentToServer::Signal {
                session_id: id,
                signal: sig
            })]
        );
    }

    #[test]
    fn novice_ends_with_slash_end() {
        let (mut s, id) = live();
        s.handle_line("/end");
        let cmds = drain(&mut s);
        assert!(cmds.contains(&Command::ToServer(AgentToServer::HangUp { session_id: id })));
        assert!(cmds.contains(&Command::StopSharing));
        assert!(!s.is_live());
    }

    #[test]
    fn expert_ending_stops_sharing() {
        let (mut s, id) = live();
        s.handle_server(
            ServerToAgent::SessionEnded {
                session_id: id,
                reason: EndReason::ExpertHungUp,
            },
            Instant::now(),
            ANSWER,
        );
        let cmds = drain(&mut s);
        assert_eq!(cmds[0], Command::StopSharing);
        assert!(matches!(&cmds[1], Command::Say(l) if l.contains("ended the session")));
        assert!(!s.is_live());
    }

    #[test]
    fn lost_peer_hangs_up() {
        let (mut s, id) = live();
        s.handle_peer(PeerNews::Closed("ICE failed".into()));
        let cmds = drain(&mut s);
        assert!(cmds.contains(&Command::ToServer(AgentToServer::HangUp { session_id: id })));
        assert!(cmds.contains(&Command::StopSharing));
    }

    #[test]
    fn quit_ends_everything() {
        let (mut s, id) = live();
        s.handle_line("/quit");
        let cmds = drain(&mut s);
        assert!(cmds.contains(&Command::ToServer(AgentToServer::HangUp { session_id: id })));
        assert_eq!(cmds.last(), Some(&Command::Quit));
    }
}
