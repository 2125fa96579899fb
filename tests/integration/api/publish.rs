//! `POST /api/v1/applications/{app_id}/releases`: every target of a version
//! in one transaction, idempotent re-runs, conflicts with a diff, and
//! verification that turns into a job (`GET /api/v1/jobs/{id}`) when it
//! outlasts the request (`publish_jobs.rs`).

use serde_json::{Value, json};

use crate::common::{SHA256, TestApp, app_body};

fn file(name: &str) -> Value {
    json!({"url": format!("https://cdn.example.com/demo/{name}"), "size": 1024, "sha256": SHA256})
}

pub(super) fn target(platform: &str, architecture: &str, files: Vec<Value>) -> Value {
    json!({"platform": platform, "architecture": architecture, "files": files})
}

pub(super) fn publish_body(version: &str, targets: Vec<Value>) -> Value {
    json!({"version": version, "release_notes": "Fixes", "targets": targets})
}

/// linux/amd64 (AppImage, deb), darwin/arm64 (app), windows/amd64 (NSIS).
fn three_targets(version: &str) -> Value {
    publish_body(
        version,
        vec![
            target(
                "linux",
                "x86_64",
                vec![file("demo.AppImage"), file("demo_amd64.deb")],
            ),
            target("macos", "arm64", vec![file("demo.app.tar.gz")]),
            target("windows", "amd64", vec![file("demo-setup.exe")]),
        ],
    )
}

async fn demo() -> TestApp {
    let app = TestApp::new().await;
    app.admin()
        .create_app(&app_body("demo"))
        .await
        .assert_status(201);
    app
}

