//! "Ask for help": the form sends what the novice chose, refuses an expiry over 30 days with a
//! message, and the invitation made offers every way to send it, the short code large enough
//! to read out; the language switch turns the whole window to Swedish.

mod common;

use common::{commands, fresh, say, update, Window};
use egui_kittest::kittest::Queryable;
use i18n::Language;
use novice_window::model::{Command, DeskExpert, ExpertLogin, Sent, Update};
use protocol::ids::InvitationId;
use secrecy::ExposeSecret;
use std::time::Duration;

fn type_into(window: &mut Window, label: &str, text: &str) {
    window.get_by_label(label).focus();
    window.run();
    window.get_by_label(label).type_text(text);
    window.run();
}

fn ready(language: Language) -> Window {
    let mut window = fresh(language);
    window
        .get_by_label(say(language, "Create invitation", "Skapa inbjudan"))
        .click();
    window.run();
    commands(&mut window);
    let expires_at = window.state().now + Duration::from_secs(3600);
    update(
        &mut window,
        Update::SupportDeskExperts(vec![
            DeskExpert {
                login: ExpertLogin("ola".into()),
                name: "Ola".into(),
                online: false,
            },
            DeskExpert {
                login: ExpertLogin("eva".into()),
                name: "Eva".into(),
                online: true,
            },
        ]),
    );
    update(
        &mut window,
        Update::InvitationCreated {
            id: InvitationId::new_random(),
            link: "https://help.example/i/Zm9vYmFy".into(),
            short_code: "K7PQ-M2XD-4RTA".into(),
            expires_at,
            password_set: true,
        },
    );
    window
}

#[test]
fn the_form_sends_the_name_password_and_expiry_chosen() {
    for language in Language::ALL {
        let mut window = fresh(language);
        window.get_by_label(say(
            language,
            "Ask someone to help you",
            "Be någon om hjälp",
        ));
        type_into(
            &mut window,
            say(language, "Password (optional)", "Lösenord (frivilligt)"),
            "tulip-42",
        );
        window.get_by_label(say(language, "1 day", "1 dag")).click();
        window.run();
        window
            .get_by_label(say(language, "Create invitation", "Skapa inbjudan"))
            .click();
        window.run();
        let cmds = commands(&mut window);
        let [Command::CreateInvitation {
            expert_label,
            password,
            expiry,
        }] = &cmds[..]
        else {
            panic!("{cmds:?}");
        };
        assert_eq!(expert_label.as_deref(), Some("Alice at home"));
        assert_eq!(
            password.as_ref().map(|p| p.expose_secret()),
            Some("tulip-42")
        );
        assert_eq!(*expiry, Duration::from_secs(86_400));
        window.get_by_label(say(
            language,
            "Creating the invitation…",
            "Skapar inbjudan…",
        ));
    }
}

#[test]
fn every_preset_expiry_is_offered() {
    for language in Language::ALL {
        let window = fresh(language);
        for label in [
            say(language, "15 minutes", "15 minuter"),
            say(language, "1 hour", "1 timme"),
            say(language, "1 day", "1 dag"),
            say(language, "1 week", "1 vecka"),
            say(language, "Another length of time", "En annan tid"),
        ] {
            window.get_by_label(label);
        }
    }
}

#[test]
fn a_custom_expiry_over_30_days_is_refused_with_a_message() {
    for language in Language::ALL {
        let mut window = fresh(language);
        window
            .get_by_label(say(language, "Another length of time", "En annan tid"))
            .click();
        window.run();
        type_into(&mut window, say(language, "How long", "Hur länge"), "31");
        window.get_by_label(say(language, "days", "dagar")).click();
        window.run();
        window
            .get_by_label(say(language, "Create invitation", "Skapa inbjudan"))
            .click();
        window.run();
        assert!(commands(&mut window).is_empty());
        window.get_by_label(say(
            language,
            "An invitation can be valid for at most 30 days. Choose a shorter time.",
            "En inbjudan kan gälla i högst 30 dagar. Välj en kortare tid.",
        ));
        // 30 days is the most, and allowed.
        window
            .get_by_label(say(language, "How long", "Hur länge"))
            .focus();
        window.run();
        window.key_press(egui::Key::Backspace);
        window.run();
        window
            .get_by_label(say(language, "How long", "Hur länge"))
            .type_text("0");
        window.run();
        window
            .get_by_label(say(language, "Create invitation", "Skapa inbjudan"))
            .click();
        window.run();
        let cmds = commands(&mut window);
        assert!(
            matches!(&cmds[..], [Command::CreateInvitation { expiry, .. }]
                if *expiry == Duration::from_secs(30 * 86_400)),
            "{cmds:?}"
        );
    }
}

