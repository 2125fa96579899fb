//! The auth matrix over managed keys: every API route × every kind of key
//! (each permission unscoped, scoped to the route's application or to
//! another, expired, revoked, and the configured keys), against one table
//! of documented statuses. Then what a scoped key may see: only its
//! applications, and the same 403 for another application whether it
//! exists or not.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{ADMIN_KEY, MONITOR_KEY, READ_KEY, TestApp, WRITE_KEY, app_body, release_body};

/// Who calls: the columns of the table.
#[derive(Clone, Copy)]
enum Kind {
    Anonymous,
    /// An unscoped managed key with this one permission.
    Managed(&'static str),
    /// A managed admin key scoped to `matrix` and `matrix-new`: like an
    /// unscoped admin on those, refused what spans every application (keys,
    /// audit, webhooks, metrics).
    ScopedHere,
    /// A managed admin key scoped to `elsewhere`.
    ScopedElsewhere,
    /// A managed admin key past its expiry.
    Expired,
    /// A managed admin key, revoked.
    Revoked,
    Config(&'static str),
}

const KINDS: [(&str, Kind); 16] = [
    ("none", Kind::Anonymous),
    ("read", Kind::Managed("read")),
    ("pub", Kind::Managed("publish")),
    ("roll", Kind::Managed("rollout")),
    ("del", Kind::Managed("delete")),
    ("write", Kind::Managed("write")),
    ("admin", Kind::Managed("admin")),
    ("mon", Kind::Managed("monitor")),
    ("here", Kind::ScopedHere),
    ("else", Kind::ScopedElsewhere),
    ("exp", Kind::Expired),
    ("rev", Kind::Revoked),
    ("cAdm", Kind::Config(ADMIN_KEY)),
    ("cWri", Kind::Config(WRITE_KEY)),
    ("cRd", Kind::Config(READ_KEY)),
    ("cMon", Kind::Config(MONITOR_KEY)),
];

const REL: &str = "/api/v1/updates/matrix/releases/1.0.0/linux/amd64";

/// Method, path (`{key}`: another managed key's id, `{hook}`: a webhook's
/// id), body, and the status for each column of `KINDS`. Each column runs
/// top to bottom against its own server, so the reads come first and every
/// write is placed where its success changes no later row's answer.
#[rustfmt::skip]
fn table() -> Vec<(&'static str, &'static str, Option<Value>, [u16; 16])> {
    vec![
        //                                                    none read pub  roll del  writ admn mon  here else exp  rev  cAdm cWri cRd  cMon
        ("GET", "/api/v1/applications", None,                 [401, 200, 200, 200, 200, 200, 200, 403, 200, 200, 401, 401, 200, 200, 200, 403]),
        ("GET", "/api/v1/applications/matrix", None,          [401, 200, 200, 200, 200, 200, 200, 403, 200, 403, 401, 401, 200, 200, 200, 403]),
        ("GET", "/api/v1/updates/matrix/releases", None,      [401, 200, 200, 200, 200, 200, 200, 403, 200, 403, 401, 401, 200, 200, 200, 403]),
        ("GET", "/api/v1/applications/matrix/stats", None,    [401, 200, 200, 200, 200, 200, 200, 403, 200, 403, 401, 401, 200, 200, 200, 403]),
        ("GET", "/api/v1/keys", None,                         [401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401, 200, 403, 403, 403]),
        ("GET", "/api/v1/keys/{key}", None,                   [401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401, 200, 403, 403, 403]),
        ("GET", "/api/v1/audit", None,                        [401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401, 200, 403, 403, 403]),
        ("GET", "/api/v1/webhooks", None,                     [401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401, 200, 403, 403, 403]),
        ("GET", "/api/v1/webhooks/{hook}", None,              [401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401, 200, 403, 403, 403]),
        ("GET", "/api/v1/webhooks/{hook}/deliveries", None,   [401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401, 200, 403, 403, 403]),
        ("GET", "/metrics", None,                             [401, 403, 403, 403, 403, 403, 200, 200, 403, 403, 401, 401, 200, 403, 403, 200]),
        // Public; the detail (components, the key's name) is checked below.
        ("GET", "/health", None,                              [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        ("PATCH", "/api/v1/applications/matrix", Some(json!({"name": "Renamed"})),
                                                              [405, 405, 405, 405, 405, 405, 405, 405, 405, 405, 405, 405, 405, 405, 405, 405]),
        ("POST", "/api/v1/applications", Some(app_body("matrix-new")),
                                                              [401, 403, 403, 403, 403, 201, 201, 403, 201, 403, 401, 401, 201, 201, 403, 403]),
        ("PUT", "/api/v1/applications/matrix", Some(json!({"name": "Renamed"})),
                                                              [401, 403, 403, 403, 403, 403, 200, 403, 200, 403, 401, 401, 200, 403, 403, 403]),
        ("POST", "/api/v1/updates/matrix/register", Some(release_body("9.9.9")),
                                                              [401, 403, 201, 403, 403, 201, 201, 403, 201, 403, 401, 401, 201, 201, 403, 403]),
        ("PATCH", REL, Some(json!({"rollout_percentage": 50})),
                                                              [401, 403, 403, 200, 403, 403, 200, 403, 200, 403, 401, 401, 200, 403, 403, 403]),
        ("POST", "/api/v1/keys", Some(json!({"name": "made", "permissions": ["read"]})),
                                                              [401, 403, 403, 403, 403, 403, 201, 403, 403, 403, 401, 401, 201, 403, 403, 403]),
        ("POST", "/api/v1/keys/{key}/rotate", None,           [401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401, 200, 403, 403, 403]),
        ("POST", "/api/v1/webhooks", Some(json!({"url": "https://hooks.example.com/m", "events": ["*"]})),
                                                              [401, 403, 403, 403, 403, 403, 201, 403, 403, 403, 401, 401, 201, 403, 403, 403]),
        ("DELETE", "/api/v1/webhooks/{hook}", None,           [401, 403, 403, 403, 403, 403, 204, 403, 403, 403, 401, 401, 204, 403, 403, 403]),
        ("DELETE", REL, None,                                 [401, 403, 403, 403, 200, 403, 200, 403, 200, 403, 401, 401, 200, 403, 403, 403]),
        ("POST", "/api/v1/keys/{key}/revoke", None,           [401, 403, 403, 403, 403, 403, 200, 403, 403, 403, 401, 401, 200, 403, 403, 403]),
        ("DELETE", "/api/v1/applications/matrix?force=true", None,
                                                              [401, 403, 403, 403, 204, 403, 204, 403, 204, 403, 401, 401, 204, 403, 403, 403]),
    ]
}

/// Whether `/health` shows a caller of each column its details: any valid
/// key with `read` or `monitor`.
const HEALTH_DETAIL: [bool; 16] = [
    false, true, true, true, true, true, true, true, true, true, false, false, true, true, true,
    true,
];

/// One column's server: `matrix` with release 1.0.0, a managed key and a
/// webhook for the paths to name, and the caller's token.
struct Column {
    app: TestApp,
    token: Option<String>,
    key_id: String,
    hook_id: String,
}

async fn column(kind: Kind) -> Column {
    let app = TestApp::new().await;
    app.seed("matrix", &["1.0.0"]).await;
    let key_id = app.key_for(&["read"], None).await.id;
    let hook = json!({"url": "https://hooks.example.com/v", "events": ["*"]});
    let hook = app.admin().create_webhook(&hook).await;
    hook.assert_status(201);
    let hook_id = hook.body["webhook"]["id"].as_str().unwrap().to_string();
    let admin = |apps: Option<&[&str]>| json!({"name": "caller", "permissions": ["admin"], "applications": apps});
    let token = match kind {
        Kind::Anonymous => None,
        Kind::Config(key) => Some(key.to_string()),
        Kind::Managed(permission) => Some(app.key_for(&[permission], None).await.token),
        Kind::ScopedHere => Some(
            app.issue_key(&admin(Some(&["matrix", "matrix-new"])))
                .await
                .token,
        ),
        Kind::ScopedElsewhere => Some(app.issue_key(&admin(Some(&["elsewhere"]))).await.token),
        Kind::Expired => {
            let mut body = admin(None);
            body["expires_in"] = json!("1s");
            Some(app.issue_key(&body).await.token)
        }
        Kind::Revoked => {
            let key = app.issue_key(&admin(None)).await;
            app.admin().revoke_key(&key.id).await.assert_status(200);
            Some(key.token)
        }
    };
    Column {
        app,
        token,
        key_id,
        hook_id,
    }
}

fn code_for(status: u16) -> Option<&'static str> {
    match status {
        401 => Some("UNAUTHORIZED"),
        403 => Some("FORBIDDEN"),
        405 => Some("INVALID_REQUEST"),
        _ => None,
    }
}

#[tokio::test]
async fn managed_key_matrix() {
    let table = table();
    let mut columns = Vec::new();
    for (_, kind) in KINDS {
        columns.push(column(kind).await);
    }
    // One wait lets every `Kind::Expired` key expire.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let mut actual = vec![[0u16; 16]; table.len()];
    let mut failures = Vec::new();
    for (column, c) in columns.iter().enumerate() {
        let client = match &c.token {
            Some(token) => c.app.with_key(token),
            None => c.app.anonymous(),
        };
        for (row, (method, path, body, expected)) in table.iter().enumerate() {
            let uri = path
                .replace("{key}", &c.key_id)
                .replace("{hook}", &c.hook_id);
            let reply = client.call(method, &uri, body.as_ref()).await;
            actual[row][column] = reply.status;
            let (want, who) = (expected[column], KINDS[column].0);
            let mut problems = Vec::new();
            if reply.status != want {
                problems.push(format!("expected {want}"));
            } else if let Some(code) = code_for(want)
                && reply.body["code"] != code
            {
                problems.push(format!("expected code {code}"));
            }
            if *path == "/health" && reply.body["components"].is_object() != HEALTH_DETAIL[column] {
                problems.push(format!("expected detail: {}", HEALTH_DETAIL[column]));
            }
            if matches!(KINDS[column].1, Kind::ScopedElsewhere) && reply.status >= 400 {
                for secret in ["App matrix", "cdn.example.com", "1.0.0"] {
                    if reply.text.contains(secret) {
                        problems.push(format!("names {secret}"));
                    }
                }
            }
            if !problems.is_empty() {
                failures.push(format!(
                    "{method} {path} as {who}: {}: {} {}",
                    problems.join(", "),
                    reply.status,
                    reply.text
                ));
            }
        }
    }
    if failures.is_empty() {
        return;
    }
    let mut rendered = format!("{:59}", "expected/actual, * marks a difference");
    for (name, _) in KINDS {
        write!(rendered, " {name:>8}").unwrap();
    }
    for ((method, path, _, expected), got) in table.iter().zip(&actual) {
        write!(rendered, "\n{method:>6} {path:<52}").unwrap();
        for (want, got) in expected.iter().zip(got) {
            let mark = if want == got { ' ' } else { '*' };
            write!(rendered, " {want}/{got}{mark}").unwrap();
        }
    }
    panic!("{rendered}\n\n{}", failures.join("\n"));
}

#[tokio::test]
async fn a_scoped_key_lists_and_counts_only_its_applications() {
    let app = TestApp::new().await;
    for id in ["alpha", "bravo", "charlie", "delta"] {
        app.seed(id, &[]).await;
    }
    let key = app
        .key_for(&["read"], Some(&["bravo", "delta", "not-yet"]))
        .await;
    let scoped = app.with_key(&key.token);
    let all = scoped.list_apps("").await;
    all.assert_status(200);
    let ids: Vec<&str> = all.body["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["bravo", "delta"]);
    assert_eq!(all.body["total_count"], 2);
    assert_eq!(all.body["has_more"], false);
    let first = scoped.list_apps("limit=1").await;
    assert_eq!(first.body["applications"][0]["id"], "bravo");
    assert_eq!(first.body["total_count"], 2);
    assert_eq!(first.body["has_more"], true);
    let second = scoped.list_apps("limit=1&offset=1").await;
    assert_eq!(second.body["applications"][0]["id"], "delta");
    assert_eq!(second.body["has_more"], false);
    assert!(!all.text.contains("alpha") && !all.text.contains("charlie"));
    assert_eq!(app.reader().list_apps("").await.body["total_count"], 4);

    // A scoped write key creates applications only inside its scope.
    let writer = app.key_for(&["write"], Some(&["not-yet"])).await;
    let writer = app.with_key(&writer.token);
    writer
        .create_app(&app_body("echo"))
        .await
        .assert_error(403, "FORBIDDEN");
    writer
        .create_app(&app_body("not-yet"))
        .await
        .assert_status(201);
    assert_eq!(writer.list_apps("").await.body["total_count"], 1);
}

/// The body of an error without what differs between any two responses.
fn stable(body: &Value) -> Value {
    let mut body = body.clone();
    let object = body.as_object_mut().unwrap();
    object.remove("request_id");
    object.remove("timestamp");
    body
}

#[tokio::test]
async fn a_scoped_key_learns_nothing_about_other_applications() {
    let app = TestApp::new().await;
    app.seed("mine", &["1.0.0"]).await;
    app.admin()
        .create_app(&json!({
            "id": "theirs",
            "name": "Confidential Name",
            "description": "classified description",
            "platforms": ["linux"]
        }))
        .await
        .assert_status(201);
    let theirs = json!({
        "version": "7.7.7", "platform": "linux", "architecture": "amd64",
        "download_url": "https://secret-cdn.example.org/theirs-7.7.7.tar.gz",
        "checksum": crate::common::SHA256, "file_size": 77
    });
    app.publisher()
        .register("theirs", &theirs)
        .await
        .assert_status(201);
    let key = app.key_for(&["admin"], Some(&["mine"])).await;
    let scoped = app.with_key(&key.token);
    let secrets = ["Confidential", "classified", "7.7.7", "secret-cdn"];

    let routes: [(&str, &str, Option<Value>); 7] = [
        ("GET", "/api/v1/applications/{app}", None),
        (
            "PUT",
            "/api/v1/applications/{app}",
            Some(json!({"name": "x"})),
        ),
        ("DELETE", "/api/v1/applications/{app}?force=true", None),
        ("GET", "/api/v1/updates/{app}/releases", None),
        (
            "POST",
            "/api/v1/updates/{app}/register",
            Some(release_body("8.0.0")),
        ),
        (
            "PATCH",
            "/api/v1/updates/{app}/releases/7.7.7/linux/amd64",
            Some(json!({"yanked": true})),
        ),
        (
            "DELETE",
            "/api/v1/updates/{app}/releases/7.7.7/linux/amd64",
            None,
        ),
    ];
    for (method, template, body) in &routes {
        let existing = scoped
            .call(method, &template.replace("{app}", "theirs"), body.as_ref())
            .await;
        let missing = scoped
            .call(method, &template.replace("{app}", "ghost"), body.as_ref())
            .await;
        existing.assert_error(403, "FORBIDDEN");
        missing.assert_error(403, "FORBIDDEN");
        assert_eq!(
            stable(&existing.body)
                .to_string()
                .replace("theirs", "ghost"),
            stable(&missing.body).to_string(),
            "{method} {template}: an existing and a missing application look alike"
        );
        for secret in secrets {
            assert!(
                !existing.text.contains(secret),
                "{method} {template}: {}",
                existing.text
            );
        }
    }
    // Inside its scope it gets the ordinary answers, naming only its own.
    for reply in [
        scoped.delete_release("mine", "9.9.9/linux/amd64").await,
        scoped.get_app("mine").await,
        scoped.list_releases("mine", "").await,
        scoped.list_apps("").await,
    ] {
        assert!(reply.status == 200 || reply.status == 404, "{}", reply.text);
        for secret in secrets.into_iter().chain(["theirs"]) {
            assert!(!reply.text.contains(secret), "{}", reply.text);
        }
    }
    // Nothing changed in `theirs`.
    let after = app.reader().get_app("theirs").await;
    assert_eq!(after.body["name"], "Confidential Name");
    assert_eq!(after.body["stats"]["total_releases"], 1);
}
