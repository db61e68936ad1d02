//! Shared harness for the end-to-end tests: starts real processes and cleans them up.

pub mod browser;
pub mod console;
pub mod desk;
pub mod measure;
pub mod netns;
pub mod sockets;
pub mod stack;
pub mod tk;
pub mod xvfb;
