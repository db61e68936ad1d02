//! The novice's terminal: lines typed on standard input arrive on a channel (read on a thread
//! of their own, since reading stdin blocks), and what the agent says goes to standard output,
//! flushed at once so that a person — or a test driving the agent through a pipe — sees it.
//! [`open_with`] hands a web page or a mail address to the novice's desktop, and
//! [`prompt_hidden`] asks for a secret without showing it.

use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
use protocol::text::clean;
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

/// Prints one line (or several, split at `\n`) for the novice. Each line is cleaned of
/// controls and invisible characters ([`protocol::text::clean`]), so that nothing a peer or a
/// server put into it acts on the terminal; callers clean such text themselves first, where a
/// line break in it must not start a line of its own.
pub fn say(line: &str) {
    let shown: Vec<String> = line.split('\n').map(clean).collect();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", shown.join("\n"));
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

/// Asks for a line at the terminal (standard input) with its echo turned off, as for a
/// password; the echo comes back whatever happens.
pub fn prompt_hidden(prompt: &str) -> std::io::Result<String> {
    let stdin = std::io::stdin();
    let saved = tcgetattr(&stdin)?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    tcsetattr(&stdin, SetArg::TCSANOW, &quiet)?;
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    let _ = tcsetattr(&stdin, SetArg::TCSANOW, &saved);
    eprintln!();
    read?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
