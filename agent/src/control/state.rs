//! Remote control as a pure state machine: who asked, what the novice answered, whether the
//! expert's input may reach the desktop right now, and how the novice takes it back. No IO, no
//! clock reads.
//!
//! States: `Off` → `Asking` (the question is on the novice's screen, until its deadline) →
//! `Granted` → back to `Off` when the novice holds Esc, presses Ctrl+C, types `/stop`, or the
//! expert gives control back.
//!
//! The agent is the authority: an input event is injected only in `Granted`; anything else is
//! dropped and counted. Escape needs care, because the X display reports every Escape, the
//! ones the agent injected for the expert included: each Escape edge this machine injects is
//! remembered for a moment, and the first matching edge the display reports is taken as that
//! echo. Only the novice's own Escape, held for [`ESC_HOLD`], stops control.
//!
//! Every change of control (asked for, granted, refused, stopped) is also reported as
//! [`ControlCommand::Changed`], once, for the server's audit log; a request repeated while one
//! is pending or granted changes nothing and is not reported.

use crate::frontend::notice::Notice;
use protocol::data::{ControlState, DataMessage, InputEvent};
use protocol::signal::ControlEvent;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long the novice holds Esc to take control back.
pub const ESC_HOLD: Duration = Duration::from_secs(1);
/// How long the novice has to answer a control request.
pub const ANSWER_TIME: Duration = Duration::from_secs(30);
/// How long an injected Escape may take to come back from the display as an event.
const ECHO_WINDOW: Duration = Duration::from_secs(2);

/// A side effect for the driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlCommand {
    /// Something for the novice to read, or the question whether to allow control.
    Tell(Notice),
    /// A message for the expert's console.
    ToExpert(DataMessage),
    /// Put this event on the desktop.
    Inject(InputEvent),
    /// Release every key and button the injector holds down.
    ReleaseAll,
    /// Control changed; the server records it.
    Changed(ControlEvent),
}

/// Why control ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The novice held Esc on their own keyboard.
    EscHeld,
    /// The novice pressed Ctrl+C in the agent.
    CtrlC,
    /// The novice typed `/stop` in the agent.
    StopCommand,
    /// The expert gave control back.
    ExpertReleased,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Off,
    Asking { deadline: Instant },
    Granted,
}

/// Control of one live session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Control {
    novice: String,
    expert: String,
    /// `Some(reason)` when this machine cannot inject input at all.
    unavailable: Option<String>,
    state: State,
    /// Input events refused because control was not granted.
    dropped: u64,
    /// Escape edges injected for the expert (down = true) that the display has not reported yet.
    injected_escapes: VecDeque<(bool, Instant)>,
    /// Whether the expert's Escape is down: the browser repeats key-downs of a held key, but
    /// the injector presses it once, so only the first one will come back from the display.
    expert_escape_down: bool,
    /// When the novice's own Escape went down, while it is held.
    novice_escape_since: Option<Instant>,
    out: VecDeque<ControlCommand>,
}

impl Control {
    pub fn new(novice: impl Into<String>, expert: impl Into<String>) -> Self {
        Self {
            novice: novice.into(),
            expert: expert.into(),
            unavailable: None,
            state: State::Off,
            dropped: 0,
            injected_escapes: VecDeque::new(),
            expert_escape_down: false,
            novice_escape_since: None,
            out: VecDeque::new(),
        }
    }

    /// Input injection cannot work here (no XTest, no display); requests are refused with `why`.
    pub fn set_unavailable(&mut self, why: impl Into<String>) {
        self.unavailable = Some(why.into());
    }

    pub fn poll_command(&mut self) -> Option<ControlCommand> {
        self.out.pop_front()
    }

    pub fn is_asking(&self) -> bool {
        matches!(self.state, State::Asking { .. })
    }

    pub fn is_granted(&self) -> bool {
        self.state == State::Granted
    }

