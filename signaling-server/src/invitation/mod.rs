//! Invitation lifecycle as a pure type: no IO, no clock reads, no randomness of its own.
//!
//! An [`Invitation`] is loaded from the store, asked to handle one input with the current time
//! (`handle_redeem`, `handle_revoke`, `handle_session_ended`, `handle_failed_checks`), and
//! written back; the store guards the write with the row's `version` so two concurrent
//! redemptions cannot both win.
//!
//! The server does not judge passwords: the agent checks the password (or the secret of a link
//! without one) with the expert's browser once the novice has allowed the connection
//! (`docs/pake.md`), counts the failures itself, locks the invitation after
//! `agent::MAX_FAILED_CHECKS` and tells the server ([`Invitation::handle_failed_checks`]). The
//! server only keeps what it is told, to show the novice and to refuse a locked invitation early.
//!
//! Status precedence, as the novice sees it: revoked, then locked, then declined, then in use,
//! then expired, then open. An invitation in use stays in use until its session ends even if it
//! expires meanwhile: expiry is about *opening* it, not about cutting a running session.
//!
//! A *direct* invitation is addressed to one expert ([`Invitation::direct_to`]) and has no link
//! anybody could open: that expert answers it once, with [`Invitation::handle_accept`] or
//! [`Invitation::handle_decline`]. Once its session is over it counts as expired.

pub mod codes;

use protocol::api::InvitationStatus;
use protocol::ids::{AgentId, InvitationId, SessionId, UserId};

/// Default lifetime when the novice does not choose one.
pub const DEFAULT_LIFETIME_SECS: u64 = 60 * 60;
/// Longest lifetime a novice may choose.
pub const MAX_LIFETIME_SECS: u64 = 30 * 24 * 60 * 60;
/// Shortest lifetime that still gives an expert time to open the link.
pub const MIN_LIFETIME_SECS: u64 = 60;
/// Most failed checks an agent may report: far above its own limit, so that a count from a
/// misbehaving agent stays a small number.
pub const MAX_REPORTED_FAILURES: u32 = 1000;

/// Why an invitation cannot be created.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CreateError {
    #[error("an invitation must last at least {MIN_LIFETIME_SECS} seconds")]
    TooShort,
    #[error("an invitation can last at most 30 days ({MAX_LIFETIME_SECS} seconds)")]
    TooLong,
}

/// Why a redemption was refused. Each maps to what the expert needs to know and no more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Expired,
    Revoked,
    /// The agent locked it after too many failed password checks.
    Locked,
    /// Another expert is using it right now.
    InUse,
}

/// Why an expert's answer to a direct invitation was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerRefusal {
    /// It is not addressed to this expert (or is no direct invitation at all).
    NotYours,
    Expired,
    /// The novice withdrew it.
    Revoked,
    /// It was accepted before; its session may be running or over.
    AlreadyAccepted,
    AlreadyDeclined,
}

/// One invitation's persistent state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub id: InvitationId,
    pub agent_id: AgentId,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// Whether the console asks the expert for a password (the agent checks it).
    pub has_password: bool,
    /// Failed password checks, as the agent last reported them.
    pub failed_attempts: u32,
    /// When the agent said it locked the invitation.
    pub locked_at: Option<i64>,
    pub active_session: Option<SessionId>,
    /// The expert a direct invitation is addressed to.
    pub direct_to: Option<UserId>,
    /// When the expert of a direct invitation accepted or declined it.
    pub accepted_at: Option<i64>,
    pub declined_at: Option<i64>,
    /// Optimistic-concurrency version, bumped by the store on every write.
    pub version: i64,
}

impl Invitation {
    /// A new open invitation. `lifetime_secs` defaults to one hour.
    pub fn create(
        id: InvitationId,
        agent_id: AgentId,
        has_password: bool,
        lifetime_secs: Option<u64>,
        now: i64,
    ) -> Result<Self, CreateError> {
        let lifetime = lifetime_secs.unwrap_or(DEFAULT_LIFETIME_SECS);
        if lifetime < MIN_LIFETIME_SECS {
            return Err(CreateError::TooShort);
        }
        if lifetime > MAX_LIFETIME_SECS {
            return Err(CreateError::TooLong);
        }
        Ok(Self {
            id,
            agent_id,
            created_at: now,
            expires_at: now + lifetime as i64,
            revoked_at: None,
            has_password,
            failed_attempts: 0,
            locked_at: None,
            active_session: None,
            direct_to: None,
            accepted_at: None,
            declined_at: None,
            version: 0,
        })
    }

