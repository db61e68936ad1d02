//! Property tests of remote control against whatever the expert's console sends: arbitrary
//! sequences of requests, input events (huge coordinates and wheel turns, any key name) and
//! waits, mixed with the novice's answers, Escape key and stops.
//!
//! The agent is the authority: an event reaches the desktop exactly when the novice has granted
//! control at that moment, everything else is dropped and counted, keys are released whenever
//! control ends, and nothing the expert sends (their own Escape included, however it is held
//! or repeated) takes control away from the novice or gives it to the expert.

use agent::control::{Control, ControlCommand, StopReason};
use proptest::prelude::*;
use protocol::data::{InputEvent, MouseButton};
use protocol::signal::ControlEvent;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
enum Step {
    /// The expert asks for control.
    Request,
    /// The novice answers the question, if one is asked.
    Answer(bool),
    /// The expert sends an input event.
    Input(InputEvent),
    /// Time passes, in milliseconds.
    Wait(u64),
    /// The novice's own Escape key, as the display reports it.
    NoviceEscape(bool),
    /// Control is stopped by the novice or given back by the expert.
    Stop(StopReason),
}

fn coordinate() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..2000, Just(u32::MAX), any::<u32>()]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("Escape".to_owned()),
        2 => prop::sample::select(vec!["a", "Shift", "Enter", "Control", "F5", "escape", ""])
            .prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

fn input_event() -> impl Strategy<Value = InputEvent> {
    let button = prop::sample::select(vec![
        MouseButton::Left,
        MouseButton::Middle,
        MouseButton::Right,
    ]);
    prop_oneof![
        (coordinate(), coordinate()).prop_map(|(x, y)| InputEvent::Move { x, y }),
        (button, any::<bool>(), coordinate(), coordinate())
            .prop_map(|(button, down, x, y)| InputEvent::Button { button, down, x, y }),
        (any::<i32>(), any::<i32>()).prop_map(|(dx, dy)| InputEvent::Wheel { dx, dy }),
        (key(), any::<bool>()).prop_map(|(key, down)| InputEvent::Key { key, down }),
    ]
}

fn wait() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..100, 900u64..1200, 29_000u64..31_000, Just(86_400_000)]
}

fn step() -> impl Strategy<Value = Step> {
    let stop = prop::sample::select(vec![
        StopReason::EscHeld,
        StopReason::CtrlC,
        StopReason::StopCommand,
        StopReason::ExpertReleased,
    ]);
    prop_oneof![
        2 => Just(Step::Request),
        2 => any::<bool>().prop_map(Step::Answer),
        6 => input_event().prop_map(Step::Input),
        2 => wait().prop_map(Step::Wait),
        1 => any::<bool>().prop_map(Step::NoviceEscape),
        1 => stop.prop_map(Step::Stop),
    ]
}

/// What the expert alone can do, with the novice's yes to every question.
fn expert_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => Just(Step::Request),
        8 => input_event().prop_map(Step::Input),
        3 => wait().prop_map(Step::Wait),
        1 => Just(Step::Stop(StopReason::ExpertReleased)),
    ]
}

fn drain(control: &mut Control) -> Vec<ControlCommand> {
    std::iter::from_fn(|| control.poll_command()).collect()
}

/// The quickest a person answers the question for control; the display reports injected
/// keys within milliseconds.
const ANSWER_DELAY: Duration = Duration::from_secs(2);

/// Reports to `control` the injected Escape edges the display has echoed by `now`.
fn deliver_echoes(control: &mut Control, echoes: &mut Vec<(bool, Instant)>, now: Instant) {
    let (due, later): (Vec<_>, Vec<_>) = echoes.iter().partition(|(_, at)| *at <= now);
    *echoes = later;
    for (down, at) in due {
        control.local_escape(down, at);
    }
}

