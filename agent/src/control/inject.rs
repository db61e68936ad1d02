//! Puts the expert's input on the X display through XTest (enigo), on a dedicated thread so
//! that a slow X server never stalls the async runtime.
//!
//! The injector remembers which keys and buttons it holds down, so that [`Injector::release_all`]
//! leaves nothing pressed when control ends, whatever the expert's browser sent last.

use enigo::{Axis, Button, Coordinate, Direction, Enigo, Key, Keyboard, Mouse, Settings};
use protocol::data::{InputEvent, MouseButton};
use std::collections::HashSet;
use std::sync::mpsc;
use std::thread::JoinHandle;

/// Why input cannot be injected.
#[derive(Debug, thiserror::Error)]
pub enum InjectError {
    #[error("cannot inject input on X display {display}: {reason}")]
    Open { display: String, reason: String },
    #[error("the input thread could not be started: {0}")]
    Thread(std::io::Error),
}

enum Job {
    Event(InputEvent),
    ReleaseAll,
}

/// Injects input events on one X display.
#[derive(Debug)]
pub struct Injector {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Injector {
    /// Connects to `display` (default `$DISPLAY`) on a new thread; fails at once when the
    /// display cannot be opened or has no XTest.
    pub fn start(display: Option<&str>) -> Result<Injector, InjectError> {
        let name = display
            .map(str::to_owned)
            .or_else(|| std::env::var("DISPLAY").ok())
            .unwrap_or_default();
        let settings = Settings {
            x11_display: Some(name.clone()),
            // enigo delays each XTest event by this many ms on the server; input is paced by
            // the expert's hands already.
            linux_delay: 0,
            release_keys_when_dropped: true,
            ..Settings::default()
        };
        let (jobs, job_rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("input-injector".into())
            .spawn(move || {
                let opened = Enigo::new(&settings)
                    .map_err(|e| e.to_string())
                    .and_then(|enigo| {
                        let (w, h) = enigo.main_display().map_err(|e| e.to_string())?;
                        Ok((enigo, w, h))
                    });
                match opened {
                    Ok((enigo, width, height)) => {
                        let _ = ready_tx.send(Ok(()));
                        Worker {
                            enigo,
                            width: u32::try_from(width).unwrap_or(1).max(1),
                            height: u32::try_from(height).unwrap_or(1).max(1),
                            keys: HashSet::new(),
                            buttons: HashSet::new(),
                        }
                        .run(&job_rx);
                    }
                    Err(reason) => {
                        let _ = ready_tx.send(Err(reason));
                    }
                }
            })
            .map_err(InjectError::Thread)?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Injector {
                jobs: Some(jobs),
                thread: Some(thread),
            }),
            Ok(Err(reason)) => Err(InjectError::Open {
                display: name,
                reason,
            }),
            Err(_) => Err(InjectError::Open {
                display: name,
                reason: "the input thread ended while connecting".into(),
            }),
        }
    }

    /// Queues one event; never blocks.
    pub fn inject(&self, event: InputEvent) {
        self.send(Job::Event(event));
    }

    /// Releases every key and button held down for the expert.
    pub fn release_all(&self) {
        self.send(Job::ReleaseAll);
    }

    fn send(&self, job: Job) {
        if let Some(jobs) = &self.jobs {
            // Fails only when the thread is gone, and then there is nothing to inject into.
            let _ = jobs.send(job);
        }
    }
}

