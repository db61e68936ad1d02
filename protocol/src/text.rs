//! Text that others supply (chat, names, messages from a server), made safe to show.
//!
//! Whatever a peer or a server sends may be printed on a terminal or put on a page, where
//! control characters act instead of showing: `ESC [ 2 J` clears the novice's screen, an OSC 52
//! sequence sets their clipboard, a carriage return overwrites the prompt. Bidirectional
//! overrides (U+202E) show text in another order than it is read, and zero-width and other
//! invisible format characters hide text or make two names look alike. [`clean`] removes all
//! of that and keeps everything printable as it was:
//!
//! * C0 and C1 controls and DEL; a whole escape sequence (CSI, OSC, DCS and the like, also in
//!   their C1 forms) goes with its introducer, so none of its parameters show as text. Line
//!   breaks and tabs become one space each: the text stays on one line, where a newline could
//!   otherwise start a line that looks like the program's own.
//! * Bidirectional embeddings, overrides, isolates and marks (U+202A–U+202E, U+2066–U+2069,
//!   U+200E, U+200F, U+061C).
//! * Zero-width and invisible characters (U+200B–U+200D, U+2060–U+2064, U+FEFF, U+00AD,
//!   U+034F, U+180E, Hangul fillers), the rest of Unicode's format characters (category Cf:
//!   U+0600–U+0605, U+06DD, U+070F, U+0890–U+0891, U+08E2, U+206A–U+206F, U+FFF9–U+FFFB,
//!   U+110BD, U+110CD, U+13430–U+1343F, U+1BCA0–U+1BCA3, U+1D173–U+1D17A, tag characters
//!   U+E0001 and U+E0020–U+E007F), and the line and paragraph separators U+2028, U+2029
//!   (which become spaces).
//!
//! The expert console and the desk pages apply the same rules in the browser
//! (`web/static/js/text.js`).

/// `text` without anything that acts on a terminal or hides or reorders what is shown.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\r' | '\t' | '\u{0B}' | '\u{0C}' | '\u{2028}' | '\u{2029}' | '\u{85}' => {
                out.push(' ');
            }
            '\u{1B}' => match chars.next() {
                Some('[') => skip_csi(&mut chars),
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut chars),
                // A two-character sequence (ESC 7, ESC c, ...): gone with its introducer.
                _ => {}
            },
            '\u{9B}' => skip_csi(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9D}' | '\u{9E}' | '\u{9F}' => skip_string(&mut chars),
            c if is_hidden(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether `c` is never shown as it is: a control, a bidirectional control or an invisible
/// format character (see the module documentation). Line breaks and tabs count as hidden too.
pub fn is_hidden(c: char) -> bool {
    matches!(c,
        '\u{00}'..='\u{1F}' | '\u{7F}'..='\u{9F}'
        | '\u{AD}' | '\u{34F}' | '\u{61C}' | '\u{115F}' | '\u{1160}' | '\u{180E}'
        | '\u{600}'..='\u{605}' | '\u{6DD}' | '\u{70F}' | '\u{890}'..='\u{891}' | '\u{8E2}'
        | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}' | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}'
        | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// Skips the rest of a control sequence (ECMA-48 §5.4): parameter and intermediate bytes up
/// to and including its final byte (0x40–0x7E). Anything else ends it early.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(&c) = chars.peek() {
        match c {
            '\u{20}'..='\u{3F}' => {
                chars.next();
            }
            '\u{40}'..='\u{7E}' => {
                chars.next();
                return;
            }
            _ => return,
        }
    }
}

/// Skips the rest of a control string (OSC, DCS, SOS, PM, APC; ECMA-48 §5.6): up to and
/// including its terminator, BEL, ST (U+009C) or `ESC \`; an unterminated one to the end.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{07}' | '\u{9C}' => return,
            '\u{1B}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escape_sequences_go_whole() {
        assert_eq!(clean("a\u{1b}[2Jb"), "ab");
        assert_eq!(clean("a\u{1b}]52;c;aGVsbG8=\u{07}b"), "ab");
        assert_eq!(clean("a\u{1b}]0;title\u{1b}\\b"), "ab");
        assert_eq!(clean("a\u{1b}[1;31mred\u{1b}[0m"), "ared");
        assert_eq!(clean("a\u{9b}2Jb"), "ab");
        assert_eq!(clean("a\u{9d}52;c;x\u{9c}b"), "ab");
        assert_eq!(clean("a\u{1b}7b"), "ab");
        assert_eq!(clean("unterminated \u{1b}]52;c;aGVsbG8="), "unterminated ");
        assert_eq!(clean("\u{1b}"), "");
    }

    #[test]
    fn line_breaks_and_tabs_become_spaces() {
        assert_eq!(clean("one\ntwo\r\nthree\tfour"), "one two  three four");
        assert_eq!(
            clean("a\rYour screen is no longer shared."),
            "a Your screen is no longer shared."
        );
        assert_eq!(clean("a\u{2028}b"), "a b");
    }

    #[test]
    fn bidi_zero_width_and_format_characters_are_removed() {
        assert_eq!(clean("Bob\u{202E}gnp.exe"), "Bobgnp.exe");
        assert_eq!(
            clean("a\u{2066}b\u{2069}c\u{200E}d\u{200F}e\u{61C}f"),
            "abcdef"
        );
        assert_eq!(clean("B\u{200B}o\u{200C}b\u{200D}\u{2060}\u{FEFF}"), "Bob");
        assert_eq!(clean("x\u{AD}y\u{E0041}z\u{3164}"), "xyz");
        assert_eq!(clean("\u{7}\u{8}\u{7F}\u{85}"), " ");
    }

    #[test]
    fn printable_text_of_any_script_is_kept() {
        for text in [
            "Nora",
            "Zoë Müller",
            "日本語の名前",
            "Ада",
            "مرحبا",
            "👩‍💻 ok",
            "a&b <c>",
        ] {
            // The zero-width joiner inside an emoji sequence goes: it can hide text elsewhere.
            let want: String = text.chars().filter(|c| *c != '\u{200D}').collect();
            assert_eq!(clean(text), want);
        }
    }

    /// Code points around every rule, and plenty of plain ones.
    fn any_char() -> impl Strategy<Value = char> {
        prop_oneof![
            any::<char>(),
            (0u32..0x100).prop_filter_map("a char", char::from_u32),
            (0x2000u32..0x2070).prop_filter_map("a char", char::from_u32),
            Just('\u{1b}'),
            Just('['),
            Just(']'),
            Just('\u{7}'),
            Just('\u{FEFF}'),
            Just('\u{E0041}'),
        ]
    }

    proptest! {
        #[test]
        fn nothing_hidden_survives(text in proptest::collection::vec(any_char(), 0..64)) {
            let text: String = text.into_iter().collect();
            let cleaned = clean(&text);
            prop_assert!(!cleaned.chars().any(is_hidden), "{:?} -> {:?}", text, cleaned);
            // Cleaning again changes nothing.
            prop_assert_eq!(clean(&cleaned), cleaned.clone());
        }

        #[test]
        fn printable_text_is_unchanged(text in "\\PC*") {
            let printable: String = text.chars().filter(|c| !is_hidden(*c)).collect();
            prop_assert_eq!(clean(&printable), printable);
        }
    }
}
