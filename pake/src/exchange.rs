//! SPAKE2 (RFC 9382 §3.3) with key confirmation (§4), ciphersuite P256-SHA256-HKDF-HMAC-SHA256
//! (§6), as a typed state machine without IO.
//!
//! ```text
//! Spake2::start(role, w, idA, idB, aad, rng) -> (Spake2, share)           send share
//! Spake2::finish(peer share)                 -> (Confirming, confirmation)  send confirmation
//! Confirming::verify(peer confirmation)      -> SessionKey                  done
//! ```
//!
//! Both roles make the same three calls; the types let no step be skipped or repeated, and a
//! failed step consumes the exchange (one exchange, one password guess). A share does not depend
//! on the peer's, so each side may send its share as soon as it starts.
//!
//! What each side computes, `h` being 1 on P-256:
//!
//! * A (the agent): `x` random in [1, p), `pA = w*M + x*P`; then `K = x*(pB - w*N)`.
//! * B (the expert): `y` random in [1, p), `pB = w*N + y*P`; then `K = y*(pA - w*M)`.
//! * `TT = len(A) || A || len(B) || B || len(pA) || pA || len(pB) || pB || len(K) || K || len(w) || w`
//!   (§3.3), points uncompressed, `w` 32 bytes big-endian.
//! * `Ke || Ka = SHA-256(TT)`; `KcA || KcB = HKDF-SHA256(salt nil, Ka, "ConfirmationKeys" || AAD)`,
//!   32 bytes (§4).
//! * `cA = HMAC-SHA256(KcA, TT)`, `cB = HMAC-SHA256(KcB, TT)` (§3.3); the key is `Ke`.

use std::fmt;
use std::sync::LazyLock;

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use p256::elliptic_curve::{group::Group, Field, PrimeField};
use p256::{AffinePoint, EncodedPoint, FieldBytes, ProjectivePoint, Scalar};
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::{
    append_with_len, PakeError, PasswordScalar, CONFIRMATION_LEN, MAX_AAD_LEN, SESSION_KEY_LEN,
    SHARE_LEN,
};

/// M for P-256, compressed SEC1 (RFC 9382 §6); nobody knows its discrete logarithm (Appendix A).
const M_SEC1: [u8; 33] =
    hex33("02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f");
/// N for P-256, compressed SEC1 (RFC 9382 §6).
const N_SEC1: [u8; 33] =
    hex33("03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49");

static M: LazyLock<ProjectivePoint> = LazyLock::new(|| decompress(&M_SEC1));
static N: LazyLock<ProjectivePoint> = LazyLock::new(|| decompress(&N_SEC1));

/// Info prefix of the confirmation keys' HKDF (RFC 9382 §4).
const CONFIRMATION_KEYS_INFO: &[u8] = b"ConfirmationKeys";

/// Which side of the exchange this is. The roles are fixed by the product, so that both sides
/// agree on them without a word: RFC 9382 §3.1 needs A and B settled before the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Party A of RFC 9382: the agent, on the novice's computer. Sends `pA = w*M + x*P`.
    Agent,
    /// Party B of RFC 9382: the expert's browser. Sends `pB = w*N + y*P`.
    Expert,
}

/// An exchange that has sent its share and waits for the peer's.
pub struct Spake2 {
    role: Role,
    w: PasswordScalar,
    /// `x` for A, `y` for B.
    secret: Zeroizing<Scalar>,
    share: [u8; SHARE_LEN],
    id_a: Vec<u8>,
    id_b: Vec<u8>,
    aad: Vec<u8>,
}

/// An exchange that has sent its confirmation and waits for the peer's.
pub struct Confirming {
    expected: Zeroizing<[u8; CONFIRMATION_LEN]>,
    key: SessionKey,
}

/// `Ke` of RFC 9382 §4: the key both sides share once each has verified the other's
/// confirmation. Wiped from memory when dropped; never printed.
pub struct SessionKey(Zeroizing<[u8; SESSION_KEY_LEN]>);

