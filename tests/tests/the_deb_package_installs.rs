//! The agent as a Debian package: `scripts/build-deb.sh` makes a .deb that installs with plain
//! `dpkg -i` on a machine that ran `scripts/install-deps.sh` (its Depends all there, no
//! `apt-get -f`), puts "Remote Assistance" in the desktop menu with its icon and the invitation
//! file type, runs (its menu entry opens the novice's window), and leaves none of its files
//! behind once removed.
//!
//! It installs for real, so it needs root and dpkg, as CI has; without them it fails rather than
//! passing unrun. The package is made around the tests' own build of the agent (`--binary`);
//! `ASSIST_TEST_DEB=PATH` tests a package made elsewhere instead.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{bail, ensure, Context, Result};

const PACKAGE: &str = "remote-assistance";
const MIME_TYPE: &str = "application/x-remote-assistance-invitation";
/// Every file the package installs, and that removing it takes away.
const FILES: &[&str] = &[
    "/usr/bin/remote-assistance",
    "/usr/share/applications/remote-assistance.desktop",
    "/usr/share/icons/hicolor/scalable/apps/remote-assistance.svg",
    "/usr/share/mime/packages/remote-assistance.xml",
    "/usr/share/doc/remote-assistance/copyright",
];

#[test]
fn the_deb_package_installs_runs_and_removes_cleanly() -> Result<()> {
    for tool in ["dpkg", "dpkg-deb"] {
        ensure!(
            which(tool).is_some(),
            "{tool} is missing: this test builds and installs a Debian package"
        );
    }
    ensure!(
        nix::unistd::Uid::effective().is_root(),
        "installing the package needs root (CI runs this test as root)"
    );
    if is_installed()? {
        // Left behind by an interrupted run: start from a machine without it.
        run(Command::new("dpkg").args(["--purge", PACKAGE]))?;
    }

    let deb = match std::env::var_os("ASSIST_TEST_DEB") {
        Some(path) => PathBuf::from(path),
        None => build()?,
    };
    check_package(&deb)?;

    let installed = Installed::install(&deb)?;
    check_installed()?;
    installed.remove()?;
    for file in FILES {
        ensure!(
            !Path::new(file).exists(),
            "{file} is still there after dpkg --purge"
        );
    }
    let database = format!("/usr/share/mime/{MIME_TYPE}.xml");
    if which("update-mime-database").is_some() {
        ensure!(
            !Path::new(&database).exists(),
            "the MIME database still knows the invitation type after dpkg --purge"
        );
    }
    Ok(())
}

/// Runs the script as a user would, and returns the .deb it made.
fn build() -> Result<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("the workspace root")?;
    // The tests' own agent: what is packaged around it is under test here, not how it was
    // optimised, and a release build would double the suite's compile time.
    let agent = tests::stack::workspace_binary("agent")?;
    let output = run(Command::new("bash")
        .arg(root.join("scripts/build-deb.sh"))
        .arg("--binary")
        .arg(&agent)
        .current_dir(root))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    print!("{stdout}");
    let path = stdout
        .lines()
        .find_map(|line| line.strip_prefix("Built "))
        .context("build-deb.sh printed no `Built PATH` line")?;
    ensure!(
        stdout.lines().any(|l| l.starts_with("Size: ")),
        "build-deb.sh printed no size: {stdout}"
    );
    Ok(PathBuf::from(path.trim()))
}

