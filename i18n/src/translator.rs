//! [`Translator`]: the messages of one language, looked up by id, and durations and dates
//! written the way that language writes them.
//!
//! Every message is a whole sentence (or a whole label) in a Fluent file, with its variables
//! and plurals inside it, so that a translator sees and words it as one piece. Dates and times
//! are shown in the time zone the translator was given (UTC unless told otherwise), so that
//! formatting stays a pure function of its inputs.

use crate::{Catalogue, Language};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

/// A value for one of a message's variables.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg<'a> {
    Text(Cow<'a, str>),
    /// A number: it also chooses the plural form (`one`, `other`) where a message has them.
    Number(f64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(Cow::Borrowed(text))
    }
}

impl From<String> for Arg<'_> {
    fn from(text: String) -> Self {
        Self::Text(Cow::Owned(text))
    }
}

macro_rules! number_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg<'_> {
            fn from(n: $t) -> Self {
                Self::Number(n as f64)
            }
        }
    )*};
}
number_arg!(i8, u8, u16, u32, u64, usize, i32, i64, f64);

/// Why a message could not be written out whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TranslationError {
    /// No message has this id in the language.
    Missing { id: String, language: Language },
    /// The message exists, but parts of it could not be resolved (a variable not given, a
    /// message it refers to missing); `text` is what it shows all the same.
    Unresolved {
        id: String,
        text: String,
        problems: Vec<String>,
    },
}

impl fmt::Display for TranslationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { id, language } => {
                write!(f, "no message {id:?} in {}", language.tag())
            }
            Self::Unresolved { id, problems, .. } => {
                write!(f, "message {id:?}: {}", problems.join("; "))
            }
        }
    }
}

impl std::error::Error for TranslationError {}

/// The messages of one catalogue in one language.
pub struct Translator {
    catalogue: Catalogue,
    language: Language,
    bundle: FluentBundle<FluentResource>,
    zone: TimeZone,
}

impl fmt::Debug for Translator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Translator")
            .field("catalogue", &self.catalogue)
            .field("language", &self.language)
            .field("zone", &self.zone.iana_name())
            .finish_non_exhaustive()
    }
}

impl Translator {
    /// The messages of the novice's window in `language`, with dates in UTC.
    pub fn new(language: Language) -> Self {
        Self::of(Catalogue::NoviceWindow, language)
    }

