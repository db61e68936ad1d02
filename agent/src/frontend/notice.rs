//! What the session tells the novice, as data: each front-end words it its own way. The
//! terminal prints [`Notice`]'s `Display` (English sentences, a question ending in `[y/N]`);
//! the window turns it into its own updates ([`super::window`]) and speaks the novice's language.
//!
//! Names and chat text in a notice were cleaned by the session ([`protocol::text::clean`])
//! before they got here.

use crate::control::StopReason;
use crate::invitation::record::{Closed, MAX_FAILED_CHECKS};
use crate::verify::GateFailure;
use protocol::ids::SessionId;
use protocol::signal::EndReason;
use std::fmt;
use std::time::{Duration, Instant};

/// One thing the novice should know, or one question they must answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// A question: may `expert` see the screen? Unanswered by `deadline`, it is a no.
    WantsToSee {
        session: SessionId,
        expert: String,
        /// For help a support desk offers: the desk's name and its operator's own name.
        offered_by: Option<DeskOffer>,
        answer_time: Duration,
        deadline: Instant,
    },
    /// A question during a session: may `expert` control the computer?
    WantsControl {
        expert: String,
        answer_time: Duration,
        deadline: Instant,
    },
    /// The question on screen was not answered in time and counts as a no.
    NoAnswerInTime { control: bool },
    /// The novice said no to `expert`.
    YouDeclined { expert: String, control: bool },
    /// The novice said yes; the connection is being set up.
    Connecting { expert: String },
    /// The connection is up and the expert's browser passed the password check.
    Watching { expert: String },
    /// The novice allowed control.
    ControlGranted { expert: String },
    /// Control ended.
    ControlStopped(StopReason),
    /// A chat message from the expert.
    Chat { from: String, text: String },
    /// Sharing paused (`true`) or resumed.
    Paused(bool),
    /// `/stop` while nobody controls the computer.
    NobodyControls,
    /// A chat line typed before the expert's browser passed the check.
    ChatNotSent,
    /// `/end` or `/stop` with no session.
    NoSession,
    /// A second expert asked while one is connected, and was declined.
    AlsoAsked { expert: String },
    /// A request the agent refused by itself, without asking.
    RefusedUnasked { expert: String, why: Refusal },
    /// The expert's page came back without proof that it is the browser the novice allowed.
    BrowserNotProven { expert: String },
    /// The password check failed; nothing was shared.
    CheckFailed {
        expert: String,
        failure: GateFailure,
        /// Tries left before the invitation locks, when the failure was a guess.
        tries_left: Option<u32>,
    },
    /// The expert's browser plays no codec the agent sends.
    VideoUnsupported,
    /// The peer connection broke.
    ConnectionLost { reason: String },
    /// The novice ended the session.
    YouEnded,
    /// The server ended the session.
    SessionEnded(EndReason),
    /// A desk expert declined a direct invitation; `nothing_left` when it was this run's only
    /// one, and the agent stops.
    InvitationDeclined { expert: String, nothing_left: bool },
}

/// Help offered by a support desk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeskOffer {
    pub desk: String,
    pub operator: String,
}

/// Why the agent refused a request without asking the novice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A support desk offered help, but this machine is not enrolled into one.
    NotEnrolled,
    /// The invitation cannot be used.
    Closed(Closed),
}

