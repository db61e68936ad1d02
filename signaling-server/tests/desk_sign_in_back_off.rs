//! Signing in to the support desk over real HTTP while somebody guesses the same login from
//! another address: the guesser is slowed down, the real person gets in once the wait is over.

mod common;

use common::{desk_sign_in, Backend, SignIn, TestDb, TestServer};
use signaling_server::accounts;
use signaling_server::config::ServerConfig;
use std::net::IpAddr;

const PASSWORD: &str = "correct horse battery staple";

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
        let status = desk_sign_in(&server.base, attacker, "ada", "guess")
            .await
            .status;
        assert_eq!(status, 401);
    }
    let SignIn { status, page, .. } = desk_sign_in(&server.base, attacker, "ada", "guess").await;
    assert_eq!(status, 429, "the fourth guess waits: {page}");
    assert!(page.contains("Try again in "), "{page}");
    for wait in [10, 20, 40, 40] {
        server.clock.advance(wait);
        let status = desk_sign_in(&server.base, attacker, "ada", "guess")
            .await
            .status;
        assert_eq!(status, 401, "a guess after the wait of {wait} s is checked");
        let status = desk_sign_in(&server.base, attacker, "ada", "guess")
            .await
            .status;
        assert_eq!(status, 429, "the next one waits again");
    }

    // The real person, from another address, waits for the current delay too ...
    let SignIn { status, page, .. } = desk_sign_in(&server.base, ada, "ada", PASSWORD).await;
    assert_eq!(status, 429, "{page}");
    assert!(page.contains("Try again in "), "{page}");
    // ... and no longer: however many guesses came before, they get in then.
    server.clock.advance(40);
    let SignIn { status, page, .. } = desk_sign_in(&server.base, ada, "ada", PASSWORD).await;
    assert_eq!(status, 303, "signed in: {page}");
    // A success forgets the failures: the next mistake is free again.
    let status = desk_sign_in(&server.base, ada, "ada", "typo").await.status;
    assert_eq!(status, 401);

    server.stop().await;
}
