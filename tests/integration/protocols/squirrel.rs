//! Squirrel: the Windows `RELEASES` file and package downloads, and the
//! Squirrel.Mac JSON answer.

use serde_json::json;

use super::create_app;
use crate::common::{SHA256, TestApp, sha256_hex, sha512_hex};

#[tokio::test]
async fn squirrel_windows_releases_follow_the_line_grammar() {
    let app = TestApp::new().await;
    create_app(&app, "demo", json!({})).await;
    for (version, percentage) in [
        ("1.0.0", 100),
        ("1.1.0", 100),
        ("1.2.0", 30),
        ("1.3.0", 100),
    ] {
        let full = format!("full {version}").into_bytes();
        let delta = format!("delta {version}").into_bytes();
        app.publisher()
            .register(
                "demo",
                &json!({"version": version, "platform": "windows", "architecture": "amd64", "rollout_percentage": percentage,
                        "files": [
                            {"kind": "nupkg", "url": format!("https://cdn.example.com/full-{version}"), "size": full.len(), "sha256": sha256_hex(&full), "sha1": "ab".repeat(20)},
                            {"kind": "nupkg_delta", "url": format!("https://cdn.example.com/delta-{version}"), "size": delta.len(), "sha256": sha256_hex(&delta), "sha1": "cd".repeat(20)},
                            {"kind": "nsis", "url": format!("https://cdn.example.com/Setup-{version}.exe"), "size": 1, "sha512": sha512_hex(b"x")}
                        ]}),
            )
            .await
            .assert_status(201);
    }
    app.admin()
        .patch_release(
            "demo",
            "1.3.0/windows/amd64",
            &json!({"rollout_paused": true}),
        )
        .await
        .assert_status(200);
    let reply = app
        .anonymous()
        .get(
            "/electron/demo/stable/windows/amd64/RELEASES?id=DemoApp&localVersion=1.0.0&arch=amd64",
        )
        .await;
    assert_eq!(reply.status, 200);
    assert!(
        reply.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    // ReleaseEntry.cs: SHA1, file name, size, then an optional `# NN%`.
    let grammar =
        regex::Regex::new(r"^([0-9a-fA-F]{40})\s+(\S+)\s+(\d+)(?:\s+#\s*(\d{1,3})%)?\r*$").unwrap();
    let lines: Vec<&str> = reply.text.lines().collect();
    assert_eq!(lines.len(), 6, "{}", reply.text);
    let name_grammar = regex::Regex::new(r"^DemoApp-(\d+\.\d+\.\d+)-(full|delta)\.nupkg$").unwrap();
    let mut staged = Vec::new();
    for line in &lines {
        let captures = grammar
            .captures(line)
            .unwrap_or_else(|| panic!("not a RELEASES line: {line:?}"));
        let name = &captures[2];
        let parts = name_grammar
            .captures(name)
            .unwrap_or_else(|| panic!("bad package name {name}"));
        if let Some(percentage) = captures.get(4) {
            staged.push((parts[1].to_string(), percentage.as_str().to_string()));
        }
        assert!(!name.contains("1.3.0"), "paused release listed");
    }
    assert_eq!(
        staged,
        [
            ("1.2.0".to_string(), "30".to_string()),
            ("1.2.0".to_string(), "30".to_string())
        ]
    );

    let download = app
        .anonymous()
        .get("/electron/demo/stable/windows/amd64/DemoApp-1.1.0-delta.nupkg")
        .await;
    assert_eq!(download.status, 302);
    assert_eq!(
        download.headers["location"],
        "https://cdn.example.com/delta-1.1.0"
    );
    assert_eq!(
        app.anonymous()
            .get("/electron/demo/stable/windows/amd64/DemoApp-9.9.9-full.nupkg")
            .await
            .status,
        404
    );
    // Never an empty RELEASES: a 404 with a JSON body instead.
    let none = app
        .anonymous()
        .get("/electron/demo/stable/windows/arm64/RELEASES")
        .await;
    assert_eq!(none.status, 404);
    assert_eq!(none.error_code(), Some("NOT_FOUND"));
}

#[tokio::test]
async fn build_metadata_never_makes_a_different_release() {
    let app = TestApp::new().await;
    create_app(&app, "demo", json!({})).await;
    let zip = |version: &str| {
        json!({"version": version, "platform": "darwin", "architecture": "arm64",
               "files": [{"kind": "zip", "url": format!("https://cdn.example.com/{version}.zip"), "size": 1, "sha256": SHA256}]})
    };
    app.publisher()
        .register("demo", &zip("1.0.0+build.7"))
        .await
        .assert_status(201);
    // Squirrel.Mac installs any 200: a build-metadata twin must not be one.
    let same = app
        .anonymous()
        .get("/electron/demo/stable/darwin/arm64/1.0.0")
        .await;
    assert_eq!(same.status, 204, "{}", same.text);
    for twin in ["1.0.0", "1.0.0+build.8"] {
        let reply = app.publisher().register("demo", &zip(twin)).await;
        assert_eq!(reply.status, 409, "{twin}: {}", reply.text);
    }
    app.publisher()
        .register("demo", &zip("1.0.1"))
        .await
        .assert_status(201);
    let older = app
        .anonymous()
        .get("/electron/demo/stable/darwin/arm64/1.0.0-rc.1")
        .await;
    assert_eq!(older.body["name"], "1.0.1");
}