    /// Input events dropped so far because control was not granted.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The next moment [`Control::handle_timeout`] has something to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Asking { deadline } => Some(deadline),
            State::Granted => self.novice_escape_since.map(|t| t + ESC_HOLD),
            State::Off => None,
        }
    }

    /// The expert asked for control.
    pub fn request(&mut self, now: Instant) {
        match self.state {
            State::Granted => self.tell_expert(ControlState::Granted),
            State::Asking { .. } => self.tell_expert(ControlState::Pending),
            State::Off => {
                self.changed(ControlEvent::Requested);
                if let Some(why) = self.unavailable.clone() {
                    self.changed(ControlEvent::Refused);
                    self.notify_expert(
                        ControlState::Refused,
                        format!("Remote control is not available on this computer: {why}"),
                    );
                    return;
                }
                self.state = State::Asking {
                    deadline: now + ANSWER_TIME,
                };
                self.tell(Notice::WantsControl {
                    expert: self.expert.clone(),
                    answer_time: ANSWER_TIME,
                    deadline: now + ANSWER_TIME,
                });
                self.tell_expert(ControlState::Pending);
            }
        }
    }

    /// The novice answered the pending question.
    pub fn answer(&mut self, yes: bool) {
        if !self.is_asking() {
            return;
        }
        if yes {
            self.state = State::Granted;
            self.novice_escape_since = None;
            self.injected_escapes.clear();
            self.expert_escape_down = false;
            self.tell(Notice::ControlGranted {
                expert: self.expert.clone(),
            });
            self.tell_expert(ControlState::Granted);
            self.changed(ControlEvent::Granted);
        } else {
            self.state = State::Off;
            self.changed(ControlEvent::Refused);
            self.tell(Notice::YouDeclined {
                expert: self.expert.clone(),
                control: true,
            });
            self.tell_expert(ControlState::Refused);
        }
    }

    /// An input event from the expert.
    pub fn input(&mut self, event: InputEvent, now: Instant) {
        if self.state != State::Granted {
            self.dropped += 1;
            return;
        }
        if let Some(down) = event.is_escape() {
            if down != self.expert_escape_down {
                self.expert_escape_down = down;
                self.injected_escapes.push_back((down, now));
            }
        }
        self.out.push_back(ControlCommand::Inject(event));
    }

    /// The display reported Escape going down or up, from whatever source.
    pub fn local_escape(&mut self, down: bool, at: Instant) {
        self.injected_escapes
            .retain(|(_, t)| at.saturating_duration_since(*t) <= ECHO_WINDOW);
        if let Some(i) = self.injected_escapes.iter().position(|(d, _)| *d == down) {
            // The echo of an Escape the expert sent: never a reason to stop.
            self.injected_escapes.remove(i);
            return;
        }
        if self.state != State::Granted {
            return;
        }
        if down {
            self.novice_escape_since.get_or_insert(at);
        } else {
            self.novice_escape_since = None;
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            State::Asking { deadline } if now >= deadline => {
                self.state = State::Off;
                self.changed(ControlEvent::Refused);
                self.tell(Notice::NoAnswerInTime { control: true });
                self.notify_expert(
                    ControlState::Refused,
                    format!(
                        "{} did not answer the request for control. You can still watch and chat.",
                        self.novice
                    ),
                );
            }
            State::Granted
                if self
                    .novice_escape_since
                    .is_some_and(|since| now >= since + ESC_HOLD) =>
            {
                self.stop(StopReason::EscHeld);
            }
            _ => {}
        }
    }

    /// Ends control for `reason`. Returns whether control was granted (or being asked for).
    pub fn stop(&mut self, reason: StopReason) -> bool {
        match self.state {
            State::Off => false,
            State::Asking { .. } => {
                self.state = State::Off;
                self.changed(ControlEvent::Refused);
                self.tell_expert(ControlState::Refused);
                true
            }
            State::Granted => {
                self.state = State::Off;
                self.novice_escape_since = None;
                self.expert_escape_down = false;
                self.out.push_back(ControlCommand::ReleaseAll);
                self.changed(ControlEvent::Stopped);
                self.tell(Notice::ControlStopped(reason));
                let message = match reason {
                    StopReason::ExpertReleased => {
                        "You gave control back. You can still watch and chat.".to_string()
                    }
                    _ => format!(
                        "{} took back control. You can still watch and chat, and ask again.",
                        self.novice
                    ),
                };
                self.notify_expert(ControlState::Stopped, message);
                true
            }
        }
    }

    /// The session is ending: let go of everything without telling anyone (the end of the
    /// session is the end of control, for the server too).
    pub fn end(&mut self) {
        if self.state == State::Granted {
            self.out.push_back(ControlCommand::ReleaseAll);
        }
        self.state = State::Off;
        self.novice_escape_since = None;
    }

    fn tell(&mut self, notice: Notice) {
        self.out.push_back(ControlCommand::Tell(notice));
    }

    fn changed(&mut self, event: ControlEvent) {
        self.out.push_back(ControlCommand::Changed(event));
    }

    fn tell_expert(&mut self, state: ControlState) {
        let message = match state {
            ControlState::Pending => format!("Waiting for {} to allow control…", self.novice),
            ControlState::Granted => format!(
                "You control {}'s computer. They can take it back at any time.",
                self.novice
            ),
            ControlState::Refused => format!(
                "{} declined remote control. You can still watch and chat.",
                self.novice
            ),
            ControlState::Stopped => "Remote control stopped. You can still watch and chat.".into(),
        };
        self.notify_expert(state, message);
    }

    fn notify_expert(&mut self, state: ControlState, message: String) {
        self.out
            .push_back(ControlCommand::ToExpert(DataMessage::Control {
                state,
                message,
            }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::data::MouseButton;

    fn drain(c: &mut Control) -> Vec<ControlCommand> {
        std::iter::from_fn(|| c.poll_command()).collect()
    }

    fn expert_states(cmds: &[ControlCommand]) -> Vec<ControlState> {
        cmds.iter()
            .filter_map(|c| match c {
                ControlCommand::ToExpert(DataMessage::Control { state, .. }) => Some(*state),
                _ => None,
            })
            .collect()
    }

    fn injected(cmds: &[ControlCommand]) -> usize {
        cmds.iter()
            .filter(|c| matches!(c, ControlCommand::Inject(_)))
            .count()
    }

    fn click() -> InputEvent {
        InputEvent::Button {
            button: MouseButton::Left,
            down: true,
            x: 1,
            y: 2,
        }
    }

    fn esc(down: bool) -> InputEvent {
        InputEvent::Key {
            key: "Escape".into(),
            down,
        }
    }

    fn granted() -> (Control, Instant) {
        let now = Instant::now();
        let mut c = Control::new("Nora", "Eve");
        c.request(now);
        c.answer(true);
        drain(&mut c);
        (c, now)
    }

    #[test]
    fn input_while_off_is_dropped_and_counted() {
        let mut c = Control::new("Nora", "Eve");
        c.input(click(), Instant::now());
        c.input(esc(true), Instant::now());
        assert_eq!(injected(&drain(&mut c)), 0);
        assert_eq!(c.dropped(), 2);
        assert!(!c.is_granted());
    }

    #[test]
    fn a_request_asks_the_novice_with_the_ways_to_stop_and_tells_the_expert() {
        let now = Instant::now();
        let mut c = Control::new("Nora", "Eve");
        c.request(now);
        let cmds = drain(&mut c);
        let asked = cmds.iter().find_map(|c| match c {
            ControlCommand::Tell(n) if n.is_question() => Some(n.to_string()),
            _ => None,
        });
        let asked = asked.expect("a question");
        assert!(asked.starts_with("Eve wants to control your computer. Allow? [y/N]"));
        assert!(asked.contains("hold Esc") && asked.contains("Ctrl+C") && asked.contains("/stop"));
        assert_eq!(expert_states(&cmds), vec![ControlState::Pending]);
        assert!(c.is_asking());
        assert_eq!(c.poll_timeout(), Some(now + ANSWER_TIME));
    }

    #[test]
    fn input_while_asking_is_dropped() {
        let mut c = Control::new("Nora", "Eve");
        c.request(Instant::now());
        drain(&mut c);
        c.input(click(), Instant::now());
        assert_eq!(injected(&drain(&mut c)), 0);
        assert_eq!(c.dropped(), 1);
    }

    #[test]
    fn yes_grants_and_input_is_injected_as_sent() {
        let (mut c, now) = granted();
        assert!(c.is_granted());
        c.input(click(), now);
        assert_eq!(drain(&mut c), vec![ControlCommand::Inject(click())]);
        assert_eq!(c.dropped(), 0);
    }

    #[test]
    fn no_refuses_and_input_stays_dropped() {
        let mut c = Control::new("Nora", "Eve");
        c.request(Instant::now());
        drain(&mut c);
        c.answer(false);
        let cmds = drain(&mut c);
        assert_eq!(expert_states(&cmds), vec![ControlState::Refused]);
        assert!(cmds
            .iter()
            .any(|c| matches!(c, ControlCommand::Tell(n) if n.to_string().contains("declined"))));
        c.input(click(), Instant::now());
        assert_eq!(injected(&drain(&mut c)), 0);
        assert!(!c.is_granted() && !c.is_asking());
    }

    #[test]
    fn an_answer_without_a_question_changes_nothing() {
        let mut c = Control::new("Nora", "Eve");
        c.answer(true);
        assert!(drain(&mut c).is_empty());
        assert!(!c.is_granted());

        let (mut c, _) = granted();
        c.answer(false);
        assert!(drain(&mut c).is_empty());
        assert!(c.is_granted());
    }

    #[test]
    fn silence_refuses_at_the_deadline_and_not_before() {
        let now = Instant::now();
        let mut c = Control::new("Nora", "Eve");
        c.request(now);
        drain(&mut c);
        c.handle_timeout(now + ANSWER_TIME - Duration::from_millis(1));
        assert!(c.is_asking());
        c.handle_timeout(now + ANSWER_TIME);
        assert_eq!(expert_states(&drain(&mut c)), vec![ControlState::Refused]);
        assert!(!c.is_asking());
        assert_eq!(c.poll_timeout(), None);
    }

    #[test]
    fn a_repeated_request_repeats_the_current_state() {
        let now = Instant::now();
        let mut c = Control::new("Nora", "Eve");
        c.request(now);
        drain(&mut c);
        c.request(now);
        let cmds = drain(&mut c);
        assert_eq!(expert_states(&cmds), vec![ControlState::Pending]);
        assert!(
            !cmds
                .iter()
                .any(|c| matches!(c, ControlCommand::Tell(n) if n.is_question())),
            "asked once"
        );

        let (mut c, now) = granted();
        c.request(now);
        assert_eq!(expert_states(&drain(&mut c)), vec![ControlState::Granted]);
        assert!(c.is_granted());
    }

    #[test]
    fn unavailable_control_is_refused_without_asking() {
        let mut c = Control::new("Nora", "Eve");
        c.set_unavailable("no XTest");
        c.request(Instant::now());
        let cmds = drain(&mut c);
        assert_eq!(expert_states(&cmds), vec![ControlState::Refused]);
        assert!(!cmds
            .iter()
            .any(|c| matches!(c, ControlCommand::Tell(n) if n.is_question())));
        assert!(!c.is_asking());
    }

    #[test]
    fn holding_the_novices_escape_stops_control() {
        let (mut c, now) = granted();
        c.local_escape(true, now);
        assert_eq!(c.poll_timeout(), Some(now + ESC_HOLD));
        c.handle_timeout(now + ESC_HOLD - Duration::from_millis(1));
        assert!(c.is_granted());
        c.handle_timeout(now + ESC_HOLD);
        let cmds = drain(&mut c);
        assert!(!c.is_granted());
        assert_eq!(cmds.first(), Some(&ControlCommand::ReleaseAll));
        assert_eq!(expert_states(&cmds), vec![ControlState::Stopped]);
        c.input(click(), now + ESC_HOLD);
        assert_eq!(injected(&drain(&mut c)), 0);
    }

    #[test]
    fn a_short_escape_from_the_novice_does_not_stop() {
        let (mut c, now) = granted();
        c.local_escape(true, now);
        c.local_escape(false, now + Duration::from_millis(200));
        assert_eq!(c.poll_timeout(), None);
        c.handle_timeout(now + Duration::from_secs(5));
        assert!(c.is_granted());
    }

    #[test]
    fn the_experts_escape_never_stops_control_however_long_it_is_held() {
        let (mut c, now) = granted();
        c.input(esc(true), now);
        assert_eq!(drain(&mut c), vec![ControlCommand::Inject(esc(true))]);
        // The display reports the injected press a moment later.
        c.local_escape(true, now + Duration::from_millis(5));
        assert_eq!(c.poll_timeout(), None);
        c.handle_timeout(now + Duration::from_secs(10));
        assert!(c.is_granted());
        c.input(esc(false), now + Duration::from_secs(10));
        c.local_escape(false, now + Duration::from_secs(10));
        assert!(c.is_granted());
        assert!(expert_states(&drain(&mut c)).is_empty());
    }

    #[test]
    fn repeated_escape_downs_from_a_held_key_expect_one_echo() {
        let (mut c, now) = granted();
        for _ in 0..5 {
            c.input(esc(true), now); // the browser repeats the key-down while held
        }
        c.local_escape(true, now); // the one press the display saw
        c.input(esc(false), now);
        c.local_escape(false, now);
        // The novice's own Escape right after is not mistaken for a leftover echo.
        let soon = now + Duration::from_millis(300);
        c.local_escape(true, soon);
        c.handle_timeout(soon + ESC_HOLD);
        assert!(!c.is_granted());
    }

    #[test]
    fn the_novices_escape_counts_even_right_after_the_experts() {
        let (mut c, now) = granted();
        c.input(esc(true), now);
        c.input(esc(false), now);
        c.local_escape(true, now); // echo
        c.local_escape(false, now); // echo
        c.local_escape(true, now + Duration::from_millis(100)); // the novice
        c.handle_timeout(now + Duration::from_millis(100) + ESC_HOLD);
        assert!(!c.is_granted());
    }

    #[test]
    fn an_old_injected_escape_is_not_mistaken_for_an_echo() {
        let (mut c, now) = granted();
        c.input(esc(true), now);
        // Never reported (say the injection failed); much later the novice presses Esc.
        let later = now + ECHO_WINDOW + Duration::from_secs(1);
        c.local_escape(true, later);
        c.handle_timeout(later + ESC_HOLD);
        assert!(!c.is_granted());
    }

    #[test]
    fn escape_outside_control_does_nothing() {
        let mut c = Control::new("Nora", "Eve");
        let now = Instant::now();
        c.local_escape(true, now);
        c.handle_timeout(now + ESC_HOLD * 2);
        assert!(drain(&mut c).is_empty());
        assert_eq!(c.poll_timeout(), None);

        // Nor does an Escape already held when control is granted count from before.
        c.request(now);
        c.local_escape(true, now);
        c.answer(true);
        c.handle_timeout(now + ESC_HOLD * 2);
        assert!(c.is_granted());
    }

    #[test]
    fn every_way_to_stop_releases_keys_and_tells_both_sides() {
        for reason in [
            StopReason::CtrlC,
            StopReason::StopCommand,
            StopReason::EscHeld,
            StopReason::ExpertReleased,
        ] {
            let (mut c, now) = granted();
            assert!(c.stop(reason));
            let cmds = drain(&mut c);
            assert_eq!(
                cmds.first(),
                Some(&ControlCommand::ReleaseAll),
                "{reason:?}"
            );
            assert_eq!(expert_states(&cmds), vec![ControlState::Stopped]);
            assert!(cmds
                .iter()
                .any(|c| matches!(c, ControlCommand::Tell(n) if !n.is_question())));
            c.input(click(), now);
            assert_eq!(injected(&drain(&mut c)), 0, "{reason:?}");
            // The expert may ask again.
            c.request(now);
            assert!(c.is_asking());
        }
    }

    #[test]
    fn stopping_while_asking_refuses_and_while_off_does_nothing() {
        let mut c = Control::new("Nora", "Eve");
        assert!(!c.stop(StopReason::CtrlC));
        assert!(drain(&mut c).is_empty());
        c.request(Instant::now());
        drain(&mut c);
        assert!(c.stop(StopReason::StopCommand));
        assert_eq!(expert_states(&drain(&mut c)), vec![ControlState::Refused]);
    }

    #[test]
    fn the_session_ending_releases_held_keys_silently() {
        let (mut c, now) = granted();
        c.end();
        assert_eq!(drain(&mut c), vec![ControlCommand::ReleaseAll]);
        c.input(click(), now);
        assert_eq!(injected(&drain(&mut c)), 0);

        let mut off = Control::new("Nora", "Eve");
        off.end();
        assert!(drain(&mut off).is_empty());
    }

    fn changes(cmds: &[ControlCommand]) -> Vec<ControlEvent> {
        cmds.iter()
            .filter_map(|c| match c {
                ControlCommand::Changed(event) => Some(*event),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_change_of_control_is_reported_once() {
        let now = Instant::now();
        let mut c = Control::new("Nora", "Eve");
        c.request(now);
        assert_eq!(changes(&drain(&mut c)), vec![ControlEvent::Requested]);
        c.request(now);
        assert!(changes(&drain(&mut c)).is_empty(), "a repeat is no change");
        c.answer(true);
        assert_eq!(changes(&drain(&mut c)), vec![ControlEvent::Granted]);
        c.request(now);
        assert!(changes(&drain(&mut c)).is_empty());
        c.stop(StopReason::EscHeld);
        assert_eq!(changes(&drain(&mut c)), vec![ControlEvent::Stopped]);

        c.request(now);
        c.handle_timeout(now + ANSWER_TIME);
        assert_eq!(
            changes(&drain(&mut c)),
            vec![ControlEvent::Requested, ControlEvent::Refused]
        );

        let mut c = Control::new("Nora", "Eve");
        c.set_unavailable("no XTest");
        c.request(now);
        assert_eq!(
            changes(&drain(&mut c)),
            vec![ControlEvent::Requested, ControlEvent::Refused]
        );
    }
}
