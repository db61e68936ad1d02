//! `agent` on a desktop: the novice's window ([`novice_window`]) on the main thread, the agent
//! on a runtime of its own beside it, talking through two channels.
//!
//! The agent registers with the server (or takes this machine's enrolment, and then also
//! serves its support desk), and serves sessions with the window as front-end
//! ([`crate::invite::serve_sessions`]): invitations are made from the window, requests asked
//! in it, chat and control handled in it ([`front`]). Closing the window ends a running session
//! and the agent; when the agent cannot go on (no server), the window says why and stays until
//! the novice closes it.

pub mod front;

pub use front::{WindowAction, WindowFront};

use crate::frontend::{Frontend, Input};
use crate::invite::{serve_sessions, Presence, ShareOptions};
use crate::server_api::ServerApi;
use novice_window::model::{DeskExpert, Screen};
use novice_window::{run_window, Model, Update};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long the agent may take to hang up after the window closed.
const GOODBYE_TIME: Duration = Duration::from_secs(3);

/// What the window mode needs from the command line.
#[derive(Debug)]
pub struct WindowArgs {
    /// The server given, if any; else the enrolment's, else `default_server`.
    pub server: Option<String>,
    pub default_server: String,
    pub name: String,
    pub state_dir: PathBuf,
    pub open_with: String,
    /// An invitation file the novice opened: the window starts on the invitations.
    pub file: Option<PathBuf>,
    /// Create an invitation at once, as a click on Create with the form as it starts (valid
    /// for an hour, no password).
    pub invite: bool,
    pub share: ShareOptions,
}

/// Opens the window and runs the agent beside it until the window closes.
pub fn run(args: WindowArgs) -> anyhow::Result<()> {
    let language = i18n::Language::from_env();
    let mut model = Model::new(language).with_name(&args.name);
    if args.file.is_some() {
        model.show_screen(Screen::Invitations);
    } else if args.invite {
        model.create_invitation();
    }
    let (updates, updates_in) = mpsc::channel::<Update>(64);
    let (commands_out, commands) = mpsc::unbounded_channel();
    let runtime = tokio::runtime::Runtime::new()?;
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("agent".into())
        .spawn(move || {
            // Started from a terminal, the person there can answer there too.
            let terminal = std::io::IsTerminal::is_terminal(&std::io::stdin());
            let mut front = Frontend::window(updates, commands, args.open_with.clone(), terminal);
            let result = runtime.block_on(serve(&args, &mut front));
            if let Err(err) = &result {
                tracing::warn!(error = %format!("{err:#}"), "the agent stopped");
                // Said in the window, which stays until the novice closes it.
                runtime.block_on(async {
                    front.error(format!("{err:#}")).await;
                    while !matches!(front.next().await, Input::Gone) {}
                });
            }
            drop(front);
            let _ = done.send(result);
        })?;
    run_window(model, updates_in, commands_out)?;
    // The window is closed: the agent hangs up a running session and stops.
    match finished.recv_timeout(GOODBYE_TIME) {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!("the agent did not stop in time after the window closed");
            Ok(())
        }
    }
}

async fn serve(args: &WindowArgs, front: &mut Frontend) -> anyhow::Result<()> {
    let (api, presence) = match ServerApi::enrolled(args.server.as_deref(), &args.state_dir)? {
        Some(api) => (api, Presence::Desk),
        None => {
            let server = args.server.as_deref().unwrap_or(&args.default_server);
            let api = ServerApi::connect(server, &args.name, &args.state_dir)
                .await
                .map_err(|err| {
                    anyhow::anyhow!("cannot register with the server {server}: {err}")
                })?;
            (api, Presence::Window)
        }
    };
    if presence == Presence::Desk {
        match api.experts().await {
            Ok(experts) => {
                let experts = experts.iter().map(DeskExpert::from).collect();
                front.update(Update::SupportDeskExperts(experts)).await;
            }
            Err(err) => tracing::warn!(error = %err, "cannot list the support desk's experts"),
        }
    }
    serve_sessions(&api, &args.share, presence, Vec::new(), front).await
}
