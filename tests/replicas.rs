//! Several replicas on one PostgreSQL database: writes reach every replica's
//! in-memory catalog, a lost connection triggers a full reload, and a
//! database outage leaves update checks answering. Each test starts its own
//! throwaway cluster (skipped without Debian's binaries unless `CI=true`).

mod common;

use std::time::{Duration, Instant};

use common::sut::{Job, PostgresStore, Secret, StorageType, Store};
use common::*;
use serde_json::{Value, json};

#[path = "replicas/breaker.rs"]
mod breaker;

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

/// The same on every replica, as managed keys need on PostgreSQL.
const PEPPER: &str = "replica-test-pepper-0123456789abcdef";
/// How long a managed key change may take to reach another replica.
const KEY_PROPAGATION: Duration = Duration::from_secs(10);

/// A replica with the shared pepper whose delivery worker may reach loopback.
async fn peppered_replica(url: &str) -> LiveServer {
    let mut settings = test_settings();
    settings.storage.kind = StorageType::Postgres;
    settings.storage.postgres.url = Secret::new(url);
    settings.storage.postgres.acquire_timeout = Duration::from_secs(1);
    settings.security.key_pepper = Secret::new(PEPPER);
    settings.webhooks.allow_private_addresses = true;
    settings.webhooks.backoff_initial = Duration::from_millis(200);
    settings.webhooks.backoff_max = Duration::from_secs(1);
    settings.webhooks.timeout = Duration::from_secs(2);
    LiveServer::start(settings).await
}

