//! The audit log can be searched by organisation, machine, actor, kind and time, and exported
//! by `signaling-server audit export` as CSV or JSON with every field intact.

mod common;

use common::{exec, raw_connection, server_command, Backend, TestDb};
use protocol::ids::{AgentId, OrgId, UserId};
use signaling_server::store::{AuditEvent, AuditFilter, AuditRecord, Store};

const ORG_A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const ORG_B: &str = "bbbbbbbb-0000-4000-8000-000000000002";
const AGENT_A: &str = "aaaaaaaa-0000-4000-8000-0000000000a1";
const AGENT_B: &str = "bbbbbbbb-0000-4000-8000-0000000000b1";
const USER_A: &str = "aaaaaaaa-0000-4000-8000-0000000000f1";
const AWKWARD: &str = "said \"hello, world\",\nthen left";

fn id<T: std::str::FromStr>(text: &str) -> T {
    text.parse().ok().expect("a UUID")
}

/// Two organisations, each with a machine, and events about both.
async fn desk_with_events(backend: Backend) -> (TestDb, Store) {
    let db = TestDb::new(backend).await;
    let store = Store::connect(&db.url).await.expect("open");
    let mut conn = raw_connection(&db).await;
    for sql in [
        format!("INSERT INTO organisations (id, name, created_at) VALUES ('{ORG_A}', 'A desk', 1)"),
        format!("INSERT INTO organisations (id, name, created_at) VALUES ('{ORG_B}', 'B desk', 1)"),
        format!(
            "INSERT INTO users (id, org_id, login, display_name, role, password_hash, created_at) \
             VALUES ('{USER_A}', '{ORG_A}', 'carol.admin', 'Carol', 'admin', 'x', 1)"
        ),
        format!(
            "INSERT INTO agents (id, name, token_hash, created_at, org_id) \
             VALUES ('{AGENT_A}', 'Alice PC', 'x', 1, '{ORG_A}')"
        ),
        format!(
            "INSERT INTO agents (id, name, token_hash, created_at, org_id) \
             VALUES ('{AGENT_B}', 'Bob PC', 'x', 1, '{ORG_B}')"
        ),
    ] {
        exec(&mut conn, &sql).await.expect("seed");
    }
    let events = [
        (
            100,
            "agent_registered",
            "Alice PC",
            Some(AGENT_A),
            None,
            None,
            "",
        ),
        (
            200,
            "agent_registered",
            "Bob PC",
            Some(AGENT_B),
            None,
            None,
            "",
        ),
        (
            300,
            "signed_in",
            "carol.admin",
            None,
            Some(ORG_A),
            Some(USER_A),
            "",
        ),
        (
            400,
            "session_ended",
            "server",
            Some(AGENT_A),
            None,
            None,
            AWKWARD,
        ),
        (
            500,
            "session_ended",
            "server",
            Some(AGENT_B),
            None,
            None,
            "peer_gone",
        ),
        (
            600,
            "invitation_created",
            "Help desk (Carol)",
            Some(AGENT_A),
            None,
            Some(USER_A),
            "",
        ),
    ];
    let mut writes = store.begin().await.expect("begin");
    for (at, kind, actor, agent, org, user, detail) in events {
        writes
            .append_audit(
                AuditEvent {
                    kind,
                    actor,
                    agent: agent.map(id::<AgentId>),
                    org: org.map(id::<OrgId>),
                    user: user.map(id::<UserId>),
                    detail,
                    ..Default::default()
                },
                at,
            )
            .await
            .expect("append");
    }
    writes.commit().await.expect("commit");
    (db, store)
}

fn seqs(events: &[AuditRecord]) -> Vec<i64> {
    events.iter().map(|e| e.seq).collect()
}

