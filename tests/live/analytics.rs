//! Analytics on the real binary and a real SQLite file: `kill -9` loses at
//! most one flush interval of counts, a graceful stop loses none.

use std::time::Duration;

use serde_json::Value;

use super::durability::{blocking_client, create_durable_app, register};
use crate::common::sut::SKETCH_RELATIVE_ERROR;
use crate::common::*;

const FLUSH: &str = "analytics:\n    flush_interval: 1s\n";

fn check(client: &reqwest::blocking::Client, base: &str, count: usize, from: usize) {
    for i in from..from + count {
        let reply = client
            .get(format!(
                "{base}/api/v1/updates/durable/check?current_version=1.0.0&platform=linux&architecture=amd64&install_id=install-{i}"
            ))
            .send()
            .unwrap();
        assert_eq!(reply.status(), 200);
    }
}

fn counted(client: &reqwest::blocking::Client, base: &str) -> (u64, u64) {
    let stats: Value = client
        .get(format!("{base}/api/v1/applications/durable/stats"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .unwrap()
        .json()
        .unwrap();
    (
        stats["checks"].as_u64().unwrap(),
        stats["installs"].as_u64().unwrap(),
    )
}

#[test]
fn kill_9_loses_at_most_one_flush_interval_and_a_graceful_stop_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &format!("  {FLUSH}"));
    let client = blocking_client();
    let port = free_port();
    let mut server = ChildServer::spawn(dir.path(), port);
    create_durable_app(&client, &server.base);
    assert_eq!(register(&client, &server.base, "1.0.0"), 201);
    check(&client, &server.base, 300, 0);
    // Two intervals: the 300 are written whatever the phase of the timer.
    std::thread::sleep(Duration::from_millis(2_500));
    check(&client, &server.base, 200, 300);
    server.signal("KILL");
    server.wait(Duration::from_secs(5));

    let mut server = ChildServer::spawn(dir.path(), free_port());
    let (checks, installs) = counted(&client, &server.base);
    assert!(
        (300..=500).contains(&checks),
        "after kill -9: {checks} of 500 checks; at most the last interval's 200 may be lost"
    );
    // Each check had its own install id, written in the same transaction.
    let error = (installs as f64 - checks as f64).abs() / checks as f64;
    assert!(
        error <= 3.0 * SKETCH_RELATIVE_ERROR,
        "{installs} installs for {checks} checks"
    );

    check(&client, &server.base, 100, 500);
    server.signal("TERM");
    assert_eq!(server.wait(Duration::from_secs(15)), Some(0));
    let server = ChildServer::spawn(dir.path(), free_port());
    let (after, _) = counted(&client, &server.base);
    assert_eq!(
        after,
        checks + 100,
        "SIGTERM flushes every count before exiting"
    );
}
