//! Headless browsers for end-to-end tests: Chromium driven over the Chrome DevTools Protocol
//! (this file), Firefox ESR over WebDriver BiDi ([`firefox`]); both protocols are JSON commands
//! over a WebSocket, sent and answered by one client ([`rpc`]).
//!
//! [`Browser::launch`] starts `/usr/bin/chromium` with a fresh profile and the flags that make
//! WebRTC work headless and offline; [`Browser::launch_firefox`] does the same for
//! `/usr/bin/firefox-esr`. [`Browser::open`] opens a tab on a URL and returns a [`Page`] to
//! evaluate JavaScript in, click, type and take screenshots; a `Page` is the same type for both
//! browsers, so helpers that take `&Page` work with either. [`TestSite`] serves `web/static`
//! and test pages on loopback, because a real URL is needed for module scripts. Dropping the
//! browser kills its whole process group and removes the profile.
//!
//! Every wait is bounded and fails with a sentence saying what did not happen. A page that
//! navigates while [`Page::wait_for`] polls it is not an error: the next document is asked.

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::netns::Namespace;
use rpc::{Incoming, Protocol, Rpc};

mod firefox;
mod rpc;
pub use firefox::{FirefoxOptions, FIREFOX, H264};

/// The browser binary; tests never download one.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// How long one DevTools command may take unless the caller says otherwise.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long Chromium may take to print its DevTools address.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(30);
/// How often [`Page::wait_for`] looks again.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// The repository's `web/static` folder, as served under `/static/` by [`TestSite`].
pub fn web_static_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/static")
}

/// One headless browser process with its own profile.
pub struct Browser {
    child: Child,
    profile: PathBuf,
    connection: Connection,
    /// Scripts to run in every document of tabs opened from now on (Chromium takes them per
    /// tab; Firefox has them already).
    init_scripts: Mutex<Vec<String>>,
}

/// How the harness talks to the browser.
enum Connection {
    Chromium(Cdp),
    Firefox(firefox::Bidi),
}

impl Browser {
    /// Starts Chromium. Host candidates carry real addresses (no mDNS names) and may include
    /// loopback, so that WebRTC tests can stay on 127.0.0.1.
    pub async fn launch() -> Result<Browser> {
        Self::launch_in(None).await
    }

    /// Starts Chromium as it comes: its host candidates carry mDNS names (`<uuid>.local`)
    /// instead of addresses, as on an expert's own computer.
    pub async fn launch_hiding_local_addresses() -> Result<Browser> {
        Self::start(None, false, None).await
    }

    /// Starts Chromium (as [`Browser::launch`]) for a reader who prefers `languages`, which its
    /// pages send as `Accept-Language` (`"sv-SE,sv"`).
    pub async fn launch_preferring(languages: &str) -> Result<Browser> {
        Self::start(None, true, Some(languages)).await
    }

    /// Starts Chromium inside a network namespace (the expert's host of a test network), or
    /// on this machine's own network when `None`.
    pub async fn launch_in(netns: Option<&Namespace>) -> Result<Browser> {
        Self::start(netns, true, None).await
    }

    /// Starts Firefox ESR (`/usr/bin/firefox-esr`) on loopback, with or without H.264 as
    /// `options` say. Its pages are the same [`Page`] as Chromium's.
    pub async fn launch_firefox(options: FirefoxOptions) -> Result<Browser> {
        firefox::launch(options).await
    }

    /// Firefox as `options` say, or `None` after saying why it cannot run here, where skipping
    /// is allowed ([`crate::skip_allowed`]); elsewhere a missing Firefox fails the test.
    pub async fn launch_firefox_or_skip(options: FirefoxOptions) -> Result<Option<Browser>> {
        if !Path::new(FIREFOX).exists() {
            if crate::skip_allowed() {
                eprintln!("SKIPPED: {FIREFOX} is missing; this test runs the expert's Firefox");
                return Ok(None);
            }
            bail!(
                "{FIREFOX} is missing: this test runs the expert's Firefox (Debian package \
                 firefox-esr, see scripts/install-deps.sh; ASSIST_ALLOW_SKIP=1 skips it)"
            );
        }
        Ok(Some(Self::launch_firefox(options).await?))
    }

