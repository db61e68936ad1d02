//! Frames on the signaling WebSockets.
//!
//! The agent connects to `/ws/agent` with `Authorization: Bearer <agent token>` and speaks
//! [`AgentToServer`] / [`ServerToAgent`]. The expert's browser connects to `/ws/expert`, sends
//! [`ExpertToServer::Hello`] with the ticket from redemption as its first frame, and then speaks
//! [`ExpertToServer`] / [`ServerToExpert`]. Every frame is one JSON text message of at most
//! [`crate::MAX_SIGNAL_FRAME`] bytes.
//!
//! The server relays [`Signal`]s between the two members of one session and nobody else. It never
//! decides consent: it only carries the novice's answer from the agent to the expert.

use crate::api::IceServer;
use crate::ids::{InvitationId, SessionId};
use serde::{Deserialize, Deserializer, Serialize};

/// WebRTC negotiation payload relayed verbatim between the peers of one session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    /// SDP offer (the agent offers: it owns the media).
    Offer { sdp: String },
    /// SDP answer.
    Answer { sdp: String },
    /// One trickle-ICE candidate (RFC 8838), as `RTCIceCandidateInit`.
    Candidate {
        candidate: String,
        #[serde(default, rename = "sdpMid")]
        sdp_mid: Option<String>,
        #[serde(default, rename = "sdpMLineIndex")]
        sdp_mline_index: Option<u16>,
    },
    /// No more candidates will follow from this side.
    EndOfCandidates,
}

/// Why a session ended, as told to the side that did not end it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The novice ended it.
    NoviceHungUp,
    /// The expert ended it.
    ExpertHungUp,
    /// The novice said no.
    Declined,
    /// The novice did not answer in time.
    ConsentTimeout,
    /// The other side's connection was lost.
    PeerGone,
    /// The novice expired the invitation while it was in use.
    Revoked,
    /// The server is shutting down.
    ServerShutdown,
    /// The server could not write the session's consent to its audit log, so the session did
    /// not go ahead.
    NotRecorded,
    /// The expert's browser answered without a video codec the agent can send (it decodes
    /// neither H.264 nor VP8), so there is no picture to show.
    VideoUnsupported,
    /// The password check between the agent and the browser failed: the password (or the
    /// secret in the link) was wrong, or someone in the middle of the connection presented
    /// certificates of its own. SPAKE2 cannot tell the two apart.
    PasswordMismatch,
    /// The agent's own record of the invitation says it cannot be opened (expired, revoked,
    /// locked, or not an invitation this agent holds), whatever the server said.
    InvitationClosed,
}

impl EndReason {
    /// A sentence for people.
    pub fn describe(self) -> &'static str {
        match self {
            Self::NoviceHungUp => "The person you are helping ended the session.",
            Self::ExpertHungUp => "The expert ended the session.",
            Self::Declined => "The person you wanted to help declined the connection.",
            Self::ConsentTimeout => "The person you wanted to help did not answer in time.",
            Self::PeerGone => "The other side's connection was lost.",
            Self::Revoked => "The invitation was expired by its owner.",
            Self::ServerShutdown => "The server is shutting down.",
            Self::NotRecorded => "The server could not record the session; try again later.",
            Self::VideoUnsupported => "This browser cannot show the picture: it decodes neither H.264 nor VP8 video. Open the invitation in a current Firefox, Chrome, Edge or Safari.",
            Self::PasswordMismatch => "The password was wrong, or someone is intercepting the connection. Nothing was shared.",
            Self::InvitationClosed => "The computer you wanted to help no longer accepts this invitation (it expired, was cancelled or is locked). Ask for a new one.",
        }
    }

    /// Whether the agent may name this reason when it hangs up: only what the agent itself
    /// found out; the rest the server decides.
    pub fn agent_may_give(self) -> bool {
        matches!(
            self,
            Self::VideoUnsupported | Self::PasswordMismatch | Self::InvitationClosed
        )
    }
}

