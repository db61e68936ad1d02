//! The novice's own window: what they are asked and shown while they get help, in English or
//! Swedish, as a library the agent drives.
//!
//! * [`model`]: the window's state as a plain type. The agent feeds it [`Update`]s and carries
//!   out the [`Command`]s it emits; time is passed in, nothing is read from a clock or a
//!   socket, so every rule (deadlines, what a click may answer) is unit-tested.
//! * [`view`]: the egui screens over the model: "Ask for help", "Invitations", the Allow
//!   dialogs, and the session with its unmissable "being watched" band. Every word comes from
//!   the [`i18n`] crate.
//! * [`app`]: the native window ([`run_window`]), an `eframe` app that moves updates in and
//!   commands out over tokio channels and brings the window to the front while a question
//!   waits for an answer.
//! * [`text`]: cleaning of text others supplied ([`sanitize`]), before it is shown.

pub mod app;
pub mod model;
pub mod text;
pub mod view;

pub use app::{run_window, WindowError};
pub use model::{Command, Model, Update};
pub use text::sanitize;
pub use view::NoviceWindow;
