//! Which language the novice reads, and how it is found from the locale environment.
//!
//! POSIX decides the language of messages by the first of `LC_ALL`, `LC_MESSAGES` and `LANG`
//! that is set and not empty; [`Language::detect`] follows that rule over values it is given,
//! so that it can be tested without touching the process environment, and
//! [`Language::from_env`] is the one place that reads it. A browser says which languages its
//! reader prefers in `Accept-Language` (RFC 9110 §12.5.4); [`Language::from_accept_language`]
//! picks the most preferred one the product speaks.

use std::fmt;
use unic_langid::LanguageIdentifier;

/// A language the product speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Language {
    #[default]
    English,
    Swedish,
}

impl Language {
    /// Every language, in the order a language menu lists them.
    pub const ALL: [Language; 2] = [Language::English, Language::Swedish];

    /// The language for the locale settings given, in the order POSIX reads them: the first
    /// one set and not empty decides (`sv_SE.UTF-8`, `sv_FI`, `sv` mean Swedish); a locale in a
    /// language the product does not speak, `C`, `POSIX` or nothing at all mean English.
    pub fn detect(lc_all: Option<&str>, lc_messages: Option<&str>, lang: Option<&str>) -> Self {
        let locale = [lc_all, lc_messages, lang]
            .into_iter()
            .flatten()
            .map(str::trim)
            .find(|value| !value.is_empty());
        locale.and_then(Self::from_locale).unwrap_or_default()
    }

    /// [`Language::detect`] over this process's environment.
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok();
        Self::detect(
            var("LC_ALL").as_deref(),
            var("LC_MESSAGES").as_deref(),
            var("LANG").as_deref(),
        )
    }

    /// The language of one locale name such as `sv_SE.UTF-8@euro` or `en-GB`, if the product
    /// speaks it.
    pub fn from_locale(locale: &str) -> Option<Self> {
        // language[_territory][.codeset][@modifier], or a BCP 47 tag with hyphens.
        let language = locale
            .split(['_', '-', '.', '@'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match language.as_str() {
            "en" => Some(Self::English),
            "sv" => Some(Self::Swedish),
            _ => None,
        }
    }

    /// The language a browser's `Accept-Language` prefers among those the product speaks
    /// (`sv-SE,sv;q=0.9,en;q=0.8` means Swedish), or `None` when it names none of them. The
    /// highest weight wins, the earlier of equal weights; `q=0` means "not this one"; the
    /// wildcard `*` names no language in particular.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut best: Option<(u16, Self)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let Some(language) = Self::from_locale(tag).filter(|_| !tag.contains(['_', '.', '@']))
            else {
                continue;
            };
            let weight = parts
                .find_map(|param| {
                    let (name, value) = param.split_once('=')?;
                    name.trim()
                        .eq_ignore_ascii_case("q")
                        .then(|| quality(value.trim()))
                })
                .unwrap_or(Some(1000));
            match weight {
                Some(weight) if weight > 0 && best.is_none_or(|(w, _)| weight > w) => {
                    best = Some((weight, language));
                }
                _ => {}
            }
        }
        best.map(|(_, language)| language)
    }

    /// The language's name in itself, as a language menu shows it: a reader who does not
    /// understand the current language still finds their own.
    pub fn native_name(self) -> &'static str {
        match self {
            Self::English => "English",
            Self::Swedish => "Svenska",
        }
    }

    /// The BCP 47 tag of the variant the messages are written in.
    pub fn tag(self) -> &'static str {
        match self {
            Self::English => "en-GB",
            Self::Swedish => "sv-SE",
        }
    }

    /// The tag parsed; both tags are well-formed (a test parses them), so the fallback to
    /// "undetermined" is never taken.
    pub(crate) fn identifier(self) -> LanguageIdentifier {
        self.tag().parse().unwrap_or_default()
    }
}

/// A weight (`qvalue`: `0`, `0.8`, `1.000`) in thousandths; `None` when it is not one, and the
/// item it weighs is then left out.
fn quality(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if fraction.len() > 3 || !digits(fraction) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.native_name())
    }
}

#[cfg(test)]
mod tests {
    use super::Language::{self, English, Swedish};

    #[test]
    fn a_swedish_locale_means_swedish() {
        for locale in [
            "sv_SE.UTF-8",
            "sv_SE",
            "sv",
            "sv_FI.utf8",
            "sv_SE@euro",
            "sv-SE",
            "SV_se",
        ] {
            assert_eq!(
                Language::detect(None, None, Some(locale)),
                Swedish,
                "{locale}"
            );
        }
    }

    #[test]
    fn the_tags_are_well_formed() {
        for language in Language::ALL {
            assert_eq!(language.identifier().to_string(), language.tag());
        }
    }

    #[test]
    fn anything_else_means_english() {
        for locale in [
            "en_GB.UTF-8",
            "en_US",
            "C",
            "C.UTF-8",
            "POSIX",
            "fi_FI.UTF-8",
            "svx",
            "",
        ] {
            assert_eq!(
                Language::detect(None, None, Some(locale)),
                English,
                "{locale:?}"
            );
        }
        assert_eq!(Language::detect(None, None, None), English);
    }

    #[test]
    fn a_browser_preferring_swedish_gets_swedish() {
        for header in [
            "sv",
            "sv-SE",
            "sv-FI,en;q=0.5",
            "SV-se, en-GB;q=0.9",
            "fi-FI,sv;q=0.8,en;q=0.7",
            "en;q=0.5,sv;q=0.9",
            "en;q=0, sv;q=0.1",
            "de,sv;Q=1",
        ] {
            assert_eq!(
                Language::from_accept_language(header),
                Some(Swedish),
                "{header}"
            );
        }
    }

    #[test]
    fn the_first_of_equal_weights_and_english_otherwise() {
        assert_eq!(Language::from_accept_language("en-US,sv"), Some(English));
        assert_eq!(
            Language::from_accept_language("sv;q=0.5,en;q=0.5"),
            Some(Swedish)
        );
        assert_eq!(
            Language::from_accept_language("en-GB;q=0.9,sv;q=0.4"),
            Some(English)
        );
        for nothing in [
            "",
            "*",
            "fi-FI",
            "de;q=0.9,*;q=0.1",
            "sv;q=0",
            "svx",
            "sv_SE",
        ] {
            assert_eq!(Language::from_accept_language(nothing), None, "{nothing:?}");
        }
        // A malformed weight leaves its language out, not the whole header.
        assert_eq!(
            Language::from_accept_language("sv;q=2,en;q=0.3"),
            Some(English)
        );
        assert_eq!(Language::from_accept_language("sv;q=0.12345"), None);
    }

    #[test]
    fn lc_all_overrides_lc_messages_which_overrides_lang() {
        let detect = Language::detect;
        assert_eq!(
            detect(Some("sv_SE.UTF-8"), Some("en_GB"), Some("en_GB")),
            Swedish
        );
        assert_eq!(detect(Some("C"), Some("sv_SE"), Some("sv_SE")), English);
        assert_eq!(
            detect(None, Some("sv_SE.UTF-8"), Some("en_US.UTF-8")),
            Swedish
        );
        assert_eq!(
            detect(None, Some("en_US.UTF-8"), Some("sv_SE.UTF-8")),
            English
        );
        // Set but empty is the same as not set.
        assert_eq!(detect(Some(""), Some(" "), Some("sv_SE.UTF-8")), Swedish);
    }
}
