// The invitation password, checked on the novice's computer: the expert's side of a
// password-authenticated key exchange with the agent, run over the data channel before any frame
// or input. Plain ES module, no build; the same protocol as the agent's Rust crate `pake/`, and
// the same API shape. docs/pake.md describes both.
//
// Protocol: SPAKE2 exactly as RFC 9382 defines it, ciphersuite P256-SHA256-HKDF-HMAC-SHA256
// (§6), with its key confirmation (§4). The agent is party A (share pA, point M), the expert's
// browser party B (share pB, point N).
//
// API
//
//   import { PasswordScalar, Role, Spake2, sessionAad } from "/static/js/pake.js";
//
//   const w = PasswordScalar.derive(invitationId, password);
//   const aad = sessionAad(sessionId, agentFingerprint, expertFingerprint);
//   const [exchange, share] = Spake2.start(Role.EXPERT, w, idA, idB, aad);  // send share (65 bytes)
//   const [confirming, confirmation] = exchange.finish(peerShare);          // send confirmation (32 bytes)
//   const sessionKey = confirming.verify(peerConfirmation);                  // Uint8Array(16): Ke
//
// Every step throws a PakeError (`code` one of the PAKE_ERRORS keys, `message` for a person) on
// bad peer input or a confirmation that does not match, and each state can be used once: a
// failed exchange is over, start a new one. Spake2.start takes an optional last argument,
// `randomBytes(n) => Uint8Array`, crypto.getRandomValues by default; the secret scalar is 32 such
// bytes read big-endian, drawn again while zero or not below the group order (as in Rust).
//
// Password to scalar (identical in pake/src/password.rs):
//   w = SHA-512(len(L) || L || len(invitation) || invitation || len(pw) || pw) mod p,
//   L = "remote-assistance spake2 w", pw = UTF-8 of the password in Unicode NFC,
//   len(S) = S's length as 8 bytes little-endian (RFC 9382 §3.2).
// Associated data (identical in pake/src/binding.rs):
//   len(L) || L || len(session) || session || len(fpA) || fpA || len(fpB) || fpB,
//   L = "remote-assistance spake2 aad", fingerprints as in SDP ("sha-256 AB:..."), trimmed and
//   lowercased.

import { p256 } from "./vendor/noble-curves/nist.js";
import { bytesToNumberBE, equalBytes, numberToBytesBE } from "./vendor/noble-curves/utils.js";
import { hkdf } from "./vendor/noble-hashes/hkdf.js";
import { hmac } from "./vendor/noble-hashes/hmac.js";
import { sha256, sha512 } from "./vendor/noble-hashes/sha2.js";

/** Length of a share on the wire: uncompressed SEC1 P-256 point (RFC 9382 §6). */
export const SHARE_LENGTH = 65;
/** Length of a key confirmation on the wire: one HMAC-SHA256 tag (RFC 9382 §3.3). */
export const CONFIRMATION_LENGTH = 32;
/** Length of the session key Ke: half a SHA-256 digest (RFC 9382 §4). */
export const SESSION_KEY_LENGTH = 16;
/** Longest associated data RFC 9382 §3.2 allows: 2^16 - 128 bits. */
export const MAX_AAD_LENGTH = (2 ** 16 - 128) / 8;

/** Which side of the exchange this is (RFC 9382 §3.1: settled before the exchange). */
export const Role = Object.freeze({
  /** Party A: the agent, on the novice's computer. */
  AGENT: "agent",
  /** Party B: the expert's browser. */
  EXPERT: "expert",
});

/** Every PakeError code, with what it means (the same cases as Rust's PakeError). */
export const PAKE_ERRORS = Object.freeze({
  "share-length": "the peer's share has the wrong length: the peer speaks another protocol version, or the message was cut",
  "share-encoding": "the peer's share is not an uncompressed P-256 point (it must start with 0x04): the peer speaks another protocol version",
  "invalid-share": "the peer's share is not a point of P-256: the peer is broken or not who it claims to be; the exchange was stopped",
  "confirmation-length": "the peer's confirmation has the wrong length: the peer speaks another protocol version, or the message was cut",
  "confirmation-mismatch": "the password does not match: the expert typed a different password, or the two sides are not connected to each other directly (another session, another certificate)",
  "aad-too-long": "the associated data is longer than RFC 9382 allows",
  "invalid-password-scalar": "a password scalar is 32 bytes, big-endian, between 1 and the P-256 group order",
  "used": "this exchange step was already taken: start a new exchange",
});

