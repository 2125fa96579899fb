//! Managed API keys through `/api/v1/keys`: the token and the key view,
//! validation, rotation, revocation, expiry, lock-out, last use.

use std::time::Duration;

use axum::body::Body;
use serde_json::{Value, json};

use crate::common::sut::StorageType;
use crate::common::{ADMIN_KEY, LiveServer, TestApp, app_body, http, release_body, test_settings};

const TOKEN_SHAPE: &str = "^upd_[0-9a-f]{16}_[0-9a-f]{64}$";

fn time(value: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap()).unwrap()
}

/// `token` with its last secret character changed: the right id, a wrong secret.
fn wrong_secret(token: &str) -> String {
    let (head, last) = token.split_at(token.len() - 1);
    format!("{head}{}", if last == "0" { "1" } else { "0" })
}

#[tokio::test]
async fn create_answers_the_token_once_and_a_key_view() {
    let app = TestApp::new().await;
    let reply = app
        .admin()
        .create_key(&json!({
            "name": "  desk-pipeline  ",
            "permissions": ["publish", "rollout"],
            "applications": ["desk"],
            "expires_in": "90d"
        }))
        .await;
    reply.assert_status(201);
    let token = reply.body["token"].as_str().unwrap();
    assert!(
        regex::Regex::new(TOKEN_SHAPE).unwrap().is_match(token),
        "{token}"
    );
    assert_eq!(token.len(), 85);
    let key = &reply.body["key"];
    let id = key["id"].as_str().unwrap();
    assert_eq!(&token[4..20], id, "the token carries the key id");
    assert_eq!(key["name"], "desk-pipeline", "the name is trimmed");
    assert_eq!(key["permissions"], json!(["publish", "rollout"]));
    assert_eq!(key["applications"], json!(["desk"]));
    assert_eq!(key["created_by"], "admin");
    assert_eq!(key["status"], "active");
    assert!(key["last_used_at"].is_null());
    assert!(key["revoked_at"].is_null());
    let lifetime = time(&key["expires_at"]) - time(&key["created_at"]);
    assert!(
        (lifetime - chrono::Duration::days(90)).num_seconds().abs() < 5,
        "{lifetime}"
    );
    let mut fields: Vec<&String> = key.as_object().unwrap().keys().collect();
    fields.sort();
    let view = "applications created_at created_by expires_at id last_used_at name permissions \
                revoked_at status";
    assert_eq!(fields, view.split_whitespace().collect::<Vec<_>>());

    let everywhere = app.key_for(&["read"], None).await;
    assert!(
        everywhere.view["applications"].is_null(),
        "null: every application"
    );
    assert!(everywhere.view["expires_at"].is_null());

    let secret = &token[21..];
    let list = app.admin().list_keys().await;
    list.assert_status(200);
    let listed: Vec<&str> = list.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&id) && listed.contains(&everywhere.id.as_str()));
    let one = app.admin().get_key(id).await;
    one.assert_status(200);
    assert_eq!(&one.body, key, "GET answers the view create answered");
    for text in [&list.text, &one.text] {
        assert!(!text.contains(secret), "a token is shown only once: {text}");
        assert!(!text.contains(&everywhere.token[21..]));
        assert!(!text.contains("digest"), "{text}");
    }
}

#[tokio::test]
async fn a_token_authenticates_with_exactly_its_permissions() {
    let app = TestApp::new().await;
    app.seed("desk", &["1.0.0"]).await;
    let reader = app.key_for(&["read"], None).await;
    let publisher = app.key_for(&["publish"], None).await;
    let monitor = app.key_for(&["monitor"], None).await;

    let read = app.with_key(&reader.token);
    read.list_apps("").await.assert_status(200);
    read.get_app("desk").await.assert_status(200);
    read.register("desk", &release_body("2.0.0"))
        .await
        .assert_error(403, "FORBIDDEN");

    let publish = app.with_key(&publisher.token);
    publish
        .register("desk", &release_body("2.0.0"))
        .await
        .assert_status(201);
    publish.list_releases("desk", "").await.assert_status(200);
    publish
        .create_app(&app_body("other"))
        .await
        .assert_error(403, "FORBIDDEN");
    publish
        .patch_release(
            "desk",
            "2.0.0/linux/amd64",
            &json!({"rollout_percentage": 5}),
        )
        .await
        .assert_error(403, "FORBIDDEN");

    let monitoring = app.with_key(&monitor.token);
    monitoring.metrics().await.assert_status(200);
    monitoring
        .list_apps("")
        .await
        .assert_error(403, "FORBIDDEN");
    let health = monitoring.health().await;
    assert_eq!(health.body["metrics"]["api_key_name"], "key-monitor");
}

