//! Applications: create, validate, partial update, delete.

use serde_json::json;

use crate::common::{TestApp, app_body};

#[tokio::test]
async fn applications_crud() {
    let app = TestApp::new().await;
    let created = app.publisher().create_app(&app_body("crud")).await;
    assert_eq!(created.status, 201);
    assert_eq!(
        created.body["message"],
        "Application 'crud' created successfully"
    );
    let dup = app.publisher().create_app(&app_body("crud")).await;
    dup.assert_error(409, "CONFLICT");

    let invalid = app.publisher().create_app(&json!({"id": "bad id", "name": "", "platforms": [], "config": {"min_version": "2.0.0", "max_version": "1.0.0", "update_interval": -1}})).await;
    invalid.assert_error(422, "VALIDATION_ERROR");
    for field in [
        "id",
        "name",
        "platforms",
        "config.min_version",
        "config.update_interval",
    ] {
        assert!(
            invalid.body["details"][field].is_string(),
            "{field}: {}",
            invalid.text
        );
    }

    let patch = json!({"description": "Updated", "config": {"allow_prerelease": true}});
    let updated = app.admin().update_app("crud", &patch).await;
    updated.assert_status(200);
    let patch2 = json!({"config": {"min_version": "1.0"}});
    app.admin().update_app("crud", &patch2).await;
    let got = app.reader().get_app("crud").await;
    assert_eq!(got.body["description"], "Updated");
    assert_eq!(
        got.body["config"]["allow_prerelease"], true,
        "an earlier patch is kept"
    );
    assert_eq!(got.body["config"]["min_version"], "1.0.0");
    assert_eq!(got.body["name"], "App crud", "omitted fields are kept");

    let empty = app.admin().update_app("crud", &json!({})).await;
    empty.assert_error(422, "VALIDATION_ERROR");
    let missing = app.admin().update_app("ghost", &json!({"name": "x"})).await;
    missing.assert_error(404, "APPLICATION_NOT_FOUND");
    let deleted = app.admin().delete_app("crud").await;
    assert_eq!(deleted.status, 204);
}
