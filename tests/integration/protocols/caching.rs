//! Feeds a CDN can cache: an `ETag` on every feed and check, `304` for a
//! matching `If-None-Match`, `Cache-Control` per endpoint family, and
//! `no-store` where the answer depends on the install's rollout bucket.

use serde_json::json;

use super::{create_app, file, tauri_fixture};
use crate::common::{TestApp, sha256_hex, test_settings};

const FEEDS: [&str; 7] = [
    "/api/v1/updates/feeds/check?current_version=1.0.0&platform=linux&architecture=amd64",
    "/api/v1/updates/feeds/latest?platform=linux&architecture=amd64",
    "/electron-updater/feeds/latest-linux.yml",
    "/electron/feeds/stable/darwin/arm64/1.0.0",
    "/electron/feeds/stable/windows/amd64/RELEASES?id=Feeds",
    "/sparkle/feeds/darwin/arm64/appcast.xml",
    "/velopack/feeds/windows/x64/releases.win.json?id=Feeds",
];
const TAURI_FEEDS: [&str; 2] = [
    "/tauri/demo/stable/latest.json",
    "/tauri/demo/stable/linux/x86_64/1.0.0",
];

async fn register_feeds(app: &TestApp, version: &str) {
    let bytes = format!("v{version}").into_bytes();
    for (platform, arch, files) in [
        (
            "linux",
            "amd64",
            json!([file(
                "appimage",
                &format!("https://cdn.example.com/feeds-{version}.AppImage"),
                &bytes
            )]),
        ),
        (
            "darwin",
            "arm64",
            json!([file(
                "zip",
                &format!("https://cdn.example.com/feeds-{version}-mac.zip"),
                &bytes
            )]),
        ),
        (
            "windows",
            "amd64",
            json!([{"kind": "nupkg", "url": format!("https://cdn.example.com/Feeds-{version}-full.nupkg"),
                                     "size": bytes.len(), "sha256": sha256_hex(&bytes), "sha1": "a".repeat(40)}]),
        ),
    ] {
        app.publisher()
            .register("feeds", &json!({"version": version, "platform": platform, "architecture": arch, "files": files}))
            .await
            .assert_status(201);
    }
}

/// The Tauri fixture (`demo`) plus `feeds`, on every other protocol.
async fn every_feed(app: TestApp) -> TestApp {
    create_app(&app, "feeds", json!({})).await;
    for version in ["1.0.0", "1.1.0"] {
        register_feeds(&app, version).await;
    }
    app
}

fn header<'a>(reply: &'a crate::common::Reply, name: &str) -> &'a str {
    reply
        .headers
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_else(|| panic!("no {name} header"))
}

#[tokio::test]
async fn every_feed_has_an_etag_and_answers_a_matching_if_none_match_with_304() {
    let (app, _keys) = tauri_fixture().await;
    let app = every_feed(app).await;
    for uri in FEEDS.iter().chain(&TAURI_FEEDS) {
        let first = app.anonymous().get(uri).await;
        assert_eq!(first.status, 200, "{uri}: {}", first.text);
        let tag = header(&first, "etag").to_string();
        assert!(tag.starts_with('"') && tag.len() == 34, "{uri}: {tag}");
        assert_eq!(
            header(&first, "cache-control"),
            "public, max-age=60",
            "{uri}"
        );
        assert_eq!(header(&first, "vary"), "X-Install-Id, X-User-Staging-Id");

        let again = app.anonymous().get(uri).await;
        assert_eq!(
            header(&again, "etag"),
            tag,
            "{uri}: the same body, the same tag"
        );
        for conditional in [tag.clone(), format!("W/{tag}"), format!("\"stale\", {tag}")] {
            let cached = app
                .anonymous()
                .get_with(uri, ("if-none-match", &conditional))
                .await;
            assert_eq!(cached.status, 304, "{uri} with {conditional}");
            assert!(cached.text.is_empty(), "{uri}: a 304 has no body");
            assert_eq!(header(&cached, "etag"), tag);
            assert_eq!(header(&cached, "cache-control"), "public, max-age=60");
        }
        let stale = app
            .anonymous()
            .get_with(uri, ("if-none-match", "\"stale\""))
            .await;
        assert_eq!(stale.status, 200, "{uri}");
        assert_eq!(stale.text, first.text);
    }
}

#[tokio::test]
async fn a_new_release_changes_the_tag_so_a_cached_copy_is_refreshed() {
    let app = every_feed(TestApp::new().await).await;
    let mut before = Vec::new();
    for uri in FEEDS {
        before.push(header(&app.anonymous().get(uri).await, "etag").to_string());
    }
    register_feeds(&app, "1.2.0").await;
    for (uri, old) in FEEDS.iter().zip(before) {
        let reply = app.anonymous().get_with(uri, ("if-none-match", &old)).await;
        assert_eq!(reply.status, 200, "{uri}: the old tag no longer matches");
        assert_ne!(header(&reply, "etag"), old, "{uri}");
        assert!(reply.text.contains("1.2.0"), "{uri}: {}", reply.text);
    }
}

#[tokio::test]
async fn an_answer_for_one_install_is_never_stored_by_a_shared_cache() {
    let app = every_feed(TestApp::new().await).await;
    let check = FEEDS[0];
    let by_query = app
        .anonymous()
        .get(&format!("{check}&install_id=install-1"))
        .await;
    assert_eq!(by_query.status, 200, "{}", by_query.text);
    assert_eq!(header(&by_query, "cache-control"), "no-store");
    for name in ["x-install-id", "x-user-staging-id"] {
        let by_header = app.anonymous().get_with(check, (name, "install-1")).await;
        assert_eq!(header(&by_header, "cache-control"), "no-store", "{name}");
    }
    let velopack = app
        .anonymous()
        .get("/velopack/feeds/windows/x64/releases.win.json?id=Feeds&stagingId=install-1")
        .await;
    assert_eq!(header(&velopack, "cache-control"), "no-store");
}

#[tokio::test]
async fn max_age_is_set_per_family_and_zero_means_no_store() {
    let mut settings = test_settings();
    settings.cache_control.sparkle = std::time::Duration::ZERO;
    settings.cache_control.checks = std::time::Duration::from_secs(300);
    let app = every_feed(TestApp::with_settings(settings).await).await;
    let sparkle = app.anonymous().get(FEEDS[5]).await;
    assert_eq!(header(&sparkle, "cache-control"), "no-store");
    assert!(
        sparkle.headers.contains_key("etag"),
        "no-store still revalidates"
    );
    let check = app.anonymous().get(FEEDS[0]).await;
    assert_eq!(header(&check, "cache-control"), "public, max-age=300");
    let squirrel = app.anonymous().get(FEEDS[3]).await;
    assert_eq!(header(&squirrel, "cache-control"), "public, max-age=60");
    // Management reads are never cacheable.
    let releases = app.reader().get("/api/v1/updates/feeds/releases").await;
    assert_eq!(header(&releases, "cache-control"), "no-store");
    assert!(!releases.headers.contains_key("etag"));
}