    async fn start(
        netns: Option<&Namespace>,
        show_local_addresses: bool,
        accept_languages: Option<&str>,
    ) -> Result<Browser> {
        let profile = std::env::temp_dir().join(format!(
            "assist-chromium-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        std::fs::create_dir_all(&profile)
            .with_context(|| format!("creating the browser profile {}", profile.display()))?;

        let mut command = match netns {
            Some(ns) => ns.command(CHROMIUM),
            None => Command::new(CHROMIUM),
        };
        let mut child = command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--mute-audio",
                "--autoplay-policy=no-user-gesture-required",
                "--allow-loopback-in-peer-connection",
                "--remote-debugging-port=0",
                "--window-size=1280,800",
            ])
            .args(show_local_addresses.then_some("--disable-features=WebRtcHideLocalIpsWithMdns"))
            .args(accept_languages.map(|languages| format!("--accept-lang={languages}")))
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            // Its own process group, so that Drop can end the renderer and GPU processes too.
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {CHROMIUM}; is the chromium package installed?"))?;

        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| anyhow!("chromium's stderr was not captured"))?;
        let (url_tx, url_rx) = oneshot::channel();
        // Chromium keeps logging to stderr; the pipe must be drained for as long as it runs.
        std::thread::spawn(move || {
            let mut url_tx = Some(url_tx);
            for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    if let Some(tx) = url_tx.take() {
                        let _ = tx.send(url.trim().to_owned());
                    }
                }
            }
        });

        let mut browser_guard = Launching {
            child: Some(child),
            profile: profile.clone(),
        };
        let url = tokio::time::timeout(LAUNCH_TIMEOUT, url_rx)
            .await
            .map_err(|_| {
                anyhow!("chromium did not print its DevTools address within {LAUNCH_TIMEOUT:?}")
            })?
            .map_err(|_| anyhow!("chromium exited before printing its DevTools address"))?;
        let cdp = connect_devtools(&url, netns).await?;
        let child = browser_guard
            .child
            .take()
            .ok_or_else(|| anyhow!("the browser process went missing during launch"))?;
        Ok(Browser {
            child,
            profile,
            connection: Connection::Chromium(cdp),
            init_scripts: Mutex::default(),
        })
    }

    /// Lets pages of `origin` show desktop notifications, as a person answering the browser's
    /// question with "Allow" would.
    pub async fn allow_notifications(&self, origin: &str) -> Result<()> {
        let cdp = match &self.connection {
            Connection::Chromium(cdp) => cdp,
            Connection::Firefox(bidi) => return bidi.allow_notifications(origin).await,
        };
        cdp.call(
            None,
            "Browser.grantPermissions",
            json!({ "origin": origin, "permissions": ["notifications"] }),
        )
        .await?;
        Ok(())
    }

    /// Runs `source` (script statements) in every document of the tabs opened from now on,
    /// before the page's own scripts: to watch what a page does from inside it.
    pub async fn add_init_script(&self, source: &str) -> Result<()> {
        match &self.connection {
            Connection::Chromium(_) => lock(&self.init_scripts).push(source.to_owned()),
            Connection::Firefox(bidi) => bidi.add_preload_script(source).await?,
        }
        Ok(())
    }

    /// Opens a new tab on `url` and waits until the document has loaded.
    pub async fn open(&self, url: &str) -> Result<Page> {
        self.open_landing_on(url, url).await
    }

    /// Opens a new tab on `url` and waits until the document at `lands_on` has loaded: `url`
    /// redirects there.
    pub async fn open_landing_on(&self, url: &str, lands_on: &str) -> Result<Page> {
        let cdp = match &self.connection {
            Connection::Chromium(cdp) => cdp,
            Connection::Firefox(bidi) => return bidi.open_landing_on(url, lands_on).await,
        };
        let target = cdp
            .call(None, "Target.createTarget", json!({ "url": "about:blank" }))
            .await?;
        let target_id = target["targetId"]
            .as_str()
            .ok_or_else(|| anyhow!("Target.createTarget returned no targetId: {target}"))?;
        let attached = cdp
            .call(
                None,
                "Target.attachToTarget",
                json!({ "targetId": target_id, "flatten": true }),
            )
            .await?;
        let session = attached["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow!("Target.attachToTarget returned no sessionId: {attached}"))?
            .to_owned();
        let tab = ChromiumTab {
            cdp: cdp.clone(),
            session,
        };
        tab.call("Runtime.enable", json!({})).await?;
        tab.call("Page.enable", json!({})).await?;
        let init_scripts = lock(&self.init_scripts).clone();
        for source in init_scripts {
            tab.call(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({ "source": source }),
            )
            .await?;
        }
        let navigated = tab.call("Page.navigate", json!({ "url": url })).await?;
        if let Some(error) = navigated["errorText"].as_str() {
            bail!("opening {url} failed: {error}");
        }
        let page = Page {
            tab: Tab::Chromium(tab),
        };
        page.wait_for(
            &format!(
                "location.href === {} && document.readyState === 'complete'",
                json!(lands_on)
            ),
            COMMAND_TIMEOUT,
            &format!("page {lands_on} to load"),
        )
        .await?;
        Ok(page)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        match &self.connection {
            Connection::Chromium(cdp) => cdp.shutdown(),
            Connection::Firefox(bidi) => bidi.shutdown(),
        }
        kill_group(&mut self.child);
        remove_profile(&self.profile);
    }
}

