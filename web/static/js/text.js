// Text from others (the novice's chat and name, names and messages from the server), made safe
// to show: the same rules as the agent's `protocol::text::clean` (protocol/src/text.rs).
// Escape sequences go whole, line breaks and tabs become spaces, and controls, bidirectional
// overrides and isolates, zero-width and other invisible format characters are removed, so
// that nothing reorders, hides or imitates what the page says.

/** Escape sequences (CSI, and the control strings OSC, DCS, SOS, PM, APC) and their C1 forms. */
const SEQUENCES = new RegExp(
  [
    "[\\u001b]\\[[\\u0020-\\u003f]*[\\u0040-\\u007e]?",
    "\\u009b[\\u0020-\\u003f]*[\\u0040-\\u007e]?",
    "(?:[\\u001b][\\]PX^_]|[\\u0090\\u0098\\u009d\\u009e\\u009f])[^\\u0007\\u009c\\u001b]*(?:\\u0007|\\u009c|\\u001b\\\\?)?",
    "\\u001b[\\s\\S]?",
  ].join("|"),
  "g",
);
const LINE_BREAKS = /[\n\r\t\u000b\u000c\u0085\u2028\u2029]/g;
const HIDDEN = new RegExp(
  "[\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u034f\\u061c\\u115f\\u1160\\u180e" +
    "\\u0600-\\u0605\\u06dd\\u070f\\u0890\\u0891\\u08e2\\u200b-\\u200f\\u202a-\\u202e" +
    "\\u2060-\\u2064\\u2066-\\u206f\\u3164\\ufeff\\uffa0\\ufff9-\\ufffb\\u{110bd}\\u{110cd}" +
    "\\u{13430}-\\u{1343f}\\u{1bca0}-\\u{1bca3}\\u{1d173}-\\u{1d17a}\\u{e0001}\\u{e0020}-\\u{e007f}]",
  "gu",
);

/** `text` (anything; null and undefined become "") without what would hide or act. */
export function clean(text) {
  return String(text ?? "")
    .replace(SEQUENCES, "")
    .replace(LINE_BREAKS, " ")
    .replace(HIDDEN, "");
}