impl Spake2 {
    /// Starts an exchange: draws this side's secret scalar from `rng` and returns the state
    /// and the share to send to the peer.
    ///
    /// `id_a` and `id_b` are the identities of A (the agent) and B (the expert) that both sides
    /// agree on, possibly empty (RFC 9382 §3.3); `aad` is the associated data, for this product
    /// [`crate::session_aad`]. The scalar is 32 bytes from `rng` read big-endian, drawn again
    /// while zero or not below the group order.
    pub fn start(
        role: Role,
        w: &PasswordScalar,
        id_a: &[u8],
        id_b: &[u8],
        aad: &[u8],
        rng: &mut impl CryptoRngCore,
    ) -> Result<(Self, [u8; SHARE_LEN]), PakeError> {
        if aad.len() > MAX_AAD_LEN {
            return Err(PakeError::AadTooLong { len: aad.len() });
        }
        let blind = match role {
            Role::Agent => *M,
            Role::Expert => *N,
        };
        let (secret, share) = loop {
            let secret = random_scalar(rng);
            // The identity has no 65-byte encoding; it comes out only if x*P = -w*M, which
            // happens with probability 2^-256, and then a new x does not.
            if let Some(share) =
                encode(&(blind * w.scalar() + ProjectivePoint::GENERATOR * *secret))
            {
                break (secret, share);
            }
        };
        let exchange = Self {
            role,
            w: w.clone(),
            secret,
            share,
            id_a: id_a.to_vec(),
            id_b: id_b.to_vec(),
            aad: aad.to_vec(),
        };
        Ok((exchange, share))
    }

    /// Takes the peer's share and returns the state and this side's key confirmation to send.
    /// Fails on a share that is not a P-256 point in the ciphersuite's encoding.
    pub fn finish(
        self,
        peer_share: &[u8],
    ) -> Result<(Confirming, [u8; CONFIRMATION_LEN]), PakeError> {
        let peer = decode(peer_share)?;
        let k = shared_element(self.role, &self.secret, &self.w, &peer)?;
        let (p_a, p_b) = match self.role {
            Role::Agent => (&self.share[..], peer_share),
            Role::Expert => (peer_share, &self.share[..]),
        };
        let tt = transcript(&self.id_a, &self.id_b, p_a, p_b, &k, &self.w.to_bytes());
        let keys = KeySchedule::derive(&tt, &self.aad);
        let c_a = confirmation(&keys.kc_a, &tt);
        let c_b = confirmation(&keys.kc_b, &tt);
        let (mine, expected) = match self.role {
            Role::Agent => (c_a, c_b),
            Role::Expert => (c_b, c_a),
        };
        let confirming = Confirming {
            expected: Zeroizing::new(expected),
            key: SessionKey(keys.ke),
        };
        Ok((confirming, mine))
    }

    /// The role this exchange plays.
    pub fn role(&self) -> Role {
        self.role
    }
}

impl Confirming {
    /// Checks the peer's key confirmation (in constant time) and, when it matches, returns the
    /// session key. A mismatch means the peer used another password or another AAD.
    pub fn verify(self, peer_confirmation: &[u8]) -> Result<SessionKey, PakeError> {
        if peer_confirmation.len() != CONFIRMATION_LEN {
            return Err(PakeError::ConfirmationLength {
                got: peer_confirmation.len(),
            });
        }
        if bool::from(self.expected.ct_eq(peer_confirmation)) {
            Ok(self.key)
        } else {
            Err(PakeError::ConfirmationMismatch)
        }
    }
}

