//! The novice's terminal: lines typed on standard input arrive on a channel (read on a thread
//! of their own, since reading stdin blocks), and what the agent says goes to standard output,
//! flushed at once so that a person — or a test driving the agent through a pipe — sees it.
//! [`open_with`] hands a web page or a mail address to the novice's desktop.

use std::io::{BufRead, Write};
use tokio::sync::mpsc;

/// Starts reading standard input. The channel closes at end of input.
pub fn spawn_stdin_reader() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(64);
    std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let stdin = std::io::stdin();
            for line in stdin.lock().lines() {
                let Ok(line) = line else { break };
                if tx.blocking_send(line).is_err() {
                    break;
                }
            }
        })
        .map(|_| ())
        .unwrap_or_else(|e| tracing::error!(error = %e, "cannot read standard input"));
    rx
}

/// Prints one line for the novice.
pub fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Opens `target` (a URL or a `mailto:` address) with `program` (normally `xdg-open`), without
/// waiting for it; it is reaped on a thread of its own when it exits.
pub fn open_with(program: &str, target: &str) -> std::io::Result<()> {
    let mut opener = std::process::Command::new(program)
        .arg(target)
        .stdin(std::process::Stdio::null())
        .spawn()?;
    std::thread::spawn(move || opener.wait());
    Ok(())
}
