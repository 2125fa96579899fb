//! Staged rollouts through the API: admission by install id (header or
//! query), pause, resume, yank, and the patch's validation.

use serde_json::json;

use crate::common::{TestApp, release_body};

const FROM_1_0_0: &str = "current_version=1.0.0&platform=linux&architecture=amd64";

#[tokio::test]
async fn staged_rollout_pause_resume_and_yank_through_the_api() {
    let app = TestApp::new().await;
    app.seed("staged", &["1.0.0"]).await;
    let mut body = release_body("1.1.0");
    body["rollout_percentage"] = json!(10);
    let created = app.publisher().register("staged", &body).await;
    created.assert_status(201);

    let check_uri = format!("/api/v1/updates/staged/check?{FROM_1_0_0}");
    let check = |id: String| {
        let app = app.clone();
        let uri = check_uri.clone();
        async move {
            app.anonymous()
                .get_with(&uri, ("x-install-id", &id))
                .await
                .body["update_available"]
                == true
        }
    };
    let mut admitted = Vec::new();
    for i in 0..400 {
        if check(format!("install-{i}")).await {
            admitted.push(format!("install-{i}"));
        }
    }
    assert!(
        (15..=70).contains(&admitted.len()),
        "about 10% of 400: {}",
        admitted.len()
    );
    let by_query = app
        .anonymous()
        .check(
            "staged",
            &format!("{FROM_1_0_0}&install_id={}", admitted[0]),
        )
        .await;
    assert_eq!(
        by_query.body["latest_version"], "1.1.0",
        "the query parameter works too"
    );
    let electron = app
        .anonymous()
        .get_with(&check_uri, ("x-user-staging-id", admitted[0].as_str()))
        .await;
    assert_eq!(
        electron.body["latest_version"], "1.1.0",
        "electron-updater's header works too"
    );
    let anonymous = app.anonymous().check("staged", FROM_1_0_0).await;
    assert_eq!(
        anonymous.body["update_available"], false,
        "no id: only complete rollouts"
    );
    let bad = app
        .anonymous()
        .check("staged", &format!("{FROM_1_0_0}&install_id=has%20space"))
        .await;
    bad.assert_error(422, "VALIDATION_ERROR");

    let target = "1.1.0/linux/amd64";
    let admin = app.admin();
    let paused = admin
        .patch_release("staged", target, &json!({"rollout_paused": true}))
        .await;
    paused.assert_status(200);
    assert_eq!(paused.body["rollout_paused"], true);
    assert!(
        !check(admitted[0].clone()).await,
        "paused: offered to no one"
    );
    let resumed = admin
        .patch_release(
            "staged",
            target,
            &json!({"rollout_paused": false, "rollout_percentage": 100}),
        )
        .await;
    assert_eq!(resumed.body["rollout_percentage"], 100);
    let everyone = app.anonymous().check("staged", FROM_1_0_0).await;
    assert_eq!(
        everyone.body["latest_version"], "1.1.0",
        "complete rollout reaches installs without an id"
    );

    let yanked = admin
        .patch_release(
            "staged",
            target,
            &json!({"yanked": true, "yank_reason": "crashes on start"}),
        )
        .await;
    assert_eq!(yanked.body["yanked"], true);
    assert_eq!(yanked.body["yank_reason"], "crashes on start");
    let after = app.anonymous().check("staged", FROM_1_0_0).await;
    assert_eq!(
        after.body["update_available"], false,
        "a yanked release is never offered"
    );
    let latest = app
        .anonymous()
        .latest("staged", "platform=linux&architecture=amd64")
        .await;
    assert_eq!(latest.body["version"], "1.0.0");

    for (body, field) in [
        (json!({}), "body"),
        (json!({"rollout_percentage": 101}), "rollout_percentage"),
        (json!({"rollout_percentage": 300}), "rollout_percentage"),
    ] {
        let reply = admin.patch_release("staged", target, &body).await;
        reply.assert_error(422, "VALIDATION_ERROR");
        assert!(reply.body["details"][field].is_string(), "{}", reply.text);
    }
    let unknown = admin
        .patch_release("staged", "9.9.9/linux/amd64", &json!({"yanked": true}))
        .await;
    unknown.assert_error(404, "NOT_FOUND");
    let forbidden = app
        .publisher()
        .patch_release("staged", target, &json!({"yanked": false}))
        .await;
    forbidden.assert_error(403, "FORBIDDEN");
    let mut over = release_body("1.2.0");
    over["rollout_percentage"] = json!(150);
    let refused = app.publisher().register("staged", &over).await;
    refused.assert_error(422, "VALIDATION_ERROR");
}
