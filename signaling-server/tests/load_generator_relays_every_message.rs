//! The load generator against the real server program: a small load opens every session,
//! relays every offer and answer verbatim and keeps every connection. Nothing here depends on
//! how fast the machine is.

use clap::Parser;
use loadgen::LoadConfig;

#[tokio::test]
async fn a_small_load_relays_every_message() {
    let config = LoadConfig::parse_from([
        "loadgen",
        "--agents",
        "20",
        "--interval-secs",
        "0.5",
        "--relay-secs",
        "2",
        "--time-limit-secs",
        "300",
        "--server-bin",
        env!("CARGO_BIN_EXE_signaling-server"),
    ]);
    let reports = loadgen::run::run(&config).await.expect("the load run");
    let [report] = &reports[..] else {
        panic!("one step expected, got {}", reports.len());
    };
    assert_eq!(report.opened(), 20, "{:?}", report.setup.first_error);
    assert_eq!(
        report.round_trip.errors, 0,
        "{:?}",
        report.round_trip.first_error
    );
    assert_eq!(report.experts, 20);
    assert_eq!(report.pairs_held, 20);
    assert_eq!(report.connections_held(), 40);
    assert!(report.complete());
    // Every pair had exchanges due in the measured time, each timed on both legs.
    assert!(report.round_trip.latencies.len() >= 20);
    assert_eq!(
        report.one_way.latencies.len(),
        2 * report.round_trip.latencies.len()
    );
    // Two WebSockets per session, plus the listener.
    assert!(report.server_sockets > 40, "{}", report.server_sockets);
    assert!(report.rss_idle > 0);
    let table = loadgen::run::markdown(&reports);
    assert!(table.contains("| 20 | 20 | 40 |"), "{table}");
}