/// Runs what is due at `now`, as the driver does before each input.
fn run_timers(control: &mut Control, now: Instant) {
    if control.poll_timeout().is_some_and(|at| at <= now) {
        control.handle_timeout(now);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn input_reaches_the_desktop_only_while_the_novice_allows_it(
        steps in prop::collection::vec(step(), 0..60),
    ) {
        let mut now = Instant::now();
        let mut control = Control::new("Nora", "Eve");
        let mut dropped = 0;
        for step in steps {
            run_timers(&mut control, now);
            drain(&mut control);
            let granted = control.is_granted();
            match step {
                Step::Request => control.request(now),
                Step::Answer(yes) => control.answer(yes),
                Step::Input(ref event) => {
                    control.input(event.clone(), now);
                    let injected: Vec<_> = drain(&mut control)
                        .into_iter()
                        .filter_map(|c| match c {
                            ControlCommand::Inject(e) => Some(e),
                            _ => None,
                        })
                        .collect();
                    if granted {
                        prop_assert_eq!(injected, vec![event.clone()]);
                    } else {
                        prop_assert!(injected.is_empty());
                        dropped += 1;
                    }
                }
                Step::Wait(ms) => now += Duration::from_millis(ms),
                Step::NoviceEscape(down) => control.local_escape(down, now),
                Step::Stop(reason) => {
                    let stopped = control.stop(reason);
                    let commands = drain(&mut control);
                    prop_assert!(!control.is_granted() && !control.is_asking());
                    prop_assert_eq!(stopped, granted || commands.iter().any(|c| {
                        *c == ControlCommand::Changed(ControlEvent::Refused)
                    }));
                    prop_assert_eq!(
                        granted,
                        commands.contains(&ControlCommand::ReleaseAll),
                        "keys are released exactly when granted control ends: {:?}",
                        commands
                    );
                }
            }
            // Control is only ever granted by the novice's yes.
            if control.is_granted() && !granted {
                prop_assert!(matches!(step, Step::Answer(true)), "{:?} granted control", step);
            }
            prop_assert_eq!(control.dropped(), dropped);
        }
        let granted = control.is_granted();
        control.end();
        prop_assert_eq!(drain(&mut control).contains(&ControlCommand::ReleaseAll), granted);
        prop_assert!(!control.is_granted());
    }

    #[test]
    fn nothing_the_expert_sends_takes_control_away_from_them_or_the_novice(
        steps in prop::collection::vec(expert_step(), 0..80),
        echo_delay in 0u64..1500,
    ) {
        let mut now = Instant::now();
        let mut control = Control::new("Nora", "Eve");
        control.request(now);
        control.answer(true);
        drain(&mut control);
        // The injector presses Escape once however often the browser repeats its key-down, and
        // the display reports each press and release back to the agent.
        let mut escape_held = false;
        let mut echoes: Vec<(bool, Instant)> = Vec::new();
        for step in steps {
            deliver_echoes(&mut control, &mut echoes, now);
            run_timers(&mut control, now);
            let before = control.is_granted();
            match &step {
                Step::Request => control.request(now),
                Step::Input(event) => control.input(event.clone(), now),
                Step::Wait(ms) => now += Duration::from_millis(*ms),
                Step::Stop(reason) => {
                    control.stop(*reason);
                }
                Step::Answer(_) | Step::NoviceEscape(_) => {}
            }
            if control.is_asking() {
                // The novice takes a moment to read the question; the display has reported
                // everything injected before by then.
                now += ANSWER_DELAY;
                deliver_echoes(&mut control, &mut echoes, now);
                control.answer(true);
            }
            for command in drain(&mut control) {
                match command {
                    ControlCommand::Inject(event) => {
                        if let Some(down) = event.is_escape() {
                            if down != escape_held {
                                escape_held = down;
                                echoes.push((down, now + Duration::from_millis(echo_delay)));
                            }
                        }
                    }
                    ControlCommand::Changed(ControlEvent::Stopped) => {
                        prop_assert!(
                            matches!(step, Step::Stop(StopReason::ExpertReleased)),
                            "control stopped after {:?} with nothing from the novice",
                            step
                        );
                    }
                    ControlCommand::ReleaseAll if escape_held => {
                        escape_held = false;
                        echoes.push((false, now + Duration::from_millis(echo_delay)));
                    }
                    _ => {}
                }
            }
            if before && !control.is_granted() {
                prop_assert!(matches!(step, Step::Stop(StopReason::ExpertReleased)));
            }
        }
    }
}
