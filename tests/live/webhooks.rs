//! Webhook messages are durable: written in the change's transaction, they
//! survive `kill -9` of the real binary on SQLite, and the restarted server
//! delivers them with the same `webhook-id` as the attempts before.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::*;

const WEBHOOKS_YAML: &str = "  webhooks:
    allow_private_addresses: true
    backoff_initial: 200ms
    backoff_max: 1s
    timeout: 1s
";
/// The lease of an attempt cut short (2 x timeout + 10 s), with room to spare.
const EVENTUALLY: Duration = Duration::from_secs(40);

/// `ChildServer::spawn` waits by blocking; keep the runtime's other worker free.
fn spawn(dir: &Path, port: u16) -> ChildServer {
    tokio::task::block_in_place(|| ChildServer::spawn(dir, port))
}

fn kill_9(server: ChildServer) {
    server.signal("KILL");
    tokio::task::block_in_place(|| drop(server));
}

/// Creates `demo` and a webhook for its published releases to `url`; the
/// webhook's id and secret.
async fn hook_for_releases(base: &str, url: &str) -> (String, String) {
    create_application(base, "demo").await;
    let hook = json!({"url": url, "events": ["release.published"], "application_id": "demo"});
    create_webhook(base, hook).await
}

/// With the admin key: the child servers know no other.
async fn publish(base: &str, version: &str) {
    let path = "/api/v1/updates/demo/register";
    let (status, body) = api_call(base, "POST", path, Some(&release_body(version))).await;
    assert_eq!(status, 201, "{body}");
}

/// The restarted server's log: exactly one success, every attempt of one
/// message.
async fn assert_delivered_once(base: &str, hook_id: &str, message_id: &str) -> Vec<Value> {
    wait_deliveries(base, hook_id, EVENTUALLY, |l| {
        l.iter().any(|a| a["succeeded"] == true)
    })
    .await;
    quiet_period().await;
    let log = deliveries(base, hook_id).await;
    let successes = log.iter().filter(|a| a["succeeded"] == true).count();
    assert_eq!(successes, 1, "{log:#?}");
    assert_eq!(log[0]["succeeded"], true, "the success is the last attempt");
    for attempt in &log {
        assert_eq!(attempt["message_id"], message_id, "{log:#?}");
    }
    log
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_queued_before_kill_9_is_delivered_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), WEBHOOKS_YAML);
    let port = free_port();
    // Nothing listens here until after the crash.
    let target_port = free_port();
    let target = format!("http://127.0.0.1:{target_port}/hook");
    let server = spawn(dir.path(), port);
    let (hook_id, secret) = hook_for_releases(&server.base, &target).await;
    publish(&server.base, "1.0.0").await;

    // The message is in the outbox: its attempts fail and are logged.
    let failed = wait_deliveries(&server.base, &hook_id, EVENTUALLY, |l| !l.is_empty()).await;
    let message_id = failed[0]["message_id"].as_str().unwrap().to_string();
    for attempt in &failed {
        assert_eq!(attempt["succeeded"], false, "{attempt}");
        assert_eq!(
            attempt["status"],
            Value::Null,
            "nothing answered: {attempt}"
        );
    }
    kill_9(server);

    let receiver = Receiver::start_on(target_port, Answer::Succeed).await;
    let server = spawn(dir.path(), port);
    let received = receiver.wait_for("/hook", 1, EVENTUALLY).await;
    assert_eq!(received[0].message_id(), message_id);
    verify_signature(&secret, &received[0]).unwrap();
    let body = received[0].json();
    assert_eq!(body["type"], "release.published");
    assert_eq!(body["data"]["version"], "1.0.0");

    let log = assert_delivered_once(&server.base, &hook_id, &message_id).await;
    assert!(
        log.len() >= 2,
        "the failures before the crash are kept: {log:#?}"
    );
    assert_eq!(receiver.received().len(), 1, "{:#?}", receiver.received());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_cut_short_by_kill_9_is_made_again_after_its_lease() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), WEBHOOKS_YAML);
    let port = free_port();
    let hanging = Receiver::start(Answer::Hang).await;
    let target_port = hanging.port;
    let server = spawn(dir.path(), port);
    let (hook_id, secret) = hook_for_releases(&server.base, &hanging.url("/hook")).await;
    publish(&server.base, "1.0.0").await;

    // Killed while the attempt waits for an answer: claimed, never finished.
    let cut_short = hanging.wait_for("/hook", 1, EVENTUALLY).await;
    let message_id = cut_short[0].message_id().to_string();
    kill_9(server);
    drop(hanging);

    let receiver = Receiver::start_on(target_port, Answer::Succeed).await;
    let server = spawn(dir.path(), port);
    let received = receiver.wait_for("/hook", 1, EVENTUALLY).await;
    assert_eq!(
        received[0].message_id(),
        message_id,
        "the retry repeats the interrupted attempt's webhook-id"
    );
    verify_signature(&secret, &received[0]).unwrap();
    let log = assert_delivered_once(&server.base, &hook_id, &message_id).await;
    assert_eq!(
        log.len(),
        1,
        "the interrupted attempt left no record: {log:#?}"
    );
    assert_eq!(receiver.received().len(), 1);
}
