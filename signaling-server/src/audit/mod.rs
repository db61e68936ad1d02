//! The audit log's vocabulary: what happened ([`AuditKind`]) and who did it ([`Actor`]), as
//! every part of the server names them when it appends an event
//! ([`crate::store::AuditEvent`]), and [`export`]s of the log for auditors.
//!
//! Both are stored as the text of [`AuditKind::as_str`] and [`Actor::as_str`]; those texts
//! are part of every stored event's hash, so they never change once released. The chain
//! itself (appending, filters, verification) lives in [`crate::store`].

pub mod export;

use protocol::signal::ControlEvent;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditKind {
    /// An agent registered itself (`POST /api/agents`).
    AgentRegistered,
    /// A machine enrolled into an organisation with an enrolment token.
    MachineEnrolled,
    /// The novice created an invitation.
    InvitationCreated,
    /// The novice's agent sent an invitation straight to one of the desk's people.
    InvitationSentDirectly,
    /// The novice revoked an invitation (and ended its session, if any).
    InvitationRevoked,
    /// An expert opened an invitation; the novice is being asked.
    InvitationRedeemed,
    /// An expert gave a wrong password.
    WrongPassword,
    /// The wrong password that locked the invitation.
    InvitationLocked,
    /// An operator offered help to an enrolled machine; the novice is being asked.
    HelpOffered,
    /// The addressee of a direct invitation accepted it; the novice is being asked.
    DirectInvitationAccepted,
    /// The addressee of a direct invitation declined it.
    DirectInvitationDeclined,
    /// The novice let the expert in.
    SessionAccepted,
    /// The novice said no, or did not answer in time.
    SessionDeclined,
    ControlRequested,
    ControlGranted,
    ControlRefused,
    ControlStopped,
    /// A session ended; the detail says why.
    SessionEnded,
    /// Somebody signed in to the desk.
    SignedIn,
    /// A sign-in with a wrong login or password; the detail is the client address.
    SignInFailed,
    SignedOut,
    /// An account was created (from the command line or by an administrator).
    AccountCreated,
    EnrolmentTokenCreated,
    EnrolmentTokenRevoked,
}

impl AuditKind {
    /// Every kind, for filters and tests.
    pub const ALL: [Self; 24] = [
        Self::AgentRegistered,
        Self::MachineEnrolled,
        Self::InvitationCreated,
        Self::InvitationSentDirectly,
        Self::InvitationRevoked,
        Self::InvitationRedeemed,
        Self::WrongPassword,
        Self::InvitationLocked,
        Self::HelpOffered,
        Self::DirectInvitationAccepted,
        Self::DirectInvitationDeclined,
        Self::SessionAccepted,
        Self::SessionDeclined,
        Self::ControlRequested,
        Self::ControlGranted,
        Self::ControlRefused,
        Self::ControlStopped,
        Self::SessionEnded,
        Self::SignedIn,
        Self::SignInFailed,
        Self::SignedOut,
        Self::AccountCreated,
        Self::EnrolmentTokenCreated,
        Self::EnrolmentTokenRevoked,
    ];

    /// The stored name: snake_case, as in every log written so far.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AgentRegistered => "agent_registered",
            Self::MachineEnrolled => "machine_enrolled",
            Self::InvitationCreated => "invitation_created",
            Self::InvitationSentDirectly => "invitation_sent_directly",
            Self::InvitationRevoked => "invitation_revoked",
            Self::InvitationRedeemed => "invitation_redeemed",
            Self::WrongPassword => "wrong_password",
            Self::InvitationLocked => "invitation_locked",
            Self::HelpOffered => "help_offered",
            Self::DirectInvitationAccepted => "direct_invitation_accepted",
            Self::DirectInvitationDeclined => "direct_invitation_declined",
            Self::SessionAccepted => "session_accepted",
            Self::SessionDeclined => "session_declined",
            Self::ControlRequested => "control_requested",
            Self::ControlGranted => "control_granted",
            Self::ControlRefused => "control_refused",
            Self::ControlStopped => "control_stopped",
            Self::SessionEnded => "session_ended",
            Self::SignedIn => "signed_in",
            Self::SignInFailed => "sign_in_failed",
            Self::SignedOut => "signed_out",
            Self::AccountCreated => "account_created",
            Self::EnrolmentTokenCreated => "enrolment_token_created",
            Self::EnrolmentTokenRevoked => "enrolment_token_revoked",
        }
    }
}

impl From<ControlEvent> for AuditKind {
    fn from(event: ControlEvent) -> Self {
        match event {
            ControlEvent::Requested => Self::ControlRequested,
            ControlEvent::Granted => Self::ControlGranted,
            ControlEvent::Refused => Self::ControlRefused,
            ControlEvent::Stopped => Self::ControlStopped,
        }
    }
}

/// Who did it, as a person reading the log would name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor<'a> {
    /// The server on its own account (a session ending).
    Server,
    /// `signaling-server admin` on the server's command line.
    Command,
    /// The novice at the agent, unnamed.
    Novice,
    /// The expert of a session, unnamed.
    Expert,
    /// A machine, by the name its agent gave.
    Machine(&'a str),
    /// A person: an expert by the name they gave, or a desk account by its login.
    Person(&'a str),
}

impl<'a> Actor<'a> {
    /// The stored text.
    pub const fn as_str(self) -> &'a str {
        match self {
            Self::Server => "server",
            Self::Command => "server command",
            Self::Novice => "novice",
            Self::Expert => "expert",
            Self::Machine(name) | Self::Person(name) => name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_kind_has_its_own_stored_name() {
        let names: HashSet<_> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), AuditKind::ALL.len());
    }

    #[test]
    fn control_events_keep_the_names_the_protocol_gives_them() {
        for event in [
            ControlEvent::Requested,
            ControlEvent::Granted,
            ControlEvent::Refused,
            ControlEvent::Stopped,
        ] {
            assert_eq!(AuditKind::from(event).as_str(), event.audit_kind());
        }
    }

    #[test]
    fn actors_are_stored_as_before() {
        assert_eq!(Actor::Server.as_str(), "server");
        assert_eq!(Actor::Command.as_str(), "server command");
        assert_eq!(Actor::Novice.as_str(), "novice");
        assert_eq!(Actor::Expert.as_str(), "expert");
        assert_eq!(Actor::Person("ada").as_str(), "ada");
        assert_eq!(Actor::Machine("Ada's laptop").as_str(), "Ada's laptop");
    }
}
