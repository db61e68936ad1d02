//! The OpenAPI document at `/api/openapi.json` tells what the server really answers.
//!
//! schemathesis fuzzes a real server (SQLite, loopback port) from the document, with a
//! registered agent's bearer token so that the authenticated operations are reached too, and
//! fails on any 5xx and on any answer the document does not describe (status code, content
//! type, headers, body schema). Deterministic tests beside it pin what the fuzzer found: bodies
//! the server cannot read, paths that do not decode, names and lifetimes out of the documented
//! range, missing tokens, all answered in the JSON error format with a documented status.
//!
//! schemathesis lives in the virtual environment `scripts/install-deps.sh` makes
//! (`/opt/remote-assist-venv`, or `ASSIST_FUZZ_VENV`); without it the fuzzing test fails.

mod common;

use common::{Backend, Client, TestDb, TestServer};
use serde_json::{json, Value};
use signaling_server::config::ServerConfig;
use std::path::PathBuf;
use std::time::Duration;

/// The fuzzer's time budget, and its cases per operation and phase: a run takes about a minute
/// on a busy two-core machine.
const FUZZ_SECONDS: u64 = 60;
const FUZZ_EXAMPLES: u32 = 25;
/// A run that outlasts its budget this long has hung.
const FUZZ_DEADLINE: Duration = Duration::from_secs(FUZZ_SECONDS + 90);
const FUZZ_SEED: &str = "20261204";
const FUZZ_CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                           response_headers_conformance,response_schema_conformance,ignored_auth";

fn schemathesis() -> PathBuf {
    let venv = std::env::var_os("ASSIST_FUZZ_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/remote-assist-venv"));
    venv.join("bin").join("schemathesis")
}

async fn document(client: &Client) -> Value {
    let (status, spec) = client.get_json("/api/openapi.json").await;
    assert_eq!(status, 200, "the document is served");
    spec
}

/// The statuses the document lists for one operation.
fn documented(spec: &Value, method: &str, path: &str) -> Vec<String> {
    spec["paths"][path][method]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} is documented"))
        .keys()
        .cloned()
        .collect()
}

/// Sends one raw request; returns the status, the content type and the body as JSON.
async fn raw(
    client: &Client,
    method: reqwest::Method,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
    token: Option<&str>,
) -> (u16, String, Value) {
    let mut req = client
        .http
        .request(method, format!("{}{path}", client.base))
        .body(body);
    if let Some(content_type) = content_type {
        req = req.header("content-type", content_type);
    }
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = res.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, content_type, body)
}

fn assert_json_error(what: &str, content_type: &str, body: &Value) {
    assert!(
        content_type.starts_with("application/json"),
        "{what}: answered {content_type:?}, not JSON: {body}"
    );
    assert!(
        body["error"].is_string() && body["message"].is_string(),
        "{what}: answered {body}, not {{\"error\", \"message\"}}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_holds_under_fuzzing() {
    let program = schemathesis();
    assert!(
        program.is_file(),
        "schemathesis is not installed at {}: run scripts/install-deps.sh",
        program.display()
    );
    let db = TestDb::new(Backend::Sqlite).await;
    // Generous rate limits, so that the fuzzer reaches the handlers behind them (their 429s
    // are tested in invitations_over_http.rs).
    let config = ServerConfig {
        redeem_per_minute: 100_000,
        register_per_minute: 100_000,
        ..ServerConfig::defaults()
    };
    let server = TestServer::start_with(&db, config).await;
    let agent = server.agent("Fuzzing agent").await;
    // Something to list and look up.
    agent.invite(&Default::default()).await;
    let token = agent.token.clone().expect("agent token");
    let workdir = tempfile::tempdir().expect("temp dir");

    let run = tokio::process::Command::new(&program)
        .current_dir(workdir.path())
        .args(["run", &format!("{}/api/openapi.json", server.base)])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", FUZZ_CHECKS])
        .args(["--seed", FUZZ_SEED])
        .args(["--max-examples", &FUZZ_EXAMPLES.to_string()])
        .args(["--max-time", &FUZZ_SECONDS.to_string()])
        .args(["--workers", "2", "--request-timeout", "10", "--no-color"])
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(FUZZ_DEADLINE, run)
        .await
        .unwrap_or_else(|_| panic!("schemathesis did not finish within {FUZZ_DEADLINE:?}"))
        .expect("schemathesis runs");
    server.stop().await;
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "schemathesis found answers the document does not describe:\n{report}"
    );
}

