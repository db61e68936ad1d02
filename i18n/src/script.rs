//! Messages for a page's script, which has no Fluent of its own: each message rendered here in
//! the page's language with a placeholder, `{ $name }`, where each variable's value goes, and a
//! message that selects on a number rendered once per form, so that the script only picks a
//! form and fills in values. The sentences stay whole and worded by the translator; plural
//! forms follow the language's rules (the script asks `Intl.PluralRules` for the category).
//!
//! The languages the product speaks have two plural categories, `one` (exactly 1) and `other`:
//! a form `one` is rendered with the number 1, which is then its only value; the default form,
//! `other`, with the placeholder. The catalogue's tests keep the web catalogue within that.

use crate::variables::{self, Key, Variables};
use crate::{Arg, Translator};
use fluent_bundle::FluentResource;
use fluent_syntax::ast::Entry;
use std::collections::BTreeMap;

/// One message as a page's script receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptMessage {
    /// The text, with [`placeholder`]s where the values go.
    Text(String),
    /// A message that selects on the number `variable`: one text (as [`ScriptMessage::Text`])
    /// per form, keyed by plural category (`one`, `other`) or by exact number (`=0`). The exact
    /// number's form wins over its category's.
    Plural {
        variable: String,
        forms: BTreeMap<String, String>,
    },
}

/// The placeholder a script replaces with the value of variable `name`.
pub fn placeholder(name: &str) -> String {
    format!("{{ ${name} }}")
}

impl Translator {
    /// Every message of the catalogue's file `file` (e.g. `console.ftl`), in the file's order,
    /// as a script receives it; nothing for a file the catalogue does not have. A message that
    /// selects on more than one variable, or on a word, comes as one text with its default
    /// variants: the catalogue's tests keep such messages out of the web catalogue.
    pub fn script_messages(&self, file: &str) -> Vec<(String, ScriptMessage)> {
        let Some((_, source)) = self
            .catalogue()
            .resources(self.language())
            .iter()
            .find(|(name, _)| *name == file)
        else {
            return Vec::new();
        };
        // Part of the program and parsed whole by the tests; a broken entry would be skipped.
        let resource = FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(r, _)| r);
        resource
            .entries()
            .filter_map(|entry| match entry {
                Entry::Message(message) => Some(message),
                _ => None,
            })
            .filter_map(|message| {
                let variables = variables::of_pattern(message.value.as_ref()?);
                let id = message.id.name;
                Some((id.to_owned(), self.script_message(id, &variables)))
            })
            .collect()
    }

    fn script_message(&self, id: &str, variables: &Variables) -> ScriptMessage {
        let render = |number: Option<(&str, f64)>| {
            let args: Vec<(&str, Arg<'_>)> = variables
                .keys()
                .map(|name| match number {
                    Some((selector, n)) if selector == name => (name.as_str(), Arg::Number(n)),
                    _ => (name.as_str(), Arg::from(placeholder(name))),
                })
                .collect();
            self.text_with(id, &args)
        };
        let selectors: Vec<_> = variables
            .iter()
            .filter(|(_, variable)| !variable.keys.is_empty())
            .collect();
        match selectors.as_slice() {
            [(name, variable)] if variable.keys.iter().all(is_plural_key) => {
                let forms = variable
                    .keys
                    .iter()
                    .map(|key| {
                        let (form, number) = match key {
                            Key::Number(n) => (format!("={n}"), n.parse().ok()),
                            Key::Name(category) if category == "one" => {
                                (category.clone(), Some(1.0))
                            }
                            // The default variant, reached with the placeholder (a text).
                            Key::Name(category) => (category.clone(), None),
                        };
                        (form, render(number.map(|n| (name.as_str(), n))))
                    })
                    .collect();
                ScriptMessage::Plural {
                    variable: (*name).clone(),
                    forms,
                }
            }
            _ => ScriptMessage::Text(render(None)),
        }
    }
}

/// Whether a script can choose the variant `key`: a plural category of the languages spoken,
/// or an exact number.
pub(crate) fn is_plural_key(key: &Key) -> bool {
    match key {
        Key::Number(_) => true,
        Key::Name(category) => category == "one" || category == "other",
    }
}
