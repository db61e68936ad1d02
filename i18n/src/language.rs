//! Which language the novice reads, and how it is found from the locale environment.
//!
//! POSIX decides the language of messages by the first of `LC_ALL`, `LC_MESSAGES` and `LANG`
//! that is set and not empty; [`Language::detect`] follows that rule over values it is given,
//! so that it can be tested without touching the process environment, and
//! [`Language::from_env`] is the one place that reads it.

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