/// Cleans up after a launch that failed half-way.
struct Launching {
    child: Option<Child>,
    profile: PathBuf,
}

impl Drop for Launching {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            kill_group(child);
            remove_profile(&self.profile);
        }
    }
}

/// Ends the browser and every process it started: they share the process group we gave it.
fn kill_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let killed = Command::new("kill")
        .args(["-KILL", "--", &group])
        .stderr(Stdio::null())
        .status();
    if !matches!(killed, Ok(status) if status.success()) {
        let _ = child.kill();
    }
    let _ = child.wait();
}

fn remove_profile(profile: &Path) {
    // Helper processes may still be flushing for a moment after the kill.
    for _ in 0..20 {
        if std::fs::remove_dir_all(profile).is_ok() || !profile.exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("could not remove the browser profile {}", profile.display());
}

/// One tab, in either browser.
pub struct Page {
    tab: Tab,
}

enum Tab {
    Chromium(ChromiumTab),
    Firefox(firefox::Tab),
}

impl Page {
    /// Evaluates `js` as an expression, awaits it if it is a promise, and returns its JSON value
    /// (`null` for `undefined`). A thrown exception is an error carrying its message.
    pub async fn eval(&self, js: &str) -> Result<Value> {
        self.eval_within(js, COMMAND_TIMEOUT).await
    }

    /// [`Page::eval`] with a custom limit, for scripts that wait for something themselves.
    pub async fn eval_within(&self, js: &str, limit: Duration) -> Result<Value> {
        match &self.tab {
            Tab::Chromium(tab) => tab.eval_within(js, limit).await,
            Tab::Firefox(tab) => tab.eval_within(js, limit).await,
        }
    }

    /// Evaluates `js` until it returns something truthy, and returns that. `what` completes the
    /// sentence "timed out waiting for ..." in the error. An evaluation cut short because the
    /// page navigated or its document went away, or thrown while the page was still loading,
    /// counts as "not yet"; an exception thrown by `js` on a loaded page fails at once.
    pub async fn wait_for(&self, js: &str, limit: Duration, what: &str) -> Result<Value> {
        let deadline = Instant::now() + limit;
        loop {
            let last = match self.eval(js).await {
                Ok(value) if truthy(&value) => return Ok(value),
                Ok(value) => format!("last value: {value}"),
                Err(error) if error.downcast_ref::<DocumentGone>().is_some() => {
                    format!("the page was navigating: {error:#}")
                }
                // A page still loading has no body yet, and a script reading it throws.
                Err(error) if self.is_loading().await => {
                    format!("the page was loading: {error:#}")
                }
                Err(error) => return Err(error),
            };
            if Instant::now() >= deadline {
                bail!("timed out after {limit:?} waiting for {what} ({last})");
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Whether the document is still loading (or gone, or replaced meanwhile).
    async fn is_loading(&self) -> bool {
        !matches!(
            self.eval("document.readyState !== 'loading' && document.body !== null")
                .await,
            Ok(Value::Bool(true))
        )
    }

    /// Clicks the centre of the first element matching `selector`.
    pub async fn click(&self, selector: &str) -> Result<()> {
        let centre = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({0}); if (!e) return null; \
                 e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); \
                 return [r.x + r.width / 2, r.y + r.height / 2]; }})()",
                json!(selector)
            ))
            .await?;
        let (Some(x), Some(y)) = (centre[0].as_f64(), centre[1].as_f64()) else {
            bail!("no element matches {selector} to click");
        };
        for kind in ["mousePressed", "mouseReleased"] {
            self.mouse(kind, x, y, "left", 0.0).await?;
        }
        Ok(())
    }

    /// Focuses the first element matching `selector` and types `text` into it.
    pub async fn type_text(&self, selector: &str, text: &str) -> Result<()> {
        let found = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({0}); if (!e) return false; \
                 e.focus(); return true; }})()",
                json!(selector)
            ))
            .await?;
        if found != Value::Bool(true) {
            bail!("no element matches {selector} to type into");
        }
        match &self.tab {
            Tab::Chromium(tab) => tab.insert_text(text).await,
            Tab::Firefox(tab) => tab.insert_text(text).await,
        }
    }

    /// Sends one mouse event at page coordinates, as a real pointer would: `kind` is
    /// `mousePressed`, `mouseReleased`, `mouseMoved` or `mouseWheel`; `button` is `left`,
    /// `middle`, `right` or `none`; `delta_y` only matters for the wheel.
    pub async fn mouse(
        &self,
        kind: &str,
        x: f64,
        y: f64,
        button: &str,
        delta_y: f64,
    ) -> Result<()> {
        match &self.tab {
            Tab::Chromium(tab) => tab.mouse(kind, x, y, button, delta_y).await,
            Tab::Firefox(tab) => tab.mouse(kind, x, y, button, delta_y).await,
        }
    }

    /// Presses or releases one key as a real keyboard would, to the focused element. `key` is
    /// a `KeyboardEvent.key` value: a character or a name such as `Enter` or `Shift`.
    pub async fn key(&self, key: &str, down: bool) -> Result<()> {
        match &self.tab {
            Tab::Chromium(tab) => tab.key(key, down).await,
            Tab::Firefox(tab) => tab.key(key, down).await,
        }
    }

    /// Calls `function` (a JavaScript function declaration) with `this` bound to an array of
    /// every live object whose prototype is `prototype` (an expression such as
    /// `RTCDataChannel.prototype`), and returns its result. Reaches objects that no global
    /// variable holds, as a hostile page script could. Chromium only: Firefox has no way to
    /// list a prototype's instances.
    pub async fn call_on_instances(&self, prototype: &str, function: &str) -> Result<Value> {
        match &self.tab {
            Tab::Chromium(tab) => tab.call_on_instances(prototype, function).await,
            Tab::Firefox(_) => bail!(
                "call_on_instances needs Chromium's Runtime.queryObjects, which Firefox lacks"
            ),
        }
    }

    /// A PNG of the visible part of the page.
    pub async fn screenshot(&self) -> Result<Vec<u8>> {
        let data = match &self.tab {
            Tab::Chromium(tab) => tab.screenshot().await?,
            Tab::Firefox(tab) => tab.screenshot().await?,
        };
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .context("decoding the screenshot")
    }

    /// Console messages and uncaught exceptions of this tab so far, for failure reports.
    pub fn console(&self) -> Vec<String> {
        match &self.tab {
            Tab::Chromium(tab) => tab.cdp.console(&tab.session),
            Tab::Firefox(tab) => tab.console(),
        }
    }
}

