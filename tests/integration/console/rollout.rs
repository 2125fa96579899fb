//! Rollout control in the console: each change is confirmed on a page that
//! counts the installs it reaches, then applied as the API's PATCH would
//! (same audit entry), and only with the `rollout` permission.

use serde_json::{Value, json};

use super::{Browser, console_app};
use crate::common::fixtures::release_body;
use crate::common::{ADMIN_KEY, READ_KEY, TestApp};

const TARGET: &str = "/console/apps/desk/releases/2.0.0/linux/amd64";

/// `desk` with 1.0.0 and 2.0.0 at 10 %, and `installs` installs on 1.0.0
/// plus three on 2.0.0 that checked in.
async fn rolled_out(installs: usize) -> TestApp {
    let app = console_app().await;
    app.seed("desk", &["1.0.0"]).await;
    let mut staged = release_body("2.0.0");
    staged["rollout_percentage"] = json!(10);
    app.publisher()
        .register("desk", &staged)
        .await
        .assert_status(201);
    let check = |version: &str, id: String| {
        format!(
            "/api/v1/updates/desk/check?current_version={version}&platform=linux&architecture=amd64&install_id={id}"
        )
    };
    for i in 0..installs {
        let uri = check("1.0.0", format!("old-{i}"));
        app.anonymous().get(&uri).await.assert_status(200);
    }
    for i in 0..3 {
        let uri = check("2.0.0", format!("new-{i}"));
        app.anonymous().get(&uri).await.assert_status(200);
    }
    app
}

async fn release(app: &TestApp) -> Value {
    let list = app.reader().list_releases("desk", "version=2.0.0").await;
    list.assert_status(200);
    list.body["releases"][0].clone()
}

