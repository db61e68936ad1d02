//! The expert's input reaches a real X display, and the novice's Escape key is seen whatever
//! its source: [`Injector`] and [`EscapeWatcher`] against Xvfb, checked on the X side
//! (`xdotool`, the X server's key map, and `tests/assets/input_recorder.py`, a window that
//! prints every button and key press it receives).

use agent::control::inject::Injector;
use agent::control::watch::{EscapeEdge, EscapeWatcher};
use anyhow::{bail, Context, Result};
use protocol::data::{InputEvent, MouseButton};
use std::time::Duration;
use tests::tk::TkProgram;
use tests::xvfb::Xvfb;
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout, Instant};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::ConnectionExt as _;

/// Guards against hangs only: how long anything may take to show on the X side.
const WAIT: Duration = Duration::from_secs(20);
/// X modifier bits in an event's state.
const SHIFT_MASK: u32 = 1;
const CONTROL_MASK: u32 = 4;
/// Button1Mask to Button5Mask in a pointer's state.
const BUTTONS_MASK: u16 = 0x1f00;

/// The X modifier state of the next press of the key `keysym` on the input recorder.
async fn key_state(recorder: &mut TkProgram, keysym: &str) -> Result<u32> {
    let line = recorder.expect(&format!("key {keysym} ")).await?;
    let state = line.rsplit(' ').next().unwrap_or_default();
    state
        .parse()
        .with_context(|| format!("bad state in {line:?}"))
}

fn start_injector(xvfb: &Xvfb) -> Result<Injector> {
    Ok(Injector::start(Some(xvfb.display()))?)
}

fn key(injector: &Injector, key: &str, down: bool) {
    injector.inject(InputEvent::Key {
        key: key.into(),
        down,
    });
}

fn tap(injector: &Injector, name: &str) {
    key(injector, name, true);
    key(injector, name, false);
}

fn click(injector: &Injector, button: MouseButton, x: u32, y: u32) {
    for down in [true, false] {
        injector.inject(InputEvent::Button { button, down, x, y });
    }
}

/// Types `text` key by key as a browser on a US keyboard reports it, with Shift going down
/// around shifted characters when `with_shift`.
fn type_text(injector: &Injector, text: &str, with_shift: bool) {
    for c in text.chars() {
        let shifted = with_shift && (c.is_uppercase() || "!@#$%^&*()_+{}|:\"<>?~".contains(c));
        if shifted {
            key(injector, "Shift", true);
        }
        tap(injector, &c.to_string());
        if shifted {
            key(injector, "Shift", false);
        }
    }
}

/// The pointer position according to `xdotool`.
fn pointer(xvfb: &Xvfb) -> Result<(u32, u32)> {
    let output = xvfb
        .command("xdotool")
        .args(["getmouselocation", "--shell"])
        .output()
        .context("running xdotool")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |name: &str| -> Result<u32> {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .with_context(|| format!("no {name} in {text:?}"))?
            .trim()
            .parse()
            .with_context(|| format!("bad {name} in {text:?}"))
    };
    Ok((field("X=")?, field("Y=")?))
}

async fn wait_for_pointer(xvfb: &Xvfb, want: (u32, u32)) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        let at = pointer(xvfb)?;
        if at == want {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the pointer is at {at:?}, not {want:?}");
        }
        sleep(Duration::from_millis(20)).await;
    }
}

/// The keycodes held down and the mouse button mask, as the X server sees them.
fn pressed(display: &str) -> Result<(Vec<u8>, u16)> {
    let (conn, screen) = x11rb::connect(Some(display))?;
    let root = conn.setup().roots[screen].root;
    let keymap = conn.query_keymap()?.reply()?.keys;
    let keys = (0..=255u8)
        .filter(|&code| keymap[usize::from(code / 8)] & (1 << (code % 8)) != 0)
        .collect();
    let buttons = u16::from(conn.query_pointer(root)?.reply()?.mask) & BUTTONS_MASK;
    Ok((keys, buttons))
}

async fn wait_for_pressed(display: &str, want: impl Fn(&[u8], u16) -> bool) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        let (keys, buttons) = pressed(display)?;
        if want(&keys, buttons) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("held: keycodes {keys:?}, button mask {buttons:#x}");
        }
        sleep(Duration::from_millis(20)).await;
    }
}