async fn filters_return_the_right_events(backend: Backend) {
    let (db, store) = desk_with_events(backend).await;
    let find = |filter: AuditFilter| {
        let store = store.clone();
        async move { seqs(&store.audit(&filter).await.expect("search")) }
    };
    assert_eq!(find(AuditFilter::default()).await, [6, 5, 4, 3, 2, 1]);
    // An organisation's events: its own and those of its machines.
    assert_eq!(
        find(AuditFilter {
            org: Some(id(ORG_A)),
            ..Default::default()
        })
        .await,
        [6, 4, 3, 1]
    );
    assert_eq!(
        find(AuditFilter {
            org: Some(id(ORG_B)),
            ..Default::default()
        })
        .await,
        [5, 2]
    );
    assert_eq!(
        find(AuditFilter {
            agent: Some(id(AGENT_B)),
            ..Default::default()
        })
        .await,
        [5, 2]
    );
    // Actor: any part of the name, or of the acting account's login, ignoring case.
    assert_eq!(
        find(AuditFilter {
            actor: Some("CAROL".into()),
            ..Default::default()
        })
        .await,
        [6, 3]
    );
    assert_eq!(
        find(AuditFilter {
            actor: Some("admin".into()),
            ..Default::default()
        })
        .await,
        [6, 3]
    );
    assert_eq!(
        find(AuditFilter {
            actor: Some("%".into()),
            ..Default::default()
        })
        .await,
        Vec::<i64>::new()
    );
    assert_eq!(
        find(AuditFilter {
            kind: Some("session_ended".into()),
            ..Default::default()
        })
        .await,
        [5, 4]
    );
    assert_eq!(
        find(AuditFilter {
            since: Some(200),
            until: Some(500),
            ..Default::default()
        })
        .await,
        [4, 3, 2]
    );
    assert_eq!(
        find(AuditFilter {
            org: Some(id(ORG_A)),
            limit: 2,
            ..Default::default()
        })
        .await,
        [6, 4]
    );
    assert_eq!(
        find(AuditFilter {
            org: Some(id(ORG_A)),
            before_seq: Some(4),
            limit: 2,
            ..Default::default()
        })
        .await,
        [3, 1]
    );
    let for_agent = store.audit_for_agent(id(AGENT_A)).await.expect("agent");
    assert_eq!(seqs(&for_agent), [1, 4, 6]);
    assert_eq!(for_agent[1].detail, AWKWARD);
    store.close().await;
    db.cleanup().await;
}
both_backends!(
    filters_return_the_right_events,
    filters_return_the_right_events
);

async fn export(db: &TestDb, args: &[&str]) -> String {
    let out = tempfile::tempdir().expect("temp dir");
    let file = out.path().join("export");
    let file_arg = file.display().to_string();
    let command: Vec<&str> = ["audit", "export"]
        .into_iter()
        .chain(args.iter().copied())
        .chain(["--output", file_arg.as_str()])
        .collect();
    let run = server_command(db, &command).await;
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::read_to_string(&file).expect("exported file")
}

async fn export_writes_csv_and_json_with_every_field(backend: Backend) {
    let (db, store) = desk_with_events(backend).await;
    let mut stored = store.audit(&AuditFilter::default()).await.expect("read");
    stored.reverse();
    store.close().await;

    let csv = export(&db, &["--format", "csv"]).await;
    let awkward = &stored[3];
    let quoted = "\"said \"\"hello, world\"\",\nthen left\"";
    assert!(csv.starts_with("seq,time,at,kind,actor,agent_id,"), "{csv}");
    assert!(
        csv.contains(&format!(
            "\r\n4,1970-01-01T00:06:40Z,400,session_ended,server,{AGENT_A},,,,,{quoted},{},{},{}\r\n",
            awkward.id, awkward.prev_hash, awkward.hash
        )),
        "{csv}"
    );
    assert_eq!(csv.matches("\r\n").count(), 7, "a header and six events");

    let json: serde_json::Value =
        serde_json::from_str(&export(&db, &["--format", "json"]).await).expect("JSON");
    let rows = json.as_array().expect("an array");
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[3]["detail"], AWKWARD);
    assert_eq!(rows[3]["hash"], awkward.hash.as_str());
    assert_eq!(rows[2]["org_id"], ORG_A);
    assert_eq!(rows[0]["seq"], 1);

    // Limited by time and kind.
    let json: serde_json::Value = serde_json::from_str(
        &export(
            &db,
            &[
                "--format",
                "json",
                "--since",
                "1970-01-01T00:05:00Z",
                "--until",
                "600",
                "--kind",
                "session_ended",
            ],
        )
        .await,
    )
    .expect("JSON");
    let seqs: Vec<i64> = json
        .as_array()
        .expect("array")
        .iter()
        .map(|row| row["seq"].as_i64().expect("seq"))
        .collect();
    assert_eq!(seqs, [4, 5]);
    db.cleanup().await;
}
both_backends!(
    export_writes_csv_and_json_with_every_field,
    export_writes_csv_and_json_with_every_field
);
