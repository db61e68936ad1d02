//! The associated data (AAD of RFC 9382 §3.2 and §4) that binds an exchange to one session and
//! to the two DTLS certificates of its WebRTC connection.
//!
//! Each side builds it from what *it* sees: the session id, the agent's certificate fingerprint
//! and the expert's. The AAD enters the confirmation keys (`KcA || KcB = HKDF(nil, Ka,
//! "ConfirmationKeys" || AAD)`), so when a relay in the middle terminates DTLS with certificates
//! of its own, the two sides see different fingerprints, derive different keys, and both
//! confirmations fail even though the password is right.
//!
//! ```text
//! AAD = len(L) || L || len(session) || session || len(fpA) || fpA || len(fpB) || fpB
//! L   = "remote-assistance spake2 aad"
//! fpA, fpB = the agent's and the expert's fingerprint, "sha-256 ab:cd:...", lowercased and trimmed
//! ```
//!
//! `len(S)` is the eight-byte little-endian length of RFC 9382 §3.2; the prefixes keep the
//! fields apart so that no two inputs give the same bytes. `web/static/js/pake.js` builds the
//! same bytes (`sessionAad`), and both sides' tests pin them.

use crate::append_with_len;

/// Domain separation label, and the version of this layout.
const LABEL: &[u8] = b"remote-assistance spake2 aad";

/// The AAD for one session, from the session id and the two DTLS certificate fingerprints as
/// this side sees them. A fingerprint is written as in SDP's `a=fingerprint` attribute, hash
/// function then hex pairs (`"sha-256 4A:F2:..."`); case and surrounding spaces do not matter,
/// as browsers and WebRTC stacks differ there.
pub fn session_aad(session_id: &str, agent_fingerprint: &str, expert_fingerprint: &str) -> Vec<u8> {
    let mut aad = Vec::new();
    append_with_len(&mut aad, LABEL);
    append_with_len(&mut aad, session_id.as_bytes());
    append_with_len(
        &mut aad,
        canonical_fingerprint(agent_fingerprint).as_bytes(),
    );
    append_with_len(
        &mut aad,
        canonical_fingerprint(expert_fingerprint).as_bytes(),
    );
    aad
}

fn canonical_fingerprint(fingerprint: &str) -> String {
    fingerprint.trim().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pinned: `web/tests/pake.test.mjs` asserts the same bytes for the same inputs.
    #[test]
    fn known_bytes() {
        let aad = session_aad("s-1", " SHA-256 AB:cd ", "sha-256 01:ef");
        let expected = concat!(
            "1c00000000000000",
            "72656d6f74652d617373697374616e6365207370616b653220616164", // label
            "0300000000000000",
            "732d31", // "s-1"
            "0d00000000000000",
            "7368612d3235362061623a6364", // "sha-256 ab:cd"
            "0d00000000000000",
            "7368612d3235362030313a6566", // "sha-256 01:ef"
        );
        assert_eq!(hex::encode(aad), expected);
    }

    #[test]
    fn every_field_counts() {
        let base = session_aad("s", "sha-256 aa", "sha-256 bb");
        assert_ne!(base, session_aad("t", "sha-256 aa", "sha-256 bb"));
        assert_ne!(base, session_aad("s", "sha-256 ab", "sha-256 bb"));
        assert_ne!(base, session_aad("s", "sha-256 aa", "sha-256 ba"));
        // Swapped fingerprints are another binding: the roles are part of it.
        assert_ne!(base, session_aad("s", "sha-256 bb", "sha-256 aa"));
    }
}
