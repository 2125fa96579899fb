//! Universal macOS releases through the API: registered once under
//! `universal` (or an alias a build tool prints), refused on any other
//! platform, and answering Intel and Apple silicon Macs' checks.

use serde_json::json;

use super::publish::{publish_body, target};
use crate::common::{SHA256, TestApp, release_body};

fn universal_body(version: &str, architecture: &str) -> serde_json::Value {
    let mut body = release_body(version);
    body["platform"] = json!("macos");
    body["architecture"] = json!(architecture);
    body
}

#[tokio::test]
async fn a_universal_release_is_registered_once_and_answers_both_macs() {
    let app = TestApp::new().await;
    app.seed("fat", &[]).await;
    let publisher = app.publisher();
    for (version, alias) in [
        ("1.0.0", "universal"),
        ("1.1.0", "universal-apple-darwin"),
        ("1.2.0", "Darwin-Universal"),
    ] {
        let reply = publisher
            .register("fat", &universal_body(version, alias))
            .await;
        reply.assert_status(201);
        assert_eq!(reply.body["id"], format!("fat-{version}-darwin-universal"));
    }
    for architecture in ["arm64", "aarch64", "amd64", "x86_64", "universal"] {
        let query = format!("current_version=1.0.0&platform=darwin&architecture={architecture}");
        let check = app.anonymous().check("fat", &query).await;
        assert_eq!(
            check.body["latest_version"], "1.2.0",
            "{architecture}: {}",
            check.text
        );
        let query = format!("platform=macos&architecture={architecture}");
        let latest = app.anonymous().latest("fat", &query).await;
        assert_eq!(
            latest.body["version"], "1.2.0",
            "{architecture}: {}",
            latest.text
        );
    }
    let listed = app
        .reader()
        .list_releases("fat", "architecture=universal-apple-darwin")
        .await;
    assert_eq!(listed.body["total_count"], 3, "{}", listed.text);
    let arm64_only = app
        .reader()
        .list_releases("fat", "architecture=arm64")
        .await;
    assert_eq!(
        arm64_only.body["total_count"], 0,
        "the list filters by the stored architecture"
    );
    let deleted = app
        .admin()
        .call(
            "DELETE",
            "/api/v1/updates/fat/releases/1.2.0/mac/universal",
            None,
        )
        .await;
    assert!(deleted.status < 300, "{}", deleted.text);
}

#[tokio::test]
async fn universal_is_refused_on_other_platforms() {
    let app = TestApp::new().await;
    app.seed("thin", &[]).await;
    for platform in ["linux", "windows"] {
        let mut body = universal_body("1.0.0", "universal");
        body["platform"] = json!(platform);
        let reply = app.publisher().register("thin", &body).await;
        reply.assert_error(422, "VALIDATION_ERROR");
        let message = reply.body["details"]["architecture"]
            .as_str()
            .unwrap_or_default();
        assert!(
            message.contains("only for macOS") && message.contains(platform),
            "{}",
            reply.text
        );
    }
    let check = app
        .anonymous()
        .check(
            "thin",
            "current_version=1.0.0&platform=linux&architecture=universal",
        )
        .await;
    check.assert_error(422, "VALIDATION_ERROR");
    assert!(
        check.body["details"]["architecture"].is_string(),
        "{}",
        check.text
    );

    let file =
        json!({"url": "https://cdn.example.com/thin/a.AppImage", "size": 1, "sha256": SHA256});
    let batch = publish_body(
        "1.0.0",
        vec![
            target(
                "darwin",
                "universal",
                vec![
                    json!({"url": "https://cdn.example.com/thin/a.dmg", "size": 1, "sha256": SHA256}),
                ],
            ),
            target("linux", "universal", vec![file]),
        ],
    );
    let refused = app.publisher().publish("thin", &batch).await;
    refused.assert_error(422, "VALIDATION_ERROR");
    assert!(
        refused.body["details"]["targets[1].architecture"]
            .as_str()
            .is_some_and(|m| m.contains("only for macOS")),
        "{}",
        refused.text
    );
    assert!(refused.body["details"]["targets[0].architecture"].is_null());
}

#[tokio::test]
async fn a_specific_release_of_the_same_version_wins_over_universal() {
    let app = TestApp::new().await;
    app.seed("both", &[]).await;
    let publisher = app.publisher();
    let mut universal = universal_body("2.0.0", "universal");
    universal["download_url"] = json!("https://cdn.example.com/both-universal.zip");
    publisher
        .register("both", &universal)
        .await
        .assert_status(201);
    let mut arm64 = universal_body("2.0.0", "arm64");
    arm64["download_url"] = json!("https://cdn.example.com/both-arm64.zip");
    publisher.register("both", &arm64).await.assert_status(201);
    let url = |architecture: &'static str| {
        let app = &app;
        async move {
            let query =
                format!("current_version=1.0.0&platform=darwin&architecture={architecture}");
            app.anonymous().check("both", &query).await.body["download_url"].clone()
        }
    };
    assert_eq!(url("arm64").await, "https://cdn.example.com/both-arm64.zip");
    assert_eq!(
        url("amd64").await,
        "https://cdn.example.com/both-universal.zip"
    );
}
