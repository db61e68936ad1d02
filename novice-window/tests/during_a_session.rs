//! The session screen in each state: watching, controlling, paused; Stop control beside the
//! chat, Ctrl+C in the window, Pause and Resume, the chat both ways with the expert's text
//! cleaned of control characters, and how the session ended.

mod common;

use common::{commands, say, update, window, Window};
use egui_kittest::kittest::Queryable;
use i18n::Language;
use novice_window::model::{Command, ControlEndReason, Model, RequestId, SessionEndReason, Update};
use std::time::Duration;

/// A session with Bob watching, the consent given through the dialog.
fn watching(language: Language) -> Window {
    let mut window = window(Model::new(language));
    let deadline = window.state().now + Duration::from_secs(60);
    update(
        &mut window,
        Update::ExpertWantsToSee {
            request: RequestId(1),
            expert_name: "Bob".into(),
            offered_by: None,
            deadline,
        },
    );
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
    window
}

fn controlling(language: Language) -> Window {
    let mut window = watching(language);
    update(&mut window, Update::ControlGranted);
    window
}

fn stop_control(language: Language) -> &'static str {
    say(language, "Stop control", "Stoppa styrningen")
}

#[test]
fn watching_shows_who_sees_the_screen_and_that_they_cannot_control_it() {
    for language in Language::ALL {
        let window = watching(language);
        window.get_by_label(say(
            language,
            "Bob can see your screen",
            "Bob ser din skärm",
        ));
        window.get_by_label(say(
            language,
            "Bob is watching your screen. They cannot use your mouse or keyboard.",
            "Bob tittar på din skärm men kan inte använda din mus eller ditt tangentbord.",
        ));
        window.get_by_label(say(language, "Pause sharing", "Pausa delningen"));
        window.get_by_label(say(language, "End session", "Avsluta sessionen"));
        assert!(window.query_by_label(stop_control(language)).is_none());
    }
}

#[test]
fn controlling_shows_it_and_stop_control_beside_the_chat_stops_it() {
    for language in Language::ALL {
        let mut window = controlling(language);
        window.get_by_label(say(
            language,
            "Bob is controlling your computer",
            "Bob styr din dator",
        ));
        window.get_by_label(say(
            language,
            "Bob now controls your mouse and keyboard.",
            "Bob styr nu din mus och ditt tangentbord.",
        ));
        let stop = window.get_by_label(stop_control(language));
        let send = window.get_by_label(say(language, "Send", "Skicka"));
        let (stop_at, send_at) = (stop.rect(), send.rect());
        assert!(
            (stop_at.center().y - send_at.center().y).abs() < 4.0
                && stop_at.left() > send_at.left(),
            "Stop control sits beside the chat's Send: {stop_at:?} {send_at:?}"
        );
        stop.click();
        window.run();
        assert!(matches!(&commands(&mut window)[..], [Command::StopControl]));
        update(
            &mut window,
            Update::ControlEnded {
                why: ControlEndReason::StopButton,
            },
        );
        window.get_by_label(say(
            language,
            "You stopped remote control.",
            "Du stoppade fjärrstyrningen.",
        ));
        assert!(window.query_by_label(stop_control(language)).is_none());
        window.get_by_label(say(
            language,
            "Bob can see your screen",
            "Bob ser din skärm",
        ));
    }
}

#[test]
fn ctrl_c_in_the_window_stops_control() {
    let mut window = controlling(Language::English);
    window.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::C);
    window.run();
    assert!(matches!(&commands(&mut window)[..], [Command::StopControl]));
}

#[test]
fn held_esc_is_told_when_the_agent_reports_it() {
    let mut window = controlling(Language::Swedish);
    update(
        &mut window,
        Update::ControlEnded {
            why: ControlEndReason::EscHeld,
        },
    );
    window.get_by_label("Du höll ned Esc, så fjärrstyrningen stoppades.");
}

