//! The catalogues as wholes: both languages parse cleanly, have the same messages with the
//! same variables, and every message resolves without an error in every variant of its
//! selectors; the web catalogue's messages are all ones a page's script can show; and a few
//! outputs, checked word for word.

use crate::variables::{self, Key, Variables};
use crate::{Arg, Catalogue, Language, ScriptMessage, Translator};
use fluent_syntax::ast::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, UNIX_EPOCH};

/// The files the server hands to pages' scripts: all of the web catalogue but `common.ftl`.
const SCRIPT_FILES: [&str; 3] = ["pages.ftl", "console.ftl", "desk.ftl"];

/// Every message of `catalogue` in `language` with its variables, checking that the files parse
/// without error and that no id is defined twice.
fn catalogue(catalogue: Catalogue, language: Language) -> BTreeMap<String, Variables> {
    let mut messages = BTreeMap::new();
    for (file, source) in catalogue.resources(language) {
        for (id, variables) in file_messages(language, file, source) {
            assert!(
                messages.insert(id.clone(), variables).is_none(),
                "{catalogue:?} {language:?}: {id} is defined twice"
            );
        }
    }
    messages
}

/// The messages of one file with their variables, checking that it parses without error.
fn file_messages(language: Language, file: &str, source: &str) -> Vec<(String, Variables)> {
    let resource = fluent_syntax::parser::parse(source)
        .unwrap_or_else(|(_, errors)| panic!("{language:?} {file} does not parse: {errors:?}"));
    let mut messages = Vec::new();
    for entry in resource.body {
        match entry {
            Entry::Message(message) => {
                assert!(
                    message.attributes.is_empty(),
                    "{language:?} {}: attributes are not used",
                    message.id.name
                );
                let variables = message
                    .value
                    .as_ref()
                    .map(variables::of_pattern)
                    .unwrap_or_default();
                messages.push((message.id.name.to_owned(), variables));
            }
            Entry::Junk { content } => panic!("{language:?} {file}: junk {content:?}"),
            Entry::Term(term) => panic!("{language:?} {file}: unused term {}", term.id.name),
            Entry::Comment(_) | Entry::GroupComment(_) | Entry::ResourceComment(_) => {}
        }
    }
    messages
}

/// The values to try for one variable: a text where it is only shown; where it selects, a
/// number for each numeric variant and numbers in each plural category.
fn samples(keys: &BTreeSet<Key>) -> Vec<Arg<'static>> {
    if keys.is_empty() {
        return vec!["Sample".into()];
    }
    let mut values = Vec::new();
    for key in keys {
        match key {
            Key::Number(n) => values.push(Arg::Number(n.parse().expect("a number key"))),
            Key::Name(name) if name == "one" || name == "other" => {
                values.extend([0, 1, 2, 5, 21, 100].map(Arg::from));
            }
            Key::Name(name) => values.push(Arg::from(name.clone())),
        }
    }
    values
}

#[test]
fn both_languages_have_the_same_messages_with_the_same_variables() {
    for c in Catalogue::ALL {
        same_messages_with_the_same_variables(c);
    }
}

fn same_messages_with_the_same_variables(c: Catalogue) {
    let english = catalogue(c, Language::English);
    let swedish = catalogue(c, Language::Swedish);
    let ids = |c: &BTreeMap<String, Variables>| c.keys().cloned().collect::<BTreeSet<_>>();
    let (en_ids, sv_ids) = (ids(&english), ids(&swedish));
    assert_eq!(
        en_ids.difference(&sv_ids).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "{c:?}: in English only"
    );
    assert_eq!(
        sv_ids.difference(&en_ids).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "{c:?}: in Swedish only"
    );
    for (id, en_vars) in &english {
        let names = |v: &Variables| v.keys().cloned().collect::<BTreeSet<_>>();
        assert_eq!(
            names(en_vars),
            names(&swedish[id]),
            "{c:?} {id}: the languages use different variables"
        );
    }
}

