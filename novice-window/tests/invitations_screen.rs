//! "Invitations": each invitation with its state, its times and "Expire now" for the ones
//! still usable; opening the screen or Refresh asks the agent for the list.

mod common;

use common::{commands, say, t0, update, window};
use egui_kittest::kittest::Queryable;
use i18n::Language;
use novice_window::model::{Command, InvitationRow, InvitationState, Model, Screen, Update};
use protocol::ids::InvitationId;
use std::time::Duration;

fn row(state: InvitationState, created_hours_ago: u64) -> InvitationRow {
    let created_at = t0() - Duration::from_secs(created_hours_ago * 3600);
    InvitationRow {
        id: InvitationId::new_random(),
        state,
        created_at,
        expires_at: created_at + Duration::from_secs(3600),
        password_set: false,
        failed_attempts: 0,
    }
}

#[test]
fn opening_the_screen_or_refresh_asks_for_the_list() {
    for language in Language::ALL {
        let mut window = window(Model::new(language));
        window
            .get_by_label(say(language, "Invitations", "Inbjudningar"))
            .click();
        window.run();
        assert!(matches!(
            &commands(&mut window)[..],
            [Command::ListInvitations]
        ));
        window.get_by_label(say(
            language,
            "You have no invitations yet.",
            "Du har inga inbjudningar än.",
        ));
        window
            .get_by_label(say(language, "Refresh", "Uppdatera"))
            .click();
        window.run();
        assert!(matches!(
            &commands(&mut window)[..],
            [Command::ListInvitations]
        ));
    }
}

#[test]
fn each_invitation_shows_its_state_and_expire_now_expires_an_open_one() {
    for language in Language::ALL {
        let mut model = Model::new(language);
        model.show_screen(Screen::Invitations);
        let mut window = window(model);
        commands(&mut window);
        let open = InvitationRow {
            password_set: true,
            failed_attempts: 2,
            ..row(InvitationState::Open, 0)
        };
        let expired = row(InvitationState::Expired, 26);
        let revoked = row(InvitationState::Revoked, 2);
        update(
            &mut window,
            Update::InvitationsListed(vec![open.clone(), expired, revoked]),
        );
        for label in [
            say(language, "Waiting for your helper", "Väntar på hjälparen"),
            say(language, "Created today at 14:30", "Skapad i dag kl. 14:30"),
            say(
                language,
                "Valid until today at 15:30",
                "Gäller till i dag kl. 15:30",
            ),
            say(language, "Protected by a password", "Skyddad med lösenord"),
            say(
                language,
                "Someone typed a wrong password 2 times.",
                "Någon har skrivit fel lösenord 2 gånger.",
            ),
            say(
                language,
                "Expired: its time ran out",
                "Har gått ut: tiden är slut",
            ),
            say(
                language,
                "Created yesterday at 12:30",
                "Skapad i går kl. 12:30",
            ),
            say(
                language,
                "Expired yesterday at 13:30",
                "Gick ut i går kl. 13:30",
            ),
            say(language, "Expired by you", "Avslutad av dig"),
        ] {
            window.get_by_label(label);
        }
        // Only the open one can still be expired.
        let expire = say(language, "Expire now", "Avsluta nu");
        assert_eq!(window.get_all_by_label(expire).count(), 1);
        window.get_by_label(expire).click();
        window.run();
        let cmds = commands(&mut window);
        assert!(
            matches!(&cmds[..], [Command::ExpireNow(id)] if *id == open.id),
            "{cmds:?}"
        );
        assert!(window.query_by_label(expire).is_none());
        window.get_by_label(say(language, "Expiring…", "Avslutar…"));

        update(
            &mut window,
            Update::InvitationsListed(vec![InvitationRow {
                state: InvitationState::Revoked,
                ..open
            }]),
        );
        window.get_by_label(say(language, "Expired by you", "Avslutad av dig"));
        assert!(window.query_by_label(expire).is_none());
    }
}

#[test]
fn an_invitation_in_use_can_be_expired_to_end_its_session() {
    let mut model = Model::new(Language::English);
    model.show_screen(Screen::Invitations);
    let mut window = window(model);
    commands(&mut window);
    let in_use = row(InvitationState::InSession, 0);
    update(&mut window, Update::InvitationsListed(vec![in_use.clone()]));
    window.get_by_label("In use: a session is running");
    window.get_by_label("Expire now").click();
    window.run();
    assert!(matches!(&commands(&mut window)[..], [Command::ExpireNow(id)] if *id == in_use.id));
}
