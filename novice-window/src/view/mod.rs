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
/// The fill of Pause sharing: a darker shade of the paused band's amber, so that the band
/// alone says the screen is paused.
pub(crate) const PAUSE_AMBER: Color32 = Color32::from_rgb(115, 72, 0);
/// The fill of a screen's one main button (Create the invitation), white text on it.
pub(crate) const PRIMARY_BLUE: Color32 = Color32::from_rgb(25, 90, 160);

/// The whole window: the model, and the translator of its language.
#[derive(Debug)]
pub struct NoviceWindow {
    model: Model,
    tr: Translator,
    /// Whether the window's look was set on its context.
    styled: bool,
}

impl NoviceWindow {
    /// A window over `model`, showing times in `zone` (`TimeZone::system()` for the novice's
    /// own clock).
    pub fn new(model: Model, zone: TimeZone) -> Self {
        let tr = Translator::new(model.language()).with_time_zone(zone);
        Self {
            model,
            tr,
            styled: false,
        }
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
        if !std::mem::replace(&mut self.styled, true) {
            apply_style(ui.ctx());
        }
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
        if let Some(deadline) = model.poll_timeout() {
            // The time left counts down in whole seconds: draw again when the next one starts
            // (on software OpenGL a frame costs tens of milliseconds, so not more often).
            let left = deadline.duration_since(now).unwrap_or_default();
            let into_second = Duration::from_nanos(u64::from(left.subsec_nanos()));
            let next = if into_second.is_zero() {
                Duration::from_secs(1)
            } else {
                into_second
            };
            ui.ctx()
                .request_repaint_after(next + Duration::from_millis(10));
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

/// The window's look: text larger than egui's default, for people who do not read small print
/// easily, and the light theme unless the system asks for the dark one.
fn apply_style(ctx: &egui::Context) {
    use egui::{FontId, TextStyle};
    ctx.options_mut(|o| o.fallback_theme = egui::Theme::Light);
    ctx.all_styles_mut(|style| {
        for (text_style, size) in [
            (TextStyle::Body, 16.0),
            (TextStyle::Button, 16.0),
            (TextStyle::Heading, 26.0),
            (TextStyle::Small, 13.0),
            (TextStyle::Monospace, 15.0),
        ] {
            let family = match text_style {
                TextStyle::Monospace => egui::FontFamily::Monospace,
                _ => egui::FontFamily::Proportional,
            };
            style
                .text_styles
                .insert(text_style, FontId::new(size, family));
        }
        style.spacing.button_padding = egui::vec2(10.0, 5.0);
        style.spacing.item_spacing = egui::vec2(8.0, 6.0);
    });
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

#[cfg(test)]
mod tests {
    //! The views name their messages by id, as strings; these tests hold the ids and the
    //! catalogue together, both ways.

    use i18n::{Language, Translator};
    use std::collections::BTreeSet;

    /// The views' own sources, and the translator's (which uses the duration and date ids).
    const SOURCES: &[&str] = &[
        include_str!("mod.rs"),
        include_str!("ask.rs"),
        include_str!("invitations.rs"),
        include_str!("request.rs"),
        include_str!("session.rs"),
        include_str!("../../../i18n/src/translator.rs"),
    ];

    /// egui ids in the sources, which look like message ids but are not.
    const NOT_MESSAGES: &[&str] = &[
        "novice-tabs",
        "novice-banner",
        "novice-error",
        "novice-request",
        "desk-experts",
        "chat-log",
    ];

    /// Every string literal in the sources that looks like a message id.
    fn ids_in_sources() -> BTreeSet<String> {
        let mut ids = BTreeSet::new();
        for source in SOURCES {
            for literal in source.split('"').skip(1).step_by(2) {
                let looks_like_id = literal.contains('-')
                    && literal
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !literal.starts_with('-')
                    && !literal.ends_with('-');
                if looks_like_id && !NOT_MESSAGES.contains(&literal) {
                    ids.insert(literal.to_owned());
                }
            }
        }
        ids
    }

    #[test]
    fn every_message_the_views_name_exists_in_both_languages() {
        let ids = ids_in_sources();
        assert!(ids.len() > 50, "found {} ids: {ids:?}", ids.len());
        for language in Language::ALL {
            let tr = Translator::new(language);
            let missing: Vec<&String> = ids.iter().filter(|id| !tr.has(id)).collect();
            assert!(missing.is_empty(), "{language:?} lacks {missing:?}");
        }
    }

    #[test]
    fn every_message_in_the_catalogue_is_shown_somewhere() {
        let used = |id: &str| SOURCES.iter().any(|s| s.contains(&format!("\"{id}\"")));
        for (file, source) in i18n::resources(Language::English) {
            for line in source.lines() {
                let Some((id, _)) = line.split_once(" =") else {
                    continue;
                };
                if id.starts_with(|c: char| c.is_ascii_lowercase()) && !id.contains(' ') {
                    assert!(used(id), "{file}: {id} is never shown");
                }
            }
        }
    }
}
