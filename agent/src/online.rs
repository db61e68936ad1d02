//! `agent` (or `agent online`): an enrolled machine stays connected to its server so that its
//! support desk sees it online and can offer help.
//!
//! Every offer is put to the novice exactly like an invitation's request (the prompt names the
//! operator and the desk), sessions run one after another, and the connection is re-established
//! with back-off whenever it drops. This module only checks the enrolment and greets the
//! novice; the connection and the sessions are [`crate::invite::serve_sessions`].

use crate::frontend::terminal::say;
use crate::frontend::Frontend;
use crate::invite::{serve_sessions, Presence, ShareOptions};
use crate::server_api::ServerApi;
use std::path::Path;

/// What the novice is told when the machine has no enrolment.
pub const NOT_ENROLLED: &str = "This machine is not enrolled; run `agent enroll --server URL --token T` first, or `agent invite` to invite a helper.";

/// The line `agent enroll` ends with.
pub fn enrolled_line(organisation: &str) -> String {
    format!(
        "This machine is now managed by {organisation}. Run `agent` to be reachable by its support desk."
    )
}

/// Runs until the novice quits: waits for the support desk's offers on the server this machine
/// is enrolled with (`server`, when given, must be that one).
pub async fn run(
    server: Option<&str>,
    state_dir: &Path,
    share: &ShareOptions,
) -> anyhow::Result<()> {
    let Some(api) = ServerApi::enrolled(server, state_dir)? else {
        anyhow::bail!(NOT_ENROLLED);
    };
    let organisation = api.organisation().unwrap_or("your organisation");
    say(&format!(
        "{} is managed by {organisation} through {}.",
        api.name(),
        api.base()
    ));
    say("Waiting for the support desk to offer help; you will be asked before anyone sees your screen. Type /quit to stop.");
    serve_sessions(
        &api,
        share,
        Presence::Desk,
        Vec::new(),
        &mut Frontend::terminal(),
    )
    .await
}
