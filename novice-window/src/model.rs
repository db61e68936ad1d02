//! What the novice's window knows and may ask for, as a plain state machine: no egui, no IO,
//! no clock.
//!
//! The agent feeds it [`Update`]s through [`Model::handle_update`] (an invitation was made, an
//! expert asks to see the screen, a chat message came in), the views call its methods when the
//! novice clicks (`answer`, `create_invitation`, `send_chat`), and the agent drains the
//! [`Command`]s those produce with [`Model::poll_command`]. The current time is passed in
//! wherever a deadline matters; [`Model::poll_timeout`] says when [`Model::handle_timeout`]
//! has something to do next.
//!
//! The agent stays the authority on consent: a click on Allow only becomes
//! [`Command::Answer`] for the request on screen, tagged with the [`RequestId`] the agent gave
//! it and only before its deadline; whether the screen is shared, and whether the expert
//! controls it, is shown from what the agent reports, never assumed from a click. Every piece
//! of text that a peer or a server supplied is cleaned ([`crate::text`]) as it arrives.

use crate::text::shorten;
use i18n::Language;
use protocol::ids::InvitationId;
use secrecy::SecretString;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest an invitation may stay valid (the server's limit too).
pub const MAX_EXPIRY: Duration = Duration::from_secs(30 * 24 * 3600);
/// The shortest an invitation may stay valid (the server's limit too).
pub const MIN_EXPIRY: Duration = Duration::from_secs(60);
/// The longest password the server takes, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 256;
/// Names (of experts, operators, organisations) are cut to this many characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Chat messages are cut to this many characters.
pub const MAX_CHAT_CHARS: usize = 2000;
/// How many lines the session's log keeps; older ones are dropped.
pub const MAX_LOG_LINES: usize = 500;

/// Identifies one question put to the novice; chosen by the agent, echoed in the answer, so
/// that a click meant for one request can never answer another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(pub u64);

/// What a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// To see the screen: starts a session.
    See,
    /// To use the mouse and keyboard, during a session.
    Control,
}

/// Help offered by a support desk: who offers it and for which organisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    pub operator: String,
    pub organisation: String,
}

/// The state of one invitation, as the novice sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationState {
    /// Waiting for the helper to open it.
    Open,
    /// A session through it is running.
    InSession,
    /// Too many wrong passwords were typed.
    Locked,
    /// Its time ran out.
    Expired,
    /// The novice expired it.
    Revoked,
    /// The desk expert it was sent to declined it.
    Declined,
}

impl InvitationState {
    /// Whether "Expire now" still changes anything.
    pub fn can_expire(self) -> bool {
        matches!(self, Self::Open | Self::InSession | Self::Locked)
    }
}

impl From<protocol::api::InvitationStatus> for InvitationState {
    fn from(status: protocol::api::InvitationStatus) -> Self {
        use protocol::api::InvitationStatus as S;
        match status {
            S::Open => Self::Open,
            S::InUse => Self::InSession,
            S::Locked => Self::Locked,
            S::Expired => Self::Expired,
            S::Revoked => Self::Revoked,
            S::Declined => Self::Declined,
        }
    }
}

/// One line of the invitations screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationRow {
    pub id: InvitationId,
    pub state: InvitationState,
    pub created_at: SystemTime,
    pub expires_at: SystemTime,
    pub password_set: bool,
    /// Wrong passwords typed so far.
    pub failed_attempts: u32,
}

/// A time in seconds since the Unix epoch, as the server's API gives it.
pub fn from_unix(secs: i64) -> SystemTime {
    match u64::try_from(secs) {
        Ok(secs) => UNIX_EPOCH + Duration::from_secs(secs),
        Err(_) => UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()),
    }
}

impl From<&protocol::api::InvitationSummary> for InvitationRow {
    fn from(summary: &protocol::api::InvitationSummary) -> Self {
        Self {
            id: summary.id,
            state: summary.status.into(),
            created_at: from_unix(summary.created_at),
            expires_at: from_unix(summary.expires_at),
            password_set: summary.has_password,
            failed_attempts: summary.failed_attempts,
        }
    }
}

/// An expert's login at the support desk: what a direct invitation is addressed to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExpertLogin(pub String);

/// One expert of the machine's support desk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeskExpert {
    pub login: ExpertLogin,
    pub name: String,
    /// Signed in right now.
    pub online: bool,
}

impl From<&protocol::api::ExpertSummary> for DeskExpert {
    fn from(expert: &protocol::api::ExpertSummary) -> Self {
        Self {
            login: ExpertLogin(expert.login.clone()),
            name: expert.name.clone(),
            online: expert.online,
        }
    }
}

/// How an invitation went out, as the agent reports it after a sending command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// The link is on the clipboard.
    LinkCopied,
    /// The invitation file was written here.
    SavedAs(PathBuf),
    /// The mail program opened with the invitation written out.
    MailProgramOpened,
    /// A direct invitation reached this desk expert.
    ToDeskExpert { name: String, online: bool },
}

/// Why remote control ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlEndReason {
    /// The novice held Esc.
    EscHeld,
    /// The novice pressed Ctrl+C.
    CtrlC,
    /// The novice clicked Stop control (or paused sharing).
    StopButton,
    /// The expert gave control back.
    ExpertGaveBack,
}

/// Why a session ended, or why a request did not become one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEndReason {
    /// The novice ended it.
    YouEnded,
    /// The expert ended it.
    ExpertEnded,
    /// The novice declined.
    Declined,
    /// Nobody answered the request in time.
    NoAnswer,
    /// The connection to the expert was lost.
    ConnectionLost,
    /// The invitation was expired while in use.
    InvitationExpired,
    /// The server is shutting down.
    ServerShutdown,
    /// The server could not record the session, so it did not go ahead.
    NotRecorded,
    /// The expert's browser cannot play the video.
    VideoUnsupported,
    /// The expert's page came back without proof that it is the browser the novice allowed.
    BrowserNotProven,
    /// The password the expert typed was wrong (or someone intercepts the connection); nothing
    /// was shared. `tries_left` before the invitation locks, when known.
    WrongPassword { tries_left: Option<u32> },
}