    /// The messages of `catalogue` in `language`, with dates in UTC.
    pub fn of(catalogue: Catalogue, language: Language) -> Self {
        let mut bundle = FluentBundle::new_concurrent(vec![language.identifier()]);
        // The text goes to a GUI, not into a paragraph of mixed direction: the isolation marks
        // Fluent would put around each variable would only show as boxes. What others supply
        // is cleaned of such marks before it gets here.
        bundle.set_use_isolating(false);
        for (_, source) in catalogue.resources(language) {
            // The files are part of the program and parsed whole by the tests; a broken entry
            // would be skipped, and the rest still used.
            let resource = FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(r, _)| r);
            let _ = bundle.add_resource(resource);
        }
        Self {
            catalogue,
            language,
            bundle,
            zone: TimeZone::UTC,
        }
    }

    /// The same messages, with dates and times shown in `zone` (e.g. `TimeZone::system()`).
    pub fn with_time_zone(mut self, zone: TimeZone) -> Self {
        self.zone = zone;
        self
    }

    pub fn language(&self) -> Language {
        self.language
    }

    pub fn catalogue(&self) -> Catalogue {
        self.catalogue
    }

    /// The time zone dates are shown in.
    pub fn time_zone(&self) -> &TimeZone {
        &self.zone
    }

    /// Whether the language has a message `id`.
    pub fn has(&self, id: &str) -> bool {
        self.bundle.has_message(id)
    }

    /// The message `id`, which has no variables. A missing message shows as its id, so that a
    /// mistake is visible rather than a blank.
    pub fn text(&self, id: &str) -> String {
        self.text_with(id, &[])
    }

    /// The message `id` with its variables: `text_with("request-see-title", &[("expert",
    /// name.into())])`. What cannot be resolved shows as the variable's name in braces.
    pub fn text_with(&self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        match self.try_text_with(id, args) {
            Ok(text) | Err(TranslationError::Unresolved { text, .. }) => text,
            Err(TranslationError::Missing { .. }) => id.to_owned(),
        }
    }

    /// [`Translator::text_with`], saying what went wrong when the message is missing or any
    /// part of it could not be resolved.
    pub fn try_text_with(
        &self,
        id: &str,
        args: &[(&str, Arg<'_>)],
    ) -> Result<String, TranslationError> {
        let pattern = self
            .bundle
            .get_message(id)
            .and_then(|message| message.value())
            .ok_or_else(|| TranslationError::Missing {
                id: id.to_owned(),
                language: self.language,
            })?;
        let mut fluent_args = FluentArgs::with_capacity(args.len());
        for (name, value) in args {
            let value = match value {
                Arg::Text(text) => FluentValue::from(text.as_ref()),
                Arg::Number(n) => FluentValue::from(*n),
            };
            fluent_args.set(*name, value);
        }
        let mut errors = Vec::new();
        let text = self
            .bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors)
            .into_owned();
        if errors.is_empty() {
            Ok(text)
        } else {
            Err(TranslationError::Unresolved {
                id: id.to_owned(),
                text,
                problems: errors.iter().map(ToString::to_string).collect(),
            })
        }
    }

    /// A length of time in words, in at most two units, the smaller one truncated:
    /// "45 seconds", "15 minutes", "1 hour and 30 minutes", "2 days", "1 week" ("45 sekunder",
    /// "15 minuter", "1 timme och 30 minuter", "2 dagar", "1 vecka"). Whole weeks are told in
    /// weeks, anything else from a day up in days and hours.
    pub fn duration(&self, duration: Duration) -> String {
        const MINUTE: u64 = 60;
        const HOUR: u64 = 60 * MINUTE;
        const DAY: u64 = 24 * HOUR;
        const WEEK: u64 = 7 * DAY;
        let secs = duration.as_secs();
        let (days, hours, minutes) = (secs / DAY, secs % DAY / HOUR, secs % HOUR / MINUTE);
        if secs < MINUTE {
            self.text_with("duration-seconds", &[("seconds", secs.into())])
        } else if secs < HOUR {
            self.text_with("duration-minutes", &[("minutes", minutes.into())])
        } else if secs < DAY {
            let hours = secs / HOUR;
            if minutes == 0 {
                self.text_with("duration-hours", &[("hours", hours.into())])
            } else {
                self.text_with(
                    "duration-hours-minutes",
                    &[("hours", hours.into()), ("minutes", minutes.into())],
                )
            }
        } else if secs.is_multiple_of(WEEK) {
            self.text_with("duration-weeks", &[("weeks", (secs / WEEK).into())])
        } else if hours == 0 {
            self.text_with("duration-days", &[("days", days.into())])
        } else {
            self.text_with(
                "duration-days-hours",
                &[("days", days.into()), ("hours", hours.into())],
            )
        }
    }

    /// A moment written out whole in the translator's time zone: "3 March 2027 at 14:30",
    /// "3 mars 2027 kl. 14:30".
    pub fn date_time(&self, at: SystemTime) -> String {
        let at = self.zoned(at);
        self.text_with(
            "date-time-full",
            &[
                ("day", at.day().into()),
                ("month", self.month_name(at.month())),
                ("year", at.year().to_string().into()),
                ("time", self.time_of_day(&at).into()),
            ],
        )
    }

    /// A moment told relative to `now`, as one says it: "today at 14:30", "tomorrow at
    /// 09:00", "yesterday at 18:05", "3 March at 14:30" within the year, else as
    /// [`Translator::date_time`] ("i dag kl. 14:30", "i morgon kl. 09:00", "3 mars kl. 14:30").
    pub fn when(&self, at: SystemTime, now: SystemTime) -> String {
        let (at, now) = (self.zoned(at), self.zoned(now));
        let (day, today) = (at.date(), now.date());
        let time = self.time_of_day(&at);
        let id = if day == today {
            "date-time-today"
        } else if today.tomorrow().ok() == Some(day) {
            "date-time-tomorrow"
        } else if today.yesterday().ok() == Some(day) {
            "date-time-yesterday"
        } else if day.year() == today.year() {
            return self.text_with(
                "date-time-this-year",
                &[
                    ("day", at.day().into()),
                    ("month", self.month_name(at.month())),
                    ("time", time.into()),
                ],
            );
        } else {
            return self.date_time(at.timestamp().into());
        };
        self.text_with(id, &[("time", time.into())])
    }

    fn zoned(&self, at: SystemTime) -> jiff::Zoned {
        // Outside jiff's range (years beyond ±9999) only by a broken clock: shown at the edge.
        let at = Timestamp::try_from(at).unwrap_or(if at < SystemTime::UNIX_EPOCH {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        });
        at.to_zoned(self.zone.clone())
    }

    fn month_name(&self, month: i8) -> Arg<'static> {
        self.text_with("month-name", &[("month", month.into())])
            .into()
    }

    fn time_of_day(&self, at: &jiff::Zoned) -> String {
        self.text_with(
            "time-of-day",
            &[
                ("hour", format!("{:02}", at.hour()).into()),
                ("minute", format!("{:02}", at.minute()).into()),
            ],
        )
    }
}
