//! Headless Firefox ESR driven over WebDriver BiDi, behind the same [`Browser`] and [`Page`] as
//! Chromium.
//!
//! [`launch`] writes a fresh profile whose `user.js` keeps Firefox quiet and offline (no first
//! run, updates, telemetry, remote settings or safe browsing) and lets WebRTC run headless on
//! loopback, then starts `/usr/bin/firefox-esr` on a free port and opens a BiDi session on
//! the WebSocket it prints. [`H264`] decides whether Firefox may use H.264: out of the box it
//! wants the OpenH264 plugin, which it downloads at run time and cannot here, so H.264 is
//! either the system libavcodec (through the hardware-decoding prefs) or nothing at all.
//!
//! Firefox also runs with `MOZ_DISABLE_NONLOCAL_CONNECTIONS=1`, Mozilla's own switch for test
//! runs: its network code refuses connections beyond loopback, and only with it does an ESR
//! build honour `services.settings.server` (without it, remote settings resolve and fetch
//! Mozilla's server at start-up whatever the prefs say). These tests use loopback only.
//!
//! A [`Tab`] is one top-level browsing context. Scripts run with `script.evaluate`, and their
//! results come back as BiDi remote values, turned into the JSON Chromium's `returnByValue`
//! would give ([`from_remote`]). Input goes through `input.performActions`, except typed text,
//! which is inserted as an editing command like Chromium's `Input.insertText` does. Two prefs
//! make a navigation during an evaluation end it with an error, as in Chromium: without them
//! Firefox either runs the script again in the next document (`remote.retry-on-abort`, on by
//! default) or never answers, its promise frozen in the back-forward cache.

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::oneshot;

use super::rpc::{Incoming, Protocol, Rpc};
use super::{
    abbreviate, remove_profile, Browser, Connection, DocumentGone, Launching, Page, Tab as AnyTab,
    COMMAND_TIMEOUT, LAUNCH_TIMEOUT,
};

/// The browser binary (Debian's `firefox-esr` package); tests never download one.
pub const FIREFOX: &str = "/usr/bin/firefox-esr";

/// The viewport of every tab, as big as Chromium's window in these tests.
const VIEWPORT: (u32, u32) = (1280, 800);

/// Whether Firefox may send and receive H.264 over WebRTC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum H264 {
    /// H.264 through the system's libavcodec, by way of Firefox's hardware-decoding path
    /// (`media.webrtc.hw.h264.enabled`, and the blocklist entry that would refuse it on a
    /// machine without a GPU overridden).
    #[default]
    Enabled,
    /// No H.264 at all, neither libavcodec nor the OpenH264 plugin: a browser that must be
    /// offered another codec.
    Disabled,
}

/// How [`Browser::launch_firefox`] sets Firefox up.
#[derive(Clone, Copy, Debug, Default)]
pub struct FirefoxOptions {
    pub h264: H264,
}

