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
//! declined at once: one helper at a time. A request marked `again` for the session already
//! asked about or live means the expert's page came back without proof that it is the same
//! browser: sharing stops and the novice is asked once more.
//!
//! While live, the session also tells the server what the dashboard shows: every change of
//! remote control (`AgentToServer::Control`) and the connection quality the driver measured
//! (`AgentToServer::Stats`, through [`Session::handle_stats`]).
//!
//! The agent judges each request by its own record of the invitation
//! ([`crate::invitation::record`]), not by the server's word: one that expired, was revoked, is
//! locked, or is no invitation of this program is refused before the novice is asked. Help a
//! support desk offers is only taken by an enrolled machine. After the novice's yes, nothing is
//! shared until the expert's browser passed the password check ([`crate::verify::Gate`]):
//! [`Command::ShareScreen`] lets frames out, and until then every message from the expert but
//! the check's own is dropped. A failed check is counted against the invitation, which locks
//! after [`MAX_FAILED_CHECKS`] ([`Command::ReportFailures`] tells the server), and ends the
//! session.

use crate::control::{Control, ControlCommand, StopReason};
use crate::frontend::notice::{DeskOffer, Notice, Refusal};
use crate::invitation::record::{Closed, HeldInvitation, Proof};
use crate::verify::{Gate, GateEvent, GateFailure};
use protocol::api::IceServer;
use protocol::data::{DataMessage, InputEvent};
use protocol::ids::{InvitationId, SessionId};
use protocol::signal::{AgentToServer, EndReason, ServerToAgent, SessionStats, Signal};
use protocol::text::clean;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// How long the novice has to answer when the server gives no usable deadline.
pub const DEFAULT_ANSWER_TIME: Duration = Duration::from_secs(60);

/// A side effect for the driver.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Something for the novice to read, or a question for them to answer.
    Tell(Notice),
    ToServer(AgentToServer),
    /// The novice said yes: create the WebRTC peer and start capturing.
    StartSharing {
        session: SessionId,
        ice_servers: Vec<IceServer>,
    },
    /// The expert's browser passed the password check (or needs none): frames may go out.
    ShareScreen,
    /// The novice paused sharing (`true`: no frame leaves, no input lands) or resumed it.
    Pause(bool),
    /// Tell the server how many password checks of `invitation` failed, and whether it is
    /// locked now.
    ReportFailures {
        invitation: InvitationId,
        failed_attempts: u32,
        locked: bool,
    },
    /// Negotiation from the expert, for the peer.
    ToPeer(Signal),
    /// A message for the expert on the data channel.
    ToExpert(DataMessage),
    /// Put the expert's input event on the desktop (control is granted).
    Inject(InputEvent),
    /// Release every key and button held down for the expert (control ended).
    ReleaseInput,
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
    /// The expert's browser answered without a video codec the agent can send.
    VideoUnsupported,
}

#[derive(Debug)]
enum State {
    Idle,
    Asking {
        session: SessionId,
        invitation: InvitationId,
        expert: String,
        ice_servers: Vec<IceServer>,
        deadline: Instant,
        proof: Proof,
    },
    Live {
        session: SessionId,
        invitation: InvitationId,
        expert: String,
        control: Box<Control>,
        gate: Box<Gate>,
        /// ICE and DTLS are up.
        connected: bool,
        /// The novice was told the expert is watching.
        announced: bool,
        /// The novice paused sharing.
        paused: bool,
    },
}

/// The novice's session state.
#[derive(Debug)]
pub struct Session {
    novice_name: String,
    /// Why remote control cannot work on this machine, if it cannot.
    control_unavailable: Option<String>,
    state: State,
    commands: VecDeque<Command>,
    /// The direct invitation this run exists for: once its expert declines, there is nothing
    /// left to wait for.
    direct: Option<InvitationId>,
    /// The invitations this program made, judged by the agent itself.
    held: HashMap<InvitationId, HeldInvitation>,
    /// Whether this machine is enrolled into a support desk, whose offers it then takes.
    serves_desk: bool,
    /// For the password check's secret scalars.
    rng: StdRng,
}

impl Session {
    pub fn new(novice_name: impl Into<String>) -> Self {
        Self {
            novice_name: novice_name.into(),
            control_unavailable: None,
            state: State::Idle,
            commands: VecDeque::new(),
            direct: None,
            held: HashMap::new(),
            serves_desk: false,
            rng: StdRng::from_entropy(),
        }
    }

    /// This program holds `invitation`: requests for it are judged by this record.
    pub fn holding(mut self, invitation: HeldInvitation) -> Self {
        self.held.insert(invitation.id, invitation);
        self
    }

    /// This program made `invitation` while running (in the window): requests for it are
    /// judged by this record from now on.
    pub fn hold(&mut self, invitation: HeldInvitation) {
        self.held.insert(invitation.id, invitation);
    }

    /// This machine is enrolled into a support desk: its operators' offers are put to the
    /// novice.
    pub fn serving_desk(mut self, serves_desk: bool) -> Self {
        self.serves_desk = serves_desk;
        self
    }

    /// Draws the password check's randomness from `rng` (tests make it repeatable).
    pub fn with_rng(mut self, rng: StdRng) -> Self {
        self.rng = rng;
        self
    }

    /// The novice revoked `invitation` (in another program of this machine): nobody comes in
    /// through it any more.
    pub fn handle_revoked(&mut self, invitation: InvitationId) {
        if let Some(held) = self.held.get_mut(&invitation) {
            held.handle_revoked();
        }
    }

    /// This run waits for the answer to the direct invitation `id`: a decline ends it.
    pub fn waiting_for_answer(mut self, id: InvitationId) -> Self {
        self.direct = Some(id);
        self
    }

