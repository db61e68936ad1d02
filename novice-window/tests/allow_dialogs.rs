//! The questions only the novice answers: Allow and Decline send the answer for that very
//! request, the time left counts down, a lapsed request can no longer be allowed, an offer of
//! help names its operator and organisation, and the control dialog says how to stop.

mod common;

use common::{advance, commands, fresh, say, update, Window};
use egui_kittest::kittest::Queryable;
use i18n::Language;
use novice_window::model::{Command, Offer, RequestId, RequestKind, Update};
use std::time::Duration;

fn asked_to_see(language: Language, expert_name: &str, offered_by: Option<Offer>) -> Window {
    let mut window = fresh(language);
    let deadline = window.state().now + Duration::from_secs(60);
    update(
        &mut window,
        Update::ExpertWantsToSee {
            request: RequestId(7),
            expert_name: expert_name.into(),
            offered_by,
            deadline,
        },
    );
    window
}

fn asked_for_control(language: Language) -> Window {
    let mut window = asked_to_see(language, "Bob", None);
    window
        .get_by_label(say(language, "Allow", "Tillåt"))
        .click();
    window.run();
    update(
        &mut window,
        Update::SessionStarted {
            expert: "Bob".into(),
        },
    );
    commands(&mut window);
    let deadline = window.state().now + Duration::from_secs(30);
    update(
        &mut window,
        Update::ExpertWantsControl {
            request: RequestId(8),
            expert_name: "Bob".into(),
            deadline,
        },
    );
    window
}

#[test]
fn allow_lets_the_expert_see_and_shows_the_being_watched_band() {
    for language in Language::ALL {
        let mut window = asked_to_see(language, "Bob", None);
        window.get_by_label(say(
            language,
            "Bob wants to see your screen",
            "Bob vill se din skärm",
        ));
        window.get_by_label(say(
            language,
            "You have 1 minute to answer.",
            "Du har 1 minut på dig att svara.",
        ));
        window
            .get_by_label(say(language, "Allow", "Tillåt"))
            .click();
        window.run();
        let cmds = commands(&mut window);
        assert!(
            matches!(
                &cmds[..],
                [Command::Answer {
                    request: RequestId(7),
                    kind: RequestKind::See,
                    allow: true
                }]
            ),
            "{cmds:?}"
        );
        assert!(window
            .query_by_label(say(language, "Allow", "Tillåt"))
            .is_none());
        window.get_by_label(say(
            language,
            "Bob can see your screen",
            "Bob ser din skärm",
        ));
    }
}

#[test]
fn decline_answers_no_and_nothing_is_shared() {
    for language in Language::ALL {
        let mut window = asked_to_see(language, "Bob", None);
        window
            .get_by_label(say(language, "Decline", "Avböj"))
            .click();
        window.run();
        let cmds = commands(&mut window);
        assert!(
            matches!(
                &cmds[..],
                [Command::Answer {
                    request: RequestId(7),
                    allow: false,
                    ..
                }]
            ),
            "{cmds:?}"
        );
        assert!(window
            .query_by_label(say(
                language,
                "Bob can see your screen",
                "Bob ser din skärm"
            ))
            .is_none());
    }
}

#[test]
fn the_time_left_counts_down_and_a_lapsed_request_cannot_be_allowed() {
    for language in Language::ALL {
        let mut window = asked_to_see(language, "Bob", None);
        advance(&mut window, Duration::from_millis(45_500));
        window.get_by_label(say(
            language,
            "You have 15 seconds to answer.",
            "Du har 15 sekunder på dig att svara.",
        ));
        advance(&mut window, Duration::from_secs(15));
        window.get_by_label(say(
            language,
            "You did not answer in time, so the request was declined.",
            "Du svarade inte i tid, så begäran avböjdes.",
        ));
        assert!(window
            .query_by_label(say(language, "Allow", "Tillåt"))
            .is_none());
        assert!(
            commands(&mut window).is_empty(),
            "the agent declines by itself"
        );
        window.get_by_label(say(language, "Close", "Stäng")).click();
        window.run();
        assert!(window
            .query_by_label(say(
                language,
                "Bob wants to see your screen",
                "Bob vill se din skärm"
            ))
            .is_none());
        assert!(commands(&mut window).is_empty());
    }
}

#[test]
fn an_offer_of_help_names_the_operator_and_the_organisation() {
    for language in Language::ALL {
        let offer = Offer {
            operator: "Karin".into(),
            organisation: "Acme".into(),
        };
        let window = asked_to_see(language, "Karin (Acme support desk)", Some(offer));
        window.get_by_label(say(
            language,
            "Karin from Acme offers to help you",
            "Karin från Acme erbjuder sig att hjälpa dig",
        ));
        window.get_by_label_contains(say(
            language,
            "Karin works at the Acme support desk.",
            "Karin arbetar på supportavdelningen hos Acme.",
        ));
    }
}

#[test]
fn a_name_from_the_server_is_shown_without_its_control_characters() {
    let window = asked_to_see(Language::English, "Bob\u{1b}[2J\u{202e}\u{7}", None);
    window.get_by_label("Bob wants to see your screen");
}

#[test]
fn the_control_dialog_says_the_three_ways_to_stop_and_allow_answers_it() {
    for language in Language::ALL {
        let mut window = asked_for_control(language);
        window.get_by_label(say(
            language,
            "Bob wants to control your computer",
            "Bob vill styra din dator",
        ));
        // One text, the three ways in it.
        for way in [
            say(
                language,
                "• hold down the Esc key",
                "• håll ned Esc-tangenten",
            ),
            say(
                language,
                "• press Ctrl+C in this window",
                "• tryck Ctrl+C i det här fönstret",
            ),
            say(
                language,
                "• click “Stop control”.",
                "• klicka på ”Stoppa styrningen”.",
            ),
        ] {
            window.get_by_label_contains(say(
                language,
                "You can take control back at any time:",
                "Du kan ta tillbaka kontrollen när som helst:",
            ));
            window.get_by_label_contains(way);
        }
        window.get_by_label(say(
            language,
            "You have 30 seconds to answer.",
            "Du har 30 sekunder på dig att svara.",
        ));
        window
            .get_by_label(say(language, "Allow", "Tillåt"))
            .click();
        window.run();
        let cmds = commands(&mut window);
        assert!(
            matches!(
                &cmds[..],
                [Command::Answer {
                    request: RequestId(8),
                    kind: RequestKind::Control,
                    allow: true
                }]
            ),
            "{cmds:?}"
        );
    }
}

#[test]
fn declining_control_leaves_the_expert_watching() {
    for language in Language::ALL {
        let mut window = asked_for_control(language);
        window
            .get_by_label(say(language, "Decline", "Avböj"))
            .click();
        window.run();
        let cmds = commands(&mut window);
        assert!(
            matches!(
                &cmds[..],
                [Command::Answer {
                    kind: RequestKind::Control,
                    allow: false,
                    ..
                }]
            ),
            "{cmds:?}"
        );
        window.get_by_label(say(
            language,
            "You declined remote control. Bob can still watch and chat.",
            "Du tackade nej till fjärrstyrning. Bob kan fortfarande se skärmen och chatta.",
        ));
        window.get_by_label(say(
            language,
            "Bob can see your screen",
            "Bob ser din skärm",
        ));
    }
}
