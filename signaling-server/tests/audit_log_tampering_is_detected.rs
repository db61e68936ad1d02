//! The database refuses to change or delete audit events, and whoever gets round that by
//! dropping its triggers leaves a broken chain that `signaling-server audit verify` reports,
//! naming the first broken event.

mod common;

use common::{
    append_events, drop_audit_triggers, exec, raw_connection, server_command, Backend, TestDb,
};
use signaling_server::store::{AuditBreach, AuditVerdict, Store};
use std::process::Output;

/// A database with `count` events, details `event 0` … and positions 1 ….
async fn log_with_events(backend: Backend, count: usize) -> TestDb {
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url).await.expect("open");
    append_events(&store, "event", count, 1_000).await;
    store.close().await;
    db
}

async fn verdict(db: &TestDb) -> AuditVerdict {
    let store = Store::connect(&db.url).await.expect("open");
    let verdict = store.verify_audit().await.expect("verify");
    store.close().await;
    verdict
}

async fn verify_command(db: &TestDb) -> Output {
    server_command(db, &["audit", "verify"]).await
}

async fn updates_and_deletes_are_refused(backend: Backend) {
    let db = log_with_events(backend, 3).await;
    let mut conn = raw_connection(&db).await;
    for sql in [
        "UPDATE audit_events SET detail = 'nothing happened' WHERE seq = 2",
        "UPDATE audit_events SET seq = 7 WHERE seq = 3",
        "DELETE FROM audit_events WHERE seq = 2",
        "DELETE FROM audit_events",
        "INSERT INTO audit_events (id, at, kind, actor, detail) \
         VALUES ('forged', 1, 'forged', 'nobody', '')",
        "UPDATE audit_head SET seq = 1, hash = 'x'",
        "DELETE FROM audit_head",
    ] {
        let refused = exec(&mut conn, sql).await.expect_err(sql);
        let message = refused.to_string();
        assert!(
            message.contains("append-only")
                || message.contains("appended to the chain")
                || message.contains("audit chain head"),
            "{sql}: {message}"
        );
    }
    if let Backend::Postgres = backend {
        exec(&mut conn, "TRUNCATE audit_events")
            .await
            .expect_err("truncate refused");
    }
    assert!(matches!(
        verdict(&db).await,
        AuditVerdict::Intact { events: 3, .. }
    ));
    db.cleanup().await;
}
both_backends!(
    updates_and_deletes_are_refused,
    updates_and_deletes_are_refused
);

async fn an_altered_event_is_named(backend: Backend) {
    let db = log_with_events(backend, 5).await;
    drop_audit_triggers(&db, backend).await;
    let mut conn = raw_connection(&db).await;
    exec(
        &mut conn,
        "UPDATE audit_events SET detail = 'nothing happened' WHERE seq = 3",
    )
    .await
    .expect("alter without triggers");
    assert_eq!(
        verdict(&db).await,
        AuditVerdict::Broken {
            checked: 2,
            breach: AuditBreach::Altered { seq: 3 }
        }
    );
    // Recomputing the altered event's hash moves the breach to the link after it.
    let store = Store::connect(&db.url).await.expect("open");
    let mut events = store.audit(&Default::default()).await.expect("read events");
    events.reverse();
    store.close().await;
    let rehashed = events[2].computed_hash();
    exec(
        &mut conn,
        &format!("UPDATE audit_events SET hash = '{rehashed}' WHERE seq = 3"),
    )
    .await
    .expect("rehash");
    assert_eq!(
        verdict(&db).await,
        AuditVerdict::Broken {
            checked: 3,
            breach: AuditBreach::Unlinked { seq: 4 }
        }
    );
    db.cleanup().await;
}
both_backends!(an_altered_event_is_named, an_altered_event_is_named);

async fn a_deleted_event_is_named(backend: Backend) {
    let db = log_with_events(backend, 5).await;
    drop_audit_triggers(&db, backend).await;
    let mut conn = raw_connection(&db).await;
    exec(&mut conn, "DELETE FROM audit_events WHERE seq = 2")
        .await
        .expect("delete without triggers");
    assert_eq!(
        verdict(&db).await,
        AuditVerdict::Broken {
            checked: 1,
            breach: AuditBreach::Missing { seq: 2, found: 3 }
        }
    );
    db.cleanup().await;
}
both_backends!(a_deleted_event_is_named, a_deleted_event_is_named);

async fn deleting_the_last_event_is_noticed(backend: Backend) {
    let db = log_with_events(backend, 5).await;
    drop_audit_triggers(&db, backend).await;
    let mut conn = raw_connection(&db).await;
    exec(&mut conn, "DELETE FROM audit_events WHERE seq = 5")
        .await
        .expect("delete without triggers");
    let verdict = verdict(&db).await;
    assert_eq!(
        verdict,
        AuditVerdict::Broken {
            checked: 4,
            breach: AuditBreach::Truncated { seq: 5, head: 5 }
        }
    );
    db.cleanup().await;
}
both_backends!(
    deleting_the_last_event_is_noticed,
    deleting_the_last_event_is_noticed
);

async fn verify_command_exits_1_on_tampering_and_0_when_intact(backend: Backend) {
    let db = log_with_events(backend, 4).await;
    let intact = verify_command(&db).await;
    let stdout = String::from_utf8_lossy(&intact.stdout);
    assert_eq!(
        intact.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&intact.stderr)
    );
    assert!(
        stdout.starts_with("Audit log intact: 4 events, chain head "),
        "{stdout}"
    );

    drop_audit_triggers(&db, backend).await;
    let mut conn = raw_connection(&db).await;
    exec(
        &mut conn,
        "UPDATE audit_events SET actor = 'someone else' WHERE seq = 2",
    )
    .await
    .expect("alter without triggers");
    let broken = verify_command(&db).await;
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert_eq!(broken.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("event 2 was altered"), "{stderr}");
    db.cleanup().await;
}
both_backends!(
    verify_command_exits_1_on_tampering_and_0_when_intact,
    verify_command_exits_1_on_tampering_and_0_when_intact
);
