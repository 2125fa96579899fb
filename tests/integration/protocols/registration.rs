//! Registration-time checks of protocol releases: signatures against the
//! application's keys, file lists field by field, text that would break a
//! feed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::{create_app, file, signed_file};
use crate::common::{SHA256, TauriKeys, TestApp, sha256_hex, sha512_hex};

#[tokio::test]
async fn registration_checks_signatures_against_the_application_keys() {
    let app = TestApp::new().await;
    let keys = TauriKeys::generate();
    let other = TauriKeys::generate();
    create_app(
        &app,
        "demo",
        json!({"tauri_public_key": keys.tauri_public_key()}),
    )
    .await;
    let bytes = b"payload";
    let base = |files: Value| json!({"version": "2.0.0", "platform": "linux", "architecture": "amd64", "files": files});

    let wrong_key = app
        .publisher()
        .register(
            "demo",
            &base(json!([signed_file(&other, "appimage", "2.0.0", bytes)])),
        )
        .await;
    let message = wrong_key.field_error("files[0].signature");
    assert!(message.contains("different key"), "{message}");

    let replayed = app
        .publisher()
        .register(
            "demo",
            &base(json!([signed_file(&keys, "appimage", "1.9.0", bytes)])),
        )
        .await;
    let message = replayed.field_error("files[0].signature");
    assert!(message.contains("1.9.0"), "{message}");

    let unsigned = app
        .publisher()
        .register(
            "demo",
            &base(json!([file(
                "appimage",
                "https://cdn.example.com/a.AppImage",
                bytes
            )])),
        )
        .await;
    assert!(
        unsigned
            .field_error("files[0].signature")
            .contains("required")
    );

    let mut garbage = signed_file(&keys, "appimage", "2.0.0", bytes);
    garbage["signature"] = json!("not a signature");
    let garbage = app
        .publisher()
        .register("demo", &base(json!([garbage])))
        .await;
    assert_eq!(garbage.status, 422);

    // The single-file form keeps its field names.
    let single = app
        .publisher()
        .register(
            "demo",
            &json!({"version": "2.0.0", "platform": "linux", "architecture": "amd64",
                    "download_url": "https://cdn.example.com/demo.AppImage", "checksum": sha256_hex(bytes),
                    "file_size": bytes.len(), "signature": other.sign(bytes, "demo.AppImage", "2.0.0")}),
        )
        .await;
    assert_eq!(single.status, 422);
    assert!(
        single.body["details"]["signature"].is_string(),
        "{}",
        single.text
    );

    app.publisher()
        .register(
            "demo",
            &base(json!([signed_file(&keys, "appimage", "2.0.0", bytes)])),
        )
        .await
        .assert_status(201);

    // Bad keys are refused when the application is configured.
    let bad_key = app
        .admin()
        .update_app(
            "demo",
            &json!({"config": {"tauri_public_key": "bm90IGEga2V5", "sparkle_public_key": "short"}}),
        )
        .await;
    assert_eq!(bad_key.status, 422);
    assert!(bad_key.body["details"]["config.tauri_public_key"].is_string());
    assert!(bad_key.body["details"]["config.sparkle_public_key"].is_string());
}

#[tokio::test]
async fn file_lists_are_validated_field_by_field() {
    let app = TestApp::new().await;
    create_app(&app, "demo", json!({})).await;
    let reply = app
        .publisher()
        .register(
            "demo",
            &json!({"version": "1.0.0", "platform": "linux", "architecture": "amd64",
                    "download_url": "https://cdn.example.com/a.zip",
                    "files": [
                        {"url": "https://cdn.example.com/download", "size": 1, "sha256": SHA256},
                        {"kind": "zip", "url": "ftp://x/a.zip", "size": 1},
                        {"kind": "appimage", "url": "https://cdn.example.com/a.AppImage", "size": 1, "sha512": "xyz", "sha1": "12"},
                        {"kind": "appimage", "url": "https://cdn.example.com/b.AppImage", "size": 1, "sha256": SHA256, "blockmap_size": 5}
                    ]}),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    let details = reply.body["details"].as_object().unwrap();
    for field in [
        "download_url",
        "files[0].kind",
        "files[1].url",
        "files[1].sha256",
        "files[2].sha512",
        "files[2].sha1",
        "files[3].kind",
        "files[3].blockmap_size",
    ] {
        assert!(
            details.contains_key(field),
            "{field} missing from {details:?}"
        );
    }
    let empty = app
        .publisher()
        .register(
            "demo",
            &json!({"version": "1.0.0", "platform": "linux", "architecture": "amd64", "files": []}),
        )
        .await;
    assert_eq!(empty.status, 422);

    // sha512 in base64 (electron-builder's form) is stored as hex.
    let bytes = b"electron";
    let b64 = STANDARD.encode(hex::decode(sha512_hex(bytes)).unwrap());
    app.publisher()
        .register(
            "demo",
            &json!({"version": "1.0.0", "platform": "linux", "architecture": "amd64", "minimum_system_version": "10.15",
                    "files": [{"url": "https://cdn.example.com/a.AppImage", "size": 8, "sha512": b64}]}),
        )
        .await
        .assert_status(201);
    let listed = app.reader().list_releases("demo", "").await;
    let release = &listed.body["releases"][0];
    assert_eq!(release["files"][0]["kind"], "appimage");
    assert_eq!(release["files"][0]["sha512"], sha512_hex(bytes));
    assert_eq!(release["checksum_type"], "sha512");
    assert_eq!(
        release["download_url"],
        "https://cdn.example.com/a.AppImage"
    );
    assert_eq!(release["minimum_system_version"], "10.15");
}

#[tokio::test]
async fn text_that_would_break_a_feed_is_refused() {
    let app = TestApp::new().await;
    create_app(&app, "demo", json!({})).await;
    let reply = app
        .publisher()
        .register(
            "demo",
            &json!({"version": "1.0.0", "platform": "linux", "architecture": "amd64", "release_notes": "bad \u{ffff} notes",
                    "files": [{"kind": "appimage", "url": "https://cdn.example.com/a b.AppImage", "size": 1, "sha256": SHA256}]}),
        )
        .await;
    assert!(reply.field_error("release_notes").contains("noncharacter"));
    assert!(reply.field_error("files[0].url").contains("whitespace"));
}