    pub fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// When [`Session::handle_timeout`] has something to do next, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.state {
            State::Asking { deadline, .. } => Some(*deadline),
            State::Live { control, gate, .. } => {
                match (control.poll_timeout(), gate.poll_timeout()) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
            State::Idle => None,
        }
    }

    /// Remote control cannot work on this machine; the expert's requests are refused with `why`.
    pub fn set_control_unavailable(&mut self, why: impl Into<String>) {
        let why = why.into();
        self.with_control(|c| c.set_unavailable(why.clone()));
        self.control_unavailable = Some(why);
    }

    /// Whether the expert's input reaches the desktop right now.
    pub fn control_granted(&self) -> bool {
        matches!(&self.state, State::Live { control, .. } if control.is_granted())
    }

    /// Runs `f` on the live session's control, then turns what it wants done into commands.
    fn with_control(&mut self, f: impl FnOnce(&mut Control)) {
        let State::Live {
            control, session, ..
        } = &mut self.state
        else {
            return;
        };
        f(control);
        while let Some(cmd) = control.poll_command() {
            self.commands.push_back(match cmd {
                ControlCommand::Tell(notice) => Command::Tell(notice),
                ControlCommand::ToExpert(msg) => Command::ToExpert(msg),
                ControlCommand::Inject(event) => Command::Inject(event),
                ControlCommand::ReleaseAll => Command::ReleaseInput,
                ControlCommand::Changed(event) => Command::ToServer(AgentToServer::Control {
                    session_id: *session,
                    event,
                }),
            });
        }
    }

    /// The connection quality the driver measured over the last interval; reported to the
    /// server while the screen is shared, dropped otherwise.
    pub fn handle_stats(&mut self, stats: SessionStats) {
        if let Some(session_id) = self.live_session() {
            self.commands
                .push_back(Command::ToServer(AgentToServer::Stats {
                    session_id,
                    stats,
                }));
        }
    }

    /// The novice pressed Ctrl+C in the agent: stops remote control if it is on, else quits.
    pub fn handle_interrupt(&mut self) {
        let mut stopped = false;
        self.with_control(|c| stopped = c.stop(StopReason::CtrlC));
        if !stopped {
            self.quit();
        }
    }

    /// The display reported the Escape key going down or up, from the novice or injected.
    pub fn handle_local_escape(&mut self, down: bool, at: Instant) {
        self.with_control(|c| c.local_escape(down, at));
    }

    /// The expert's input aimed at the novice's own window and was dropped: the expert is told
    /// why nothing happened.
    pub fn handle_input_refused(&mut self) {
        if self.control_granted() {
            self.commands
                .push_back(Command::ToExpert(DataMessage::InputRefused));
        }
    }

    /// Whether the desktop is being shared right now.
    pub fn is_live(&self) -> bool {
        matches!(self.state, State::Live { .. })
    }

    fn tell(&mut self, notice: Notice) {
        self.commands.push_back(Command::Tell(notice));
    }

    /// A frame from the signaling server. `answer_time` is how long the novice gets to answer
    /// a request (the driver derives it from the server's deadline).
    pub fn handle_server(&mut self, msg: ServerToAgent, now: Instant, answer_time: Duration) {
        match msg {
            ServerToAgent::SessionRequest {
                session_id,
                invitation_id,
                expert_name,
                ice_servers,
                offered_by_desk,
                again,
                ..
            } => {
                // Names from the server are shown on the novice's terminal: nothing in them may
                // act on it or hide what it says.
                let expert_name = clean(&expert_name);
                let offered_by_desk = offered_by_desk.as_deref().map(clean);
                let mine = self.current_session() == Some(session_id);
                if mine && !again {
                    // The same request once more (the agent reconnected): already on screen.
                    return;
                }
                if mine {
                    if self.is_live() {
                        self.with_control(Control::end);
                        self.commands.push_back(Command::StopSharing);
                    }
                    self.state = State::Idle;
                    self.tell(Notice::BrowserNotProven {
                        expert: expert_name.clone(),
                    });
                }
                if !matches!(self.state, State::Idle) {
                    self.commands
                        .push_back(Command::ToServer(AgentToServer::Consent {
                            session_id,
                            accept: false,
                        }));
                    self.tell(Notice::AlsoAsked {
                        expert: expert_name,
                    });
                    return;
                }
                // The agent's own record decides, before the novice is bothered.
                let proof = match self.judge(invitation_id, offered_by_desk.is_some(), now) {
                    Ok(proof) => proof,
                    Err(closed) => {
                        self.commands
                            .push_back(Command::ToServer(AgentToServer::HangUp {
                                session_id,
                                reason: Some(EndReason::InvitationClosed),
                            }));
                        let why = if offered_by_desk.is_some() {
                            Refusal::NotEnrolled
                        } else {
                            Refusal::Closed(closed)
                        };
                        self.tell(Notice::RefusedUnasked {
                            expert: expert_name,
                            why,
                        });
                        return;
                    }
                };
                let offered_by = offered_by_desk.map(|desk| DeskOffer {
                    operator: operator_name(&expert_name, &desk).to_owned(),
                    desk,
                });
                self.tell(Notice::WantsToSee {
                    session: session_id,
                    expert: expert_name.clone(),
                    offered_by,
                    answer_time,
                    deadline: now + answer_time,
                });
                self.state = State::Asking {
                    session: session_id,
                    invitation: invitation_id,
                    expert: expert_name,
                    ice_servers,
                    deadline: now + answer_time,
                    proof,
                };
            }
            ServerToAgent::Signal { session_id, signal } => {
                if self.live_session() == Some(session_id) {
                    if let (State::Live { gate, .. }, Signal::Answer { sdp }) =
                        (&mut self.state, &signal)
                    {
                        gate.handle_answer(sdp);
                    }
                    self.commands.push_back(Command::ToPeer(signal));
                }
            }
            ServerToAgent::SessionEnded { session_id, reason } => {
                if self.current_session() != Some(session_id) {
                    return;
                }
                if self.is_live() {
                    self.with_control(Control::end);
                    self.commands.push_back(Command::StopSharing);
                }
                self.state = State::Idle;
                self.tell(Notice::SessionEnded(reason));
            }
            ServerToAgent::InvitationDeclined {
                invitation_id,
                expert_name,
            } => {
                let nothing_left =
                    self.direct == Some(invitation_id) && matches!(self.state, State::Idle);
                self.tell(Notice::InvitationDeclined {
                    expert: clean(&expert_name),
                    nothing_left,
                });
                if nothing_left {
                    self.commands.push_back(Command::Quit);
                }
            }
            ServerToAgent::Welcome { .. }
            | ServerToAgent::Pong
            | ServerToAgent::Error { .. }
            | ServerToAgent::ControlRecorded { .. } => {}
        }
    }

    /// A line the novice typed at the terminal: the answer to the question asked, a command
    /// (`/quit`, `/end`, `/stop`), or chat.
    pub fn handle_line(&mut self, line: &str) {
        let line = line.trim();
        if line == "/quit" {
            self.quit();
            return;
        }
        match &self.state {
            State::Asking { session, .. } => {
                let session = *session;
                self.answer_to_see(session, is_yes(line));
            }
            State::Live { control, .. } if control.is_asking() => {
                self.answer_to_control(is_yes(line));
            }
            State::Live { .. } if line == "/end" => self.end_session(),
            State::Live { .. } if line == "/stop" => self.stop_control(),
            State::Live { .. } if line == "/pause" => self.pause_sharing(),
            State::Live { .. } if line == "/resume" => self.resume_sharing(),
            State::Live { .. } if line.is_empty() => {}
            State::Live { .. } => self.chat(line),
            State::Idle if line == "/end" || line == "/stop" => self.tell(Notice::NoSession),
            State::Idle => {}
        }
    }

    /// The novice's answer to the request to see the screen of `session`; nothing when that
    /// request is no longer the one asked.
    pub fn answer_to_see(&mut self, session: SessionId, yes: bool) {
        if matches!(&self.state, State::Asking { session: asked, .. } if *asked == session) {
            self.answer(yes);
        }
    }

    /// The novice's answer to the request for control; nothing when none is asked.
    pub fn answer_to_control(&mut self, yes: bool) {
        if matches!(&self.state, State::Live { control, .. } if control.is_asking()) {
            self.with_control(|c| c.answer(yes));
        }
    }

    /// The novice takes control back (`/stop`, the Stop control button).
    pub fn stop_control(&mut self) {
        match &self.state {
            State::Live { control, .. } if control.is_granted() => self.with_control(|c| {
                c.stop(StopReason::StopCommand);
            }),
            State::Live { .. } => self.tell(Notice::NobodyControls),
            _ => self.tell(Notice::NoSession),
        }
    }

    /// The novice ends the session (`/end`, End session).
    pub fn end_session(&mut self) {
        if self.is_live() {
            self.end_by_novice();
        } else {
            self.tell(Notice::NoSession);
        }
    }

    /// A chat message from the novice for the expert; not sent before the expert's browser
    /// passed the password check.
    pub fn chat(&mut self, text: &str) {
        let text = text.trim();
        match &self.state {
            _ if text.is_empty() => {}
            State::Live { gate, .. } if !gate.is_verified() => self.tell(Notice::ChatNotSent),
            State::Live { .. } => {
                self.commands
                    .push_back(Command::ToExpert(DataMessage::Chat {
                        from: self.novice_name.clone(),
                        text: text.to_owned(),
                    }));
            }
            _ => self.tell(Notice::NoSession),
        }
    }

    /// The novice pauses sharing: control is taken back first (the expert would work blind),
    /// then no frame leaves until [`Session::resume_sharing`]; the expert is told.
    pub fn pause_sharing(&mut self) {
        self.set_paused(true);
    }

    /// The novice resumes sharing after [`Session::pause_sharing`].
    pub fn resume_sharing(&mut self) {
        self.set_paused(false);
    }

    fn set_paused(&mut self, pause: bool) {
        let State::Live { gate, paused, .. } = &self.state else {
            self.tell(Notice::NoSession);
            return;
        };
        if *paused == pause || !gate.is_verified() {
            return;
        }
        if pause {
            self.with_control(|c| {
                c.stop(StopReason::StopCommand);
            });
        }
        if let State::Live { paused, .. } = &mut self.state {
            *paused = pause;
        }
        self.commands.push_back(Command::Pause(pause));
        self.commands
            .push_back(Command::ToExpert(DataMessage::Sharing { paused: pause }));
        self.tell(Notice::Paused(pause));
    }

    /// The novice quits the agent: a running session ends, a pending request is declined.
    pub fn quit(&mut self) {
        self.end_by_novice();
        self.commands.push_back(Command::Quit);
    }

    /// Something happened on the peer connection.
    pub fn handle_peer(&mut self, news: PeerNews, now: Instant) {
        let Some(session) = self.live_session() else {
            return;
        };
        // The password check's own messages go to the gate; nothing else from the expert counts
        // before it passed.
        if let (PeerNews::Data(message), State::Live { gate, .. }) = (&news, &mut self.state) {
            if gate.handle_message(message, &mut self.rng) {
                self.drain_gate();
                return;
            }
            if !gate.is_verified() {
                tracing::debug!("dropped a message from the expert before the password check");
                return;
            }
        }
        match news {
            PeerNews::Signal(signal) => {
                if let (State::Live { gate, .. }, Signal::Offer { sdp }) =
                    (&mut self.state, &signal)
                {
                    gate.handle_offer(sdp, now);
                }
                self.commands
                    .push_back(Command::ToServer(AgentToServer::Signal {
                        session_id: session,
                        signal,
                    }))
            }
            PeerNews::Connected => {
                if let State::Live { connected, .. } = &mut self.state {
                    *connected = true;
                }
                self.announce();
            }
            // Shown under the name the novice accepted, whatever the message claims.
            PeerNews::Data(DataMessage::Chat { text, .. }) => {
                if let State::Live { expert, .. } = &self.state {
                    let notice = Notice::Chat {
                        from: expert.clone(),
                        text: clean(&text),
                    };
                    self.tell(notice);
                }
            }
            PeerNews::Data(DataMessage::ControlRequest) => self.with_control(|c| c.request(now)),
            PeerNews::Data(DataMessage::ControlRelease) => self.with_control(|c| {
                c.stop(StopReason::ExpertReleased);
            }),
            PeerNews::Data(DataMessage::Input { event }) => {
                self.with_control(|c| c.input(event, now))
            }
            // Only the agent speaks about control and the pointer; the server sees the session
            // end on its own.
            // The check's messages went to the gate above.
            PeerNews::Data(
                DataMessage::Control { .. }
                | DataMessage::Bye
                | DataMessage::Screen { .. }
                | DataMessage::Sharing { .. }
                | DataMessage::InputRefused
                | DataMessage::PointerShape { .. }
                | DataMessage::Pointer { .. }
                | DataMessage::Pake { .. }
                | DataMessage::PakeConfirm { .. }
                | DataMessage::PakeResult { .. },
            ) => {}
            PeerNews::VideoUnsupported => {
                self.with_control(Control::end);
                self.commands
                    .push_back(Command::ToServer(AgentToServer::HangUp {
                        session_id: session,
                        reason: Some(EndReason::VideoUnsupported),
                    }));
                self.commands.push_back(Command::StopSharing);
                self.state = State::Idle;
                self.tell(Notice::VideoUnsupported);
            }
            PeerNews::Closed(reason) => {
                self.with_control(Control::end);
                self.commands
                    .push_back(Command::ToServer(AgentToServer::HangUp {
                        session_id: session,
                        reason: None,
                    }));
                self.commands.push_back(Command::StopSharing);
                self.state = State::Idle;
                self.tell(Notice::ConnectionLost { reason });
            }
        }
    }

    /// A deadline passed: an unanswered request is a no; a held Esc stops control.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let State::Asking { deadline, .. } = self.state {
            if now >= deadline {
                self.tell(Notice::NoAnswerInTime { control: false });
                self.answer(false);
            }
        }
        if let State::Live { gate, .. } = &mut self.state {
            gate.handle_timeout(now);
            self.drain_gate();
        }
        self.with_control(|c| c.handle_timeout(now));
    }

    /// Whether anyone may come in through `invitation` now, and how they prove who they are;
    /// `desk` when a support desk offers help unasked.
    fn judge(&self, invitation: InvitationId, desk: bool, now: Instant) -> Result<Proof, Closed> {
        if desk {
            // The desk's operator is who the server says: that is what enrolling trusts it for.
            return if self.serves_desk {
                Ok(Proof::ServerVouched)
            } else {
                Err(Closed::Unknown)
            };
        }
        let held = self.held.get(&invitation).ok_or(Closed::Unknown)?;
        held.check_open(now)?;
        Ok(held.proof().clone())
    }

    /// Tells the novice the expert watches, once the connection is up and the check passed.
    fn announce(&mut self) {
        if let State::Live {
            expert,
            gate,
            connected: true,
            announced: announced @ false,
            ..
        } = &mut self.state
        {
            if gate.is_verified() {
                *announced = true;
                let notice = Notice::Watching {
                    expert: expert.clone(),
                };
                self.commands.push_back(Command::Tell(notice));
            }
        }
    }

    /// Carries out what the password check wants.
    fn drain_gate(&mut self) {
        loop {
            let State::Live { gate, .. } = &mut self.state else {
                return;
            };
            let Some(event) = gate.poll_event() else {
                return;
            };
            match event {
                GateEvent::ToExpert(message) => self.commands.push_back(Command::ToExpert(message)),
                GateEvent::Verified => {
                    self.commands
                        .push_back(Command::ToExpert(DataMessage::PakeResult {
                            ok: true,
                            reason: None,
                            tries_left: None,
                        }));
                    self.commands.push_back(Command::ShareScreen);
                    self.announce();
                }
                GateEvent::Failed(failure) => self.check_failed(failure),
            }
        }
    }

    /// The password check failed: counted when it was a guess, and the session ends with
    /// nothing shared.
    fn check_failed(&mut self, failure: GateFailure) {
        let State::Live {
            session,
            invitation,
            expert,
            ..
        } = std::mem::replace(&mut self.state, State::Idle)
        else {
            return;
        };
        let counted = if failure.counts() {
            self.held
                .get_mut(&invitation)
                .map(|held| held.handle_failed_check())
        } else {
            None
        };
        self.commands
            .push_back(Command::ToExpert(DataMessage::PakeResult {
                ok: false,
                reason: Some(failure.refusal()),
                tries_left: counted.map(|c| c.tries_left),
            }));
        if let Some(c) = counted {
            self.commands.push_back(Command::ReportFailures {
                invitation,
                failed_attempts: c.failures,
                locked: c.tries_left == 0,
            });
        }
        self.commands
            .push_back(Command::ToServer(AgentToServer::HangUp {
                session_id: session,
                reason: Some(EndReason::PasswordMismatch),
            }));
        self.commands.push_back(Command::StopSharing);
        self.tell(Notice::CheckFailed {
            expert,
            failure,
            tries_left: counted.map(|c| c.tries_left),
        });
    }

    fn answer(&mut self, yes: bool) {
        let State::Asking {
            session,
            invitation,
            expert,
            ice_servers,
            proof,
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
            self.tell(Notice::Connecting {
                expert: expert.clone(),
            });
            let control = Control::new(self.novice_name.clone(), expert.clone());
            let mut control = Box::new(control);
            if let Some(why) = &self.control_unavailable {
                control.set_unavailable(why.clone());
            }
            let gate = Box::new(Gate::new(&proof, session));
            let verified = gate.is_verified();
            self.state = State::Live {
                session,
                invitation,
                expert,
                control,
                gate,
                connected: false,
                announced: false,
                paused: false,
            };
            if verified {
                // Nothing to check: the server vouches for who comes in (a support desk).
                self.commands.push_back(Command::ShareScreen);
            }
        } else {
            self.tell(Notice::YouDeclined {
                expert,
                control: false,
            });
        }
    }

    fn end_by_novice(&mut self) {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Live {
                session, control, ..
            } => {
                if control.is_granted() {
                    self.commands.push_back(Command::ReleaseInput);
                }
                self.commands.push_back(Command::ToExpert(DataMessage::Bye));
                self.commands
                    .push_back(Command::ToServer(AgentToServer::HangUp {
                        session_id: session,
                        reason: None,
                    }));
                self.commands.push_back(Command::StopSharing);
                self.tell(Notice::YouEnded);
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

/// The operator's own name in `expert_name`, which the server writes as
/// `"<operator> (<desk> support desk)"` for help a desk offers; the whole text otherwise.
fn operator_name<'a>(expert_name: &'a str, desk: &str) -> &'a str {
    let suffix = format!(" ({desk} support desk)");
    expert_name
        .strip_suffix(suffix.as_str())
        .filter(|name| !name.trim().is_empty())
        .unwrap_or(expert_name)
}

