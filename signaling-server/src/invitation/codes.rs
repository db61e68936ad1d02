//! Invitation codes: the long secret in the link and the short code read out over the phone.
//!
//! The link code is 32 random bytes in unpadded base64url (256 bits). The short code is 12
//! symbols of Crockford's base32 (60 bits), shown as `XXXX-XXXX-XXXX`; it is typed by people, so
//! it is read case-insensitively, ignores separators and maps the look-alikes O→0 and I/L→1.
//! Its lower entropy is why redemption is rate-limited per client and passwords lock.
//! Only SHA-256 digests of either code are stored.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const SHORT_LEN: usize = 12;

/// A freshly generated pair of codes, in the clear. Shown once to the novice, never stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCodes {
    pub code: String,
    pub short_code: String,
}

impl NewCodes {
    /// The digests the database stores: of the link code, and of the short code's canonical
    /// form (its symbols without the dashes).
    pub fn digests(&self) -> CodeDigests {
        CodeDigests {
            code: digest(&self.code),
            short_code: digest(&self.short_code.replace('-', "")),
        }
    }
}

/// What the database keeps of an invitation's two codes: their SHA-256 digests, by name, so
/// that the link code's and the short code's cannot be swapped on the way to the row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeDigests {
    /// Of the link code.
    pub code: String,
    /// Of the short code's canonical form.
    pub short_code: String,
}

/// Compares with `(link code's digest, short code's digest)`.
impl PartialEq<(String, String)> for CodeDigests {
    fn eq(&self, (code, short_code): &(String, String)) -> bool {
        self.code == *code && self.short_code == *short_code
    }
}

/// Generates both codes from a cryptographic RNG.
pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> NewCodes {
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut secret);
    let mut short = [0u8; SHORT_LEN];
    rng.fill_bytes(&mut short);
    let symbols: String = short
        .iter()
        .map(|b| CROCKFORD[usize::from(b & 31)] as char)
        .collect();
    NewCodes {
        code: URL_SAFE_NO_PAD.encode(secret),
        short_code: format!("{}-{}-{}", &symbols[0..4], &symbols[4..8], &symbols[8..12]),
    }
}

/// The canonical form of something a person typed as a short code, or `None` if it cannot be
/// one.
pub fn normalize_short(input: &str) -> Option<String> {
    let mut out = String::with_capacity(SHORT_LEN);
    for c in input.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c if CROCKFORD.contains(&(c as u8)) && c.is_ascii() => c,
            _ => return None,
        };
        out.push(c);
    }
    (out.len() == SHORT_LEN).then_some(out)
}

/// SHA-256 of a code in lowercase hex; what the database stores and looks up.
pub fn digest(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

/// Digest under which a short code is stored (of its canonical form).
pub fn short_digest(short_code: &str) -> Option<String> {
    normalize_short(short_code).map(|s| digest(&s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn link_code_has_256_bits() {
        let codes = generate(&mut StdRng::seed_from_u64(1));
        let raw = URL_SAFE_NO_PAD.decode(&codes.code).expect("base64url");
        assert_eq!(raw.len(), 32);
    }

    #[test]
    fn codes_differ_between_draws() {
        let mut rng = StdRng::seed_from_u64(7);
        let a = generate(&mut rng);
        let b = generate(&mut rng);
        assert_ne!(a.code, b.code);
        assert_ne!(a.short_code, b.short_code);
    }

    #[test]
    fn short_code_survives_how_people_type_it() {
        let codes = generate(&mut StdRng::seed_from_u64(3));
        let canonical = normalize_short(&codes.short_code).expect("valid");
        let typed = codes.short_code.to_lowercase().replace('-', " ");
        assert_eq!(normalize_short(&typed), Some(canonical.clone()));
        assert_eq!(short_digest(&codes.short_code), Some(digest(&canonical)));
        assert_eq!(
            codes.digests(),
            (digest(&codes.code), digest(&canonical)),
            "stored as it is looked up"
        );
    }

    #[test]
    fn look_alikes_map_to_digits() {
        assert_eq!(
            normalize_short("oOiI-lL00-1111"),
            Some("001111001111".into())
        );
    }

    #[test]
    fn garbage_is_not_a_short_code() {
        assert_eq!(normalize_short("ABC"), None);
        assert_eq!(normalize_short("ABCD-EFGH-JKMU"), None); // U is not in the alphabet
        assert_eq!(normalize_short("ÄBCD-EFGH-JKMN"), None);
        assert_eq!(normalize_short("ABCD-EFGH-JKMN-P"), None);
    }

    #[test]
    fn digest_is_sha256_hex() {
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