impl From<protocol::signal::EndReason> for SessionEndReason {
    fn from(reason: protocol::signal::EndReason) -> Self {
        use protocol::signal::EndReason as R;
        match reason {
            R::NoviceHungUp => Self::YouEnded,
            R::ExpertHungUp => Self::ExpertEnded,
            R::Declined => Self::Declined,
            R::ConsentTimeout => Self::NoAnswer,
            R::PeerGone => Self::ConnectionLost,
            R::Revoked => Self::InvitationExpired,
            R::ServerShutdown => Self::ServerShutdown,
            R::NotRecorded => Self::NotRecorded,
            R::VideoUnsupported => Self::VideoUnsupported,
            // The agent ends these itself (the password check failed; its own record of the
            // invitation refused it), so the server never tells it of them; the nearest words.
            R::PasswordMismatch => Self::BrowserNotProven,
            R::InvitationClosed => Self::InvitationExpired,
        }
    }
}

/// What the agent tells the window.
#[derive(Clone, Debug, PartialEq)]
pub enum Update {
    /// The invitation asked for with [`Command::CreateInvitation`] exists.
    InvitationCreated {
        id: InvitationId,
        link: String,
        /// For reading out on the phone, e.g. `K7PQ-M2XD-4RTA`.
        short_code: String,
        expires_at: SystemTime,
        password_set: bool,
    },
    /// Every invitation of this machine, newest first (after [`Command::ListInvitations`],
    /// [`Command::ExpireNow`], or whenever the agent learns of a change).
    InvitationsListed(Vec<InvitationRow>),
    /// The experts of this machine's support desk, for an enrolled machine.
    SupportDeskExperts(Vec<DeskExpert>),
    /// An invitation went out.
    Sent(Sent),
    /// An expert (or a support desk, with `offered_by`) asks to see the screen.
    ExpertWantsToSee {
        request: RequestId,
        expert_name: String,
        offered_by: Option<Offer>,
        /// After this the agent declines by itself.
        deadline: SystemTime,
    },
    /// The expert of the running session asks to control the computer.
    ExpertWantsControl {
        request: RequestId,
        expert_name: String,
        deadline: SystemTime,
    },
    /// The request is no longer open (answered elsewhere, withdrawn, lapsed at the agent).
    RequestWithdrawn(RequestId),
    /// The screen is being shared with `expert`.
    SessionStarted {
        expert: String,
    },
    /// The expert's input reaches the desktop.
    ControlGranted,
    /// It no longer does.
    ControlEnded {
        why: ControlEndReason,
    },
    /// A chat message from the expert.
    Chat {
        from: String,
        text: String,
    },
    SharingPaused,
    SharingResumed,
    /// The session is over (or the request never became one); nothing is shared.
    SessionEnded {
        reason: SessionEndReason,
    },
    /// Something the novice asked for failed; the agent's own words.
    Error(String),
}

/// What the window asks the agent to do.
#[derive(Debug)]
pub enum Command {
    /// Create an invitation; answered with [`Update::InvitationCreated`] or [`Update::Error`].
    CreateInvitation {
        /// The name the expert will see for whoever asks; `None` keeps the agent's own.
        expert_label: Option<String>,
        /// The password the expert must type, if any.
        password: Option<SecretString>,
        /// How long the invitation stays valid, from [`MIN_EXPIRY`] to [`MAX_EXPIRY`].
        expiry: Duration,
    },
    /// Send [`Update::InvitationsListed`].
    ListInvitations,
    /// Expire this invitation now; a session using it ends.
    ExpireNow(InvitationId),
    /// Put the last invitation's link on the clipboard.
    CopyLink,
    /// Save the last invitation as a file the expert double-clicks.
    SaveInvitationFile,
    /// Open the mail program with the last invitation written out.
    EmailInvitation,
    /// Send a direct invitation to this desk expert.
    SendToDeskExpert(ExpertLogin),
    /// The novice's answer to a request, before its deadline.
    Answer {
        request: RequestId,
        kind: RequestKind,
        allow: bool,
    },
    /// Take control back from the expert.
    StopControl,
    /// Stop sending the screen for now, keeping the session.
    PauseSharing,
    ResumeSharing,
    EndSession,
    /// A chat message for the expert.
    SendChat(String),
    /// The novice chose another language (for the agent to remember, or to speak itself).
    SwitchLanguage(Language),
}

/// The screens of the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Ask,
    Invitations,
    Session,
}

/// The choices of how long an invitation stays valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpiryChoice {
    FifteenMinutes,
    OneHour,
    OneDay,
    OneWeek,
    /// A number of [`TimeUnit`]s the novice types.
    Custom,
}

impl ExpiryChoice {
    pub const ALL: [ExpiryChoice; 5] = [
        Self::FifteenMinutes,
        Self::OneHour,
        Self::OneDay,
        Self::OneWeek,
        Self::Custom,
    ];

    /// The length of time, for every choice but [`ExpiryChoice::Custom`].
    pub fn duration(self) -> Option<Duration> {
        let minutes = |m: u64| Some(Duration::from_secs(m * 60));
        match self {
            Self::FifteenMinutes => minutes(15),
            Self::OneHour => minutes(60),
            Self::OneDay => minutes(24 * 60),
            Self::OneWeek => minutes(7 * 24 * 60),
            Self::Custom => None,
        }
    }
}

/// The unit of a custom expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    Minutes,
    Hours,
    Days,
}

impl TimeUnit {
    pub const ALL: [TimeUnit; 3] = [Self::Minutes, Self::Hours, Self::Days];

    fn seconds(self) -> u64 {
        match self {
            Self::Minutes => 60,
            Self::Hours => 3600,
            Self::Days => 86_400,
        }
    }
}

