//! Shared harness for the end-to-end tests: starts real processes and cleans them up.

pub mod browser;
pub mod console;
pub mod desk;
pub mod stack;
pub mod xvfb;
