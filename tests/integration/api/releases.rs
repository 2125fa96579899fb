//! Registering and listing releases: validation, normalisation, the
//! plain-http flag, list parameters and deterministic paging.

use serde_json::json;

use crate::common::{TestApp, release_body, test_settings};

#[tokio::test]
async fn platforms_and_architectures_are_normalized() {
    let app = TestApp::new().await;
    app.seed("norm", &[]).await;
    let mut body = release_body("2.0.0");
    body["platform"] = json!("MacOS");
    body["architecture"] = json!("AARCH64");
    let reply = app.publisher().register("norm", &body).await;
    reply.assert_status(201);
    assert_eq!(reply.body["id"], "norm-2.0.0-darwin-arm64");
    let check = app
        .anonymous()
        .check(
            "norm",
            "current_version=1.0&platform=darwin&architecture=arm64",
        )
        .await;
    assert_eq!(check.body["latest_version"], "2.0.0", "{}", check.text);
    let aliased = app
        .anonymous()
        .check(
            "norm",
            "current_version=v1&platform=macos&architecture=aarch64",
        )
        .await;
    assert_eq!(aliased.body["latest_version"], "2.0.0");
}

#[tokio::test]
async fn register_rules() {
    let app = TestApp::new().await;
    let publisher = app.publisher();
    app.seed("reg", &["1.0.0"]).await;
    let dup = publisher.register("reg", &release_body("1.0.0")).await;
    dup.assert_error(409, "CONFLICT");

    let mut body = release_body("1.2.0");
    body["release_date"] = json!("2024-05-06T07:08:09Z");
    body["signature"] = json!("untrusted comment: x\nRWQ...sig==");
    body["checksum_type"] = json!("SHA512");
    body["checksum"] = json!("ab".repeat(64));
    body["channel"] = json!("Beta");
    body["metadata"] = json!({"notes_url": "https://example.com/n"});
    let ok = publisher.register("reg", &body).await;
    ok.assert_status(201);
    let list = app.reader().list_releases("reg", "version=1.2.0").await;
    let release = &list.body["releases"][0];
    assert_eq!(release["release_date"], "2024-05-06T07:08:09Z");
    assert_eq!(release["signature"], "untrusted comment: x\nRWQ...sig==");
    assert_eq!(release["checksum_type"], "sha512");
    assert_eq!(release["channel"], "beta");

    let mut bad = release_body("nope");
    bad["checksum"] = json!("abc");
    bad["download_url"] = json!("http://cdn.example.com/x");
    bad["platform"] = json!("beos");
    bad["minimum_version"] = json!("9.9.9");
    let invalid = publisher.register("reg", &bad).await;
    invalid.assert_error(422, "VALIDATION_ERROR");
    for field in ["version", "checksum", "download_url", "platform"] {
        assert!(
            invalid.body["details"][field].is_string(),
            "{field} should be reported: {}",
            invalid.text
        );
    }

    let mut md5 = release_body("1.3.0");
    md5["checksum_type"] = json!("md5");
    let refused = publisher.register("reg", &md5).await;
    assert!(refused.body["details"]["checksum_type"].is_string());

    let mut loopback = release_body("1.4.0");
    loopback["download_url"] = json!("http://127.0.0.1:9000/app.tar.gz");
    let local = publisher.register("reg", &loopback).await;
    assert_eq!(
        local.status, 201,
        "plain http is fine for loopback: {}",
        local.text
    );

    let mut typo = release_body("1.5.0");
    typo["requried"] = json!(true);
    let typo = publisher.register("reg", &typo).await;
    typo.assert_error(422, "VALIDATION_ERROR");

    let mut negative = release_body("1.6.0");
    negative["file_size"] = json!(-5);
    let negative = publisher.register("reg", &negative).await;
    negative.assert_error(422, "VALIDATION_ERROR");
    assert!(
        negative.body["details"]["file_size"].is_string(),
        "{}",
        negative.text
    );

    let unknown_app = publisher.register("ghost", &release_body("1.0.0")).await;
    unknown_app.assert_error(404, "APPLICATION_NOT_FOUND");
}

#[tokio::test]
async fn register_reports_every_problem_and_bounds_file_size() {
    let app = TestApp::new().await;
    app.seed("bounds", &[]).await;
    let mut body = release_body("1.0.0");
    body["platform"] = json!("ios");
    body["architecture"] = json!("mips");
    body["file_size"] = json!(u64::MAX);
    let reply = app.publisher().register("bounds", &body).await;
    reply.assert_error(422, "VALIDATION_ERROR");
    for field in ["platform", "architecture", "file_size"] {
        assert!(
            reply.body["details"][field].is_string(),
            "{field}: {}",
            reply.text
        );
    }
}

#[tokio::test]
async fn http_download_urls_follow_the_config_flag() {
    let mut settings = test_settings();
    settings.security.allow_http_download_urls = true;
    let app = TestApp::with_settings(settings).await;
    app.seed("plain", &[]).await;
    let mut body = release_body("1.0.0");
    body["download_url"] = json!("http://downloads.example.com/a.tar.gz");
    let reply = app.publisher().register("plain", &body).await;
    reply.assert_status(201);
}

#[tokio::test]
async fn list_parameters_are_validated_and_ordering_is_deterministic() {
    let app = TestApp::new().await;
    let reader = app.reader();
    app.seed("many", &["1.0.0", "1.2.0", "1.10.0", "1.3.0", "2.0.0-rc.1"])
        .await;
    for bad in [
        "limit=0",
        "limit=1001",
        "limit=abc",
        "limit=-1",
        "offset=-3",
        "offset=99999999999999999999999",
        "sort_by=size",
        "sort_order=up",
        "required=maybe",
        "version=x.y",
        "platform=beos",
        "limit=1&limit=2",
        "unknown=1",
    ] {
        let reply = reader.list_releases("many", bad).await;
        reply.assert_error(422, "VALIDATION_ERROR");
        assert!(
            !reply.body["details"].as_object().unwrap().is_empty(),
            "{bad}: {}",
            reply.text
        );
    }
    let asc = reader
        .list_releases("many", "sort_by=version&sort_order=asc")
        .await;
    let versions: Vec<&str> = asc.body["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["version"].as_str().unwrap())
        .collect();
    assert_eq!(
        versions,
        ["1.0.0", "1.2.0", "1.3.0", "1.10.0", "2.0.0-rc.1"]
    );

    let mut seen = Vec::new();
    for offset in [0, 2, 4] {
        let page = reader
            .list_releases("many", &format!("limit=2&offset={offset}"))
            .await;
        assert_eq!(page.body["total_count"], 5);
        assert_eq!(page.body["page_size"], 2);
        assert_eq!(page.body["page"], offset / 2 + 1);
        assert_eq!(page.body["has_more"], offset < 4);
        seen.extend(
            page.body["releases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string()),
        );
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 5, "pages neither repeat nor skip: {seen:?}");

    let unknown = reader.list_releases("ghost", "").await;
    unknown.assert_error(404, "APPLICATION_NOT_FOUND");

    let apps_bad = reader.list_apps("limit=100000").await;
    apps_bad.assert_error(422, "VALIDATION_ERROR");
}
