//! Universal macOS releases in the feeds the per-feed snapshots do not
//! cover: Tauri's `darwin-universal` target on the dynamic route,
//! Velopack's macOS feeds and their package downloads, and Sparkle's
//! universal feed.

use serde_json::{Value, json};

use super::{create_app, file, signed_file, tauri_app};
use crate::common::{TestApp, sha256_hex};

async fn register(app: &TestApp, version: &str, arch: &str, files: Vec<Value>) {
    app.publisher()
        .register(
            "demo",
            &json!({"version": version, "platform": "darwin", "architecture": arch, "files": files}),
        )
        .await
        .assert_status(201);
}

#[tokio::test]
async fn tauri_apps_built_for_darwin_universal_get_universal_builds() {
    let (app, keys) = tauri_app().await;
    let bytes = b"universal bundle";
    register(
        &app,
        "1.1.0",
        "universal",
        vec![signed_file(&keys, "app", "1.1.0", bytes)],
    )
    .await;
    register(
        &app,
        "1.2.0",
        "arm64",
        vec![signed_file(&keys, "app", "1.2.0", bytes)],
    )
    .await;
    let offered = |path: &'static str| {
        let app = &app;
        async move {
            let reply = app.anonymous().get(path).await;
            assert_eq!(reply.status, 200, "{path}: {}", reply.text);
            reply.body["version"].as_str().unwrap().to_string()
        }
    };
    assert_eq!(
        offered("/tauri/demo/stable/darwin-universal/aarch64/1.0.0").await,
        "1.1.0"
    );
    assert_eq!(
        offered("/tauri/demo/stable/darwin/universal/1.0.0").await,
        "1.1.0"
    );
    assert_eq!(
        offered("/tauri/demo/stable/darwin/aarch64/1.0.0").await,
        "1.2.0"
    );
    assert_eq!(
        offered("/tauri/demo/stable/macos/x86_64/1.0.0").await,
        "1.1.0"
    );
    let up_to_date = app
        .anonymous()
        .get("/tauri/demo/stable/darwin-universal/x86_64/1.1.0")
        .await;
    assert_eq!(up_to_date.status, 204);
    let not_a_mac = app
        .anonymous()
        .get("/tauri/demo/stable/linux/universal/1.0.0")
        .await;
    assert_eq!(not_a_mac.status, 204);
}

#[tokio::test]
async fn velopack_mac_feeds_list_universal_packages() {
    let app = TestApp::new().await;
    create_app(&app, "demo", json!({})).await;
    for (version, arch) in [("1.0.0", "universal"), ("1.1.0", "arm64")] {
        let bytes = format!("full {version}").into_bytes();
        let package = json!({"kind": "nupkg", "url": format!("https://cdn.example.com/{arch}-{version}.nupkg"),
                             "size": bytes.len(), "sha256": sha256_hex(&bytes)});
        register(&app, version, arch, vec![package]).await;
    }
    let versions = |arch: &'static str| {
        let app = &app;
        async move {
            let uri = format!("/velopack/demo/osx/{arch}/releases.osx.json?id=Demo");
            let feed = app.anonymous().get(&uri).await;
            assert_eq!(feed.status, 200, "{}", feed.text);
            feed.body["Assets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["Version"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(versions("arm64").await, ["1.0.0", "1.1.0"]);
    assert_eq!(versions("x64").await, ["1.0.0"]);
    assert_eq!(versions("universal").await, ["1.0.0"]);
    let download = app
        .anonymous()
        .get("/velopack/demo/osx/arm64/Demo-1.0.0-full.nupkg")
        .await;
    assert_eq!(download.status, 302, "{}", download.text);
    assert_eq!(
        download.header("location"),
        "https://cdn.example.com/universal-1.0.0.nupkg"
    );
}

#[tokio::test]
async fn sparkle_feeds_hold_one_item_per_version() {
    let app = TestApp::new().await;
    create_app(&app, "demo", json!({})).await;
    for (version, arch) in [
        ("1.0.0", "universal"),
        ("1.0.0", "amd64"),
        ("1.1.0", "universal"),
    ] {
        let url = format!("https://cdn.example.com/{arch}-{version}.zip");
        register(
            &app,
            version,
            arch,
            vec![file("zip", &url, version.as_bytes())],
        )
        .await;
    }
    let enclosures = |arch: &'static str| {
        let app = &app;
        async move {
            let feed = app
                .anonymous()
                .get(&format!("/sparkle/demo/darwin/{arch}/appcast.xml"))
                .await;
            assert_eq!(feed.status, 200, "{}", feed.text);
            feed.text
                .split("<enclosure url=\"https://cdn.example.com/")
                .skip(1)
                .map(|rest| rest.split('"').next().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        enclosures("x86_64").await,
        ["universal-1.1.0.zip", "amd64-1.0.0.zip"]
    );
    assert_eq!(
        enclosures("arm64").await,
        ["universal-1.1.0.zip", "universal-1.0.0.zip"]
    );
    assert_eq!(
        enclosures("universal").await,
        ["universal-1.1.0.zip", "universal-1.0.0.zip"]
    );
}
