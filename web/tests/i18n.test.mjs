// The page's words for its scripts (web/static/js/i18n.js): messages as the server renders them
// (signaling-server/src/locale.rs), values put where the translator put their placeholders,
// plural forms chosen by the language's rules. Run with `node --test web/tests/`.

import assert from "node:assert/strict";
import { test } from "node:test";

import { translator } from "../static/js/i18n.js";

const SWEDISH = {
  "console-waiting-for": "Väntar på att { $novice } ska tillåta anslutningen…",
  "console-wrong-password-tries": {
    select: "tries",
    forms: {
      "=0": "Inbjudan är nu låst.",
      one: "1 försök till innan inbjudan låses.",
      other: "{ $tries } försök till innan inbjudan låses.",
    },
  },
  "console-quality-bitrate": "{ $mbits } Mbit/s",
};

test("values go where the translator put them, once", () => {
  const t = translator(SWEDISH, "sv-SE");
  assert.equal(t("console-waiting-for", { novice: "Nora" }), "Väntar på att Nora ska tillåta anslutningen…");
  // A value that reads like a placeholder is not filled in again.
  assert.equal(
    t("console-waiting-for", { novice: "{ $novice }" }),
    "Väntar på att { $novice } ska tillåta anslutningen…",
  );
  // A value not given leaves its placeholder visible.
  assert.equal(t("console-waiting-for"), "Väntar på att { $novice } ska tillåta anslutningen…");
});

test("the form of a number follows the language's plural rules, an exact number first", () => {
  const t = translator(SWEDISH, "sv-SE");
  const tries = (n) => t("console-wrong-password-tries", { tries: n });
  assert.equal(tries(0), "Inbjudan är nu låst.");
  assert.equal(tries(1), "1 försök till innan inbjudan låses.");
  assert.equal(tries(4), "4 försök till innan inbjudan låses.");
  assert.equal(tries(21), "21 försök till innan inbjudan låses.");
});

test("numbers are written as the language writes them", () => {
  assert.equal(translator(SWEDISH, "sv-SE")("console-quality-bitrate", { mbits: 0.5 }), "0,5 Mbit/s");
  assert.equal(translator(SWEDISH, "en-GB")("console-quality-bitrate", { mbits: 0.5 }), "0.5 Mbit/s");
});

test("a missing message shows as its id", () => {
  const t = translator(SWEDISH, "sv-SE");
  assert.equal(t("console-no-such-message"), "console-no-such-message");
  assert.equal(translator({}, "en-GB")("console-you-ended"), "console-you-ended");
});