    /// A new direct invitation for the expert `to`, answered with Accept or Decline.
    pub fn create_direct(
        id: InvitationId,
        agent_id: AgentId,
        to: UserId,
        lifetime_secs: Option<u64>,
        now: i64,
    ) -> Result<Self, CreateError> {
        Ok(Self {
            direct_to: Some(to),
            ..Self::create(id, agent_id, false, lifetime_secs, now)?
        })
    }

    /// The state the novice sees at `now`.
    pub fn status(&self, now: i64) -> InvitationStatus {
        if self.revoked_at.is_some() {
            InvitationStatus::Revoked
        } else if self.locked_at.is_some() {
            InvitationStatus::Locked
        } else if self.declined_at.is_some() {
            InvitationStatus::Declined
        } else if self.active_session.is_some() {
            InvitationStatus::InUse
        } else if now >= self.expires_at || self.accepted_at.is_some() {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Open
        }
    }

    /// Why the invitation cannot be opened at `now`, if it cannot.
    pub fn check_open(&self, now: i64) -> Result<(), Refusal> {
        match self.status(now) {
            InvitationStatus::Revoked => Err(Refusal::Revoked),
            InvitationStatus::Locked => Err(Refusal::Locked),
            InvitationStatus::Expired => Err(Refusal::Expired),
            InvitationStatus::InUse => Err(Refusal::InUse),
            // Codes of a direct invitation are never handed out; should one be guessed, it is
            // as good as withdrawn.
            InvitationStatus::Declined => Err(Refusal::Revoked),
            InvitationStatus::Open if self.direct_to.is_some() => Err(Refusal::Revoked),
            InvitationStatus::Open => Ok(()),
        }
    }

    /// An expert opens the invitation: on success it is in use by `session`. Whether the expert
    /// knows the password is for the agent to find out.
    pub fn handle_redeem(&mut self, session: SessionId, now: i64) -> Result<(), Refusal> {
        self.check_open(now)?;
        self.active_session = Some(session);
        Ok(())
    }

    /// The agent reports `failed` password checks so far, and whether it locked the
    /// invitation. Counts only grow (a stale report changes nothing) and a lock stays. Returns
    /// whether this report locked it.
    pub fn handle_failed_checks(&mut self, failed: u32, locked: bool, now: i64) -> bool {
        self.failed_attempts = self.failed_attempts.max(failed.min(MAX_REPORTED_FAILURES));
        if locked && self.locked_at.is_none() {
            self.locked_at = Some(now);
            return true;
        }
        false
    }

    /// Why `expert` may not answer this direct invitation at `now`, if they may not.
    fn check_answer(&self, expert: UserId, now: i64) -> Result<(), AnswerRefusal> {
        if self.direct_to != Some(expert) {
            Err(AnswerRefusal::NotYours)
        } else if self.revoked_at.is_some() {
            Err(AnswerRefusal::Revoked)
        } else if self.accepted_at.is_some() {
            Err(AnswerRefusal::AlreadyAccepted)
        } else if self.declined_at.is_some() {
            Err(AnswerRefusal::AlreadyDeclined)
        } else if now >= self.expires_at {
            Err(AnswerRefusal::Expired)
        } else {
            Ok(())
        }
    }

    /// The addressed expert accepts: the invitation is in use by `session`, and can never be
    /// answered again.
    pub fn handle_accept(
        &mut self,
        expert: UserId,
        session: SessionId,
        now: i64,
    ) -> Result<(), AnswerRefusal> {
        self.check_answer(expert, now)?;
        self.accepted_at = Some(now);
        self.active_session = Some(session);
        Ok(())
    }

    /// The addressed expert declines; the novice is to be told.
    pub fn handle_decline(&mut self, expert: UserId, now: i64) -> Result<(), AnswerRefusal> {
        self.check_answer(expert, now)?;
        self.declined_at = Some(now);
        Ok(())
    }

    /// The novice expires the invitation now. Returns the session that was using it, which the
    /// caller must end. Revoking twice keeps the first time.
    pub fn handle_revoke(&mut self, now: i64) -> Option<SessionId> {
        self.revoked_at.get_or_insert(now);
        self.active_session.take()
    }

