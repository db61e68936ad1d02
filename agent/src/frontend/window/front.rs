//! The window front-end: the session's [`Notice`]s become the window's [`Update`]s, and the
//! window's [`Command`]s become the session's typed calls or the invitation work the driver
//! does ([`WindowAction`]).
//!
//! Every question the window shows carries a [`RequestId`] drawn here; an answer counts only for
//! the request still asked, so a click meant for one request never answers another (a late
//! Allow for a request that lapsed, or a control request's Allow landing on the next one).

use crate::control::StopReason;
use crate::frontend::notice::{DeskOffer, Notice};
use crate::verify::GateFailure;
use novice_window::model::{ControlEndReason, Offer, RequestId, RequestKind, SessionEndReason};
use novice_window::{Command, Update};
use protocol::ids::SessionId;
use std::time::{Instant, SystemTime};

/// What a window command asks of the driver: an answer, resolved to what it answers, or any
/// other command as the window gave it.
#[derive(Debug)]
pub enum WindowAction {
    /// Answer the request to see the screen of `session`.
    AnswerToSee { session: SessionId, allow: bool },
    /// Answer the request for control.
    AnswerToControl { allow: bool },
    /// Every other command of the window.
    Do(Command),
}

/// The window's side of the conversation: which request is on screen under which id.
#[derive(Debug, Default)]
pub struct WindowFront {
    last_id: u64,
    /// The request to see the screen on the window, and the session it is for.
    see: Option<(RequestId, SessionId)>,
    /// The request for control on the window.
    control: Option<RequestId>,
}

impl WindowFront {
    pub fn new() -> Self {
        Self::default()
    }

    fn next_id(&mut self) -> RequestId {
        self.last_id += 1;
        RequestId(self.last_id)
    }

    /// What the window shows for `notice`, if anything; `now` and `wall_now` read the same
    /// moment on the two clocks, to turn deadlines into wall-clock times.
    pub fn update_for(
        &mut self,
        notice: &Notice,
        now: Instant,
        wall_now: SystemTime,
    ) -> Vec<Update> {
        let wall = |deadline: Instant| wall_now + deadline.saturating_duration_since(now);
        match notice {
            Notice::WantsToSee {
                session,
                expert,
                offered_by,
                deadline,
                ..
            } => {
                let request = self.next_id();
                self.see = Some((request, *session));
                vec![Update::ExpertWantsToSee {
                    request,
                    expert_name: expert.clone(),
                    offered_by: offered_by
                        .as_ref()
                        .map(|DeskOffer { desk, operator }| Offer {
                            operator: operator.clone(),
                            organisation: desk.clone(),
                        }),
                    deadline: wall(*deadline),
                }]
            }
            Notice::WantsControl {
                expert, deadline, ..
            } => {
                let request = self.next_id();
                self.control = Some(request);
                vec![Update::ExpertWantsControl {
                    request,
                    expert_name: expert.clone(),
                    deadline: wall(*deadline),
                }]
            }
            Notice::NoAnswerInTime { control } => {
                let withdrawn = if *control {
                    self.control.take()
                } else {
                    self.see.take().map(|(id, _)| id)
                };
                withdrawn
                    .map(Update::RequestWithdrawn)
                    .into_iter()
                    .collect()
            }
            // Answered at the terminal (an answer in the window took its request already): the
            // window's question goes.
            Notice::YouDeclined { control: true, .. } => self
                .control
                .take()
                .map(Update::RequestWithdrawn)
                .into_iter()
                .collect(),
            Notice::YouDeclined { control: false, .. } | Notice::Connecting { .. } => self
                .see
                .take()
                .map(|(id, _)| Update::RequestWithdrawn(id))
                .into_iter()
                .collect(),
            Notice::Watching { expert } => {
                self.see = None;
                vec![Update::SessionStarted {
                    expert: expert.clone(),
                }]
            }
            Notice::ControlGranted { .. } => {
                let mut updates: Vec<Update> = self
                    .control
                    .take()
                    .map(Update::RequestWithdrawn)
                    .into_iter()
                    .collect();
                updates.push(Update::ControlGranted);
                updates
            }
            Notice::ControlStopped(reason) => vec![Update::ControlEnded {
                why: match reason {
                    StopReason::EscHeld => ControlEndReason::EscHeld,
                    StopReason::CtrlC => ControlEndReason::CtrlC,
                    StopReason::StopCommand => ControlEndReason::StopButton,
                    StopReason::ExpertReleased => ControlEndReason::ExpertGaveBack,
                },
            }],
            Notice::Chat { from, text } => vec![Update::Chat {
                from: from.clone(),
                text: text.clone(),
            }],
            Notice::Paused(true) => vec![Update::SharingPaused],
            Notice::Paused(false) => vec![Update::SharingResumed],
            Notice::BrowserNotProven { .. } => self.ended(SessionEndReason::BrowserNotProven),
            Notice::CheckFailed {
                failure,
                tries_left,
                ..
            } => self.ended(match failure {
                GateFailure::Mismatch => SessionEndReason::WrongPassword {
                    tries_left: *tries_left,
                },
                _ => SessionEndReason::BrowserNotProven,
            }),
            Notice::VideoUnsupported => self.ended(SessionEndReason::VideoUnsupported),
            Notice::ConnectionLost { .. } => self.ended(SessionEndReason::ConnectionLost),
            Notice::YouEnded => self.ended(SessionEndReason::YouEnded),
            Notice::SessionEnded(reason) => self.ended((*reason).into()),
            // The window offers no way to cause these, or shows them by itself: a declined
            // direct invitation in the invitations' list.
            Notice::NobodyControls
            | Notice::ChatNotSent
            | Notice::NoSession
            | Notice::AlsoAsked { .. }
            | Notice::RefusedUnasked { .. }
            | Notice::InvitationDeclined { .. } => Vec::new(),
        }
    }

