//! Everything the novice, the expert console and the support desk show, in English and Swedish.
//!
//! The messages live in Fluent files, `locales/<lang>/<area>.ftl` (one file per area of the
//! novice's window or of the web pages, the same names in every language), compiled into the
//! program and grouped in [`Catalogue`]s, one per program that shows them. Each message
//! is a whole sentence or label with its variables and plural forms inside it: nothing is
//! glued together from pieces, so each language words it in its own order.
//!
//! * [`language`]: the [`Language`] enum, and its detection from `LC_ALL`, `LC_MESSAGES`
//!   and `LANG`, or from a browser's `Accept-Language`.
//! * [`catalogue`]: the files, and which program reads which ([`Catalogue`]).
//! * [`translator`]: the [`Translator`] of one language (`text`, `text_with`), with durations
//!   ("15 minutes", "15 minuter") and dates ("3 March at 14:30", "3 mars kl. 14:30").
//! * [`script`]: messages for a page's script, with placeholders for their values and one
//!   text per plural form ([`ScriptMessage`]).
//!
//! Text that a peer or a server supplies is not this crate's business: whoever shows it cleans
//! it first, then passes it in as a variable.

pub mod catalogue;
pub mod language;
pub mod script;
pub mod translator;
mod variables;

pub use catalogue::{resources, Catalogue};
pub use jiff::tz::TimeZone;
pub use language::Language;
pub use script::{placeholder, ScriptMessage};
pub use translator::{Arg, TranslationError, Translator};

#[cfg(test)]
mod catalogue_tests;