/// The profile's `user.js` for `options`.
fn user_js(options: FirefoxOptions) -> String {
    let mut prefs: Vec<(&str, Value)> = vec![
        // WebRTC headless on loopback, with no one to answer permission or autoplay prompts.
        ("media.peerconnection.ice.loopback", json!(true)),
        ("media.navigator.permission.disabled", json!(true)),
        ("media.autoplay.default", json!(0)),
        ("media.autoplay.blocking_policy", json!(0)),
        // A page left behind goes away instead of into the back-forward cache, where its
        // pending promises would freeze, and a script awaiting one would never be answered.
        ("browser.sessionhistory.max_total_viewers", json!(0)),
        // A command whose document goes away fails, as in Chromium, instead of being run again
        // in the next document (up to ten times), which would repeat a script's side effects.
        ("remote.retry-on-abort", json!(false)),
        // No first-run pages, default-browser question or welcome screens.
        ("browser.shell.checkDefaultBrowser", json!(false)),
        ("browser.aboutwelcome.enabled", json!(false)),
        ("browser.startup.page", json!(0)),
        ("browser.startup.homepage_override.mstone", json!("ignore")),
        ("browser.newtabpage.enabled", json!(false)),
        ("startup.homepage_welcome_url", json!("about:blank")),
        ("browser.backup.scheduled.enabled", json!(false)),
        // Nothing that would reach for the network on its own.
        ("app.update.enabled", json!(false)),
        ("app.update.auto", json!(false)),
        ("app.update.disabledForTesting", json!(true)),
        ("app.normandy.enabled", json!(false)),
        ("app.normandy.api_url", json!("")),
        ("app.shield.optoutstudies.enabled", json!(false)),
        ("datareporting.policy.dataSubmissionEnabled", json!(false)),
        ("datareporting.healthreport.uploadEnabled", json!(false)),
        ("toolkit.telemetry.reportingpolicy.firstRun", json!(false)),
        ("toolkit.telemetry.enabled", json!(false)),
        ("toolkit.telemetry.server", json!("")),
        ("network.captive-portal-service.enabled", json!(false)),
        ("network.connectivity-service.enabled", json!(false)),
        ("network.dns.disablePrefetch", json!(true)),
        ("network.prefetch-next", json!(false)),
        ("network.http.speculative-parallel-limit", json!(0)),
        ("network.trr.mode", json!(5)),
        ("extensions.getAddons.cache.enabled", json!(false)),
        ("extensions.update.enabled", json!(false)),
        ("extensions.blocklist.enabled", json!(false)),
        ("extensions.systemAddon.update.enabled", json!(false)),
        ("media.gmp-manager.updateEnabled", json!(false)),
        ("browser.safebrowsing.malware.enabled", json!(false)),
        ("browser.safebrowsing.phishing.enabled", json!(false)),
        ("browser.safebrowsing.downloads.enabled", json!(false)),
        (
            "browser.safebrowsing.downloads.remote.enabled",
            json!(false),
        ),
        ("browser.safebrowsing.blockedURIs.enabled", json!(false)),
        ("browser.safebrowsing.update.enabled", json!(false)),
        (
            "services.settings.server",
            json!("data:,#remote-settings-dummy/v1"),
        ),
        ("messaging-system.rsexperimentloader.enabled", json!(false)),
        ("browser.region.network.url", json!("")),
        ("browser.region.update.enabled", json!(false)),
        ("browser.search.update", json!(false)),
        ("browser.topsites.contile.enabled", json!(false)),
        ("dom.push.connection.enabled", json!(false)),
        ("geo.provider.network.url", json!("")),
        ("identity.fxaccounts.enabled", json!(false)),
        ("privacy.trackingprotection.enabled", json!(false)),
    ];
    prefs.extend(match options.h264 {
        H264::Enabled => [
            ("media.webrtc.hw.h264.enabled", json!(true)),
            ("gfx.blacklist.webrtc.hw.acceleration.h264", json!(1)),
        ],
        H264::Disabled => [
            ("media.webrtc.hw.h264.enabled", json!(false)),
            ("media.gmp-gmpopenh264.enabled", json!(false)),
        ],
    });
    prefs.iter().fold(String::new(), |mut js, (name, value)| {
        let _ = writeln!(js, "user_pref({}, {value});", json!(name));
        js
    })
}

/// The system's libavcodec (`/usr/lib/<triplet>/libavcodec.so.<n>`), which Firefox loads to
/// decode H.264 when the OpenH264 plugin is missing.
fn system_libavcodec() -> Option<std::path::PathBuf> {
    let mut dirs = vec![std::path::PathBuf::from("/usr/lib")];
    if let Ok(entries) = std::fs::read_dir("/usr/lib") {
        dirs.extend(
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with("-linux-gnu")),
        );
    }
    dirs.iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("libavcodec.so."))
        })
}