/// An evaluation cut short because its document went away: the page navigated, or is
/// navigating. The next document may well give the answer, so [`Page::wait_for`] asks again.
#[derive(Debug)]
struct DocumentGone(String);

impl std::fmt::Display for DocumentGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DocumentGone {}

/// One Chromium tab: a DevTools session attached to its target.
struct ChromiumTab {
    cdp: Cdp,
    session: String,
}

impl ChromiumTab {
    async fn eval_within(&self, js: &str, limit: Duration) -> Result<Value> {
        let reply = self
            .cdp
            .call_within(
                Some(&self.session),
                "Runtime.evaluate",
                json!({
                    "expression": js,
                    "awaitPromise": true,
                    "returnByValue": true,
                    "userGesture": true,
                }),
                limit,
            )
            .await
            .with_context(|| format!("evaluating `{}`", abbreviate(js)))?;
        if let Some(details) = reply.get("exceptionDetails") {
            let message = details["exception"]["description"]
                .as_str()
                .or_else(|| details["text"].as_str())
                .unwrap_or("unknown exception");
            bail!("`{}` threw: {message}", abbreviate(js));
        }
        Ok(reply["result"]["value"].clone())
    }

    async fn insert_text(&self, text: &str) -> Result<()> {
        self.call("Input.insertText", json!({ "text": text }))
            .await?;
        Ok(())
    }

