//! The Fluent files, compiled into the program, and which program reads which.
//!
//! Two catalogues share the crate: the novice's window (one file per area of the window) and
//! the web pages the signaling server serves (the expert console and the support desk). Each
//! is a whole, with the same files in every language; they share `common.ftl`, which has the
//! durations and dates both write out. A message id is unique within a catalogue.

use crate::Language;

/// The messages one program shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Catalogue {
    /// The novice's window (`novice-window/`).
    #[default]
    NoviceWindow,
    /// The server's pages and their scripts: `pages.ftl` for what every page has, `console.ftl`
    /// for the expert console, `desk.ftl` for the support desk.
    Web,
}

impl Catalogue {
    pub const ALL: [Catalogue; 2] = [Catalogue::NoviceWindow, Catalogue::Web];

    /// The Fluent files of the catalogue in `language`, as `(file name, text)`.
    pub fn resources(self, language: Language) -> &'static [(&'static str, &'static str)] {
        match (self, language) {
            (Self::NoviceWindow, Language::English) => NOVICE_ENGLISH,
            (Self::NoviceWindow, Language::Swedish) => NOVICE_SWEDISH,
            (Self::Web, Language::English) => WEB_ENGLISH,
            (Self::Web, Language::Swedish) => WEB_SWEDISH,
        }
    }
}

/// The Fluent files of the novice's window in `language`, as `(file name, text)`.
pub fn resources(language: Language) -> &'static [(&'static str, &'static str)] {
    Catalogue::NoviceWindow.resources(language)
}

macro_rules! files {
    ($lang:literal: $($file:literal),* $(,)?) => {
        &[$(($file, include_str!(concat!("../locales/", $lang, "/", $file)))),*]
    };
}

/// The English messages of the novice's window, one file per area of the window.
const NOVICE_ENGLISH: &[(&str, &str)] = files!("en":
    "common.ftl", "ask.ftl", "invitations.ftl", "requests.ftl", "session.ftl");
/// The Swedish ones, in files named as the English ones.
const NOVICE_SWEDISH: &[(&str, &str)] = files!("sv":
    "common.ftl", "ask.ftl", "invitations.ftl", "requests.ftl", "session.ftl");
/// The English messages of the web pages.
const WEB_ENGLISH: &[(&str, &str)] = files!("en":
    "common.ftl", "pages.ftl", "console.ftl", "desk.ftl");
/// The Swedish ones.
const WEB_SWEDISH: &[(&str, &str)] = files!("sv":
    "common.ftl", "pages.ftl", "console.ftl", "desk.ftl");