pub(super) async fn release_ids(app: &TestApp) -> Vec<String> {
    let reply = app.reader().list_releases("demo", "limit=100").await;
    reply.assert_status(200);
    let mut ids: Vec<String> = reply.body["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

pub(super) fn statuses(body: &Value) -> Vec<(String, String)> {
    body["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!(
                    "{}/{}",
                    r["platform"].as_str().unwrap(),
                    r["architecture"].as_str().unwrap()
                ),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub(super) fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn every_target_is_published_at_once_with_one_audit_entry() {
    let app = demo().await;
    let reply = app
        .publisher()
        .publish("demo", &three_targets("1.2.0"))
        .await;
    reply.assert_status(201);
    let body = reply.json();
    assert_eq!(body["application_id"], "demo");
    assert_eq!(body["version"], "1.2.0");
    assert_eq!(body["channel"], "stable");
    assert_eq!(body["status"], "published");
    assert_eq!(body["verified"], false);
    assert_eq!(
        statuses(body),
        pairs(&[
            ("linux/amd64", "published"),
            ("darwin/arm64", "published"),
            ("windows/amd64", "published")
        ])
    );
    assert_eq!(body["releases"][1]["id"], "demo-1.2.0-darwin-arm64");
    assert_eq!(
        release_ids(&app).await,
        [
            "demo-1.2.0-darwin-arm64",
            "demo-1.2.0-linux-amd64",
            "demo-1.2.0-windows-amd64"
        ]
    );
    let check = app
        .anonymous()
        .check(
            "demo",
            "current_version=1.0.0&platform=darwin&architecture=arm64",
        )
        .await;
    assert_eq!(check.body["latest_version"], "1.2.0", "{}", check.text);

    let entries = app.audit_entries("action=release.published").await;
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert_eq!(entries[0]["target"], "demo-1.2.0");
    assert_eq!(entries[0]["actor"]["name"], "publisher");
}

#[tokio::test]
async fn one_bad_target_stores_nothing_and_every_error_is_listed() {
    let app = demo().await;
    let mut body = three_targets("1.2.0");
    body["targets"][1]["files"][0]["sha256"] = json!("not-hex");
    body["targets"][2]["files"][0]["url"] = json!("ftp://cdn.example.com/demo-setup.exe");
    body["targets"][0]["architecture"] = json!("sparc");
    let reply = app.publisher().publish("demo", &body).await;
    reply.assert_error(422, "VALIDATION_ERROR");
    let fields: Vec<&str> = reply.body["details"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "targets[0].architecture",
            "targets[1].files[0].sha256",
            "targets[2].files[0].url"
        ]
    );
    assert!(release_ids(&app).await.is_empty(), "nothing is stored");
    assert!(app.audit_entries("action=release.").await.is_empty());
}

#[tokio::test]
async fn an_identical_rerun_is_unchanged_and_a_new_target_is_added() {
    let app = demo().await;
    let linux = || {
        publish_body(
            "2.0.0",
            vec![target(
                "linux",
                "amd64",
                vec![file("demo.AppImage"), file("demo_amd64.deb")],
            )],
        )
    };
    app.publisher()
        .publish("demo", &linux())
        .await
        .assert_status(201);

    // A CI re-run, listing the files in another order and the aliases of the target.
    let mut again = linux();
    again["targets"][0]["architecture"] = json!("x86_64");
    again["targets"][0]["files"] = json!([file("demo_amd64.deb"), file("demo.AppImage")]);
    let rerun = app.publisher().publish("demo", &again).await;
    rerun.assert_status(200);
    assert_eq!(rerun.body["status"], "unchanged");
    assert_eq!(
        statuses(&rerun.body),
        pairs(&[("linux/amd64", "unchanged")])
    );

    // A matrix build adds its OS to the version.
    let mut both = linux();
    both["targets"].as_array_mut().unwrap().push(target(
        "darwin",
        "arm64",
        vec![file("demo.app.tar.gz")],
    ));
    let added = app.publisher().publish("demo", &both).await;
    added.assert_status(201);
    assert_eq!(added.body["status"], "published");
    assert_eq!(
        statuses(&added.body),
        pairs(&[("linux/amd64", "unchanged"), ("darwin/arm64", "published")])
    );
    assert_eq!(release_ids(&app).await.len(), 2);
    assert_eq!(
        app.audit_entries("action=release.published").await.len(),
        2,
        "a no-op publish writes no audit entry"
    );

    // The single-file register sees the published version as taken.
    let register = app
        .publisher()
        .register(
            "demo",
            &json!({"version": "2.0.0", "platform": "linux", "architecture": "amd64",
                    "download_url": "https://cdn.example.com/x.tar.gz", "checksum": SHA256, "file_size": 1}),
        )
        .await;
    register.assert_error(409, "CONFLICT");
}

#[tokio::test]
async fn a_changed_target_is_a_conflict_listing_every_difference() {
    let app = demo().await;
    app.publisher()
        .publish("demo", &three_targets("3.0.0"))
        .await
        .assert_status(201);
    let mut changed = three_targets("3.0.0");
    changed["targets"][0]["files"][1]["sha512"] = json!("ab".repeat(64));
    changed["targets"][1]["files"][0]["size"] = json!(2048);
    changed["targets"].as_array_mut().unwrap().push(target(
        "linux",
        "arm64",
        vec![file("demo_arm64.deb")],
    ));
    let reply = app.publisher().publish("demo", &changed).await;
    reply.assert_error(409, "CONFLICT");
    assert_eq!(
        reply.body["details"]["differences"],
        json!([
            {"target": "linux/amd64", "field": "files[1].sha512", "published": null, "requested": "ab".repeat(64)},
            {"target": "darwin/arm64", "field": "files[0].size", "published": "1024", "requested": "2048"},
        ])
    );
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .contains("linux/amd64, darwin/arm64"),
        "{}",
        reply.text
    );
    assert_eq!(
        release_ids(&app).await.len(),
        3,
        "the new target is not stored either"
    );

    // A version differing only in build metadata is the same release.
    let built = app
        .publisher()
        .publish("demo", &three_targets("3.0.0+build.9"))
        .await;
    built.assert_error(409, "CONFLICT");
    assert_eq!(built.body["details"]["differences"][0]["field"], "version");
}

#[tokio::test]
async fn keys_need_publish_permission_for_the_application() {
    let app = demo().await;
    app.admin()
        .create_app(&app_body("other"))
        .await
        .assert_status(201);
    let scoped = app.key_for(&["publish"], Some(&["other"])).await;
    let refused = app
        .with_key(&scoped.token)
        .publish("demo", &three_targets("1.0.0"))
        .await;
    refused.assert_error(403, "FORBIDDEN");
    app.with_key(&scoped.token)
        .publish("other", &three_targets("1.0.0"))
        .await
        .assert_status(201);
    app.reader()
        .publish("demo", &three_targets("1.0.0"))
        .await
        .assert_error(403, "FORBIDDEN");
    app.anonymous()
        .publish("demo", &three_targets("1.0.0"))
        .await
        .assert_error(401, "UNAUTHORIZED");
    app.publisher()
        .publish("ghost", &three_targets("1.0.0"))
        .await
        .assert_error(404, "APPLICATION_NOT_FOUND");
    assert!(release_ids(&app).await.is_empty());
}

#[tokio::test]
async fn malformed_publishes_are_refused_with_what_is_wrong() {
    let app = demo().await;
    let plain_text = app
        .publisher()
        .request("POST", "/api/v1/applications/demo/releases")
        .header("content-type", "text/plain")
        .body(three_targets("1.0.0").to_string().into())
        .unwrap();
    app.send(plain_text).await.assert_error(415, "BAD_REQUEST");
    let cases = [
        (json!({"version": "1.0.0"}), "targets"),
        (publish_body("1.0.0", Vec::new()), "targets"),
        (
            publish_body("one", vec![target("linux", "amd64", vec![file("a.deb")])]),
            "version",
        ),
        (
            publish_body("1.0.0", vec![target("linux", "amd64", Vec::new())]),
            "targets[0].files",
        ),
        (
            publish_body(
                "1.0.0",
                vec![
                    target("linux", "amd64", vec![file("a.deb")]),
                    target("Linux", "x64", vec![file("b.deb")]),
                ],
            ),
            "targets[1]",
        ),
    ];
    for (body, field) in cases {
        let reply = app.publisher().publish("demo", &body).await;
        reply.assert_error(422, "VALIDATION_ERROR");
        assert!(
            reply.body["details"][field].is_string(),
            "{field}: {}",
            reply.text
        );
    }
    let mut unknown = three_targets("1.0.0");
    unknown["targets"][0]["download_url"] = json!("https://cdn.example.com/a");
    let reply = app.publisher().publish("demo", &unknown).await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert!(release_ids(&app).await.is_empty());
}