/// Why the invitation form cannot be sent as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("the length of time is not a whole number")]
    NotANumber,
    #[error("an invitation must be valid for at least a minute")]
    TooShort,
    #[error("an invitation can be valid for at most 30 days")]
    TooLong,
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes")]
    PasswordTooLong,
}

/// The "Ask for help" form, as the novice fills it in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AskForm {
    /// The name the expert will see.
    pub name: String,
    /// Empty for none. Moved into the command when the invitation is created.
    pub password: String,
    pub expiry: ExpiryChoice,
    /// The number typed for a custom expiry.
    pub custom_amount: String,
    pub custom_unit: TimeUnit,
}

impl Default for AskForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            password: String::new(),
            expiry: ExpiryChoice::OneHour,
            custom_amount: String::new(),
            custom_unit: TimeUnit::Days,
        }
    }
}

impl AskForm {
    /// How long the invitation will stay valid, or why that is not acceptable.
    pub fn expiry(&self) -> Result<Duration, FormError> {
        if let Some(duration) = self.expiry.duration() {
            return Ok(duration);
        }
        let amount: u64 = self
            .custom_amount
            .trim()
            .parse()
            .map_err(|_| FormError::NotANumber)?;
        let secs = amount.saturating_mul(self.custom_unit.seconds());
        let duration = Duration::from_secs(secs);
        if duration < MIN_EXPIRY {
            Err(FormError::TooShort)
        } else if duration > MAX_EXPIRY {
            Err(FormError::TooLong)
        } else {
            Ok(duration)
        }
    }
}

/// Where "Ask for help" stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AskStage {
    /// The form is on screen.
    Form,
    /// The invitation was asked for; waiting for the agent.
    Creating,
    /// The invitation exists; the ways to send it are on screen.
    Ready(CreatedInvitation),
}

/// The invitation just made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedInvitation {
    pub id: InvitationId,
    pub link: String,
    pub short_code: String,
    pub expires_at: SystemTime,
    pub password_set: bool,
}

/// A question on screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRequest {
    pub id: RequestId,
    pub kind: RequestKind,
    pub expert: String,
    /// For an offer of help from a support desk.
    pub offered_by: Option<Offer>,
    pub deadline: SystemTime,
    /// The deadline passed without an answer: the dialog says so and only closes.
    pub expired: bool,
}

impl PendingRequest {
    /// Time left to answer, in whole seconds rounded up (so "1 second" shows until the end).
    pub fn time_left(&self, now: SystemTime) -> Duration {
        let left = self.deadline.duration_since(now).unwrap_or_default();
        let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        Duration::from_secs(secs)
    }
}

/// How far a session has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SharingState {
    /// The novice allowed it; the connection is being set up (capture has started).
    Connecting,
    /// The expert sees the screen.
    Watching,
    /// The expert sees the screen and controls the computer.
    Controlling,
    /// The session goes on, but the screen is not sent.
    Paused,
}

/// Something that happened during the session, shown among the chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEvent {
    ControlGranted,
    ControlEnded(ControlEndReason),
    /// The novice declined a request for control.
    ControlDeclined,
    /// A request for control lapsed unanswered.
    ControlRequestExpired,
    Paused,
    Resumed,
}

/// One line of the session's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogLine {
    /// The novice wrote this.
    FromYou(String),
    /// The expert wrote this (cleaned).
    FromExpert {
        name: String,
        text: String,
    },
    Event(SessionEvent),
}

/// The running session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub expert: String,
    connected: bool,
    controlled: bool,
    paused: bool,
    pub log: VecDeque<LogLine>,
    /// The chat message being written.
    pub draft: String,
}

impl Session {
    fn new(expert: String) -> Self {
        Self {
            expert,
            connected: false,
            controlled: false,
            paused: false,
            log: VecDeque::new(),
            draft: String::new(),
        }
    }

    pub fn state(&self) -> SharingState {
        if self.paused {
            SharingState::Paused
        } else if self.controlled {
            SharingState::Controlling
        } else if self.connected {
            SharingState::Watching
        } else {
            SharingState::Connecting
        }
    }

    /// Whether the expert's input reaches the desktop.
    pub fn is_controlled(&self) -> bool {
        self.controlled
    }

    fn push(&mut self, line: LogLine) {
        if self.log.len() == MAX_LOG_LINES {
            self.log.pop_front();
        }
        self.log.push_back(line);
    }
}

/// The window's state.
#[derive(Debug)]
pub struct Model {
    language: Language,
    screen: Screen,
    form: AskForm,
    form_error: Option<FormError>,
    stage: AskStage,
    sent: Option<Sent>,
    desk: Vec<DeskExpert>,
    invitations: Vec<InvitationRow>,
    /// Invitations asked to expire, until the agent lists them anew.
    expiring: Vec<InvitationId>,
    request: Option<PendingRequest>,
    session: Option<Session>,
    /// How the last session (or request) ended, until the next one starts.
    ended: Option<SessionEndReason>,
    error: Option<String>,
    commands: VecDeque<Command>,
}

impl Model {
    pub fn new(language: Language) -> Self {
        Self {
            language,
            screen: Screen::Ask,
            form: AskForm::default(),
            form_error: None,
            stage: AskStage::Form,
            sent: None,
            desk: Vec::new(),
            invitations: Vec::new(),
            expiring: Vec::new(),
            request: None,
            session: None,
            ended: None,
            error: None,
            commands: VecDeque::new(),
        }
    }

    /// The same, with the form's name filled in (the name the agent is registered under).
    pub fn with_name(mut self, name: &str) -> Self {
        self.form.name = shorten(name, MAX_NAME_CHARS);
        self
    }

    pub fn language(&self) -> Language {
        self.language
    }

    pub fn screen(&self) -> Screen {
        self.screen
    }

    pub fn form(&self) -> &AskForm {
        &self.form
    }

    /// The form, for the view to edit.
    pub fn form_mut(&mut self) -> &mut AskForm {
        &mut self.form
    }

    /// Why the form was refused, until it is sent again.
    pub fn form_error(&self) -> Option<FormError> {
        self.form_error
    }

