//! Reading a new password for `signaling-server admin create`, without echoing it.

use anyhow::Context;
use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
use std::io::{BufRead, IsTerminal, Write};

/// The password from `ASSIST_ADMIN_PASSWORD`, or typed twice at the terminal (not echoed), or
/// the first line of standard input when it is not a terminal.
pub fn read_new_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("ASSIST_ADMIN_PASSWORD") {
        return Ok(password);
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let first = prompt_hidden("New password: ")?;
    let second = prompt_hidden("Same password again: ")?;
    if first != second {
        anyhow::bail!("the two passwords differ; nothing was created");
    }
    Ok(first)
}

fn prompt_hidden(prompt: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let saved = tcgetattr(&stdin).context("cannot read the terminal settings")?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    eprint!("{prompt}");
    std::io::stderr().flush().ok();
    tcsetattr(&stdin, SetArg::TCSANOW, &quiet).context("cannot turn off the terminal echo")?;
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    let _ = tcsetattr(&stdin, SetArg::TCSANOW, &saved);
    eprintln!();
    read.context("cannot read the password")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