#[test]
fn every_message_resolves_in_every_variant() {
    for (c, language) in Catalogue::ALL
        .into_iter()
        .flat_map(|c| Language::ALL.map(|l| (c, l)))
    {
        let translator = Translator::of(c, language);
        for (id, variables) in catalogue(c, language) {
            assert!(translator.has(&id), "{language:?} {id}");
            // Each variable through all its sample values, the others at their first.
            let firsts: Vec<(String, Arg<'static>)> = variables
                .iter()
                .map(|(name, v)| (name.clone(), samples(&v.keys).remove(0)))
                .collect();
            let mut tries = vec![firsts.clone()];
            for (i, (_, variable)) in variables.iter().enumerate() {
                for value in samples(&variable.keys) {
                    let mut args = firsts.clone();
                    args[i].1 = value;
                    tries.push(args);
                }
            }
            for args in tries {
                let args: Vec<(&str, Arg<'_>)> = args
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.clone()))
                    .collect();
                let text = translator
                    .try_text_with(&id, &args)
                    .unwrap_or_else(|e| panic!("{language:?}: {e} with {args:?}"));
                assert!(!text.trim().is_empty(), "{language:?} {id} is empty");
            }
        }
    }
}

#[test]
fn a_script_can_show_every_web_message() {
    for language in Language::ALL {
        let files = Catalogue::Web.resources(language).iter();
        let scripts = files.filter(|(file, _)| SCRIPT_FILES.contains(file));
        assert_eq!(scripts.clone().count(), SCRIPT_FILES.len());
        for (id, variables) in
            scripts.flat_map(|(file, source)| file_messages(language, file, source))
        {
            let selectors: Vec<_> = variables
                .iter()
                .filter(|(_, v)| !v.keys.is_empty())
                .collect();
            assert!(
                selectors.len() <= 1,
                "{language:?} {id}: a script chooses on one number at most"
            );
            for (name, variable) in selectors {
                assert!(
                    variable.keys.iter().all(crate::script::is_plural_key),
                    "{language:?} {id}: ${name} selects on something but plural forms and numbers"
                );
                assert_eq!(
                    variable.defaults,
                    BTreeSet::from([Key::Name("other".into())]),
                    "{language:?} {id}: the default form of ${name} must be `other`"
                );
            }
        }
    }
}

#[test]
fn scripts_get_placeholders_and_plural_forms() {
    let sv = Translator::of(Catalogue::Web, Language::Swedish);
    let messages: BTreeMap<String, ScriptMessage> =
        sv.script_messages("console.ftl").into_iter().collect();
    assert_eq!(
        messages["console-waiting-for"],
        ScriptMessage::Text("Väntar på att { $novice } ska tillåta anslutningen…".into())
    );
    let ScriptMessage::Plural { variable, forms } = &messages["console-wrong-password-tries"]
    else {
        panic!("not plural: {:?}", messages["console-wrong-password-tries"]);
    };
    assert_eq!(variable, "tries");
    assert_eq!(
        forms.keys().collect::<Vec<_>>(),
        ["=0", "one", "other"],
        "{forms:?}"
    );
    assert!(forms["one"].contains("1 försök till"), "{forms:?}");
    assert!(
        forms["other"].contains("{ $tries } försök till"),
        "{forms:?}"
    );
    assert!(forms["=0"].contains("låst"), "{forms:?}");
    assert!(sv.script_messages("no-such.ftl").is_empty());
    // The novice's catalogue has no pages.
    assert!(Translator::new(Language::Swedish)
        .script_messages("console.ftl")
        .is_empty());
}

#[test]
fn a_missing_message_or_variable_is_visible_and_reported() {
    let t = Translator::new(Language::Swedish);
    assert_eq!(t.text("no-such-message"), "no-such-message");
    assert!(t.try_text_with("no-such-message", &[]).is_err());
    assert!(t.try_text_with("request-see-title", &[]).is_err());
    assert!(t.text("request-see-title").contains("expert"));
}