    async fn mouse(&self, kind: &str, x: f64, y: f64, button: &str, delta_y: f64) -> Result<()> {
        let mut params = json!({ "type": kind, "x": x, "y": y, "button": button, "clickCount": 1 });
        if kind == "mouseWheel" {
            params["deltaX"] = json!(0);
            params["deltaY"] = json!(delta_y);
        }
        self.call("Input.dispatchMouseEvent", params).await?;
        Ok(())
    }

    async fn key(&self, key: &str, down: bool) -> Result<()> {
        let mut params = json!({ "type": if down { "rawKeyDown" } else { "keyUp" }, "key": key });
        let mut chars = key.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            if down {
                params["type"] = json!("keyDown");
                params["text"] = json!(c.to_string());
            }
        } else if key == "Enter" && down {
            params["type"] = json!("keyDown");
            params["text"] = json!("\r");
        }
        self.call("Input.dispatchKeyEvent", params).await?;
        Ok(())
    }

    async fn call_on_instances(&self, prototype: &str, function: &str) -> Result<Value> {
        let proto = self
            .call("Runtime.evaluate", json!({ "expression": prototype }))
            .await?;
        let proto_id = proto["result"]["objectId"]
            .as_str()
            .ok_or_else(|| anyhow!("{prototype} is not an object"))?;
        let found = self
            .call(
                "Runtime.queryObjects",
                json!({ "prototypeObjectId": proto_id }),
            )
            .await?;
        let array_id = found["objects"]["objectId"]
            .as_str()
            .ok_or_else(|| anyhow!("Runtime.queryObjects returned no array"))?;
        let reply = self
            .call(
                "Runtime.callFunctionOn",
                json!({ "objectId": array_id, "functionDeclaration": function, "returnByValue": true }),
            )
            .await?;
        if let Some(details) = reply.get("exceptionDetails") {
            bail!("calling on {prototype} instances threw: {details}");
        }
        Ok(reply["result"]["value"].clone())
    }

    /// The screenshot as base64, as the protocol sends it.
    async fn screenshot(&self) -> Result<String> {
        let reply = self
            .call("Page.captureScreenshot", json!({ "format": "png" }))
            .await?;
        reply["data"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("Page.captureScreenshot returned no data"))
    }

    async fn call(&self, method: &str, params: Value) -> Result<Value> {
        self.cdp.call(Some(&self.session), method, params).await
    }
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