/// Resizes the screen with `xrandr`, which Xvfb allows up to its starting size. xrandr
/// complains that the one output does not fit a smaller screen, yet resizes it.
fn resize(xvfb: &Xvfb, width: u16, height: u16) -> Result<()> {
    xvfb.command("xrandr")
        .args(["--fb", &format!("{width}x{height}")])
        .output()
        .context("running xrandr")?;
    let (conn, screen) = x11rb::connect(Some(xvfb.display()))?;
    let root = conn.setup().roots[screen].root;
    let geometry = conn.get_geometry(root)?.reply()?;
    if (geometry.width, geometry.height) != (width, height) {
        bail!(
            "the screen is {}x{}, not {width}x{height}",
            geometry.width,
            geometry.height
        );
    }
    Ok(())
}

async fn next_edge(edges: &mut mpsc::Receiver<EscapeEdge>) -> Result<EscapeEdge> {
    timeout(WAIT, edges.recv())
        .await
        .context("no Escape edge was reported")?
        .context("the watcher stopped")
}

async fn expect_down_then_up(edges: &mut mpsc::Receiver<EscapeEdge>) -> Result<()> {
    let down = next_edge(edges).await?;
    let EscapeEdge::Down(pressed) = down else {
        bail!("expected Escape down, got {down:?}");
    };
    let up = next_edge(edges).await?;
    let EscapeEdge::Up(released) = up else {
        bail!("expected Escape up, got {up:?}");
    };
    assert!(released >= pressed);
    Ok(())
}

#[tokio::test]
async fn a_click_lands_where_the_expert_points() -> Result<()> {
    let xvfb = Xvfb::start(1280, 720)?;
    let mut recorder = TkProgram::start(&xvfb, "input_recorder.py").await?;
    let injector = start_injector(&xvfb)?;

    injector.inject(InputEvent::Move { x: 300, y: 200 });
    wait_for_pointer(&xvfb, (300, 200)).await?;
    click(&injector, MouseButton::Left, 300, 200);
    assert_eq!(recorder.expect("press").await?, "press 1 300 200");

    // A press somewhere else moves there first.
    click(&injector, MouseButton::Left, 1000, 650);
    assert_eq!(recorder.expect("press").await?, "press 1 1000 650");
    wait_for_pointer(&xvfb, (1000, 650)).await
}

#[tokio::test]
async fn right_middle_and_wheel_arrive_as_x_buttons() -> Result<()> {
    let xvfb = Xvfb::start(1280, 720)?;
    let mut recorder = TkProgram::start(&xvfb, "input_recorder.py").await?;
    let injector = start_injector(&xvfb)?;

    click(&injector, MouseButton::Right, 100, 110);
    assert_eq!(recorder.expect("press").await?, "press 3 100 110");
    click(&injector, MouseButton::Middle, 120, 130);
    assert_eq!(recorder.expect("press").await?, "press 2 120 130");
    injector.inject(InputEvent::Wheel { dx: 0, dy: 1 });
    assert_eq!(recorder.expect("press").await?, "press 5 120 130");
    injector.inject(InputEvent::Wheel { dx: 0, dy: -2 });
    assert_eq!(recorder.expect("press").await?, "press 4 120 130");
    assert_eq!(recorder.expect("press").await?, "press 4 120 130");
    click(&injector, MouseButton::Left, 140, 150);
    assert_eq!(recorder.expect("press").await?, "press 1 140 150");
    Ok(())
}

#[tokio::test]
async fn positions_beyond_the_screen_are_clamped_to_its_edge() -> Result<()> {
    let xvfb = Xvfb::start(1280, 720)?;
    let mut recorder = TkProgram::start(&xvfb, "input_recorder.py").await?;
    let injector = start_injector(&xvfb)?;

    injector.inject(InputEvent::Move { x: 5000, y: 5000 });
    wait_for_pointer(&xvfb, (1279, 719)).await?;
    click(&injector, MouseButton::Left, u32::MAX, 40);
    assert_eq!(recorder.expect("press").await?, "press 1 1279 40");
    Ok(())
}

#[tokio::test]
async fn positions_follow_a_change_of_screen_size() -> Result<()> {
    let xvfb = Xvfb::start(1280, 720)?;
    resize(&xvfb, 800, 600)?;
    let injector = start_injector(&xvfb)?;
    injector.inject(InputEvent::Move { x: 1000, y: 700 });
    wait_for_pointer(&xvfb, (799, 599)).await?;

    // The novice's screen grows back while the expert is in control.
    resize(&xvfb, 1280, 720)?;
    injector.inject(InputEvent::Move { x: 1000, y: 700 });
    wait_for_pointer(&xvfb, (1000, 700)).await
}

