//! The invitation's secret: the part of the invitation only the novice and the expert hold.
//!
//! The agent draws it when it creates an invitation and never sends it to the server. It
//! travels to the expert in the link's fragment (`https://server/i/<code>#<secret>`: browsers
//! never send a fragment to any server), at the end of the short code read out on the phone
//! (`K7PQ-M2XD-4RTA-9FZQ-2WAB`: the first twelve symbols look the invitation up on the server,
//! the last eight are the secret, as magic-wormhole splits its codes), and in the invitation
//! file. The expert's browser and the agent then prove to each other that they hold it, and the
//! password when the invitation has one, with SPAKE2 (`docs/pake.md`), so that a server that
//! relays the connection cannot take part in it.
//!
//! The secret is eight symbols of Crockford's base32 (40 bits), read like the short code:
//! case-insensitively, ignoring dashes and spaces, with O read as 0 and I, L as 1. Forty bits
//! are plenty for a secret that can only be tested online, once per exchange, with the
//! invitation locking after [`super::record::MAX_FAILED_CHECKS`] failures: SPAKE2 gives an
//! eavesdropper or a relay nothing to test guesses with offline.

use rand::{CryptoRng, RngCore};
use std::fmt;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Symbols in a secret.
pub const SECRET_LEN: usize = 8;

/// An invitation's secret in its canonical form: eight upper-case symbols of Crockford's base32.
#[derive(Clone, PartialEq, Eq)]
pub struct InvitationSecret(String);

impl fmt::Debug for InvitationSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InvitationSecret(..)")
    }
}

impl InvitationSecret {
    /// A fresh secret from a cryptographic RNG.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut bytes = [0u8; SECRET_LEN];
        rng.fill_bytes(&mut bytes);
        Self(
            bytes
                .iter()
                .map(|b| char::from(CROCKFORD[usize::from(b & 31)]))
                .collect(),
        )
    }

    /// A secret as a person typed it or a link carried it; `None` if it cannot be one.
    pub fn parse(text: &str) -> Option<Self> {
        let mut out = String::with_capacity(SECRET_LEN);
        for c in text.chars() {
            let c = match c.to_ascii_uppercase() {
                '-' | ' ' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c if c.is_ascii() && CROCKFORD.contains(&(c as u8)) => c,
                _ => return None,
            };
            out.push(c);
        }
        (out.len() == SECRET_LEN).then_some(Self(out))
    }

    /// The canonical eight symbols, as the link's fragment carries them.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Two groups of four, as read out: `9FZQ-2WAB`.
    pub fn grouped(&self) -> String {
        format!("{}-{}", &self.0[..4], &self.0[4..])
    }

    /// The invitation link with the secret as its fragment.
    pub fn link(&self, link: &str) -> String {
        format!("{link}#{}", self.0)
    }

    /// The short code to read out: the server's lookup code, then the secret.
    pub fn short_code(&self, lookup: &str) -> String {
        format!("{lookup}-{}", self.grouped())
    }

    /// What both sides give SPAKE2 as the password: the secret, then the invitation's password
    /// when it has one (NFC-normalized by the key derivation). A line break cannot be part of
    /// a secret, so no two pairs give the same text.
    pub fn exchange_password(&self, password: Option<&str>) -> String {
        match password {
            Some(password) => format!("{}\n{password}", self.0),
            None => self.0.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn a_secret_is_eight_symbols_and_differs_between_draws() {
        let mut rng = StdRng::seed_from_u64(1);
        let a = InvitationSecret::generate(&mut rng);
        let b = InvitationSecret::generate(&mut rng);
        assert_eq!(a.as_str().len(), SECRET_LEN);
        assert!(a.as_str().bytes().all(|c| CROCKFORD.contains(&c)));
        assert_ne!(a, b);
        assert_eq!(format!("{a:?}"), "InvitationSecret(..)", "never printed");
    }

    #[test]
    fn a_secret_survives_how_people_type_it() {
        let secret = InvitationSecret::parse("9FZQ2WAB").expect("valid");
        assert_eq!(InvitationSecret::parse("9fzq 2wab"), Some(secret.clone()));
        assert_eq!(InvitationSecret::parse("9FZQ-2WAB"), Some(secret.clone()));
        assert_eq!(
            InvitationSecret::parse("oIlL-0000").map(|s| s.0),
            Some("01110000".into())
        );
        assert_eq!(InvitationSecret::parse("9FZQ2WA"), None, "too short");
        assert_eq!(InvitationSecret::parse("9FZQ2WABC"), None, "too long");
        assert_eq!(
            InvitationSecret::parse("9FZQ2WAU"),
            None,
            "U is not in the alphabet"
        );
        assert_eq!(InvitationSecret::parse("9FZQ2WAÄ"), None);
    }

    #[test]
    fn links_and_short_codes_carry_the_secret_where_servers_do_not_look() {
        let secret = InvitationSecret::parse("9FZQ2WAB").expect("valid");
        assert_eq!(
            secret.link("https://help.example.net/i/abc"),
            "https://help.example.net/i/abc#9FZQ2WAB"
        );
        assert_eq!(
            secret.short_code("K7PQ-M2XD-4RTA"),
            "K7PQ-M2XD-4RTA-9FZQ-2WAB"
        );
    }

    #[test]
    fn the_exchange_password_is_the_secret_and_the_password() {
        let secret = InvitationSecret::parse("9FZQ2WAB").expect("valid");
        assert_eq!(secret.exchange_password(None), "9FZQ2WAB");
        assert_eq!(secret.exchange_password(Some("tulip")), "9FZQ2WAB\ntulip");
    }
}