#[test]
fn pausing_shows_the_paused_band_and_resume_resumes() {
    for language in Language::ALL {
        let mut window = watching(language);
        window
            .get_by_label(say(language, "Pause sharing", "Pausa delningen"))
            .click();
        window.run();
        assert!(matches!(
            &commands(&mut window)[..],
            [Command::PauseSharing]
        ));
        update(&mut window, Update::SharingPaused);
        window.get_by_label(say(
            language,
            "Sharing paused: Bob cannot see your screen now",
            "Delningen är pausad: Bob ser inte din skärm just nu",
        ));
        window.get_by_label(say(
            language,
            "Your screen is not being shared right now. Bob sees nothing new until you resume.",
            "Din skärm delas inte just nu. Bob ser inget nytt förrän du återupptar delningen.",
        ));
        window
            .get_by_label(say(language, "Resume sharing", "Återuppta delningen"))
            .click();
        window.run();
        assert!(matches!(
            &commands(&mut window)[..],
            [Command::ResumeSharing]
        ));
        update(&mut window, Update::SharingResumed);
        window.get_by_label(say(
            language,
            "Bob can see your screen",
            "Bob ser din skärm",
        ));
    }
}

#[test]
fn pausing_while_controlled_takes_control_back_first() {
    let mut window = controlling(Language::English);
    window.get_by_label("Pause sharing").click();
    window.run();
    assert!(matches!(
        &commands(&mut window)[..],
        [Command::StopControl, Command::PauseSharing]
    ));
}

#[test]
fn chat_from_the_expert_is_shown_without_control_characters() {
    for language in Language::ALL {
        let mut window = watching(language);
        update(
            &mut window,
            Update::Chat {
                from: "Bob\u{1b}]0;owned\u{7}".into(),
                text: "Hello\u{1b}[2J\u{7} there,\u{202e} click\r\nhere".into(),
            },
        );
        window.get_by_label("Hello there, click  here");
        assert!(window.query_by_label_contains("\u{1b}").is_none());
        assert!(window.query_by_label_contains("\u{202e}").is_none());
        assert!(window.query_by_label_contains("owned").is_none());
    }
}

#[test]
fn a_chat_message_is_sent_with_the_button_or_enter() {
    for language in Language::ALL {
        let mut window = watching(language);
        let field = window.get_by_label(say(language, "Chat", "Chatt"));
        field.focus();
        window.run();
        window
            .get_by_label(say(language, "Chat", "Chatt"))
            .type_text("It is the printer");
        window.run();
        window.get_by_label(say(language, "Send", "Skicka")).click();
        window.run();
        let cmds = commands(&mut window);
        assert!(
            matches!(&cmds[..], [Command::SendChat(text)] if text == "It is the printer"),
            "{cmds:?}"
        );
        window.get_by_label("It is the printer");
        window.get_by_label(say(language, "You", "Du"));

        window.get_by_label(say(language, "Chat", "Chatt")).focus();
        window.run();
        window
            .get_by_label(say(language, "Chat", "Chatt"))
            .type_text("Thanks");
        window.run();
        window.key_press(egui::Key::Enter);
        window.run();
        let cmds = commands(&mut window);
        assert!(
            matches!(&cmds[..], [Command::SendChat(text)] if text == "Thanks"),
            "{cmds:?}"
        );
    }
}

#[test]
fn end_session_ends_it_and_the_screen_says_nothing_is_shared() {
    for language in Language::ALL {
        let mut window = watching(language);
        window
            .get_by_label(say(language, "End session", "Avsluta sessionen"))
            .click();
        window.run();
        assert!(matches!(&commands(&mut window)[..], [Command::EndSession]));
        update(
            &mut window,
            Update::SessionEnded {
                reason: SessionEndReason::YouEnded,
            },
        );
        window.get_by_label(say(
            language,
            "The session has ended",
            "Sessionen är avslutad",
        ));
        window.get_by_label(say(
            language,
            "You ended the session.",
            "Du avslutade sessionen.",
        ));
        window.get_by_label(say(
            language,
            "Your screen is no longer shared.",
            "Din skärm delas inte längre.",
        ));
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
fn the_session_tab_without_a_session_says_what_will_happen() {
    for language in Language::ALL {
        let mut window = window(Model::new(language));
        window
            .get_by_label(say(language, "Session", "Session"))
            .click();
        window.run();
        window.get_by_label_contains(say(
            language,
            "No session is running.",
            "Ingen session pågår.",
        ));
    }
}