#[tokio::test]
async fn typed_text_arrives_in_a_text_field_with_or_without_shift() -> Result<()> {
    let xvfb = Xvfb::start(1280, 720)?;
    let mut recorder = TkProgram::start(&xvfb, "input_recorder.py").await?;
    let injector = start_injector(&xvfb)?;

    // As a browser sends it: Shift goes down before "H" and "!".
    type_text(&injector, "Hello, wörld!", true);
    tap(&injector, "Enter");
    assert_eq!(recorder.expect("line").await?, "line Hello, wörld!");

    // From a console that sends the characters alone.
    type_text(&injector, "Hello, wörld!", false);
    tap(&injector, "Enter");
    assert_eq!(recorder.expect("line").await?, "line Hello, wörld!");

    // Editing keys act, and keys with no X meaning are skipped.
    type_text(&injector, "abx", false);
    tap(&injector, "Backspace");
    tap(&injector, "Dead");
    tap(&injector, "Unidentified");
    tap(&injector, "ArrowLeft");
    tap(&injector, "é");
    tap(&injector, "Enter");
    assert_eq!(recorder.expect("line").await?, "line aéb");
    Ok(())
}

#[tokio::test]
async fn a_character_held_down_repeats_as_the_browser_repeats_it() -> Result<()> {
    let xvfb = Xvfb::start(1280, 720)?;
    let mut recorder = TkProgram::start(&xvfb, "input_recorder.py").await?;
    let injector = start_injector(&xvfb)?;

    // A held key: the browser repeats the key-down, then sends one key-up.
    for _ in 0..3 {
        key(&injector, "z", true);
    }
    key(&injector, "z", false);
    tap(&injector, "Enter");
    assert_eq!(recorder.expect("line").await?, "line zzz");
    Ok(())
}

#[tokio::test]
async fn control_and_a_letter_arrive_as_a_control_key() -> Result<()> {
    let xvfb = Xvfb::start(1280, 720)?;
    let mut recorder = TkProgram::start(&xvfb, "input_recorder.py").await?;
    let injector = start_injector(&xvfb)?;

    key(&injector, "Control", true);
    tap(&injector, "a");
    key(&injector, "Control", false);
    tap(&injector, "b");

    let with_control = key_state(&mut recorder, "a").await?;
    assert_ne!(with_control & CONTROL_MASK, 0, "state {with_control:#x}");
    let after = key_state(&mut recorder, "b").await?;
    assert_eq!(after & CONTROL_MASK, 0, "state {after:#x}");
    Ok(())
}

#[tokio::test]
async fn release_all_leaves_no_key_or_button_down() -> Result<()> {
    let xvfb = Xvfb::start(1280, 720)?;
    let mut recorder = TkProgram::start(&xvfb, "input_recorder.py").await?;
    let injector = start_injector(&xvfb)?;

    key(&injector, "Shift", true);
    key(&injector, "Control", true);
    injector.inject(InputEvent::Button {
        button: MouseButton::Left,
        down: true,
        x: 100,
        y: 100,
    });
    wait_for_pressed(xvfb.display(), |keys, buttons| {
        keys.len() == 2 && buttons != 0
    })
    .await?;
    assert_eq!(recorder.expect("press").await?, "press 1 100 100");

    injector.release_all();
    wait_for_pressed(xvfb.display(), |keys, buttons| {
        keys.is_empty() && buttons == 0
    })
    .await?;
    tap(&injector, "q");
    let state = key_state(&mut recorder, "q").await?;
    assert_eq!(state & (SHIFT_MASK | CONTROL_MASK), 0, "state {state:#x}");
    Ok(())
}

#[tokio::test]
async fn input_queued_when_control_ends_never_lands() -> Result<()> {
    let xvfb = Xvfb::start(1280, 720)?;
    let mut recorder = TkProgram::start(&xvfb, "input_recorder.py").await?;
    let injector = start_injector(&xvfb)?;

    // A stalled X server: while another client holds the server grab, the input thread waits
    // on its first event and everything after it stays queued.
    let (grabber, _) = x11rb::connect(Some(xvfb.display())).context("connecting to Xvfb")?;
    grabber.grab_server()?;
    grabber.get_input_focus()?.reply()?;
    injector.inject(InputEvent::Move { x: 10, y: 10 });
    type_text(&injector, "stale", false);
    tap(&injector, "Enter");
    click(&injector, MouseButton::Left, 200, 200);
    // The novice takes control back, then the server catches up.
    injector.release_all();
    grabber.ungrab_server()?;
    grabber.flush()?;

    // Control granted again: only what is sent from now on arrives.
    type_text(&injector, "fresh", false);
    tap(&injector, "Enter");
    assert_eq!(recorder.expect("line").await?, "line fresh");
    click(&injector, MouseButton::Left, 300, 300);
    assert_eq!(recorder.expect("press").await?, "press 1 300 300");
    Ok(())
}

