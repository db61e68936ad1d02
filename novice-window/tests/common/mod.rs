//! The harness every window test shares: the whole [`NoviceWindow`] drawn headless by
//! egui_kittest at a moment the test chooses, in UTC, and the commands it emitted.

#![allow(dead_code)] // each test file uses its own part of the harness

use egui_kittest::Harness;
use i18n::{Language, TimeZone};
use novice_window::model::{Command, Model, Update};
use novice_window::NoviceWindow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// 2026-03-03 14:30:00 UTC: the tests' "now" unless they move it.
pub fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_772_548_200)
}

/// What a test draws: the window and the moment it is drawn at.
pub struct State {
    pub window: NoviceWindow,
    pub now: SystemTime,
}

pub type Window = Harness<'static, State>;

/// The window over `model`, drawn once.
pub fn window(model: Model) -> Window {
    let state = State {
        window: NoviceWindow::new(model, TimeZone::UTC),
        now: t0(),
    };
    let mut harness = Harness::builder()
        .with_size([900.0, 1000.0])
        .build_ui_state(
            |ui, state: &mut State| state.window.ui(ui, state.now),
            state,
        );
    harness.run();
    harness
}

/// A fresh window in `language`, for a novice called Alice.
pub fn fresh(language: Language) -> Window {
    window(Model::new(language).with_name("Alice at home"))
}

/// Feeds the window an update from the agent, then lets it settle.
pub fn update(window: &mut Window, update: Update) {
    let now = window.state().now;
    window
        .state_mut()
        .window
        .model_mut()
        .handle_update(update, now);
    window.run();
}

/// Lets `by` pass, then lets the window settle.
pub fn advance(window: &mut Window, by: Duration) {
    window.state_mut().now += by;
    window.run();
}

/// Every command emitted since the last call.
pub fn commands(window: &mut Window) -> Vec<Command> {
    let model = window.state_mut().window.model_mut();
    std::iter::from_fn(|| model.poll_command()).collect()
}

/// The English text or the Swedish one, as the test's language wants: tests check what the
/// novice reads, word for word, in both languages.
pub fn say(language: Language, english: &'static str, swedish: &'static str) -> &'static str {
    match language {
        Language::English => english,
        Language::Swedish => swedish,
    }
}
