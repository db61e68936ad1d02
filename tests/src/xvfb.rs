//! A private X display for one test: starts `Xvfb`, waits until it accepts connections, runs
//! X clients against it, and kills it (and them) when dropped.
//!
//! Xvfb picks a free display number itself (`-displayfd`) and writes it once it is ready, so
//! parallel tests never race for a number and nobody polls for readiness.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context};

/// How long Xvfb may take to come up on a loaded machine before we give up.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running Xvfb server.
#[derive(Debug)]
pub struct Xvfb {
    server: Child,
    display: String,
    clients: Vec<Child>,
}

impl Xvfb {
    /// Starts a `width`x`height` screen with 24-bit colour.
    pub fn start(width: u32, height: u32) -> anyhow::Result<Self> {
        let mut server = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0"])
            .arg(format!("{width}x{height}x24"))
            // Without -noreset the server resets when its last client leaves, losing state
            // between the steps of a test.
            .args(["-noreset", "-nolisten", "tcp"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot run Xvfb: is the xvfb package installed?")?;

        let stdout = server.stdout.take().context("Xvfb's stdout")?;
        let (number_tx, number_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = number_tx.send(line);
        });
        let line = match number_rx.recv_timeout(START_TIMEOUT) {
            Ok(line) => line,
            Err(_) => {
                let _ = server.kill();
                let _ = server.wait();
                bail!("Xvfb did not become ready within {START_TIMEOUT:?}");
            }
        };
        let Ok(number) = line.trim().parse::<u32>() else {
            let status = server.try_wait().ok().flatten();
            let _ = server.kill();
            let _ = server.wait();
            bail!("Xvfb exited before it was ready ({status:?})");
        };
        Ok(Self {
            server,
            display: format!(":{number}"),
            clients: Vec::new(),
        })
    }

    /// The display name, such as `:7`.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// A command for an X client on this display.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.env("DISPLAY", &self.display);
        command
    }

    /// Runs an X client to completion, such as `xsetroot -solid red`.
    pub fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let output = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run {program}"))?;
        if !output.status.success() {
            bail!(
                "{program} {args:?} failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    /// Starts a long-running X client, such as an xterm, that is killed with the display.
    pub fn spawn(&mut self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let child = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot run {program}"))?;
        self.clients.push(child);
        Ok(())
    }

    /// Fills the whole screen with one colour, such as `#ff0000`.
    pub fn fill(&self, colour: &str) -> anyhow::Result<()> {
        self.run("xsetroot", &["-solid", colour])
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        for child in self
            .clients
            .iter_mut()
            .chain(std::iter::once(&mut self.server))
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_displays_get_different_numbers_and_accept_clients() -> anyhow::Result<()> {
        let first = Xvfb::start(320, 240)?;
        let second = Xvfb::start(640, 480)?;
        assert_ne!(first.display(), second.display());

        let info = second.command("xdpyinfo").output()?;
        assert!(info.status.success());
        assert!(String::from_utf8_lossy(&info.stdout).contains("640x480 pixels"));
        first.fill("#00ff00")
    }
}
