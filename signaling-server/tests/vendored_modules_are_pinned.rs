//! The console runs only the very bytes of the vendored modules of the password check: the
//! import map it inlines names each one's SHA-384 (the browser refuses a module whose bytes
//! differ), that map matches the files in `web/static/js/vendor/`, and the page's policy allows
//! that one inline script by its hash and no other.

mod common;

use base64::Engine as _;
use common::{Backend, TestDb, TestServer};
use protocol::api::CreateInvitationRequest;
use sha2::Digest as _;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn web_js() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/static/js")
}

/// Every `.js` file under `dir`, by its URL path on the server.
fn modules(dir: &Path, found: &mut BTreeMap<String, PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("the vendor folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            modules(&path, found);
        } else if path.extension().is_some_and(|e| e == "js") {
            let relative = path.strip_prefix(web_js()).expect("under web/static/js");
            found.insert(format!("/static/js/{}", relative.display()), path);
        }
    }
}

fn integrity_of(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("a module");
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(bytes))
    )
}

#[test]
fn the_import_map_pins_every_vendored_module_to_its_bytes() {
    let mut files = BTreeMap::new();
    modules(&web_js().join("vendor"), &mut files);
    assert!(files.len() >= 10, "the vendored modules: {files:?}");
    let map: serde_json::Value =
        serde_json::from_str(signaling_server::pages::IMPORT_MAP).expect("the import map is JSON");
    let pinned = map["integrity"].as_object().expect("an integrity map");
    for (url, path) in &files {
        let want = integrity_of(path);
        assert_eq!(
            pinned.get(url).and_then(|v| v.as_str()),
            Some(want.as_str()),
            "{url} is pinned to its bytes; after re-vendoring, the entry is \"{url}\": \"{want}\""
        );
    }
    for url in pinned.keys() {
        assert!(files.contains_key(url), "{url} is pinned but not vendored");
    }
}

#[tokio::test]
async fn the_console_inlines_the_map_and_its_policy_allows_only_that_script() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let agent = server.agent("Nora").await;
    let inv = agent.invite(&CreateInvitationRequest::default()).await;
    let res = reqwest::get(&inv.link).await.expect("the console page");
    assert_eq!(res.status().as_u16(), 200);
    let csp = res
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let html = res.text().await.expect("html");
    let inline = format!(
        "<script type=\"importmap\">{}</script>",
        signaling_server::pages::IMPORT_MAP
    );
    assert!(html.contains(&inline), "the import map, as it is: {html}");
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(
        signaling_server::pages::IMPORT_MAP.as_bytes(),
    ));
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .unwrap_or_default();
    assert_eq!(
        script_src,
        format!("script-src 'self' 'sha256-{hash}'"),
        "{csp}"
    );
    // The import map comes before the first module script, or browsers ignore it.
    let map_at = html.find("type=\"importmap\"").expect("a map");
    let module_at = html.find("type=\"module\"").expect("a module");
    assert!(map_at < module_at, "the map before the modules");
    server.stop().await;
}