#[tokio::test]
async fn invalid_key_requests_are_422_naming_the_field() {
    let app = TestApp::new().await;
    let admin = app.admin();
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    #[rustfmt::skip]
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"name": "", "permissions": ["read"]}), "name", "empty"),
        (json!({"name": "   ", "permissions": ["read"]}), "name", "empty"),
        (json!({"name": "x".repeat(101), "permissions": ["read"]}), "name", ""),
        (json!({"name": "k", "permissions": []}), "permissions", "at least one"),
        (json!({"name": "k", "permissions": ["read"], "applications": []}), "applications", "empty list"),
        (json!({"name": "k", "permissions": ["read"], "applications": ["bad id!"]}), "applications", ""),
        (json!({"name": "k", "permissions": ["read"], "expires_at": past}), "expires_at", "future"),
        (json!({"name": "k", "permissions": ["read"], "expires_at": future, "expires_in": "1d"}), "expires_in", "not both"),
        (json!({"name": "k", "permissions": ["read"], "expires_in": "soon"}), "expires_in", "duration"),
        (json!({"name": "k", "permissions": ["read"], "expires_in": "0s"}), "expires_in", "between"),
        (json!({"name": "k", "permissions": ["read"], "expires_in": "20y"}), "expires_in", "between"),
        (json!({"name": "k", "permissions": ["read"], "expires_at": "tomorrow"}), "expires_at", ""),
        (json!({"name": "k", "permissions": ["read"], "colour": "red"}), "colour", ""),
        (json!({"permissions": ["read"]}), "name", ""),
    ];
    for (body, field, needle) in cases {
        let reply = admin.create_key(&body).await;
        reply.assert_error(422, "VALIDATION_ERROR");
        let message = reply.field_error(field);
        assert!(message.contains(needle), "{body}: {}", reply.text);
    }
    // Every problem at once, not the first one found.
    let several = json!({"name": "", "permissions": [], "expires_in": "soon"});
    let several = admin.create_key(&several).await;
    let listed = ["name", "permissions", "expires_in"].map(|f| several.field_error(f).len());
    assert!(listed.iter().all(|len| *len > 0), "{}", several.text);

    let unknown = admin
        .create_key(&json!({"name": "k", "permissions": ["read", "superuser"]}))
        .await;
    unknown.assert_error(422, "VALIDATION_ERROR");
    let details = unknown.body["details"].as_object().unwrap();
    assert!(
        details
            .iter()
            .any(|(field, message)| field.starts_with("permissions")
                && message.as_str().unwrap().contains("superuser")),
        "the body names the unknown permission: {}",
        unknown.text
    );
    assert_eq!(
        admin.list_keys().await.body["keys"],
        json!([]),
        "no invalid request made a key"
    );
}

#[tokio::test]
async fn key_ids_in_paths_are_checked() {
    let app = TestApp::new().await;
    let admin = app.admin();
    let unknown = "0123456789abcdef";
    for bad in [
        "nope",
        "0123456789ABCDEF",
        "0123456789abcdef0",
        "g123456789abcdef",
    ] {
        for reply in [
            admin.get_key(bad).await,
            admin.rotate_key(bad).await,
            admin.revoke_key(bad).await,
        ] {
            reply.assert_error(422, "VALIDATION_ERROR");
            reply.field_error("key_id");
        }
    }
    for reply in [
        admin.get_key(unknown).await,
        admin.rotate_key(unknown).await,
        admin.revoke_key(unknown).await,
    ] {
        reply.assert_error(404, "NOT_FOUND");
        assert!(reply.body["message"].as_str().unwrap().contains(unknown));
    }
}

#[tokio::test]
async fn rotation_replaces_the_secret_and_keeps_the_id() {
    let app = TestApp::new().await;
    let key = app.key_for(&["read"], None).await;
    let rotated = app.admin().rotate_key(&key.id).await;
    rotated.assert_status(200);
    let new_token = rotated.body["token"].as_str().unwrap();
    assert!(regex::Regex::new(TOKEN_SHAPE).unwrap().is_match(new_token));
    assert_ne!(new_token, key.token);
    assert_eq!(rotated.body["key"]["id"], key.id.as_str());
    assert_eq!(&new_token[4..20], key.id, "same id, new secret");
    for field in [
        "name",
        "permissions",
        "applications",
        "created_at",
        "expires_at",
    ] {
        assert_eq!(rotated.body["key"][field], key.view[field], "{field}");
    }
    let old = app.with_key(&key.token).list_apps("").await;
    old.assert_error(401, "UNAUTHORIZED");
    assert_eq!(old.body["message"], "Invalid API key");
    app.with_key(new_token)
        .list_apps("")
        .await
        .assert_status(200);
}

