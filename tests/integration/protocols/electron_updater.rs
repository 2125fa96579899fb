//! electron-updater's channel files (`latest*.yml`), as electron-builder
//! writes them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::create_app;
use crate::common::{SHA256, TestApp, sha512_hex};

#[tokio::test]
async fn electron_updater_channel_files_match_electron_builder() {
    let app = TestApp::new().await;
    create_app(&app, "demo", json!({})).await;
    let bytes = b"appimage bytes";
    for (version, channel, percentage) in [
        ("1.0.0", "stable", 100),
        ("1.1.0", "stable", 10),
        ("1.2.0-beta.1", "beta", 100),
    ] {
        app.publisher()
            .register(
                "demo",
                &json!({"version": version, "platform": "linux", "architecture": "amd64", "channel": channel,
                        "rollout_percentage": percentage, "release_notes": "Fixes: \"quotes\" & more\nline two",
                        "release_date": "2026-03-04T05:06:07Z", "minimum_system_version": "10.0.17763",
                        "files": [{"kind": "appimage", "url": format!("https://cdn.example.com/Demo-{version}.AppImage"),
                                   "size": bytes.len(), "sha512": sha512_hex(bytes), "blockmap_url": format!("https://cdn.example.com/Demo-{version}.AppImage.blockmap"), "blockmap_size": 321}]}),
            )
            .await
            .assert_status(201);
    }
    for arch in ["arm64", "amd64"] {
        app.publisher()
            .register(
                "demo",
                &json!({"version": "1.0.0", "platform": "darwin", "architecture": arch,
                        "files": [{"kind": "zip", "url": format!("https://cdn.example.com/Demo-1.0.0-{arch}-mac.zip"), "size": 3, "sha256": SHA256},
                                  {"kind": "dmg", "url": format!("https://cdn.example.com/Demo-1.0.0-{arch}.dmg"), "size": 4, "sha512": sha512_hex(b"dmg")}]}),
            )
            .await
            .assert_status(201);
    }

    let reply = app
        .anonymous()
        .get("/electron-updater/demo/latest-linux.yml")
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(
        reply.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/yaml")
    );
    let doc: serde_norway::Value = serde_norway::from_str(&reply.text).unwrap();
    assert_eq!(doc["version"].as_str(), Some("1.1.0"));
    assert_eq!(doc["stagingPercentage"].as_u64(), Some(10));
    let sha512 = doc["files"][0]["sha512"].as_str().unwrap();
    assert_eq!(sha512.len(), 88);
    assert_eq!(
        hex::encode(STANDARD.decode(sha512).unwrap()),
        sha512_hex(bytes)
    );
    assert_eq!(doc["files"][0]["size"].as_u64(), Some(bytes.len() as u64));
    assert_eq!(doc["files"][0]["blockMapSize"].as_u64(), Some(321));
    assert_eq!(
        doc["path"].as_str(),
        Some("https://cdn.example.com/Demo-1.1.0.AppImage")
    );
    assert_eq!(doc["sha512"].as_str(), Some(sha512));
    // Quoted, so YAML loaders keep it a string rather than a timestamp.
    assert!(
        reply
            .text
            .contains("releaseDate: \"2026-03-04T05:06:07.000Z\"\n"),
        "{}",
        reply.text
    );
    assert_eq!(
        doc["releaseNotes"].as_str(),
        Some("Fixes: \"quotes\" & more\nline two")
    );
    assert_eq!(doc["minimumSystemVersion"].as_str(), Some("10.0.17763"));

    // With a staging id the server applies electron-updater's own rule.
    let out = app
        .anonymous()
        .get_with(
            "/electron-updater/demo/latest-linux.yml",
            ("x-user-staging-id", "12345678-1234-4234-8234-ffffffffffff"),
        )
        .await;
    assert!(out.text.starts_with("version: \"1.0.0\"\n"), "{}", out.text);
    assert!(!out.text.contains("stagingPercentage"));
    let inside = app
        .anonymous()
        .get_with(
            "/electron-updater/demo/latest-linux.yml",
            ("x-user-staging-id", "12345678-1234-4234-8234-000000000001"),
        )
        .await;
    assert!(
        inside.text.starts_with("version: \"1.1.0\"\n"),
        "{}",
        inside.text
    );

    let beta = app
        .anonymous()
        .get("/electron-updater/demo/beta-linux.yml")
        .await;
    assert!(
        beta.text.starts_with("version: \"1.2.0-beta.1\"\n"),
        "{}",
        beta.text
    );

    let mac: serde_norway::Value = serde_norway::from_str(
        &app.anonymous()
            .get("/electron-updater/demo/latest-mac.yml")
            .await
            .text,
    )
    .unwrap();
    let urls: Vec<&str> = mac["files"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|f| f["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls.len(), 4, "zip and dmg of both architectures: {urls:?}");
    assert!(urls.iter().any(|u| u.contains("arm64")) && urls.iter().any(|u| u.contains("amd64")));
    assert!(
        mac["files"][0].get("sha2").is_some(),
        "SHA-256 only: electron-updater's sha2 fallback"
    );

    for missing in [
        "/electron-updater/demo/latest.yml",
        "/electron-updater/demo/latest-linux-arm64.yml",
        "/electron-updater/demo/notes.txt",
        "/electron-updater/nope/latest.yml",
    ] {
        let reply = app.anonymous().get(missing).await;
        assert_eq!(reply.status, 404, "{missing}");
        assert!(reply.error_code().unwrap().ends_with("NOT_FOUND"));
    }
}

#[tokio::test]
async fn electron_updater_never_mixes_architectures_or_loses_the_file() {
    let app = TestApp::new().await;
    create_app(&app, "demo", json!({})).await;
    let exe = |version: &str, arch: &str, percentage: u8| {
        json!({"version": version, "platform": "windows", "architecture": arch, "rollout_percentage": percentage,
               "files": [{"kind": "nsis", "url": format!("https://cdn.example.com/Setup-{version}-{arch}.exe"), "size": 1, "sha512": sha512_hex(b"x")}]})
    };
    app.publisher()
        .register("demo", &exe("1.0.0", "amd64", 100))
        .await
        .assert_status(201);
    app.publisher()
        .register("demo", &exe("1.0.0", "arm64", 100))
        .await
        .assert_status(201);
    app.publisher()
        .register("demo", &exe("1.1.0", "arm64", 100))
        .await
        .assert_status(201);
    let yml = app
        .anonymous()
        .get("/electron-updater/demo/latest.yml")
        .await;
    assert!(yml.text.starts_with("version: \"1.0.0\"\n"), "{}", yml.text);
    assert!(
        yml.text.contains("Setup-1.0.0-amd64.exe") && yml.text.contains("Setup-1.0.0-arm64.exe")
    );
    assert!(!yml.text.contains("1.1.0"));

    // Only a paused release: still a channel file, which the client declines.
    create_app(&app, "paused", json!({})).await;
    app.publisher()
        .register("paused", &exe("1.0.0", "amd64", 100))
        .await
        .assert_status(201);
    app.admin()
        .patch_release(
            "paused",
            "1.0.0/windows/amd64",
            &json!({"rollout_paused": true}),
        )
        .await
        .assert_status(200);
    let paused = app
        .anonymous()
        .get("/electron-updater/paused/latest.yml")
        .await;
    assert_eq!(paused.status, 200);
    assert!(
        paused.text.contains("stagingPercentage: 0\n"),
        "{}",
        paused.text
    );
}
