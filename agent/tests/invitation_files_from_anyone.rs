//! Property tests of reading invitation files (`agent status FILE`), which may come from
//! anybody: arbitrary pages, pages that look like ours, and genuine files changed anywhere.
//!
//! Reading never panics. A page the agent did not save is refused with an error; a genuine file
//! reads back exactly what was saved; a changed one is refused, or, when the change leaves the
//! signed invitation as it was (whitespace, the page around the data), reads back unchanged.
//! Nothing here depends on how the signature is computed: only `render`, `parse` and `key_for`.

use agent::invitation::file::{key_for, parse, render, InvitationFile};
use proptest::prelude::*;
use protocol::ids::InvitationId;

const ELEMENT: &str = r#"<script type="application/json" id="remote-assistance-invitation">"#;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        1 => prop::sample::select(vec![
            "</script>",
            "<script>alert(1)</script>",
            r#"id="remote-assistance-invitation">"#,
            "\"},\"signature\":\"",
            "\u{2028}&amp;\\u003c",
            "",
        ])
        .prop_map(str::to_owned),
    ]
}

fn invitation() -> impl Strategy<Value = InvitationFile> {
    (
        (
            text(),
            any::<u128>(),
            prop::sample::select(vec!["https://", "http://"]),
            text(),
        ),
        (text(), text(), any::<i64>(), any::<i64>(), any::<bool>()),
    )
        .prop_map(
            |(
                (server, id, scheme, rest),
                (short_code, from, created_at, expires_at, has_password),
            )| {
                InvitationFile {
                    server,
                    id: format!("{id:032x}")
                        .parse::<InvitationId>()
                        .expect("32 hex digits are an id"),
                    link: format!("{scheme}{rest}"),
                    short_code,
                    from,
                    created_at,
                    expires_at,
                    has_password,
                }
            },
        )
}

/// JSON that looks like a file's data, with any field possibly wrong.
fn signed_json() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        Just("1".to_owned()),
        Just("2".to_owned()),
        Just("1e400".to_owned()),
        Just("-1".to_owned()),
        Just("\"1\"".to_owned()),
        Just("18446744073709551616".to_owned()),
    ];
    (
        prop::sample::select(vec!["remote-assistance-invitation", "other", ""]),
        number,
        invitation(),
        prop_oneof![any::<String>(), "[0-9a-f]{64}"],
    )
        .prop_map(|(format, version, invitation, signature)| {
            let invitation = serde_json::to_string(&invitation).unwrap_or_default();
            format!(
                r#"{{"format": {}, "version": {version}, "invitation": {invitation}, "signature": {}}}"#,
                serde_json::Value::from(format),
                serde_json::Value::from(signature)
            )
        })
}

fn page() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        (any::<String>(), any::<String>(), any::<String>())
            .prop_map(|(a, b, c)| format!("{a}{ELEMENT}{b}</script>{c}")),
        (any::<String>(), signed_json(), any::<String>())
            .prop_map(|(a, json, c)| format!("<html>{a}{ELEMENT}\n{json}\n</script>{c}")),
        (any::<String>(), 0usize..70_000)
            .prop_map(|(a, n)| format!("{ELEMENT}{a}{}</script>", " ".repeat(n))),
    ]
}

/// One change to a page, at a character boundary.
#[derive(Clone, Debug)]
enum Mutation {
    Replace(usize, char),
    Insert(usize, String),
    Delete(usize, usize),
    Truncate(usize),
    Swap(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<char>()).prop_map(|(at, c)| Mutation::Replace(at, c)),
        (
            any::<usize>(),
            prop_oneof![
                any::<String>(),
                Just(" ".to_owned()),
                Just("\"extra\": 1, ".to_owned()),
                Just(r#""from": "Mallory", "#.to_owned()),
                Just("</script>".to_owned()),
                Just("0".to_owned()),
            ]
        )
            .prop_map(|(at, s)| Mutation::Insert(at, s)),
        (any::<usize>(), 1usize..40).prop_map(|(at, n)| Mutation::Delete(at, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
    ]
}

fn apply(page: &str, mutation: &Mutation) -> String {
    let mut chars: Vec<char> = page.chars().collect();
    let at = |i: usize| i % (chars.len() + 1);
    match mutation {
        Mutation::Replace(i, c) => {
            let i = at(*i).min(chars.len().saturating_sub(1));
            if let Some(slot) = chars.get_mut(i) {
                *slot = *c;
            }
        }
        Mutation::Insert(i, s) => {
            let i = at(*i);
            chars.splice(i..i, s.chars());
        }
        Mutation::Delete(i, n) => {
            let i = at(*i);
            let end = (i + n).min(chars.len());
            chars.drain(i..end);
        }
        Mutation::Truncate(i) => {
            let i = at(*i);
            chars.truncate(i);
        }
        Mutation::Swap(a, b) => {
            if !chars.is_empty() {
                let (a, b) = (a % chars.len(), b % chars.len());
                chars.swap(a, b);
            }
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn a_saved_file_reads_back_exactly(invitation in invitation(), credential in any::<String>()) {
        let key = key_for(&credential);
        let page = render(&invitation, &key);
        prop_assert!(page.is_ok(), "{:?}", page);
        let page = page.unwrap_or_default();
        prop_assert_eq!(parse(&page, Some(&key)), Ok(invitation.clone()));
        prop_assert_eq!(parse(&page, None), Ok(invitation));
    }

    #[test]
    fn a_page_the_agent_did_not_save_is_refused(page in page(), credential in any::<String>()) {
        let key = key_for(&credential);
        let read = parse(&page, Some(&key));
        prop_assert!(read.is_err(), "{:?}", read);
        // Unsigned reading (no credential at hand) returns a value or an error, never a panic.
        let _ = parse(&page, None);
    }

    #[test]
    fn a_saved_file_checked_with_another_agents_key_is_refused(
        invitation in invitation(),
        mine in any::<String>(),
        theirs in any::<String>(),
    ) {
        prop_assume!(mine != theirs);
        let page = render(&invitation, &key_for(&theirs)).unwrap_or_default();
        prop_assert!(parse(&page, Some(&key_for(&mine))).is_err());
    }

    #[test]
    fn a_changed_file_is_refused_or_reads_back_unchanged(
        invitation in invitation(),
        credential in any::<String>(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let key = key_for(&credential);
        let page = render(&invitation, &key).unwrap_or_default();
        let changed = mutations.iter().fold(page, |page, m| apply(&page, m));
        if let Ok(read) = parse(&changed, Some(&key)) {
            prop_assert_eq!(read, invitation, "{}", changed);
        }
    }
}
