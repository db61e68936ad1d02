//! The novice's window driven by a pretend agent, to look at it and take screenshots.
//!
//! ```text
//! cargo run -p novice-window --example demo [-- SCENE] [--sv]
//! ```
//!
//! Without a scene, a short tour: an invitation is made, an expert asks to see the screen,
//! and once allowed chats and asks for control. A scene opens the window straight in one
//! state: `ask`, `ready`, `invitations`, `see`, `offer`, `control`, `watching`,
//! `controlling`, `paused`, `ended`. In every case the pretend agent answers the window's
//! commands as the real one would (Allow starts a session, Stop control ends control, ...)
//! and prints each command it gets. `--sv` shows it in Swedish; otherwise the language comes
//! from the locale.

use i18n::Language;
use novice_window::model::{
    Command, ControlEndReason, DeskExpert, ExpertLogin, InvitationRow, InvitationState, Model,
    Offer, RequestId, RequestKind, Screen, SessionEndReason, Update,
};
use novice_window::run_window;
use protocol::ids::InvitationId;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc;

const EXPERT: &str = "Bob Lindqvist";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut scene = String::from("tour");
    let mut language = Language::from_env();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--sv" => language = Language::Swedish,
            "--en" => language = Language::English,
            other => scene = other.to_owned(),
        }
    }
    let mut model = Model::new(language).with_name("Alice at home");
    if scene == "invitations" {
        model.show_screen(Screen::Invitations);
    }
    let (updates, updates_in) = mpsc::channel(64);
    let (commands_out, commands) = mpsc::unbounded_channel();
    std::thread::spawn(move || PretendAgent::new(updates, commands).run(&scene));
    run_window(model, updates_in, commands_out)?;
    Ok(())
}

/// Plays the agent's part: sends what a scene starts with, then answers commands.
struct PretendAgent {
    updates: mpsc::Sender<Update>,
    commands: mpsc::UnboundedReceiver<Command>,
    /// Updates due later, as the expert's side would send them.
    later: Vec<(Instant, Update)>,
    invitations: Vec<InvitationRow>,
    next_request: u64,
}

impl PretendAgent {
    fn new(updates: mpsc::Sender<Update>, commands: mpsc::UnboundedReceiver<Command>) -> Self {
        let now = SystemTime::now();
        let row = |state, created_ago: u64, lasts: u64, password_set, failed_attempts| {
            let created_at = now - Duration::from_secs(created_ago);
            InvitationRow {
                id: InvitationId::new_random(),
                state,
                created_at,
                expires_at: created_at + Duration::from_secs(lasts),
                password_set,
                failed_attempts,
            }
        };
        Self {
            updates,
            commands,
            later: Vec::new(),
            invitations: vec![
                row(InvitationState::Open, 600, 3600, true, 0),
                row(InvitationState::Locked, 3 * 3600, 86_400, true, 5),
                row(InvitationState::Expired, 30 * 3600, 3600, false, 0),
            ],
            next_request: 1,
        }
    }

    fn send(&self, update: Update) {
        // The window closed: the demo is over.
        if self.updates.blocking_send(update).is_err() {
            std::process::exit(0);
        }
    }

    fn after(&mut self, delay: Duration, update: Update) {
        self.later.push((Instant::now() + delay, update));
    }