impl Notice {
    /// Whether this asks the novice something (the terminal's next line answers it).
    pub fn is_question(&self) -> bool {
        matches!(self, Self::WantsToSee { .. } | Self::WantsControl { .. })
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WantsToSee {
                expert,
                offered_by,
                answer_time,
                ..
            } => {
                match offered_by {
                    Some(offer) => write!(
                        f,
                        "{} from the {} support desk offers to help you. Let them see your screen? [y/N]",
                        offer.operator, offer.desk
                    )?,
                    None => write!(f, "{expert} wants to see your screen. Allow? [y/N]")?,
                }
                write!(f, " ({} s to answer)", answer_time.as_secs())
            }
            Self::WantsControl {
                expert,
                answer_time,
                ..
            } => write!(
                f,
                "{expert} wants to control your computer. Allow? [y/N] ({} s to answer)\n  \
                 To stop control at any time: hold Esc, press Ctrl+C here, or type /stop.",
                answer_time.as_secs()
            ),
            Self::NoAnswerInTime { control: false } => {
                f.write_str("No answer in time: the request was declined.")
            }
            Self::NoAnswerInTime { control: true } => {
                f.write_str("No answer in time: the request for control was declined.")
            }
            Self::YouDeclined {
                expert,
                control: false,
            } => write!(f, "You declined {expert}'s request."),
            Self::YouDeclined {
                expert,
                control: true,
            } => write!(f, "You declined {expert}'s request for control."),
            Self::Connecting { expert } => write!(f, "Connecting {expert} to your screen..."),
            Self::Watching { expert } => write!(
                f,
                "{expert} is now watching your screen. Type a message and press Enter to chat; /pause pauses sharing, /end ends the session."
            ),
            Self::ControlGranted { expert } => write!(
                f,
                "{expert} now controls your mouse and keyboard. To stop: hold Esc, press Ctrl+C here, or type /stop."
            ),
            Self::ControlStopped(reason) => f.write_str(match reason {
                StopReason::EscHeld => "You held Esc: remote control stopped.",
                StopReason::CtrlC => "Ctrl+C: remote control stopped.",
                StopReason::StopCommand => "Remote control stopped.",
                StopReason::ExpertReleased => "Your helper gave control back.",
            }),
            Self::Chat { from, text } => write!(f, "[{from}] {text}"),
            Self::Paused(true) => f.write_str(
                "Sharing paused: your helper sees nothing of your screen until you type /resume.",
            ),
            Self::Paused(false) => f.write_str("Sharing resumed: your helper sees your screen again."),
            Self::NobodyControls => f.write_str("Nobody controls your computer."),
            Self::ChatNotSent => f.write_str("Not sent: your helper has not finished connecting."),
            Self::NoSession => f.write_str("No session is running."),
            Self::AlsoAsked { expert } => write!(
                f,
                "{expert} also asked to connect; declined because another helper is connected."
            ),
            Self::RefusedUnasked { expert, why } => match why {
                Refusal::NotEnrolled => write!(
                    f,
                    "{expert} offered help from a support desk, but this computer is not enrolled into one; refused without asking you."
                ),
                Refusal::Closed(closed) => write!(
                    f,
                    "{expert} opened an invitation of yours, but {}; refused without asking you.",
                    closed.describe()
                ),
            },
            Self::BrowserNotProven { expert } => write!(
                f,
                "{expert}'s browser reconnected and could not prove it is the one you allowed; sharing stopped."
            ),
            Self::CheckFailed {
                expert,
                failure,
                tries_left,
            } => {
                match failure {
                    GateFailure::Mismatch => write!(
                        f,
                        "{expert} entered a wrong password, or someone is intercepting the connection"
                    )?,
                    other => write!(f, "{expert} could not be let in: {}", other.describe())?,
                }
                f.write_str(". Nothing of your screen was shared, and the session ended.")?;
                match tries_left {
                    Some(0) => write!(
                        f,
                        " The invitation is now locked after {MAX_FAILED_CHECKS} failed tries; nobody can use it any more."
                    ),
                    Some(1) => f.write_str(" 1 more try before the invitation locks."),
                    Some(n) => write!(f, " {n} more tries before the invitation locks."),
                    None => Ok(()),
                }
            }
            Self::VideoUnsupported => f.write_str(
                "Your helper's browser cannot show your screen (it plays neither H.264 nor VP8 video), so the session ended. Ask them to open the invitation in a current Firefox, Chrome, Edge or Safari.",
            ),
            Self::ConnectionLost { reason } => {
                write!(f, "The connection to your helper was lost ({reason}).")
            }
            Self::YouEnded => f.write_str("You ended the session."),
            Self::SessionEnded(reason) => write!(f, "Session ended: {}", ended_text(*reason)),
            Self::InvitationDeclined {
                expert,
                nothing_left,
            } => {
                write!(f, "{expert} declined your invitation.")?;
                if *nothing_left {
                    f.write_str("\nNobody else was invited this time; the agent stops. Run `agent experts` to see who else is online.")?;
                }
                Ok(())
            }
        }
    }
}

fn ended_text(reason: EndReason) -> &'static str {
    match reason {
        EndReason::ExpertHungUp => "Your helper ended the session.",
        EndReason::PeerGone => "Your helper's connection was lost; the session ended.",
        EndReason::ConsentTimeout => "The request lapsed without an answer.",
        EndReason::Revoked => "The invitation was expired; the session ended.",
        EndReason::ServerShutdown => "The server is shutting down; the session ended.",
        EndReason::Declined => "The request was declined.",
        EndReason::NoviceHungUp => "You ended the session.",
        EndReason::NotRecorded => "The server could not record the session.",
        EndReason::VideoUnsupported => {
            "Your helper's browser cannot show your screen (it plays neither H.264 nor VP8 video)."
        }
        EndReason::PasswordMismatch => {
            "The password was wrong, or someone is intercepting the connection."
        }
        EndReason::InvitationClosed => "The invitation can no longer be used.",
    }
}
