//! The language of each page, and the words its template and script show in it.
//!
//! A page speaks the language its request asks for: `?lang=en` or `?lang=sv` (the language
//! menu every page has, which the answer remembers in the cookie `lang`), else that cookie, else
//! the most preferred language of the browser's `Accept-Language` that the product speaks, else
//! English. The messages are the web catalogue of the `i18n` crate (`i18n/locales/*/pages.ftl`,
//! `console.ftl`, `desk.ftl`): templates take them through [`Words`], and a page's script gets
//! the messages of its area in one JSON block ([`Words::script`]), with placeholders where its
//! values go (see `web/static/js/i18n.js`).

use crate::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use i18n::{Arg, Catalogue, Language, ScriptMessage, Translator};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::LazyLock;

/// The cookie that remembers the language chosen in a page's language menu.
pub const COOKIE: &str = "lang";
/// The query parameter of the language menu's links.
const PARAMETER: &str = "lang";
/// How long the choice is remembered, in seconds (a year).
const COOKIE_MAX_AGE: u64 = 365 * 24 * 3600;
/// The catalogue files whose messages pages' scripts receive.
const SCRIPT_FILES: [&str; 2] = ["console.ftl", "desk.ftl"];

/// The web catalogue in each language, parsed once.
static TRANSLATORS: LazyLock<Translators> = LazyLock::new(|| Translators {
    english: Translator::of(Catalogue::Web, Language::English),
    swedish: Translator::of(Catalogue::Web, Language::Swedish),
});

struct Translators {
    english: Translator,
    swedish: Translator,
}

/// The messages of each script file in each language, as the JSON a page embeds.
static SCRIPTS: LazyLock<HashMap<(Language, &'static str), String>> = LazyLock::new(|| {
    Language::ALL
        .into_iter()
        .flat_map(|language| SCRIPT_FILES.map(|file| (language, file)))
        .map(|(language, file)| ((language, file), script_json(translator(language), file)))
        .collect()
});

/// The web catalogue's translator of `language`.
pub fn translator(language: Language) -> &'static Translator {
    match language {
        Language::English => &TRANSLATORS.english,
        Language::Swedish => &TRANSLATORS.swedish,
    }
}

/// The short code of `language` in the language menu's links and the cookie.
pub fn code(language: Language) -> &'static str {
    match language {
        Language::English => "en",
        Language::Swedish => "sv",
    }
}

/// The language `code` names (`en`, `sv`, or a tag such as `sv-SE`), if the product speaks it.
fn from_code(code: &str) -> Option<Language> {
    Language::from_locale(code.trim())
}

/// The language of a query string's `lang` parameter, when it names one the product speaks.
fn query_language(query: Option<&str>) -> Option<Language> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == PARAMETER)
        .and_then(|(_, value)| from_code(&value))
}

/// The language a request asks for: its query's `lang`, else its `lang` cookie, else its
/// `Accept-Language`, else English.
pub fn choose(query: Option<&str>, headers: &HeaderMap) -> Language {
    let cookie = || crate::desk::auth::cookie(headers, COOKIE).and_then(from_code);
    let accepted = || {
        headers
            .get_all(header::ACCEPT_LANGUAGE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(Language::from_accept_language)
    };
    query_language(query)
        .or_else(cookie)
        .or_else(accepted)
        .unwrap_or_default()
}

/// The language of the page a request asks for (see [`choose`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageLanguage(pub Language);

impl<S: Send + Sync> FromRequestParts<S> for PageLanguage {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(choose(parts.uri.query(), &parts.headers)))
    }
}