/// From the agent to the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentToServer {
    /// The novice's answer to [`ServerToAgent::SessionRequest`].
    Consent { session_id: SessionId, accept: bool },
    /// Negotiation for one of this agent's sessions.
    Signal {
        session_id: SessionId,
        signal: Signal,
    },
    /// The novice ends the session, or the agent has to: `reason` says why when the agent found
    /// out something the expert must hear (see [`EndReason::agent_may_give`]).
    HangUp {
        session_id: SessionId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<EndReason>,
    },
    /// Keep-alive; answered with [`ServerToAgent::Pong`].
    Ping,
    /// Connection quality of a live session, every few seconds while the screen is shared; the
    /// support desk's dashboard shows it.
    Stats {
        session_id: SessionId,
        stats: SessionStats,
    },
    /// Remote control changed in a session; the server records it in the audit log.
    Control {
        session_id: SessionId,
        event: ControlEvent,
    },
}

/// What the agent measures of a live session.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionStats {
    /// Video frames sent per second: finite and never negative.
    #[serde(deserialize_with = "frame_rate")]
    pub fps: f32,
    /// Video bitrate sent, in kbit/s.
    pub kbps: u32,
    /// Round-trip time to the expert's browser, when measured.
    #[serde(default)]
    pub rtt_ms: Option<u32>,
}

/// Reads a frame rate, refusing what no measurement gives: negative rates, and numbers too
/// large for an `f32`, which would turn infinite there and into `null` when passed on.
fn frame_rate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f32, D::Error> {
    let fps = f64::deserialize(deserializer)?;
    if (0.0..=f64::from(f32::MAX)).contains(&fps) {
        // In range, so the nearest f32 is finite.
        Ok(fps as f32)
    } else {
        Err(serde::de::Error::custom(format!(
            "fps must be a frame rate of at least 0 frames per second, not {fps}"
        )))
    }
}

/// A change of remote control, as the agent (the only authority on control) decided it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlEvent {
    /// The expert asked to take control.
    Requested,
    /// The novice granted it.
    Granted,
    /// The novice refused, or did not answer.
    Refused,
    /// Control stopped (either side); the session goes on view-only.
    Stopped,
}

impl ControlEvent {
    /// The audit log's kind for this event.
    pub fn audit_kind(self) -> &'static str {
        match self {
            Self::Requested => "control_requested",
            Self::Granted => "control_granted",
            Self::Refused => "control_refused",
            Self::Stopped => "control_stopped",
        }
    }
}

/// From the server to the agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerToAgent {
    /// Sent once after the connection is authenticated.
    Welcome {
        agent_name: String,
    },
    /// An expert redeemed one of this agent's invitations; the novice must answer with
    /// [`AgentToServer::Consent`].
    SessionRequest {
        session_id: SessionId,
        invitation_id: InvitationId,
        expert_name: String,
        ice_servers: Vec<IceServer>,
        /// Unix seconds after which the request lapses unanswered.
        answer_by: i64,
        /// Set when a support-desk operator offers help unasked: the organisation's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        offered_by_desk: Option<String>,
        /// Set when the session was already asked about (or accepted) and the expert's page
        /// came back without proof that it is the same browser: the novice must answer again,
        /// and whatever was shared with the previous page stops.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        again: bool,
    },
    Signal {
        session_id: SessionId,
        signal: Signal,
    },
    SessionEnded {
        session_id: SessionId,
        reason: EndReason,
    },
    /// The expert a direct invitation went to declined it.
    InvitationDeclined {
        invitation_id: InvitationId,
        expert_name: String,
    },
    /// The change of remote control the agent reported is in the audit log: sent only once
    /// its row is committed. Reports that arrive faster than the audit log takes them are
    /// coalesced (the first and the last of each short window are kept), and only the kept ones
    /// are acknowledged.
    ControlRecorded {
        session_id: SessionId,
        event: ControlEvent,
    },
    Pong,
    /// The last frame was refused; the connection stays open, except after
    /// [`ERROR_REPLACED`].
    Error {
        code: String,
        message: String,
    },
}

