// What the expert's browser holds of an invitation besides its code: the secret after the
// link's '#' (browsers never send a fragment to any server), or the last eight symbols of the
// short code read out on the phone, and the certificate fingerprints the password check binds
// to. Plain ES module, no build; the same rules as the agent (agent/src/invitation/secret.rs,
// agent/src/verify.rs).
//
//   import { parseSecret, splitShortCode, exchangePassword, sdpFingerprint } from "/static/js/invitation.js";
//
//   parseSecret("9fzq-2wab")            // "9FZQ2WAB", or null when it cannot be a secret
//   splitShortCode("k7pq m2xd 4rta 9fzq 2wab")
//                                       // {lookup: "K7PQ-M2XD-4RTA", secret: "9FZQ2WAB"}, or null
//   exchangePassword(secret, password)  // what SPAKE2 is given: the secret, then the password
//   sdpFingerprint(sdp)                 // "sha-256 ab:cd:...", throws unless exactly one

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** Symbols of the server's lookup part of a short code. */
const LOOKUP_LENGTH = 12;
/** Symbols of the secret. */
export const SECRET_LENGTH = 8;

/** Crockford's base32 as people type it: any case, dashes and spaces ignored, O as 0, I and L
 * as 1. Null when a character cannot be one. */
function canonical(text) {
  let out = "";
  for (const raw of String(text)) {
    const c = raw.toUpperCase();
    if (c === "-" || c === " ") continue;
    const mapped = c === "O" ? "0" : c === "I" || c === "L" ? "1" : c;
    if (mapped.length !== 1 || !CROCKFORD.includes(mapped)) return null;
    out += mapped;
  }
  return out;
}

/** The secret in its canonical form, or null. */
export function parseSecret(text) {
  const out = canonical(text ?? "");
  return out !== null && out.length === SECRET_LENGTH ? out : null;
}

/** A whole short code as read out: the server's lookup part and the secret, or null. */
export function splitShortCode(text) {
  const out = canonical(text ?? "");
  if (out === null || out.length !== LOOKUP_LENGTH + SECRET_LENGTH) return null;
  const lookup = out.slice(0, LOOKUP_LENGTH);
  return {
    lookup: `${lookup.slice(0, 4)}-${lookup.slice(4, 8)}-${lookup.slice(8, 12)}`,
    secret: out.slice(LOOKUP_LENGTH),
  };
}

/** What both sides give SPAKE2 as the password: the secret, then the password if any. */
export function exchangePassword(secret, password) {
  return password ? `${secret}\n${password}` : secret;
}

/**
 * The certificate fingerprint an SDP description names ("a=fingerprint:"), lowercased with
 * single spaces; throws unless every such line names the same one. A description naming two
 * certificates would let a relay be accepted while the check binds to the other.
 */
export function sdpFingerprint(sdp) {
  let found = null;
  for (const line of String(sdp ?? "").split(/\r?\n/)) {
    const trimmed = line.trim();
    if (!trimmed.startsWith("a=fingerprint:")) continue;
    const value = trimmed
      .slice("a=fingerprint:".length)
      .split(/\s+/)
      .filter((part) => part)
      .join(" ")
      .replace(/[A-Z]/g, (c) => c.toLowerCase());
    if (found === null) found = value;
    else if (found !== value) throw new Error("the description names several different certificates");
  }
  if (found === null) throw new Error("the description names no certificate");
  return found;
}

/** Bytes as lowercase hex, and back (null unless exactly `length` bytes of hex). */
export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromHex(text, length) {
  if (typeof text !== "string" || text.length !== 2 * length || !/^[0-9a-fA-F]*$/.test(text)) return null;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}