/// Starts Firefox with a fresh profile and opens a BiDi session with it.
pub(super) async fn launch(options: FirefoxOptions) -> Result<Browser> {
    if !Path::new(FIREFOX).exists() {
        bail!(
            "Firefox ESR is not installed at {FIREFOX}: install the Debian package firefox-esr \
             (scripts/install-deps.sh does)"
        );
    }
    if options.h264 == H264::Enabled && system_libavcodec().is_none() {
        // Without it Firefox still lists H.264 among its codecs, answers H.264, and shows
        // nothing: fail here, where the reason is known.
        bail!(
            "Firefox decodes H.264 with the system's libavcodec, and none is installed: install \
             the Debian package libavcodec59 (firefox-esr only recommends it)"
        );
    }
    let profile = std::env::temp_dir().join(format!(
        "assist-firefox-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    std::fs::create_dir_all(&profile)
        .with_context(|| format!("creating the browser profile {}", profile.display()))?;
    if let Err(error) = std::fs::write(profile.join("user.js"), user_js(options)) {
        remove_profile(&profile);
        return Err(error).context(format!("writing user.js into {}", profile.display()));
    }

    let spawned = Command::new(FIREFOX)
        .args(["--headless", "--no-remote", "--profile"])
        .arg(&profile)
        // Port 0: Firefox picks a free one and prints it.
        .args(["--remote-debugging-port", "0"])
        .env("MOZ_DISABLE_NONLOCAL_CONNECTIONS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Its own process group, so that Drop can end the content processes too.
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(error) => {
            remove_profile(&profile);
            return Err(error).context(format!("starting {FIREFOX}"));
        }
    };
    let stderr = child.stderr.take();
    // From here on a failed launch ends the process and removes the profile.
    let mut launching = Launching {
        child: Some(child),
        profile: profile.clone(),
    };
    let stderr = stderr.ok_or_else(|| anyhow!("firefox's stderr was not captured"))?;
    let (url_tx, url_rx) = oneshot::channel();
    // Firefox keeps logging to stderr; the pipe must be drained for as long as it runs.
    std::thread::spawn(move || {
        let mut url_tx = Some(url_tx);
        for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
            if let Some(url) = line.strip_prefix("WebDriver BiDi listening on ") {
                if let Some(tx) = url_tx.take() {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        }
    });
    let url = tokio::time::timeout(LAUNCH_TIMEOUT, url_rx)
        .await
        .map_err(|_| {
            anyhow!("firefox did not print its WebDriver BiDi address within {LAUNCH_TIMEOUT:?}")
        })?
        .map_err(|_| anyhow!("firefox exited before printing its WebDriver BiDi address"))?;
    let bidi = Bidi::connect(&format!("{url}/session")).await?;
    bidi.call("session.new", json!({ "capabilities": {} }))
        .await?;
    bidi.call("session.subscribe", json!({ "events": ["log.entryAdded"] }))
        .await?;
    let child = launching
        .child
        .take()
        .ok_or_else(|| anyhow!("the browser process went missing during launch"))?;
    Ok(Browser {
        child,
        profile,
        connection: Connection::Firefox(bidi),
        init_scripts: Mutex::default(),
    })
}

/// An error answer: its code (`no such frame`, `unknown error`, ...) and message.
#[derive(Debug)]
struct BidiError {
    code: String,
    message: String,
}

impl BidiError {
    /// Whether the command failed because its document went away. Firefox answers
    /// `no such frame` once a context is gone, and aborts a command whose document is
    /// replaced by a navigation while it runs ("Actor 'MessageHandlerFrame' destroyed before
    /// query ... was resolved", a `DiscardedBrowsingContextError`).
    fn document_gone(&self) -> bool {
        self.code == "no such frame"
            || [
                "DiscardedBrowsingContextError",
                "destroyed before query",
                "InactiveActor",
                "Inspected target navigated",
                "MessageHandlerFrame",
            ]
            .iter()
            .any(|m| self.message.contains(m))
    }
}

/// The BiDi connection to one Firefox: console entries are kept per browsing context.
#[derive(Clone)]
pub(super) struct Bidi {
    rpc: Rpc<WebDriverBidi>,
}

/// WebDriver BiDi: every frame says its `type`, `success` or `error` with the command's `id`,
/// or `event`.
struct WebDriverBidi;

impl Protocol for WebDriverBidi {
    const BROWSER: &'static str = "firefox";
    const NAME: &'static str = "WebDriver BiDi";
    type Error = BidiError;

    fn classify(mut frame: Value) -> Incoming<BidiError> {
        match frame["type"].as_str() {
            Some(kind @ ("success" | "error")) => {
                let Some(id) = frame["id"].as_u64() else {
                    return Incoming::Ignored;
                };
                let reply = if kind == "error" {
                    Err(BidiError {
                        code: frame["error"].as_str().unwrap_or("").to_owned(),
                        message: frame["message"].as_str().unwrap_or("").to_owned(),
                    })
                } else {
                    Ok(frame["result"].take())
                };
                Incoming::Reply { id, reply }
            }
            Some("event") => match log_line(&frame) {
                Some((context, line)) => Incoming::Console { tab: context, line },
                None => Incoming::Ignored,
            },
            _ => Incoming::Ignored,
        }
    }

    fn failure(method: &str, error: BidiError) -> anyhow::Error {
        let text = format!("{method} failed: {}: {}", error.code, error.message);
        if error.document_gone() {
            DocumentGone(text).into()
        } else {
            anyhow!(text)
        }
    }
}

impl Bidi {
    async fn connect(url: &str) -> Result<Bidi> {
        Ok(Bidi {
            rpc: Rpc::connect(url).await?,
        })
    }

    async fn call(&self, method: &str, params: Value) -> Result<Value> {
        self.rpc.call(None, method, params).await
    }

    async fn call_within(&self, method: &str, params: Value, limit: Duration) -> Result<Value> {
        self.rpc.call_within(None, method, params, limit).await
    }

    /// Lets pages of `origin` show desktop notifications.
    pub(super) async fn allow_notifications(&self, origin: &str) -> Result<()> {
        self.call(
            "permissions.setPermission",
            json!({
                "descriptor": { "name": "notifications" },
                "state": "granted",
                "origin": origin,
            }),
        )
        .await?;
        Ok(())
    }

    /// Runs `source` in every document from now on, before the page's own scripts.
    pub(super) async fn add_preload_script(&self, source: &str) -> Result<()> {
        self.call(
            "script.addPreloadScript",
            json!({ "functionDeclaration": format!("() => {{\n{source}\n}}") }),
        )
        .await?;
        Ok(())
    }

    /// Opens a new tab on `url` and waits until the document at `lands_on` has loaded.
    pub(super) async fn open_landing_on(&self, url: &str, lands_on: &str) -> Result<Page> {
        let created = self
            .call("browsingContext.create", json!({ "type": "tab" }))
            .await?;
        let context = created["context"]
            .as_str()
            .ok_or_else(|| anyhow!("browsingContext.create returned no context: {created}"))?
            .to_owned();
        self.call(
            "browsingContext.setViewport",
            json!({
                "context": context,
                "viewport": { "width": VIEWPORT.0, "height": VIEWPORT.1 },
            }),
        )
        .await?;
        self.call(
            "browsingContext.navigate",
            json!({ "context": context, "url": url, "wait": "complete" }),
        )
        .await
        .with_context(|| format!("opening {url} failed"))?;
        let page = Page {
            tab: AnyTab::Firefox(Tab {
                bidi: self.clone(),
                context,
            }),
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

    pub(super) fn shutdown(&self) {
        self.rpc.shutdown();
    }
}

/// The browsing context and readable line of a `log.entryAdded` event, as Chromium's console
/// lines read: `console.<type>: <text>` or `uncaught: <text>`.
fn log_line(frame: &Value) -> Option<(String, String)> {
    if frame["method"] != "log.entryAdded" {
        return None;
    }
    let params = &frame["params"];
    let context = params["source"]["context"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let text = params["text"].as_str().unwrap_or("");
    let line = match params["type"].as_str() {
        // Chromium's name for `console.warn` is `warning`.
        Some("console") => match params["method"].as_str().unwrap_or("log") {
            "warn" => format!("console.warning: {text}"),
            method => format!("console.{method}: {text}"),
        },
        Some("javascript") => format!("uncaught: {text}"),
        other => format!("{}: {text}", other.unwrap_or("log")),
    };
    Some((context, line))
}

/// The JSON value Chromium's `returnByValue` gives for a BiDi remote value: primitives as
/// they are, arrays and plain objects recursively, and every other object (a node, a stream, a
/// function) as `{}`. `undefined` and numbers JSON cannot hold (NaN, infinities) are `null`.
fn from_remote(remote: &Value) -> Value {
    let value = &remote["value"];
    match remote["type"].as_str().unwrap_or("") {
        "string" | "boolean" => value.clone(),
        "number" => match value {
            Value::Number(_) => value.clone(),
            Value::String(s) if s == "-0" => json!(0),
            _ => Value::Null,
        },
        "bigint" | "date" => value.clone(),
        "array" | "set" | "nodelist" | "htmlcollection" => match value.as_array() {
            Some(items) => Value::Array(items.iter().map(from_remote).collect()),
            None => json!({}),
        },
        "object" | "map" => {
            let mut object = serde_json::Map::new();
            for pair in value.as_array().into_iter().flatten() {
                // As in JSON, a property whose value is `undefined` is left out.
                if pair[1]["type"] == "undefined" {
                    continue;
                }
                let key = match &pair[0] {
                    Value::String(key) => key.clone(),
                    other => match from_remote(other) {
                        Value::String(key) => key,
                        key => key.to_string(),
                    },
                };
                object.insert(key, from_remote(&pair[1]));
            }
            Value::Object(object)
        }
        "undefined" | "null" => Value::Null,
        _ => json!({}),
    }
}

/// The WebDriver key value for a `KeyboardEvent.key` value: a character stands for itself,
/// names map to the code points WebDriver reserves for them.
fn key_value(key: &str) -> Option<String> {
    let mut chars = key.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Some(c.to_string());
    }
    let code = match key {
        "Cancel" => '\u{E001}',
        "Help" => '\u{E002}',
        "Backspace" => '\u{E003}',
        "Tab" => '\u{E004}',
        "Clear" => '\u{E005}',
        "Enter" => '\u{E007}',
        "Shift" => '\u{E008}',
        "Control" => '\u{E009}',
        "Alt" => '\u{E00A}',
        "Pause" => '\u{E00B}',
        "Escape" => '\u{E00C}',
        "PageUp" => '\u{E00E}',
        "PageDown" => '\u{E00F}',
        "End" => '\u{E010}',
        "Home" => '\u{E011}',
        "ArrowLeft" => '\u{E012}',
        "ArrowUp" => '\u{E013}',
        "ArrowRight" => '\u{E014}',
        "ArrowDown" => '\u{E015}',
        "Insert" => '\u{E016}',
        "Delete" => '\u{E017}',
        "F1" => '\u{E031}',
        "F2" => '\u{E032}',
        "F3" => '\u{E033}',
        "F4" => '\u{E034}',
        "F5" => '\u{E035}',
        "F6" => '\u{E036}',
        "F7" => '\u{E037}',
        "F8" => '\u{E038}',
        "F9" => '\u{E039}',
        "F10" => '\u{E03A}',
        "F11" => '\u{E03B}',
        "F12" => '\u{E03C}',
        "Meta" => '\u{E03D}',
        _ => return None,
    };
    Some(code.to_string())
}

/// The WebDriver button number of a CDP-style button name.
fn button_number(button: &str) -> Option<u8> {
    match button {
        "left" => Some(0),
        "middle" => Some(1),
        "right" => Some(2),
        _ => None,
    }
}

/// One Firefox tab: a top-level browsing context.
pub(super) struct Tab {
    bidi: Bidi,
    context: String,
}

impl Tab {
    pub(super) async fn eval_within(&self, js: &str, limit: Duration) -> Result<Value> {
        let reply = self
            .bidi
            .call_within(
                "script.evaluate",
                json!({
                    "expression": js,
                    "target": { "context": self.context },
                    "awaitPromise": true,
                    "resultOwnership": "none",
                    "serializationOptions": { "maxDomDepth": 0 },
                    "userActivation": true,
                }),
                limit,
            )
            .await
            .with_context(|| format!("evaluating `{}`", abbreviate(js)))?;
        if reply["type"] == "exception" {
            let details = &reply["exceptionDetails"];
            let message = details["text"].as_str().unwrap_or("unknown exception");
            bail!("`{}` threw: {message}", abbreviate(js));
        }
        Ok(from_remote(&reply["result"]))
    }

    /// Inserts `text` at the focused element's caret as one editing command, like Chromium's
    /// `Input.insertText`: `beforeinput` and `input` events, no key events.
    pub(super) async fn insert_text(&self, text: &str) -> Result<()> {
        let inserted = self
            .eval_within(
                &format!("document.execCommand('insertText', false, {})", json!(text)),
                COMMAND_TIMEOUT,
            )
            .await?;
        if inserted != Value::Bool(true) {
            bail!("firefox refused to insert text into the focused element");
        }
        Ok(())
    }

    pub(super) async fn mouse(
        &self,
        kind: &str,
        x: f64,
        y: f64,
        button: &str,
        delta_y: f64,
    ) -> Result<()> {
        let source = if kind == "mouseWheel" {
            // Scroll positions are whole pixels in WebDriver.
            json!({
                "type": "wheel",
                "id": "wheel",
                "actions": [{
                    "type": "scroll",
                    "x": x.round() as i64,
                    "y": y.round() as i64,
                    "deltaX": 0,
                    "deltaY": delta_y.round() as i64,
                }],
            })
        } else {
            let mut actions = vec![json!({ "type": "pointerMove", "x": x, "y": y, "duration": 0 })];
            let press = match kind {
                "mousePressed" => Some("pointerDown"),
                "mouseReleased" => Some("pointerUp"),
                "mouseMoved" => None,
                other => bail!("unknown mouse event kind {other}"),
            };
            if let (Some(press), Some(button)) = (press, button_number(button)) {
                actions.push(json!({ "type": press, "button": button }));
            }
            json!({
                "type": "pointer",
                "id": "mouse",
                "parameters": { "pointerType": "mouse" },
                "actions": actions,
            })
        };
        self.perform(source).await
    }

    pub(super) async fn key(&self, key: &str, down: bool) -> Result<()> {
        let value =
            key_value(key).ok_or_else(|| anyhow!("no WebDriver key for the key name {key:?}"))?;
        self.perform(json!({
            "type": "key",
            "id": "keyboard",
            "actions": [{ "type": if down { "keyDown" } else { "keyUp" }, "value": value }],
        }))
        .await
    }

    async fn perform(&self, source: Value) -> Result<()> {
        self.bidi
            .call(
                "input.performActions",
                json!({ "context": self.context, "actions": [source] }),
            )
            .await?;
        Ok(())
    }

    /// The screenshot as base64, as the protocol sends it.
    pub(super) async fn screenshot(&self) -> Result<String> {
        let reply = self
            .bidi
            .call(
                "browsingContext.captureScreenshot",
                json!({ "context": self.context }),
            )
            .await?;
        reply["data"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("browsingContext.captureScreenshot returned no data"))
    }

    pub(super) fn console(&self) -> Vec<String> {
        self.bidi.rpc.console(&self.context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_js_switches_h264_as_asked() {
        let on = user_js(FirefoxOptions {
            h264: H264::Enabled,
        });
        assert!(on.contains("user_pref(\"media.webrtc.hw.h264.enabled\", true);"));
        assert!(on.contains("user_pref(\"gfx.blacklist.webrtc.hw.acceleration.h264\", 1);"));
        let off = user_js(FirefoxOptions {
            h264: H264::Disabled,
        });
        assert!(off.contains("user_pref(\"media.webrtc.hw.h264.enabled\", false);"));
        assert!(off.contains("user_pref(\"media.gmp-gmpopenh264.enabled\", false);"));
        assert!(off.contains("user_pref(\"media.peerconnection.ice.loopback\", true);"));
        assert!(off.contains(
            "user_pref(\"services.settings.server\", \"data:,#remote-settings-dummy/v1\");"
        ));
    }

    #[test]
    fn remote_values_become_what_chromium_returns_by_value() {
        let remote = json!({ "type": "object", "value": [
            ["n", { "type": "number", "value": 2 }],
            ["nan", { "type": "number", "value": "NaN" }],
            ["list", { "type": "array", "value": [{ "type": "string", "value": "a" }, { "type": "undefined" }] }],
            ["node", { "type": "node", "sharedId": "x" }],
            ["ok", { "type": "boolean", "value": true }],
            ["gone", { "type": "undefined" }],
        ]});
        assert_eq!(
            from_remote(&remote),
            json!({ "n": 2, "nan": null, "list": ["a", null], "node": {}, "ok": true })
        );
        assert_eq!(from_remote(&json!({ "type": "undefined" })), Value::Null);
    }

    #[test]
    fn log_entries_become_lines_per_context() {
        let frame = json!({ "type": "event", "method": "log.entryAdded", "params": {
            "type": "console", "method": "warn", "level": "warn", "text": "hi 2",
            "source": { "realm": "r", "context": "c1" } } });
        assert_eq!(
            log_line(&frame),
            Some(("c1".to_owned(), "console.warning: hi 2".to_owned()))
        );
    }

    #[test]
    fn bidi_frames_are_told_apart_by_their_type() {
        let answer = json!({ "type": "success", "id": 3, "result": { "context": "c1" } });
        assert!(matches!(
            WebDriverBidi::classify(answer),
            Incoming::Reply { id: 3, reply: Ok(result) } if result == json!({ "context": "c1" })
        ));
        let error =
            json!({ "type": "error", "id": 4, "error": "no such frame", "message": "gone" });
        assert!(matches!(
            WebDriverBidi::classify(error),
            Incoming::Reply { id: 4, reply: Err(BidiError { code, message }) }
                if code == "no such frame" && message == "gone"
        ));
        let log = json!({ "type": "event", "method": "log.entryAdded", "params": {
            "type": "javascript", "text": "Error: boom", "source": { "context": "c1" } } });
        assert!(matches!(
            WebDriverBidi::classify(log),
            Incoming::Console { tab, line } if tab == "c1" && line == "uncaught: Error: boom"
        ));
        let idless = json!({ "type": "error", "error": "invalid argument", "message": "?" });
        assert!(matches!(WebDriverBidi::classify(idless), Incoming::Ignored));
    }

    #[test]
    fn key_names_become_webdriver_code_points() {
        assert_eq!(key_value("a").as_deref(), Some("a"));
        assert_eq!(key_value("Enter").as_deref(), Some("\u{E007}"));
        assert_eq!(key_value("Nonsense"), None);
    }

    #[test]
    fn navigation_errors_count_as_a_document_gone() {
        let gone = BidiError {
            code: "no such frame".into(),
            message: "Browsing context with id 1 not found".into(),
        };
        assert!(gone.document_gone());
        let thrown = BidiError {
            code: "invalid argument".into(),
            message: "Expected \"expression\" to be a string".into(),
        };
        assert!(!thrown.document_gone());
    }
}