    fn ended(&mut self, reason: SessionEndReason) -> Vec<Update> {
        let mut updates: Vec<Update> = [self.see.take().map(|(id, _)| id), self.control.take()]
            .into_iter()
            .flatten()
            .map(Update::RequestWithdrawn)
            .collect();
        updates.push(Update::SessionEnded { reason });
        updates
    }

    /// What the driver does for the window's `command`; `None` when it asks for nothing (an
    /// answer to a request no longer asked, a language switch the window made by itself).
    pub fn action_for(&mut self, command: Command) -> Option<WindowAction> {
        Some(match command {
            Command::Answer {
                request,
                kind: RequestKind::See,
                allow,
            } => {
                let (asked, session) = self.see?;
                if asked != request {
                    return None;
                }
                self.see = None;
                WindowAction::AnswerToSee { session, allow }
            }
            Command::Answer {
                request,
                kind: RequestKind::Control,
                allow,
            } => {
                if self.control != Some(request) {
                    return None;
                }
                self.control = None;
                WindowAction::AnswerToControl { allow }
            }
            Command::SwitchLanguage(_) => return None,
            other => WindowAction::Do(other),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn session() -> SessionId {
        "5b1d7c1e-2f4a-4d8e-9b3c-7a6f5e4d3c2b"
            .parse()
            .expect("a UUID")
    }

    fn wants_to_see(now: Instant) -> Notice {
        Notice::WantsToSee {
            session: session(),
            expert: "Bob".into(),
            offered_by: None,
            answer_time: Duration::from_secs(60),
            deadline: now + Duration::from_secs(60),
        }
    }

    fn asked_id(updates: &[Update]) -> RequestId {
        match updates {
            [Update::ExpertWantsToSee { request, .. }]
            | [Update::ExpertWantsControl { request, .. }] => *request,
            other => panic!("expected one question, got {other:?}"),
        }
    }

    #[test]
    fn a_request_shows_with_its_deadline_on_the_wall_clock() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let mut w = WindowFront::new();
        let updates = w.update_for(&wants_to_see(now), now, wall);
        let [Update::ExpertWantsToSee {
            expert_name,
            deadline,
            offered_by: None,
            ..
        }] = &updates[..]
        else {
            panic!("{updates:?}");
        };
        assert_eq!(expert_name, "Bob");
        assert_eq!(*deadline, wall + Duration::from_secs(60));
    }

    #[test]
    fn allow_answers_the_request_on_screen_once() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let mut w = WindowFront::new();
        let id = asked_id(&w.update_for(&wants_to_see(now), now, wall));
        let allow = |request| Command::Answer {
            request,
            kind: RequestKind::See,
            allow: true,
        };
        assert!(
            w.action_for(allow(RequestId(id.0 + 1))).is_none(),
            "another id"
        );
        assert!(matches!(
            w.action_for(allow(id)),
            Some(WindowAction::AnswerToSee { session: s, allow: true }) if s == session()
        ));
        assert!(w.action_for(allow(id)).is_none(), "answered already");
    }

    #[test]
    fn a_lapsed_request_is_withdrawn_and_its_late_answer_ignored() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let mut w = WindowFront::new();
        let id = asked_id(&w.update_for(&wants_to_see(now), now, wall));
        assert_eq!(
            w.update_for(&Notice::NoAnswerInTime { control: false }, now, wall),
            vec![Update::RequestWithdrawn(id)]
        );
        assert!(w
            .action_for(Command::Answer {
                request: id,
                kind: RequestKind::See,
                allow: true
            })
            .is_none());
    }