    pub fn stage(&self) -> &AskStage {
        &self.stage
    }

    /// How the last sending went, while the invitation is on screen.
    pub fn sent(&self) -> Option<&Sent> {
        self.sent.as_ref()
    }

    pub fn desk_experts(&self) -> &[DeskExpert] {
        &self.desk
    }

    pub fn invitations(&self) -> &[InvitationRow] {
        &self.invitations
    }

    /// Whether "Expire now" was clicked for `id` and the agent has not listed it since.
    pub fn is_expiring(&self, id: InvitationId) -> bool {
        self.expiring.contains(&id)
    }

    pub fn request(&self) -> Option<&PendingRequest> {
        self.request.as_ref()
    }

    /// Whether a question waits for the novice's answer (the window comes to the front).
    pub fn is_asking(&self) -> bool {
        self.request.as_ref().is_some_and(|r| !r.expired)
    }

    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    pub fn session_mut(&mut self) -> Option<&mut Session> {
        self.session.as_mut()
    }

    pub fn ended(&self) -> Option<SessionEndReason> {
        self.ended
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The next thing for the agent to do.
    pub fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// When [`Model::handle_timeout`] has something to do next: the open request's deadline.
    pub fn poll_timeout(&self) -> Option<SystemTime> {
        self.request
            .as_ref()
            .filter(|r| !r.expired)
            .map(|r| r.deadline)
    }

    /// A request whose deadline passed is shown as lapsed; the agent declines it by itself.
    pub fn handle_timeout(&mut self, now: SystemTime) {
        let Some(request) = self.request.as_mut() else {
            return;
        };
        if request.expired || now < request.deadline {
            return;
        }
        request.expired = true;
        if request.kind == RequestKind::Control {
            if let Some(session) = self.session.as_mut() {
                session.push(LogLine::Event(SessionEvent::ControlRequestExpired));
            }
        }
    }

    pub fn handle_update(&mut self, update: Update, now: SystemTime) {
        match update {
            Update::InvitationCreated {
                id,
                link,
                short_code,
                expires_at,
                password_set,
            } => {
                self.stage = AskStage::Ready(CreatedInvitation {
                    id,
                    link: shorten(&link, 2048),
                    short_code: shorten(&short_code, MAX_NAME_CHARS),
                    expires_at,
                    password_set,
                });
                self.sent = None;
                self.screen = Screen::Ask;
            }
            Update::InvitationsListed(rows) => {
                self.expiring.clear();
                self.invitations = rows;
            }
            Update::SupportDeskExperts(experts) => {
                self.desk = experts
                    .into_iter()
                    .map(|e| DeskExpert {
                        name: match shorten(&e.name, MAX_NAME_CHARS) {
                            name if name.is_empty() => shorten(&e.login.0, MAX_NAME_CHARS),
                            name => name,
                        },
                        ..e
                    })
                    .collect();
                // Online first, each group in the order given.
                self.desk.sort_by_key(|e| !e.online);
            }
            Update::Sent(sent) => {
                self.sent = Some(match sent {
                    Sent::ToDeskExpert { name, online } => Sent::ToDeskExpert {
                        name: shorten(&name, MAX_NAME_CHARS),
                        online,
                    },
                    other => other,
                });
            }
            Update::ExpertWantsToSee {
                request,
                expert_name,
                offered_by,
                deadline,
            } => {
                self.request = Some(PendingRequest {
                    id: request,
                    kind: RequestKind::See,
                    expert: shorten(&expert_name, MAX_NAME_CHARS),
                    offered_by: offered_by.map(|o| Offer {
                        operator: shorten(&o.operator, MAX_NAME_CHARS),
                        organisation: shorten(&o.organisation, MAX_NAME_CHARS),
                    }),
                    deadline,
                    expired: false,
                });
                self.handle_timeout(now);
            }
            Update::ExpertWantsControl {
                request,
                expert_name,
                deadline,
            } => {
                self.request = Some(PendingRequest {
                    id: request,
                    kind: RequestKind::Control,
                    expert: shorten(&expert_name, MAX_NAME_CHARS),
                    offered_by: None,
                    deadline,
                    expired: false,
                });
                self.handle_timeout(now);
            }
            Update::RequestWithdrawn(id) => {
                if self.request.as_ref().is_some_and(|r| r.id == id) {
                    self.request = None;
                }
            }
            Update::SessionStarted { expert } => {
                let expert = shorten(&expert, MAX_NAME_CHARS);
                if self
                    .request
                    .as_ref()
                    .is_some_and(|r| r.kind == RequestKind::See)
                {
                    self.request = None;
                }
                let session = self
                    .session
                    .get_or_insert_with(|| Session::new(expert.clone()));
                session.expert = expert;
                session.connected = true;
                self.ended = None;
                self.screen = Screen::Session;
            }
            Update::ControlGranted => {
                if self
                    .request
                    .as_ref()
                    .is_some_and(|r| r.kind == RequestKind::Control)
                {
                    self.request = None;
                }
                if let Some(session) = self.session.as_mut() {
                    if !session.controlled {
                        session.controlled = true;
                        session.push(LogLine::Event(SessionEvent::ControlGranted));
                    }
                }
            }
            Update::ControlEnded { why } => {
                if let Some(session) = self.session.as_mut() {
                    if session.controlled {
                        session.controlled = false;
                        session.push(LogLine::Event(SessionEvent::ControlEnded(why)));
                    }
                }
            }
            Update::Chat { from, text } => {
                if let Some(session) = self.session.as_mut() {
                    let text = shorten(&text, MAX_CHAT_CHARS);
                    if !text.is_empty() {
                        session.push(LogLine::FromExpert {
                            name: shorten(&from, MAX_NAME_CHARS),
                            text,
                        });
                    }
                }
            }
            Update::SharingPaused => {
                if let Some(session) = self.session.as_mut() {
                    if !session.paused {
                        session.paused = true;
                        session.push(LogLine::Event(SessionEvent::Paused));
                    }
                }
            }
            Update::SharingResumed => {
                if let Some(session) = self.session.as_mut() {
                    if session.paused {
                        session.paused = false;
                        session.push(LogLine::Event(SessionEvent::Resumed));
                    }
                }
            }
            Update::SessionEnded { reason } => {
                self.request = None;
                self.session = None;
                self.ended = Some(reason);
            }
            Update::Error(text) => {
                self.error = Some(shorten(&text, MAX_CHAT_CHARS));
                if self.stage == AskStage::Creating {
                    self.stage = AskStage::Form;
                }
            }
        }
    }

    /// The novice opened a screen; the invitations are listed afresh when it is theirs.
    pub fn show_screen(&mut self, screen: Screen) {
        if screen == Screen::Invitations {
            self.commands.push_back(Command::ListInvitations);
        }
        self.screen = screen;
    }

    pub fn switch_language(&mut self, language: Language) {
        if language != self.language {
            self.language = language;
            self.commands.push_back(Command::SwitchLanguage(language));
        }
    }

    pub fn dismiss_error(&mut self) {
        self.error = None;
    }

    /// The novice clicked "Create invitation": checks the form, then asks the agent.
    pub fn create_invitation(&mut self) {
        if self.stage != AskStage::Form {
            return;
        }
        let expiry = match self.form.expiry() {
            Ok(expiry) => expiry,
            Err(error) => {
                self.form_error = Some(error);
                return;
            }
        };
        if self.form.password.len() > MAX_PASSWORD_BYTES {
            self.form_error = Some(FormError::PasswordTooLong);
            return;
        }
        self.form_error = None;
        let name = self.form.name.trim();
        let expert_label = (!name.is_empty()).then(|| name.to_owned());
        let password = std::mem::take(&mut self.form.password);
        let password = (!password.is_empty()).then(|| SecretString::from(password));
        self.commands.push_back(Command::CreateInvitation {
            expert_label,
            password,
            expiry,
        });
        self.stage = AskStage::Creating;
    }

    /// Back from the invitation made to an empty form ("Create a new invitation").
    pub fn new_invitation(&mut self) {
        if matches!(self.stage, AskStage::Ready(_)) {
            self.stage = AskStage::Form;
            self.sent = None;
        }
    }

    fn with_invitation(&mut self, command: Command) {
        if matches!(self.stage, AskStage::Ready(_)) {
            self.commands.push_back(command);
        }
    }

    pub fn copy_link(&mut self) {
        self.with_invitation(Command::CopyLink);
    }

    pub fn save_invitation_file(&mut self) {
        self.with_invitation(Command::SaveInvitationFile);
    }

    pub fn email_invitation(&mut self) {
        self.with_invitation(Command::EmailInvitation);
    }

    pub fn send_to_desk_expert(&mut self, login: &ExpertLogin) {
        if self.desk.iter().any(|e| &e.login == login) {
            self.commands
                .push_back(Command::SendToDeskExpert(login.clone()));
        }
    }

    pub fn expire_now(&mut self, id: InvitationId) {
        let known = self
            .invitations
            .iter()
            .any(|row| row.id == id && row.state.can_expire());
        if known && !self.is_expiring(id) {
            self.expiring.push(id);
            self.commands.push_back(Command::ExpireNow(id));
        }
    }

    /// The novice clicked Allow or Decline. Nothing is sent once the deadline has passed: the
    /// agent has declined by then.
    pub fn answer(&mut self, allow: bool, now: SystemTime) {
        self.handle_timeout(now);
        let Some(request) = self.request.take_if(|r| !r.expired) else {
            return;
        };
        self.commands.push_back(Command::Answer {
            request: request.id,
            kind: request.kind,
            allow,
        });
        match (request.kind, allow) {
            (RequestKind::See, true) => {
                // Capture starts now: the indicator shows from this moment.
                self.session = Some(Session::new(request.expert));
                self.ended = None;
                self.screen = Screen::Session;
            }
            (RequestKind::See, false) => {}
            (RequestKind::Control, true) => {}
            (RequestKind::Control, false) => {
                if let Some(session) = self.session.as_mut() {
                    session.push(LogLine::Event(SessionEvent::ControlDeclined));
                }
            }
        }
    }

    /// Closes a dialog whose request lapsed.
    pub fn dismiss_request(&mut self) {
        if self.request.as_ref().is_some_and(|r| r.expired) {
            self.request = None;
        }
    }

    pub fn stop_control(&mut self) {
        if self.session.as_ref().is_some_and(Session::is_controlled) {
            self.commands.push_back(Command::StopControl);
        }
    }

    /// Pauses sharing; control stops first, as the expert would otherwise work blind, and
    /// could click Resume in this very window.
    pub fn pause_sharing(&mut self) {
        let Some(session) = self.session.as_ref() else {
            return;
        };
        if session.paused {
            return;
        }
        if session.controlled {
            self.commands.push_back(Command::StopControl);
        }
        self.commands.push_back(Command::PauseSharing);
    }

    pub fn resume_sharing(&mut self) {
        if self.session.as_ref().is_some_and(|s| s.paused) {
            self.commands.push_back(Command::ResumeSharing);
        }
    }

    /// Ends the session; the window shows it over once the agent says so.
    pub fn end_session(&mut self) {
        if self.session.is_some() {
            self.commands.push_back(Command::EndSession);
        }
    }

    /// Sends the chat draft.
    pub fn send_chat(&mut self) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        let text = session.draft.trim().to_owned();
        if text.is_empty() {
            return;
        }
        session.draft.clear();
        session.push(LogLine::FromYou(text.clone()));
        self.commands.push_back(Command::SendChat(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn t0() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_772_548_200)
    }

    fn drain(m: &mut Model) -> Vec<Command> {
        std::iter::from_fn(|| m.poll_command()).collect()
    }

    fn see(m: &mut Model, id: u64, name: &str, now: SystemTime) {
        m.handle_update(
            Update::ExpertWantsToSee {
                request: RequestId(id),
                expert_name: name.into(),
                offered_by: None,
                deadline: now + Duration::from_secs(60),
            },
            now,
        );
    }

    fn live(name: &str) -> Model {
        let mut m = Model::new(Language::English);
        see(&mut m, 1, name, t0());
        m.answer(true, t0());
        m.handle_update(
            Update::SessionStarted {
                expert: name.into(),
            },
            t0(),
        );
        drain(&mut m);
        m
    }

    #[test]
    fn the_preset_expiries() {
        let mut form = AskForm::default();
        for (choice, secs) in [
            (ExpiryChoice::FifteenMinutes, 900),
            (ExpiryChoice::OneHour, 3600),
            (ExpiryChoice::OneDay, 86_400),
            (ExpiryChoice::OneWeek, 604_800),
        ] {
            form.expiry = choice;
            assert_eq!(form.expiry(), Ok(Duration::from_secs(secs)));
        }
    }

    #[test]
    fn a_custom_expiry_is_checked() {
        let mut form = AskForm {
            expiry: ExpiryChoice::Custom,
            ..AskForm::default()
        };
        let mut check = |amount: &str, unit, expected| {
            form.custom_amount = amount.into();
            form.custom_unit = unit;
            assert_eq!(form.expiry(), expected, "{amount} {unit:?}");
        };
        check("30", TimeUnit::Days, Ok(MAX_EXPIRY));
        check(" 3 ", TimeUnit::Hours, Ok(Duration::from_secs(3 * 3600)));
        check("1", TimeUnit::Minutes, Ok(MIN_EXPIRY));
        check("31", TimeUnit::Days, Err(FormError::TooLong));
        check("721", TimeUnit::Hours, Err(FormError::TooLong));
        check(
            "99999999999999999999",
            TimeUnit::Days,
            Err(FormError::NotANumber),
        );
        check(
            "18446744073709551615",
            TimeUnit::Days,
            Err(FormError::TooLong),
        );
        check("0", TimeUnit::Days, Err(FormError::TooShort));
        check("", TimeUnit::Days, Err(FormError::NotANumber));
        check("2.5", TimeUnit::Days, Err(FormError::NotANumber));
        check("-1", TimeUnit::Days, Err(FormError::NotANumber));
    }

    #[test]
    fn creating_an_invitation_sends_the_form_and_forgets_the_password() {
        let mut m = Model::new(Language::English).with_name("Alice on laptop");
        m.form_mut().password = "tulip-42".into();
        m.form_mut().expiry = ExpiryChoice::OneDay;
        m.create_invitation();
        let cmds = drain(&mut m);
        let [Command::CreateInvitation {
            expert_label,
            password,
            expiry,
        }] = &cmds[..]
        else {
            panic!("{cmds:?}");
        };
        assert_eq!(expert_label.as_deref(), Some("Alice on laptop"));
        assert_eq!(
            password.as_ref().map(|p| p.expose_secret()),
            Some("tulip-42")
        );
        assert_eq!(*expiry, Duration::from_secs(86_400));
        assert!(m.form().password.is_empty());
        assert_eq!(m.stage(), &AskStage::Creating);
        // A second click while waiting does nothing.
        m.create_invitation();
        assert!(drain(&mut m).is_empty());
    }

    #[test]
    fn a_refused_form_sends_nothing_and_says_why() {
        let mut m = Model::new(Language::English);
        m.form_mut().expiry = ExpiryChoice::Custom;
        m.form_mut().custom_amount = "45".into();
        m.create_invitation();
        assert!(drain(&mut m).is_empty());
        assert_eq!(m.form_error(), Some(FormError::TooLong));
        assert_eq!(m.stage(), &AskStage::Form);
        m.form_mut().custom_amount = "2".into();
        m.form_mut().password = "x".repeat(MAX_PASSWORD_BYTES + 1);
        m.create_invitation();
        assert_eq!(m.form_error(), Some(FormError::PasswordTooLong));
        m.form_mut().password.clear();
        m.create_invitation();
        assert_eq!(m.form_error(), None);
        let cmds = drain(&mut m);
        assert!(matches!(
            &cmds[..],
            [Command::CreateInvitation { password: None, expert_label: None, expiry }]
                if *expiry == Duration::from_secs(2 * 86_400)
        ));
    }

    #[test]
    fn the_ways_to_send_work_once_the_invitation_exists() {
        let mut m = Model::new(Language::English);
        m.copy_link();
        assert!(drain(&mut m).is_empty(), "nothing to copy yet");
        m.create_invitation();
        m.handle_update(Update::Error("the server is unreachable".into()), t0());
        assert_eq!(
            m.stage(),
            &AskStage::Form,
            "the form comes back after a failure"
        );
        m.create_invitation();
        drain(&mut m);
        m.handle_update(
            Update::InvitationCreated {
                id: InvitationId::new_random(),
                link: "https://help.example/i/abc\u{1b}[2J".into(),
                short_code: "K7PQ-M2XD-4RTA".into(),
                expires_at: t0() + Duration::from_secs(3600),
                password_set: false,
            },
            t0(),
        );
        let AskStage::Ready(made) = m.stage() else {
            panic!("{:?}", m.stage());
        };
        assert_eq!(made.link, "https://help.example/i/abc");
        m.copy_link();
        m.save_invitation_file();
        m.email_invitation();
        let cmds = drain(&mut m);
        assert!(matches!(
            &cmds[..],
            [
                Command::CopyLink,
                Command::SaveInvitationFile,
                Command::EmailInvitation
            ]
        ));
        m.handle_update(Update::Sent(Sent::LinkCopied), t0());
        assert_eq!(m.sent(), Some(&Sent::LinkCopied));
        m.new_invitation();
        assert_eq!(m.stage(), &AskStage::Form);
        assert_eq!(m.sent(), None);
    }

    #[test]
    fn desk_experts_are_cleaned_listed_online_first_and_sent_to_by_login() {
        let mut m = Model::new(Language::English);
        let expert = |login: &str, name: &str, online| DeskExpert {
            login: ExpertLogin(login.into()),
            name: name.into(),
            online,
        };
        m.handle_update(
            Update::SupportDeskExperts(vec![
                expert("ola", "Ola\u{202e}", false),
                expert("kim", "", true),
                expert("eva", "Eva", true),
            ]),
            t0(),
        );
        let names: Vec<&str> = m.desk_experts().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["kim", "Eva", "Ola"]);
        m.send_to_desk_expert(&ExpertLogin("eva".into()));
        m.send_to_desk_expert(&ExpertLogin("mallory".into()));
        let cmds = drain(&mut m);
        assert!(matches!(&cmds[..], [Command::SendToDeskExpert(ExpertLogin(l))] if l == "eva"));
    }

