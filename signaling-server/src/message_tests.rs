//! Every message the pages name exists, in every language, and every message of the pages'
//! files is shown somewhere: the ids in the scripts (`web/static/js/*.js`), the templates
//! (`web/templates/*.html`) and the server's own code are read as text, so that a message
//! missing from a translation, or left behind when its use went, fails here rather than
//! showing as its id on a page.

use crate::audit::AuditKind;
use crate::desk::dashboard::kind_message;
use i18n::{Catalogue, Language, Translator};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The areas of the web catalogue: the prefix of each id, and the file it lives in.
const AREAS: [(&str, &str); 3] = [
    ("page-", "pages.ftl"),
    ("console-", "console.ftl"),
    ("desk-", "desk.ftl"),
];

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The files under `dir` (and its folders) whose names end in `extension`, with their text.
fn sources(dir: &Path, extension: &str) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && path.file_name().is_some_and(|n| n != "vendor") {
            found.extend(sources(&path, extension));
        } else if path.extension().is_some_and(|e| e == extension) {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            found.push((path, text));
        }
    }
    found
}

/// Every double-quoted text in `text` that reads as a message id of the web catalogue. Each
/// quote is taken as an opening one, since templates nest quotes (`title="{{ t("id") }}"`).
fn ids_in(text: &str) -> BTreeSet<String> {
    text.match_indices('"')
        .filter_map(|(at, _)| text[at + 1..].split('"').next())
        .filter(|literal| {
            AREAS.iter().any(|(prefix, _)| literal.starts_with(prefix))
                && literal
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !literal.ends_with('-')
        })
        .map(str::to_owned)
        .collect()
}

/// The ids the scripts, the templates and the server's code (but its tests) name.
fn ids_used() -> BTreeSet<String> {
    let root = repository();
    let mut texts = sources(&root.join("web/static/js"), "js");
    texts.extend(sources(&root.join("web/templates"), "html"));
    texts.extend(
        sources(&root.join("signaling-server/src"), "rs")
            .into_iter()
            .filter(|(path, _)| !path.ends_with("message_tests.rs"))
            .map(|(path, text)| {
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                (path, code.to_owned())
            }),
    );
    assert!(texts.len() > 20, "found only {} sources", texts.len());
    texts.iter().flat_map(|(_, text)| ids_in(text)).collect()
}

#[test]
fn every_message_the_pages_name_exists_in_every_language() {
    let used = ids_used();
    assert!(used.len() > 150, "found {} ids: {used:?}", used.len());
    for language in Language::ALL {
        let translator = Translator::of(Catalogue::Web, language);
        let missing: Vec<_> = used.iter().filter(|id| !translator.has(id)).collect();
        assert!(missing.is_empty(), "{language:?} lacks {missing:?}");
        for kind in AuditKind::ALL {
            let id = kind_message(kind);
            assert!(translator.has(&id), "{language:?} lacks {id}");
        }
    }
}

#[test]
fn every_message_of_the_pages_is_shown_somewhere() {
    let used = ids_used();
    let kinds: BTreeSet<String> = AuditKind::ALL.iter().map(|k| kind_message(*k)).collect();
    let translator = Translator::of(Catalogue::Web, Language::English);
    for (prefix, file) in AREAS {
        let messages = translator.script_messages(file);
        assert!(!messages.is_empty(), "{file} has no messages");
        for (id, _) in messages {
            assert!(
                id.starts_with(prefix),
                "{file}: {id} is not named {prefix}…"
            );
            assert!(
                used.contains(&id) || kinds.contains(&id),
                "{file}: {id} is never shown"
            );
        }
    }
}

#[test]
fn ids_are_read_from_literals_only() {
    let ids = ids_in(r#"t("console-you-ended"); $("chat-log"); "desk-kind-" + x; "desk-a-1""#);
    assert_eq!(
        ids.into_iter().collect::<Vec<_>>(),
        ["console-you-ended", "desk-a-1"]
    );
}
