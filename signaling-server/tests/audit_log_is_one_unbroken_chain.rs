//! Every audit event takes the next position of one hash chain, whether events come one at a
//! time, many in one transaction or from many writers at once, and events stored before the
//! chain existed join it when the server opens the database.

mod common;

use common::{append_events, Backend, TestDb};
use signaling_server::store::{AuditEvent, AuditFilter, AuditVerdict, Store, GENESIS_HASH};
use std::collections::BTreeSet;

async fn all_events(store: &Store) -> Vec<signaling_server::store::AuditRecord> {
    let mut events = store.audit(&AuditFilter::default()).await.expect("read");
    events.reverse();
    events
}

async fn chain_stays_valid_after_many_appends(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url).await.expect("open");
    assert_eq!(
        store.verify_audit().await.expect("verify"),
        AuditVerdict::Intact {
            events: 0,
            head_hash: GENESIS_HASH.into()
        }
    );
    append_events(&store, "single", 40, 1_000).await;
    // Several events in one transaction are chained in the order they were added.
    let mut writes = store.begin().await.expect("begin");
    for i in 0..10 {
        let detail = format!("batch {i}");
        writes
            .append_audit(
                AuditEvent {
                    kind: "batch_event",
                    actor: "tester",
                    detail: &detail,
                    ..Default::default()
                },
                2_000,
            )
            .await
            .expect("append");
    }
    writes.commit().await.expect("commit");
    // Events of a transaction that is not committed never join the chain.
    let mut dropped = store.begin().await.expect("begin");
    dropped
        .append_audit(
            AuditEvent {
                kind: "never_stored",
                ..Default::default()
            },
            3_000,
        )
        .await
        .expect("append");
    drop(dropped);

    let events = all_events(&store).await;
    assert_eq!(events.len(), 50);
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=50).collect::<Vec<_>>());
    assert_eq!(events[0].prev_hash, GENESIS_HASH);
    for pair in events.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    assert_eq!(events[40].detail, "batch 0");
    assert_eq!(events[49].detail, "batch 9");
    assert_eq!(
        store.verify_audit().await.expect("verify"),
        AuditVerdict::Intact {
            events: 50,
            head_hash: events[49].hash.clone()
        }
    );
    store.close().await;
    db.cleanup().await;
}
both_backends!(
    chain_stays_valid_after_many_appends,
    chain_stays_valid_after_many_appends
);

async fn concurrent_appends_form_one_gap_free_chain(backend: Backend) {
    const TASKS: usize = 8;
    const EACH: usize = 25;
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url).await.expect("open");
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                append_events(&store, &format!("task {t}"), EACH, 1_000).await;
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }

    let events = all_events(&store).await;
    assert_eq!(events.len(), TASKS * EACH);
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=(TASKS * EACH) as i64).collect::<Vec<_>>());
    let details: BTreeSet<&str> = events.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(details.len(), TASKS * EACH, "every event stored once");
    // Each writer's events keep their order within the chain.
    for t in 0..TASKS {
        let prefix = format!("task {t} ");
        let mine: Vec<usize> = events
            .iter()
            .filter_map(|e| e.detail.strip_prefix(&prefix))
            .map(|n| n.parse().expect("number"))
            .collect();
        assert_eq!(mine, (0..EACH).collect::<Vec<_>>());
    }
    match store.verify_audit().await.expect("verify") {
        AuditVerdict::Intact { events, .. } => assert_eq!(events, (TASKS * EACH) as u64),
        broken => panic!("chain broken by concurrent appends: {broken:?}"),
    }
    store.close().await;
    db.cleanup().await;
}
both_backends!(
    concurrent_appends_form_one_gap_free_chain,
    concurrent_appends_form_one_gap_free_chain
);

/// A database last used before the chain existed: migrations 1 and 2 only, with events.
async fn database_before_the_chain(db: &TestDb) {
    let dir = tempfile::tempdir().expect("temp dir");
    let migrations = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations");
    for file in ["0001_initial.sql", "0002_support_desk.sql"] {
        std::fs::copy(format!("{migrations}/{file}"), dir.path().join(file)).expect("copy");
    }
    let mut conn = common::raw_connection(db).await;
    sqlx::migrate::Migrator::new(dir.path())
        .await
        .expect("old migrations")
        .run(&mut conn)
        .await
        .expect("run old migrations");
    for (id, at, kind) in [
        ("00000000-0000-4000-8000-000000000002", 200, "second"),
        ("00000000-0000-4000-8000-000000000001", 100, "first"),
        ("00000000-0000-4000-8000-000000000003", 300, "third"),
    ] {
        common::exec(
            &mut conn,
            &format!(
                "INSERT INTO audit_events (id, at, kind, actor, detail) \
                 VALUES ('{id}', {at}, '{kind}', 'old server', 'from before')"
            ),
        )
        .await
        .expect("insert old event");
    }
}

async fn events_from_before_the_chain_join_it_at_start(backend: Backend) {
    let db = TestDb::new(backend).await;
    database_before_the_chain(&db).await;
    let store = Store::connect(&db.url).await.expect("open and upgrade");
    append_events(&store, "new", 2, 400).await;
    let events = all_events(&store).await;
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["first", "second", "third", "test_event", "test_event"]
    );
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert!(matches!(
        store.verify_audit().await.expect("verify"),
        AuditVerdict::Intact { events: 5, .. }
    ));
    store.close().await;
    // Opening again changes nothing.
    let store = Store::connect(&db.url).await.expect("reopen");
    assert_eq!(all_events(&store).await, events);
    store.close().await;
    db.cleanup().await;
}
both_backends!(
    events_from_before_the_chain_join_it_at_start,
    events_from_before_the_chain_join_it_at_start
);