impl Drop for Injector {
    fn drop(&mut self) {
        if let Some(jobs) = self.jobs.take() {
            let _ = jobs.send(Job::ReleaseAll);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Worker {
    enigo: Enigo,
    width: u32,
    height: u32,
    keys: HashSet<Key>,
    buttons: HashSet<MouseButton>,
}

impl Worker {
    fn run(mut self, jobs: &mpsc::Receiver<Job>) {
        while let Ok(job) = jobs.recv() {
            let done = match job {
                Job::Event(event) => self.apply(event),
                Job::ReleaseAll => self.release_all(),
            };
            if let Err(e) = done {
                tracing::warn!(error = %e, "could not inject an input event");
            }
        }
        let _ = self.release_all();
    }

    fn apply(&mut self, event: InputEvent) -> enigo::InputResult<()> {
        match event {
            InputEvent::Move { x, y } => self.move_to(x, y),
            InputEvent::Button { button, down, x, y } => {
                self.move_to(x, y)?;
                if down {
                    self.buttons.insert(button);
                } else if !self.buttons.remove(&button) {
                    return Ok(());
                }
                self.enigo.button(enigo_button(button), direction(down))
            }
            InputEvent::Wheel { dx, dy } => {
                if dy != 0 {
                    self.enigo.scroll(dy, Axis::Vertical)?;
                }
                if dx != 0 {
                    self.enigo.scroll(dx, Axis::Horizontal)?;
                }
                Ok(())
            }
            InputEvent::Key { key, down } => {
                let Some(key) = enigo_key(&key) else {
                    tracing::debug!(%key, "ignoring a key with no X equivalent");
                    return Ok(());
                };
                if down {
                    self.keys.insert(key);
                } else if !self.keys.remove(&key) {
                    return Ok(());
                }
                self.enigo.key(key, direction(down))
            }
        }
    }

    fn move_to(&mut self, x: u32, y: u32) -> enigo::InputResult<()> {
        let (x, y) = clamp((x, y), (self.width, self.height));
        self.enigo.move_mouse(x, y, Coordinate::Abs)
    }

    fn release_all(&mut self) -> enigo::InputResult<()> {
        for key in std::mem::take(&mut self.keys) {
            self.enigo.key(key, Direction::Release)?;
        }
        for button in std::mem::take(&mut self.buttons) {
            self.enigo
                .button(enigo_button(button), Direction::Release)?;
        }
        Ok(())
    }
}

fn direction(down: bool) -> Direction {
    if down {
        Direction::Press
    } else {
        Direction::Release
    }
}

fn enigo_button(button: MouseButton) -> Button {
    match button {
        MouseButton::Left => Button::Left,
        MouseButton::Middle => Button::Middle,
        MouseButton::Right => Button::Right,
    }
}

/// A screen position clamped into a `size` screen, as enigo's signed coordinates.
fn clamp((x, y): (u32, u32), (width, height): (u32, u32)) -> (i32, i32) {
    let fit = |v: u32, max: u32| i32::try_from(v.min(max.saturating_sub(1))).unwrap_or(0);
    (fit(x, width), fit(y, height))
}

/// The X key for a browser `KeyboardEvent.key` value; `None` for keys with no equivalent.
fn enigo_key(key: &str) -> Option<Key> {
    let mut chars = key.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Some(match c {
            ' ' => Key::Space,
            c if c.is_control() => return None,
            c => Key::Unicode(c),
        });
    }
    Some(match key {
        "Enter" => Key::Return,
        "Backspace" => Key::Backspace,
        "Tab" => Key::Tab,
        "Escape" => Key::Escape,
        "Delete" => Key::Delete,
        "Insert" => Key::Insert,
        "Home" => Key::Home,
        "End" => Key::End,
        "PageUp" => Key::PageUp,
        "PageDown" => Key::PageDown,
        "ArrowLeft" => Key::LeftArrow,
        "ArrowRight" => Key::RightArrow,
        "ArrowUp" => Key::UpArrow,
        "ArrowDown" => Key::DownArrow,
        "Shift" => Key::Shift,
        "Control" => Key::Control,
        "Alt" => Key::Alt,
        "Meta" | "OS" | "Super" => Key::Meta,
        "CapsLock" => Key::CapsLock,
        "NumLock" => Key::Numlock,
        "ScrollLock" => Key::ScrollLock,
        "Pause" => Key::Pause,
        "PrintScreen" => Key::PrintScr,
        "F1" => Key::F1,
        "F2" => Key::F2,
        "F3" => Key::F3,
        "F4" => Key::F4,
        "F5" => Key::F5,
        "F6" => Key::F6,
        "F7" => Key::F7,
        "F8" => Key::F8,
        "F9" => Key::F9,
        "F10" => Key::F10,
        "F11" => Key::F11,
        "F12" => Key::F12,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_keys_map_to_x_keys() {
        assert_eq!(enigo_key("a"), Some(Key::Unicode('a')));
        assert_eq!(enigo_key("A"), Some(Key::Unicode('A')));
        assert_eq!(enigo_key("é"), Some(Key::Unicode('é')));
        assert_eq!(enigo_key("!"), Some(Key::Unicode('!')));
        assert_eq!(enigo_key(" "), Some(Key::Space));
        assert_eq!(enigo_key("Enter"), Some(Key::Return));
        assert_eq!(enigo_key("ArrowLeft"), Some(Key::LeftArrow));
        assert_eq!(enigo_key("F12"), Some(Key::F12));
        assert_eq!(enigo_key("Control"), Some(Key::Control));
        assert_eq!(enigo_key("Dead"), None);
        assert_eq!(enigo_key("Unidentified"), None);
        assert_eq!(enigo_key("\u{7}"), None);
        assert_eq!(enigo_key(""), None);
    }

    #[test]
    fn positions_are_clamped_to_the_screen() {
        assert_eq!(clamp((300, 200), (1280, 720)), (300, 200));
        assert_eq!(clamp((5000, 5000), (1280, 720)), (1279, 719));
        assert_eq!(clamp((u32::MAX, 0), (1280, 720)), (1279, 0));
    }
}
