//! Tauri's updater: the dynamic endpoint, the static `latest.json`,
//! channels, staged rollouts and rollback.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::DateTime;
use serde_json::json;

use super::{signed_file, tauri_fixture};

#[tokio::test]
async fn tauri_dynamic_endpoint_offers_the_matching_bundle_or_204() {
    let (app, _keys) = tauri_fixture().await;

    let reply = app
        .anonymous()
        .get("/tauri/demo/stable/linux/x86_64/1.0.0")
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = &reply.body;
    assert_eq!(body["version"], "1.1.0");
    assert_eq!(body["notes"], "Notes for 1.1.0");
    assert_eq!(body["pub_date"], "2026-01-02T03:04:05Z");
    assert!(DateTime::parse_from_rfc3339(body["pub_date"].as_str().unwrap()).is_ok());
    assert_eq!(body["url"], "https://cdn.example.com/demo-1.1.0.appimage");
    assert_eq!(body["format"], "appimage");
    let signature = STANDARD
        .decode(body["signature"].as_str().unwrap())
        .unwrap();
    let text = String::from_utf8(signature).unwrap();
    assert!(
        text.contains(
            "trusted comment: timestamp:1700000000\tfile:demo-1.1.0.appimage\tversion:1.1.0"
        ),
        "{text}"
    );

    // A .deb install is given the .deb, never the AppImage; cargo-packager has no deb format.
    let deb = app
        .anonymous()
        .get("/tauri/demo/stable/linux/x86_64/1.0.0?bundle_type=deb")
        .await;
    assert_eq!(deb.body["url"], "https://cdn.example.com/demo-1.1.0.deb");
    assert!(deb.body.get("format").is_none());
    let rpm = app
        .anonymous()
        .get("/tauri/demo/stable/linux/x86_64/1.0.0?bundle_type=rpm")
        .await;
    assert_eq!(rpm.status, 204, "no rpm was published");

    let mac = app
        .anonymous()
        .get("/tauri/demo/stable/darwin/aarch64/1.0.0")
        .await;
    assert_eq!(mac.body["url"], "https://cdn.example.com/demo-1.1.0.app");
    assert_eq!(mac.body["format"], "app");
    // cargo-packager says `macos`.
    let packager = app
        .anonymous()
        .get("/tauri/demo/stable/macos/aarch64/1.0.0")
        .await;
    assert_eq!(packager.body["version"], "1.1.0");
    let windows = app
        .anonymous()
        .get("/tauri/demo/stable/windows/x86_64/1.0.0")
        .await;
    assert_eq!(windows.body["format"], "nsis");
    let msi = app
        .anonymous()
        .get("/tauri/demo/stable/windows/x86_64/1.0.0?bundle_type=msi")
        .await;
    assert_eq!(msi.body["format"], "wix");

    // Percent-encoded build metadata and a `v` prefix, as Tauri sends them.
    let encoded = app
        .anonymous()
        .get("/tauri/demo/stable/linux/x86_64/1.0.0%2Bbuild.7")
        .await;
    assert_eq!(encoded.body["version"], "1.1.0");
    let prefixed = app
        .anonymous()
        .get("/tauri/demo/stable/linux/x86_64/v1.1.0")
        .await;
    assert_eq!(prefixed.status, 204);

    for uri in [
        "/tauri/demo/stable/linux/x86_64/1.1.0",
        "/tauri/demo/stable/linux/x86_64/9.0.0",
        "/tauri/demo/stable/beos/x86_64/1.0.0",
        "/tauri/demo/stable/linux/mips/1.0.0",
    ] {
        let reply = app.anonymous().get(uri).await;
        assert_eq!(reply.status, 204, "{uri}: {}", reply.text);
        assert!(reply.text.is_empty());
    }
    let bad_version = app
        .anonymous()
        .get("/tauri/demo/stable/linux/x86_64/not-a-version")
        .await;
    assert_eq!(bad_version.status, 422);
    assert!(bad_version.body["details"]["current_version"].is_string());
    let bad_bundle = app
        .anonymous()
        .get("/tauri/demo/stable/linux/x86_64/1.0.0?bundle_type=snap")
        .await;
    assert_eq!(bad_bundle.status, 422);
    let unknown = app
        .anonymous()
        .get("/tauri/nope/stable/linux/x86_64/1.0.0")
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.error_code(), Some("APPLICATION_NOT_FOUND"));
}

#[tokio::test]
async fn channels_are_separate_and_follow_stable() {
    let (app, keys) = tauri_fixture().await;
    let beta = b"beta build";
    app.publisher()
        .register(
            "demo",
            &json!({"version": "1.2.0-beta.1", "platform": "linux", "architecture": "amd64", "channel": "beta",
                    "files": [signed_file(&keys, "appimage", "1.2.0-beta.1", beta)]}),
        )
        .await
        .assert_status(201);
    let on_beta = app
        .anonymous()
        .get("/tauri/demo/beta/linux/x86_64/1.0.0")
        .await;
    assert_eq!(on_beta.body["version"], "1.2.0-beta.1");
    let on_stable = app
        .anonymous()
        .get("/tauri/demo/stable/linux/x86_64/1.0.0")
        .await;
    assert_eq!(on_stable.body["version"], "1.1.0");
    let on_nightly = app
        .anonymous()
        .get("/tauri/demo/nightly/linux/x86_64/1.0.0")
        .await;
    assert_eq!(
        on_nightly.body["version"], "1.1.0",
        "an empty channel follows stable"
    );

    // A newer stable release reaches beta users too.
    let stable = b"stable 1.3";
    app.publisher()
        .register(
            "demo",
            &json!({"version": "1.3.0", "platform": "linux", "architecture": "amd64",
               "files": [signed_file(&keys, "appimage", "1.3.0", stable)]}),
        )
        .await
        .assert_status(201);
    let on_beta = app
        .anonymous()
        .get("/tauri/demo/beta/linux/x86_64/1.2.0-beta.1")
        .await;
    assert_eq!(on_beta.body["version"], "1.3.0");
}