fn abbreviate(js: &str) -> String {
    const LIMIT: usize = 120;
    let one_line = js.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// The DevTools connection to one Chromium, shared by its tabs.
type Cdp = Rpc<DevTools>;

/// The Chrome DevTools Protocol: a reply is `{id, result}` or `{id, error}`, an event has no
/// `id`, and console events name their session.
struct DevTools;

impl Protocol for DevTools {
    const BROWSER: &'static str = "chromium";
    const NAME: &'static str = "DevTools";
    /// The `error` object, as JSON text.
    type Error = String;

    fn classify(mut frame: Value) -> Incoming<String> {
        if let Some(id) = frame["id"].as_u64() {
            let reply = match frame.get("error") {
                Some(error) => Err(error.to_string()),
                None => Ok(frame["result"].take()),
            };
            return Incoming::Reply { id, reply };
        }
        match console_line(&frame) {
            Some(line) => Incoming::Console {
                tab: frame["sessionId"].as_str().unwrap_or("").to_owned(),
                line,
            },
            None => Incoming::Ignored,
        }
    }

    fn failure(method: &str, error: String) -> anyhow::Error {
        if document_gone(&error) {
            DocumentGone(format!("{method} failed: {error}")).into()
        } else {
            anyhow!("{method} failed: {error}")
        }
    }
}

/// Connects to the DevTools address Chromium printed, from inside `netns` when it runs there.
async fn connect_devtools(url: &str, netns: Option<&Namespace>) -> Result<Cdp> {
    let Some(ns) = netns else {
        return Cdp::connect(url).await;
    };
    let context = || format!("connecting to chromium's DevTools at {url}");
    let addr: std::net::SocketAddr = url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap_or_default()
        .parse()
        .with_context(context)?;
    let stream = tokio::net::TcpStream::from_std(ns.connect_tcp(addr)?)?;
    let (socket, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .with_context(context)?;
    Ok(Cdp::start(socket))
}

/// Whether a DevTools error says the command's document went away: Chromium answers so when
/// the page navigates while an evaluation runs (or awaits a promise), or between the old
/// document's end and the new one's start.
fn document_gone(error: &str) -> bool {
    [
        "Inspected target navigated or closed",
        "Execution context was destroyed",
        "Cannot find context with specified id",
        "Cannot find default execution context",
    ]
    .iter()
    .any(|message| error.contains(message))
}

/// One readable line for a console call or an uncaught exception; `None` for other events.
fn console_line(frame: &Value) -> Option<String> {
    let params = &frame["params"];
    match frame["method"].as_str()? {
        "Runtime.consoleAPICalled" => {
            let args = params["args"]
                .as_array()
                .map(|args| {
                    args.iter()
                        .map(|a| match &a["value"] {
                            Value::String(s) => s.clone(),
                            Value::Null => a["description"].as_str().unwrap_or("").to_owned(),
                            other => other.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            Some(format!(
                "console.{}: {args}",
                params["type"].as_str().unwrap_or("log")
            ))
        }
        "Runtime.exceptionThrown" => {
            let details = &params["exceptionDetails"];
            let text = details["exception"]["description"]
                .as_str()
                .or_else(|| details["text"].as_str())
                .unwrap_or("exception");
            Some(format!("uncaught: {text}"))
        }
        _ => None,
    }
}

/// Locks a map that stays consistent even if a holder panicked.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A loopback HTTP server for test pages: `web/static` under `/static/`, plus the given pages.
pub struct TestSite {
    addr: std::net::SocketAddr,
    task: JoinHandle<()>,
}

impl TestSite {
    /// Serves `pages` (path such as `/peer-test.html`, HTML body) and `web/static` on
    /// `127.0.0.1` at a free port.
    pub async fn start(pages: Vec<(&'static str, String)>) -> Result<TestSite> {
        let mut app = axum::Router::new().nest_service(
            "/static",
            tower_http::services::ServeDir::new(web_static_dir()),
        );
        for (path, body) in pages {
            app = app.route(
                path,
                axum::routing::get(move || async move { axum::response::Html(body) }),
            );
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the test web server on 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("test web server stopped: {e}");
            }
        });
        Ok(TestSite { addr, task })
    }

    /// The full URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for TestSite {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truthiness_follows_javascript() {
        assert!(!truthy(&Value::Null));
        assert!(!truthy(&json!(0)));
        assert!(!truthy(&json!("")));
        assert!(truthy(&json!(3)));
        assert!(truthy(&json!({})));
    }

    #[test]
    fn console_events_become_lines() {
        let frame = json!({
            "method": "Runtime.consoleAPICalled",
            "params": { "type": "warn", "args": [{ "type": "string", "value": "hi" }, { "type": "number", "value": 2 }] }
        });
        assert_eq!(console_line(&frame).as_deref(), Some("console.warn: hi 2"));
    }

    #[test]
    fn devtools_frames_are_told_apart_by_their_id() {
        let answer = json!({ "id": 3, "result": { "value": 1 }, "sessionId": "s" });
        assert!(matches!(
            DevTools::classify(answer),
            Incoming::Reply { id: 3, reply: Ok(result) } if result == json!({ "value": 1 })
        ));
        let error = json!({ "id": 4, "error": { "code": -32000, "message": "gone" } });
        assert!(matches!(
            DevTools::classify(error),
            Incoming::Reply { id: 4, reply: Err(text) }
                if text == r#"{"code":-32000,"message":"gone"}"#
        ));
        let console = json!({ "method": "Runtime.consoleAPICalled", "sessionId": "s",
            "params": { "type": "log", "args": [{ "type": "string", "value": "hi" }] } });
        assert!(matches!(
            DevTools::classify(console),
            Incoming::Console { tab, line } if tab == "s" && line == "console.log: hi"
        ));
        let other = json!({ "method": "Page.loadEventFired", "params": {} });
        assert!(matches!(DevTools::classify(other), Incoming::Ignored));
    }

    #[test]
    fn navigation_errors_count_as_a_document_gone() {
        assert!(document_gone(
            r#"{"code":-32000,"message":"Inspected target navigated or closed"}"#
        ));
        assert!(!document_gone(
            r#"{"code":-32601,"message":"'Runtime.evaluat' wasn't found"}"#
        ));
    }

    /// Goes from the first page to the second while the script still awaits on the first, as
    /// a form's submission does: a test once failed here with "Inspected target navigated or
    /// closed". True at once on the second page.
    const NAVIGATE_WHILE_AWAITING: &str = "location.pathname === '/second.html' || \
        (setTimeout(() => location.href = '/second.html', 300), \
         new Promise(r => setTimeout(r, 10000)))";

    async fn waits_across_a_navigation(browser: Browser) -> Result<()> {
        let site = TestSite::start(vec![
            ("/first.html", "<!doctype html><title>1</title>".to_owned()),
            ("/second.html", "<!doctype html><title>2</title>".to_owned()),
        ])
        .await?;
        // The navigation cuts the evaluation short, with the error a wait must see through.
        let page = browser.open(&site.url("/first.html")).await?;
        let cut = page
            .eval(NAVIGATE_WHILE_AWAITING)
            .await
            .expect_err("the navigation ends the evaluation");
        assert!(cut.downcast_ref::<DocumentGone>().is_some(), "{cut:#}");

        let page = browser.open(&site.url("/first.html")).await?;
        page.wait_for(
            NAVIGATE_WHILE_AWAITING,
            Duration::from_secs(20),
            "the second page",
        )
        .await?;
        // An exception thrown by the script is still an error at once.
        let started = Instant::now();
        let thrown = page
            .wait_for("noSuchVariable.x", Duration::from_secs(20), "nothing")
            .await
            .expect_err("a thrown exception fails the wait");
        assert!(format!("{thrown:#}").contains("threw"), "{thrown:#}");
        assert!(started.elapsed() < Duration::from_secs(10));
        Ok(())
    }

    /// A form that records what reaches it: clicks, typed text, keys, the pointer, a console line.
    const FORM: &str = "<!doctype html><title>form</title><input id=name>\
        <button id=go onclick=\"window.clicks = (window.clicks || 0) + 1\">Go</button>\
        <script>window.keys = []; addEventListener('keydown', e => keys.push(e.key));\
        addEventListener('mousedown', e => window.down = [e.button, e.clientX, e.clientY]);\
        console.warn('ready', 2);</script>";

    /// What every test helper relies on, whichever the browser.
    async fn drives_a_form(browser: Browser) -> Result<()> {
        let site = TestSite::start(vec![("/form.html", FORM.to_owned())]).await?;
        let page = browser.open(&site.url("/form.html")).await?;
        assert_eq!(page.eval("1 + 1").await?, json!(2));
        assert_eq!(
            page.eval("({ list: [1, 'a', null], node: document.body, none: undefined })")
                .await?,
            json!({ "list": [1, "a", null], "node": {} })
        );
        assert_eq!(page.eval("undefined").await?, Value::Null);
        let thrown = page.eval("throw new Error('boom')").await.unwrap_err();
        assert!(
            format!("{thrown:#}").contains("threw: Error: boom"),
            "{thrown:#}"
        );

        page.type_text("#name", "Zoë \u{202e}x").await?;
        assert_eq!(
            page.eval("document.getElementById('name').value").await?,
            json!("Zoë \u{202e}x")
        );
        page.click("#go").await?;
        page.click("#go").await?;
        assert_eq!(page.eval("window.clicks").await?, json!(2));
        page.mouse("mousePressed", 30.0, 40.0, "right", 0.0).await?;
        page.mouse("mouseReleased", 30.0, 40.0, "right", 0.0)
            .await?;
        assert_eq!(page.eval("window.down").await?, json!([2, 30, 40]));
        for key in ["a", "Enter", "Shift"] {
            page.key(key, true).await?;
            page.key(key, false).await?;
        }
        assert_eq!(
            page.eval("window.keys").await?,
            json!(["a", "Enter", "Shift"])
        );
        assert!(page.screenshot().await?.starts_with(b"\x89PNG"));
        browser.allow_notifications(&site.url("")).await?;
        assert_eq!(page.eval("Notification.permission").await?, "granted");
        assert!(
            page.console()
                .iter()
                .any(|l| l == "console.warning: ready 2"),
            "{:?}",
            page.console()
        );
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn chromium_page_drives_a_form() -> Result<()> {
        drives_a_form(Browser::launch().await?).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn firefox_page_drives_a_form() -> Result<()> {
        drives_a_form(Browser::launch_firefox(FirefoxOptions::default()).await?).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn chromium_wait_for_keeps_polling_across_a_navigation() -> Result<()> {
        waits_across_a_navigation(Browser::launch().await?).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn firefox_wait_for_keeps_polling_across_a_navigation() -> Result<()> {
        waits_across_a_navigation(Browser::launch_firefox(FirefoxOptions::default()).await?).await
    }
}