    #[test]
    fn allowing_a_request_answers_it_by_its_id_and_shows_the_session() {
        let mut m = Model::new(Language::English);
        see(&mut m, 7, "Bob", t0());
        assert!(m.is_asking());
        assert_eq!(m.poll_timeout(), Some(t0() + Duration::from_secs(60)));
        m.answer(true, t0() + Duration::from_secs(59));
        let cmds = drain(&mut m);
        assert!(matches!(
            &cmds[..],
            [Command::Answer {
                request: RequestId(7),
                kind: RequestKind::See,
                allow: true
            }]
        ));
        assert_eq!(m.screen(), Screen::Session);
        let session = m.session().expect("a session");
        assert_eq!(session.state(), SharingState::Connecting);
        m.handle_update(
            Update::SessionStarted {
                expert: "Bob".into(),
            },
            t0(),
        );
        assert_eq!(
            m.session().map(Session::state),
            Some(SharingState::Watching)
        );
    }

    #[test]
    fn declining_answers_no_and_starts_nothing() {
        let mut m = Model::new(Language::English);
        see(&mut m, 3, "Bob", t0());
        m.answer(false, t0());
        let cmds = drain(&mut m);
        assert!(matches!(
            &cmds[..],
            [Command::Answer {
                request: RequestId(3),
                allow: false,
                ..
            }]
        ));
        assert!(m.session().is_none());
        assert!(m.request().is_none());
    }

