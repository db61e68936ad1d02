//! "Ask for help": the form (the name the expert will see, an optional password, how long the
//! invitation is valid), then the invitation with every way to send it — the link to copy,
//! the short code shown large to read out on the phone, e-mail, a file, and the experts of the
//! support desk with who is online.

use super::{ERROR_RED, PRIMARY_BLUE, SUCCESS_GREEN};
use crate::model::{AskStage, CreatedInvitation, ExpiryChoice, FormError, Model, Sent, TimeUnit};
use egui::{Color32, RichText, TextEdit, Ui};
use i18n::Translator;
use std::time::SystemTime;

pub(super) fn show(ui: &mut Ui, model: &mut Model, tr: &Translator, now: SystemTime) {
    match model.stage().clone() {
        AskStage::Form => form(ui, model, tr, false),
        AskStage::Creating => form(ui, model, tr, true),
        AskStage::Ready(invitation) => ready(ui, model, tr, &invitation, now),
    }
}

fn form(ui: &mut Ui, model: &mut Model, tr: &Translator, creating: bool) {
    ui.heading(tr.text("ask-heading"));
    ui.label(tr.text("ask-intro"));
    ui.add_space(12.0);

    let error = model.form_error();
    let form = model.form_mut();
    let label = ui.label(RichText::new(tr.text("ask-name-label")).strong());
    ui.add(
        TextEdit::singleline(&mut form.name)
            .hint_text(tr.text("ask-name-hint"))
            .desired_width(360.0),
    )
    .labelled_by(label.id);
    ui.add_space(8.0);

    let label = ui.label(RichText::new(tr.text("ask-password-label")).strong());
    ui.add(
        TextEdit::singleline(&mut form.password)
            .password(true)
            .desired_width(360.0),
    )
    .labelled_by(label.id);
    ui.label(RichText::new(tr.text("ask-password-help")).weak());
    ui.add_space(8.0);

    ui.label(RichText::new(tr.text("ask-expiry-label")).strong());
    for choice in ExpiryChoice::ALL {
        let text = match choice.duration() {
            Some(duration) => tr.duration(duration),
            None => tr.text("ask-expiry-custom"),
        };
        ui.radio_value(&mut form.expiry, choice, text);
    }
    if form.expiry == ExpiryChoice::Custom {
        ui.horizontal(|ui| {
            ui.add_space(24.0);
            let label = ui.label(tr.text("ask-custom-amount-label"));
            ui.add(TextEdit::singleline(&mut form.custom_amount).desired_width(64.0))
                .labelled_by(label.id);
            for unit in TimeUnit::ALL {
                let id = match unit {
                    TimeUnit::Minutes => "ask-custom-unit-minutes",
                    TimeUnit::Hours => "ask-custom-unit-hours",
                    TimeUnit::Days => "ask-custom-unit-days",
                };
                ui.radio_value(&mut form.custom_unit, unit, tr.text(id));
            }
        });
    }
    if let Some(error) = error {
        let id = match error {
            FormError::NotANumber => "ask-error-not-a-number",
            FormError::TooShort => "ask-error-too-short",
            FormError::TooLong => "ask-error-too-long",
            FormError::PasswordTooLong => "ask-error-password-too-long",
        };
        ui.add_space(4.0);
        ui.label(RichText::new(tr.text(id)).color(ERROR_RED).strong());
    }
    ui.add_space(12.0);
    if creating {
        ui.label(tr.text("ask-creating"));
    } else {
        let create = egui::Button::new(
            RichText::new(tr.text("ask-create"))
                .size(18.0)
                .color(Color32::WHITE),
        )
        .fill(PRIMARY_BLUE);
        if ui.add(create).clicked() {
            model.create_invitation();
        }
    }
}

fn ready(
    ui: &mut Ui,
    model: &mut Model,
    tr: &Translator,
    invitation: &CreatedInvitation,
    now: SystemTime,
) {
    ui.heading(tr.text("ask-ready-heading"));
    let when = tr.when(invitation.expires_at, now);
    ui.label(tr.text_with("ask-ready-valid-until", &[("when", when.into())]));
    if invitation.password_set {
        ui.label(tr.text("ask-ready-password"));
    }
    ui.add_space(12.0);
    ui.label(RichText::new(tr.text("ask-send-heading")).strong());
    ui.add_space(4.0);

    ui.horizontal(|ui| {
        if ui.button(tr.text("ask-copy-link")).clicked() {
            model.copy_link();
        }
        ui.add(egui::Label::new(RichText::new(&invitation.link).monospace()).selectable(true));
    });
    ui.add_space(8.0);
    ui.label(tr.text("ask-short-code-label"));
    ui.add(
        egui::Label::new(
            RichText::new(&invitation.short_code)
                .monospace()
                .size(44.0)
                .strong(),
        )
        .selectable(true),
    );
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        if ui.button(tr.text("ask-email")).clicked() {
            model.email_invitation();
        }
        if ui.button(tr.text("ask-save-file")).clicked() {
            model.save_invitation_file();
        }
    });

    if !model.desk_experts().is_empty() {
        ui.add_space(12.0);
        ui.label(RichText::new(tr.text("ask-desk-heading")).strong());
        let experts = model.desk_experts().to_vec();
        egui::Grid::new("desk-experts")
            .num_columns(3)
            .spacing([16.0, 6.0])
            .show(ui, |ui| {
                for expert in &experts {
                    ui.label(&expert.name);
                    let (color, id) = if expert.online {
                        (SUCCESS_GREEN, "ask-desk-online")
                    } else {
                        (Color32::GRAY, "ask-desk-offline")
                    };
                    ui.horizontal(|ui| {
                        super::dot(ui, color, 10.0, expert.online);
                        ui.label(RichText::new(tr.text(id)).color(color));
                    });
                    let send =
                        tr.text_with("ask-desk-send", &[("name", expert.name.as_str().into())]);
                    if ui.button(send).clicked() {
                        model.send_to_desk_expert(&expert.login);
                    }
                    ui.end_row();
                }
            });
    }

    if let Some(sent) = model.sent() {
        let text = match sent {
            Sent::LinkCopied => tr.text("sent-clipboard"),
            Sent::SavedAs(path) => {
                let path = crate::text::sanitize(&path.display().to_string());
                tr.text_with("sent-file", &[("path", path.into())])
            }
            Sent::MailProgramOpened => tr.text("sent-mail"),
            Sent::ToDeskExpert { name, online } => {
                let id = if *online {
                    "sent-desk-online"
                } else {
                    "sent-desk-offline"
                };
                tr.text_with(id, &[("name", name.as_str().into())])
            }
        };
        ui.add_space(8.0);
        ui.label(RichText::new(text).color(SUCCESS_GREEN));
    }

    ui.add_space(16.0);
    if ui.button(tr.text("ask-new")).clicked() {
        model.new_invitation();
    }
}