/// Polls `base` with `token` until it answers `status`; how long that took.
async fn until_key_answers(base: &str, token: &str, status: u16) -> Duration {
    let started = Instant::now();
    loop {
        let (seen, body) = api_call_as(base, token, "GET", "/api/v1/applications", None).await;
        if seen == status {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < KEY_PROPAGATION,
            "{base} still answers {seen} ({body}), expected {status}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_keys_and_their_revocation_reach_every_replica() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.database("keys");
    let a = peppered_replica(&url).await;
    let b = peppered_replica(&url).await;
    create_demo(&a.base).await;

    let request = json!({"name": "pipeline", "permissions": ["publish"]});
    let (status, issued) = api_call(&a.base, "POST", "/api/v1/keys", Some(&request)).await;
    assert_eq!(status, 201, "{issued}");
    let token = issued["token"].as_str().unwrap().to_string();
    let id = issued["key"]["id"].as_str().unwrap().to_string();
    let (status, body) = api_call_as(&a.base, &token, "GET", "/api/v1/applications", None).await;
    assert_eq!(status, 200, "at once on the replica that issued it: {body}");
    let created = until_key_answers(&b.base, &token, 200).await;
    eprintln!("a key created through A worked on B after {created:?}");
    // Not only reads: it publishes through B.
    let path = "/api/v1/updates/demo/register";
    let (status, body) =
        api_call_as(&b.base, &token, "POST", path, Some(&release_body("1.0.0"))).await;
    assert_eq!(status, 201, "{body}");

    let revoke = format!("/api/v1/keys/{id}/revoke");
    let (status, body) = api_call(&a.base, "POST", &revoke, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "revoked");
    let (status, _) = api_call_as(&a.base, &token, "GET", "/api/v1/applications", None).await;
    assert_eq!(status, 401, "at once on the replica that revoked it");
    let revoked = until_key_answers(&b.base, &token, 401).await;
    eprintln!("a key revoked through A was refused by B after {revoked:?}");
    let (status, _) =
        api_call_as(&b.base, &token, "POST", path, Some(&release_body("1.1.0"))).await;
    assert_eq!(status, 401, "a revoked key writes nothing");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_webhook_message_is_delivered_once_while_two_replicas_deliver() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.database("webhooks");
    let a = peppered_replica(&url).await;
    let b = peppered_replica(&url).await;
    let receiver = Receiver::start(Answer::Succeed).await;
    let hook = json!({"url": receiver.url("/hook"), "events": ["release.published"]});
    let (status, created) = api_call(&a.base, "POST", "/api/v1/webhooks", Some(&hook)).await;
    assert_eq!(status, 201, "{created}");
    let hook_id = created["webhook"]["id"].as_str().unwrap().to_string();
    let secret = created["secret"].as_str().unwrap().to_string();
    create_demo(&a.base).await;

    // One event through A, delivered once.
    assert_eq!(register(&a.base, "1.0.0").await, 201);
    receiver.wait_for("/hook", 1, EVENTUALLY).await;
    quiet_period().await;
    assert_eq!(receiver.received().len(), 1, "{:#?}", receiver.received());
    verify_signature(&secret, &receiver.received()[0]).unwrap();

    // Twenty more through both replicas at once: each message once.
    let versions: Vec<String> = (1..=20).map(|minor| format!("1.{minor}.0")).collect();
    let writes = versions.iter().enumerate().map(|(n, version)| {
        let base = if n % 2 == 0 { &a.base } else { &b.base };
        register(base, version)
    });
    for status in futures_util::future::join_all(writes).await {
        assert_eq!(status, 201);
    }
    receiver.wait_for("/hook", 21, EVENTUALLY).await;
    quiet_period().await;
    let received = receiver.received();
    let mut ids: Vec<&str> = received.iter().map(Received::message_id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 21, "21 messages");
    assert_eq!(received.len(), 21, "each delivered once: {received:#?}");
    for delivery in &received {
        verify_signature(&secret, delivery).unwrap();
    }
    let log = deliveries(&b.base, &hook_id).await;
    assert_eq!(log.len(), 21, "one attempt each: {log:#?}");
    assert!(log.iter().all(|a| a["succeeded"] == true));
    a.stop().await;
    b.stop().await;
}

async fn job_on(base: &str, id: &str) -> Value {
    let reply = http()
        .get(format!("{base}/api/v1/jobs/{id}"))
        .bearer_auth(WRITE_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    reply.json().await.unwrap()
}

/// A publish that outlasts its request on one replica is polled on another,
/// and a job its replica abandoned is reported failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_jobs_are_read_on_any_replica() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.database("jobs");
    let start = || {
        let mut settings = test_settings();
        settings.storage.kind = StorageType::Postgres;
        settings.storage.postgres.url = Secret::new(url.clone());
        settings.server.request_timeout = Duration::from_millis(400);
        settings
            .security
            .artifact_verification
            .allow_private_addresses = true;
        LiveServer::start(settings)
    };
    let a = start().await;
    let b = start().await;
    let created = send_json(
        reqwest::Method::POST,
        format!("{}/api/v1/applications", a.base),
        ADMIN_KEY,
        json!({"id": "demo", "name": "Demo", "platforms": ["linux"], "config": {"verify_on_register": true}}),
    )
    .await;
    assert_eq!(created, 201);
    let artifacts = ArtifactServer::start().await;
    let bytes = b"installer";
    let gate = artifacts.hold("demo.AppImage");
    let body = json!({"version": "1.0.0", "targets": [{"platform": "linux", "architecture": "amd64",
        "files": [{"url": artifacts.put("demo.AppImage", bytes), "size": bytes.len(), "sha256": sha256_hex(bytes)}]}]});
    let accepted = http()
        .post(format!("{}/api/v1/applications/demo/releases", a.base))
        .bearer_auth(WRITE_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    let accepted: Value = accepted.json().await.unwrap();
    let id = accepted["job"]["id"].as_str().unwrap().to_string();
    assert_eq!(job_on(&b.base, &id).await["status"], "running");

    gate.release();
    let deadline = Instant::now() + EVENTUALLY;
    let done = loop {
        let job = job_on(&b.base, &id).await;
        if job["status"] != "running" {
            break job;
        }
        assert!(Instant::now() < deadline, "job still running: {job}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        done["result"]["releases"][0]["id"],
        "demo-1.0.0-linux-amd64"
    );
    until_latest(&b.base, Some("1.0.0")).await;

    // A job whose replica stopped before finishing it.
    let store = PostgresStore::open(&common::sut::PostgresSettings {
        url: Secret::new(url.clone()),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    let abandoned = Job::start("demo", "2.0.0", past);
    store.insert_job(&abandoned).await.unwrap();
    store.close().await;
    let job = job_on(&a.base, &abandoned.id).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "JOB_ABANDONED");

    a.stop().await;
    b.stop().await;
}
