//! The agent's own record of an invitation it sent, judged on the novice's computer whatever
//! the server says.
//!
//! When someone opens the invitation, the agent checks this record before it asks the novice:
//! an invitation that expired, was revoked, or was locked after [`MAX_FAILED_CHECKS`] failed
//! password checks is refused, and so is a request for an invitation this program does not
//! hold. For a link invitation the record keeps what the password check needs, the scalar `w`
//! derived from the secret and the password (`docs/pake.md`); the password itself is not kept.
//! Plain data, no IO and no clock: times are [`Instant`]s the driver supplies.

use super::secret::InvitationSecret;
use pake::PasswordScalar;
use protocol::ids::InvitationId;
use std::fmt;
use std::time::Instant;

/// Failed password checks after which the agent locks an invitation.
pub const MAX_FAILED_CHECKS: u32 = 5;

/// How the expert proves who they are for an invitation.
#[derive(Clone)]
pub enum Proof {
    /// A link (or short code) invitation: the expert's browser must prove, by SPAKE2 over the
    /// data channel, that it holds the secret and the password that `w` was derived from.
    Exchange(PasswordScalar),
    /// A direct invitation to one expert of the support desk: the server admits only that
    /// signed-in person, and there is no secret to prove.
    ServerVouched,
}

impl fmt::Debug for Proof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exchange(_) => f.write_str("Exchange(..)"),
            Self::ServerVouched => f.write_str("ServerVouched"),
        }
    }
}

/// Why the agent will not let anyone in through an invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    Expired,
    Revoked,
    Locked,
    /// This program does not hold the invitation (another program made it, or the one that made
    /// it has ended, and only that one had its secret).
    Unknown,
}

impl Closed {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Expired => "it has expired",
            Self::Revoked => "you cancelled it",
            Self::Locked => "it is locked after too many wrong passwords",
            Self::Unknown => {
                "this program does not hold it (it was made by another run of the agent)"
            }
        }
    }
}

/// What a failed check did to the invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Failed checks so far.
    pub failures: u32,
    /// Checks left before it locks; 0 once locked.
    pub tries_left: u32,
    /// This failure locked it.
    pub locked: bool,
}

/// One invitation this agent made.
#[derive(Clone, Debug)]
pub struct HeldInvitation {
    pub id: InvitationId,
    proof: Proof,
    expires: Instant,
    failures: u32,
    revoked: bool,
}

impl HeldInvitation {
    /// A link invitation whose expert must know `secret` and `password` (if any); `expires` is
    /// when it expires on this machine's clock.
    pub fn link(
        id: InvitationId,
        secret: &InvitationSecret,
        password: Option<&str>,
        expires: Instant,
    ) -> Self {
        let w = PasswordScalar::derive(&id.to_string(), &secret.exchange_password(password));
        Self {
            id,
            proof: Proof::Exchange(w),
            expires,
            failures: 0,
            revoked: false,
        }
    }

    /// A direct invitation to one expert of the desk.
    pub fn direct(id: InvitationId, expires: Instant) -> Self {
        Self {
            id,
            proof: Proof::ServerVouched,
            expires,
            failures: 0,
            revoked: false,
        }
    }

    /// Why nobody may come in at `now`, if nobody may.
    pub fn check_open(&self, now: Instant) -> Result<(), Closed> {
        if self.revoked {
            Err(Closed::Revoked)
        } else if self.failures >= MAX_FAILED_CHECKS {
            Err(Closed::Locked)
        } else if now >= self.expires {
            Err(Closed::Expired)
        } else {
            Ok(())
        }
    }

    pub fn proof(&self) -> &Proof {
        &self.proof
    }

    /// The novice revoked it (from another program, which the driver learns of).
    pub fn handle_revoked(&mut self) {
        self.revoked = true;
    }

    /// A password check failed: counted, and locked at [`MAX_FAILED_CHECKS`].
    pub fn handle_failed_check(&mut self) -> Failure {
        let was_locked = self.failures >= MAX_FAILED_CHECKS;
        self.failures = self.failures.saturating_add(1).min(MAX_FAILED_CHECKS);
        let tries_left = MAX_FAILED_CHECKS - self.failures;
        Failure {
            failures: self.failures,
            tries_left,
            locked: tries_left == 0 && !was_locked,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn held(now: Instant) -> HeldInvitation {
        let secret = InvitationSecret::parse("9FZQ2WAB").expect("valid");
        HeldInvitation::link(
            InvitationId::new_random(),
            &secret,
            Some("tulip"),
            now + Duration::from_secs(3600),
        )
    }

    #[test]
    fn an_invitation_is_open_until_it_expires() {
        let now = Instant::now();
        let inv = held(now);
        assert_eq!(inv.check_open(now), Ok(()));
        assert_eq!(
            inv.check_open(now + Duration::from_secs(3600)),
            Err(Closed::Expired)
        );
    }

    #[test]
    fn five_failed_checks_lock_it_and_revoking_wins() {
        let now = Instant::now();
        let mut inv = held(now);
        for left in (1..MAX_FAILED_CHECKS).rev() {
            let failure = inv.handle_failed_check();
            assert_eq!(failure.tries_left, left);
            assert!(!failure.locked);
            assert_eq!(inv.check_open(now), Ok(()));
        }
        let last = inv.handle_failed_check();
        assert_eq!(
            last,
            Failure {
                failures: MAX_FAILED_CHECKS,
                tries_left: 0,
                locked: true
            }
        );
        assert_eq!(inv.check_open(now), Err(Closed::Locked));
        // Locked once: a later failure does not lock it again.
        assert!(!inv.handle_failed_check().locked);
        inv.handle_revoked();
        assert_eq!(inv.check_open(now), Err(Closed::Revoked));
    }

    #[test]
    fn the_record_keeps_the_scalar_not_the_password() {
        let inv = held(Instant::now());
        let shown = format!("{inv:?}");
        assert!(
            !shown.contains("tulip") && !shown.contains("9FZQ"),
            "{shown}"
        );
        assert!(matches!(inv.proof(), Proof::Exchange(_)));
        let direct = HeldInvitation::direct(InvitationId::new_random(), Instant::now());
        assert!(matches!(direct.proof(), Proof::ServerVouched));
    }
}