#[tokio::test]
async fn a_key_coming_up_under_another_name_is_not_left_down() -> Result<()> {
    let xvfb = Xvfb::start(1280, 720)?;
    let mut recorder = TkProgram::start(&xvfb, "input_recorder.py").await?;
    let injector = start_injector(&xvfb)?;

    // Shift released before the key: "!" goes down and "1" comes up.
    key(&injector, "Shift", true);
    key(&injector, "!", true);
    key(&injector, "Shift", false);
    key(&injector, "1", false);
    // The same with a letter, and a key-up of a key that never went down.
    key(&injector, "Shift", true);
    key(&injector, "K", true);
    key(&injector, "Shift", false);
    key(&injector, "k", false);
    key(&injector, "Alt", false);
    tap(&injector, "Enter");
    assert_eq!(recorder.expect("line").await?, "line !K");
    wait_for_pressed(xvfb.display(), |keys, buttons| {
        keys.is_empty() && buttons == 0
    })
    .await
}

#[tokio::test]
async fn escape_is_reported_from_the_keyboard_and_from_injection_alone() -> Result<()> {
    let xvfb = Xvfb::start(1280, 720)?;
    let injector = start_injector(&xvfb)?;
    let (_watcher, mut edges) = EscapeWatcher::start(Some(xvfb.display()))?;

    // Other keys first: the first edge must be the Escape that follows them.
    xvfb.run("xdotool", &["key", "a", "shift+b", "Return"])?;
    xvfb.run("xdotool", &["keydown", "Escape"])?;
    xvfb.run("xdotool", &["keyup", "Escape"])?;
    expect_down_then_up(&mut edges).await?;

    // The expert's Escape is on the display too: the control state machine tells them apart.
    tap(&injector, "a");
    tap(&injector, "Shift");
    tap(&injector, "Enter");
    tap(&injector, "Escape");
    expect_down_then_up(&mut edges).await?;

    // The browser repeats the key-down of a held Escape; the display sees one press.
    for _ in 0..3 {
        key(&injector, "Escape", true);
    }
    key(&injector, "Escape", false);
    expect_down_then_up(&mut edges).await
}

#[tokio::test]
async fn escape_held_on_the_keyboard_is_one_down_and_one_up() -> Result<()> {
    let xvfb = Xvfb::start(1280, 720)?;
    let (_watcher, mut edges) = EscapeWatcher::start(Some(xvfb.display()))?;

    // Long enough for the X server's autorepeat (660 ms by default) to fire several times.
    xvfb.run("xdotool", &["keydown", "Escape"])?;
    sleep(Duration::from_millis(1500)).await;
    xvfb.run("xdotool", &["keyup", "Escape"])?;
    expect_down_then_up(&mut edges).await
}

#[tokio::test]
async fn dropping_the_watcher_and_injector_ends_their_threads() -> Result<()> {
    let xvfb = Xvfb::start(640, 480)?;
    let (watcher, mut edges) = EscapeWatcher::start(Some(xvfb.display()))?;
    let injector = start_injector(&xvfb)?;
    key(&injector, "Shift", true);
    wait_for_pressed(xvfb.display(), |keys, _| !keys.is_empty()).await?;

    let dropped = tokio::task::spawn_blocking(move || {
        drop(watcher);
        drop(injector);
    });
    timeout(WAIT, dropped).await.context("drop hung")??;
    // The watcher's sender is gone with its thread; what the injector held is released.
    assert!(timeout(WAIT, edges.recv()).await?.is_none());
    wait_for_pressed(xvfb.display(), |keys, _| keys.is_empty()).await
}

#[test]
fn a_display_that_cannot_be_opened_is_named_in_the_error() {
    let display = ":987";
    let Err(err) = Injector::start(Some(display)) else {
        panic!("the injector started on {display}");
    };
    let message = err.to_string();
    assert!(message.contains(display), "{message}");

    let Err(err) = EscapeWatcher::start(Some(display)) else {
        panic!("the watcher started on {display}");
    };
    let message = err.to_string();
    assert!(message.contains(display), "{message}");
}
