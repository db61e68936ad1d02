//! The invitation password, checked on the novice's computer: a password-authenticated key
//! exchange between the agent and the expert's browser, run over the WebRTC data channel before
//! any frame or input crosses it.
//!
//! The protocol is SPAKE2 exactly as RFC 9382 defines it, with the ciphersuite
//! P256-SHA256-HKDF-HMAC-SHA256 (RFC 9382 §6) and its key confirmation (§4). The agent is party
//! A (it sends `pA` and uses the point M); the expert's browser is party B (`pB`, point N). The
//! browser runs the same protocol in `web/static/js/pake.js`; `docs/pake.md` describes both.
//!
//! * [`exchange`]: the protocol as a typed state machine without IO: [`Spake2::start`] gives the
//!   share to send, [`Spake2::finish`] takes the peer's share and gives the confirmation to
//!   send, [`Confirming::verify`] takes the peer's confirmation and gives the [`SessionKey`].
//! * [`password`]: the invitation password turned into the scalar `w` of RFC 9382 §3.2.
//! * [`binding`]: the associated data that binds an exchange to one session and to the DTLS
//!   certificates both sides see, so that a relay in the middle makes the confirmation fail.
//! * [`PakeError`]: every way an exchange can fail, worded for the person who reads it.
//!
//! A wrong password is only ever found out through a confirmation that does not match: each
//! exchange lets a peer test one guess, no more, and nothing on the wire (shares, confirmations)
//! lets an eavesdropper test guesses offline. Randomness is injected (`&mut impl CryptoRngCore`)
//! so that tests are deterministic.

pub mod binding;
mod error;
pub mod exchange;
pub mod password;

pub use binding::session_aad;
pub use error::PakeError;
pub use exchange::{Confirming, Role, SessionKey, Spake2};
pub use password::PasswordScalar;

/// Length of a share (`pA` or `pB`) on the wire: an uncompressed SEC1 P-256 point, `0x04 || X || Y`
/// (RFC 9382 §6: every curve but edwards25519 uses the uncompressed encoding).
pub const SHARE_LEN: usize = 65;

/// Length of a key confirmation (`cA` or `cB`) on the wire: one HMAC-SHA256 tag (RFC 9382 §3.3).
pub const CONFIRMATION_LEN: usize = 32;

/// Length of the session key `Ke`: half of a SHA-256 digest (RFC 9382 §4).
pub const SESSION_KEY_LEN: usize = 16;

/// Longest associated data RFC 9382 §3.2 allows: 2^16 - 128 bits.
pub const MAX_AAD_LEN: usize = ((1 << 16) - 128) / 8;

/// Appends `len(bytes) || bytes`, the length being eight bytes little-endian: the `len(S) || S`
/// of RFC 9382 §3.2, used for the transcript and, the same way, for `w` and the AAD.
fn append_with_len(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(bytes);
}
