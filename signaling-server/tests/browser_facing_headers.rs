//! What browsers are told and allowed, over real HTTP: the console page is limited per address
//! and never cached, every response pins scripts and WebSockets to the server's own origin,
//! and the WebSockets a page opens refuse other sites.

mod common;

use common::{desk_sign_in, Backend, TestDb, TestServer};
use protocol::api::CreateInvitationRequest;
use signaling_server::accounts;
use signaling_server::config::ServerConfig;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Error as WsError;

fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn guessing_codes_at_the_console_page_is_rate_limited() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = ServerConfig::defaults();
    config.redeem_per_minute = 5;
    let server = TestServer::start_with(&db, config).await;
    let agent = server.agent("Alice").await;
    let inv = agent.invite(&CreateInvitationRequest::default()).await;
    for i in 0..5 {
        let res = reqwest::get(format!("{}/i/ABCD-EFGH-{i:04}", server.base))
            .await
            .expect("page");
        assert_eq!(res.status().as_u16(), 404, "guess {i} is answered");
    }
    // The sixth guess in the minute is refused, and so is the real code now: the page gives
    // away no more than redemption does.
    for url in [
        format!("{}/i/ABCD-EFGH-9999", server.base),
        inv.link.clone(),
    ] {
        let res = reqwest::get(&url).await.expect("page");
        assert_eq!(res.status().as_u16(), 429);
        let body: serde_json::Value = res.json().await.expect("JSON error");
        assert_eq!(body["error"], "rate_limited");
    }
    // Page and redemption share the limit.
    let (status, _) = server.client().redeem(&inv.code).await;
    assert_eq!(status, 429);
    server.stop().await;
}

#[tokio::test]
async fn pages_pin_scripts_and_websockets_to_our_origin_and_the_console_is_not_cached() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let agent = server.agent("Alice").await;
    let inv = agent.invite(&CreateInvitationRequest::default()).await;
    let res = reqwest::get(&inv.link).await.expect("page");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(header(&res, "cache-control"), "no-store");
    let csp = header(&res, "content-security-policy");
    let connect = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("connect-src"))
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        connect,
        format!("connect-src 'self' {}", server.ws_base),
        "WebSockets only to this server, not to any host: {csp}"
    );
    let permissions = header(&res, "permissions-policy");
    for denied in ["camera=()", "microphone=()", "geolocation=()", "usb=()"] {
        assert!(permissions.contains(denied), "{permissions}");
    }
    assert_eq!(
        header(&res, "strict-transport-security"),
        "",
        "not over http"
    );
    // An unknown code's page is not kept either.
    let res = reqwest::get(format!("{}/i/nope", server.base))
        .await
        .expect("page");
    assert_eq!(header(&res, "cache-control"), "no-store");
    server.stop().await;
}

#[tokio::test]
async fn a_server_behind_https_asks_browsers_to_keep_to_https() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = ServerConfig::defaults();
    config.public_url = Some("https://help.example.org".parse().expect("url"));
    let server = TestServer::start_with(&db, config).await;
    let res = reqwest::get(format!("{}/health", server.base))
        .await
        .expect("health");
    assert_eq!(
        header(&res, "strict-transport-security"),
        "max-age=31536000"
    );
    let csp = header(&res, "content-security-policy");
    assert!(
        csp.contains("connect-src 'self' wss://help.example.org"),
        "{csp}"
    );
    server.stop().await;
}

/// Opens `path` as a WebSocket with `origin` (none: no header) and `cookie`; the HTTP status
/// of a refused upgrade, or 101.
async fn upgrade(server: &TestServer, path: &str, origin: Option<&str>, cookie: &str) -> u16 {
    let mut req = format!("{}{path}", server.ws_base)
        .into_client_request()
        .expect("request");
    if let Some(origin) = origin {
        req.headers_mut()
            .insert("origin", origin.parse().expect("header"));
    }
    if !cookie.is_empty() {
        req.headers_mut()
            .insert("cookie", cookie.parse().expect("header"));
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((_, res)) => res.status().as_u16(),
        Err(WsError::Http(res)) => res.status().as_u16(),
        Err(other) => panic!("upgrade of {path} failed: {other}"),
    }
}

#[tokio::test]
async fn websockets_opened_by_other_sites_or_opaque_origins_are_refused() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = TestServer::start(&db).await;
    let password = "correct horse battery staple";
    accounts::create_admin(
        &server.store,
        "Acme",
        "ada",
        "Ada",
        password,
        server.clock.now(),
    )
    .await
    .expect("admin");
    let signed_in = desk_sign_in(&server.base, [127, 0, 0, 1].into(), "ada", password).await;
    let session = signed_in.session_cookie.expect("signed in");
    let cookie = format!("desk_session={session}");
    let ours = server.base.clone();

    // The expert's connection: from the console, or a native client without Origin.
    assert_eq!(upgrade(&server, "/ws/expert", Some(&ours), "").await, 101);
    assert_eq!(upgrade(&server, "/ws/expert", None, "").await, 101);
    assert_eq!(
        upgrade(&server, "/ws/expert", Some("https://evil.example"), "").await,
        403
    );
    assert_eq!(upgrade(&server, "/ws/expert", Some("null"), "").await, 403);

    // The dashboard's feed, with the operator's cookie: a sandboxed or local page sends
    // `Origin: null`, which a WebSocket cannot be trusted with.
    assert_eq!(
        upgrade(&server, "/ws/desk", Some(&ours), &cookie).await,
        101
    );
    assert_eq!(
        upgrade(&server, "/ws/desk", Some("null"), &cookie).await,
        403
    );
    assert_eq!(
        upgrade(&server, "/ws/desk", Some("http://evil.example"), &cookie).await,
        403
    );
    server.stop().await;
}