#[tokio::test]
async fn tauri_static_manifest_lists_every_platform_key() {
    let (app, keys) = tauri_fixture().await;
    // A staged release is not in the static file: it cannot tell installs apart.
    let staged = b"staged";
    app.publisher()
        .register(
            "demo",
            &json!({"version": "1.5.0", "platform": "linux", "architecture": "amd64", "rollout_percentage": 50,
                    "files": [signed_file(&keys, "appimage", "1.5.0", staged)]}),
        )
        .await
        .assert_status(201);
    let reply = app.anonymous().get("/tauri/demo/stable/latest.json").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = &reply.body;
    assert_eq!(body["version"], "1.1.0");
    assert_eq!(body["pub_date"], "2026-01-02T03:04:05Z");
    let platforms = body["platforms"].as_object().unwrap();
    let mut keys_listed: Vec<&str> = platforms.keys().map(String::as_str).collect();
    keys_listed.sort_unstable();
    assert_eq!(
        keys_listed,
        [
            "darwin-aarch64",
            "darwin-aarch64-app",
            "linux-x86_64",
            "linux-x86_64-appimage",
            "linux-x86_64-deb",
            "macos-aarch64",
            "windows-x86_64",
            "windows-x86_64-msi",
            "windows-x86_64-nsis",
        ]
    );
    assert_eq!(
        platforms["linux-x86_64"]["url"],
        "https://cdn.example.com/demo-1.1.0.appimage"
    );
    assert_eq!(
        platforms["windows-x86_64"]["url"],
        "https://cdn.example.com/demo-1.1.0.nsis"
    );
    assert_eq!(platforms["windows-x86_64-msi"]["format"], "wix");
    for entry in platforms.values() {
        assert!(
            STANDARD
                .decode(entry["signature"].as_str().unwrap())
                .is_ok()
        );
    }
    // Another channel follows stable until it has something newer.
    let nightly = app.anonymous().get("/tauri/demo/nightly/latest.json").await;
    assert_eq!(nightly.body["version"], "1.1.0");
    assert_eq!(
        app.anonymous()
            .get("/tauri/nope/stable/latest.json")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn staged_rollouts_are_deterministic_per_install() {
    let (app, keys) = tauri_fixture().await;
    app.publisher()
        .register(
            "demo",
            &json!({"version": "2.0.0", "platform": "linux", "architecture": "amd64", "rollout_percentage": 10,
                    "files": [signed_file(&keys, "appimage", "2.0.0", b"two")]}),
        )
        .await
        .assert_status(201);
    let mut admitted = 0;
    let total = 1000;
    for i in 0..total {
        let id = format!("install-{i}");
        let first = app
            .anonymous()
            .get_with(
                "/tauri/demo/stable/linux/x86_64/1.1.0",
                ("x-install-id", &id),
            )
            .await;
        let again = app
            .anonymous()
            .get(&format!(
                "/tauri/demo/stable/linux/x86_64/1.1.0?install_id={id}"
            ))
            .await;
        assert_eq!(first.status, again.status, "{id} got two answers");
        if first.status == 200 {
            assert_eq!(first.body["version"], "2.0.0");
            admitted += 1;
        }
    }
    assert!(
        (70..=130).contains(&admitted),
        "{admitted} of {total} admitted at 10%"
    );
    // Without an id only complete rollouts are offered: the older release.
    let anonymous = app
        .anonymous()
        .get("/tauri/demo/stable/linux/x86_64/1.0.0")
        .await;
    assert_eq!(anonymous.body["version"], "1.1.0");
    app.admin()
        .patch_release(
            "demo",
            "2.0.0/linux/amd64",
            &json!({"rollout_paused": true}),
        )
        .await
        .assert_status(200);
    for i in 0..200 {
        let reply = app
            .anonymous()
            .get_with(
                "/tauri/demo/stable/linux/x86_64/1.1.0",
                ("x-install-id", &format!("install-{i}")),
            )
            .await;
        assert_eq!(reply.status, 204, "paused rollout offered to install-{i}");
    }
}

#[tokio::test]
async fn tauri_rollback_points_installs_on_a_yanked_release_back() {
    let (app, _keys) = tauri_fixture().await;
    app.admin()
        .patch_release("demo", "1.1.0/linux/amd64", &json!({"yanked": true}))
        .await
        .assert_status(200);
    let stuck = app
        .anonymous()
        .get("/tauri/demo/stable/linux/x86_64/1.1.0")
        .await;
    assert_eq!(stuck.status, 200, "{}", stuck.text);
    assert_eq!(
        stuck.body["version"], "1.0.0",
        "allowDowngrades clients go back"
    );
    let older = app
        .anonymous()
        .get("/tauri/demo/stable/linux/x86_64/1.0.0")
        .await;
    assert_eq!(older.status, 204);
}
