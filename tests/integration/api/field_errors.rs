//! Request bodies are read field by field: one 422 lists every problem,
//! type errors and unknown fields together with the rules' findings, each
//! under its path; an unknown application is a 404 whatever the body.

use axum::body::Body;
use serde_json::{Value, json};

use crate::common::{Reply, SHA256, TestApp, release_body};

/// The fields a 422 names, sorted.
fn fields(reply: &Reply) -> Vec<&str> {
    reply.assert_error(422, "VALIDATION_ERROR");
    reply.body["details"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

fn file(url: &str) -> Value {
    json!({"url": url, "size": 1024, "sha256": SHA256})
}

#[tokio::test]
async fn a_type_error_does_not_hide_the_other_fields_problems() {
    let app = TestApp::new().await;
    app.seed("desk", &[]).await;
    let mut body = release_body("1.0.0");
    body["file_size"] = json!(-1);
    body["download_url"] = json!("https://cdn.example.com/my app.tar.gz");
    let reply = app.publisher().register("desk", &body).await;
    assert_eq!(
        fields(&reply),
        ["download_url", "file_size"],
        "{}",
        reply.text
    );
    assert_eq!(
        reply.field_error("file_size"),
        "must be a non-negative integer"
    );
    assert!(reply.field_error("download_url").contains("whitespace"));

    let mut missing = release_body("1.0.0");
    let object = missing.as_object_mut().unwrap();
    object.remove("platform");
    object.remove("architecture");
    let reply = app.publisher().register("desk", &missing).await;
    assert_eq!(
        fields(&reply),
        ["architecture", "platform"],
        "{}",
        reply.text
    );
    assert_eq!(reply.field_error("platform"), "is required");
    assert_eq!(reply.field_error("architecture"), "is required");
}

#[tokio::test]
async fn nested_items_are_named_by_their_path() {
    let app = TestApp::new().await;
    app.seed("desk", &[]).await;
    let mut bad_size = file("https://cdn.example.com/desk_amd64.deb");
    bad_size["size"] = json!("1 MB");
    let body = json!({
        "version": 2,
        "platform": "linux",
        "architecture": "amd64",
        "files": [file("https://cdn.example.com/desk.AppImage"), bad_size, "desk.rpm"],
    });
    let reply = app.publisher().register("desk", &body).await;
    assert_eq!(
        fields(&reply),
        ["files[1].size", "files[2]", "version"],
        "{}",
        reply.text
    );
    assert_eq!(
        reply.field_error("files[1].size"),
        "must be a non-negative integer"
    );
    assert_eq!(reply.field_error("files[2]"), "must be an object");
    assert_eq!(reply.field_error("version"), "must be a string");

    app.admin()
        .create_app(&crate::common::app_body("demo"))
        .await
        .assert_status(201);
    let mut bad_url = file("https://cdn.example.com/demo/demo setup.exe");
    bad_url["size"] = json!(-3);
    let publish = json!({
        "version": "1.0.0",
        "rollout_percentage": "all",
        "targets": [
            {"platform": "linux", "architecture": "amd64", "files": [file("https://cdn.example.com/demo/demo.AppImage")]},
            {"platform": "windows", "architecture": "amd64", "files": [bad_url]},
        ],
    });
    let reply = app.publisher().publish("demo", &publish).await;
    assert_eq!(
        fields(&reply),
        [
            "rollout_percentage",
            "targets[1].files[0].size",
            "targets[1].files[0].url"
        ],
        "{}",
        reply.text
    );
    let empty = app.publisher().publish("demo", &json!({})).await;
    assert_eq!(fields(&empty), ["targets", "version"], "{}", empty.text);
}

#[tokio::test]
async fn unknown_fields_are_listed_with_the_other_problems() {
    let app = TestApp::new().await;
    app.seed("desk", &[]).await;
    let mut body = release_body("1.0.0");
    body["colour"] = json!("red");
    body["required"] = json!("yes");
    let reply = app.publisher().register("desk", &body).await;
    assert_eq!(fields(&reply), ["colour", "required"], "{}", reply.text);
    assert_eq!(reply.field_error("colour"), "unknown field");
    assert_eq!(reply.field_error("required"), "must be true or false");

    let mut item = file("https://cdn.example.com/desk.AppImage");
    item["colour"] = json!("red");
    let body =
        json!({"version": "1.0.0", "platform": "linux", "architecture": "amd64", "files": [item]});
    let reply = app.publisher().register("desk", &body).await;
    assert_eq!(fields(&reply), ["files[0].colour"], "{}", reply.text);
}

#[tokio::test]
async fn a_value_that_did_not_read_is_not_judged_again() {
    let app = TestApp::new().await;
    app.seed("desk", &[]).await;
    let body = json!({"version": "1.0.0", "platform": "linux", "architecture": "amd64", "files": "desk.AppImage"});
    let reply = app.publisher().register("desk", &body).await;
    assert_eq!(fields(&reply), ["files"], "{}", reply.text);
    assert_eq!(reply.field_error("files"), "must be a list");

    let reply = app.publisher().register("desk", &json!(["1.0.0"])).await;
    assert_eq!(fields(&reply), ["body"], "{}", reply.text);
    assert_eq!(reply.field_error("body"), "must be a JSON object");
}

#[tokio::test]
async fn an_unknown_application_is_a_404_whatever_the_body() {
    let app = TestApp::new().await;
    for body in [json!({}), json!([]), json!({"file_size": -1, "colour": 1})] {
        let publisher = app.publisher();
        publisher
            .register("ghost", &body)
            .await
            .assert_error(404, "APPLICATION_NOT_FOUND");
        publisher
            .publish("ghost", &body)
            .await
            .assert_error(404, "APPLICATION_NOT_FOUND");
        app.admin()
            .update_app("ghost", &body)
            .await
            .assert_error(404, "APPLICATION_NOT_FOUND");
    }
    app.seed("desk", &[]).await;
    let release = app
        .admin()
        .patch_release("desk", "9.9.9/linux/amd64", &json!({}))
        .await;
    release.assert_error(404, "NOT_FOUND");

    // Syntax and content type are still judged first.
    let publisher = app.publisher();
    for (content_type, body, status) in [
        ("application/json", "{\"version\": ", 400),
        ("text/plain", "{}", 415),
    ] {
        let request = publisher
            .request("POST", "/api/v1/updates/ghost/register")
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        let reply = publisher.send(request).await;
        assert_eq!(reply.status, status, "{}", reply.text);
    }
}

#[tokio::test]
async fn every_write_body_lists_all_its_problems() {
    let app = TestApp::new().await;
    app.seed("desk", &["1.0.0"]).await;
    let admin = app.admin();

    let create = json!({
        "id": "bad id",
        "name": 5,
        "platforms": "linux",
        "config": {"update_interval": "daily", "min_version": "abc", "shade": 1},
    });
    let reply = admin.create_app(&create).await;
    assert_eq!(
        fields(&reply),
        [
            "config.min_version",
            "config.shade",
            "config.update_interval",
            "id",
            "name",
            "platforms"
        ],
        "{}",
        reply.text
    );
    assert_eq!(
        reply.field_error("config.update_interval"),
        "must be an integer"
    );
    assert_eq!(reply.field_error("platforms"), "must be a list");

    let update =
        json!({"platforms": ["linux", 7], "config": {"auto_update": "on", "max_version": "x"}});
    let reply = admin.update_app("desk", &update).await;
    assert_eq!(
        fields(&reply),
        ["config.auto_update", "config.max_version", "platforms[1]"],
        "{}",
        reply.text
    );

    let patch = json!({"rollout_percentage": 300, "yanked": "yes"});
    let reply = admin
        .patch_release("desk", "1.0.0/linux/amd64", &patch)
        .await;
    assert_eq!(
        fields(&reply),
        ["rollout_percentage", "yanked"],
        "{}",
        reply.text
    );
    assert_eq!(
        reply.field_error("rollout_percentage"),
        "must be between 0 and 100"
    );

    let key = json!({"name": 5, "permissions": ["read", "superuser"], "expires_in": 90});
    let reply = admin.create_key(&key).await;
    assert_eq!(
        fields(&reply),
        ["expires_in", "name", "permissions[1]"],
        "{}",
        reply.text
    );
    assert!(reply.field_error("permissions[1]").contains("`superuser`"));

    let hook = json!({"url": 1, "events": ["*", 2], "secret": false});
    let reply = admin.create_webhook(&hook).await;
    assert_eq!(
        fields(&reply),
        ["events[1]", "secret", "url"],
        "{}",
        reply.text
    );

    // A value rule (an empty name, a URL that is not http) is reported
    // together with a type error elsewhere in the body.
    let key = json!({"name": " ", "permissions": ["read"], "expires_in": 90});
    let reply = admin.create_key(&key).await;
    assert_eq!(fields(&reply), ["expires_in", "name"], "{}", reply.text);
    assert_eq!(reply.field_error("name"), "must not be empty");
    let hook = json!({"url": "ftp://hooks.example.com/in", "events": ["release.*", 2]});
    let reply = admin.create_webhook(&hook).await;
    assert_eq!(fields(&reply), ["events[1]", "url"], "{}", reply.text);
    assert!(reply.field_error("url").contains("ftp"), "{}", reply.text);
}

#[tokio::test]
async fn a_valid_body_registers_as_before() {
    let app = TestApp::new().await;
    app.seed("desk", &[]).await;
    let mut body = release_body("1.2.0");
    body["required"] = json!(true);
    body["rollout_percentage"] = json!(40);
    body["release_date"] = json!("2024-05-06T07:08:09Z");
    body["metadata"] = json!({"notes_url": "https://example.com/n"});
    body["application_id"] = Value::Null;
    let reply = app.publisher().register("desk", &body).await;
    reply.assert_status(201);
    assert_eq!(reply.body["id"], "desk-1.2.0-linux-amd64");
    let listed = app.reader().list_releases("desk", "version=1.2.0").await;
    let release = &listed.body["releases"][0];
    assert_eq!(release["required"], true);
    assert_eq!(release["rollout_percentage"], 40);
    assert_eq!(release["file_size"], 1024);
    assert_eq!(release["checksum"], SHA256);
    assert_eq!(release["release_date"], "2024-05-06T07:08:09Z");
    assert_eq!(release["metadata"]["notes_url"], "https://example.com/n");

    let files = json!({
        "version": "1.3.0", "platform": "linux", "architecture": "amd64",
        "files": [file("https://cdn.example.com/desk.AppImage"), file("https://cdn.example.com/desk_amd64.deb")],
    });
    let reply = app.publisher().register("desk", &files).await;
    reply.assert_status(201);
    let listed = app.reader().list_releases("desk", "version=1.3.0").await;
    let kinds: Vec<&Value> = listed.body["releases"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["kind"])
        .collect();
    assert_eq!(kinds, [&json!("appimage"), &json!("deb")]);
}
