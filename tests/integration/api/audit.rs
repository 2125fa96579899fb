//! The audit log through `GET /api/v1/audit`: what each change records
//! (actor, origin, target, before and after), the filters and the cursor,
//! who may read it, the `auth.*` entries, and that it cannot be edited.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::body::Body;
use serde_json::{Value, json};

use crate::common::{IssuedKey, Reply, TestApp, release_body};

/// The entry written by the request that answered `reply`.
fn entry_of<'a>(entries: &'a [Value], reply: &Reply) -> &'a Value {
    let id = reply.header("x-request-id");
    let matching: Vec<&Value> = entries.iter().filter(|e| e["request_id"] == id).collect();
    assert_eq!(matching.len(), 1, "one entry for {id}: {entries:#?}");
    matching[0]
}

/// `(before, after)` of `field` in an entry's changes.
fn change<'a>(entry: &'a Value, field: &str) -> (Option<&'a str>, Option<&'a str>) {
    let change = entry["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == field)
        .unwrap_or_else(|| panic!("no change of {field} in {entry:#}"));
    (change["before"].as_str(), change["after"].as_str())
}

/// An entry's changes as `field: before -> after`, `~` for null.
fn rendered_changes(entry: &Value) -> Vec<String> {
    let text = |v: &Value| v.as_str().unwrap_or("~").to_string();
    entry["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| [&c["field"], &c["before"], &c["after"]].map(text))
        .map(|[field, before, after]| format!("{field}: {before} -> {after}"))
        .collect()
}

fn ids(entries: &[Value]) -> Vec<i64> {
    entries.iter().map(|e| e["id"].as_i64().unwrap()).collect()
}

fn actions(entries: &[Value]) -> BTreeSet<String> {
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn every_change_is_audited_with_actor_origin_target_and_changes() {
    let app = TestApp::new().await;
    let ops: IssuedKey = app
        .issue_key(&json!({"name": "ops", "permissions": ["admin"]}))
        .await;
    let client = app.with_key(&ops.token);
    let traced = client
        .request("POST", "/api/v1/applications")
        .header("content-type", "application/json")
        .header("x-request-id", "trace-0001")
        .body(Body::from(
            json!({"id": "desk", "name": "Desk", "platforms": ["linux"]}).to_string(),
        ))
        .unwrap();
    let created = client.send(traced).await;
    assert_eq!(created.header("x-request-id"), "trace-0001");
    let target = "1.0.0/linux/amd64";
    let rename = json!({"name": "Desk Two"});
    let renamed = client.update_app("desk", &rename).await;
    let published = client.register("desk", &release_body("1.0.0")).await;
    let halved = client
        .patch_release("desk", target, &json!({"rollout_percentage": 50}))
        .await;
    let yank = json!({"yanked": true, "yank_reason": "bad"});
    let yanked = client.patch_release("desk", target, &yank).await;
    let release_gone = client.delete_release("desk", target).await;
    let hook_url = "https://hooks.example.com/a";
    let hook = client
        .create_webhook(&json!({"url": hook_url, "events": ["release.*"]}))
        .await;
    let hook_id = hook.body["webhook"]["id"].as_str().unwrap().to_string();
    let hook_gone = client.delete(&format!("/api/v1/webhooks/{hook_id}")).await;
    let app_gone = client.delete_app("desk").await;
    let ci = json!({"name": "ci", "permissions": ["publish"], "applications": ["desk"]});
    let made = app.admin().create_key(&ci).await;
    let made_id = made.body["key"]["id"].as_str().unwrap().to_string();
    let rotated = app.admin().rotate_key(&made_id).await;
    let revoked = app.admin().revoke_key(&made_id).await;

    let page = app.admin().audit("limit=1000").await;
    let entries = page.body["entries"].as_array().unwrap().clone();
    let release = "desk-1.0.0-linux-amd64";
    // Changes as `field: before -> after`, `~` for null; unlisted fields may
    // also appear, except where the test says otherwise below.
    #[rustfmt::skip]
    let expected = [
        (&created, "application.created", "desk", Some("desk"), "name: ~ -> Desk; platforms: ~ -> linux"),
        (&renamed, "application.updated", "desk", Some("desk"), "name: Desk -> Desk Two"),
        (&published, "release.published", release, Some("desk"), "rollout_percentage: ~ -> 100; files: ~ -> 1"),
        (&halved, "release.updated", release, Some("desk"), "rollout_percentage: 100 -> 50"),
        (&yanked, "release.updated", release, Some("desk"), "yanked: false -> true; yank_reason: ~ -> bad"),
        (&release_gone, "release.deleted", release, Some("desk"), "download_url: https://cdn.example.com/app-1.0.0.tar.gz -> ~"),
        (&hook, "webhook.created", &hook_id, None, "url: ~ -> https://hooks.example.com/a"),
        (&hook_gone, "webhook.deleted", &hook_id, None, "url: https://hooks.example.com/a -> ~"),
        (&app_gone, "application.deleted", "desk", Some("desk"), "name: Desk Two -> ~; releases: 0 -> ~"),
        (&made, "key.created", &made_id, None, "name: ~ -> ci; permissions: ~ -> publish; applications: ~ -> desk"),
        (&rotated, "key.rotated", &made_id, None, "secret: previous -> new"),
        (&revoked, "key.revoked", &made_id, None, ""),
    ];
    for (reply, action, target, application, changes) in expected {
        assert!(reply.status < 300, "{}", reply.text);
        let entry = entry_of(&entries, reply);
        assert_eq!(entry["action"], action, "{entry:#}");
        assert_eq!(entry["target"], target, "{entry:#}");
        assert_eq!(entry["application_id"].as_str(), application, "{entry:#}");
        assert_eq!(entry["client_ip"], "127.0.0.1", "{entry:#}");
        assert!(entry["at"].as_str().is_some_and(|t| t.contains('T')));
        let actor = if action.starts_with("key.") {
            json!({"kind": "config", "key_id": null, "name": "admin"})
        } else {
            json!({"kind": "managed", "key_id": ops.id, "name": "ops"})
        };
        assert_eq!(entry["actor"], actor, "{entry:#}");
        let recorded = rendered_changes(entry);
        for change in changes.split("; ").filter(|c| !c.is_empty()) {
            assert!(
                recorded.iter().any(|r| r == change),
                "{action}: {change} not in {recorded:?}"
            );
        }
    }
    assert_eq!(entry_of(&entries, &created)["request_id"], "trace-0001");
    assert_eq!(
        rendered_changes(entry_of(&entries, &halved)),
        ["rollout_percentage: 100 -> 50"],
        "unchanged fields are left out"
    );
    let revocation = change(entry_of(&entries, &revoked), "revoked_at");
    let when = |text: Option<&str>| chrono::DateTime::parse_from_rfc3339(text.unwrap()).unwrap();
    assert_eq!(revocation.0, None);
    let revoked_at = revoked.body["revoked_at"].as_str();
    assert_eq!(when(revocation.1), when(revoked_at));
    let ids = ids(&entries);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    for reply in [&made, &rotated] {
        let token = reply.body["token"].as_str().unwrap();
        assert!(!page.text.contains(&token[21..]), "no secret in the log");
    }
    assert!(!page.text.contains(&ops.token[21..]));
}

/// Entries from two applications and two actors, and a managed key named `pipeline`.
async fn mixed_log() -> (TestApp, IssuedKey) {
    let app = TestApp::new().await;
    app.seed("alpha", &[]).await;
    app.seed("bravo", &["1.0.0"]).await;
    let pipeline = app
        .issue_key(&json!({"name": "pipeline", "permissions": ["write", "rollout"]}))
        .await;
    let client = app.with_key(&pipeline.token);
    for version in ["1.0.0", "2.0.0"] {
        let reply = client.register("alpha", &release_body(version)).await;
        reply.assert_status(201);
    }
    let pause = json!({"rollout_paused": true});
    let paused = client
        .patch_release("alpha", "2.0.0/linux/amd64", &pause)
        .await;
    paused.assert_status(200);
    (app, pipeline)
}

#[tokio::test]
async fn filters_select_by_application_actor_action_and_time() {
    let (app, pipeline) = mixed_log().await;
    let all = app.audit_entries("").await;
    assert_eq!(all.len(), 7, "{all:#?}");
    let id = &pipeline.id;
    let created = "application.created";
    let (published, updated) = ("release.published", "release.updated");
    #[rustfmt::skip]
    let cases: Vec<(String, usize, Vec<&str>)> = vec![
        ("application=alpha".into(), 4, vec![created, published, updated]),
        ("application=nothing".into(), 0, vec![]),
        (format!("actor={id}"), 3, vec![published, updated]),
        ("actor=pipeline".into(), 3, vec![published, updated]),
        ("actor=publisher".into(), 1, vec![published]),
        ("actor=admin".into(), 3, vec![created, "key.created"]),
        ("action=release.published".into(), 3, vec![published]),
        ("action=release.".into(), 4, vec![published, updated]),
        ("action=key.".into(), 1, vec!["key.created"]),
        ("action=release".into(), 0, vec![]),
        ("action=rel.".into(), 0, vec![]),
        (format!("application=alpha&action=release.&actor={id}"), 3, vec![published, updated]),
    ];
    for (query, count, expected) in cases {
        let entries = app.audit_entries(&query).await;
        assert_eq!(entries.len(), count, "{query}: {entries:#?}");
        let expected: BTreeSet<String> = expected.into_iter().map(String::from).collect();
        assert_eq!(actions(&entries), expected, "{query}");
    }
    let alpha = app.audit_entries("application=alpha").await;
    assert!(alpha.iter().all(|e| e["application_id"] == "alpha"));
    let by_name = app.audit_entries("actor=pipeline").await;
    assert!(by_name.iter().all(|e| e["actor"]["key_id"] == id.as_str()));
    assert_eq!(
        app.audit_entries(&format!("actor={id}")).await,
        by_name,
        "by id as by name"
    );
    let publisher = app.audit_entries("actor=publisher").await;
    assert_eq!(
        publisher[0]["actor"],
        json!({"kind": "config", "key_id": null, "name": "publisher"})
    );

    let at = |e: &Value| chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).unwrap();
    let pivot = at(&all[3]);
    let middle = all[3]["at"].as_str().unwrap();
    let since = app.audit_entries(&format!("since={middle}")).await;
    let until = app.audit_entries(&format!("until={middle}")).await;
    let want = |keep: &dyn Fn(&Value) -> bool| -> Vec<i64> {
        all.iter()
            .filter(|e| keep(e))
            .map(|e| e["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids(&since), want(&|e| at(e) >= pivot), "since is inclusive");
    assert_eq!(ids(&until), want(&|e| at(e) < pivot), "until is exclusive");
    assert!(since.len() >= 4 && !until.is_empty());
    let (oldest, newest) = (&all[6]["at"], &all[0]["at"]);
    let window = format!(
        "since={}&until={}",
        oldest.as_str().unwrap(),
        newest.as_str().unwrap()
    );
    let window = app.audit_entries(&window).await;
    let inside = want(&|e| at(e) >= at(&all[6]) && at(e) < at(&all[0]));
    assert_eq!(ids(&window), inside);
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let later = format!("since={}", later.format("%Y-%m-%dT%H:%M:%SZ"));
    assert!(app.audit_entries(&later).await.is_empty());
}

#[tokio::test]
async fn the_cursor_pages_through_without_duplicates() {
    let app = TestApp::new().await;
    let versions = ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0"];
    app.seed("paged", &versions).await;
    let filter = "action=release.published";
    let everything = app.audit_entries(filter).await;
    assert_eq!(everything.len(), 5);

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor: Option<i64> = None;
    loop {
        let query = match cursor {
            Some(c) => format!("{filter}&limit=2&cursor={c}"),
            None => format!("{filter}&limit=2"),
        };
        let page = app.admin().audit(&query).await;
        page.assert_status(200);
        let entries = page.body["entries"].as_array().unwrap();
        sizes.push(entries.len());
        seen.extend(ids(entries));
        match page.body["next_cursor"].as_i64() {
            Some(next) => {
                assert_eq!(Some(next), entries.last().unwrap()["id"].as_i64());
                cursor = Some(next);
            }
            None => {
                assert!(page.body["next_cursor"].is_null());
                break;
            }
        }
        assert!(sizes.len() < 10, "the cursor must end");
    }
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(seen, ids(&everything), "every entry once, newest first");

    // A full last page gives a cursor whose page is empty.
    let full = app.admin().audit(&format!("{filter}&limit=5")).await;
    let next = full.body["next_cursor"].as_i64().unwrap();
    let after_full = format!("{filter}&limit=5&cursor={next}");
    let empty = app.admin().audit(&after_full).await;
    assert_eq!(empty.body["entries"], json!([]));
    assert!(empty.body["next_cursor"].is_null());
}

#[tokio::test]
async fn parameters_are_validated_and_only_unscoped_admins_read() {
    let app = TestApp::new().await;
    app.seed("desk", &[]).await;
    let long_actor = format!("actor={}", "a".repeat(201));
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=-1", "limit"),
        ("limit=many", "limit"),
        ("cursor=0", "cursor"),
        ("cursor=x", "cursor"),
        ("since=yesterday", "since"),
        ("until=2024-13-01T00:00:00Z", "until"),
        ("colour=red", "colour"),
        (long_actor.as_str(), "actor"),
    ] {
        let reply = app.admin().audit(query).await;
        reply.assert_error(422, "VALIDATION_ERROR");
        reply.field_error(field);
    }
    app.admin().audit("limit=1000").await.assert_status(200);
    app.admin().audit("limit=1").await.assert_status(200);

    let mut refused = vec![
        app.reader().audit("").await,
        app.publisher().audit("").await,
        app.monitor().audit("").await,
    ];
    for permission in ["read", "publish", "rollout", "delete", "write", "monitor"] {
        let key = app.key_for(&[permission], None).await;
        refused.push(app.with_key(&key.token).audit("").await);
    }
    let scoped = app.key_for(&["admin"], Some(&["desk"])).await;
    refused.push(app.with_key(&scoped.token).audit("").await);
    for reply in refused {
        reply.assert_error(403, "FORBIDDEN");
        assert!(!reply.text.contains("key.created"), "{}", reply.text);
    }
    let anonymous = app.anonymous().audit("").await;
    anonymous.assert_error(401, "UNAUTHORIZED");
    let unscoped = app.key_for(&["admin"], None).await;
    let allowed = app.with_key(&unscoped.token).audit("").await;
    allowed.assert_status(200);
}

#[tokio::test]
async fn failed_authentications_with_real_keys_are_audited_and_others_are_not() {
    let app = TestApp::new().await;
    app.seed("desk", &[]).await;
    let wrong = app.key_for(&["read"], None).await;
    let revoked = app.key_for(&["read"], None).await;
    app.admin().revoke_key(&revoked.id).await.assert_status(200);
    let expired = app
        .issue_key(&json!({"name": "short", "permissions": ["read"], "expires_in": "1s"}))
        .await;

    let route = "/api/v1/updates/desk/releases";
    let unknown_id = format!("upd_{}_{}", "e".repeat(16), "0".repeat(64));
    for token in [unknown_id.as_str(), "no-such-key-00000000000000000000"] {
        app.with_key(token).get(route).await.assert_status(401);
    }
    app.anonymous().get(route).await.assert_status(401);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        app.audit_entries("action=auth.").await.is_empty(),
        "unknown keys and no key are not audited"
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let last = if wrong.token.ends_with('0') { '1' } else { '0' };
    let bad_secret = format!("{}{last}", &wrong.token[..84]);
    let mut cases = Vec::new();
    for (token, key, reason) in [
        (&bad_secret, &wrong, "wrong_secret"),
        (&revoked.token, &revoked, "revoked"),
        (&expired.token, &expired, "expired"),
    ] {
        cases.push((app.with_key(token).get(route).await, key, reason));
    }
    let entries = app.await_audit("action=auth.failed", 3).await;
    assert_eq!(entries.len(), 3, "{entries:#?}");
    for (reply, key, reason) in &cases {
        reply.assert_error(401, "UNAUTHORIZED");
        let entry = entry_of(&entries, reply);
        assert_eq!(entry["actor"]["kind"], "managed");
        assert_eq!(entry["actor"]["key_id"], key.id.as_str());
        assert_eq!(entry["actor"]["name"], key.view["name"]);
        assert_eq!(
            entry["target"], "/api/v1/updates/{app_id}/releases",
            "the route template"
        );
        assert_eq!(entry["client_ip"], "127.0.0.1");
        assert!(entry["application_id"].is_null(), "{entry:#}");
        assert_eq!(change(entry, "reason"), (None, Some(*reason)));
    }
    let text = app.admin().audit("action=auth.").await.text;
    assert!(!text.contains(&bad_secret[21..]) && !text.contains(&revoked.token[21..]));
}

#[tokio::test]
async fn denials_of_managed_keys_are_audited() {
    let app = TestApp::new().await;
    app.seed("desk", &[]).await;
    let reader = app.key_for(&["read"], None).await;
    let scoped = app.key_for(&["admin"], Some(&["desk"])).await;
    // Configured keys' denials are logged, not audited.
    app.reader()
        .create_app(&json!({"id": "x", "name": "x"}))
        .await
        .assert_status(403);

    let nope = json!({"id": "nope", "name": "Nope", "platforms": ["linux"]});
    let (as_reader, as_scoped) = (app.with_key(&reader.token), app.with_key(&scoped.token));
    // The scope denial names the application asked for, existing or not.
    #[rustfmt::skip]
    let cases = [
        (as_reader.create_app(&nope).await, &reader, "write", "/api/v1/applications", None),
        (as_scoped.get_app("other").await, &scoped, "application_scope", "/api/v1/applications/{app_id}", Some("other")),
        (as_scoped.list_keys().await, &scoped, "scoped_key", "/api/v1/keys", None),
    ];
    let entries = app.await_audit("action=auth.denied", 3).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(app.audit_entries("action=auth.").await.len(), 3);
    for (reply, key, reason, target, application) in &cases {
        reply.assert_error(403, "FORBIDDEN");
        let entry = entry_of(&entries, reply);
        assert_eq!(entry["application_id"].as_str(), *application, "{entry:#}");
        assert_eq!(entry["client_ip"], "127.0.0.1");
        assert_eq!(entry["actor"]["key_id"], key.id.as_str(), "{entry:#}");
        assert_eq!(entry["target"], *target, "{entry:#}");
        assert_eq!(change(entry, "reason"), (None, Some(*reason)));
    }
}

#[tokio::test]
async fn entries_cannot_be_edited_or_deleted() {
    let app = TestApp::new().await;
    app.seed("desk", &["1.0.0"]).await;
    let before = app.audit_entries("").await;
    let body = json!({"action": "nothing.happened"});
    for method in ["PUT", "PATCH", "DELETE", "POST"] {
        let reply = app.admin().call(method, "/api/v1/audit", Some(&body)).await;
        reply.assert_error(405, "INVALID_REQUEST");
        assert!(reply.header("allow").contains("GET"), "{method}");
    }
    let id = before[0]["id"].as_i64().unwrap();
    for method in ["GET", "PUT", "PATCH", "DELETE"] {
        let reply = app
            .admin()
            .call(method, &format!("/api/v1/audit/{id}"), Some(&body))
            .await;
        reply.assert_error(404, "NOT_FOUND");
    }
    assert_eq!(app.audit_entries("").await, before);
}

#[tokio::test]
async fn a_failed_write_leaves_no_entry() {
    let app = TestApp::new().await;
    app.seed("desk", &["1.0.0"]).await;
    let before = app.audit_entries("").await;
    let rel = "/api/v1/updates/desk/releases";
    let register = "/api/v1/updates/desk/register";
    #[rustfmt::skip]
    let failures: Vec<(&str, String, Value, u16)> = vec![
        ("POST", "/api/v1/applications".into(), json!({"id": "desk", "name": "Again", "platforms": ["linux"]}), 409),
        ("POST", register.into(), release_body("1.0.0"), 409),
        ("POST", register.into(), release_body("1.0.0+build.7"), 409),
        ("POST", register.into(), json!({"version": "2.0.0"}), 422),
        ("POST", "/api/v1/updates/ghost/register".into(), release_body("1.0.0"), 404),
        ("PATCH", format!("{rel}/9.0.0/linux/amd64"), json!({"yanked": true}), 404),
        ("PATCH", format!("{rel}/1.0.0/linux/amd64"), json!({"rollout_percentage": 101}), 422),
        ("DELETE", format!("{rel}/9.0.0/linux/amd64"), Value::Null, 404),
        ("DELETE", "/api/v1/applications/desk".into(), Value::Null, 409),
        ("PUT", "/api/v1/applications/desk".into(), json!({"platforms": ["plan9"]}), 422),
        ("POST", "/api/v1/keys".into(), json!({"name": "", "permissions": ["read"]}), 422),
        ("POST", "/api/v1/keys/0123456789abcdef/revoke".into(), Value::Null, 404),
        ("POST", "/api/v1/webhooks".into(), json!({"url": "http://10.0.0.1/x", "events": ["*"]}), 422),
        ("DELETE", "/api/v1/webhooks/wh_0123456789abcdef0123456789abcdef".into(), Value::Null, 404),
    ];
    for (method, uri, body, status) in failures {
        let body = (!body.is_null()).then_some(body);
        let reply = app.admin().call(method, &uri, body.as_ref()).await;
        assert_eq!(reply.status, status, "{method} {uri}: {}", reply.text);
    }
    assert_eq!(
        app.audit_entries("").await,
        before,
        "no entry for a write that did not happen"
    );
    let desk = app.reader().get_app("desk").await;
    assert_eq!(desk.body["stats"]["total_releases"], 1);
}