impl SessionKey {
    /// The 16 key bytes, to derive further keys from (e.g. with HKDF).
    pub fn as_bytes(&self) -> &[u8; SESSION_KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for Spake2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spake2")
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Confirming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Confirming(..)")
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

/// `Ke`, `Ka` and the confirmation keys of RFC 9382 §4.
struct KeySchedule {
    ke: Zeroizing<[u8; 16]>,
    #[cfg_attr(not(test), allow(dead_code))]
    ka: Zeroizing<[u8; 16]>,
    kc_a: Zeroizing<[u8; 16]>,
    kc_b: Zeroizing<[u8; 16]>,
}

impl KeySchedule {
    fn derive(tt: &[u8], aad: &[u8]) -> Self {
        let hash = Zeroizing::new(<[u8; 32]>::from(Sha256::digest(tt)));
        let (ke, ka) = split_halves(&hash);
        let mut info = Vec::with_capacity(CONFIRMATION_KEYS_INFO.len() + aad.len());
        info.extend_from_slice(CONFIRMATION_KEYS_INFO);
        info.extend_from_slice(aad);
        let mut okm = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(None, &*ka)
            .expand(&info, &mut *okm)
            .expect("32 bytes is far below HKDF-SHA256's limit of 8160");
        let (kc_a, kc_b) = split_halves(&okm);
        Self { ke, ka, kc_a, kc_b }
    }
}

fn split_halves(bytes: &[u8; 32]) -> (Zeroizing<[u8; 16]>, Zeroizing<[u8; 16]>) {
    let mut first = Zeroizing::new([0u8; 16]);
    let mut second = Zeroizing::new([0u8; 16]);
    first.copy_from_slice(&bytes[..16]);
    second.copy_from_slice(&bytes[16..]);
    (first, second)
}

/// `K`: A computes `x*(pB - w*N)`, B computes `y*(pA - w*M)` (RFC 9382 §3.3; the cofactor is 1).
fn shared_element(
    role: Role,
    secret: &Scalar,
    w: &PasswordScalar,
    peer: &ProjectivePoint,
) -> Result<[u8; SHARE_LEN], PakeError> {
    let peer_blind = match role {
        Role::Agent => *N,
        Role::Expert => *M,
    };
    // The identity only comes out of a peer that sent exactly w*N (or w*M): it carries no key.
    encode(&((*peer - peer_blind * w.scalar()) * secret)).ok_or(PakeError::InvalidShare)
}

/// The transcript TT of RFC 9382 §3.3.
fn transcript(
    id_a: &[u8],
    id_b: &[u8],
    p_a: &[u8],
    p_b: &[u8],
    k: &[u8],
    w: &[u8; 32],
) -> Zeroizing<Vec<u8>> {
    let mut tt = Zeroizing::new(Vec::with_capacity(
        6 * 8 + id_a.len() + id_b.len() + 3 * SHARE_LEN + 32,
    ));
    for part in [id_a, id_b, p_a, p_b, k, w] {
        append_with_len(&mut tt, part);
    }
    tt
}

fn confirmation(key: &[u8; 16], tt: &[u8]) -> [u8; CONFIRMATION_LEN] {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(tt);
    mac.finalize().into_bytes().into()
}

/// 32 bytes from `rng`, big-endian, until they make a scalar in [1, p).
fn random_scalar(rng: &mut impl CryptoRngCore) -> Zeroizing<Scalar> {
    loop {
        let mut bytes = Zeroizing::new(FieldBytes::default());
        rng.fill_bytes(&mut bytes);
        let scalar: Option<Scalar> = Scalar::from_repr(*bytes).into();
        if let Some(scalar) = scalar.filter(|s| !bool::from(s.is_zero())) {
            return Zeroizing::new(scalar);
        }
    }
}

/// A point in the ciphersuite's encoding, uncompressed SEC1; `None` for the identity.
fn encode(point: &ProjectivePoint) -> Option<[u8; SHARE_LEN]> {
    if bool::from(point.is_identity()) {
        return None;
    }
    point
        .to_affine()
        .to_encoded_point(false)
        .as_bytes()
        .try_into()
        .ok()
}

/// A peer's share: exactly an uncompressed SEC1 point on P-256 (RFC 9382 §7: "An endpoint
/// MUST abort the protocol if any received public value is not a member of G"). On P-256 every
/// point of the curve is in the group, and the identity has no uncompressed encoding.
fn decode(bytes: &[u8]) -> Result<ProjectivePoint, PakeError> {
    if bytes.len() != SHARE_LEN {
        return Err(PakeError::ShareLength { got: bytes.len() });
    }
    if bytes.first() != Some(&0x04) {
        return Err(PakeError::ShareEncoding);
    }
    let encoded = EncodedPoint::from_bytes(bytes).map_err(|_| PakeError::InvalidShare)?;
    let point: Option<AffinePoint> = AffinePoint::from_encoded_point(&encoded).into();
    point
        .map(ProjectivePoint::from)
        .ok_or(PakeError::InvalidShare)
}

fn decompress(sec1: &[u8; 33]) -> ProjectivePoint {
    EncodedPoint::from_bytes(sec1)
        .ok()
        .and_then(|encoded| Option::<AffinePoint>::from(AffinePoint::from_encoded_point(&encoded)))
        .map(ProjectivePoint::from)
        .expect("M and N of RFC 9382 §6 are points of P-256")
}

/// Hex text to bytes at compile time, for the constants above.
const fn hex33(text: &str) -> [u8; 33] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("lowercase hex expected"),
        }
    }
    let text = text.as_bytes();
    assert!(text.len() == 66, "33 bytes expected");
    let mut out = [0u8; 33];
    let mut i = 0;
    while i < 33 {
        out[i] = nibble(text[2 * i]) << 4 | nibble(text[2 * i + 1]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests;
