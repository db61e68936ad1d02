//! Signing in to the support desk over real HTTP while somebody guesses the same login from
//! another address: the guesser is slowed down, the real person gets in once the wait is over.

mod common;

use common::{Backend, TestDb, TestServer};
use signaling_server::accounts;
use signaling_server::config::ServerConfig;
use std::net::IpAddr;

const PASSWORD: &str = "correct horse battery staple";

/// A browser-like client from `from`: fetches the form, then posts `login` and `password`.
/// Returns the status and the page.
async fn sign_in(base: &str, from: IpAddr, login: &str, password: &str) -> (u16, String) {
    let http = reqwest::Client::builder()
        .local_address(from)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let form = http
        .get(format!("{base}/desk/sign-in"))
        .send()
        .await
        .expect("sign-in form");
    let cookie = form
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("desk_sign_in="))
        .and_then(|v| v.split(';').next())
        .expect("form cookie")
        .to_string();
    let res = http
        .post(format!("{base}/desk/sign-in"))
        .header("cookie", format!("desk_sign_in={cookie}"))
        .form(&[("login", login), ("password", password), ("csrf", &cookie)])
        .send()
        .await
        .expect("sign in");
    let status = res.status().as_u16();
    (status, res.text().await.unwrap_or_default())
}

#[tokio::test]
async fn a_guesser_elsewhere_slows_down_but_does_not_lock_out_the_real_user() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut config = ServerConfig::defaults();
    config.sign_in_free_failures = 3;
    config.sign_in_backoff_secs = 10;
    config.sign_in_backoff_max_secs = 40;
    let server = TestServer::start_with(&db, config).await;
    accounts::create_admin(
        &server.store,
        "Acme",
        "ada",
        "Ada",
        PASSWORD,
        server.clock.now(),
    )
    .await
    .expect("admin");
    let attacker: IpAddr = [127, 0, 0, 1].into();
    let ada: IpAddr = [127, 0, 0, 2].into();

    // Three free guesses, then each one waits longer: 10 s, 20 s, then 40 s at most.
    for _ in 0..3 {
        let (status, _) = sign_in(&server.base, attacker, "ada", "guess").await;
        assert_eq!(status, 401);
    }
    let (status, page) = sign_in(&server.base, attacker, "ada", "guess").await;
    assert_eq!(status, 429, "the fourth guess waits: {page}");
    assert!(page.contains("Try again in "), "{page}");
    for wait in [10, 20, 40, 40] {
        server.clock.advance(wait);
        let (status, _) = sign_in(&server.base, attacker, "ada", "guess").await;
        assert_eq!(status, 401, "a guess after the wait of {wait} s is checked");
        let (status, _) = sign_in(&server.base, attacker, "ada", "guess").await;
        assert_eq!(status, 429, "the next one waits again");
    }

    // The real person, from another address, waits for the current delay too ...
    let (status, page) = sign_in(&server.base, ada, "ada", PASSWORD).await;
    assert_eq!(status, 429, "{page}");
    assert!(page.contains("Try again in "), "{page}");
    // ... and no longer: however many guesses came before, they get in then.
    server.clock.advance(40);
    let (status, page) = sign_in(&server.base, ada, "ada", PASSWORD).await;
    assert_eq!(status, 303, "signed in: {page}");
    // A success forgets the failures: the next mistake is free again.
    let (status, _) = sign_in(&server.base, ada, "ada", "typo").await;
    assert_eq!(status, 401);

    server.stop().await;
}