    /// The session that was using the invitation ended; it can be opened again until it expires.
    /// A stale notice for another session changes nothing.
    pub fn handle_session_ended(&mut self, session: SessionId) {
        if self.active_session == Some(session) {
            self.active_session = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000;

    fn invitation(password: bool) -> Invitation {
        Invitation::create(
            InvitationId::new_random(),
            AgentId::new_random(),
            password,
            None,
            T0,
        )
        .expect("valid lifetime")
    }

    #[test]
    fn default_lifetime_is_one_hour() {
        let inv = invitation(false);
        assert_eq!(inv.expires_at - inv.created_at, 3600);
        assert_eq!(inv.status(T0), InvitationStatus::Open);
    }

    #[test]
    fn lifetime_is_bounded() {
        let mk = |secs| {
            Invitation::create(
                InvitationId::new_random(),
                AgentId::new_random(),
                false,
                Some(secs),
                T0,
            )
        };
        assert_eq!(mk(59).unwrap_err(), CreateError::TooShort);
        assert_eq!(mk(MAX_LIFETIME_SECS + 1).unwrap_err(), CreateError::TooLong);
        assert!(mk(MAX_LIFETIME_SECS).is_ok());
    }

    #[test]
    fn expires_by_clock() {
        let mut inv = invitation(false);
        assert_eq!(inv.status(T0 + 3599), InvitationStatus::Open);
        assert_eq!(inv.status(T0 + 3600), InvitationStatus::Expired);
        let err = inv.handle_redeem(SessionId::new_random(), T0 + 3600);
        assert_eq!(err, Err(Refusal::Expired));
        assert_eq!(inv.active_session, None);
    }

    #[test]
    fn redeem_once_per_session() {
        let mut inv = invitation(false);
        let s1 = SessionId::new_random();
        assert_eq!(inv.handle_redeem(s1, T0), Ok(()));
        assert_eq!(inv.status(T0), InvitationStatus::InUse);
        let s2 = SessionId::new_random();
        assert_eq!(inv.handle_redeem(s2, T0 + 1), Err(Refusal::InUse));
        // A stale end for another session does not free it.
        inv.handle_session_ended(s2);
        assert_eq!(inv.status(T0 + 2), InvitationStatus::InUse);
        inv.handle_session_ended(s1);
        assert_eq!(inv.status(T0 + 2), InvitationStatus::Open);
        assert_eq!(inv.handle_redeem(s2, T0 + 3), Ok(()));
    }

    #[test]
    fn in_use_outlives_expiry_then_expires() {
        let mut inv = invitation(false);
        let s = SessionId::new_random();
        inv.handle_redeem(s, T0 + 3500).expect("open");
        assert_eq!(inv.status(T0 + 4000), InvitationStatus::InUse);
        inv.handle_session_ended(s);
        assert_eq!(inv.status(T0 + 4000), InvitationStatus::Expired);
    }

    #[test]
    fn revoke_ends_the_session_and_wins_over_everything() {
        let mut inv = invitation(true);
        let s = SessionId::new_random();
        inv.handle_redeem(s, T0).expect("open");
        assert_eq!(inv.handle_revoke(T0 + 5), Some(s));
        assert_eq!(inv.handle_revoke(T0 + 9), None);
        assert_eq!(inv.revoked_at, Some(T0 + 5));
        assert_eq!(inv.status(T0 + 10), InvitationStatus::Revoked);
        assert_eq!(inv.handle_redeem(s, T0 + 10), Err(Refusal::Revoked));
    }

    fn direct(to: UserId) -> Invitation {
        Invitation::create_direct(
            InvitationId::new_random(),
            AgentId::new_random(),
            to,
            Some(600),
            T0,
        )
        .expect("valid lifetime")
    }

    #[test]
    fn a_direct_invitation_is_accepted_once_then_used_up() {
        let bob = UserId::new_random();
        let mut inv = direct(bob);
        assert_eq!(inv.status(T0), InvitationStatus::Open);
        let s = SessionId::new_random();
        assert_eq!(inv.handle_accept(bob, s, T0 + 5), Ok(()));
        assert_eq!(inv.status(T0 + 5), InvitationStatus::InUse);
        let again = inv.handle_accept(bob, SessionId::new_random(), T0 + 6);
        assert_eq!(again, Err(AnswerRefusal::AlreadyAccepted));
        assert_eq!(
            inv.active_session,
            Some(s),
            "a second accept changes nothing"
        );
        assert_eq!(
            inv.handle_decline(bob, T0 + 7),
            Err(AnswerRefusal::AlreadyAccepted)
        );
        inv.handle_session_ended(s);
        assert_eq!(inv.status(T0 + 8), InvitationStatus::Expired);
        assert_eq!(
            inv.handle_accept(bob, s, T0 + 9),
            Err(AnswerRefusal::AlreadyAccepted)
        );
    }

    #[test]
    fn a_direct_invitation_is_declined_once() {
        let bob = UserId::new_random();
        let mut inv = direct(bob);
        assert_eq!(inv.handle_decline(bob, T0 + 1), Ok(()));
        assert_eq!(inv.status(T0 + 1), InvitationStatus::Declined);
        assert_eq!(
            inv.handle_accept(bob, SessionId::new_random(), T0 + 2),
            Err(AnswerRefusal::AlreadyDeclined)
        );
        assert_eq!(
            inv.handle_decline(bob, T0 + 2),
            Err(AnswerRefusal::AlreadyDeclined)
        );
        // Declined stays declined after expiry, and revoking wins over it.
        assert_eq!(inv.status(T0 + 9999), InvitationStatus::Declined);
        inv.handle_revoke(T0 + 10);
        assert_eq!(inv.status(T0 + 10), InvitationStatus::Revoked);
    }

    #[test]
    fn only_the_addressed_expert_answers_and_only_in_time() {
        let bob = UserId::new_random();
        let mut inv = direct(bob);
        let s = SessionId::new_random();
        assert_eq!(
            inv.handle_accept(UserId::new_random(), s, T0),
            Err(AnswerRefusal::NotYours)
        );
        assert_eq!(
            inv.handle_accept(bob, s, T0 + 600),
            Err(AnswerRefusal::Expired)
        );
        assert_eq!(
            inv.handle_decline(bob, T0 + 600),
            Err(AnswerRefusal::Expired)
        );
        let mut withdrawn = direct(bob);
        withdrawn.handle_revoke(T0 + 1);
        assert_eq!(
            withdrawn.handle_accept(bob, s, T0 + 2),
            Err(AnswerRefusal::Revoked)
        );
        // A link invitation is nobody's to accept.
        let mut link = invitation(false);
        assert_eq!(link.handle_accept(bob, s, T0), Err(AnswerRefusal::NotYours));
        assert_eq!(inv.accepted_at, None);
        assert_eq!(inv.active_session, None);
    }

    #[test]
    fn a_direct_invitation_cannot_be_opened_by_code() {
        let mut inv = direct(UserId::new_random());
        let s = SessionId::new_random();
        assert_eq!(inv.handle_redeem(s, T0), Err(Refusal::Revoked));
        assert_eq!(inv.active_session, None);
    }

    #[test]
    fn the_server_keeps_what_the_agent_reports_and_a_lock_stays() {
        let mut inv = invitation(true);
        assert!(!inv.handle_failed_checks(1, false, T0));
        assert_eq!(inv.failed_attempts, 1);
        assert_eq!(inv.status(T0), InvitationStatus::Open);
        // A stale report does not lower the count.
        inv.handle_failed_checks(0, false, T0);
        assert_eq!(inv.failed_attempts, 1);
        assert!(inv.handle_failed_checks(5, true, T0 + 1));
        assert_eq!(inv.status(T0 + 1), InvitationStatus::Locked);
        assert_eq!(
            inv.handle_redeem(SessionId::new_random(), T0 + 2),
            Err(Refusal::Locked)
        );
        // Locked once: a later report keeps the first time, and nothing unlocks.
        assert!(!inv.handle_failed_checks(6, true, T0 + 3));
        assert!(!inv.handle_failed_checks(6, false, T0 + 3));
        assert_eq!(inv.locked_at, Some(T0 + 1));
        // A wild count stays bounded.
        inv.handle_failed_checks(u32::MAX, true, T0 + 4);
        assert_eq!(inv.failed_attempts, MAX_REPORTED_FAILURES);
    }

    #[test]
    fn a_lock_reported_while_in_use_shows_once_revoking_wins() {
        let mut inv = invitation(false);
        let s = SessionId::new_random();
        inv.handle_redeem(s, T0).expect("open");
        inv.handle_failed_checks(5, true, T0 + 1);
        assert_eq!(inv.status(T0 + 1), InvitationStatus::Locked);
        inv.handle_revoke(T0 + 2);
        assert_eq!(inv.status(T0 + 2), InvitationStatus::Revoked);
    }
}