#[tokio::test]
async fn bodies_the_server_cannot_read_get_json_errors_the_document_lists() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let agent = server.agent("Alice").await;
    let token = agent.token.clone();
    let spec = document(&agent).await;
    let oversized = format!(r#"{{"name": "{}"}}"#, "a".repeat(70 * 1024)).into_bytes();
    for (path, token) in [
        ("/api/agents", None),
        ("/api/invitations", token.as_deref()),
        ("/api/redeem", None),
        ("/api/enroll", None),
        ("/api/invitations/direct", token.as_deref()),
    ] {
        let statuses = documented(&spec, "post", path);
        for (what, content_type, body, expected) in [
            ("no content type", None, b"{}".to_vec(), 415),
            ("a text body", Some("text/plain"), b"{}".to_vec(), 415),
            ("not JSON", Some("application/json"), b"{".to_vec(), 400),
            (
                "the wrong shape",
                Some("application/json"),
                br#"{"name": 5, "code": [], "expires_in_secs": 1.5, "to": {}}"#.to_vec(),
                422,
            ),
            (
                "too large",
                Some("application/json"),
                oversized.clone(),
                413,
            ),
        ] {
            let what = format!("POST {path} with {what}");
            let (status, content_type, body) = raw(
                &agent,
                reqwest::Method::POST,
                path,
                content_type,
                body,
                token,
            )
            .await;
            assert_eq!(status, expected, "{what}: {body}");
            assert_json_error(&what, &content_type, &body);
            assert!(
                statuses.contains(&status.to_string()),
                "{what}: {status} is not among the documented {statuses:?}"
            );
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn an_invitation_path_that_does_not_decode_gets_a_json_404() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let agent = server.agent("Alice").await;
    let token = agent.token.clone();
    let spec = document(&agent).await;
    for (method, path, template) in [
        (
            reqwest::Method::GET,
            "/api/invitations/%FF",
            "/api/invitations/{id}",
        ),
        (
            reqwest::Method::GET,
            "/api/invitations/not-an-id",
            "/api/invitations/{id}",
        ),
        (
            reqwest::Method::POST,
            "/api/invitations/%C3%28/revoke",
            "/api/invitations/{id}/revoke",
        ),
    ] {
        let what = format!("{method} {path}");
        let documented = documented(&spec, &method.as_str().to_lowercase(), template);
        let (status, content_type, body) =
            raw(&agent, method, path, None, Vec::new(), token.as_deref()).await;
        assert_eq!(status, 404, "{what}: {body}");
        assert_json_error(&what, &content_type, &body);
        assert!(documented.contains(&"404".to_owned()), "{what}");
    }
    server.stop().await;
}

#[tokio::test]
async fn names_outside_the_documented_length_are_refused() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let client = server.client();
    let spec = document(&client).await;
    let name = &spec["components"]["schemas"]["RegisterAgentRequest"]["properties"]["name"];
    let (min, max) = (name["minLength"].as_u64(), name["maxLength"].as_u64());
    assert_eq!((min, max), (Some(1), Some(64)), "documented as {name}");
    let statuses = documented(&spec, "post", "/api/agents");
    let longest = "é".repeat(64);
    let too_long = "é".repeat(65);
    for (name, expected) in [
        (longest.as_str(), 201),
        ("x", 201),
        (too_long.as_str(), 400),
        ("", 400),
        ("   ", 400),
        ("tab\there", 400),
    ] {
        let (status, body) = client
            .post_json("/api/agents", &json!({ "name": name }))
            .await;
        assert_eq!(status, expected, "name {name:?}: {body}");
        assert!(
            statuses.contains(&status.to_string()),
            "{status} documented"
        );
        if status == 400 {
            assert!(body["message"].is_string(), "{body}");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn lifetimes_outside_the_documented_range_are_refused() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let agent = server.agent("Alice").await;
    let spec = document(&agent).await;
    let lifetime =
        &spec["components"]["schemas"]["CreateInvitationRequest"]["properties"]["expires_in_secs"];
    assert_eq!(lifetime["format"], "int64", "{lifetime}");
    let (min, max) = (
        lifetime["minimum"].as_u64().expect("a minimum"),
        lifetime["maximum"].as_u64().expect("a maximum"),
    );
    assert_eq!((min, max), (60, 30 * 24 * 3600));
    for (secs, expected) in [
        (json!(min), 201),
        (json!(max), 201),
        (json!(min - 1), 400),
        (json!(max + 1), 400),
        (json!(0), 400),
        (json!(u64::MAX), 400),
        (json!(-1), 422),
        (json!(18_446_744_073_709_551_616_f64), 422),
    ] {
        let (status, body) = agent
            .post_json("/api/invitations", &json!({ "expires_in_secs": secs }))
            .await;
        assert_eq!(status, expected, "{secs}: {body}");
        if status != 201 {
            assert!(body["error"].is_string(), "{secs}: {body}");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn every_operation_behind_the_token_documents_and_answers_401() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let client = server.client();
    let spec = document(&client).await;
    let id = "0b6f2a64-4f7e-4b3c-9a57-0d2c1c9a1e11";
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operations") {
            if operation.get("security").is_none() {
                continue;
            }
            let what = format!("{method} {path}");
            assert!(
                operation["responses"].get("401").is_some(),
                "{what} does not document 401"
            );
            let url = path.replace("{id}", id);
            let method: reqwest::Method = method.to_uppercase().parse().expect("method");
            for token in [None, Some("not-a-token"), Some(&format!("{id}.wrong")[..])] {
                let (status, content_type, body) = raw(
                    &client,
                    method.clone(),
                    &url,
                    Some("application/json"),
                    b"{}".to_vec(),
                    token,
                )
                .await;
                assert_eq!(status, 401, "{what} with token {token:?}: {body}");
                assert_json_error(&what, &content_type, &body);
            }
            checked += 1;
        }
    }
    assert!(checked >= 7, "only {checked} operations need the token");
    server.stop().await;
}
