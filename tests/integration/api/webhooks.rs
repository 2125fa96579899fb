//! Webhooks: the admin API's validation and access rules (the in-process
//! router), then delivery by the whole server (`LiveServer` runs `app::run`,
//! so its delivery worker too) to a `Receiver` on loopback that checks every
//! signature with its own HMAC.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::sut::Settings;
use crate::common::*;

const HOOKS: &str = "/api/v1/webhooks";
/// The Standard Webhooks specification's example secret (24 bytes).
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const UNKNOWN_ID: &str = "wh_0123456789abcdef0123456789abcdef";
/// Bounds how long a broken build may wait for a delivery.
const EVENTUALLY: Duration = Duration::from_secs(20);

fn hook(url: &str, events: &[&str]) -> Value {
    json!({"url": url, "events": events})
}

/// `field | JSON value | part of the message`: what a webhook may not be.
const REFUSED: &[&str] = &[
    r#"url | "ftp://hooks.example.com/x" | scheme `ftp`"#,
    r#"url | "not a url" | not a valid URL"#,
    r#"url | "http://hooks.example.com/x" | must use https"#,
    r#"url | "https://u:p@hooks.example.com/" | credentials"#,
    r#"events | [] | at least one"#,
    r#"events | ["release.created"] | unknown event `release.created`"#,
    r#"events | ["nothing.*"] | unknown event"#,
    r#"events | ["release"] | unknown event"#,
    r#"events | "release.*" | must be a list"#,
    r#"secret | "abc" | whsec_"#,
    r#"secret | "whsec_not base64 at all!!!!!!!" | whsec_"#,
    r#"secret | "whsec_AAAA" | at least 16 bytes"#,
    r#"application_id | "Bad App!" | "#,
];

#[tokio::test]
async fn creating_a_webhook_names_the_field_at_fault() {
    let app = TestApp::new().await;
    let mut cases: Vec<(String, Value, String)> = REFUSED
        .iter()
        .map(|case| {
            let parts: Vec<&str> = case.split(" | ").collect();
            let value = serde_json::from_str(parts[1]).unwrap();
            (parts[0].to_string(), value, parts[2].to_string())
        })
        .collect();
    let long = format!("https://hooks.example.com/{}", "a".repeat(2048));
    cases.push(("url".into(), json!(long), "at most 2048".into()));
    let many = vec!["release.published"; 21];
    cases.push(("events".into(), json!(many), "at most 20".into()));
    for (field, value, needle) in cases {
        let mut body = hook("https://hooks.example.com/updater", &["*"]);
        body[&field] = value;
        let reply = app.admin().post(HOOKS, &body).await;
        reply.assert_error(422, "VALIDATION_ERROR");
        let message = reply.field_error(&field);
        assert!(message.contains(&needle), "{body}: {message}");
    }
    let list = app.admin().get(HOOKS).await;
    assert_eq!(list.assert_status(200).json()["webhooks"], json!([]));
}

/// Loopback, private, shared, link-local and unspecified addresses, however spelled.
const PRIVATE_TARGETS: &str = "
    https://127.0.0.1/hook https://127.1/hook https://2130706433/hook https://0.0.0.0/
    https://localhost/hook https://LOCALHOST:8443/hook https://10.1.2.3/ https://172.16.0.1/
    https://192.168.1.1/ https://100.64.0.1/ https://169.254.169.254/latest/meta-data/
    https://[::1]/ https://[::ffff:127.0.0.1]/ https://[fd00::1]/ https://[fe80::1]/";

/// `POST /api/v1/webhooks` for every event to `url`, with the admin key.
async fn post_hook(app: &TestApp, url: &str) -> Reply {
    app.admin().post(HOOKS, &hook(url, &["*"])).await
}

fn text(value: &Value) -> String {
    value.as_str().unwrap().to_string()
}

