//! Text that a peer or a server supplied (an expert's name, a chat message, an organisation),
//! made safe to put in the window.
//!
//! egui draws control characters as boxes or not at all, a bidirectional override reverses
//! what follows it, and invisible characters make two names look alike; a name thousands of
//! characters long pushes the Allow button out of the dialog. [`sanitize`] applies the rules
//! the terminal and the browser pages already follow ([`protocol::text::clean`]); [`shorten`]
//! bounds the length.

/// `text` without control characters, escape sequences, bidirectional controls or invisible
/// characters; line breaks and tabs become spaces, everything printable stays as it was.
pub fn sanitize(text: &str) -> String {
    protocol::text::clean(text)
}

/// [`sanitize`]d `text`, trimmed, and cut to at most `max_chars` characters with an ellipsis
/// when longer.
pub fn shorten(text: &str, max_chars: usize) -> String {
    let clean = sanitize(text);
    let clean = clean.trim();
    if clean.chars().count() <= max_chars {
        return clean.to_owned();
    }
    let mut cut: String = clean.chars().take(max_chars.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::{sanitize, shorten};

    #[test]
    fn controls_and_escape_sequences_are_removed() {
        assert_eq!(sanitize("Bob\u{1b}[2J\u{7}"), "Bob");
        assert_eq!(sanitize("a\u{1b}]52;c;ZXZpbA==\u{7}b"), "ab");
        assert_eq!(sanitize("line\r\nnext\tcol"), "line  next col");
        assert_eq!(sanitize("nul\u{0}del\u{7f}c1\u{9b}31m"), "nuldelc1");
    }

    #[test]
    fn reordering_and_invisible_characters_are_removed() {
        assert_eq!(sanitize("Admin\u{202e}exe.txt"), "Adminexe.txt");
        assert_eq!(sanitize("Bo\u{200b}b\u{feff}"), "Bob");
        assert_eq!(sanitize("Åsa Öberg 👋"), "Åsa Öberg 👋");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(shorten("  Bob  ", 10), "Bob");
        assert_eq!(shorten("Bartholomew", 11), "Bartholomew");
        assert_eq!(shorten("Bartholomew", 5), "Bart…");
        assert_eq!(shorten("Bo b\u{1b}[1mert", 4), "Bo…");
        assert_eq!(shorten(&"å".repeat(100), 3).chars().count(), 3);
    }
}