/// What the package says about itself and holds, before it goes anywhere near the system.
fn check_package(deb: &Path) -> Result<()> {
    let info = stdout(Command::new("dpkg-deb").arg("--info").arg(deb))?;
    let field = |name: &str| {
        info.lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix(&format!("{name}: "))
                    .map(str::to_owned)
            })
            .with_context(|| format!("no {name} in the control file:\n{info}"))
    };
    ensure!(field("Package")? == PACKAGE, "{info}");
    ensure!(
        field("Version")? == env!("CARGO_PKG_VERSION"),
        "the workspace's version: {info}"
    );
    let arch = stdout(Command::new("dpkg").arg("--print-architecture"))?;
    ensure!(field("Architecture")? == arch.trim(), "{info}");
    let depends = field("Depends")?;
    for library in ["libc6", "libvpx7", "libgl1", "libegl1"] {
        ensure!(
            depends
                .split(',')
                .any(|d| d.split_whitespace().next() == Some(library)),
            "Depends lacks {library}: {depends}"
        );
    }
    ensure!(
        info.contains("postinst") && info.contains("postrm"),
        "{info}"
    );

    let contents = stdout(Command::new("dpkg-deb").arg("--contents").arg(deb))?;
    for file in FILES {
        ensure!(
            contents.lines().any(|l| l.ends_with(&format!(".{file}"))),
            "{file} is not in the package:\n{contents}"
        );
    }
    ensure!(
        contents
            .lines()
            .all(|l| l.split_whitespace().nth(1) == Some("root/root")),
        "every file belongs to root:\n{contents}"
    );

    // The menu entry, as desktop-file-validate reads it.
    let unpacked = tempdir()?;
    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(&unpacked))?;
    let desktop = unpacked.join("usr/share/applications/remote-assistance.desktop");
    let entry = std::fs::read_to_string(&desktop)?;
    for line in [
        "Name=Remote Assistance",
        "Name[sv]=Fjärrhjälp",
        "Exec=remote-assistance window %f",
        "Icon=remote-assistance",
        "Categories=Network;RemoteAccess;",
        &format!("MimeType={MIME_TYPE};"),
    ] {
        ensure!(entry.lines().any(|l| l == line), "no {line:?} in\n{entry}");
    }
    ensure!(
        entry.contains("Comment[sv]="),
        "a Swedish comment:\n{entry}"
    );
    if which("desktop-file-validate").is_some() {
        let out = run(Command::new("desktop-file-validate").arg(&desktop))?;
        let said = String::from_utf8_lossy(&out.stdout);
        ensure!(said.trim().is_empty(), "desktop-file-validate: {said}");
    } else if !tests::skip_allowed() {
        bail!("desktop-file-validate is missing (desktop-file-utils; scripts/install-deps.sh)");
    }
    std::fs::remove_dir_all(&unpacked)?;
    Ok(())
}

/// The installed package: it runs, and the desktop knows its entry and the invitation type.
fn check_installed() -> Result<()> {
    for file in FILES {
        ensure!(Path::new(file).exists(), "{file} was not installed");
    }
    let help = stdout(Command::new("/usr/bin/remote-assistance").arg("--help"))?;
    ensure!(help.contains("Usage"), "--help printed: {help}");
    entry_opens_the_window()?;

    // update-mime-database, run by postinst (or shared-mime-info's trigger), has taken the type.
    if which("update-mime-database").is_some() {
        let database = format!("/usr/share/mime/{MIME_TYPE}.xml");
        ensure!(
            Path::new(&database).exists(),
            "{database}: the MIME database was not updated"
        );
        let globs = std::fs::read_to_string("/usr/share/mime/globs2")?;
        ensure!(
            globs.contains(&format!("{MIME_TYPE}:*.invitation.html")),
            "no glob for invitations in /usr/share/mime/globs2"
        );
    }
    // A file manager (GIO) knows an invitation by its contents, whatever its name, and a
    // plain web page stays one.
    if which("gio").is_some() {
        let dir = tempdir()?;
        let invitation = dir.join("help me.html");
        std::fs::write(&invitation, INVITATION)?;
        let named = dir.join("eve.invitation.html");
        std::fs::write(&named, INVITATION)?;
        let page = dir.join("page.html");
        std::fs::write(
            &page,
            "<!DOCTYPE html>\n<html><head><title>A page</title></head></html>\n",
        )?;
        ensure!(content_type(&invitation)? == MIME_TYPE, "by its contents");
        ensure!(content_type(&named)? == MIME_TYPE, "by its name");
        ensure!(
            content_type(&page)? == "text/html",
            "a web page stays text/html"
        );
        std::fs::remove_dir_all(&dir)?;
    }
    // update-desktop-database, run by postinst, makes the entry the type's application.
    if which("update-desktop-database").is_some() {
        let cache = std::fs::read_to_string("/usr/share/applications/mimeinfo.cache")?;
        ensure!(
            cache
                .lines()
                .any(|l| l.starts_with(&format!("{MIME_TYPE}="))
                    && l.contains("remote-assistance.desktop")),
            "mimeinfo.cache does not name remote-assistance.desktop for invitations"
        );
    }
    Ok(())
}