#[tokio::test]
async fn revoked_keys_are_refused_and_revoking_is_idempotent() {
    let app = TestApp::new().await;
    let key = app.key_for(&["read"], None).await;
    let other = app.key_for(&["read"], None).await;
    app.with_key(&key.token)
        .list_apps("")
        .await
        .assert_status(200);

    let revoked = app.admin().revoke_key(&key.id).await;
    revoked.assert_status(200);
    assert_eq!(revoked.body["status"], "revoked");
    assert!(revoked.body["revoked_at"].is_string());
    let refused = app.with_key(&key.token).list_apps("").await;
    refused.assert_error(401, "UNAUTHORIZED");
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("revoked"),
        "{}",
        refused.text
    );

    let again = app.admin().revoke_key(&key.id).await;
    again.assert_status(200);
    assert_eq!(again.body, revoked.body, "revoking again changes nothing");
    let listed = app.admin().get_key(&key.id).await;
    assert_eq!(listed.body["status"], "revoked");

    let rotate = app.admin().rotate_key(&key.id).await;
    rotate.assert_error(422, "VALIDATION_ERROR");
    assert!(rotate.field_error("key_id").contains("revoked"));
    app.with_key(&key.token)
        .list_apps("")
        .await
        .assert_status(401);
    app.with_key(&other.token)
        .list_apps("")
        .await
        .assert_status(200);
}

#[tokio::test]
async fn keys_expire() {
    let app = TestApp::new().await;
    let key = app
        .issue_key(&json!({"name": "brief", "permissions": ["read"], "expires_in": "1s"}))
        .await;
    app.with_key(&key.token)
        .list_apps("")
        .await
        .assert_status(200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let refused = app.with_key(&key.token).list_apps("").await;
    refused.assert_error(401, "UNAUTHORIZED");
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{}",
        refused.text
    );
    assert_eq!(app.admin().get_key(&key.id).await.body["status"], "expired");
    // Rotating an expired key is allowed, and it stays expired.
    let rotated = app.admin().rotate_key(&key.id).await;
    rotated.assert_status(200);
    assert_eq!(rotated.body["key"]["status"], "expired");
    let token = rotated.body["token"].as_str().unwrap();
    let still = app.with_key(token).list_apps("").await;
    assert_eq!(still.body["message"], refused.body["message"]);
}

