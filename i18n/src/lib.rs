//! Everything the novice reads, in English and Swedish.
//!
//! The messages live in Fluent files, `locales/<lang>/<area>.ftl` (one file per area of the
//! novice's window, the same names in every language), compiled into the program. Each message
//! is a whole sentence or label with its variables and plural forms inside it: nothing is
//! glued together from pieces, so each language words it in its own order.
//!
//! * [`language`]: the [`Language`] enum, and its detection from `LC_ALL`, `LC_MESSAGES`
//!   and `LANG`.
//! * [`translator`]: the [`Translator`] of one language (`text`, `text_with`), with durations
//!   ("15 minutes", "15 minuter") and dates ("3 March at 14:30", "3 mars kl. 14:30").
//!
//! Text that a peer or a server supplies is not this crate's business: whoever shows it cleans
//! it first, then passes it in as a variable.

pub mod language;
pub mod translator;

pub use jiff::tz::TimeZone;
pub use language::Language;
pub use translator::{resources, Arg, TranslationError, Translator};

#[cfg(test)]
mod catalogue_tests;
