//! Invitation lifecycle as a pure type: no IO, no clock reads, no randomness of its own.
//!
//! An [`Invitation`] is loaded from the store, asked to handle one input with the current time
//! (`handle_redeem`, `handle_revoke`, `handle_session_ended`), and written back; the store
//! guards the write with the row's `version` so two concurrent redemptions cannot both win.
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
/// Longest password accepted, in bytes (hashing cost grows with length).
pub const MAX_PASSWORD: usize = 256;

/// Rules that come from configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Wrong passwords after which the invitation locks.
    pub max_failed_attempts: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_failed_attempts: 5,
        }
    }
}

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
    Locked,
    /// Another expert is using it right now.
    InUse,
    /// A password is set and none was given (not counted as a wrong attempt).
    PasswordRequired,
    /// The password was wrong; `remaining` tries are left before it locks.
    WrongPassword {
        remaining: u32,
    },
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

/// What the expert supplied, already checked against the stored hash.
///
/// For an invitation with a password, `Correct` and `Wrong` stand for an attempt that was
/// counted in [`Invitation::failed_attempts`] *before* the password was checked (the store
/// does it in one atomic statement, as [`Invitation::handle_password_attempt`] does here), so
/// that any number of concurrent guesses cannot pass the limit. A correct password gives its
/// count back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordCheck {
    NotSupplied,
    Correct,
    Wrong,
}

