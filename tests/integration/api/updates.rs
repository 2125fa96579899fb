//! Update checks and latest-release lookups, and the whole flow in the Go
//! service's response shapes.

use serde_json::json;

use crate::common::TestApp;

#[tokio::test]
async fn full_flow_matches_the_go_service_shapes() {
    let app = TestApp::new().await;
    app.seed("desk", &["1.0.0", "1.1.0"]).await;

    let check = app
        .anonymous()
        .check(
            "desk",
            "current_version=1.0.0&platform=linux&architecture=amd64",
        )
        .await;
    check.assert_status(200);
    assert_eq!(check.body["update_available"], true);
    assert_eq!(check.body["latest_version"], "1.1.0");
    assert_eq!(check.body["current_version"], "1.0.0");
    assert_eq!(check.body["checksum_type"], "sha256");
    assert_eq!(check.body["file_size"], 1024);
    assert_eq!(check.body["required"], false);
    assert!(
        check.body.get("metadata").is_none(),
        "metadata only with include_metadata"
    );

    let body = json!({"application_id": "desk", "current_version": "1.1.0", "platform": "linux", "architecture": "amd64"});
    let posted = app.anonymous().check_by_body(&body).await;
    assert_eq!(posted.status, 200);
    assert_eq!(
        posted.body,
        json!({"update_available": false, "current_version": "1.1.0", "required": false})
    );

    let latest = app
        .anonymous()
        .latest("desk", "platform=linux&architecture=amd64")
        .await;
    assert_eq!(latest.status, 200);
    assert_eq!(latest.body["version"], "1.1.0");
    for param in ["app_id", "application_id"] {
        let uri = format!("/api/v1/latest?{param}=desk&platform=linux&architecture=amd64");
        let reply = app.anonymous().get(&uri).await;
        assert_eq!(reply.status, 200, "{param}: {}", reply.text);
        assert_eq!(reply.body["version"], "1.1.0");
    }
    let missing = app
        .anonymous()
        .get("/api/v1/latest?platform=linux&architecture=amd64")
        .await;
    missing.assert_error(422, "VALIDATION_ERROR");
    assert!(missing.body["details"]["app_id"].is_string());

    let list = app.reader().list_releases("desk", "").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["total_count"], 2);
    assert_eq!(list.body["page"], 1);
    assert_eq!(list.body["has_more"], false);
    assert_eq!(list.body["releases"][0]["id"], "desk-1.1.0-linux-amd64");

    let one = app.reader().get_app("desk").await;
    assert_eq!(one.body["stats"]["total_releases"], 2);
    assert_eq!(one.body["stats"]["latest_version"], "1.1.0");

    let apps = app.reader().list_apps("").await;
    assert_eq!(apps.body["total_count"], 1);
    assert_eq!(apps.body["applications"][0]["id"], "desk");

    let refused = app.admin().delete_app("desk").await;
    refused.assert_error(409, "CONFLICT");

    let deleted = app
        .admin()
        .delete_release("desk", "1.1.0/linux/x86_64")
        .await;
    assert_eq!(
        deleted.status, 200,
        "aliases accepted on delete: {}",
        deleted.text
    );
    assert_eq!(deleted.body["id"], "desk-1.1.0-linux-amd64");
    let again = app
        .admin()
        .delete_release("desk", "1.1.0/linux/amd64")
        .await;
    again.assert_error(404, "NOT_FOUND");

    let forced = app.admin().force_delete_app("desk").await;
    assert_eq!(forced.status, 204);
    assert!(forced.text.is_empty());
    let gone = app.reader().get_app("desk").await;
    gone.assert_error(404, "APPLICATION_NOT_FOUND");
}

#[tokio::test]
async fn no_release_for_a_target_is_no_update_not_an_error() {
    let app = TestApp::new().await;
    app.seed("lonely", &[]).await;
    for query in [
        "current_version=1.0.0&platform=windows&architecture=arm64",
        "current_version=1.0.0&platform=ios&architecture=arm64",
    ] {
        let reply = app.anonymous().check("lonely", query).await;
        reply.assert_status(200);
        assert_eq!(reply.body["update_available"], false);
    }
    let latest = app
        .anonymous()
        .latest("lonely", "platform=linux&architecture=amd64")
        .await;
    latest.assert_error(404, "NOT_FOUND");
    let unknown = app
        .anonymous()
        .check(
            "nope",
            "current_version=1.0.0&platform=linux&architecture=amd64",
        )
        .await;
    unknown.assert_error(404, "APPLICATION_NOT_FOUND");
}
