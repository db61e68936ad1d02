//! The console runs only the pinned bytes of its vendored modules: served from a folder where
//! one module of the password check was changed by a byte, the page's scripts do not run in
//! Chromium or Firefox (the import map's integrity), and the expert cannot connect; served
//! from the repository's folder, the same page runs. Whoever changes the static files (a
//! compromised static host) cannot slip other code under the password check this way.

use anyhow::{Context, Result};
use std::path::Path;
use tests::browser::{web_static_dir, Browser, FirefoxOptions, Page};
use tests::console::WAIT;
use tests::stack::{AgentProcess, ScratchDir, ServerProcess};
use tests::xvfb::Xvfb;

/// Records, on the page's root element, the first script that failed to load.
const WATCH_SCRIPTS: &str = "document.addEventListener('error', (e) => { \
    if (e.target instanceof HTMLScriptElement) \
    document.documentElement.dataset.scriptFailed ??= e.target.src; }, true);";

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The invitation link of `agent invite` on `server`.
async fn invitation(server: &ServerProcess, xvfb: &Xvfb) -> Result<(AgentProcess, String)> {
    let mut agent = tests::console::start_agent(server, xvfb, &[]).await?;
    let link = tests::console::invitation_link(&mut agent).await?;
    Ok((agent, link))
}

async fn console_runs(page: &Page) -> Result<()> {
    page.wait_for(
        "document.getElementById('connect').disabled === false",
        WAIT,
        "the console's script enabling Connect",
    )
    .await?;
    Ok(())
}

async fn console_refused_its_script(page: &Page) -> Result<()> {
    let failed = page
        .wait_for(
            "document.documentElement.dataset.scriptFailed ?? false",
            WAIT,
            "the console's script refused",
        )
        .await?;
    assert!(
        failed
            .as_str()
            .is_some_and(|s| s.ends_with("/static/js/console.js")),
        "{failed}"
    );
    assert_eq!(
        page.eval("document.getElementById('connect').disabled")
            .await?,
        true,
        "nothing to connect with"
    );
    Ok(())
}

async fn check(browser: &Browser) -> Result<()> {
    browser.add_init_script(WATCH_SCRIPTS).await?;
    let xvfb = Xvfb::start(640, 480)?;

    // The repository's files: the console runs.
    let server = ServerProcess::start().await?;
    let (_agent, link) = invitation(&server, &xvfb).await?;
    let page = browser.open(&link).await?;
    console_runs(&page).await?;

    // One byte more in one vendored module of the password check: nothing runs.
    let dir = ScratchDir::new("web")?;
    copy_dir(&web_static_dir(), dir.path())?;
    let module = dir.path().join("js/vendor/noble-hashes/hmac.js");
    let mut bytes = std::fs::read(&module).context("the vendored HMAC module")?;
    bytes.push(b'\n');
    std::fs::write(&module, bytes)?;
    let web_dir = dir.path().to_string_lossy().into_owned();
    let tampered = ServerProcess::start_with(&["--web-dir", &web_dir]).await?;
    let (_agent, link) = invitation(&tampered, &xvfb).await?;
    let page = browser.open(&link).await?;
    console_refused_its_script(&page).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_runs_no_console_with_a_changed_module() -> Result<()> {
    check(&Browser::launch().await?).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn firefox_runs_no_console_with_a_changed_module() -> Result<()> {
    let Some(browser) = Browser::launch_firefox_or_skip(FirefoxOptions::default()).await? else {
        return Ok(());
    };
    check(&browser).await
}
