//! The catalogue as a whole: both languages parse cleanly, have the same messages with the
//! same variables, and every message resolves without an error in every variant of its
//! selectors; and a few outputs, checked word for word.

use crate::{resources, Arg, Language, Translator};
use fluent_syntax::ast::{
    CallArguments, Entry, Expression, InlineExpression, Pattern, PatternElement, VariantKey,
};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, UNIX_EPOCH};

/// What a message needs to be resolved: each variable, and the variant keys it selects on.
type Variables = BTreeMap<String, BTreeSet<Key>>;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Number(String),
    Name(String),
}

/// Every message of `language` with its variables, checking that the files parse without
/// error and that no id is defined twice.
fn catalogue(language: Language) -> BTreeMap<String, Variables> {
    let mut messages = BTreeMap::new();
    for (file, source) in resources(language) {
        let resource = fluent_syntax::parser::parse(*source)
            .unwrap_or_else(|(_, errors)| panic!("{language:?} {file} does not parse: {errors:?}"));
        for entry in resource.body {
            match entry {
                Entry::Message(message) => {
                    let mut variables = Variables::new();
                    if let Some(value) = &message.value {
                        pattern_variables(value, &mut variables);
                    }
                    assert!(
                        message.attributes.is_empty(),
                        "{language:?} {}: attributes are not used",
                        message.id.name
                    );
                    let id = message.id.name.to_owned();
                    assert!(
                        messages.insert(id.clone(), variables).is_none(),
                        "{language:?}: {id} is defined twice"
                    );
                }
                Entry::Junk { content } => panic!("{language:?} {file}: junk {content:?}"),
                Entry::Term(term) => panic!("{language:?} {file}: unused term {}", term.id.name),
                Entry::Comment(_) | Entry::GroupComment(_) | Entry::ResourceComment(_) => {}
            }
        }
    }
    messages
}

fn pattern_variables(pattern: &Pattern<&str>, out: &mut Variables) {
    for element in &pattern.elements {
        if let PatternElement::Placeable { expression } = element {
            expression_variables(expression, out);
        }
    }
}

fn expression_variables(expression: &Expression<&str>, out: &mut Variables) {
    match expression {
        Expression::Select { selector, variants } => {
            if let InlineExpression::VariableReference { id } = selector {
                let keys = out.entry(id.name.to_owned()).or_default();
                for variant in variants {
                    keys.insert(match &variant.key {
                        VariantKey::Identifier { name } => Key::Name((*name).to_owned()),
                        VariantKey::NumberLiteral { value } => Key::Number((*value).to_owned()),
                    });
                }
            } else {
                inline_variables(selector, out);
            }
            for variant in variants {
                pattern_variables(&variant.value, out);
            }
        }
        Expression::Inline(inline) => inline_variables(inline, out),
    }
}

fn inline_variables(inline: &InlineExpression<&str>, out: &mut Variables) {
    let mut arguments = |args: &CallArguments<&str>| {
        for arg in &args.positional {
            inline_variables(arg, out);
        }
        for arg in &args.named {
            inline_variables(&arg.value, out);
        }
    };
    match inline {
        InlineExpression::VariableReference { id } => {
            out.entry(id.name.to_owned()).or_default();
        }
        InlineExpression::FunctionReference { arguments: a, .. } => arguments(a),
        InlineExpression::TermReference {
            arguments: Some(a), ..
        } => arguments(a),
        InlineExpression::Placeable { expression } => expression_variables(expression, out),
        _ => {}
    }
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
    let english = catalogue(Language::English);
    let swedish = catalogue(Language::Swedish);
    let ids = |c: &BTreeMap<String, Variables>| c.keys().cloned().collect::<BTreeSet<_>>();
    let (en_ids, sv_ids) = (ids(&english), ids(&swedish));
    assert_eq!(
        en_ids.difference(&sv_ids).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "in English only"
    );
    assert_eq!(
        sv_ids.difference(&en_ids).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "in Swedish only"
    );
    for (id, en_vars) in &english {
        let names = |v: &Variables| v.keys().cloned().collect::<BTreeSet<_>>();
        assert_eq!(
            names(en_vars),
            names(&swedish[id]),
            "{id}: the languages use different variables"
        );
    }
}

#[test]
fn every_message_resolves_in_every_variant() {
    for language in Language::ALL {
        let translator = Translator::new(language);
        for (id, variables) in catalogue(language) {
            assert!(translator.has(&id), "{language:?} {id}");
            // Each variable through all its sample values, the others at their first.
            let firsts: Vec<(String, Arg<'static>)> = variables
                .iter()
                .map(|(name, keys)| (name.clone(), samples(keys).remove(0)))
                .collect();
            let mut tries = vec![firsts.clone()];
            for (i, (_, keys)) in variables.iter().enumerate() {
                for value in samples(keys) {
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