    fn request_id(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request)
    }

    fn ask_to_see(&mut self, offered_by: Option<Offer>) -> Update {
        Update::ExpertWantsToSee {
            request: self.request_id(),
            expert_name: EXPERT.into(),
            offered_by,
            deadline: SystemTime::now() + Duration::from_secs(60),
        }
    }

    fn ask_for_control(&mut self) -> Update {
        Update::ExpertWantsControl {
            request: self.request_id(),
            expert_name: EXPERT.into(),
            deadline: SystemTime::now() + Duration::from_secs(30),
        }
    }

    fn created(&self) -> Update {
        Update::InvitationCreated {
            id: InvitationId::new_random(),
            link: "https://help.example.org/i/q9X2vLmP4sKt7RwZ".into(),
            short_code: "K7PQ-M2XD-4RTA".into(),
            expires_at: SystemTime::now() + Duration::from_secs(3600),
            password_set: true,
        }
    }

    fn start_session(&mut self) {
        self.send(Update::SessionStarted {
            expert: EXPERT.into(),
        });
        self.send(Update::Chat {
            from: EXPERT.into(),
            text: "Hello Alice! I can see your screen now.".into(),
        });
    }

    fn run(mut self, scene: &str) {
        self.send(Update::SupportDeskExperts(vec![
            DeskExpert {
                login: ExpertLogin("eva".into()),
                name: "Eva Berg".into(),
                online: true,
            },
            DeskExpert {
                login: ExpertLogin("ola".into()),
                name: "Ola Nilsson".into(),
                online: false,
            },
        ]));
        match scene {
            "ready" => self.send(self.created()),
            "see" => {
                let ask = self.ask_to_see(None);
                self.send(ask);
            }
            "offer" => {
                let ask = self.ask_to_see(Some(Offer {
                    operator: "Karin Ek".into(),
                    organisation: "Acme".into(),
                }));
                self.send(ask);
            }
            "watching" | "controlling" | "paused" | "control" | "ended" => {
                self.start_session();
                self.send(Update::Chat {
                    from: EXPERT.into(),
                    text: "Could you open the printer settings for me?".into(),
                });
                match scene {
                    "controlling" => self.send(Update::ControlGranted),
                    "paused" => self.send(Update::SharingPaused),
                    "control" => {
                        let ask = self.ask_for_control();
                        self.send(ask);
                    }
                    "ended" => self.send(Update::SessionEnded {
                        reason: SessionEndReason::ExpertEnded,
                    }),
                    _ => {}
                }
            }
            "tour" => {
                self.after(Duration::from_secs(1), self.created());
                let ask = self.ask_to_see(None);
                self.after(Duration::from_secs(6), ask);
            }
            _ => {}
        }
        loop {
            while let Ok(command) = self.commands.try_recv() {
                println!("command: {command:?}");
                self.answer(command);
            }
            if self.commands.is_closed() && self.commands.is_empty() {
                return;
            }
            let now = Instant::now();
            let (due, not_yet) = std::mem::take(&mut self.later)
                .into_iter()
                .partition(|(at, _)| *at <= now);
            self.later = not_yet;
            for (_, update) in due {
                self.send(update);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn answer(&mut self, command: Command) {
        match command {
            Command::CreateInvitation { .. } => {
                self.after(Duration::from_millis(600), self.created());
            }
            Command::ListInvitations => {
                self.send(Update::InvitationsListed(self.invitations.clone()));
            }
            Command::ExpireNow(id) => {
                for row in self.invitations.iter_mut().filter(|row| row.id == id) {
                    row.state = InvitationState::Revoked;
                }
                self.after(
                    Duration::from_millis(400),
                    Update::InvitationsListed(self.invitations.clone()),
                );
            }
            Command::CopyLink => self.send(Update::Sent(novice_window::model::Sent::LinkCopied)),
            Command::SaveInvitationFile => self.send(Update::Sent(
                novice_window::model::Sent::SavedAs("/home/alice/Desktop/invitation.html".into()),
            )),
            Command::EmailInvitation => {
                self.send(Update::Sent(novice_window::model::Sent::MailProgramOpened))
            }
            Command::SendToDeskExpert(_) => {
                self.send(Update::Sent(novice_window::model::Sent::ToDeskExpert {
                    name: "Eva Berg".into(),
                    online: true,
                }))
            }
            Command::Answer {
                kind: RequestKind::See,
                allow: true,
                ..
            } => {
                self.start_session();
                let ask = self.ask_for_control();
                self.after(Duration::from_secs(5), ask);
            }
            Command::Answer {
                kind: RequestKind::See,
                allow: false,
                ..
            } => self.send(Update::SessionEnded {
                reason: SessionEndReason::Declined,
            }),
            Command::Answer {
                kind: RequestKind::Control,
                allow,
                ..
            } => {
                if allow {
                    self.send(Update::ControlGranted);
                    self.after(
                        Duration::from_secs(2),
                        Update::Chat {
                            from: EXPERT.into(),
                            text: "Thanks, I am opening the printer settings now.".into(),
                        },
                    );
                }
            }
            Command::StopControl => self.send(Update::ControlEnded {
                why: ControlEndReason::StopButton,
            }),
            Command::PauseSharing => self.send(Update::SharingPaused),
            Command::ResumeSharing => self.send(Update::SharingResumed),
            Command::EndSession => self.send(Update::SessionEnded {
                reason: SessionEndReason::YouEnded,
            }),
            Command::SendChat(_) => self.after(
                Duration::from_secs(1),
                Update::Chat {
                    from: EXPERT.into(),
                    text: "Got it.".into(),
                },
            ),
            Command::SwitchLanguage(_) => {}
        }
    }
}