    #[test]
    fn after_the_deadline_a_click_answers_nothing() {
        let mut m = Model::new(Language::English);
        see(&mut m, 1, "Bob", t0());
        m.handle_timeout(t0() + Duration::from_secs(59));
        assert!(m.is_asking());
        m.answer(true, t0() + Duration::from_secs(60));
        assert!(drain(&mut m).is_empty());
        assert!(m.session().is_none());
        let request = m.request().expect("still shown, as lapsed");
        assert!(request.expired);
        assert!(!m.is_asking());
        assert_eq!(m.poll_timeout(), None);
        m.dismiss_request();
        assert!(m.request().is_none());
    }

    #[test]
    fn a_request_arriving_after_its_deadline_is_shown_lapsed() {
        let mut m = Model::new(Language::English);
        see(&mut m, 1, "Bob", t0() - Duration::from_secs(61));
        m.handle_update(Update::RequestWithdrawn(RequestId(2)), t0());
        assert!(m.request().is_some(), "another id withdraws nothing");
        see(&mut m, 1, "Bob", t0());
        m.handle_timeout(t0() + Duration::from_secs(60));
        assert!(m.request().is_some_and(|r| r.expired));
        see(&mut m, 5, "Bob", t0());
        m.handle_update(Update::RequestWithdrawn(RequestId(5)), t0());
        assert!(m.request().is_none());
    }

