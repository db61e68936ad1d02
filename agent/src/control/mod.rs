//! Remote control: the expert's mouse and keyboard on the novice's desktop, only while the
//! novice allows it.
//!
//! * `state`: the pure state machine deciding what is injected and when control ends.
//! * `inject`: puts the expert's input on the X display (XTest, on its own thread).
//! * `watch`: reports the Escape key on the X display, for the novice's hold-Esc stop.

pub mod inject;
pub mod state;
pub mod watch;

pub use state::{Control, ControlCommand, StopReason};
