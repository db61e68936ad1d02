//! Session tickets: short-lived HS256 JWTs that let an expert's WebSocket join one session.
//!
//! Expiry is checked against the server's [`crate::clock::Clock`], not the library's own clock,
//! so that every time decision in the server reads the same clock.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use protocol::ids::{InvitationId, SessionId};
use serde::{Deserialize, Serialize};

/// What a ticket grants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketClaims {
    /// The session the bearer may join.
    pub sub: SessionId,
    pub inv: InvitationId,
    /// Always `expert` for now.
    pub role: String,
    pub iat: i64,
    pub exp: i64,
}

/// Why a ticket was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("the ticket is not valid")]
    Invalid,
    #[error("the ticket has expired; open the invitation again")]
    Expired,
}

/// Issues and checks tickets with one signing key.
#[derive(Clone)]
pub struct Tickets {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl_secs: i64,
}

impl std::fmt::Debug for Tickets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tickets")
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl Tickets {
    pub fn new(secret: &[u8], ttl_secs: i64) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl_secs,
        }
    }

    /// A ticket for `session`, valid from `now` for the configured lifetime.
    pub fn issue(
        &self,
        session: SessionId,
        invitation: InvitationId,
        now: i64,
    ) -> Result<(String, i64), jsonwebtoken::errors::Error> {
        let claims = TicketClaims {
            sub: session,
            inv: invitation,
            role: "expert".into(),
            iat: now,
            exp: now + self.ttl_secs,
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, claims.exp))
    }

    /// Checks signature, algorithm, role and expiry.
    pub fn verify(&self, token: &str, now: i64) -> Result<TicketClaims, TicketError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let claims = decode::<TicketClaims>(token, &self.decoding, &validation)
            .map_err(|_| TicketError::Invalid)?
            .claims;
        if claims.role != "expert" {
            return Err(TicketError::Invalid);
        }
        if claims.exp <= now {
            return Err(TicketError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_ticket_verifies_until_it_expires() {
        let t = Tickets::new(b"k", 300);
        let s = SessionId::new_random();
        let (token, exp) = t.issue(s, InvitationId::new_random(), 1000).expect("sign");
        assert_eq!(exp, 1300);
        assert_eq!(t.verify(&token, 1299).map(|c| c.sub), Ok(s));
        assert_eq!(t.verify(&token, 1300), Err(TicketError::Expired));
    }

    #[test]
    fn other_key_or_garbage_is_invalid() {
        let (token, _) = Tickets::new(b"k", 300)
            .issue(SessionId::new_random(), InvitationId::new_random(), 0)
            .expect("sign");
        assert_eq!(
            Tickets::new(b"other", 300).verify(&token, 1),
            Err(TicketError::Invalid)
        );
        assert_eq!(
            Tickets::new(b"k", 300).verify("not.a.jwt", 1),
            Err(TicketError::Invalid)
        );
    }

    #[test]
    fn alg_none_is_refused() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"sub":"{}","inv":"{}","role":"expert","iat":0,"exp":99999999999}}"#,
            SessionId::new_random(),
            InvitationId::new_random()
        ));
        let forged = format!("{header}.{claims}.");
        assert_eq!(
            Tickets::new(b"k", 300).verify(&forged, 1),
            Err(TicketError::Invalid)
        );
    }
}
