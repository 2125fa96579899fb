//! Health, readiness and metrics.

use crate::common::TestApp;

#[tokio::test]
async fn health_adds_detail_only_for_read_or_monitor_keys() {
    let app = TestApp::new().await;
    let plain = app.anonymous().health().await;
    let keys: Vec<&String> = plain.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["status", "timestamp", "version"]);
    assert_eq!(plain.body["status"], "healthy");
    assert_eq!(plain.body["version"], env!("CARGO_PKG_VERSION"));
    for client in [app.reader(), app.monitor(), app.admin()] {
        let detailed = client.health().await;
        assert_eq!(
            detailed.body["components"]["storage"]["status"], "healthy",
            "{}",
            detailed.text
        );
        assert!(detailed.body["uptime_seconds"].is_u64());
        assert_eq!(detailed.body["build"]["version"], env!("CARGO_PKG_VERSION"));
    }
    let bogus = app
        .with_key("wrong-key-000000000000000000000000000")
        .health()
        .await;
    assert_eq!(bogus.status, 200);
    assert!(bogus.body.get("components").is_none());
    let ready = app.anonymous().ready().await;
    assert_eq!(ready.body["status"], "ready");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_checks_by_outcome() {
    let app = TestApp::new().await;
    app.seed("metered", &["2.0.0"]).await;
    app.anonymous()
        .check(
            "metered",
            "current_version=1.0.0&platform=linux&architecture=amd64",
        )
        .await;
    app.anonymous()
        .check(
            "unseen-app-xyz",
            "current_version=1.0.0&platform=linux&architecture=amd64",
        )
        .await;
    let metrics = app.monitor().metrics().await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.header("content-type").starts_with("text/plain"));
    let text = metrics.text;
    assert!(
        text.contains(
            r#"updater_update_checks_total{application="metered",outcome="update_available"}"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"route="/api/v1/updates/{app_id}/check""#));
    assert!(text.contains("updater_http_request_duration_seconds_bucket"));
    assert!(
        !text.contains("unseen-app-xyz"),
        "unknown ids never become labels"
    );
}
