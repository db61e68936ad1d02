//! The server under load: a `signaling-server` process started here on a free loopback port
//! with a fresh SQLite database in a temporary directory, or one already running. Its memory,
//! sockets, CPU time and open-file limit are read from `/proc/<pid>`.

use crate::error::LoadError;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Longest a started server may take to listen.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// What the server prints on stdout once it listens.
const LISTENING: &str = "Signaling server listening on ";
/// Lines of the server's log shown when it fails.
const LOG_TAIL: usize = 20;
/// Clock ticks per second of the CPU times in `/proc/<pid>/stat` (`USER_HZ`, fixed by the
/// kernel's ABI).
const USER_HZ: f64 = 100.0;

/// A server being loaded.
#[derive(Debug)]
pub struct ServerUnderTest {
    pub base: url::Url,
    pub pid: u32,
    started: Option<Started>,
}

#[derive(Debug)]
struct Started {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl ServerUnderTest {
    /// Starts `bin` on a free loopback port, with rate limits and the cap on connections per
    /// client address out of the way (every client is on a few loopback addresses), a
    /// connection budget leaving `reserved_files` open files for the rest of the server,
    /// consent requests that never lapse during a run, and without the embedded STUN/TURN
    /// service, which carries media, not signaling, and would take fixed ports.
    pub async fn start(
        bin: &Path,
        log_filter: &str,
        reserved_files: u64,
    ) -> Result<Self, LoadError> {
        let dir = tempfile::tempdir().map_err(LoadError::io("create a temporary directory"))?;
        let log = dir.path().join("server.log");
        let log_file = std::fs::File::create(&log)
            .map_err(LoadError::io(format!("create {}", log.display())))?;
        let mut child = Command::new(bin)
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .args(["--register-per-minute", "1000000000"])
            .args(["--redeem-per-minute", "1000000000"])
            .args(["--max-connections-per-address", &u32::MAX.to_string()])
            .args(["--reserved-files", &reserved_files.to_string()])
            .args(["--consent-timeout-secs", "3600", "--no-embedded-turn"])
            .env("RUST_LOG", log_filter)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .map_err(LoadError::io(format!("start {}", bin.display())))?;
        let pid = child
            .id()
            .ok_or_else(|| LoadError::Server("exited at once".into()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| LoadError::Server("has no stdout".into()))?;
        let mut lines = BufReader::new(stdout).lines();
        let listening = async {
            while let Some(line) = lines.next_line().await? {
                if let Some(url) = line.strip_prefix(LISTENING) {
                    return Ok(Some(url.trim().to_string()));
                }
            }
            Ok::<_, std::io::Error>(None)
        };
        let started = tokio::time::timeout(START_TIMEOUT, listening).await;
        let base = match started {
            Ok(Ok(Some(url))) => url,
            Ok(Ok(None)) => {
                let _ = child.wait().await;
                return Err(LoadError::Server(format!(
                    "{} stopped before listening{}",
                    bin.display(),
                    tail(&log)
                )));
            }
            Ok(Err(err)) => return Err(LoadError::io("read the server's output")(err)),
            Err(_) => {
                return Err(LoadError::Server(format!(
                    "{} did not listen within {START_TIMEOUT:?}{}",
                    bin.display(),
                    tail(&log)
                )))
            }
        };
        // Whatever else it prints is read and dropped, so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let base = base
            .parse()
            .map_err(|e| LoadError::Server(format!("listens on {base:?}, not a URL: {e}")))?;
        Ok(Self {
            base,
            pid,
            started: Some(Started {
                child,
                log,
                _dir: dir,
            }),
        })
    }

    /// A server started by somebody else.
    pub fn running(base: url::Url, pid: u32) -> Self {
        Self {
            base,
            pid,
            started: None,
        }
    }

    /// Resolves when the server is gone, saying how it ended.
    pub async fn exited(&mut self) -> String {
        match &mut self.started {
            Some(started) => match started.child.wait().await {
                Ok(status) => format!("exited ({status})"),
                Err(err) => format!("cannot be waited for: {err}"),
            },
            None => loop {
                if !Path::new(&format!("/proc/{}", self.pid)).exists() {
                    return format!("(pid {}) is gone", self.pid);
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            },
        }
    }

    /// The last lines of a started server's log, as a suffix for an error message.
    pub fn log_tail(&self) -> String {
        self.started
            .as_ref()
            .map_or_else(String::new, |s| tail(&s.log))
    }

    /// Stops a started server; leaves a running one alone.
    pub async fn stop(mut self) {
        if let Some(started) = &mut self.started {
            let _ = started.child.kill().await;
        }
    }
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(LOG_TAIL);
    if from == lines.len() {
        return String::new();
    }
    format!("; its log ends with:\n{}", lines[from..].join("\n"))
}

fn read_proc(pid: u32, file: &str) -> Result<String, LoadError> {
    let path = format!("/proc/{pid}/{file}");
    std::fs::read_to_string(&path).map_err(LoadError::io(format!("read {path}")))
}

/// Resident memory of the process, in bytes (`VmRSS`).
pub fn rss_bytes(pid: u32) -> Result<u64, LoadError> {
    let status = read_proc(pid, "status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .ok_or_else(|| LoadError::Unexpected(format!("no VmRSS in /proc/{pid}/status")))
}

/// Sockets the process holds open.
pub fn socket_count(pid: u32) -> Result<usize, LoadError> {
    let dir = format!("/proc/{pid}/fd");
    let entries = std::fs::read_dir(&dir).map_err(LoadError::io(format!("list {dir}")))?;
    Ok(entries
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count())
}

/// User plus system CPU time the process has used so far.
pub fn cpu_time(pid: u32) -> Result<Duration, LoadError> {
    let stat = read_proc(pid, "stat")?;
    // The command name may hold spaces; the fields after it are plain numbers.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => Ok(Duration::from_secs_f64((user + system) as f64 / USER_HZ)),
        _ => Err(LoadError::Unexpected(format!(
            "unexpected /proc/{pid}/stat: {stat}"
        ))),
    }
}

/// The soft limit on open files of the process (`Max open files` in `/proc/<pid>/limits`).
pub fn open_file_limit(pid: u32) -> Result<u64, LoadError> {
    let limits = read_proc(pid, "limits")?;
    limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next())
        .map(|soft| soft.parse().unwrap_or(u64::MAX)) // "unlimited"
        .ok_or_else(|| LoadError::Unexpected(format!("no open-file limit in /proc/{pid}/limits")))
}