#[test]
fn swedish_sentences_read_as_written() {
    let t = Translator::new(Language::Swedish);
    assert_eq!(
        t.text_with("request-see-title", &[("expert", "Bosse".into())]),
        "Bosse vill se din skärm"
    );
    assert_eq!(
        t.text_with("request-control-title", &[("expert", "Bosse".into())]),
        "Bosse vill styra din dator"
    );
    assert_eq!(
        t.text_with(
            "request-offer-title",
            &[
                ("operator", "Karin".into()),
                ("organisation", "Acme".into())
            ]
        ),
        "Karin från Acme erbjuder sig att hjälpa dig"
    );
    assert_eq!(
        t.text_with("invitation-wrong-passwords", &[("count", 1.into())]),
        "Någon har skrivit fel lösenord en gång."
    );
    assert_eq!(
        t.text_with("invitation-wrong-passwords", &[("count", 3.into())]),
        "Någon har skrivit fel lösenord 3 gånger."
    );
    assert_eq!(t.text("session-stop-control"), "Stoppa styrningen");
    assert_eq!(
        t.text("ask-error-too-long"),
        "En inbjudan kan gälla i högst 30 dagar. Välj en kortare tid."
    );
}

#[test]
fn durations_in_both_languages() {
    let (en, sv) = (
        Translator::new(Language::English),
        Translator::new(Language::Swedish),
    );
    let minutes = |m: u64| Duration::from_secs(m * 60);
    for (duration, english, swedish) in [
        (Duration::from_secs(1), "1 second", "1 sekund"),
        (Duration::from_secs(45), "45 seconds", "45 sekunder"),
        (minutes(1), "1 minute", "1 minut"),
        (minutes(15), "15 minutes", "15 minuter"),
        (minutes(60), "1 hour", "1 timme"),
        (
            minutes(90),
            "1 hour and 30 minutes",
            "1 timme och 30 minuter",
        ),
        (minutes(181), "3 hours and 1 minute", "3 timmar och 1 minut"),
        (minutes(24 * 60), "1 day", "1 dag"),
        (minutes(2 * 24 * 60), "2 days", "2 dagar"),
        (minutes(26 * 60), "1 day and 2 hours", "1 dag och 2 timmar"),
        (minutes(7 * 24 * 60), "1 week", "1 vecka"),
        (minutes(14 * 24 * 60), "2 weeks", "2 veckor"),
        (minutes(30 * 24 * 60), "30 days", "30 dagar"),
    ] {
        assert_eq!(en.duration(duration), english);
        assert_eq!(sv.duration(duration), swedish);
    }
}

#[test]
fn dates_in_both_languages_and_relative_to_now() {
    // 2026-03-03 14:30:00 UTC, a Tuesday.
    let at = UNIX_EPOCH + Duration::from_secs(1_772_548_200);
    let day = Duration::from_secs(86_400);
    let (en, sv) = (
        Translator::new(Language::English),
        Translator::new(Language::Swedish),
    );
    assert_eq!(en.date_time(at), "3 March 2026 at 14:30");
    assert_eq!(sv.date_time(at), "3 mars 2026 kl. 14:30");
    let morning = at - Duration::from_secs(5 * 3600);
    assert_eq!(en.when(at, morning), "today at 14:30");
    assert_eq!(sv.when(at, morning), "i dag kl. 14:30");
    assert_eq!(en.when(at, at - day), "tomorrow at 14:30");
    assert_eq!(sv.when(at, at - day), "i morgon kl. 14:30");
    assert_eq!(sv.when(at, at + day), "i går kl. 14:30");
    assert_eq!(en.when(at, at - 10 * day), "3 March at 14:30");
    assert_eq!(sv.when(at, at - 10 * day), "3 mars kl. 14:30");
    assert_eq!(sv.when(at, at - 365 * day), "3 mars 2026 kl. 14:30");
    let early = at - Duration::from_secs(14 * 3600 + 25 * 60);
    assert_eq!(sv.date_time(early), "3 mars 2026 kl. 00:05");
}

#[test]
fn dates_are_shown_in_the_time_zone_given() {
    let at = UNIX_EPOCH + Duration::from_secs(1_772_548_200);
    // Central European Time, as in Stockholm in March.
    let cet = crate::TimeZone::fixed(jiff::tz::offset(1));
    let sv = Translator::new(Language::Swedish).with_time_zone(cet);
    assert_eq!(sv.date_time(at), "3 mars 2026 kl. 15:30");
    // Ten to midnight UTC is already tomorrow in Stockholm.
    let late = UNIX_EPOCH + Duration::from_secs(1_772_582_400 - 600);
    assert_eq!(sv.when(late, at), "i morgon kl. 00:50");
}
