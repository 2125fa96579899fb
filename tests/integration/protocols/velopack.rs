//! Velopack's release feed and package downloads.

use serde_json::json;

use super::create_app;
use crate::common::{TestApp, sha256_hex};

#[tokio::test]
async fn velopack_feed_lists_packages_and_redirects_downloads() {
    let app = TestApp::new().await;
    create_app(&app, "demo", json!({})).await;
    for (version, percentage) in [("1.0.0", 100), ("1.1.0", 10)] {
        let full = format!("full {version}").into_bytes();
        app.publisher()
            .register(
                "demo",
                &json!({"version": version, "platform": "linux", "architecture": "amd64", "rollout_percentage": percentage,
                        "release_notes": "# Notes",
                        "files": [{"kind": "nupkg", "url": format!("https://cdn.example.com/pkg-{version}"), "size": full.len(), "sha256": sha256_hex(&full)}]}),
            )
            .await
            .assert_status(201);
    }
    let feed = app
        .anonymous()
        .get("/velopack/demo/linux/x64/releases.linux.json?localVersion=1.0.0&id=Demo.App")
        .await;
    assert_eq!(feed.status, 200);
    let assets = feed.body["Assets"].as_array().unwrap();
    assert_eq!(assets.len(), 1, "no staging id: only complete rollouts");
    let asset = &assets[0];
    assert_eq!(asset["PackageId"], "Demo.App");
    assert_eq!(asset["Version"], "1.0.0");
    assert_eq!(asset["Type"], "Full");
    assert_eq!(asset["FileName"], "Demo.App-1.0.0-full.nupkg");
    assert_eq!(asset["SHA256"], sha256_hex(b"full 1.0.0"));
    assert_eq!(asset["NotesMarkdown"], "# Notes");

    let mut admitted = 0;
    for i in 0..1000 {
        let uri = format!(
            "/velopack/demo/linux/x64/releases.linux.json?stagingId=00000000-0000-4000-8000-{i:012}"
        );
        let first = app.anonymous().get(&uri).await.body["Assets"]
            .as_array()
            .unwrap()
            .len();
        let second = app.anonymous().get(&uri).await.body["Assets"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(first, second);
        if first == 2 {
            admitted += 1;
        }
    }
    assert!((70..=130).contains(&admitted), "{admitted} of 1000 at 10%");

    let download = app
        .anonymous()
        .get("/velopack/demo/linux/x64/Demo.App-1.0.0-full.nupkg")
        .await;
    assert_eq!(download.status, 302);
    assert_eq!(
        download.headers["location"],
        "https://cdn.example.com/pkg-1.0.0"
    );
    let empty = app
        .anonymous()
        .get("/velopack/demo/windows/x64/releases.win.json")
        .await;
    assert_eq!(empty.body, json!({"Assets": []}));
}