/// Whether a typed answer is a yes; anything else, silence included, is a no.
fn is_yes(line: &str) -> bool {
    matches!(line.to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: Duration = Duration::from_secs(60);

    /// The invitation the tests' experts open.
    fn inv() -> InvitationId {
        "0b6f2a64-4f7e-4b3c-9a57-0d2c1c9a1e11"
            .parse()
            .expect("a UUID")
    }

    /// A session holding [`inv`] as a direct invitation: its expert needs no password check,
    /// so the tests of consent and control see sharing start with the novice's yes.
    fn session() -> Session {
        Session::new("Alice").holding(HeldInvitation::direct(
            inv(),
            Instant::now() + Duration::from_secs(3600),
        ))
    }

    fn drain(s: &mut Session) -> Vec<Command> {
        std::iter::from_fn(|| s.poll_command()).collect()
    }

    fn request(id: SessionId) -> ServerToAgent {
        request_from(id, "Bob")
    }

    fn request_from(id: SessionId, expert_name: &str) -> ServerToAgent {
        ServerToAgent::SessionRequest {
            session_id: id,
            invitation_id: inv(),
            expert_name: expert_name.into(),
            ice_servers: vec![],
            answer_by: 0,
            offered_by_desk: None,
            again: false,
        }
    }

    #[test]
    fn a_declined_direct_invitation_is_told_and_ends_the_wait() {
        let id = protocol::ids::InvitationId::new_random();
        let mut s = Session::new("Alice").waiting_for_answer(id);
        let declined = |invitation_id| ServerToAgent::InvitationDeclined {
            invitation_id,
            expert_name: "Bob (Acme support desk)".into(),
        };
        // A decline of some other invitation is news, not the end.
        s.handle_server(
            declined(protocol::ids::InvitationId::new_random()),
            Instant::now(),
            ANSWER,
        );
        let cmds = drain(&mut s);
        assert!(
            matches!(&cmds[..], [Command::Tell(n)] if n.to_string() == "Bob (Acme support desk) declined your invitation.")
        );
        s.handle_server(declined(id), Instant::now(), ANSWER);
        let cmds = drain(&mut s);
        assert!(matches!(cmds.last(), Some(Command::Quit)), "{cmds:?}");
    }

    fn asking() -> (Session, SessionId, Instant) {
        let mut s = session();
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
            matches!(&cmds[..], [Command::Tell(q)] if q.is_question() && q.to_string().contains("Bob wants to see your screen. Allow? [y/N]"))
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
        let mut s = session();
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
        s.handle_peer(PeerNews::Connected, Instant::now());
        assert!(drain(&mut s).is_empty());
        assert!(!s.is_live());
    }

    #[test]
    fn a_page_back_without_proof_stops_sharing_and_the_novice_is_asked_again() {
        let (mut s, id) = live();
        let mut again = request(id);
        if let ServerToAgent::SessionRequest { again: a, .. } = &mut again {
            *a = true;
        }
        let t1 = Instant::now();
        s.handle_server(again, t1, ANSWER);
        let cmds = drain(&mut s);
        assert!(cmds.contains(&Command::StopSharing), "{cmds:?}");
        assert!(!s.is_live());
        assert!(
            !cmds.iter().any(|c| matches!(
                c,
                Command::ToServer(AgentToServer::Consent { accept: false, .. })
            )),
            "not declined as a second helper: {cmds:?}"
        );
        assert!(
            matches!(cmds.last(), Some(Command::Tell(q)) if q.is_question() && q.to_string().contains("Bob wants to see your screen"))
        );
        // Only a new yes shares again.
        s.handle_line("y");
        let cmds = drain(&mut s);
        assert!(cmds.contains(&Command::ToServer(AgentToServer::Consent {
            session_id: id,
            accept: true
        })));
        assert!(starts_sharing(&cmds));
    }

    #[test]
    fn the_same_request_heard_twice_is_asked_once() {
        let (mut s, id, _) = asking();
        drain(&mut s);
        s.handle_server(request(id), Instant::now(), ANSWER);
        assert_eq!(drain(&mut s), vec![]);
        s.handle_line("y");
        assert!(starts_sharing(&drain(&mut s)));
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
    fn names_and_chat_from_others_reach_the_terminal_without_controls() {
        let mut s = session();
        let id = SessionId::new_random();
        s.handle_server(
            request_from(id, "Bob\u{1b}[2J\u{202e}\r\nYou allowed"),
            Instant::now(),
            ANSWER,
        );
        let cmds = drain(&mut s);
        let Some(Command::Tell(question)) = cmds
            .first()
            .filter(|c| matches!(c, Command::Tell(q) if q.is_question()))
        else {
            panic!("expected a question, got {cmds:?}");
        };
        let question = question.to_string();
        assert!(
            question.starts_with("Bob  You allowed wants to see"),
            "{question}"
        );
        s.handle_line("y");
        drain(&mut s);
        s.handle_peer(
            PeerNews::Data(DataMessage::Chat {
                from: "Bob".into(),
                text: "hi\u{1b}]52;c;ZXZpbA==\u{7}\nSession ended: \u{200b}ok".into(),
            }),
            Instant::now(),
        );
        let said = drain(&mut s);
        let Some(Command::Tell(line)) = said.first() else {
            panic!("expected a chat line, got {said:?}");
        };
        assert_eq!(line.to_string(), "[Bob  You allowed] hi Session ended: ok");
    }

    #[test]
    fn pausing_takes_control_back_hides_the_screen_and_tells_the_expert() {
        let (mut s, _) = live();
        let now = Instant::now();
        s.handle_peer(PeerNews::Data(DataMessage::ControlRequest), now);
        s.answer_to_control(true);
        drain(&mut s);
        assert!(s.control_granted());
        s.pause_sharing();
        let cmds = drain(&mut s);
        assert!(!s.control_granted(), "control stops first");
        assert!(cmds.contains(&Command::ReleaseInput), "{cmds:?}");
        assert!(cmds.contains(&Command::Pause(true)), "{cmds:?}");
        assert!(cmds.contains(&Command::ToExpert(DataMessage::Sharing { paused: true })));
        assert!(cmds.contains(&Command::Tell(Notice::Paused(true))));
        // Pausing twice changes nothing; resuming shows the screen again.
        s.pause_sharing();
        assert!(drain(&mut s).is_empty());
        s.resume_sharing();
        let cmds = drain(&mut s);
        assert!(cmds.contains(&Command::Pause(false)), "{cmds:?}");
        assert!(cmds.contains(&Command::ToExpert(DataMessage::Sharing { paused: false })));
    }

    #[test]
    fn input_refused_at_the_novices_window_is_explained_to_a_controlling_expert_only() {
        let (mut s, _) = live();
        s.handle_input_refused();
        assert!(drain(&mut s).is_empty(), "nobody controls");
        s.handle_peer(PeerNews::Data(DataMessage::ControlRequest), Instant::now());
        s.answer_to_control(true);
        drain(&mut s);
        s.handle_input_refused();
        assert_eq!(
            drain(&mut s),
            vec![Command::ToExpert(DataMessage::InputRefused)]
        );
    }

    #[test]
    fn an_answer_for_another_request_answers_nothing() {
        let (mut s, _, _) = asking();
        drain(&mut s);
        let other: SessionId = "00000000-0000-4000-8000-000000000001"
            .parse()
            .expect("a UUID");
        s.answer_to_see(other, true);
        assert!(drain(&mut s).is_empty());
        assert!(!s.is_live());
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
        s.handle_peer(
            PeerNews::Data(DataMessage::Chat {
                from: "Bob".into(),
                text: "hi".into(),
            }),
            Instant::now(),
        );
        assert_eq!(
            drain(&mut s),
            vec![Command::Tell(Notice::Chat {
                from: "Bob".into(),
                text: "hi".into()
            })]
        );
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
        s.handle_peer(PeerNews::Signal(sig.clone()), Instant::now());
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
        assert!(cmds.contains(&Command::ToServer(AgentToServer::HangUp {
            session_id: id,
            reason: None
        })));
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
        assert!(
            matches!(&cmds[1], Command::Tell(l) if l.to_string().contains("ended the session"))
        );
        assert!(!s.is_live());
    }

    #[test]
    fn lost_peer_hangs_up() {
        let (mut s, id) = live();
        s.handle_peer(PeerNews::Closed("ICE failed".into()), Instant::now());
        let cmds = drain(&mut s);
        assert!(cmds.contains(&Command::ToServer(AgentToServer::HangUp {
            session_id: id,
            reason: None
        })));
        assert!(cmds.contains(&Command::StopSharing));
    }

    #[test]
    fn a_browser_without_our_codecs_ends_the_session_saying_why_to_both() {
        let (mut s, id) = live();
        s.handle_peer(PeerNews::VideoUnsupported, Instant::now());
        let cmds = drain(&mut s);
        assert!(cmds.contains(&Command::ToServer(AgentToServer::HangUp {
            session_id: id,
            reason: Some(EndReason::VideoUnsupported),
        })));
        assert!(cmds.contains(&Command::StopSharing));
        assert!(cmds
            .iter()
            .any(|c| matches!(c, Command::Tell(line) if line.to_string().contains("neither H.264 nor VP8"))));
        assert!(!s.is_live());
    }

    #[test]
    fn quit_ends_everything() {
        let (mut s, id) = live();
        s.handle_line("/quit");
        let cmds = drain(&mut s);
        assert!(cmds.contains(&Command::ToServer(AgentToServer::HangUp {
            session_id: id,
            reason: None
        })));
        assert_eq!(cmds.last(), Some(&Command::Quit));
    }

    fn click() -> InputEvent {
        InputEvent::Move { x: 5, y: 6 }
    }

    fn expert_says(s: &mut Session, msg: DataMessage) -> Vec<Command> {
        s.handle_peer(PeerNews::Data(msg), Instant::now());
        drain(s)
    }

    fn control_state(cmds: &[Command]) -> Option<protocol::data::ControlState> {
        cmds.iter().find_map(|c| match c {
            Command::ToExpert(DataMessage::Control { state, .. }) => Some(*state),
            _ => None,
        })
    }

    fn granted_control() -> (Session, SessionId) {
        let (mut s, id) = live();
        expert_says(&mut s, DataMessage::ControlRequest);
        s.handle_line("y");
        drain(&mut s);
        assert!(s.control_granted());
        (s, id)
    }

    #[test]
    fn control_is_asked_for_and_only_then_input_is_injected() {
        let (mut s, _) = live();
        let cmds = expert_says(&mut s, DataMessage::Input { event: click() });
        assert!(
            cmds.is_empty(),
            "input before any grant is dropped: {cmds:?}"
        );

        let cmds = expert_says(&mut s, DataMessage::ControlRequest);
        assert!(cmds.iter().any(
            |c| matches!(c, Command::Tell(q) if q.is_question() && q.to_string().contains("Bob wants to control your computer"))
        ));
        assert_eq!(
            control_state(&cmds),
            Some(protocol::data::ControlState::Pending)
        );
        assert!(expert_says(&mut s, DataMessage::Input { event: click() }).is_empty());

        // While the question is open, the next line answers it rather than being chat.
        s.handle_line("yes");
        let cmds = drain(&mut s);
        assert_eq!(
            control_state(&cmds),
            Some(protocol::data::ControlState::Granted)
        );
        assert!(!cmds
            .iter()
            .any(|c| matches!(c, Command::ToExpert(DataMessage::Chat { .. }))));
        let cmds = expert_says(&mut s, DataMessage::Input { event: click() });
        assert_eq!(cmds, vec![Command::Inject(click())]);
    }

    #[test]
    fn a_no_to_control_keeps_the_session_view_only() {
        let (mut s, _) = live();
        expert_says(&mut s, DataMessage::ControlRequest);
        s.handle_line("n");
        let cmds = drain(&mut s);
        assert_eq!(
            control_state(&cmds),
            Some(protocol::data::ControlState::Refused)
        );
        assert!(s.is_live() && !s.control_granted());
        assert!(expert_says(&mut s, DataMessage::Input { event: click() }).is_empty());
        // Chat still works.
        s.handle_line("hello");
        assert!(matches!(
            drain(&mut s).as_slice(),
            [Command::ToExpert(DataMessage::Chat { .. })]
        ));
    }

    #[test]
    fn slash_stop_and_ctrl_c_stop_control_but_keep_the_session() {
        let (mut s, _) = granted_control();
        s.handle_line("/stop");
        let cmds = drain(&mut s);
        assert_eq!(cmds.first(), Some(&Command::ReleaseInput));
        assert_eq!(
            control_state(&cmds),
            Some(protocol::data::ControlState::Stopped)
        );
        assert!(s.is_live() && !s.control_granted());

        let (mut s, _) = granted_control();
        s.handle_interrupt();
        let cmds = drain(&mut s);
        assert_eq!(cmds.first(), Some(&Command::ReleaseInput));
        assert!(s.is_live() && !s.control_granted());
        assert!(!cmds.contains(&Command::Quit));
        // A second Ctrl+C, with nothing to stop, quits.
        s.handle_interrupt();
        assert!(drain(&mut s).contains(&Command::Quit));
    }

    #[test]
    fn the_novices_held_escape_stops_control() {
        let (mut s, _) = granted_control();
        let now = Instant::now();
        s.handle_local_escape(true, now);
        let deadline = s.poll_timeout().expect("a hold deadline");
        s.handle_timeout(deadline);
        let cmds = drain(&mut s);
        assert_eq!(
            control_state(&cmds),
            Some(protocol::data::ControlState::Stopped)
        );
        assert!(s.is_live() && !s.control_granted());
    }

    #[test]
    fn the_experts_escape_is_injected_and_does_not_stop_control() {
        let (mut s, _) = granted_control();
        let esc = InputEvent::Key {
            key: "Escape".into(),
            down: true,
        };
        let cmds = expert_says(&mut s, DataMessage::Input { event: esc.clone() });
        assert_eq!(cmds, vec![Command::Inject(esc)]);
        s.handle_local_escape(true, Instant::now());
        assert_eq!(s.poll_timeout(), None);
        assert!(s.control_granted());
    }

    #[test]
    fn the_session_ending_under_control_releases_keys_before_stopping() {
        let (mut s, id) = granted_control();
        s.handle_server(
            ServerToAgent::SessionEnded {
                session_id: id,
                reason: EndReason::ExpertHungUp,
            },
            Instant::now(),
            ANSWER,
        );
        let cmds = drain(&mut s);
        assert_eq!(&cmds[..2], &[Command::ReleaseInput, Command::StopSharing]);

        let (mut s, _) = granted_control();
        s.handle_line("/end");
        assert_eq!(drain(&mut s).first(), Some(&Command::ReleaseInput));
    }

    #[test]
    fn control_is_refused_where_input_cannot_be_injected() {
        let (mut s, _) = live();
        s.set_control_unavailable("no XTest extension");
        let cmds = expert_says(&mut s, DataMessage::ControlRequest);
        assert_eq!(
            control_state(&cmds),
            Some(protocol::data::ControlState::Refused)
        );
        assert!(!cmds
            .iter()
            .any(|c| matches!(c, Command::Tell(n) if n.is_question())));
    }

    #[test]
    fn chat_is_shown_under_the_accepted_name() {
        let (mut s, _) = live();
        let cmds = expert_says(
            &mut s,
            DataMessage::Chat {
                from: "Your bank".into(),
                text: "hi".into(),
            },
        );
        assert_eq!(
            cmds,
            vec![Command::Tell(Notice::Chat {
                from: "Bob".into(),
                text: "hi".into()
            })]
        );
    }

    fn to_server(cmds: &[Command]) -> Vec<AgentToServer> {
        cmds.iter()
            .filter_map(|c| match c {
                Command::ToServer(msg) => Some(msg.clone()),
                _ => None,
            })
            .collect()
    }

    fn control_event(id: SessionId, event: protocol::signal::ControlEvent) -> AgentToServer {
        AgentToServer::Control {
            session_id: id,
            event,
        }
    }

    #[test]
    fn the_server_hears_every_change_of_control() {
        use protocol::signal::ControlEvent::{Granted, Refused, Requested, Stopped};
        let (mut s, id) = live();
        let cmds = expert_says(&mut s, DataMessage::ControlRequest);
        assert_eq!(to_server(&cmds), vec![control_event(id, Requested)]);
        // A repeated request is no change.
        let cmds = expert_says(&mut s, DataMessage::ControlRequest);
        assert!(to_server(&cmds).is_empty());
        s.handle_line("y");
        assert_eq!(to_server(&drain(&mut s)), vec![control_event(id, Granted)]);
        s.handle_line("/stop");
        assert_eq!(to_server(&drain(&mut s)), vec![control_event(id, Stopped)]);

        expert_says(&mut s, DataMessage::ControlRequest);
        s.handle_line("n");
        assert_eq!(to_server(&drain(&mut s)), vec![control_event(id, Refused)]);

        // The expert giving control back is a stop too.
        expert_says(&mut s, DataMessage::ControlRequest);
        s.handle_line("y");
        drain(&mut s);
        let cmds = expert_says(&mut s, DataMessage::ControlRelease);
        assert_eq!(to_server(&cmds), vec![control_event(id, Stopped)]);

        // Silence is a refusal.
        let now = Instant::now();
        s.handle_peer(PeerNews::Data(DataMessage::ControlRequest), now);
        drain(&mut s);
        s.handle_timeout(now + crate::control::state::ANSWER_TIME);
        assert_eq!(to_server(&drain(&mut s)), vec![control_event(id, Refused)]);
    }

    #[test]
    fn control_that_cannot_work_is_reported_asked_and_refused() {
        use protocol::signal::ControlEvent::{Refused, Requested};
        let (mut s, id) = live();
        s.set_control_unavailable("no XTest extension");
        let cmds = expert_says(&mut s, DataMessage::ControlRequest);
        assert_eq!(
            to_server(&cmds),
            vec![control_event(id, Requested), control_event(id, Refused)]
        );
    }

    #[test]
    fn help_offered_by_a_desk_names_the_operator_and_the_desk() {
        let mut s = Session::new("Alice").serving_desk(true);
        let id = SessionId::new_random();
        s.handle_server(
            ServerToAgent::SessionRequest {
                session_id: id,
                invitation_id: protocol::ids::InvitationId::new_random(),
                expert_name: "Carol (Acme support desk)".into(),
                ice_servers: vec![],
                answer_by: 0,
                offered_by_desk: Some("Acme".into()),
                again: false,
            },
            Instant::now(),
            ANSWER,
        );
        assert_eq!(
            drain(&mut s).iter().map(|c| match c {
                Command::Tell(n) => n.to_string(),
                other => format!("{other:?}"),
            }).collect::<Vec<_>>(),
            vec!["Carol from the Acme support desk offers to help you. Let them see your screen? [y/N] (60 s to answer)".to_string()]
        );
        // The answer works as for an invitation, and chat shows the name the server gave.
        s.handle_line("y");
        assert!(starts_sharing(&drain(&mut s)));
        s.handle_peer(
            PeerNews::Data(DataMessage::Chat {
                from: "x".into(),
                text: "hi".into(),
            }),
            Instant::now(),
        );
        assert_eq!(
            drain(&mut s),
            vec![Command::Tell(Notice::Chat {
                from: "Carol (Acme support desk)".into(),
                text: "hi".into()
            })]
        );
    }

    #[test]
    fn an_offer_under_an_unexpected_name_shows_the_name_whole() {
        assert_eq!(operator_name("Carol (Acme support desk)", "Acme"), "Carol");
        assert_eq!(operator_name("Carol", "Acme"), "Carol");
        assert_eq!(
            operator_name("Carol (Other support desk)", "Acme"),
            "Carol (Other support desk)"
        );
        assert_eq!(
            operator_name(" (Acme support desk)", "Acme"),
            " (Acme support desk)"
        );
    }

    #[test]
    fn statistics_are_reported_only_while_live() {
        let stats = SessionStats {
            fps: 24.5,
            kbps: 900,
            rtt_ms: Some(30),
        };
        let (mut s, _, _) = asking();
        drain(&mut s);
        s.handle_stats(stats);
        assert!(drain(&mut s).is_empty());

        let (mut s, id) = live();
        s.handle_stats(stats);
        assert_eq!(
            drain(&mut s),
            vec![Command::ToServer(AgentToServer::Stats {
                session_id: id,
                stats
            })]
        );
        s.handle_line("/end");
        drain(&mut s);
        s.handle_stats(stats);
        assert!(drain(&mut s).is_empty());
    }
}

/// The password check inside a session: what the novice's yes leads to when the expert must
/// prove they hold the invitation's secret and password.
#[cfg(test)]
mod password_check {
    use super::*;
    use crate::invitation::record::MAX_FAILED_CHECKS;
    use crate::invitation::secret::InvitationSecret;
    use crate::verify::{ID_AGENT, ID_EXPERT};
    use pake::{PasswordScalar, Role, Spake2};
    use protocol::data::{HexBytes, PakeRefusal};

    const AGENT_FP: &str = "sha-256 AA:BB";
    const EXPERT_FP: &str = "sha-256 CC:DD";

    fn drain(s: &mut Session) -> Vec<Command> {
        std::iter::from_fn(|| s.poll_command()).collect()
    }

    struct Novice {
        s: Session,
        invitation: InvitationId,
        secret: InvitationSecret,
        t0: Instant,
    }

    fn novice(password: Option<&str>) -> Novice {
        let invitation = InvitationId::new_random();
        let secret = InvitationSecret::parse("9FZQ2WAB").expect("valid");
        let t0 = Instant::now();
        let held = HeldInvitation::link(
            invitation,
            &secret,
            password,
            t0 + Duration::from_secs(3600),
        );
        Novice {
            s: Session::new("Alice")
                .holding(held)
                .with_rng(StdRng::seed_from_u64(5)),
            invitation,
            secret,
            t0,
        }
    }

    fn request(invitation: InvitationId, session: SessionId) -> ServerToAgent {
        ServerToAgent::SessionRequest {
            session_id: session,
            invitation_id: invitation,
            expert_name: "Bob".into(),
            ice_servers: vec![],
            answer_by: 0,
            offered_by_desk: None,
            again: false,
        }
    }

    impl Novice {
        /// Bob opens the invitation, the novice says yes, and the connection is negotiated and
        /// up; returns the session.
        fn allowed(&mut self) -> SessionId {
            let session = SessionId::new_random();
            self.s.handle_server(
                request(self.invitation, session),
                self.t0,
                Duration::from_secs(60),
            );
            self.s.handle_line("y");
            let offer = format!("v=0\r\na=fingerprint:{AGENT_FP}\r\n");
            self.s
                .handle_peer(PeerNews::Signal(Signal::Offer { sdp: offer }), self.t0);
            let answer = format!("v=0\r\na=fingerprint:{EXPERT_FP}\r\n");
            self.s.handle_server(
                ServerToAgent::Signal {
                    session_id: session,
                    signal: Signal::Answer { sdp: answer },
                },
                self.t0,
                Duration::from_secs(60),
            );
            self.s.handle_peer(PeerNews::Connected, self.t0);
            session
        }

        /// Bob's browser runs the check with what he typed; returns what the session did
        /// after his confirmation.
        fn bob_types(&mut self, session: SessionId, password: Option<&str>) -> Vec<Command> {
            let w = PasswordScalar::derive(
                &self.invitation.to_string(),
                &self.secret.exchange_password(password),
            );
            let aad = pake::session_aad(&session.to_string(), AGENT_FP, EXPERT_FP);
            let mut rng = StdRng::seed_from_u64(6);
            let (bob, share) = Spake2::start(Role::Expert, &w, ID_AGENT, ID_EXPERT, &aad, &mut rng)
                .expect("starts");
            self.s.handle_peer(
                PeerNews::Data(DataMessage::Pake {
                    share: HexBytes(share),
                }),
                self.t0,
            );
            let agents = drain(&mut self.s)
                .into_iter()
                .find_map(|c| match c {
                    Command::ToExpert(DataMessage::Pake { share }) => Some(share.0),
                    _ => None,
                })
                .expect("the agent answers with its share");
            let (_, mac) = bob.finish(&agents).expect("a valid share");
            self.s.handle_peer(
                PeerNews::Data(DataMessage::PakeConfirm { mac: HexBytes(mac) }),
                self.t0,
            );
            drain(&mut self.s)
        }
    }

    fn shares(cmds: &[Command]) -> bool {
        cmds.contains(&Command::ShareScreen)
    }

    #[test]
    fn nothing_is_shared_or_taken_before_the_check_and_everything_after() {
        let mut n = novice(Some("tulip"));
        let session = n.allowed();
        let cmds = drain(&mut n.s);
        assert!(cmds
            .iter()
            .any(|c| matches!(c, Command::StartSharing { .. })));
        assert!(!shares(&cmds), "a yes alone shares nothing: {cmds:?}");
        assert!(
            !cmds
                .iter()
                .any(|c| matches!(c, Command::Tell(l) if l.to_string().contains("now watching"))),
            "{cmds:?}"
        );
        // Before the check: chat, control requests and input from the expert are dropped,
        // and the novice's chat does not go out.
        for msg in [
            DataMessage::Chat {
                from: "Bob".into(),
                text: "hi".into(),
            },
            DataMessage::ControlRequest,
            DataMessage::Input {
                event: InputEvent::Move { x: 1, y: 2 },
            },
        ] {
            n.s.handle_peer(PeerNews::Data(msg), n.t0);
        }
        assert!(drain(&mut n.s).is_empty());
        n.s.handle_line("hello?");
        assert!(!drain(&mut n.s)
            .iter()
            .any(|c| matches!(c, Command::ToExpert(_))));

        let cmds = n.bob_types(session, Some("tulip"));
        assert!(shares(&cmds), "{cmds:?}");
        assert!(cmds.contains(&Command::ToExpert(DataMessage::PakeResult {
            ok: true,
            reason: None,
            tries_left: None
        })));
        assert!(cmds.iter().any(
            |c| matches!(c, Command::Tell(l) if l.to_string().contains("Bob is now watching"))
        ));
        n.s.handle_peer(PeerNews::Data(DataMessage::ControlRequest), n.t0);
        assert!(drain(&mut n.s)
            .iter()
            .any(|c| matches!(c, Command::Tell(q) if q.is_question() && q.to_string().contains("control"))));
    }

    #[test]
    fn a_wrong_password_ends_the_session_unshared_and_five_lock_the_invitation() {
        let mut n = novice(Some("tulip"));
        for tries_left in (0..MAX_FAILED_CHECKS).rev() {
            let session = n.allowed();
            drain(&mut n.s);
            let cmds = n.bob_types(session, Some("rose"));
            assert!(!shares(&cmds), "{cmds:?}");
            assert!(cmds.contains(&Command::ToExpert(DataMessage::PakeResult {
                ok: false,
                reason: Some(PakeRefusal::Mismatch),
                tries_left: Some(tries_left),
            })));
            assert!(cmds.contains(&Command::ReportFailures {
                invitation: n.invitation,
                failed_attempts: MAX_FAILED_CHECKS - tries_left,
                locked: tries_left == 0,
            }));
            assert!(cmds.contains(&Command::ToServer(AgentToServer::HangUp {
                session_id: session,
                reason: Some(EndReason::PasswordMismatch),
            })));
            assert!(cmds.contains(&Command::StopSharing));
            assert!(
                cmds.iter().any(|c| matches!(c, Command::Tell(l)
                    if l.to_string().contains("Bob entered a wrong password, or someone is intercepting"))),
                "{cmds:?}"
            );
            assert!(!n.s.is_live());
        }
        // Locked: the next request is refused before the novice is asked, whatever the
        // password.
        let session = SessionId::new_random();
        n.s.handle_server(
            request(n.invitation, session),
            n.t0,
            Duration::from_secs(60),
        );
        let cmds = drain(&mut n.s);
        assert!(
            !cmds
                .iter()
                .any(|c| matches!(c, Command::Tell(n) if n.is_question())),
            "{cmds:?}"
        );
        assert!(cmds.contains(&Command::ToServer(AgentToServer::HangUp {
            session_id: session,
            reason: Some(EndReason::InvitationClosed),
        })));
    }

    #[test]
    fn the_right_password_after_wrong_ones_still_opens() {
        let mut n = novice(None);
        let session = n.allowed();
        n.bob_types(session, Some("guess"));
        let session = n.allowed();
        drain(&mut n.s);
        assert!(shares(&n.bob_types(session, None)));
    }

    #[test]
    fn the_agent_judges_requests_by_its_own_record() {
        // Unknown to this program.
        let mut n = novice(None);
        let session = SessionId::new_random();
        n.s.handle_server(
            request(InvitationId::new_random(), session),
            n.t0,
            Duration::from_secs(60),
        );
        let cmds = drain(&mut n.s);
        assert!(
            !cmds
                .iter()
                .any(|c| matches!(c, Command::Tell(n) if n.is_question())),
            "{cmds:?}"
        );
        assert!(cmds
            .iter()
            .any(|c| matches!(c, Command::Tell(l) if l.to_string().contains("refused without asking you"))));
        // Revoked here, whatever the server says.
        n.s.handle_revoked(n.invitation);
        n.s.handle_server(
            request(n.invitation, session),
            n.t0,
            Duration::from_secs(60),
        );
        assert!(!drain(&mut n.s)
            .iter()
            .any(|c| matches!(c, Command::Tell(n) if n.is_question())));
        // Expired on this machine's clock.
        let mut n = novice(None);
        let late = n.t0 + Duration::from_secs(3600);
        n.s.handle_server(
            request(n.invitation, session),
            late,
            Duration::from_secs(60),
        );
        let cmds = drain(&mut n.s);
        assert!(cmds.contains(&Command::ToServer(AgentToServer::HangUp {
            session_id: session,
            reason: Some(EndReason::InvitationClosed),
        })));
        // A support desk's offer to a machine that is not enrolled.
        let mut n = novice(None);
        let mut offer = request(InvitationId::new_random(), session);
        if let ServerToAgent::SessionRequest {
            offered_by_desk, ..
        } = &mut offer
        {
            *offered_by_desk = Some("Acme".into());
        }
        n.s.handle_server(offer, n.t0, Duration::from_secs(60));
        assert!(!drain(&mut n.s)
            .iter()
            .any(|c| matches!(c, Command::Tell(n) if n.is_question())));
    }

    #[test]
    fn a_browser_that_never_answers_the_check_is_ended_without_a_count() {
        let mut n = novice(None);
        let session = n.allowed();
        drain(&mut n.s);
        let deadline = n.s.poll_timeout().expect("the check's deadline");
        n.s.handle_timeout(deadline);
        let cmds = drain(&mut n.s);
        assert!(cmds.contains(&Command::ToServer(AgentToServer::HangUp {
            session_id: session,
            reason: Some(EndReason::PasswordMismatch),
        })));
        assert!(!cmds
            .iter()
            .any(|c| matches!(c, Command::ReportFailures { .. })));
        assert!(!shares(&cmds));
    }
}