#[tokio::test]
async fn private_targets_are_refused_unless_allowed() {
    let app = TestApp::new().await;
    let https_only = post_hook(&app, "http://127.0.0.1:9/hook").await;
    assert!(https_only.field_error("url").contains("must use https"));
    for url in PRIVATE_TARGETS.split_whitespace() {
        let reply = post_hook(&app, url).await;
        let message = reply.field_error("url");
        assert!(message.contains("not a public address"), "{url}: {message}");
    }
    // Public targets need no setting.
    for url in ["https://hooks.example.com/x", "https://93.184.215.14/x"] {
        post_hook(&app, url).await.assert_status(201);
    }
    // Plain HTTP allowed does not make loopback allowed.
    let mut settings = test_settings();
    settings.webhooks.allow_http = true;
    let http = TestApp::with_settings(settings).await;
    let reply = post_hook(&http, "http://127.0.0.1:9/hook").await;
    assert!(reply.field_error("url").contains("not a public address"));
    post_hook(&http, "http://hooks.example.com/x")
        .await
        .assert_status(201);
    // Private addresses allowed, loopback over http is accepted.
    let mut settings = test_settings();
    settings.webhooks.allow_private_addresses = true;
    let private = TestApp::with_settings(settings).await;
    for url in [
        "http://127.0.0.1:9/",
        "http://localhost:9/",
        "http://[::1]:9/",
    ] {
        post_hook(&private, url).await.assert_status(201);
    }
}

#[tokio::test]
async fn only_an_unscoped_admin_key_manages_webhooks() {
    let app = TestApp::new().await;
    app.seed("alpha", &[]).await;
    let created = post_hook(&app, "https://hooks.example.com/x").await;
    let id = text(&created.assert_status(201).json()["webhook"]["id"]);
    let key = json!({"name": "alpha-admin", "permissions": ["admin"], "applications": ["alpha"]});
    let scoped = app.admin().post("/api/v1/keys", &key).await;
    let token = text(&scoped.assert_status(201).json()["token"]);
    let body = hook("https://hooks.example.com/y", &["*"]);
    let routes = [
        ("POST", HOOKS.to_string(), Some(&body)),
        ("GET", HOOKS.to_string(), None),
        ("GET", format!("{HOOKS}/{id}"), None),
        ("GET", format!("{HOOKS}/{id}/deliveries"), None),
        ("DELETE", format!("{HOOKS}/{id}"), None),
    ];
    for (method, uri, body) in &routes {
        let anonymous = app.anonymous().call(method, uri, *body).await;
        assert_eq!(anonymous.status, 401, "{method} {uri}: {}", anonymous.text);
        let keys = [
            app.reader(),
            app.publisher(),
            app.monitor(),
            app.with_key(&token),
        ];
        for client in keys {
            let reply = client.call(method, uri, *body).await;
            reply.assert_error(403, "FORBIDDEN");
        }
    }
    let scoped_reply = app.with_key(&token).get(HOOKS).await;
    assert!(
        scoped_reply
            .text
            .contains("not limited to some applications")
    );
    let list = app.admin().get(HOOKS).await;
    assert_eq!(
        list.json()["webhooks"].as_array().unwrap().len(),
        1,
        "unchanged"
    );
}

