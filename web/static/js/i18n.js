// The page's words for its scripts. The server renders each page in the reader's language
// (signaling-server/src/locale.rs) and puts the messages of the page's area in one block,
// `<script type="application/json" id="messages">`: each message whole, as its translator wrote
// it, with `{ $name }` where a value goes, and a message that depends on a number as one text
// per plural form. Scripts only fill in values, never glue sentences from pieces.
//
//   import { t, language, formatNumber } from "/static/js/i18n.js";
//
//   t("console-waiting-for", { novice: "Nora" })  // "Waiting for Nora to allow the connection…"
//   t("console-wrong-password-tries", { tries: 3 }) // the form for 3, as the language words it
//   language                                     // "en-GB" or "sv-SE", from <html lang>
//   formatNumber(0.25, 2)                        // "0.25" or "0,25"
//   said({ expired: "console-refused-expired" }, code, serverMessage)
//
// A message missing from the block shows as its id, so that a mistake is visible rather than
// blank. Values are put in as given: text from a peer or the server is cleaned (text.js) by
// whoever shows the result, as before.

/** Messages as the server renders them: id → text, or {select, forms} for plural forms. */
export function translator(messages, language) {
  const plurals = new Intl.PluralRules(language);
  const numbers = new Intl.NumberFormat(language);
  const value = (v) => (typeof v === "number" ? numbers.format(v) : String(v ?? ""));
  return (id, args = {}) => {
    const message = messages[id];
    let text;
    if (typeof message === "string") {
      text = message;
    } else if (message && typeof message === "object" && message.forms) {
      const n = Number(args[message.select]);
      const forms = message.forms;
      text = forms[`=${n}`] ?? forms[plurals.select(n)] ?? forms.other ?? id;
    } else {
      return id;
    }
    // One pass: a value that itself reads like a placeholder stays as it is.
    return text.replace(/\{ \$([A-Za-z][A-Za-z0-9_-]*) \}/g, (whole, name) =>
      Object.hasOwn(args, name) ? value(args[name]) : whole,
    );
  };
}

function pageMessages() {
  if (typeof document === "undefined") return {};
  try {
    return JSON.parse(document.getElementById("messages")?.textContent ?? "{}") ?? {};
  } catch {
    return {};
  }
}

/** The page's language tag, as the server set it on <html lang>. */
export const language =
  (typeof document !== "undefined" && document.documentElement.lang) || "en-GB";

/** The page's message `id` with `args` filled in. */
export const t = translator(pageMessages(), language);

/**
 * What a code from the server (an error, a reason) says, in the page's language: the message
 * `table[code]`, or `fallback` (the server's own English sentence) for a code the page does not
 * know.
 */
export function said(table, code, fallback) {
  return Object.hasOwn(table, code) ? t(table[code]) : fallback;
}

/** `n` with exactly `digits` decimals, written as the page's language writes numbers. */
export function formatNumber(n, digits) {
  return new Intl.NumberFormat(language, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(n);
}

// The language menu reloads the page in another language; a console link's secret, after its
// '#', must survive that (the server never sees it), so the menu's links carry it along.
if (typeof document !== "undefined" && typeof location !== "undefined" && location.hash) {
  for (const link of document.querySelectorAll("a[data-lang]")) link.hash = location.hash;
}
