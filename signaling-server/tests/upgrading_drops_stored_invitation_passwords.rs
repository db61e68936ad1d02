//! A database made by a server that still judged invitation passwords, upgraded by this one, on
//! SQLite and on PostgreSQL: the Argon2 hashes are gone with their column, what the console
//! needs (whether to ask for a password) and what the novice saw (locked after five wrong
//! passwords) are kept.

mod common;

use common::{Backend, TestDb};
use signaling_server::store::Store;
use sqlx::migrate::Migrator;
use std::path::Path;

/// The last migration of the schema that stored password hashes.
const BEFORE: i64 = 5;

/// Copies the migrations up to [`BEFORE`], shared and `backend`'s own, into one directory, as
/// the server of that version ran them.
fn old_migrations(backend: Backend, into: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let own = root.join(match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    });
    for dir in [root.as_path(), own.as_path()] {
        for entry in std::fs::read_dir(dir).expect("migrations") {
            let path = entry.expect("entry").path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let version: Option<i64> = name.split('_').next().and_then(|v| v.parse().ok());
            if path.extension().is_some_and(|e| e == "sql") && version.is_some_and(|v| v <= BEFORE)
            {
                std::fs::copy(&path, into.join(name)).expect("copy");
            }
        }
    }
}

async fn upgrading_drops_stored_invitation_passwords(backend: Backend) {
    let db = TestDb::new(backend).await;
    let old = tempfile::tempdir().expect("temp dir");
    old_migrations(backend, old.path());
    sqlx::any::install_default_drivers();
    {
        let pool = sqlx::AnyPool::connect(&db.url).await.expect("connect");
        Migrator::new(old.path())
            .await
            .expect("old migrations")
            .run(&pool)
            .await
            .expect("the old schema");
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        for sql in [
            "INSERT INTO agents (id, name, token_hash, created_at) \
             VALUES ('a', 'Alice', 'x', 1)",
            // With a password, with two wrong guesses; with a password, locked after five;
            // without one.
            "INSERT INTO invitations (id, agent_id, code_hash, short_code_hash, password_hash, \
             created_at, expires_at, failed_attempts) VALUES ('i1', 'a', 'c1', 's1', 'HASH', 10, 99, 2)",
            "INSERT INTO invitations (id, agent_id, code_hash, short_code_hash, password_hash, \
             created_at, expires_at, failed_attempts) VALUES ('i2', 'a', 'c2', 's2', 'HASH', 20, 99, 5)",
            "INSERT INTO invitations (id, agent_id, code_hash, short_code_hash, password_hash, \
             created_at, expires_at, failed_attempts) VALUES ('i3', 'a', 'c3', 's3', NULL, 30, 99, 0)",
        ] {
            sqlx::query(&sql.replace("HASH", hash))
                .execute(&pool)
                .await
                .expect(sql);
        }
        pool.close().await;
    }

    // This server's start runs what is left.
    let store = Store::connect(&db.url).await.expect("upgraded");
    store.close().await;

    let mut conn = common::raw_connection(&db).await;
    let rows: Vec<(String, i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT id, has_password, failed_attempts, locked_at FROM invitations ORDER BY id",
    )
    .fetch_all(&mut conn)
    .await
    .expect("rows");
    assert_eq!(
        rows,
        vec![
            ("i1".into(), 1, 2, None),
            ("i2".into(), 1, 5, Some(20)),
            ("i3".into(), 0, 0, None),
        ]
    );
    let gone = sqlx::query("SELECT password_hash FROM invitations")
        .fetch_all(&mut conn)
        .await;
    assert!(gone.is_err(), "the column of hashes is dropped");
    drop(conn);
    db.cleanup().await;
}
both_backends!(
    upgrading_drops_stored_invitation_passwords,
    upgrading_drops_stored_invitation_passwords
);
