//! Shared harness for the end-to-end tests: starts real processes and cleans them up.

pub mod browser;
pub mod console;
pub mod desk;
pub mod measure;
pub mod mitm;
pub mod netns;
pub mod pattern;
pub mod screen;
pub mod shaping;
pub mod sockets;
pub mod stack;
pub mod tk;
pub mod xvfb;

/// Whether a test may pass without running when a tool it needs is missing: only where the
/// environment says so (`ASSIST_ALLOW_SKIP=1`). Everywhere else, CI included, such a test
/// fails, so that green always means it ran.
pub fn skip_allowed() -> bool {
    std::env::var("ASSIST_ALLOW_SKIP").is_ok_and(|v| v == "1")
}
