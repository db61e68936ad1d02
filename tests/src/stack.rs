//! The product's own programs as real processes: the signaling server on a free loopback port
//! with a fresh SQLite database, and the agent, whose terminal the test reads and types into
//! like the novice would.
//!
//! Both binaries are the workspace's own build (`target/<profile>/signaling-server` and
//! `.../agent`), brought up to date by [`build_product`] before the first one is started.

use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

use crate::netns::Namespace;

/// Long enough for a cold start on a busy 2-core machine.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the agent and the server for the profile this program was built with, so that a
/// benchmark never measures stale binaries. Tests build them as `cargo test --workspace` does,
/// with the features the whole workspace's tests switch on: after that command the build is a
/// no-op, where building the two packages alone would compile most dependencies a second time.
pub fn build_product() -> Result<()> {
    let release = profile_dir()?.ends_with("release");
    let mut cargo = std::process::Command::new(env!("CARGO"));
    if release {
        cargo.args([
            "build",
            "--locked",
            "--release",
            "-p",
            "agent",
            "-p",
            "signaling-server",
            "--bins",
        ]);
    } else {
        cargo.args(["test", "--locked", "--workspace", "--no-run", "--quiet"]);
    }
    // What cargo set for this test program describes this package, not the build; build
    // scripts that watch such variables (ring watches CARGO_MANIFEST_DIR) would see a change
    // and rebuild half the dependencies.
    for (name, _) in std::env::vars_os() {
        let set_for_this_program = name.to_str().is_some_and(|n| {
            n.starts_with("CARGO_PKG_")
                || matches!(
                    n,
                    "CARGO_MANIFEST_DIR"
                        | "CARGO_MANIFEST_PATH"
                        | "CARGO_CRATE_NAME"
                        | "CARGO_BIN_NAME"
                        | "CARGO_PRIMARY_PACKAGE"
                        | "CARGO_TARGET_TMPDIR"
                        | "CARGO_RUSTC_CURRENT_DIR"
                        | "OUT_DIR"
                )
        });
        if set_for_this_program {
            cargo.env_remove(name);
        }
    }
    let status = cargo.status().context("running cargo build")?;
    if !status.success() {
        bail!("building the agent and the server failed ({status})");
    }
    Ok(())
}

/// Path of a binary of this workspace. The agent and the server are (re)built once per test
/// program first, so a test never runs a stale binary; when they are up to date that is a
/// quick no-op.
pub fn workspace_binary(name: &str) -> Result<PathBuf> {
    static BUILT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| build_product().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(|e| anyhow!(e))?;
    let path = profile_dir()?.join(name);
    if !path.exists() {
        bail!("{} is missing after building it", path.display());
    }
    Ok(path)
}

/// `target/<profile>`, where this program and the workspace's binaries live: a test or bench
/// harness runs from `target/<profile>/deps/`, a binary of this crate from `target/<profile>/`.
fn profile_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("locating this executable")?;
    let dir = exe
        .parent()
        .ok_or_else(|| anyhow!("unexpected executable path {}", exe.display()))?;
    Ok(if dir.ends_with("deps") {
        dir.parent().unwrap_or(dir)
    } else {
        dir
    }
    .to_path_buf())
}

/// A scratch directory removed on drop.
#[derive(Debug)]
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(label: &str) -> Result<Self> {
        let path = std::env::temp_dir().join(format!(
            "assist-{label}-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// A line-oriented view of a child's output: every line is kept for failure reports, and the
/// test waits for the lines it expects.
#[derive(Debug)]
struct Lines {
    rx: mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
}

impl Lines {
    fn spawn(reader: impl tokio::io::AsyncRead + Unpin + Send + 'static) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(reader).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            rx,
            seen: Vec::new(),
        }
    }

    /// Waits for a line containing `needle` and returns it.
    async fn expect(&mut self, needle: &str, limit: Duration, who: &str) -> Result<String> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return Ok(line);
                    }
                }
                Ok(None) => bail!(
                    "{who} ended before printing {needle:?}; it printed:\n{}",
                    self.seen.join("\n")
                ),
                Err(_) => bail!(
                    "{who} did not print {needle:?} within {limit:?}; it printed:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }
}

/// `program` to run inside `netns`, or here.
fn command_in(netns: Option<&Namespace>, program: PathBuf) -> Command {
    match netns {
        Some(ns) => Command::from(ns.command(program)),
        None => Command::new(program),
    }
}

/// The signaling server as a process.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    url: String,
    _data: ScratchDir,
}

