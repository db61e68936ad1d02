//! The window's egui views over [`Model`]: one module per screen, and [`NoviceWindow`] that
//! lays them out (the "being watched" band on top, the tabs, the screen, and the dialog of a
//! request over everything).
//!
//! Views only read the model and call its methods on clicks; every word comes from the
//! [`Translator`] of the model's language, and every time is passed in, so the tests draw the
//! window at any moment they like.
//!
//! * `ask`: "Ask for help", the invitation form and then the ways to send the invitation.
//! * `invitations`: every invitation with its state and "Expire now".
//! * `request`: the Allow / Decline dialogs.
//! * `session`: who watches, whether they control, the chat and the session's buttons.

mod ask;
mod invitations;
mod request;
mod session;

use crate::model::{Model, Screen, SharingState};
use egui::{Align, Color32, Frame, Layout, Margin, RichText, Ui};
use i18n::{TimeZone, Translator};
use std::time::{Duration, SystemTime};

/// The band shown while the screen is shared.
const SHARING_RED: Color32 = Color32::from_rgb(176, 0, 32);
/// The band while sharing is paused.
const PAUSED_AMBER: Color32 = Color32::from_rgb(150, 96, 0);
/// Text that reports a failure or a refusal.
pub(crate) const ERROR_RED: Color32 = Color32::from_rgb(200, 30, 30);
/// Text that reports success.
pub(crate) const SUCCESS_GREEN: Color32 = Color32::from_rgb(20, 130, 60);

/// The whole window: the model, and the translator of its language.
#[derive(Debug)]
pub struct NoviceWindow {
    model: Model,
    tr: Translator,
}

impl NoviceWindow {
    /// A window over `model`, showing times in `zone` (`TimeZone::system()` for the novice's
    /// own clock).
    pub fn new(model: Model, zone: TimeZone) -> Self {
        let tr = Translator::new(model.language()).with_time_zone(zone);
        Self { model, tr }
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn model_mut(&mut self) -> &mut Model {
        &mut self.model
    }

    /// The window's title, in its language.
    pub fn title(&self) -> String {
        self.tr.text("window-title")
    }

    /// Draws the window as it is at `now`.
    pub fn ui(&mut self, ui: &mut Ui, now: SystemTime) {
        self.model.handle_timeout(now);
        if self.tr.language() != self.model.language() {
            self.tr =
                Translator::new(self.model.language()).with_time_zone(self.tr.time_zone().clone());
        }
        self.stop_control_on_ctrl_c(ui);
        let (model, tr) = (&mut self.model, &self.tr);

        banner(ui, model, tr);
        egui::Panel::top("novice-tabs").show(ui, |ui| tabs(ui, model, tr));
        if model.error().is_some() {
            error_panel(ui, model, tr);
        }
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical()
                .auto_shrink([false, false])
                .show(ui, |ui| match model.screen() {
                    Screen::Ask => ask::show(ui, model, tr, now),
                    Screen::Invitations => invitations::show(ui, model, tr, now),
                    Screen::Session => session::show(ui, model, tr),
                });
        });
        request::show(ui.ctx(), model, tr, now);
        if model.is_asking() {
            // The time left counts down.
            ui.ctx().request_repaint_after(Duration::from_millis(250));
        }
    }

    /// Ctrl+C in this window takes control back, as the control dialog promises (egui turns
    /// the key into a copy event, so both are looked for).
    fn stop_control_on_ctrl_c(&mut self, ui: &Ui) {
        if !self.model.session().is_some_and(|s| s.is_controlled()) {
            return;
        }
        let pressed = ui.input(|i| {
            i.events.iter().any(|e| match e {
                egui::Event::Copy => true,
                egui::Event::Key {
                    key: egui::Key::C,
                    pressed: true,
                    modifiers,
                    ..
                } => modifiers.command,
                _ => false,
            })
        });
        if pressed {
            self.model.stop_control();
        }
    }
}

/// The band across the top while the screen is shared: red while the expert sees it, amber
/// while sharing is paused. It is on every screen, and nothing can hide it.
fn banner(ui: &mut Ui, model: &Model, tr: &Translator) {
    let Some(session) = model.session() else {
        return;
    };
    let (fill, id) = match session.state() {
        SharingState::Connecting | SharingState::Watching => (SHARING_RED, "banner-watching"),
        SharingState::Controlling => (SHARING_RED, "banner-controlling"),
        SharingState::Paused => (PAUSED_AMBER, "banner-paused"),
    };
    let text = tr.text_with(id, &[("expert", session.expert.as_str().into())]);
    egui::Panel::top("novice-banner")
        .frame(
            Frame::new()
                .fill(fill)
                .inner_margin(Margin::symmetric(16, 10)),
        )
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                dot(ui, Color32::WHITE, 18.0, true);
                ui.label(
                    RichText::new(text)
                        .size(22.0)
                        .strong()
                        .color(Color32::WHITE),
                );
            });
        });
}

/// A round dot, filled or hollow, in line with the text beside it (drawn, not a glyph: the
/// built-in fonts have no circles).
pub(crate) fn dot(ui: &mut Ui, color: Color32, diameter: f32, filled: bool) {
    let (rect, _) = ui.allocate_exact_size(egui::Vec2::splat(diameter), egui::Sense::hover());
    let radius = diameter / 2.0;
    if filled {
        ui.painter().circle_filled(rect.center(), radius, color);
    } else {
        ui.painter()
            .circle_stroke(rect.center(), radius - 1.0, egui::Stroke::new(2.0, color));
    }
}

fn tabs(ui: &mut Ui, model: &mut Model, tr: &Translator) {
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        for (screen, id) in [
            (Screen::Ask, "tab-ask"),
            (Screen::Invitations, "tab-invitations"),
            (Screen::Session, "tab-session"),
        ] {
            let label = RichText::new(tr.text(id)).size(16.0);
            if ui
                .selectable_label(model.screen() == screen, label)
                .clicked()
            {
                model.show_screen(screen);
            }
        }
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            let mut language = model.language();
            egui::ComboBox::from_label(tr.text("language-label"))
                .selected_text(language.native_name())
                .show_ui(ui, |ui| {
                    for choice in i18n::Language::ALL {
                        ui.selectable_value(&mut language, choice, choice.native_name());
                    }
                });
            model.switch_language(language);
        });
    });
    ui.add_space(4.0);
}

fn error_panel(ui: &mut Ui, model: &mut Model, tr: &Translator) {
    let details = model.error().unwrap_or_default().to_owned();
    egui::Panel::top("novice-error")
        .frame(
            Frame::new()
                .fill(Color32::from_rgb(255, 228, 228))
                .inner_margin(Margin::symmetric(16, 8)),
        )
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.vertical(|ui| {
                    ui.label(
                        RichText::new(tr.text("error-heading"))
                            .strong()
                            .color(ERROR_RED),
                    );
                    ui.label(
                        RichText::new(
                            tr.text_with("error-details", &[("details", details.into())]),
                        )
                        .color(Color32::BLACK),
                    );
                });
                ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                    if ui.button(tr.text("close")).clicked() {
                        model.dismiss_error();
                    }
                });
            });
        });
}