/// The desktop entry's command, as the menu runs it (no file), opens the novice's window on a
/// display; with no server to reach it says so in the window, which stays.
fn entry_opens_the_window() -> Result<()> {
    let entry = std::fs::read_to_string("/usr/share/applications/remote-assistance.desktop")?;
    let exec = entry
        .lines()
        .find_map(|l| l.strip_prefix("Exec="))
        .context("no Exec line")?;
    let mut words = exec.split_whitespace().filter(|w| *w != "%f");
    let program = words.next().context("an empty Exec line")?;
    let xvfb = tests::xvfb::Xvfb::start(1024, 768)?;
    let home = tempdir()?;
    let mut window = xvfb
        .command(program)
        .args(words)
        .env("HOME", &home)
        .env("LANG", "C.UTF-8")
        .env("LC_ALL", "")
        .env("LC_MESSAGES", "")
        .env_remove("ASSIST_SERVER")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("starting the desktop entry's command")?;
    let started = std::time::Instant::now();
    let shown = loop {
        let found = xvfb
            .command("xdotool")
            .args(["search", "--name", "^Remote Assistance$"])
            .output()
            .context("xdotool")?;
        if found.status.success() && !found.stdout.is_empty() {
            break true;
        }
        if started.elapsed() > std::time::Duration::from_secs(45) {
            break false;
        }
        if window.try_wait()?.is_some() {
            break false;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let _ = window.kill();
    let _ = window.wait();
    std::fs::remove_dir_all(&home)?;
    ensure!(
        shown,
        "the menu's command opened no \"Remote Assistance\" window"
    );
    Ok(())
}

/// An invitation file in the shape `agent invite --save` writes (agent/src/invitation/file.rs).
const INVITATION: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Remote assistance invitation from Eve on laptop</title>
<meta http-equiv="refresh" content="0; url=https://assist.example.org/i/k3x9">
<script type="application/json" id="remote-assistance-invitation">
{
  "format": "remote-assistance-invitation",
  "version": 1
}
</script>
</head>
<body>
<h1>Eve on laptop asks for your help</h1>
</body>
</html>
"#;

fn content_type(file: &Path) -> Result<String> {
    let out = stdout(
        Command::new("gio")
            .args(["info", "--attributes=standard::content-type"])
            .arg(file),
    )?;
    out.lines()
        .find_map(|l| l.trim().strip_prefix("standard::content-type: "))
        .map(str::to_owned)
        .with_context(|| format!("gio info printed no content type: {out}"))
}

/// The package while installed: removed when dropped, whatever the test did meanwhile.
struct Installed {
    removed: bool,
}

impl Installed {
    fn install(deb: &Path) -> Result<Self> {
        // Guard first: a half-done installation is removed too.
        let guard = Installed { removed: false };
        run(Command::new("dpkg").arg("-i").arg(deb)).context(
            "dpkg -i failed: the package's Depends must all be installed by scripts/install-deps.sh",
        )?;
        ensure!(is_installed()?, "dpkg -i left {PACKAGE} not installed");
        Ok(guard)
    }

    fn remove(mut self) -> Result<()> {
        self.removed = true;
        run(Command::new("dpkg").args(["--purge", PACKAGE]))?;
        ensure!(
            !is_installed()?,
            "{PACKAGE} is still installed after dpkg --purge"
        );
        Ok(())
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        if !self.removed {
            let _ = Command::new("dpkg").args(["--purge", PACKAGE]).status();
        }
    }
}

fn is_installed() -> Result<bool> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", PACKAGE])
        .output()
        .context("dpkg-query")?;
    Ok(String::from_utf8_lossy(&out.stdout).ends_with(" installed"))
}

/// Runs `command`, failing with its output unless it succeeds.
fn run(command: &mut Command) -> Result<Output> {
    let output = command
        .output()
        .with_context(|| format!("could not start {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(output)
}

fn stdout(command: &mut Command) -> Result<String> {
    Ok(String::from_utf8_lossy(&run(command)?.stdout).into_owned())
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|path| path.is_file())
    })
}

fn tempdir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "deb-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