#[tokio::test]
async fn webhooks_are_listed_read_and_deleted_and_the_secret_is_shown_once() {
    let app = TestApp::new().await;
    let admin = app.admin();
    let events = ["release.*", "application.created"];
    let mut body = hook("https://hooks.example.com/a", &events);
    body["secret"] = json!(SECRET);
    body["application_id"] = json!("alpha");
    let first = admin.post(HOOKS, &body).await;
    let first = first.assert_status(201).json().clone();
    assert_eq!(first["secret"], SECRET);
    let view = &first["webhook"];
    let id = text(&view["id"]);
    let shape = regex::Regex::new("^wh_[0-9a-f]{32}$").unwrap();
    assert!(shape.is_match(&id), "{id}");
    assert_eq!(view["url"], "https://hooks.example.com/a");
    assert_eq!(view["events"], json!(events));
    assert_eq!(view["application_id"], "alpha");
    assert_eq!(view["created_by"], "admin");
    assert!(view.get("secret").is_none());

    let second = post_hook(&app, "https://hooks.example.com/b").await;
    let second = second.assert_status(201).json().clone();
    let generated = text(&second["secret"]);
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(generated.strip_prefix("whsec_").unwrap())
        .unwrap();
    assert_eq!(raw.len(), 32, "a generated secret has 32 random bytes");
    assert_eq!(second["webhook"]["application_id"], Value::Null);

    let list = admin.get(HOOKS).await;
    assert_eq!(
        list.assert_status(200).json()["webhooks"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let read = admin.get(&format!("{HOOKS}/{id}")).await;
    assert_eq!(read.assert_status(200).json(), view);
    for reply in [&list, &read] {
        assert!(!reply.text.contains(SECRET) && !reply.text.contains(&generated));
    }

    // Id shape, then existence.
    for bad in ["nope", "wh_123", "wh_0123456789ABCDEF0123456789abcdeg"] {
        for uri in [
            format!("{HOOKS}/{bad}"),
            format!("{HOOKS}/{bad}/deliveries"),
        ] {
            let reply = admin.get(&uri).await;
            assert!(reply.field_error("webhook_id").contains("wh_"), "{uri}");
        }
        admin
            .delete(&format!("{HOOKS}/{bad}"))
            .await
            .field_error("webhook_id");
    }
    let unknown = format!("{HOOKS}/{UNKNOWN_ID}");
    admin.get(&unknown).await.assert_error(404, "NOT_FOUND");
    let unknown_log = admin.get(&format!("{unknown}/deliveries")).await;
    unknown_log.assert_error(404, "NOT_FOUND");
    admin.delete(&unknown).await.assert_error(404, "NOT_FOUND");

    // The delivery log: empty, with a bounded limit.
    let log_uri = format!("{HOOKS}/{id}/deliveries");
    let log = admin.get(&log_uri).await;
    assert_eq!(log.assert_status(200).json(), &json!({"deliveries": []}));
    for limit in ["0", "1001"] {
        let reply = admin.get(&format!("{log_uri}?limit={limit}")).await;
        assert!(reply.field_error("limit").contains("1000"));
    }
    let bounded = admin.get(&format!("{log_uri}?limit=1000")).await;
    bounded.assert_status(200);

    let uri = format!("{HOOKS}/{id}");
    let deleted = admin.delete(&uri).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    admin.get(&uri).await.assert_error(404, "NOT_FOUND");
    admin.delete(&uri).await.assert_error(404, "NOT_FOUND");
    let list = admin.get(HOOKS).await;
    assert_eq!(list.json()["webhooks"].as_array().unwrap().len(), 1);

    // Both changes are in the audit log.
    for action in ["webhook.created", "webhook.deleted"] {
        let audit = admin.get(&format!("/api/v1/audit?action={action}")).await;
        let entries = audit.assert_status(200).json()["entries"].clone();
        let found = entries
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["target"] == id.as_str());
        assert!(found, "{action}: {entries}");
    }
}

// ------------------------------------------------------------ delivery

/// Loopback targets allowed, a short backoff and attempt deadline.
fn delivery_settings() -> Settings {
    let mut settings = test_settings();
    settings.webhooks.allow_private_addresses = true;
    settings.webhooks.backoff_initial = Duration::from_millis(200);
    settings.webhooks.backoff_max = Duration::from_secs(1);
    settings.webhooks.timeout = Duration::from_secs(2);
    settings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_release_is_delivered_once_and_signed() {
    let receiver = Receiver::start(Answer::Succeed).await;
    let server = LiveServer::start(delivery_settings()).await;
    create_application(&server.base, "demo").await;
    let target = hook(&receiver.url("/release"), &["release.*"]);
    let (hook_id, secret) = create_webhook(&server.base, target).await;
    publish_release(&server.base, "demo", "1.2.3").await;

    receiver.wait_for("/release", 1, EVENTUALLY).await;
    quiet_period().await;
    let received = receiver.received();
    assert_eq!(received.len(), 1, "{received:#?}");
    let delivery = &received[0];
    verify_signature(&secret, delivery).unwrap();
    assert!(verify_signature(SECRET, delivery).is_err(), "wrong secret");
    assert_eq!(delivery.header("content-type"), "application/json");
    assert!(delivery.message_id().starts_with("msg_"));
    assert!(delivery.header("user-agent").starts_with("updater/"));
    let body = delivery.json();
    assert_eq!(body["type"], "release.published");
    let timestamp = body["timestamp"].as_str().unwrap();
    chrono::DateTime::parse_from_rfc3339(timestamp).unwrap();
    let url = &release_body("1.2.3")["download_url"];
    let data = json!({"application_id": "demo", "version": "1.2.3", "platform": "linux",
        "architecture": "amd64", "download_url": url, "yanked": false});
    assert_fields(&body["data"], &data);

    let log = wait_deliveries(&server.base, &hook_id, EVENTUALLY, |l| !l.is_empty()).await;
    assert_eq!(log.len(), 1, "{log:#?}");
    let attempt = json!({"message_id": delivery.message_id(), "event_type": "release.published",
        "status": 200, "succeeded": true, "error": null});
    assert_fields(&log[0], &attempt);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_gets_retries_with_the_same_id_until_it_succeeds() {
    let receiver = Receiver::start(Answer::FailFirst(3)).await;
    let settings = delivery_settings();
    let initial = settings.webhooks.backoff_initial;
    let server = LiveServer::start(settings).await;
    create_application(&server.base, "demo").await;
    let target = hook(&receiver.url("/retry"), &["release.published"]);
    let (hook_id, secret) = create_webhook(&server.base, target).await;
    publish_release(&server.base, "demo", "1.0.0").await;

    let attempts = receiver.wait_for("/retry", 4, EVENTUALLY).await;
    let answered: Vec<_> = attempts.iter().map(|a| a.answered).collect();
    assert_eq!(answered, [Some(500), Some(500), Some(500), Some(200)]);
    let id = attempts[0].message_id().to_string();
    for (n, attempt) in attempts.iter().enumerate() {
        assert_eq!(attempt.message_id(), id, "attempt {n}: the same webhook-id");
        assert_eq!(attempt.body, attempts[0].body, "attempt {n}: the same body");
        verify_signature(&secret, attempt).unwrap();
    }
    // Each wait is at least the backoff, doubling (a little slack for the
    // first connection's set-up).
    for (n, pair) in attempts.windows(2).enumerate() {
        let gap = pair[1].at - pair[0].at;
        let backoff = initial * 2u32.pow(n as u32) - Duration::from_millis(50);
        assert!(gap >= backoff, "wait {n}: {gap:?} < {backoff:?}");
    }
    // Delivered: nothing more comes.
    quiet_period().await;
    assert_eq!(receiver.received().len(), 4, "{:#?}", receiver.received());

    let log = wait_deliveries(&server.base, &hook_id, EVENTUALLY, |l| l.len() >= 4).await;
    assert_eq!(log.len(), 4, "{log:#?}");
    let outcomes: Vec<_> = log.iter().map(|a| a["succeeded"] == true).collect();
    assert_eq!(outcomes, [true, false, false, false], "newest first");
    for attempt in &log {
        assert_eq!(attempt["message_id"], id.as_str());
    }
    for failure in &log[1..] {
        assert_eq!(failure["status"], 500);
        assert_eq!(failure["error"], "receiver answered 500");
    }
    server.stop().await;
}

/// The event types of `received`, sorted.
fn types(received: &[Received]) -> Vec<String> {
    let mut types: Vec<String> = received.iter().map(|r| text(&r.json()["type"])).collect();
    types.sort();
    types
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_get_only_the_events_and_applications_they_asked_for() {
    let receiver = Receiver::start(Answer::Succeed).await;
    let server = LiveServer::start(delivery_settings()).await;
    let base = server.base.clone();
    let mut alpha_only = hook(&receiver.url("/alpha"), &["*"]);
    alpha_only["application_id"] = json!("alpha");
    let (_, alpha_secret) = create_webhook(&base, alpha_only).await;
    let (_, apps_secret) =
        create_webhook(&base, hook(&receiver.url("/apps"), &["application.*"])).await;

    create_application(&base, "alpha").await;
    create_application(&base, "beta").await;
    publish_release(&base, "beta", "1.0.0").await;
    publish_release(&base, "alpha", "1.0.0").await;
    let renamed = json!({"name": "Beta renamed"});
    let (status, body) = api_call(&base, "PUT", "/api/v1/applications/beta", Some(&renamed)).await;
    assert_eq!(status, 200, "{body}");
    let beta_release = "/api/v1/updates/beta/releases/1.0.0/linux/amd64";
    let yank = json!({"yanked": true});
    let (status, body) = api_call(&base, "PATCH", beta_release, Some(&yank)).await;
    assert_eq!(status, 200, "{body}");
    let alpha_release = "/api/v1/updates/alpha/releases/1.0.0/linux/amd64";
    let rollout = json!({"rollout_percentage": 50});
    let (status, body) = api_call(&base, "PATCH", alpha_release, Some(&rollout)).await;
    assert_eq!(status, 200, "{body}");

    receiver.wait_for("/alpha", 3, EVENTUALLY).await;
    receiver.wait_for("/apps", 3, EVENTUALLY).await;
    quiet_period().await;
    let alpha = receiver.received_on("/alpha");
    let expected = [
        "application.created",
        "release.published",
        "rollout.changed",
    ];
    assert_eq!(types(&alpha), expected);
    for event in &alpha {
        verify_signature(&alpha_secret, event).unwrap();
        let data = &event.json()["data"];
        let app = data.get("application_id").unwrap_or(&data["id"]);
        assert_eq!(app, "alpha", "{data}");
    }
    let apps = receiver.received_on("/apps");
    let created = "application.created";
    assert_eq!(types(&apps), [created, created, "application.updated"]);
    for event in &apps {
        verify_signature(&apps_secret, event).unwrap();
    }
    assert_eq!(receiver.received().len(), 6, "nothing went anywhere else");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_never_answers_does_not_hold_up_writes() {
    let receiver = Receiver::start(Answer::Hang).await;
    let mut settings = delivery_settings();
    // Generous, so a loaded machine cannot make the write look held up.
    settings.webhooks.timeout = Duration::from_secs(5);
    let timeout = settings.webhooks.timeout;
    let server = LiveServer::start(settings).await;
    // A receiver's token in the query must not reach the delivery log.
    let target = hook(&receiver.url("/hang?token=tok-7f3a"), &["*"]);
    let (hook_id, _) = create_webhook(&server.base, target).await;
    create_application(&server.base, "demo").await;
    // The worker is now inside an attempt that gets no answer.
    receiver.wait_for("/hang", 1, EVENTUALLY).await;
    let started = Instant::now();
    publish_release(&server.base, "demo", "1.0.0").await;
    let took = started.elapsed();
    assert!(
        took < timeout,
        "the write waited for the receiver: {took:?}"
    );

    let log = wait_deliveries(&server.base, &hook_id, EVENTUALLY, |l| !l.is_empty()).await;
    let attempt = log.last().unwrap();
    assert_eq!(attempt["succeeded"], false, "{attempt}");
    assert_eq!(attempt["status"], Value::Null, "no answer came: {attempt}");
    let error = text(&attempt["error"]);
    assert!(
        error.contains("timed out") && !error.contains("tok-7f3a"),
        "{error}"
    );
    let waited = Duration::from_millis(attempt["duration_ms"].as_u64().unwrap());
    assert!(waited + Duration::from_millis(100) >= timeout, "{attempt}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_stop_once_retry_for_has_passed() {
    let receiver = Receiver::start(Answer::FailAlways).await;
    let mut settings = delivery_settings();
    settings.webhooks.retry_for = Duration::from_secs(1);
    let server = LiveServer::start(settings).await;
    let (hook_id, _) = create_webhook(&server.base, hook(&receiver.url("/down"), &["*"])).await;
    create_application(&server.base, "demo").await;
    receiver.wait_for("/down", 1, EVENTUALLY).await;
    // Past `retry_for` and the worker's next poll: no attempt is due any more.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let attempts = receiver.received().len();
    quiet_period().await;
    assert_eq!(
        receiver.received().len(),
        attempts,
        "an attempt after giving up"
    );
    let log = deliveries(&server.base, &hook_id).await;
    assert_eq!(log.len(), attempts, "{log:#?}");
    assert!(log.iter().all(|a| a["succeeded"] == false));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_resolves_to_a_private_address_is_refused_at_delivery() {
    let Some(name) = private_host_name() else {
        eprintln!("SKIPPED: this host's name does not resolve to a private address");
        return;
    };
    let receiver = Receiver::start(Answer::Succeed).await;
    let mut settings = delivery_settings();
    settings.webhooks.allow_private_addresses = false;
    settings.webhooks.allow_http = true;
    let server = LiveServer::start(settings).await;
    let url = format!("http://{name}:{}/ssrf", receiver.port);
    let (hook_id, _) = create_webhook(&server.base, hook(&url, &["*"])).await;
    create_application(&server.base, "demo").await;

    let log = wait_deliveries(&server.base, &hook_id, EVENTUALLY, |l| !l.is_empty()).await;
    let attempt = &log[0];
    assert_eq!(attempt["succeeded"], false, "{attempt}");
    let error = attempt["error"].as_str().unwrap();
    assert!(error.contains("not resolve to a public address"), "{error}");
    assert!(receiver.received().is_empty(), "the request never left");
    server.stop().await;
}