    #[test]
    fn time_left_is_rounded_up_to_whole_seconds() {
        let mut m = Model::new(Language::English);
        see(&mut m, 1, "Bob", t0());
        let request = m.request().expect("a request");
        assert_eq!(request.time_left(t0()), Duration::from_secs(60));
        assert_eq!(
            request.time_left(t0() + Duration::from_millis(59_001)),
            Duration::from_secs(1)
        );
        assert_eq!(
            request.time_left(t0() + Duration::from_secs(61)),
            Duration::ZERO
        );
    }

    #[test]
    fn names_from_peers_are_cleaned_and_bounded() {
        let mut m = Model::new(Language::English);
        m.handle_update(
            Update::ExpertWantsToSee {
                request: RequestId(1),
                expert_name: "Bob\u{1b}[31m\u{200b}".into(),
                offered_by: Some(Offer {
                    operator: "Karin\n".into(),
                    organisation: "A".repeat(500),
                }),
                deadline: t0() + Duration::from_secs(60),
            },
            t0(),
        );
        let request = m.request().expect("a request");
        assert_eq!(request.expert, "Bob");
        let offer = request.offered_by.as_ref().expect("an offer");
        assert_eq!(offer.operator, "Karin");
        assert_eq!(offer.organisation.chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn control_follows_what_the_agent_reports() {
        let mut m = live("Bob");
        m.handle_update(
            Update::ExpertWantsControl {
                request: RequestId(2),
                expert_name: "Bob".into(),
                deadline: t0() + Duration::from_secs(30),
            },
            t0(),
        );
        m.answer(true, t0());
        let cmds = drain(&mut m);
        assert!(matches!(
            &cmds[..],
            [Command::Answer {
                request: RequestId(2),
                kind: RequestKind::Control,
                allow: true
            }]
        ));
        assert_eq!(
            m.session().map(Session::state),
            Some(SharingState::Watching),
            "not controlling until the agent says so"
        );
        m.handle_update(Update::ControlGranted, t0());
        assert_eq!(
            m.session().map(Session::state),
            Some(SharingState::Controlling)
        );
        m.stop_control();
        assert!(matches!(&drain(&mut m)[..], [Command::StopControl]));
        m.handle_update(
            Update::ControlEnded {
                why: ControlEndReason::StopButton,
            },
            t0(),
        );
        let session = m.session().expect("a session");
        assert_eq!(session.state(), SharingState::Watching);
        assert_eq!(
            session.log.iter().cloned().collect::<Vec<_>>(),
            [
                LogLine::Event(SessionEvent::ControlGranted),
                LogLine::Event(SessionEvent::ControlEnded(ControlEndReason::StopButton)),
            ]
        );
        m.stop_control();
        assert!(drain(&mut m).is_empty(), "nothing to stop");
    }

    #[test]
    fn an_unanswered_control_request_is_logged_as_lapsed() {
        let mut m = live("Bob");
        m.handle_update(
            Update::ExpertWantsControl {
                request: RequestId(2),
                expert_name: "Bob".into(),
                deadline: t0() + Duration::from_secs(30),
            },
            t0(),
        );
        m.handle_timeout(t0() + Duration::from_secs(30));
        assert_eq!(
            m.session().and_then(|s| s.log.back().cloned()),
            Some(LogLine::Event(SessionEvent::ControlRequestExpired))
        );
    }

    #[test]
    fn pausing_while_controlled_stops_control_first() {
        let mut m = live("Bob");
        m.handle_update(Update::ControlGranted, t0());
        m.pause_sharing();
        let cmds = drain(&mut m);
        assert!(matches!(
            &cmds[..],
            [Command::StopControl, Command::PauseSharing]
        ));
        m.handle_update(
            Update::ControlEnded {
                why: ControlEndReason::StopButton,
            },
            t0(),
        );
        m.handle_update(Update::SharingPaused, t0());
        assert_eq!(m.session().map(Session::state), Some(SharingState::Paused));
        m.pause_sharing();
        assert!(drain(&mut m).is_empty());
        m.resume_sharing();
        assert!(matches!(&drain(&mut m)[..], [Command::ResumeSharing]));
        m.handle_update(Update::SharingResumed, t0());
        assert_eq!(
            m.session().map(Session::state),
            Some(SharingState::Watching)
        );
    }

    #[test]
    fn chat_goes_both_ways_cleaned() {
        let mut m = live("Bob");
        m.handle_update(
            Update::Chat {
                from: "Bob\u{7}".into(),
                text: "Hi\u{1b}[2J there\r\n".into(),
            },
            t0(),
        );
        if let Some(session) = m.session_mut() {
            session.draft = "  thanks  ".into();
        }
        m.send_chat();
        m.send_chat();
        let cmds = drain(&mut m);
        assert!(matches!(&cmds[..], [Command::SendChat(t)] if t == "thanks"));
        let session = m.session().expect("a session");
        assert_eq!(
            session.log.iter().cloned().collect::<Vec<_>>(),
            [
                LogLine::FromExpert {
                    name: "Bob".into(),
                    text: "Hi there".into()
                },
                LogLine::FromYou("thanks".into()),
            ]
        );
        assert!(session.draft.is_empty());
    }

    #[test]
    fn the_log_keeps_the_latest_lines() {
        let mut m = live("Bob");
        for i in 0..MAX_LOG_LINES + 10 {
            m.handle_update(
                Update::Chat {
                    from: "Bob".into(),
                    text: i.to_string(),
                },
                t0(),
            );
        }
        let log = &m.session().expect("a session").log;
        assert_eq!(log.len(), MAX_LOG_LINES);
        assert!(matches!(log.front(), Some(LogLine::FromExpert { text, .. }) if text == "10"));
    }

    #[test]
    fn the_end_of_a_session_clears_it_and_says_why() {
        let mut m = live("Bob");
        m.end_session();
        assert!(matches!(&drain(&mut m)[..], [Command::EndSession]));
        m.handle_update(
            Update::SessionEnded {
                reason: protocol::signal::EndReason::NoviceHungUp.into(),
            },
            t0(),
        );
        assert!(m.session().is_none());
        assert_eq!(m.ended(), Some(SessionEndReason::YouEnded));
        m.end_session();
        assert!(drain(&mut m).is_empty());
    }

    #[test]
    fn expiring_an_invitation_once_until_listed_again() {
        let mut m = Model::new(Language::English);
        m.show_screen(Screen::Invitations);
        assert!(matches!(&drain(&mut m)[..], [Command::ListInvitations]));
        let row = |state| InvitationRow {
            id: InvitationId::new_random(),
            state,
            created_at: t0(),
            expires_at: t0() + Duration::from_secs(3600),
            password_set: false,
            failed_attempts: 0,
        };
        let (open, expired) = (row(InvitationState::Open), row(InvitationState::Expired));
        m.handle_update(
            Update::InvitationsListed(vec![open.clone(), expired.clone()]),
            t0(),
        );
        m.expire_now(open.id);
        m.expire_now(open.id);
        m.expire_now(expired.id);
        let cmds = drain(&mut m);
        assert!(matches!(&cmds[..], [Command::ExpireNow(id)] if *id == open.id));
        assert!(m.is_expiring(open.id));
        m.handle_update(
            Update::InvitationsListed(vec![InvitationRow {
                state: InvitationState::Revoked,
                ..open.clone()
            }]),
            t0(),
        );
        assert!(!m.is_expiring(open.id));
    }

    #[test]
    fn switching_language_is_told_once() {
        let mut m = Model::new(Language::English);
        m.switch_language(Language::English);
        m.switch_language(Language::Swedish);
        assert!(matches!(
            &drain(&mut m)[..],
            [Command::SwitchLanguage(Language::Swedish)]
        ));
        assert_eq!(m.language(), Language::Swedish);
    }

    #[test]
    fn rows_from_the_server_api() {
        let summary = protocol::api::InvitationSummary {
            id: InvitationId::new_random(),
            status: protocol::api::InvitationStatus::InUse,
            created_at: 1_772_548_200,
            expires_at: 1_772_551_800,
            has_password: true,
            failed_attempts: 2,
            session_id: None,
        };
        let row = InvitationRow::from(&summary);
        assert_eq!(row.state, InvitationState::InSession);
        assert_eq!(row.created_at, t0());
        assert_eq!(row.expires_at, t0() + Duration::from_secs(3600));
        assert!(row.password_set && row.failed_attempts == 2);
        assert_eq!(from_unix(-5), UNIX_EPOCH - Duration::from_secs(5));
    }
}
