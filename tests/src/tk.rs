//! The test programs in `tests/assets/` (Python with Tk, drawn on an Xvfb display): they print
//! one line per event they see, and `ready` once drawn; some take commands on standard input.

use crate::console::WAIT;
use crate::xvfb::Xvfb;
use anyhow::{bail, Context, Result};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

/// How long to watch for an event that must not come.
pub const QUIET: Duration = Duration::from_millis(1500);

/// One running test program; killed on drop.
pub struct TkProgram {
    name: &'static str,
    _child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl TkProgram {
    /// Runs `tests/assets/<script>` with the system Python (which has Tk) on `xvfb` and waits
    /// until it says `ready`.
    pub async fn start(xvfb: &Xvfb, script: &'static str) -> Result<Self> {
        let path = format!("{}/assets/{script}", env!("CARGO_MANIFEST_DIR"));
        let mut child = tokio::process::Command::from(xvfb.command("/usr/bin/python3"))
            .arg(&path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {script}: is python3-tk installed?"))?;
        let stdin = child.stdin.take().context("test program stdin")?;
        let stdout = child.stdout.take().context("test program stdout")?;
        let mut program = Self {
            name: script,
            _child: child,
            stdin,
            lines: BufReader::new(stdout).lines(),
        };
        program.expect("ready").await?;
        Ok(program)
    }

    /// The next line it prints, if one comes within `limit`.
    pub async fn next_within(&mut self, limit: Duration) -> Result<Option<String>> {
        match tokio::time::timeout(limit, self.lines.next_line()).await {
            Ok(line) => Ok(Some(
                line?.with_context(|| format!("{} exited", self.name))?,
            )),
            Err(_) => Ok(None),
        }
    }

    /// Waits for a line starting with `prefix`, skipping (and logging) others.
    pub async fn expect(&mut self, prefix: &str) -> Result<String> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await? {
                Some(line) if line.starts_with(prefix) => return Ok(line),
                Some(line) => eprintln!("{}: {line}", self.name),
                None => bail!("{} never reported {prefix:?}", self.name),
            }
        }
    }

    /// Fails if it reports anything within [`QUIET`].
    pub async fn expect_nothing(&mut self, what: &str) -> Result<()> {
        if let Some(line) = self.next_within(QUIET).await? {
            bail!("{what}, yet {} received: {line}", self.name);
        }
        Ok(())
    }

    /// Sends one command line.
    pub async fn send(&mut self, command: &str) -> Result<()> {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await?;
        self.stdin.flush().await?;
        Ok(())
    }
}