#[test]
fn a_custom_expiry_that_is_not_a_number_is_refused_with_a_message() {
    let mut window = fresh(Language::Swedish);
    window.get_by_label("En annan tid").click();
    window.run();
    type_into(&mut window, "Hur länge", "två");
    window.get_by_label("Skapa inbjudan").click();
    window.run();
    assert!(commands(&mut window).is_empty());
    window.get_by_label("Skriv tiden som ett heltal, till exempel 3.");
}

#[test]
fn the_invitation_made_offers_every_way_to_send_it() {
    for language in Language::ALL {
        let mut window = ready(language);
        window.get_by_label(say(
            language,
            "Your invitation is ready",
            "Din inbjudan är klar",
        ));
        window.get_by_label(say(
            language,
            "It can be used until today at 15:30.",
            "Den kan användas till i dag kl. 15:30.",
        ));
        window.get_by_label(say(
            language,
            "Your helper will also need the password you chose.",
            "Hjälparen behöver också lösenordet du valde.",
        ));
        window.get_by_label("https://help.example/i/Zm9vYmFy");
        let code = window.get_by_label("K7PQ-M2XD-4RTA");
        assert!(
            code.rect().height() >= 40.0,
            "the short code is large: {:?}",
            code.rect()
        );

        window
            .get_by_label(say(language, "Copy link", "Kopiera länken"))
            .click();
        window.run();
        window
            .get_by_label(say(language, "Send by e-mail", "Skicka med e-post"))
            .click();
        window.run();
        window
            .get_by_label(say(language, "Save as a file", "Spara som fil"))
            .click();
        window.run();
        window
            .get_by_label(say(language, "Send to Eva", "Skicka till Eva"))
            .click();
        window.run();
        let cmds = commands(&mut window);
        assert!(
            matches!(
                &cmds[..],
                [
                    Command::CopyLink,
                    Command::EmailInvitation,
                    Command::SaveInvitationFile,
                    Command::SendToDeskExpert(ExpertLogin(login)),
                ] if login == "eva"
            ),
            "{cmds:?}"
        );
        window.get_by_label(say(language, "online now", "inloggad nu"));
        window.get_by_label(say(language, "not online", "inte inloggad"));

        update(&mut window, Update::Sent(Sent::LinkCopied));
        window.get_by_label(say(
            language,
            "The link is on the clipboard. Paste it into a message to your helper.",
            "Länken finns nu i urklipp. Klistra in den i ett meddelande till hjälparen.",
        ));
        update(
            &mut window,
            Update::Sent(Sent::ToDeskExpert {
                name: "Eva\u{1b}[8m".into(),
                online: true,
            }),
        );
        window.get_by_label(say(
            language,
            "The invitation was sent to Eva, who is online now.",
            "Inbjudan skickades till Eva, som är inloggad nu.",
        ));

        window
            .get_by_label(say(
                language,
                "Create a new invitation",
                "Skapa en ny inbjudan",
            ))
            .click();
        window.run();
        window.get_by_label(say(language, "Create invitation", "Skapa inbjudan"));
    }
}

#[test]
fn a_failure_is_shown_and_the_form_comes_back() {
    let mut window = fresh(Language::English);
    window.get_by_label("Create invitation").click();
    window.run();
    commands(&mut window);
    update(
        &mut window,
        Update::Error("cannot reach the server\u{1b}[2J".into()),
    );
    window.get_by_label("Something went wrong");
    window.get_by_label("cannot reach the server");
    window.get_by_label("Close").click();
    window.run();
    assert!(window.query_by_label("Something went wrong").is_none());
    window.get_by_label("Create invitation");
}

#[test]
fn the_language_switch_turns_the_window_swedish() {
    let mut window = fresh(Language::English);
    window.get_by_label("Language").click();
    window.run();
    window.get_by_label("Svenska").click();
    window.run();
    assert!(matches!(
        &commands(&mut window)[..],
        [Command::SwitchLanguage(Language::Swedish)]
    ));
    window.get_by_label("Be om hjälp");
    window.get_by_label("Inbjudningar");
    window.get_by_label("Skapa inbjudan");
    assert_eq!(window.state().window.title(), "Fjärrhjälp");
}
