//! The trusted comment's `file:` against the registered file's name: a
//! signature made for one file cannot be registered for another.

use serde_json::{Value, json};

use super::{file, tauri_app};
use crate::common::{TauriKeys, sha256_hex};

const BYTES: &[u8] = b"bundle";

/// A macOS bundle at `url` signed with the comment `tauri signer sign`
/// writes when not told the version: `timestamp:<unix>\tfile:<name>`.
fn signed_as(keys: &TauriKeys, url: &str, signed_name: &str) -> Value {
    let mut bundle = file("app", url, BYTES);
    bundle["signature"] =
        json!(keys.sign_with_comment(BYTES, &format!("timestamp:1700000000\tfile:{signed_name}")));
    bundle
}

fn release(version: &str, bundle: Value) -> Value {
    json!({"version": version, "platform": "darwin", "architecture": "arm64", "files": [bundle]})
}

#[tokio::test]
async fn a_signature_made_for_another_file_is_refused_naming_both() {
    let (app, keys) = tauri_app().await;
    let refused = app
        .publisher()
        .register(
            "demo",
            &release(
                "2.0.0",
                signed_as(&keys, "https://cdn.example.com/app.tar.gz", "other.tar.gz"),
            ),
        )
        .await;
    let message = refused.field_error("files[0].signature");
    assert!(
        message.contains("other.tar.gz") && message.contains("app.tar.gz"),
        "{message}"
    );

    // The single-file form reports it under its own field.
    let single = app
        .publisher()
        .register(
            "demo",
            &json!({"version": "2.0.0", "platform": "darwin", "architecture": "arm64",
                    "download_url": "https://cdn.example.com/app.tar.gz", "checksum": sha256_hex(BYTES),
                    "file_size": BYTES.len(),
                    "signature": keys.sign_with_comment(BYTES, "timestamp:1700000000\tfile:other.tar.gz")}),
        )
        .await;
    assert!(single.field_error("signature").contains("not app.tar.gz"));
}

#[tokio::test]
async fn a_signature_for_the_registered_file_is_accepted() {
    let (app, keys) = tauri_app().await;
    app.publisher()
        .register(
            "demo",
            &release(
                "2.0.0",
                signed_as(&keys, "https://cdn.example.com/app.tar.gz", "app.tar.gz"),
            ),
        )
        .await
        .assert_status(201);
}

#[tokio::test]
async fn names_are_compared_as_published() {
    let (app, keys) = tauri_app().await;
    let cases = [
        // Percent-decoded, and without query or fragment.
        (
            "2.0.0",
            "https://cdn.example.com/My%20App.app.tar.gz?expires=1",
            "My App.app.tar.gz",
        ),
        // GitHub's asset name for it, with tauri-action's `_<version>_<arch>`.
        (
            "2.0.1",
            "https://github.com/o/r/releases/download/v2.0.1/My.App_2.0.1_aarch64.app.tar.gz",
            "My App.app.tar.gz",
        ),
    ];
    for (version, url, signed_name) in cases {
        app.publisher()
            .register(
                "demo",
                &release(version, signed_as(&keys, url, signed_name)),
            )
            .await
            .assert_status(201);
    }
    // tauri-action's insertion is allowed only into a macOS bundle's name.
    let renamed = app
        .publisher()
        .register(
            "demo",
            &release(
                "2.0.2",
                signed_as(
                    &keys,
                    "https://cdn.example.com/Demo_2.0.2_amd64.AppImage",
                    "Demo.AppImage",
                ),
            ),
        )
        .await;
    assert!(
        renamed
            .field_error("files[0].signature")
            .contains("Demo.AppImage")
    );
}
