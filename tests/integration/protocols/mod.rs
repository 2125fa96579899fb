//! The client protocols' wire formats, checked against the documented
//! formats with strict parsers, plus registration-time signature checks.

mod caching;
mod electron_updater;
mod feeds;
mod registration;
mod signed_names;
mod sparkle;
mod squirrel;
mod tauri;
mod universal;
mod velopack;
mod verification;

use serde_json::{Value, json};

use crate::common::{TauriKeys, TestApp, sha256_hex, sha512_hex};

/// Creates application `id` on linux, windows and darwin with `config`.
async fn create_app(app: &TestApp, id: &str, config: Value) {
    app.admin()
        .create_app(&json!({"id": id, "name": format!("App {id}"), "platforms": ["linux", "windows", "darwin"], "config": config}))
        .await
        .assert_status(201);
}

fn file(kind: &str, url: &str, bytes: &[u8]) -> Value {
    json!({"kind": kind, "url": url, "size": bytes.len(), "sha256": sha256_hex(bytes), "sha512": sha512_hex(bytes)})
}

fn signed_file(keys: &TauriKeys, kind: &str, version: &str, bytes: &[u8]) -> Value {
    let name = format!("demo-{version}.{kind}");
    let mut f = file(kind, &format!("https://cdn.example.com/{name}"), bytes);
    f["signature"] = json!(keys.sign(bytes, &name, version));
    f
}

/// An application `demo` that checks Tauri signatures, with no releases.
async fn tauri_app() -> (TestApp, TauriKeys) {
    let app = TestApp::new().await;
    let keys = TauriKeys::generate();
    create_app(
        &app,
        "demo",
        json!({"tauri_public_key": keys.tauri_public_key()}),
    )
    .await;
    (app, keys)
}

/// A Tauri application with 1.0.0 and 1.1.0 on linux/amd64 (AppImage and
/// deb), darwin/arm64 (app) and windows/amd64 (NSIS and MSI).
async fn tauri_fixture() -> (TestApp, TauriKeys) {
    let (app, keys) = tauri_app().await;
    for version in ["1.0.0", "1.1.0"] {
        let bytes = format!("artifact {version}").into_bytes();
        for (platform, arch, kinds) in [
            ("linux", "amd64", vec!["appimage", "deb"]),
            ("darwin", "arm64", vec!["app"]),
            ("windows", "amd64", vec!["nsis", "msi"]),
        ] {
            let files: Vec<Value> = kinds
                .iter()
                .map(|k| signed_file(&keys, k, version, &bytes))
                .collect();
            app.publisher()
                .register(
                    "demo",
                    &json!({"version": version, "platform": platform, "architecture": arch,
                            "release_notes": format!("Notes for {version}"),
                            "release_date": "2026-01-02T03:04:05.678Z", "files": files}),
                )
                .await
                .assert_status(201);
        }
    }
    (app, keys)
}