fn affected(html: &str) -> u64 {
    let found = regex::Regex::new(r#"<strong id="affected-installs">(\d+)</strong>"#)
        .unwrap()
        .captures(html)
        .unwrap_or_else(|| panic!("no count of affected installs in {html}"));
    found[1].parse().unwrap()
}

#[tokio::test]
async fn raising_a_rollout_is_confirmed_with_the_installs_it_reaches_then_audited() {
    let app = rolled_out(40).await;
    let browser = Browser::signed_in(&app, ADMIN_KEY).await;

    let review = browser.get(&format!("{TARGET}/raise?percentage=50")).await;
    review.assert_status(200);
    assert_eq!(
        affected(&review.text),
        40,
        "installs below 2.0.0 on the track"
    );
    assert!(review.text.contains("offered to 10 % of installs"));
    assert!(review.text.contains("offered to 50 % of installs"));
    assert_eq!(
        release(&app).await["rollout_percentage"],
        10,
        "a review changes nothing"
    );

    let csrf = review.csrf_token().unwrap();
    let reply = browser
        .post(
            &format!("{TARGET}/raise"),
            &[("csrf", &csrf), ("percentage", "50")],
        )
        .await;
    reply.assert_status(303);
    assert_eq!(
        reply.header("location"),
        "/console/apps/desk#release-desk-2.0.0-linux-amd64",
        "back to the changed row"
    );
    assert_eq!(release(&app).await["rollout_percentage"], 50);

    let entries = app.audit_entries("action=release.updated").await;
    let entry = &entries[0];
    assert_eq!(entry["actor"]["name"], "admin");
    assert_eq!(entry["target"], "desk-2.0.0-linux-amd64");
    let change = entry["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "rollout_percentage")
        .unwrap_or_else(|| panic!("{entry}"));
    assert_eq!(
        (&change["before"], &change["after"]),
        (&json!("10"), &json!("50"))
    );
}

#[tokio::test]
async fn pause_resume_yank_and_restore_each_take_effect() {
    let app = rolled_out(5).await;
    let browser = Browser::signed_in(&app, ADMIN_KEY).await;
    let csrf = browser.csrf(&format!("{TARGET}/pause")).await;

    browser
        .post(&format!("{TARGET}/pause"), &[("csrf", &csrf)])
        .await
        .assert_status(303);
    assert_eq!(release(&app).await["rollout_paused"], true);
    browser
        .post(&format!("{TARGET}/resume"), &[("csrf", &csrf)])
        .await
        .assert_status(303);
    assert_eq!(release(&app).await["rollout_paused"], false);

    let review = browser.get(&format!("{TARGET}/yank")).await;
    review.assert_status(200);
    assert_eq!(
        affected(&review.text),
        3,
        "a yank reaches installs on 2.0.0"
    );
    browser
        .post(
            &format!("{TARGET}/yank"),
            &[("csrf", &csrf), ("reason", "crashes on start")],
        )
        .await
        .assert_status(303);
    let yanked = release(&app).await;
    assert_eq!(
        (&yanked["yanked"], &yanked["yank_reason"]),
        (&json!(true), &json!("crashes on start"))
    );

    let again = browser
        .post(&format!("{TARGET}/pause"), &[("csrf", &csrf)])
        .await;
    again.assert_status(409);
    browser
        .post(&format!("{TARGET}/restore"), &[("csrf", &csrf)])
        .await
        .assert_status(303);
    let restored = release(&app).await;
    assert_eq!(
        (&restored["yanked"], &restored["yank_reason"]),
        (&json!(false), &Value::Null)
    );
}

#[tokio::test]
async fn a_key_without_rollout_sees_no_controls_and_cannot_post_them() {
    let app = rolled_out(1).await;
    let reader = Browser::signed_in(&app, READ_KEY).await;
    let page = reader.get("/console/apps/desk").await;
    page.assert_status(200);
    assert!(page.text.contains("2.0.0"));
    assert!(
        !page.text.contains("/raise"),
        "no rollout controls for a reader"
    );
    reader
        .get(&format!("{TARGET}/pause"))
        .await
        .assert_status(403);
    let csrf = page.csrf_token().unwrap();
    reader
        .post(&format!("{TARGET}/pause"), &[("csrf", &csrf)])
        .await
        .assert_status(403);
    assert_eq!(release(&app).await["rollout_paused"], false);
}

#[tokio::test]
async fn bad_changes_are_refused_with_what_is_wrong() {
    let app = rolled_out(1).await;
    let browser = Browser::signed_in(&app, ADMIN_KEY).await;
    for (query, problem) in [
        ("", "give the new rollout share"),
        ("?percentage=101", "from 0 to 100"),
        ("?percentage=ten", "from 0 to 100"),
        ("?percentage=10", "at 10 % already"),
    ] {
        let reply = browser.get(&format!("{TARGET}/raise{query}")).await;
        reply.assert_status(422);
        assert!(reply.text.contains(problem), "{query}: {}", reply.text);
    }
    browser
        .get(&format!("{TARGET}/explode"))
        .await
        .assert_status(404);
    browser
        .get("/console/apps/desk/releases/9.9.9/linux/amd64/pause")
        .await
        .assert_status(404);
    browser
        .get("/console/apps/desk/releases/not-a-version/linux/amd64/pause")
        .await
        .assert_status(422);
    let long_reason = "x".repeat(2000);
    let csrf = browser.csrf(&format!("{TARGET}/yank")).await;
    let reply = browser
        .post(
            &format!("{TARGET}/yank"),
            &[("csrf", &csrf), ("reason", &long_reason)],
        )
        .await;
    reply.assert_status(422);
    assert_eq!(release(&app).await["yanked"], false);
}

#[tokio::test]
async fn without_a_browser_errors_answer_as_the_api_does() {
    let app = rolled_out(1).await;
    let browser = Browser::signed_in(&app, ADMIN_KEY).await;
    let request = axum::http::Request::builder()
        .uri(format!("{TARGET}/raise?percentage=500"))
        .header("cookie", browser.cookie.as_deref().unwrap())
        .body(axum::body::Body::empty())
        .unwrap();
    let reply = app.send(request).await;
    reply.assert_status(422);
    assert_eq!(reply.error_code(), Some("VALIDATION_ERROR"));
    assert!(
        reply.body["details"]["percentage"].is_string(),
        "{}",
        reply.body
    );
}
