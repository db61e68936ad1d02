//! JSON bodies of the signaling server's HTTP API (`/api/...`).
//!
//! Times are Unix seconds (UTC) so that both Rust and JavaScript read them without a date parser.

use crate::ids::{AgentId, InvitationId, SessionId};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Error body of every failed request: a stable machine code and a sentence for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorBody {
    /// Stable code such as `wrong_password`, `expired`, `bad_request`.
    pub error: String,
    /// What happened and what to do, in plain words.
    pub message: String,
}

/// `POST /api/agents`: a machine registers once and receives its credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RegisterAgentRequest {
    /// Name shown to experts ("Alice on alice-laptop"): 1 to 64 characters once trimmed, no
    /// control characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RegisterAgentResponse {
    pub agent_id: AgentId,
    /// Bearer credential for every later call (`Authorization: Bearer <token>`). Shown once;
    /// the server keeps only its SHA-256.
    pub agent_token: String,
}

/// `POST /api/enroll`: a machine joins an organisation with an enrolment token from its
/// administrator, and from then on shows in that organisation's support-desk dashboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EnrollRequest {
    /// The enrolment token, as the administrator handed it out.
    pub token: String,
    /// Name shown on the dashboard and to experts ("Alice on alice-laptop"): 1 to 64
    /// characters once trimmed, no control characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EnrollResponse {
    pub agent_id: AgentId,
    /// Bearer credential, as from registration. Shown once.
    pub agent_token: String,
    /// The organisation the machine now belongs to.
    pub organisation: String,
}

/// `POST /api/invitations` (agent only).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreateInvitationRequest {
    /// Lifetime in seconds; default one hour, at least a minute, at most 30 days.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 60, maximum = 2_592_000))]
    pub expires_in_secs: Option<u64>,
    /// Whether the expert will be asked for a password. The password itself never reaches the
    /// server: the agent checks it with the expert's browser (docs/pake.md); the server only
    /// tells the console to show a password field.
    #[serde(default)]
    pub has_password: bool,
    /// Not accepted: a request carrying a password is refused (400 `password_not_accepted`),
    /// so that an agent of an older version never believes the server guards its invitation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(deprecated))]
    pub password: Option<String>,
    /// Have the server e-mail the invitation to this address (needs an SMTP relay configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_to: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InvitationCreated {
    pub id: InvitationId,
    /// Link to send to the expert: `<base-url>/i/<code>`.
    pub link: String,
    /// The secret code in the link (at least 128 bits of entropy).
    pub code: String,
    /// Short code to read out over the phone, e.g. `K7PQ-M2XD-4RTA`.
    pub short_code: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub has_password: bool,
    /// Where the server e-mailed the invitation, when asked to and the relay took it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emailed_to: Option<String>,
    /// Why the e-mail asked for could not be sent; the invitation exists all the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_error: Option<String>,
}

/// One expert of the machine's support desk, as `GET /api/experts` lists them for the novice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExpertSummary {
    /// What `agent invite --to` takes.
    pub login: String,
    pub name: String,
    /// Signed in with the dashboard open right now.
    pub online: bool,
}

/// `POST /api/invitations/direct` (enrolled agent only): invite one expert of the support desk,
/// who answers with Accept or Decline in the browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DirectInvitationRequest {
    /// The expert's login, as `GET /api/experts` lists it.
    pub to: String,
    /// Lifetime in seconds; default one hour, at least a minute, at most 30 days.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 60, maximum = 2_592_000))]
    pub expires_in_secs: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DirectInvitationSent {
    pub id: InvitationId,
    pub to: ExpertSummary,
    pub created_at: i64,
    pub expires_at: i64,
}

/// What state an invitation is in, as the novice sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    /// Can be redeemed.
    Open,
    /// An expert redeemed it and the session has not ended yet.
    InUse,
    /// Its lifetime ran out.
    Expired,
    /// The novice expired it by hand.
    Revoked,
    /// The agent locked it after too many failed password checks.
    Locked,
    /// The expert it was sent to directly declined it.
    Declined,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::InUse => "in use",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::Locked => "locked",
            Self::Declined => "declined",
        }
    }
}

/// One row of `GET /api/invitations`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InvitationSummary {
    pub id: InvitationId,
    pub status: InvitationStatus,
    pub created_at: i64,
    pub expires_at: i64,
    pub has_password: bool,
    pub failed_attempts: u32,
    /// The session using it, while status is `in_use`.
    pub session_id: Option<SessionId>,
}

/// `POST /api/redeem`: the expert's browser opens an invitation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RedeemRequest {
    /// The code from the link, or the lookup part of the short code. Never the secret after
    /// the link's `#`, nor a password: those stay between the browser and the agent.
    pub code: String,
    /// How the expert calls themself; shown to the novice in the consent prompt: 1 to 64
    /// characters once trimmed, no control characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub expert_name: String,
}

/// A STUN or TURN server for `RTCPeerConnection`'s `iceServers`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RedeemResponse {
    pub session_id: SessionId,
    /// The invitation opened: the browser derives the password check's scalar from it
    /// (docs/pake.md), as the agent does.
    pub invitation_id: InvitationId,
    /// Short-lived signed ticket for the expert's WebSocket (`/ws/expert`).
    pub ticket: String,
    pub ticket_expires_at: i64,
    /// Display name of the novice's agent.
    pub novice_name: String,
    /// STUN servers only: the session's TURN credential comes with the novice's consent
    /// (`ServerToExpert::Consent`).
    pub ice_servers: Vec<IceServer>,
}

/// `POST /api/invitations/{id}/failures` (agent only): the password checks of this invitation
/// that failed on the agent so far, and whether the agent locked it. The server only records
/// and shows this; the agent refuses a locked invitation whatever the server says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FailedChecks {
    /// Failed checks counted by the agent; the server keeps the largest it was told.
    #[cfg_attr(feature = "openapi", schema(maximum = 1000))]
    pub failed_attempts: u32,
    /// The agent locked the invitation: the server refuses to redeem it from now on.
    pub locked: bool,
}

/// `GET /api/invitations/lookup/{code}`: what the console may show before the password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InvitationPreview {
    pub novice_name: String,
    pub status: InvitationStatus,
    pub has_password: bool,
    pub expires_at: i64,
}

/// `GET /health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Health {
    pub status: String,
    pub database: String,
}
