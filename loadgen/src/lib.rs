//! Load generator for the signaling server, and the clients it is made of.
//!
//! * [`client`]: the JSON API over HTTP, agent and expert WebSockets, opening a session and
//!   relaying one offer/answer exchange; shared with the server's own benchmark.
//! * [`measure`]: latency samples and a bounded driver of concurrent operations.
//! * [`run`]: the load steps and their Markdown report.
//! * [`server`]: the server process and what `/proc` tells about it.
//! * [`limits`]: this process's limit on open files.
//! * [`config`], [`error`].

pub mod client;
pub mod config;
pub mod error;
pub mod limits;
pub mod measure;
pub mod run;
pub mod server;

pub use config::LoadConfig;
pub use error::LoadError;