export class PakeError extends Error {
  constructor(code, detail = "") {
    super(PAKE_ERRORS[code] + detail);
    this.name = "PakeError";
    this.code = code;
  }
}

const Point = p256.Point;
const ORDER = Point.Fn.ORDER;
/** M and N for P-256, compressed SEC1 (RFC 9382 §6). */
const M = Point.fromHex("02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f");
const N = Point.fromHex("03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49");
const CONFIRMATION_KEYS_INFO = ascii("ConfirmationKeys");
const W_LABEL = ascii("remote-assistance spake2 w");
const AAD_LABEL = ascii("remote-assistance spake2 aad");

/** w of RFC 9382 §3.2: the password as a scalar in [1, p). */
export class PasswordScalar {
  #w;

  constructor(w) {
    if (typeof w !== "bigint" || w <= 0n || w >= ORDER) throw new PakeError("invalid-password-scalar");
    this.#w = w;
  }

  /** w from the invitation's identifier (the same text on both sides) and its password. */
  static derive(invitation, password) {
    const pw = new TextEncoder().encode(password.normalize("NFC"));
    const digest = sha512(withLengths([W_LABEL, new TextEncoder().encode(invitation), pw]));
    pw.fill(0);
    const w = bytesToNumberBE(digest) % ORDER;
    return new PasswordScalar(w === 0n ? 1n : w);
  }

  /** w given directly, as RFC 9382 Appendix B gives it: 32 bytes big-endian. */
  static fromBytes(bytes) {
    if (!(bytes instanceof Uint8Array) || bytes.length !== 32) throw new PakeError("invalid-password-scalar");
    return new PasswordScalar(bytesToNumberBE(bytes));
  }

