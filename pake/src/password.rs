//! The invitation password as the scalar `w` of RFC 9382 §3.2.
//!
//! RFC 9382 leaves the mapping from password to `w` to the application. Ours, computed the same
//! way by `web/static/js/pake.js`:
//!
//! ```text
//! w = SHA-512( len(L) || L || len(invitation) || invitation || len(pw) || pw )  mod p
//! L  = "remote-assistance spake2 w"
//! pw = the password's UTF-8 bytes after Unicode normalization form C
//! ```
//!
//! with `len(S)` the eight-byte little-endian length of RFC 9382 §3.2 and the 512-bit digest read
//! big-endian, so that reducing it mod the 256-bit order `p` leaves no measurable bias (the "64
//! bits longer" of RFC 9382 §3.2). The invitation names the secret's scope: the same password on
//! another invitation gives another `w`. NFC makes a password typed as "é" and one typed as
//! "e" + combining accent the same password.
//!
//! RFC 9382 recommends a memory-hard function here. It guards a *stored* `w` against offline
//! guessing; ours is never stored nor sent: each side computes it from the password for one
//! exchange and drops it, and SPAKE2 itself gives an attacker on the wire nothing to test guesses
//! against.

use std::fmt;

use p256::elliptic_curve::{ops::Reduce, Field, PrimeField};
use p256::{FieldBytes, Scalar, U256};
use sha2::{Digest, Sha512};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::{append_with_len, PakeError};

/// Domain separation label of the password derivation.
const LABEL: &[u8] = b"remote-assistance spake2 w";

/// `w`: the password as a non-zero scalar mod the P-256 group order. Both sides must derive it
/// from the same invitation and password. Wiped from memory when dropped; never printed.
#[derive(Clone)]
pub struct PasswordScalar(Zeroizing<Scalar>);

impl PasswordScalar {
    /// Derives `w` from the invitation's identifier and its password, as the module docs say.
    /// `invitation` must be the exact same text on both sides (e.g. the invitation id in its
    /// canonical form).
    pub fn derive(invitation: &str, password: &str) -> Self {
        let password: Zeroizing<String> = Zeroizing::new(password.nfc().collect());
        let mut input = Zeroizing::new(Vec::new());
        append_with_len(&mut input, LABEL);
        append_with_len(&mut input, invitation.as_bytes());
        append_with_len(&mut input, password.as_bytes());
        let mut digest = Zeroizing::new([0u8; 64]);
        digest.copy_from_slice(&Sha512::digest(input.as_slice()));
        let w = reduce_wide(&digest);
        // Zero only with probability 2^-256; keep w in [1, p) all the same, as `from_bytes` does.
        Self(Zeroizing::new(if w.is_zero().into() {
            Scalar::ONE
        } else {
            w
        }))
    }

    /// `w` given directly, as RFC 9382 Appendix B's test vectors give it: 32 bytes big-endian,
    /// between 1 and the group order. Real exchanges use [`PasswordScalar::derive`].
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, PakeError> {
        let w: Option<Scalar> = Scalar::from_repr(FieldBytes::from(*bytes)).into();
        match w {
            Some(w) if !bool::from(w.is_zero()) => Ok(Self(Zeroizing::new(w))),
            _ => Err(PakeError::InvalidPasswordScalar),
        }
    }

    /// `w` as the transcript encodes it: big-endian, padded to 32 bytes (RFC 9382 §3.3).
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_repr().into())
    }

    pub(crate) fn scalar(&self) -> &Scalar {
        &self.0
    }
}

impl fmt::Debug for PasswordScalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordScalar(..)")
    }
}

/// A 512-bit big-endian integer mod the group order: `hi * 2^256 + lo`, each half reduced alone
/// (a 256-bit integer is less than twice the order, so `reduce` is exact).
fn reduce_wide(bytes: &[u8; 64]) -> Scalar {
    let (hi, lo) = bytes.split_at(32);
    let hi = <Scalar as Reduce<U256>>::reduce_bytes(FieldBytes::from_slice(hi));
    let lo = <Scalar as Reduce<U256>>::reduce_bytes(FieldBytes::from_slice(lo));
    let two_pow_256 = <Scalar as Reduce<U256>>::reduce(U256::MAX) + Scalar::ONE;
    hi * two_pow_256 + lo
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_of(w: &PasswordScalar) -> String {
        hex::encode(*w.to_bytes())
    }

    /// Pinned: `web/tests/pake.test.mjs` asserts the same bytes, so both sides derive one `w`.
    /// Computed independently with Python's hashlib and integer arithmetic.
    #[test]
    fn derivation_known_answer() {
        let w = PasswordScalar::derive("3f1c2a9e-5b7d-4e21-9c0a-7d8e6f5a4b3c", "correct horse");
        assert_eq!(hex_of(&w), KNOWN_W);
    }

    const KNOWN_W: &str = "0c6360a320c0233a4b304ea66a45b9212db47b376702ace60675e18bf7fe4a4c";

    #[test]
    fn composed_and_decomposed_accents_are_one_password() {
        let composed = PasswordScalar::derive("inv", "Am\u{e9}lie");
        let decomposed = PasswordScalar::derive("inv", "Ame\u{301}lie");
        assert_eq!(hex_of(&composed), hex_of(&decomposed));
    }

    #[test]
    fn invitation_and_password_both_count() {
        let base = hex_of(&PasswordScalar::derive("inv-1", "secret"));
        assert_ne!(base, hex_of(&PasswordScalar::derive("inv-2", "secret")));
        assert_ne!(base, hex_of(&PasswordScalar::derive("inv-1", "secreT")));
        // The length prefixes keep the boundary between the two fields.
        assert_ne!(
            hex_of(&PasswordScalar::derive("ab", "c")),
            hex_of(&PasswordScalar::derive("a", "bc"))
        );
    }

    #[test]
    fn wide_reduction_matches_the_definition() {
        // 2^512 - 1 mod p, and 2^256 mod p, computed independently with Python.
        let all_ones = [0xffu8; 64];
        assert_eq!(
            hex::encode(reduce_wide(&all_ones).to_repr()),
            "66e12d94f3d956202845b2392b6bec594699799c49bd6fa683244c95be79eea1"
        );
        let mut two_pow_256 = [0u8; 64];
        two_pow_256[31] = 1;
        assert_eq!(
            hex::encode(reduce_wide(&two_pow_256).to_repr()),
            "00000000ffffffff00000000000000004319055258e8617b0c46353d039cdaaf"
        );
    }

    #[test]
    fn from_bytes_takes_only_scalars_in_range() {
        assert_eq!(
            PasswordScalar::from_bytes(&[0; 32]).err(),
            Some(PakeError::InvalidPasswordScalar)
        );
        assert_eq!(
            PasswordScalar::from_bytes(&[0xff; 32]).err(),
            Some(PakeError::InvalidPasswordScalar)
        );
        let mut one = [0; 32];
        one[31] = 1;
        assert_eq!(
            hex_of(&PasswordScalar::from_bytes(&one).unwrap()),
            hex::encode(one)
        );
    }

    #[test]
    fn debug_hides_the_scalar() {
        assert_eq!(
            format!("{:?}", PasswordScalar::derive("i", "p")),
            "PasswordScalar(..)"
        );
    }
}