    #[test]
    fn a_control_answer_cannot_answer_a_later_control_request() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let mut w = WindowFront::new();
        let control = |w: &mut WindowFront| {
            asked_id(&w.update_for(
                &Notice::WantsControl {
                    expert: "Bob".into(),
                    answer_time: Duration::from_secs(30),
                    deadline: now + Duration::from_secs(30),
                },
                now,
                wall,
            ))
        };
        let first = control(&mut w);
        w.update_for(&Notice::NoAnswerInTime { control: true }, now, wall);
        let second = control(&mut w);
        assert_ne!(first, second);
        let answer = |request| Command::Answer {
            request,
            kind: RequestKind::Control,
            allow: true,
        };
        assert!(w.action_for(answer(first)).is_none());
        assert!(matches!(
            w.action_for(answer(second)),
            Some(WindowAction::AnswerToControl { allow: true })
        ));
    }

    #[test]
    fn the_end_of_a_session_withdraws_what_is_asked() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let mut w = WindowFront::new();
        let id = asked_id(&w.update_for(&wants_to_see(now), now, wall));
        assert_eq!(
            w.update_for(
                &Notice::SessionEnded(protocol::signal::EndReason::ExpertHungUp),
                now,
                wall
            ),
            vec![
                Update::RequestWithdrawn(id),
                Update::SessionEnded {
                    reason: SessionEndReason::ExpertEnded
                }
            ]
        );
    }

    #[test]
    fn an_answer_typed_at_the_terminal_closes_the_windows_question() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let mut w = WindowFront::new();
        let id = asked_id(&w.update_for(&wants_to_see(now), now, wall));
        assert_eq!(
            w.update_for(
                &Notice::Connecting {
                    expert: "Bob".into()
                },
                now,
                wall
            ),
            vec![Update::RequestWithdrawn(id)]
        );
        // A later click on the closed question answers nothing.
        assert!(w
            .action_for(Command::Answer {
                request: id,
                kind: RequestKind::See,
                allow: false
            })
            .is_none());
    }

    #[test]
    fn a_wrong_password_ends_with_the_tries_left() {
        let (now, wall) = (Instant::now(), SystemTime::now());
        let mut w = WindowFront::new();
        assert_eq!(
            w.update_for(
                &Notice::CheckFailed {
                    expert: "Bob".into(),
                    failure: GateFailure::Mismatch,
                    tries_left: Some(3),
                },
                now,
                wall
            ),
            vec![Update::SessionEnded {
                reason: SessionEndReason::WrongPassword {
                    tries_left: Some(3)
                }
            }]
        );
    }
}
