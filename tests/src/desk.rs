//! `tests/assets/desk.py` on an Xvfb display: a full-screen test desktop that reports every
//! mouse button press and every line typed into its text field, and changes its background
//! colour on each left click so that a click shows on the video.

use crate::console::WAIT;
use crate::xvfb::Xvfb;
use anyhow::{bail, Context, Result};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

/// How long to watch the X side for an event that must not come.
pub const QUIET: Duration = Duration::from_millis(1500);

/// `tests/assets/desk.py` on the display: reports clicks and typed lines.
pub struct Desk {
    _child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Desk {
    pub async fn start(xvfb: &Xvfb) -> Result<Self> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/desk.py");
        let mut child = tokio::process::Command::from(xvfb.command("/usr/bin/python3"))
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting the test desktop (python3-tk)")?;
        let stdout = child.stdout.take().context("desk stdout")?;
        let mut desk = Self {
            _child: child,
            lines: BufReader::new(stdout).lines(),
        };
        desk.expect("ready").await?;
        Ok(desk)
    }

    /// The next line the desk prints, if one comes within `limit`.
    pub async fn next_within(&mut self, limit: Duration) -> Result<Option<String>> {
        match tokio::time::timeout(limit, self.lines.next_line()).await {
            Ok(line) => Ok(Some(line?.context("the test desktop exited")?)),
            Err(_) => Ok(None),
        }
    }

    /// Waits for a line starting with `prefix`, skipping others.
    pub async fn expect(&mut self, prefix: &str) -> Result<String> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await? {
                Some(line) if line.starts_with(prefix) => return Ok(line),
                Some(line) => {
                    eprintln!("desk: {line}");
                    continue;
                }
                None => bail!("the test desktop never reported {prefix:?}"),
            }
        }
    }

    /// Fails if the desk reports anything within [`QUIET`].
    pub async fn expect_nothing(&mut self, what: &str) -> Result<()> {
        if let Some(line) = self.next_within(QUIET).await? {
            bail!("{what}, yet the desktop received: {line}");
        }
        Ok(())
    }
}
