//! "Invitations": every invitation of this machine, what state it is in, when it was made and
//! until when it is valid, and "Expire now" for those still usable.

use super::{ERROR_RED, SUCCESS_GREEN};
use crate::model::{InvitationState, Model, Screen};
use egui::{Color32, RichText, Ui};
use i18n::Translator;
use std::time::SystemTime;

pub(super) fn show(ui: &mut Ui, model: &mut Model, tr: &Translator, now: SystemTime) {
    ui.horizontal(|ui| {
        ui.heading(tr.text("invitations-heading"));
        if ui.button(tr.text("invitations-refresh")).clicked() {
            model.show_screen(Screen::Invitations);
        }
    });
    ui.add_space(8.0);
    if model.invitations().is_empty() {
        ui.label(tr.text("invitations-empty"));
        return;
    }
    for row in model.invitations().to_vec() {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.set_width(ui.available_width());
            let (id, color) = match row.state {
                InvitationState::Open => ("invitation-state-open", SUCCESS_GREEN),
                InvitationState::InSession => ("invitation-state-in-session", ERROR_RED),
                InvitationState::Locked => ("invitation-state-locked", ERROR_RED),
                InvitationState::Expired => ("invitation-state-expired", Color32::GRAY),
                InvitationState::Revoked => ("invitation-state-revoked", Color32::GRAY),
                InvitationState::Declined => ("invitation-state-declined", Color32::GRAY),
            };
            ui.label(RichText::new(tr.text(id)).strong().color(color));
            let when = |at| tr.when(at, now);
            ui.label(tr.text_with(
                "invitation-created",
                &[("when", when(row.created_at).into())],
            ));
            let expiry = match row.state {
                // Its state says it all; the time it would have lasted no longer matters.
                InvitationState::Revoked => None,
                InvitationState::Expired => Some("invitation-expired-at"),
                _ if row.expires_at <= now => Some("invitation-expired-at"),
                _ => Some("invitation-expires"),
            };
            if let Some(id) = expiry {
                ui.label(tr.text_with(id, &[("when", when(row.expires_at).into())]));
            }
            if row.password_set {
                ui.label(tr.text("invitation-password"));
            }
            if row.failed_attempts > 0 {
                ui.label(tr.text_with(
                    "invitation-wrong-passwords",
                    &[("count", row.failed_attempts.into())],
                ));
            }
            if row.state.can_expire() {
                if model.is_expiring(row.id) {
                    ui.add_enabled(false, egui::Button::new(tr.text("invitation-expiring")));
                } else if ui
                    .button(tr.text("invitation-expire-now"))
                    .on_hover_text(tr.text("invitation-expire-now-help"))
                    .clicked()
                {
                    model.expire_now(row.id);
                }
            }
        });
        ui.add_space(6.0);
    }
}