/// Remembers a language chosen in a page's language menu (`?lang=`) in the `lang` cookie, and
/// tells caches that pages differ by the browser's languages and cookies.
pub async fn remember_language(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let chosen = query_language(req.uri().query());
    let mut res = next.run(req).await;
    let is_page = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if let Some(language) = chosen {
        let secure = if state.public_url.starts_with("https:") {
            "; Secure"
        } else {
            ""
        };
        let cookie = format!(
            "{COOKIE}={}; Path=/; Max-Age={COOKIE_MAX_AGE}; SameSite=Lax; HttpOnly{secure}",
            code(language)
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    if is_page {
        res.headers_mut().append(
            header::VARY,
            HeaderValue::from_static("accept-language, cookie"),
        );
    }
    res
}

/// A message to show in the reader's language, chosen before the language is known: its id
/// and its variables, or a text that has no translation (what another part of the server said).
#[derive(Clone, Debug, PartialEq)]
pub enum Text {
    Message {
        id: &'static str,
        args: Vec<(&'static str, Arg<'static>)>,
    },
    Verbatim(String),
}

impl Text {
    pub fn id(id: &'static str) -> Self {
        Self::Message {
            id,
            args: Vec::new(),
        }
    }

    /// The message `id` with variable `name` set to `value`.
    pub fn with(id: &'static str, name: &'static str, value: impl Into<Arg<'static>>) -> Self {
        Self::Message {
            id,
            args: vec![(name, value.into())],
        }
    }

    /// This message with one more variable.
    pub fn and(mut self, name: &'static str, value: impl Into<Arg<'static>>) -> Self {
        if let Self::Message { args, .. } = &mut self {
            args.push((name, value.into()));
        }
        self
    }

    /// The text in `language`.
    pub fn in_language(&self, language: Language) -> String {
        match self {
            Self::Message { id, args } => translator(language).text_with(id, args),
            Self::Verbatim(text) => text.clone(),
        }
    }
}

/// What a template needs of the page's language: its messages, the tag for `<html lang>`, the
/// language menu, and the messages for the page's script.
#[derive(Clone, Debug)]
pub struct Words {
    language: Language,
    /// Where the language menu's links go (the page itself, or where a form's answer came
    /// from); empty for a page that cannot be loaded again, which has no menu.
    here: String,
}

/// One entry of the language menu.
#[derive(Clone, Debug)]
pub struct Choice {
    pub code: &'static str,
    /// The language's name in itself.
    pub name: &'static str,
    pub current: bool,
}

impl Words {
    /// The words of a page in `language` whose language menu reloads `here`.
    pub fn new(language: Language, here: impl Into<String>) -> Self {
        Self {
            language,
            here: here.into(),
        }
    }

    pub fn language(&self) -> Language {
        self.language
    }

    /// The language's BCP 47 tag, for `<html lang>` and the script's number and date formats.
    pub fn tag(&self) -> &'static str {
        self.language.tag()
    }

    /// The message `id`.
    pub fn t(&self, id: &str) -> String {
        translator(self.language).text(id)
    }

    /// The message `id` with its variable `name` set to `value`.
    pub fn with(&self, id: &str, name: &str, value: impl AsRef<str>) -> String {
        translator(self.language).text_with(id, &[(name, value.as_ref().into())])
    }

    /// The message `id` up to where its variable `name` goes: with [`Words::after`], a
    /// template sets the variable in markup of its own (a name in bold, a command as code)
    /// where the language puts it.
    pub fn before(&self, id: &str, name: &str) -> String {
        self.around(id, name).0
    }

    /// The message `id` after its variable `name` (see [`Words::before`]).
    pub fn after(&self, id: &str, name: &str) -> String {
        self.around(id, name).1
    }

    fn around(&self, id: &str, name: &str) -> (String, String) {
        let marker = i18n::placeholder(name);
        let text = translator(self.language).text_with(id, &[(name, marker.clone().into())]);
        match text.split_once(&marker) {
            Some((before, after)) => (before.to_owned(), after.to_owned()),
            None => (text, String::new()),
        }
    }

    /// The language menu: every language, in its own name, the current one marked.
    pub fn choices(&self) -> Vec<Choice> {
        Language::ALL
            .into_iter()
            .map(|language| Choice {
                code: code(language),
                name: language.native_name(),
                current: language == self.language,
            })
            .collect()
    }

    /// Where the language menu's links go; empty when the page has no menu.
    pub fn here(&self) -> &str {
        &self.here
    }

    /// The messages of `file` (`console.ftl`, `desk.ftl`) for the page's script, as JSON safe
    /// to put inside a `<script type="application/json">` element as it is.
    pub fn script(&self, file: &str) -> String {
        SCRIPTS
            .get(&(self.language, file))
            .cloned()
            .unwrap_or_else(|| "{}".to_owned())
    }
}

/// One message as `web/static/js/i18n.js` reads it: a text, or plural forms.
#[derive(Serialize)]
#[serde(untagged)]
enum ScriptJson<'a> {
    Text(&'a str),
    Plural {
        select: &'a str,
        forms: &'a BTreeMap<String, String>,
    },
}

/// The messages of `file` as JSON with `<`, `>` and `&` escaped, so that no message can end
/// the script element it is put in.
fn script_json(translator: &Translator, file: &str) -> String {
    let messages = translator.script_messages(file);
    let map: BTreeMap<&str, ScriptJson<'_>> = messages
        .iter()
        .map(|(id, message)| {
            let json = match message {
                ScriptMessage::Text(text) => ScriptJson::Text(text),
                ScriptMessage::Plural { variable, forms } => ScriptJson::Plural {
                    select: variable,
                    forms,
                },
            };
            (id.as_str(), json)
        })
        .collect();
    serde_json::to_string(&map)
        .unwrap_or_else(|_| "{}".to_owned())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use super::*;
    use Language::{English, Swedish};

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        // Collected with `append`: a name given twice keeps both values.
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), HeaderValue::from_static(value)))
            .collect()
    }

    #[test]
    fn the_browser_languages_choose_when_nothing_else_does() {
        let swedish = headers(&[(header::ACCEPT_LANGUAGE, "sv-SE,sv;q=0.9,en;q=0.8")]);
        assert_eq!(choose(None, &swedish), Swedish);
        let finnish = headers(&[(header::ACCEPT_LANGUAGE, "fi-FI,sv-FI;q=0.7")]);
        assert_eq!(choose(None, &finnish), Swedish);
        let english = headers(&[(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9,sv;q=0.5")]);
        assert_eq!(choose(None, &english), English);
        let other = headers(&[(header::ACCEPT_LANGUAGE, "de-DE,fr;q=0.5")]);
        assert_eq!(choose(None, &other), English);
        assert_eq!(choose(None, &HeaderMap::new()), English);
    }

    #[test]
    fn the_cookie_wins_over_the_browser_and_the_query_over_both() {
        let both = headers(&[
            (header::ACCEPT_LANGUAGE, "sv"),
            (header::COOKIE, "desk_session=x; lang=en"),
        ]);
        assert_eq!(choose(None, &both), English);
        assert_eq!(choose(Some("lang=sv"), &both), Swedish);
        assert_eq!(choose(Some("a=1&lang=sv-SE"), &HeaderMap::new()), Swedish);
        // A language the product does not speak is no choice: the next source decides.
        assert_eq!(choose(Some("lang=fi"), &both), English);
        let unknown_cookie = headers(&[
            (header::ACCEPT_LANGUAGE, "sv"),
            (header::COOKIE, "lang=klingon"),
        ]);
        assert_eq!(choose(None, &unknown_cookie), Swedish);
    }

    #[test]
    fn a_message_splits_around_its_variable() {
        let sv = Words::new(Swedish, "/desk");
        assert_eq!(sv.before("desk-signed-in-as", "name"), "Inloggad som ");
        assert_eq!(sv.after("desk-signed-in-as", "name"), "");
        let en = Words::new(English, "/desk");
        assert_eq!(en.before("desk-heading", "organisation"), "");
        assert_eq!(en.after("desk-heading", "organisation"), " support desk");
    }

    #[test]
    fn the_script_block_cannot_end_its_element() {
        let json = script_json(translator(English), "console.ftl");
        assert!(!json.contains('<') && !json.contains('>') && !json.contains('&'));
        let parsed: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(parsed["console-you-ended"], "You ended the session.");
        assert_eq!(
            parsed["console-wrong-password-tries"]["select"], "tries",
            "{parsed}"
        );
        let sv = Words::new(Swedish, "");
        assert!(sv.script("desk.ftl").contains("Erbjud hjälp"));
        assert_eq!(sv.script("common.ftl"), "{}");
    }

    #[test]
    fn texts_are_chosen_before_their_language() {
        let busy = Text::with("desk-busy", "machine", "Nora's laptop");
        assert!(busy
            .in_language(Swedish)
            .starts_with("Nora's laptop är redan"));
        assert!(busy
            .in_language(English)
            .starts_with("Nora's laptop is already"));
        let said = Text::Verbatim("as said".into());
        assert_eq!(said.in_language(Swedish), "as said");
    }
}