  /** w as the transcript encodes it: 32 bytes big-endian (RFC 9382 §3.3). */
  toBytes() {
    return numberToBytesBE(this.#w, 32);
  }

  /** @internal */
  get scalar() {
    return this.#w;
  }
}

/**
 * The associated data binding an exchange to one session and to the two DTLS certificates as
 * this side sees them; a relay in the middle shows each side other certificates and makes both
 * confirmations fail.
 */
export function sessionAad(sessionId, agentFingerprint, expertFingerprint) {
  const text = new TextEncoder();
  return withLengths([
    AAD_LABEL,
    text.encode(sessionId),
    text.encode(canonicalFingerprint(agentFingerprint)),
    text.encode(canonicalFingerprint(expertFingerprint)),
  ]);
}

function canonicalFingerprint(fingerprint) {
  // ASCII lowercase only, as Rust's to_ascii_lowercase.
  return fingerprint.trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** An exchange that has sent its share and waits for the peer's. */
export class Spake2 {
  #role;
  #w;
  #secret;
  #share;
  #idA;
  #idB;
  #aad;
  #used = false;

  constructor(token, role, w, secret, share, idA, idB, aad) {
    if (token !== CONSTRUCT) throw new TypeError("use Spake2.start");
    this.#role = role;
    this.#w = w;
    this.#secret = secret;
    this.#share = share;
    this.#idA = idA;
    this.#idB = idB;
    this.#aad = aad;
  }

  /**
   * Starts an exchange. Returns [exchange, share]: send the share to the peer. idA and idB are
   * the identities of A (agent) and B (expert) both sides agree on, as Uint8Array or string.
   */
  static start(role, w, idA, idB, aad, randomBytes = defaultRandomBytes) {
    if (role !== Role.AGENT && role !== Role.EXPERT) throw new TypeError(`unknown role ${role}`);
    if (!(w instanceof PasswordScalar)) throw new TypeError("w must be a PasswordScalar");
    aad = bytes(aad);
    if (aad.length > MAX_AAD_LENGTH) throw new PakeError("aad-too-long", ` (${aad.length} bytes)`);
    const blind = role === Role.AGENT ? M : N;
    let secret;
    let share;
    do {
      secret = randomScalar(randomBytes);
      // The identity (x*P = -w*M) comes with probability 2^-256; a new scalar does not.
      share = encode(blind.multiply(w.scalar).add(Point.BASE.multiply(secret)));
    } while (share === null);
    const exchange = new Spake2(CONSTRUCT, role, w, secret, share, bytes(idA), bytes(idB), aad);
    return [exchange, share.slice()];
  }

  get role() {
    return this.#role;
  }

  /** Takes the peer's share. Returns [confirming, confirmation]: send the confirmation. */
  finish(peerShare) {
    if (this.#used) throw new PakeError("used");
    this.#used = true;
    const peer = decode(peerShare);
    const peerBlind = this.#role === Role.AGENT ? N : M;
    // K = x*(pB - w*N) for A, y*(pA - w*M) for B (RFC 9382 §3.3; the cofactor is 1).
    const unblinded = peer.subtract(peerBlind.multiply(this.#w.scalar));
    if (unblinded.is0()) throw new PakeError("invalid-share", " (it carries no key)");
    const k = encode(unblinded.multiply(this.#secret));
    const [pA, pB] = this.#role === Role.AGENT ? [this.#share, peerShare] : [peerShare, this.#share];
    const tt = withLengths([this.#idA, this.#idB, pA, pB, k, this.#w.toBytes()]);
    const keys = keySchedule(tt, this.#aad);
    const cA = hmac(sha256, keys.kcA, tt);
    const cB = hmac(sha256, keys.kcB, tt);
    tt.fill(0);
    const [mine, expected] = this.#role === Role.AGENT ? [cA, cB] : [cB, cA];
    this.#secret = 0n;
    return [new Confirming(CONSTRUCT, expected, keys.ke), mine];
  }
}

/** An exchange that has sent its confirmation and waits for the peer's. */
export class Confirming {
  #expected;
  #key;
  #used = false;

  constructor(token, expected, key) {
    if (token !== CONSTRUCT) throw new TypeError("use Spake2.finish");
    this.#expected = expected;
    this.#key = key;
  }

  /** Checks the peer's confirmation; returns the session key Ke (16 bytes) when it matches. */
  verify(peerConfirmation) {
    if (this.#used) throw new PakeError("used");
    this.#used = true;
    const confirmation = bytes(peerConfirmation);
    if (confirmation.length !== CONFIRMATION_LENGTH) {
      throw new PakeError("confirmation-length", ` (${confirmation.length} bytes, not ${CONFIRMATION_LENGTH})`);
    }
    // equalBytes compares every byte, whatever the first difference.
    const matches = equalBytes(this.#expected, confirmation);
    this.#expected.fill(0);
    if (!matches) {
      this.#key.fill(0);
      throw new PakeError("confirmation-mismatch");
    }
    return this.#key;
  }
}

const CONSTRUCT = Symbol("pake.construct");

/** Ke || Ka = SHA-256(TT); KcA || KcB = HKDF-SHA256(nil, Ka, "ConfirmationKeys" || AAD) (RFC 9382 §4). */
function keySchedule(tt, aad) {
  const hash = sha256(tt);
  const ke = hash.slice(0, 16);
  const ka = hash.slice(16, 32);
  const okm = hkdf(sha256, ka, undefined, concat(CONFIRMATION_KEYS_INFO, aad), 32);
  const keys = { ke, ka, kcA: okm.slice(0, 16), kcB: okm.slice(16, 32) };
  hash.fill(0);
  okm.fill(0);
  return keys;
}

/** @internal For the RFC 9382 test vectors in web/tests/pake.test.mjs. */
export const _internals = Object.freeze({ keySchedule, withLengths, M, N });

/** A peer's share: exactly an uncompressed SEC1 point of P-256 (RFC 9382 §7). */
function decode(share) {
  if (!(share instanceof Uint8Array)) throw new PakeError("share-length", " (not bytes)");
  if (share.length !== SHARE_LENGTH) throw new PakeError("share-length", ` (${share.length} bytes, not ${SHARE_LENGTH})`);
  if (share[0] !== 0x04) throw new PakeError("share-encoding");
  try {
    return Point.fromBytes(share);
  } catch {
    throw new PakeError("invalid-share");
  }
}

/** A point as uncompressed SEC1; null for the identity, which has no such encoding. */
function encode(point) {
  return point.is0() ? null : point.toBytes(false);
}

function randomScalar(randomBytes) {
  for (;;) {
    const candidate = bytesToNumberBE(randomBytes(32));
    if (candidate > 0n && candidate < ORDER) return candidate;
  }
}

function defaultRandomBytes(n) {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

/** len(S1) || S1 || len(S2) || S2 ..., len as 8 bytes little-endian (RFC 9382 §3.2). */
function withLengths(parts) {
  const total = parts.reduce((sum, part) => sum + 8 + part.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const part of parts) {
    view.setBigUint64(at, BigInt(part.length), true);
    out.set(part, at + 8);
    at += 8 + part.length;
  }
  return out;
}

function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function bytes(value) {
  if (typeof value === "string") return new TextEncoder().encode(value);
  if (value instanceof Uint8Array) return value.slice();
  throw new TypeError("expected a Uint8Array or a string");
}

function ascii(text) {
  return new TextEncoder().encode(text);
}
