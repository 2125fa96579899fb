//! Several replicas on one PostgreSQL database: writes reach every replica's
//! in-memory catalog, a lost connection triggers a full reload, and a
//! database outage leaves update checks answering. Each test starts its own
//! throwaway cluster (skipped without Debian's binaries unless `CI=true`).

mod common;

use std::time::{Duration, Instant};

use common::sut::{Secret, StorageType};
use common::*;
use serde_json::{Value, json};

/// Generous: propagation normally takes milliseconds (see bench/propagation.sh);
/// this only bounds how long a broken build may hang.
const EVENTUALLY: Duration = Duration::from_secs(15);

async fn replica(url: &str) -> LiveServer {
    let mut settings = test_settings();
    settings.storage.kind = StorageType::Postgres;
    settings.storage.postgres.url = Secret::new(url);
    settings.storage.postgres.acquire_timeout = Duration::from_secs(1);
    LiveServer::start(settings).await
}

async fn send_json(method: reqwest::Method, url: String, key: &str, body: Value) -> u16 {
    http()
        .request(method, url)
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

async fn latest(base: &str) -> Option<String> {
    let body: Value = http()
        .get(format!(
            "{base}/api/v1/updates/demo/check?current_version=0.1.0&platform=linux&architecture=amd64"
        ))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    body["latest_version"].as_str().map(str::to_string)
}

/// Polls until `base` offers `expected` as the latest version.
async fn until_latest(base: &str, expected: Option<&str>) {
    let deadline = Instant::now() + EVENTUALLY;
    loop {
        let seen = latest(base).await;
        if seen.as_deref() == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{base} still offers {seen:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn create_demo(base: &str) {
    let created = send_json(
        reqwest::Method::POST,
        format!("{base}/api/v1/applications"),
        ADMIN_KEY,
        app_body("demo"),
    )
    .await;
    assert_eq!(created, 201);
}

async fn register(base: &str, version: &str) -> u16 {
    send_json(
        reqwest::Method::POST,
        format!("{base}/api/v1/updates/demo/register"),
        WRITE_KEY,
        release_body(version),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_on_one_replica_reach_the_others() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.database("replicas");
    let a = replica(&url).await;
    let b = replica(&url).await;
    let c = replica(&url).await;

    create_demo(&a.base).await;
    assert_eq!(register(&a.base, "1.0.0").await, 201);
    until_latest(&b.base, Some("1.0.0")).await;
    until_latest(&c.base, Some("1.0.0")).await;

    // A write on another replica, then a yank, then a delete.
    assert_eq!(register(&b.base, "1.1.0").await, 201);
    until_latest(&a.base, Some("1.1.0")).await;
    until_latest(&c.base, Some("1.1.0")).await;
    let yanked = send_json(
        reqwest::Method::PATCH,
        format!("{}/api/v1/updates/demo/releases/1.1.0/linux/amd64", c.base),
        ADMIN_KEY,
        json!({"yanked": true}),
    )
    .await;
    assert_eq!(yanked, 200);
    until_latest(&a.base, Some("1.0.0")).await;
    until_latest(&b.base, Some("1.0.0")).await;
    let deleted = http()
        .delete(format!(
            "{}/api/v1/updates/demo/releases/1.0.0/linux/amd64",
            a.base
        ))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    until_latest(&b.base, None).await;
    until_latest(&c.base, None).await;

    // The same release registered twice through two replicas: one wins.
    let (first, second) = tokio::join!(register(&a.base, "2.0.0"), register(&b.base, "2.0.0"));
    let mut statuses = [first, second];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409]);

    for server in [a, b, c] {
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_reloads_the_whole_catalog() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.database("resync");
    let a = replica(&url).await;
    create_demo(&a.base).await;
    assert_eq!(register(&a.base, "1.0.0").await, 201);

    // A row written behind the server's back sends no notification; only a
    // reload can find it. Cutting every connection forces one.
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO releases (application_id, version, platform, architecture, files, release_date, created_at) \
         SELECT application_id, '3.0.0', platform, architecture, files, release_date, created_at \
         FROM releases WHERE version = '1.0.0'",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(latest(&a.base).await.as_deref(), Some("1.0.0"));
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = 'resync' AND pid <> pg_backend_pid()",
    )
    .execute(&pool)
    .await
    .unwrap();
    until_latest(&a.base, Some("3.0.0")).await;
    pool.close().await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_keeps_checks_answering_and_heals_itself() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.database("outage");
    let a = replica(&url).await;
    let b = replica(&url).await;
    create_demo(&a.base).await;
    assert_eq!(register(&a.base, "1.0.0").await, 201);
    until_latest(&b.base, Some("1.0.0")).await;

    cluster.pg_ctl("stop");
    // Checks are served from memory: every one answers.
    for _ in 0..50 {
        assert_eq!(latest(&a.base).await.as_deref(), Some("1.0.0"));
        assert_eq!(latest(&b.base).await.as_deref(), Some("1.0.0"));
    }
    // Writes fail cleanly with 503 and a message.
    let response = http()
        .post(format!("{}/api/v1/updates/demo/register", a.base))
        .bearer_auth(WRITE_KEY)
        .json(&release_body("1.1.0"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "SERVICE_UNAVAILABLE", "{body}");
    assert!(!body.to_string().contains(&cluster.password));
    // Readiness reports it (the store is pinged every 5 s).
    let deadline = Instant::now() + EVENTUALLY;
    loop {
        let ready = http()
            .get(format!("{}/health/ready", a.base))
            .send()
            .await
            .unwrap();
        if ready.status().as_u16() == 503 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "readiness never reported the outage"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    cluster.pg_ctl("start");
    // No restart: writes work again and reach the other replica.
    let deadline = Instant::now() + EVENTUALLY;
    while register(&a.base, "1.1.0").await != 201 {
        assert!(Instant::now() < deadline, "writes never recovered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    until_latest(&b.base, Some("1.1.0")).await;
    let deadline = Instant::now() + EVENTUALLY;
    loop {
        let ready = http()
            .get(format!("{}/health/ready", b.base))
            .send()
            .await
            .unwrap();
        if ready.status().is_success() {
            break;
        }
        assert!(Instant::now() < deadline, "readiness never recovered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    a.stop().await;
    b.stop().await;
}