impl ServerProcess {
    /// Starts the server on a free loopback port with SQLite in a scratch directory.
    pub async fn start() -> Result<Self> {
        Self::start_with(&[]).await
    }

    /// Starts the server as [`ServerProcess::start`] does, with `extra` flags.
    pub async fn start_with(extra: &[&str]) -> Result<Self> {
        // Tests run side by side: each server's STUN/TURN service takes free ports.
        let mut args = vec![
            "--listen",
            "127.0.0.1:0",
            "--turn-udp-port",
            "0",
            "--turn-tcp-port",
            "0",
            // Both peers are on loopback, which the relay refuses to reach unless told to.
            "--turn-allow-peer",
            "127.0.0.0/8",
        ];
        args.extend_from_slice(extra);
        Self::start_in(None, &args).await
    }

    /// Starts the server with `args` (at least `--listen`), inside `netns` if given, with
    /// SQLite in a scratch directory.
    pub async fn start_in(netns: Option<&Namespace>, args: &[&str]) -> Result<Self> {
        let data = ScratchDir::new("server")?;
        let mut child = command_in(netns, workspace_binary("signaling-server")?)
            .args(args)
            .arg("--data-dir")
            .arg(data.path())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting the signaling server")?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("server stdout"))?;
        let mut lines = Lines::spawn(stdout);
        let line = lines
            .expect("listening on", START_TIMEOUT, "the signaling server")
            .await?;
        let url = line
            .rsplit(' ')
            .next()
            .ok_or_else(|| anyhow!("no URL in {line:?}"))?
            .to_owned();
        Ok(Self {
            child,
            url,
            _data: data,
        })
    }

