// What the console reads of an invitation besides its code (web/static/js/invitation.js): the
// secret, the short code split into its lookup and secret parts, and the certificate
// fingerprints, by the same rules as the agent (agent/src/invitation/secret.rs,
// agent/src/verify.rs). Run with `node --test web/tests/`.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  exchangePassword,
  fromHex,
  parseSecret,
  sdpFingerprint,
  splitShortCode,
  toHex,
} from "../static/js/invitation.js";

test("a secret is read as people type it, and nothing else is one", () => {
  assert.equal(parseSecret("9FZQ2WAB"), "9FZQ2WAB");
  assert.equal(parseSecret("9fzq 2wab"), "9FZQ2WAB");
  assert.equal(parseSecret("9FZQ-2WAB"), "9FZQ2WAB");
  assert.equal(parseSecret("oIlL-0000"), "01110000");
  for (const bad of ["", "9FZQ2WA", "9FZQ2WABC", "9FZQ2WAU", "9FZQ2WAÄ", null, undefined]) {
    assert.equal(parseSecret(bad), null, String(bad));
  }
});

test("the short code read out splits into what the server looks up and the secret", () => {
  assert.deepEqual(splitShortCode("k7pq m2xd 4rta 9fzq 2wab"), {
    lookup: "K7PQ-M2XD-4RTA",
    secret: "9FZQ2WAB",
  });
  assert.equal(splitShortCode("K7PQ-M2XD-4RTA"), null, "the lookup alone has no secret");
  assert.equal(splitShortCode("K7PQ-M2XD-4RTA-9FZQ-2WAB-X"), null);
});

test("the exchange password is the secret, then the password", () => {
  assert.equal(exchangePassword("9FZQ2WAB", ""), "9FZQ2WAB");
  assert.equal(exchangePassword("9FZQ2WAB", null), "9FZQ2WAB");
  assert.equal(exchangePassword("9FZQ2WAB", "tulip"), "9FZQ2WAB\ntulip");
});

test("fingerprints are read as the binding writes them, and only when they agree", () => {
  assert.equal(
    sdpFingerprint("v=0\r\na=fingerprint:sha-256  AB:CD\r\nm=x\r\na=fingerprint:SHA-256 ab:cd\r\n"),
    "sha-256 ab:cd",
  );
  assert.throws(() => sdpFingerprint("v=0\r\n"), /no certificate/);
  assert.throws(
    () => sdpFingerprint("a=fingerprint:sha-256 AB\na=fingerprint:sha-256 AC\n"),
    /several/,
  );
});

test("hex of a fixed length, both ways", () => {
  const bytes = Uint8Array.from([0, 1, 0xab, 0xff]);
  assert.equal(toHex(bytes), "0001abff");
  assert.deepEqual(fromHex("0001ABff", 4), bytes);
  assert.equal(fromHex("0001ab", 4), null);
  assert.equal(fromHex("zz01abff", 4), null);
});