/// One invitation's persistent state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    pub id: InvitationId,
    pub agent_id: AgentId,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub has_password: bool,
    pub failed_attempts: u32,
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
    pub fn status(&self, now: i64, policy: Policy) -> InvitationStatus {
        if self.revoked_at.is_some() {
            InvitationStatus::Revoked
        } else if self.is_locked(policy) {
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

    fn is_locked(&self, policy: Policy) -> bool {
        self.has_password && self.failed_attempts >= policy.max_failed_attempts
    }

    /// Why the invitation cannot be opened at `now` whatever the password, if it cannot.
    pub fn check_open(&self, now: i64, policy: Policy) -> Result<(), Refusal> {
        match self.status(now, policy) {
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

    /// Counts one password attempt before the password is checked; refused once the
    /// invitation is locked. Returns the attempts counted so far. The store's
    /// `count_password_attempt` is the same rule as one atomic statement.
    pub fn handle_password_attempt(&mut self, policy: Policy) -> Result<u32, Refusal> {
        if self.failed_attempts >= policy.max_failed_attempts {
            return Err(Refusal::Locked);
        }
        self.failed_attempts += 1;
        Ok(self.failed_attempts)
    }

    /// An expert tries to open the invitation. On success the invitation is in use by `session`.
    /// A wrong password was counted towards the lock beforehand (see [`PasswordCheck`]); the
    /// attempt that reaches the limit is answered `Locked` so that the expert learns it at once.
    pub fn handle_redeem(
        &mut self,
        password: PasswordCheck,
        session: SessionId,
        now: i64,
        policy: Policy,
    ) -> Result<(), Refusal> {
        if self.has_password && password == PasswordCheck::Correct {
            // Counted as an attempt before it was checked, but it was no wrong one.
            self.failed_attempts = self.failed_attempts.saturating_sub(1);
        }
        self.check_open(now, policy)?;
        if self.has_password {
            match password {
                PasswordCheck::NotSupplied => return Err(Refusal::PasswordRequired),
                PasswordCheck::Wrong => {
                    let remaining = policy
                        .max_failed_attempts
                        .saturating_sub(self.failed_attempts);
                    return Err(if remaining == 0 {
                        Refusal::Locked
                    } else {
                        Refusal::WrongPassword { remaining }
                    });
                }
                PasswordCheck::Correct => {}
            }
        }
        self.active_session = Some(session);
        Ok(())
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

    fn policy() -> Policy {
        Policy::default()
    }

    /// A password guess as the server makes it: counted first, then checked.
    fn guess(inv: &mut Invitation, check: PasswordCheck, policy: Policy) -> Result<(), Refusal> {
        inv.handle_password_attempt(policy)?;
        inv.handle_redeem(check, SessionId::new_random(), T0, policy)
    }

    #[test]
    fn default_lifetime_is_one_hour() {
        let inv = invitation(false);
        assert_eq!(inv.expires_at - inv.created_at, 3600);
        assert_eq!(inv.status(T0, policy()), InvitationStatus::Open);
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
        assert_eq!(inv.status(T0 + 3599, policy()), InvitationStatus::Open);
        assert_eq!(inv.status(T0 + 3600, policy()), InvitationStatus::Expired);
        let err = inv.handle_redeem(
            PasswordCheck::NotSupplied,
            SessionId::new_random(),
            T0 + 3600,
            policy(),
        );
        assert_eq!(err, Err(Refusal::Expired));
        assert_eq!(inv.active_session, None);
    }

    #[test]
    fn redeem_once_per_session() {
        let mut inv = invitation(false);
        let s1 = SessionId::new_random();
        assert_eq!(
            inv.handle_redeem(PasswordCheck::NotSupplied, s1, T0, policy()),
            Ok(())
        );
        assert_eq!(inv.status(T0, policy()), InvitationStatus::InUse);
        let s2 = SessionId::new_random();
        assert_eq!(
            inv.handle_redeem(PasswordCheck::NotSupplied, s2, T0 + 1, policy()),
            Err(Refusal::InUse)
        );
        // A stale end for another session does not free it.
        inv.handle_session_ended(s2);
        assert_eq!(inv.status(T0 + 2, policy()), InvitationStatus::InUse);
        inv.handle_session_ended(s1);
        assert_eq!(inv.status(T0 + 2, policy()), InvitationStatus::Open);
        assert_eq!(
            inv.handle_redeem(PasswordCheck::NotSupplied, s2, T0 + 3, policy()),
            Ok(())
        );
    }

    #[test]
    fn in_use_outlives_expiry_then_expires() {
        let mut inv = invitation(false);
        let s = SessionId::new_random();
        inv.handle_redeem(PasswordCheck::NotSupplied, s, T0 + 3500, policy())
            .expect("open");
        assert_eq!(inv.status(T0 + 4000, policy()), InvitationStatus::InUse);
        inv.handle_session_ended(s);
        assert_eq!(inv.status(T0 + 4000, policy()), InvitationStatus::Expired);
    }

    #[test]
    fn revoke_ends_the_session_and_wins_over_everything() {
        let mut inv = invitation(true);
        let s = SessionId::new_random();
        inv.handle_redeem(PasswordCheck::Correct, s, T0, policy())
            .expect("open");
        assert_eq!(inv.handle_revoke(T0 + 5), Some(s));
        assert_eq!(inv.handle_revoke(T0 + 9), None);
        assert_eq!(inv.revoked_at, Some(T0 + 5));
        assert_eq!(inv.status(T0 + 10, policy()), InvitationStatus::Revoked);
        assert_eq!(
            inv.handle_redeem(PasswordCheck::Correct, s, T0 + 10, policy()),
            Err(Refusal::Revoked)
        );
    }

    #[test]
    fn password_is_required_but_missing_one_does_not_count() {
        let mut inv = invitation(true);
        let s = SessionId::new_random();
        for _ in 0..10 {
            assert_eq!(
                inv.handle_redeem(PasswordCheck::NotSupplied, s, T0, policy()),
                Err(Refusal::PasswordRequired)
            );
        }
        assert_eq!(inv.failed_attempts, 0);
    }

    #[test]
    fn locks_after_n_wrong_passwords() {
        let mut inv = invitation(true);
        for remaining in (1..5).rev() {
            assert_eq!(
                guess(&mut inv, PasswordCheck::Wrong, policy()),
                Err(Refusal::WrongPassword { remaining })
            );
        }
        assert_eq!(
            guess(&mut inv, PasswordCheck::Wrong, policy()),
            Err(Refusal::Locked)
        );
        assert_eq!(inv.status(T0, policy()), InvitationStatus::Locked);
        // Once locked even the right password is refused before it is checked, and attempts
        // stop counting.
        assert_eq!(inv.handle_password_attempt(policy()), Err(Refusal::Locked));
        assert_eq!(inv.failed_attempts, 5);
    }

    #[test]
    fn lock_limit_is_configurable() {
        let strict = Policy {
            max_failed_attempts: 1,
        };
        let mut inv = invitation(true);
        assert_eq!(
            guess(&mut inv, PasswordCheck::Wrong, strict),
            Err(Refusal::Locked)
        );
    }

    #[test]
    fn right_password_after_wrong_ones_opens_and_is_not_counted() {
        let mut inv = invitation(true);
        let _ = guess(&mut inv, PasswordCheck::Wrong, policy());
        assert_eq!(guess(&mut inv, PasswordCheck::Correct, policy()), Ok(()));
        assert_eq!(inv.failed_attempts, 1);
    }

    #[test]
    fn guesses_counted_at_once_lock_at_the_limit_and_a_right_one_among_them_opens() {
        // Five guesses counted before any was checked: the sixth is refused uncounted.
        let mut inv = invitation(true);
        for n in 1..=5 {
            assert_eq!(inv.handle_password_attempt(policy()), Ok(n));
        }
        assert_eq!(inv.handle_password_attempt(policy()), Err(Refusal::Locked));
        // Four of them were wrong: each is told the invitation locked.
        let s = SessionId::new_random();
        for _ in 0..4 {
            assert_eq!(
                inv.handle_redeem(PasswordCheck::Wrong, s, T0, policy()),
                Err(Refusal::Locked)
            );
        }
        // The fifth was right: it gives its count back and opens.
        assert_eq!(
            inv.handle_redeem(PasswordCheck::Correct, s, T0, policy()),
            Ok(())
        );
        assert_eq!(inv.failed_attempts, 4);
        assert_eq!(inv.status(T0, policy()), InvitationStatus::InUse);
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
        assert_eq!(inv.status(T0, policy()), InvitationStatus::Open);
        let s = SessionId::new_random();
        assert_eq!(inv.handle_accept(bob, s, T0 + 5), Ok(()));
        assert_eq!(inv.status(T0 + 5, policy()), InvitationStatus::InUse);
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
        assert_eq!(inv.status(T0 + 8, policy()), InvitationStatus::Expired);
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
        assert_eq!(inv.status(T0 + 1, policy()), InvitationStatus::Declined);
        assert_eq!(
            inv.handle_accept(bob, SessionId::new_random(), T0 + 2),
            Err(AnswerRefusal::AlreadyDeclined)
        );
        assert_eq!(
            inv.handle_decline(bob, T0 + 2),
            Err(AnswerRefusal::AlreadyDeclined)
        );
        // Declined stays declined after expiry, and revoking wins over it.
        assert_eq!(inv.status(T0 + 9999, policy()), InvitationStatus::Declined);
        inv.handle_revoke(T0 + 10);
        assert_eq!(inv.status(T0 + 10, policy()), InvitationStatus::Revoked);
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
        assert_eq!(
            inv.handle_redeem(PasswordCheck::NotSupplied, s, T0, policy()),
            Err(Refusal::Revoked)
        );
        assert_eq!(inv.active_session, None);
    }

    #[test]
    fn password_is_ignored_when_none_is_set() {
        let mut inv = invitation(false);
        assert_eq!(
            inv.handle_redeem(PasswordCheck::Wrong, SessionId::new_random(), T0, policy()),
            Ok(())
        );
    }
}
