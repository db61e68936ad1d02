//! The novice's side of the agent, in two front-ends over the same session logic: the
//! terminal ([`terminal`]: lines typed, lines printed) for scripts and machines without a
//! display, and the window ([`window`]: the `novice-window` crate's native window).
//!
//! The session speaks to either through [`Notice`]s and is driven by the same typed calls
//! (`answer_to_see`, `stop_control`, `end_session`, `chat`, `quit`), so a front-end adds no
//! logic of its own.

pub mod notice;
pub mod terminal;

pub use notice::Notice;
pub mod window;

use std::time::{Instant, SystemTime};
use tokio::sync::mpsc;
use window::{WindowAction, WindowFront};

/// Where the novice reads and answers: the terminal or the window.
#[derive(Debug)]
pub enum Frontend {
    Terminal {
        lines: mpsc::Receiver<String>,
    },
    Window {
        front: WindowFront,
        updates: mpsc::Sender<novice_window::Update>,
        commands: mpsc::UnboundedReceiver<novice_window::Command>,
        /// The program that opens `mailto:` addresses (`xdg-open`).
        open_with: String,
        /// Lines typed at the terminal the agent was started from, when it was: the window
        /// mode then also prints what it tells the novice, and takes answers there too.
        lines: Option<mpsc::Receiver<String>>,
    },
}

/// What the novice did.
#[derive(Debug)]
pub enum Input {
    /// A line typed at the terminal.
    Line(String),
    /// Something asked for in the window.
    Window(WindowAction),
    /// The terminal's input ended, or the window was closed: the novice is gone.
    Gone,
}

impl Frontend {
    /// The terminal: lines from standard input, notices on standard output.
    pub fn terminal() -> Self {
        Self::Terminal {
            lines: terminal::spawn_stdin_reader(),
        }
    }

    /// The window, whose updates go to `updates` and whose commands come from `commands`.
    /// With `terminal`, the terminal it was started from stays a second way to answer.
    pub fn window(
        updates: mpsc::Sender<novice_window::Update>,
        commands: mpsc::UnboundedReceiver<novice_window::Command>,
        open_with: String,
        terminal: bool,
    ) -> Self {
        Self::Window {
            front: WindowFront::new(),
            updates,
            commands,
            open_with,
            lines: terminal.then(terminal::spawn_stdin_reader),
        }
    }

    /// The program that opens mail addresses for the window; none at the terminal.
    pub fn open_with(&self) -> Option<&str> {
        match self {
            Self::Window { open_with, .. } => Some(open_with),
            Self::Terminal { .. } => None,
        }
    }

    /// The novice's next input; window commands that ask for nothing are skipped.
    pub async fn next(&mut self) -> Input {
        match self {
            Self::Terminal { lines } => match lines.recv().await {
                Some(line) => Input::Line(line),
                None => Input::Gone,
            },
            Self::Window {
                front,
                commands,
                lines,
                ..
            } => loop {
                let line = async {
                    match lines.as_mut() {
                        Some(lines) => lines.recv().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    command = commands.recv() => match command {
                        Some(command) => {
                            if let Some(action) = front.action_for(command) {
                                return Input::Window(action);
                            }
                        }
                        None => return Input::Gone,
                    },
                    line = line => match line {
                        Some(line) => return Input::Line(line),
                        // The terminal closed; the window goes on.
                        None => *lines = None,
                    },
                }
            },
        }
    }

    /// Tells the novice what the session has to say.
    pub async fn tell(&mut self, notice: &Notice) {
        match self {
            Self::Terminal { .. } => terminal::say(&notice.to_string()),
            Self::Window { front, lines, .. } => {
                if lines.is_some() {
                    terminal::say(&notice.to_string());
                }
                let updates = front.update_for(notice, Instant::now(), SystemTime::now());
                for update in updates {
                    self.update(update).await;
                }
            }
        }
    }

    /// Sends `update` to the window; nothing at the terminal.
    pub async fn update(&self, update: novice_window::Update) {
        if let Self::Window { updates, .. } = self {
            if updates.send(update).await.is_err() {
                tracing::debug!("the window is closed");
            }
        }
    }

    /// The driver's own word about the connection or the screen, for the terminal; the window
    /// shows the state itself, so there it only goes to the log.
    pub fn say(&self, line: &str) {
        match self {
            Self::Terminal { .. } => terminal::say(line),
            Self::Window { lines: Some(_), .. } => terminal::say(line),
            Self::Window { lines: None, .. } => tracing::info!("{line}"),
        }
    }

    /// Something the novice asked for failed: said at the terminal, shown in the window.
    pub async fn error(&self, text: String) {
        match self {
            Self::Terminal { .. } => terminal::say(&text),
            Self::Window { lines, .. } => {
                if lines.is_some() {
                    terminal::say(&text);
                }
                self.update(novice_window::Update::Error(text)).await
            }
        }
    }

    pub fn is_window(&self) -> bool {
        matches!(self, Self::Window { .. })
    }
}