    /// Base URL, such as `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's data directory: its SQLite database and journals.
    pub fn data_dir(&self) -> &Path {
        self._data.path()
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    /// Runs `signaling-server <args>` on this server's database (a command such as
    /// `admin create`), with `password` where the command asks for one, and returns its output.
    pub async fn command(&self, args: &[&str], password: &str) -> Result<String> {
        let output = Command::new(workspace_binary("signaling-server")?)
            .args(args)
            .arg("--data-dir")
            .arg(self._data.path())
            .env("ASSIST_ADMIN_PASSWORD", password)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .await
            .context("running a server command")?;
        if !output.status.success() {
            bail!(
                "signaling-server {args:?} failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// The agent as a process, with the novice's terminal in the test's hands.
#[derive(Debug)]
pub struct AgentProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines,
    server: String,
    name: String,
    /// Shared with the agent's other processes ([`AgentProcess::start_beside`]).
    state: std::sync::Arc<ScratchDir>,
}

impl AgentProcess {
    /// Runs `agent --server <server> --name <name> <args...>` with its own state directory.
    pub async fn start(server: &str, name: &str, args: &[&str]) -> Result<Self> {
        Self::start_in(None, server, name, args).await
    }

    /// Like [`AgentProcess::start`], inside `netns` (the novice's host of a test network).
    pub async fn start_in(
        netns: Option<&Namespace>,
        server: &str,
        name: &str,
        args: &[&str],
    ) -> Result<Self> {
        let state = std::sync::Arc::new(ScratchDir::new("agent")?);
        Self::spawn(netns, server, name, state, args, &[])
    }

    /// Runs `agent window` for `name` on the X display `display`, as the novice who opens it
    /// from the desktop's menu, with `envs` and the window's `args`; WebRTC on loopback only.
    pub fn start_window(
        server: &str,
        name: &str,
        display: &str,
        envs: &[(&str, &str)],
        args: &[&str],
    ) -> Result<Self> {
        let state = std::sync::Arc::new(ScratchDir::new("agent")?);
        let mut all = vec![("DISPLAY", display), ("ASSIST_LOCAL_IP", "127.0.0.1")];
        all.extend_from_slice(envs);
        let args: Vec<&str> = std::iter::once("window")
            .chain(args.iter().copied())
            .collect();
        Self::spawn(None, server, name, state, &args, &all)
    }

    /// Starts another long-running command (such as `status-page`) as the same agent, with the
    /// same credential.
    pub fn start_beside(&self, args: &[&str]) -> Result<Self> {
        self.start_beside_as(&self.name, args)
    }

    /// [`AgentProcess::start_beside`] with `--name name`: the same machine, under another name.
    pub fn start_beside_as(&self, name: &str, args: &[&str]) -> Result<Self> {
        Self::spawn(
            None,
            &self.server,
            name,
            std::sync::Arc::clone(&self.state),
            args,
            &[],
        )
    }

    fn spawn(
        netns: Option<&Namespace>,
        server: &str,
        name: &str,
        state: std::sync::Arc<ScratchDir>,
        args: &[&str],
        envs: &[(&str, &str)],
    ) -> Result<Self> {
        let mut command = command_in(netns, workspace_binary("agent")?);
        command.envs(envs.iter().copied());
        // The agent's log filter for reading what it did in a failing test; its own default
        // otherwise.
        if let Ok(filter) = std::env::var("ASSIST_TEST_AGENT_LOG") {
            command.env("ASSIST_AGENT_LOG", filter);
        }
        let mut child = command
            .args(["--server", server, "--name", name])
            .arg("--state-dir")
            .arg(state.path())
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("ASSIST_INVITE_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting the agent")?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("agent stdout"))?;
        Ok(Self {
            stdin: child.stdin.take(),
            child,
            stdout: Lines::spawn(stdout),
            server: server.to_owned(),
            name: name.to_owned(),
            state,
        })
    }

    /// Runs another agent command (such as `list` or `revoke ID`) as the same agent, that is
    /// with the same credential, and returns what it printed.
    pub async fn run(&self, args: &[&str]) -> Result<String> {
        Ok(self.run_as(&self.name, args).await?.0)
    }

    /// [`AgentProcess::run`] with `--name name`; returns what it printed on standard output
    /// and on standard error.
    pub async fn run_as(&self, name: &str, args: &[&str]) -> Result<(String, String)> {
        let output = Command::new(workspace_binary("agent")?)
            .args(["--server", &self.server, "--name", name])
            .arg("--state-dir")
            .arg(self.state.path())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .await
            .context("running the agent")?;
        if !output.status.success() {
            bail!(
                "agent {args:?} failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok((
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    }

    /// Waits until the agent prints a line containing `needle`, and returns the line.
    pub async fn expect_line(&mut self, needle: &str, limit: Duration) -> Result<String> {
        self.stdout.expect(needle, limit, "the agent").await
    }

    /// Types one line at the agent's prompt, as the novice would.
    pub async fn type_line(&mut self, text: &str) -> Result<()> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| anyhow!("the agent's input is closed"))?;
        stdin
            .write_all(format!("{text}\n").as_bytes())
            .await
            .context("typing into the agent")?;
        stdin.flush().await.context("typing into the agent")
    }

    /// The agent's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Presses Ctrl+C at the agent's terminal: sends it SIGINT.
    pub fn interrupt(&self) -> Result<()> {
        let pid = self
            .child
            .id()
            .ok_or_else(|| anyhow!("the agent has exited"))?;
        let status = std::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .context("running kill")?;
        if !status.success() {
            bail!("kill -INT {pid} failed: {status}");
        }
        Ok(())
    }

    /// How the agent exited, or `None` while it runs.
    pub fn try_exit_status(&mut self) -> Result<Option<std::process::ExitStatus>> {
        self.child.try_wait().context("looking at the agent")
    }

    /// Waits for the agent to exit by itself.
    pub async fn wait(mut self, limit: Duration) -> Result<std::process::ExitStatus> {
        tokio::time::timeout(limit, self.child.wait())
            .await
            .map_err(|_| anyhow!("the agent did not exit within {limit:?}"))?
            .context("waiting for the agent")
    }
}
