//! Writes fail fast while PostgreSQL is down: once the replicas know the
//! store is unreachable, every write is a 503 with `Retry-After` within a
//! second (none waits behind another, none is a 408, none is stored), and
//! writes succeed again within 2 s of the database's return; `updater
//! publish` retries through such an outage.

use std::time::{Duration, Instant};

use super::common::sut::{Secret, StorageType};
use super::common::*;
use super::{EVENTUALLY, create_demo, register};

const CONCURRENT_WRITES: usize = 20;

/// A replica with the default pool acquire timeout (5 s).
async fn default_replica(url: &str) -> LiveServer {
    let mut settings = test_settings();
    settings.storage.kind = StorageType::Postgres;
    settings.storage.postgres.url = Secret::new(url);
    LiveServer::start(settings).await
}

async fn until_ready_is(base: &str, status: u16) {
    let deadline = Instant::now() + EVENTUALLY;
    loop {
        let seen = http()
            .get(format!("{base}/health/ready"))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        if seen == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{base}/health/ready stayed {seen}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn timed_register(base: String, version: String) -> (u16, Option<String>, Duration) {
    let started = Instant::now();
    let response = http()
        .post(format!("{base}/api/v1/updates/demo/register"))
        .bearer_auth(WRITE_KEY)
        .json(&release_body(&version))
        .send()
        .await
        .unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (response.status().as_u16(), retry_after, started.elapsed())
}

async fn versions(base: &str) -> Vec<String> {
    let body: serde_json::Value = http()
        .get(format!("{base}/api/v1/updates/demo/releases?limit=1000"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_fail_fast_while_the_database_is_down_and_recover_when_it_returns() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.database("breaker");
    let replicas = [
        default_replica(&url).await,
        default_replica(&url).await,
        default_replica(&url).await,
    ];
    // A replica still starting when the database stops ends with an error
    // (it cannot load its catalog), so stop it only once all three serve.
    for replica in &replicas {
        until_ready_is(&replica.base, 200).await;
    }
    create_demo(&replicas[0].base).await;
    assert_eq!(register(&replicas[0].base, "1.0.0").await, 201);

    cluster.pg_ctl("stop");
    for replica in &replicas {
        until_ready_is(&replica.base, 503).await;
    }
    let writes: Vec<_> = (0..CONCURRENT_WRITES)
        .map(|i| {
            let base = replicas[i % replicas.len()].base.clone();
            tokio::spawn(timed_register(base, format!("2.0.{i}")))
        })
        .collect();
    for write in writes {
        let (status, retry_after, took) = write.await.unwrap();
        assert_eq!(status, 503, "a write while the database is down");
        assert!(
            retry_after
                .as_deref()
                .is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s >= 1)),
            "503 carries Retry-After: {retry_after:?}"
        );
        assert!(
            took < Duration::from_secs(1),
            "a write waited {took:?} for its 503"
        );
    }

    cluster.pg_ctl("start");
    let returned = Instant::now();
    for (i, replica) in replicas.iter().enumerate() {
        let version = format!("3.0.{i}");
        loop {
            if register(&replica.base, &version).await == 201 {
                break;
            }
            assert!(
                returned.elapsed() < Duration::from_secs(2),
                "{} did not accept writes within 2 s of the database's return",
                replica.base
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let stored = versions(&replicas[0].base).await;
    assert!(
        !stored.iter().any(|v| v.starts_with("2.0.")),
        "a refused write was stored: {stored:?}"
    );
    for replica in replicas {
        replica.stop().await;
    }
}

/// `updater publish` sends a publish again after a 503 with `Retry-After`
/// (a publish is applied once however often it is sent), so a short
/// database outage does not fail a release pipeline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_rides_out_a_short_database_outage() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.database("publish_retry");
    let replica = default_replica(&url).await;
    create_demo(&replica.base).await;
    cluster.pg_ctl("stop");
    until_ready_is(&replica.base, 503).await;

    let electron = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/build-outputs/1.2.0/electron");
    let publish = std::process::Command::new(env!("CARGO_BIN_EXE_updater"))
        .args([
            "publish",
            "--app",
            "demo",
            "--version",
            "1.2.0",
            "--timeout",
            "60s",
        ])
        .args(["--base-url", "https://cdn.example.com/{app}/{version}/"])
        .arg(&electron)
        .env("UPDATER_SERVER", &replica.base)
        .env("UPDATER_TOKEN", ADMIN_KEY)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    cluster.pg_ctl("start");
    let output = tokio::task::spawn_blocking(move || publish.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "publish failed: {stderr}");
    assert!(
        stderr.contains("briefly unavailable (503); retrying"),
        "the publish met the outage: {stderr}"
    );
    let stored = versions(&replica.base).await;
    assert!(
        stored.iter().all(|v| v == "1.2.0") && !stored.is_empty(),
        "{stored:?}"
    );
    replica.stop().await;
}
