//! The native window: [`run_window`] opens it and runs it until it closes, as an `eframe` app
//! around [`NoviceWindow`].
//!
//! The agent is a tokio program, so the window speaks tokio channels: updates come in on an
//! `mpsc::Receiver<Update>` the agent sends on with `send().await`, commands go out on an
//! `mpsc::UnboundedSender<Command>` the agent receives from in its `select!` loop (clicks are
//! few, and the window must never block on a busy agent). A small thread waits on the update
//! channel and wakes the window for each update, since egui sleeps while nothing happens.
//!
//! The window is the novice's consent: while a question waits for an answer it is raised
//! above every other window and asks for attention, and goes back to normal once answered.
//! Closing it ends a running session (a screen shared with no window to say so would be
//! shared unseen). When the agent drops its sender, the window closes.

use crate::model::{Command, Model, Update};
use crate::view::NoviceWindow;
use egui::{UserAttentionType, ViewportCommand, WindowLevel};
use i18n::{Language, TimeZone};
use std::sync::mpsc as std_mpsc;
use std::time::SystemTime;
use tokio::sync::mpsc;

/// The window's X11 class and application id.
const APP_ID: &str = "remote-assistance";

/// Why the window could not run.
#[derive(Debug, thiserror::Error)]
pub enum WindowError {
    /// No display to open it on, no OpenGL, or the event loop already ran in this process.
    #[error("cannot open the Remote Assistance window: {0}")]
    Open(String),
}

/// Opens the novice's window over `model` and runs it until it is closed (by the novice, or
/// because the agent dropped the `updates` sender). Must be called on the main thread, and only
/// once per process (a limit of the windowing library); times are shown in the system's time
/// zone.
pub fn run_window(
    model: Model,
    updates: mpsc::Receiver<Update>,
    commands: mpsc::UnboundedSender<Command>,
) -> Result<(), WindowError> {
    let window = NoviceWindow::new(model, TimeZone::system());
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(window.title())
            .with_app_id(APP_ID)
            .with_inner_size([760.0, 680.0])
            .with_min_inner_size([520.0, 420.0]),
        ..Default::default()
    };
    eframe::run_native(
        APP_ID,
        options,
        Box::new(move |cc| {
            let inbox = forward_updates(updates, cc.egui_ctx.clone());
            Ok(Box::new(WindowApp::new(window, inbox, commands)))
        }),
    )
    .map_err(|e| WindowError::Open(e.to_string()))
}

/// Moves updates from the agent's channel to the window's inbox on a thread of its own, waking
/// the window for each. The inbox closes when the agent's channel does.
fn forward_updates(
    mut updates: mpsc::Receiver<Update>,
    ctx: egui::Context,
) -> std_mpsc::Receiver<Update> {
    let (inbox, received) = std_mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("window-updates".into())
        .spawn(move || {
            while let Some(update) = updates.blocking_recv() {
                if inbox.send(update).is_err() {
                    return;
                }
                ctx.request_repaint();
            }
            drop(inbox);
            ctx.request_repaint();
        });
    if spawned.is_err() {
        // Without the thread the inbox is closed at once, and the window closes: better than a
        // window that never hears of a request.
        return std_mpsc::channel().1;
    }
    received
}

/// The eframe app: the window, its inbox and outbox, and what was last told to the system
/// window.
struct WindowApp {
    window: NoviceWindow,
    inbox: std_mpsc::Receiver<Update>,
    commands: mpsc::UnboundedSender<Command>,
    /// Whether the window is raised for a question.
    raised: bool,
    /// The language the title was last set in.
    title_language: Language,
}

impl WindowApp {
    fn new(
        window: NoviceWindow,
        inbox: std_mpsc::Receiver<Update>,
        commands: mpsc::UnboundedSender<Command>,
    ) -> Self {
        let title_language = window.model().language();
        Self {
            window,
            inbox,
            commands,
            raised: false,
            title_language,
        }
    }

    fn send_commands(&mut self) {
        while let Some(command) = self.window.model_mut().poll_command() {
            // The agent stopped listening: it is shutting down and closes the window itself.
            let _ = self.commands.send(command);
        }
    }

    /// Raises the window while a question waits, and lets it go back once answered.
    fn raise_for_questions(&mut self, ctx: &egui::Context) {
        let asking = self.window.model().is_asking();
        if asking && !self.raised {
            ctx.send_viewport_cmd(ViewportCommand::Minimized(false));
            ctx.send_viewport_cmd(ViewportCommand::Visible(true));
            ctx.send_viewport_cmd(ViewportCommand::WindowLevel(WindowLevel::AlwaysOnTop));
            ctx.send_viewport_cmd(ViewportCommand::Focus);
            ctx.send_viewport_cmd(ViewportCommand::RequestUserAttention(
                UserAttentionType::Critical,
            ));
        } else if !asking && self.raised {
            ctx.send_viewport_cmd(ViewportCommand::WindowLevel(WindowLevel::Normal));
            ctx.send_viewport_cmd(ViewportCommand::RequestUserAttention(
                UserAttentionType::Reset,
            ));
        }
        self.raised = asking;
    }
}

impl eframe::App for WindowApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let now = SystemTime::now();
        loop {
            match self.inbox.try_recv() {
                Ok(update) => self.window.model_mut().handle_update(update, now),
                Err(std_mpsc::TryRecvError::Empty) => break,
                Err(std_mpsc::TryRecvError::Disconnected) => {
                    ctx.send_viewport_cmd(ViewportCommand::Close);
                    break;
                }
            }
        }
        self.window.model_mut().handle_timeout(now);
        if ctx.input(|i| i.viewport().close_requested()) {
            self.window.model_mut().end_session();
        }
        self.raise_for_questions(ctx);
        self.send_commands();
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.window.ui(ui, SystemTime::now());
        let language = self.window.model().language();
        if language != self.title_language {
            self.title_language = language;
            ui.ctx()
                .send_viewport_cmd(ViewportCommand::Title(self.window.title()));
        }
        self.raise_for_questions(ui.ctx());
        self.send_commands();
    }
}