/// `Error` code sent just before the server closes an expert's connection because a newer one
/// from the same page (it proved so with its resume secret) took its place.
pub const ERROR_REPLACED: &str = "replaced";

/// `Error` code sent just before the server closes an expert's connection whose ticket was
/// already used by another browser that is still connected: a ticket admits one browser.
pub const ERROR_TICKET_USED: &str = "ticket_used";

/// From the expert's browser to the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ExpertToServer {
    /// First frame: the ticket from `POST /api/redeem`. A page that was admitted before and
    /// lost its connection also presents the `resume` secret it was given then: that proves it
    /// is the same browser, which goes on without asking the novice again.
    Hello {
        ticket: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<String>,
    },
    Signal {
        signal: Signal,
    },
    HangUp,
    Ping,
}

/// The state of the novice's decision, as the expert sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    /// The novice is being asked.
    Waiting,
    /// The novice said yes; the agent's offer follows.
    Accepted,
}

/// From the server to the expert's browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerToExpert {
    /// Sent after the ticket is accepted and whenever consent changes. `Accepted` is sent only
    /// once the novice's answer is in the audit log.
    Consent {
        state: ConsentState,
        novice_name: String,
        /// On the first frame after a hello: the secret this browser presents to resume the
        /// session after a dropped connection. The page keeps it in memory only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<String>,
        /// Once the novice has accepted: the STUN and TURN servers of the session, with its
        /// TURN credential. Empty while waiting: no relay is handed out before a yes.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        ice_servers: Vec<IceServer>,
    },
    Signal {
        signal: Signal,
    },
    SessionEnded {
        reason: EndReason,
        message: String,
    },
    Pong,
    /// The last frame was refused; the connection stays open unless the ticket was bad.
    Error {
        code: String,
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_uses_browser_field_names() {
        let s = Signal::Candidate {
            candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host".into(),
            sdp_mid: Some("0".into()),
            sdp_mline_index: Some(0),
        };
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["kind"], "candidate");
        assert_eq!(json["sdpMid"], "0");
        assert_eq!(json["sdpMLineIndex"], 0);
    }

    #[test]
    fn unknown_type_is_rejected() {
        let err = serde_json::from_str::<ExpertToServer>(r#"{"type":"take_over"}"#);
        assert!(err.is_err());
    }

    #[test]
    fn a_hello_without_a_resume_secret_is_a_first_hello() {
        let hello: ExpertToServer =
            serde_json::from_str(r#"{"type":"hello","ticket":"t"}"#).unwrap();
        assert_eq!(
            hello,
            ExpertToServer::Hello {
                ticket: "t".into(),
                resume: None
            }
        );
        let consent = ServerToExpert::Consent {
            state: ConsentState::Waiting,
            novice_name: "Alice".into(),
            resume: None,
            ice_servers: vec![],
        };
        let json = serde_json::to_value(&consent).unwrap();
        assert!(json.get("resume").is_none(), "{json}");
    }

    #[test]
    fn a_request_is_marked_again_only_when_it_is_asked_again() {
        let request = |again| ServerToAgent::SessionRequest {
            session_id: SessionId::new_random(),
            invitation_id: InvitationId::new_random(),
            expert_name: "Bob".into(),
            ice_servers: vec![],
            answer_by: 0,
            offered_by_desk: None,
            again,
        };
        let first = serde_json::to_value(request(false)).unwrap();
        assert!(first.get("again").is_none(), "{first}");
        let again = serde_json::to_value(request(true)).unwrap();
        assert_eq!(again["again"], true);
        let back: ServerToAgent = serde_json::from_value(first).unwrap();
        assert!(matches!(
            back,
            ServerToAgent::SessionRequest { again: false, .. }
        ));
    }

    #[test]
    fn frames_round_trip() {
        let m = AgentToServer::Signal {
            session_id: SessionId::new_random(),
            signal: Signal::Offer { sdp: "v=0".into() },
        };
        let text = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<AgentToServer>(&text).unwrap(), m);
    }
}