#[tokio::test]
async fn scoped_admin_keys_cannot_manage_keys_audit_or_webhooks() {
    let app = TestApp::new().await;
    app.seed("desk", &[]).await;
    let scoped = app.key_for(&["admin"], Some(&["desk"])).await;
    let victim = app.key_for(&["read"], None).await;
    let client = app.with_key(&scoped.token);
    client.get_app("desk").await.assert_status(200);
    let hook = json!({"url": "https://hooks.example.com/u", "events": ["*"]});
    for reply in [
        client.list_keys().await,
        client
            .create_key(&json!({"name": "k", "permissions": ["read"]}))
            .await,
        client.get_key(&victim.id).await,
        client.rotate_key(&victim.id).await,
        client.revoke_key(&victim.id).await,
        client.audit("").await,
        client.get("/api/v1/webhooks").await,
        client.create_webhook(&hook).await,
    ] {
        reply.assert_error(403, "FORBIDDEN");
        assert!(
            reply.body["message"]
                .as_str()
                .unwrap()
                .contains("not limited"),
            "{}",
            reply.text
        );
    }
    app.with_key(&victim.token)
        .list_apps("")
        .await
        .assert_status(200);
    assert_eq!(
        app.admin().list_keys().await.body["keys"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_wrong_secret_is_refused_like_an_unknown_key() {
    let app = TestApp::new().await;
    let key = app.key_for(&["read"], None).await;
    let wrong = app.with_key(&wrong_secret(&key.token)).list_apps("").await;
    let unknown_id = format!("upd_{}_{}", "f".repeat(16), &key.token[21..]);
    let unknown = app.with_key(&unknown_id).list_apps("").await;
    let garbage = app
        .with_key("not-a-key-at-all-000000000000")
        .list_apps("")
        .await;
    // Without its secret, a token learns nothing of the key's state.
    let revoked = app.key_for(&["read"], None).await;
    app.admin().revoke_key(&revoked.id).await.assert_status(200);
    let revoked = app
        .with_key(&wrong_secret(&revoked.token))
        .list_apps("")
        .await;
    for reply in [&wrong, &unknown, &garbage, &revoked] {
        reply.assert_error(401, "UNAUTHORIZED");
        assert_eq!(reply.body["message"], "Invalid API key", "{}", reply.text);
        assert_eq!(reply.body["details"], json!({}));
    }
    app.with_key(&key.token)
        .list_apps("")
        .await
        .assert_status(200);
}

#[tokio::test]
async fn repeated_wrong_secrets_lock_the_key_not_just_the_address() {
    let mut settings = test_settings();
    settings.security.auth_failure_limit.failures_per_minute = 3;
    settings.security.trusted_proxies = vec!["127.0.0.1".into()];
    let app = TestApp::with_settings(settings).await;
    let key = app.key_for(&["read"], None).await;
    let bystander = app.key_for(&["read"], None).await;
    let guess = wrong_secret(&key.token);
    // Every request from a fresh address: only the per-key budget can trip.
    let from = |n: u8, token: &str| {
        app.anonymous()
            .request("GET", "/api/v1/applications")
            .header("authorization", format!("Bearer {token}"))
            .header("x-forwarded-for", format!("203.0.113.{n}"))
            .body(Body::empty())
            .unwrap()
    };
    for n in 1..=3 {
        let reply = app.send(from(n, &guess)).await;
        reply.assert_error(401, "UNAUTHORIZED");
    }
    let locked = app.send(from(4, &guess)).await;
    locked.assert_error(429, "RATE_LIMIT_EXCEEDED");
    assert!(locked.header("retry-after").parse::<u64>().unwrap() >= 1);
    let right = app.send(from(5, &key.token)).await;
    right.assert_error(429, "RATE_LIMIT_EXCEEDED");
    app.send(from(6, &bystander.token)).await.assert_status(200);
    app.send(from(7, crate::common::READ_KEY))
        .await
        .assert_status(200);
    // While locked, more guesses are refused before anything is written.
    for n in 8..=10 {
        let reply = app.send(from(n, &guess)).await;
        reply.assert_error(429, "RATE_LIMIT_EXCEEDED");
    }
    let failed = app.await_audit("action=auth.failed", 4).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(app.audit_entries("action=auth.failed").await.len(), 4);
    let addresses: Vec<&str> = failed
        .iter()
        .map(|e| e["client_ip"].as_str().unwrap())
        .collect();
    assert_eq!(
        addresses,
        ["203.0.113.4", "203.0.113.3", "203.0.113.2", "203.0.113.1"],
        "each failure from its own address, behind the trusted proxy"
    );
}

/// `last_used_at` is gathered in memory and written by the server's
/// background task every 30 s and at shutdown; the in-process router runs
/// no background tasks, so this uses the whole server on SQLite and reads
/// the key back after a restart.
#[tokio::test]
async fn last_used_at_is_written_by_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings();
    settings.storage.kind = StorageType::Sqlite;
    settings.storage.data_dir = dir.path().to_path_buf();
    let client = http();
    let admin = format!("Bearer {ADMIN_KEY}");

    let server = LiveServer::start(settings.clone()).await;
    let created: Value = client
        .post(format!("{}/api/v1/keys", server.base))
        .header("authorization", &admin)
        .json(&json!({"name": "used", "permissions": ["read"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (key, token) = (&created["key"], created["token"].as_str().unwrap());
    assert!(key["last_used_at"].is_null());
    let apps = format!("{}/api/v1/applications", server.base);
    let used = client.get(apps).bearer_auth(token).send().await.unwrap();
    assert_eq!(used.status(), 200);
    server.stop().await;

    let server = LiveServer::start(settings).await;
    let view: Value = client
        .get(format!(
            "{}/api/v1/keys/{}",
            server.base,
            key["id"].as_str().unwrap()
        ))
        .header("authorization", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.stop().await;
    assert!(view["last_used_at"].is_string(), "{view}");
    assert!(
        time(&view["last_used_at"]) >= time(&key["created_at"]),
        "{view}"
    );
}
