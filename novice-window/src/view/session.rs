//! "During a session": who is watching and whether they control the computer, the chat with
//! Stop control right beside it, Pause sharing / Resume sharing and End session; between
//! sessions, how the last one ended.

use super::{ERROR_RED, PAUSE_AMBER, PRIMARY_BLUE};
use crate::model::{
    ControlEndReason, LogLine, Model, SessionEndReason, SessionEvent, SharingState,
};
use egui::{Color32, Key, RichText, TextEdit, Ui};
use i18n::Translator;

pub(super) fn show(ui: &mut Ui, model: &mut Model, tr: &Translator) {
    let Some(session) = model.session() else {
        idle(ui, model, tr);
        return;
    };
    let expert = session.expert.clone();
    let state = session.state();
    let controlled = session.is_controlled();
    let name = || [("expert", expert.as_str().into())];

    let status = match state {
        SharingState::Connecting => "session-connecting",
        SharingState::Watching => "session-watching",
        SharingState::Controlling => "session-controlling",
        SharingState::Paused => "session-paused",
    };
    ui.label(RichText::new(tr.text_with(status, &name())).size(17.0));
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        // Pause in the amber of a paused band, Resume as the main thing to do while paused.
        let (id, fill) = if state == SharingState::Paused {
            ("session-resume", PRIMARY_BLUE)
        } else {
            ("session-pause", PAUSE_AMBER)
        };
        let button = egui::Button::new(RichText::new(tr.text(id)).color(Color32::WHITE)).fill(fill);
        if ui.add(button).clicked() {
            if state == SharingState::Paused {
                model.resume_sharing();
            } else {
                model.pause_sharing();
            }
        }
        if ui.button(tr.text("session-end")).clicked() {
            model.end_session();
        }
    });
    ui.separator();

    let heading = ui.label(RichText::new(tr.text("chat-heading")).strong());
    let log: Vec<LogLine> = model
        .session()
        .map(|s| s.log.iter().cloned().collect())
        .unwrap_or_default();
    egui::ScrollArea::vertical()
        .id_salt("chat-log")
        .max_height(260.0)
        .auto_shrink([false, true])
        .stick_to_bottom(true)
        .show(ui, |ui| {
            for line in &log {
                log_line(ui, tr, &expert, line);
            }
        });
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        let Some(session) = model.session_mut() else {
            return;
        };
        let hint = tr.text_with("chat-hint", &name());
        let field = ui
            .add(
                TextEdit::singleline(&mut session.draft)
                    .hint_text(hint)
                    .desired_width((ui.available_width() - 240.0).max(160.0)),
            )
            .labelled_by(heading.id);
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
        let send = ui.button(tr.text("chat-send")).clicked();
        if entered || send {
            model.send_chat();
            field.request_focus();
        }
        if controlled {
            let stop = egui::Button::new(
                RichText::new(tr.text("session-stop-control"))
                    .strong()
                    .color(Color32::WHITE),
            )
            .fill(ERROR_RED);
            if ui.add(stop).clicked() {
                model.stop_control();
            }
        }
    });
}

fn log_line(ui: &mut Ui, tr: &Translator, expert: &str, line: &LogLine) {
    let name = || [("expert", expert.into())];
    match line {
        LogLine::FromYou(text) => {
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(tr.text("chat-you")).strong());
                ui.label(text);
            });
        }
        LogLine::FromExpert { name, text } => {
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(name).strong());
                ui.label(text);
            });
        }
        LogLine::Event(event) => {
            let id = match event {
                SessionEvent::ControlGranted => "event-control-granted",
                SessionEvent::ControlEnded(ControlEndReason::EscHeld) => "event-control-ended-esc",
                SessionEvent::ControlEnded(ControlEndReason::CtrlC) => "event-control-ended-ctrl-c",
                SessionEvent::ControlEnded(ControlEndReason::StopButton) => {
                    "event-control-ended-button"
                }
                SessionEvent::ControlEnded(ControlEndReason::ExpertGaveBack) => {
                    "event-control-ended-expert"
                }
                SessionEvent::ControlDeclined => "event-control-declined",
                SessionEvent::ControlRequestExpired => "event-control-request-expired",
                SessionEvent::Paused => "event-paused",
                SessionEvent::Resumed => "event-resumed",
            };
            ui.label(RichText::new(tr.text_with(id, &name())).italics().weak());
        }
    }
}

fn idle(ui: &mut Ui, model: &Model, tr: &Translator) {
    let Some(reason) = model.ended() else {
        ui.label(tr.text("session-none"));
        return;
    };
    let id = match reason {
        SessionEndReason::YouEnded => "ended-novice",
        SessionEndReason::ExpertEnded => "ended-expert",
        SessionEndReason::Declined => "ended-declined",
        SessionEndReason::NoAnswer => "ended-timeout",
        SessionEndReason::ConnectionLost => "ended-connection-lost",
        SessionEndReason::InvitationExpired => "ended-revoked",
        SessionEndReason::ServerShutdown => "ended-server-shutdown",
        SessionEndReason::NotRecorded => "ended-not-recorded",
        SessionEndReason::VideoUnsupported => "ended-video-unsupported",
        SessionEndReason::BrowserNotProven => "ended-browser-not-proven",
        SessionEndReason::WrongPassword { tries_left: None } => "ended-wrong-password",
        SessionEndReason::WrongPassword {
            tries_left: Some(0),
        } => "ended-wrong-password-locked",
        SessionEndReason::WrongPassword {
            tries_left: Some(_),
        } => "ended-wrong-password-tries",
    };
    let tries = match reason {
        SessionEndReason::WrongPassword {
            tries_left: Some(n),
        } => i64::from(n),
        _ => 0,
    };
    ui.heading(tr.text("ended-heading"));
    ui.label(tr.text_with(id, &[("tries", tries.into())]));
    ui.label(RichText::new(tr.text("ended-not-shared")).strong());
}
