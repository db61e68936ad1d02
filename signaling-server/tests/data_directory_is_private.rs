//! The SQLite data directory holds the ticket-signing key and the TURN secret: only the
//! server's own user may read it, whether the server made it or found it made by others.

use signaling_server::store::Store;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// Every file the database left in `dir`, journals included, with its mode.
fn files(dir: &Path) -> Vec<(String, u32)> {
    std::fs::read_dir(dir)
        .expect("read the data directory")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                mode(&e.path()),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_new_data_directory_is_readable_by_its_owner_alone() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("data");
    let store = Store::open_sqlite_dir(&dir).await.expect("open");
    // The secrets are written on first use, as the server does at start-up.
    store
        .key("test_secret", || "s3cret".into())
        .await
        .expect("key");
    assert_eq!(mode(&dir), 0o700, "data directory");
    let found = files(&dir);
    assert!(
        found.iter().any(|(name, _)| name == "assist.db"),
        "{found:?}"
    );
    for (name, m) in &found {
        assert_eq!(m & 0o077, 0, "{name} is open to others: {m:o}");
    }
    store.close().await;
}

#[tokio::test]
async fn a_data_directory_open_to_others_is_closed_at_start() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("data");
    let store = Store::open_sqlite_dir(&dir).await.expect("first open");
    store.close().await;
    // As an older version, or a careless copy, left them.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod dir");
    let db = dir.join("assist.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod db");

    let store = Store::open_sqlite_dir(&dir).await.expect("second open");
    assert_eq!(mode(&dir), 0o700, "data directory");
    assert_eq!(mode(&db), 0o600, "database");
    store.close().await;
}
