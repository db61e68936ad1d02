//! Short-lived TURN credentials by the TURN REST API scheme (draft-uberti-behave-turn-rest-00
//! §2.2), the one coturn implements as `use-auth-secret`:
//!
//! * username = `<expiry Unix time>:<id>`
//! * password = base64(HMAC-SHA1(shared secret, username))
//!
//! Whoever holds the shared secret can check a credential without storing it, so the embedded
//! server and any external coturn fleet configured with the same `static-auth-secret` accept
//! the credentials the signaling server hands out. Pure: the caller passes `now`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;

/// One username and password for a TURN server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TurnCredential {
    pub username: String,
    pub password: String,
    /// Unix time after which servers refuse it.
    pub expires_at: i64,
}

/// Why a TURN username is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("the TURN username does not start with an expiry time")]
    Malformed,
    #[error("the TURN credential has expired")]
    Expired,
}

/// Issues and checks credentials with one shared secret.
#[derive(Clone)]
pub struct TurnSecret {
    secret: SecretString,
    ttl_secs: i64,
}

impl std::fmt::Debug for TurnSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnSecret")
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl TurnSecret {
    pub fn new(secret: SecretString, ttl_secs: i64) -> Self {
        Self { secret, ttl_secs }
    }

    /// A credential for `id` (a session id, say), valid from `now` for the configured lifetime.
    pub fn issue(&self, id: &str, now: i64) -> TurnCredential {
        let expires_at = now + self.ttl_secs;
        let username = format!("{expires_at}:{id}");
        TurnCredential {
            password: self.password_of(&username),
            username,
            expires_at,
        }
    }

    /// The password of `username` if it has not expired at `now`. A username is anything that
    /// starts with an expiry time, alone or followed by `:` and an id, as coturn reads it.
    pub fn password_for(&self, username: &str, now: i64) -> Result<String, CredentialError> {
        if expiry_of(username)? <= now {
            return Err(CredentialError::Expired);
        }
        Ok(self.password_of(username))
    }

    /// The password of `username`, whatever its expiry.
    pub fn password_of(&self, username: &str) -> String {
        // HMAC takes keys of any length.
        let mut mac = Hmac::<Sha1>::new_from_slice(self.secret.expose_secret().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        mac.update(username.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }
}

/// The expiry time a username starts with.
pub fn expiry_of(username: &str) -> Result<i64, CredentialError> {
    let expiry = username.split(':').next().unwrap_or_default();
    expiry.parse().map_err(|_| CredentialError::Malformed)
}

/// The id after a username's expiry (`""` for a bare expiry): the session it was issued for.
pub fn session_of(username: &str) -> &str {
    username.split_once(':').map_or("", |(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(ttl: i64) -> TurnSecret {
        TurnSecret::new(SecretString::from("north"), ttl)
    }

    #[test]
    fn password_is_base64_hmac_sha1_of_the_username() {
        // Computed independently: printf '1700000000:alice' | openssl dgst -sha1 -hmac north -binary | base64
        let credential = secret(100).issue("alice", 1_699_999_900);
        assert_eq!(credential.username, "1700000000:alice");
        assert_eq!(credential.password, "Cd/49soE35ICqcJF/bCTn8Z4OyE=");
        assert_eq!(credential.expires_at, 1_700_000_000);
    }

    #[test]
    fn issued_credential_verifies_until_it_expires() {
        let s = secret(3600);
        let credential = s.issue("s1", 1000);
        assert_eq!(
            s.password_for(&credential.username, 4599),
            Ok(credential.password.clone())
        );
        assert_eq!(
            s.password_for(&credential.username, 4600),
            Err(CredentialError::Expired)
        );
    }

    #[test]
    fn the_session_is_what_follows_the_expiry() {
        assert_eq!(session_of("1700000000:s-1:x"), "s-1:x");
        assert_eq!(session_of("1700000000"), "");
        assert_eq!(expiry_of("1700000000:s"), Ok(1_700_000_000));
    }

    #[test]
    fn a_bare_expiry_is_a_username_too() {
        assert!(secret(1).password_for("5000", 10).is_ok());
    }

    #[test]
    fn username_without_expiry_is_refused() {
        assert_eq!(
            secret(1).password_for("alice:5000", 10),
            Err(CredentialError::Malformed)
        );
        assert_eq!(
            secret(1).password_for("", 10),
            Err(CredentialError::Malformed)
        );
    }

    #[test]
    fn another_secret_gives_another_password() {
        let a = secret(10).issue("x", 0);
        let b = TurnSecret::new(SecretString::from("south"), 10).issue("x", 0);
        assert_ne!(a.password, b.password);
    }
}
