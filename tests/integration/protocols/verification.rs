//! `verify_on_register`: the server downloads every file and checks size,
//! digests and signatures, with a size limit, a timeout and no internal
//! addresses.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer;
use serde_json::{Value, json};

use super::create_app;
use crate::common::{ArtifactServer, SHA256, TauriKeys, TestApp, sha256_hex, test_settings};

/// A plain-HTTP responder that redirects every request to `location`.
async fn redirector(location: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0u8; 2048];
            let _ = socket.read(&mut buffer).await;
            let response = format!(
                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    base
}

#[tokio::test]
async fn verify_on_register_downloads_and_checks_every_file() {
    let mut settings = test_settings();
    settings.security.artifact_verification.max_bytes = 1024;
    settings
        .security
        .artifact_verification
        .allow_private_addresses = true;
    let app = TestApp::with_settings(settings).await;
    let artifacts = ArtifactServer::start().await;
    let keys = TauriKeys::generate();
    let sparkle = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    create_app(
        &app,
        "demo",
        json!({"tauri_public_key": keys.tauri_public_key(),
               "sparkle_public_key": STANDARD.encode(sparkle.verifying_key().to_bytes()),
               "verify_on_register": true}),
    )
    .await;
    let bytes = b"the real artifact".to_vec();
    let url = artifacts.put("demo.AppImage", &bytes);
    let signed = |version: &str, url: &str, data: &[u8]| {
        json!({"kind": "appimage", "url": url, "size": data.len(), "sha256": sha256_hex(data),
               "signature": keys.sign(data, url.rsplit('/').next().unwrap(), version)})
    };
    let release = |version: &str, files: Value| json!({"version": version, "platform": "linux", "architecture": "amd64", "files": files});

    let ok = app
        .publisher()
        .register(
            "demo",
            &release("1.0.0", json!([signed("1.0.0", &url, &bytes)])),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    assert_eq!(ok.body["verified"], true);

    // Signed and hashed bytes that are not what the server sends.
    let mut lie = signed("1.0.1", &url, b"other bytes!!!!!!");
    lie["size"] = json!(bytes.len());
    let tampered = app
        .publisher()
        .register("demo", &release("1.0.1", json!([lie])))
        .await;
    assert_eq!(tampered.status, 422, "{}", tampered.text);
    assert!(
        tampered
            .field_error("files[0].sha256")
            .contains("does not match")
    );

    // Right digest, signature over other bytes: the signature check catches it.
    let mut forged = signed("1.0.2", &url, &bytes);
    forged["signature"] = json!(keys.sign(b"something else", "demo.AppImage", "1.0.2"));
    let forged = app
        .publisher()
        .register("demo", &release("1.0.2", json!([forged])))
        .await;
    assert!(
        forged
            .field_error("files[0].signature")
            .contains("does not verify")
    );

    let mut short = signed("1.0.3", &url, &bytes);
    short["size"] = json!(bytes.len() + 1);
    let short = app
        .publisher()
        .register("demo", &release("1.0.3", json!([short])))
        .await;
    assert!(
        short.body["details"]["files[0].size"].is_string(),
        "{}",
        short.text
    );

    let missing = app
        .publisher()
        .register(
            "demo",
            &release(
                "1.0.4",
                json!([signed(
                    "1.0.4",
                    &format!("{}/files/nope", artifacts.base),
                    &bytes
                )]),
            ),
        )
        .await;
    assert!(missing.field_error("files[0].url").contains("404"));

    let big = vec![1u8; 2048];
    let big_url = artifacts.put("big.AppImage", &big);
    let too_big = app
        .publisher()
        .register(
            "demo",
            &release("1.0.5", json!([signed("1.0.5", &big_url, &big)])),
        )
        .await;
    assert!(too_big.field_error("files[0].size").contains("limit"));

    // Redirects may not leave for plain http on a public host.
    let bounce = redirector("http://cdn.example.com/demo.AppImage").await;
    let redirected = app
        .publisher()
        .register(
            "demo",
            &release(
                "1.0.6",
                json!([signed("1.0.6", &format!("{bounce}/demo.AppImage"), &bytes)]),
            ),
        )
        .await;
    assert_eq!(redirected.status, 422);
    assert!(
        redirected.field_error("files[0].url").contains("https"),
        "{}",
        redirected.text
    );

    // Sparkle: the EdDSA signature is checked over the downloaded archive.
    let mac = b"mac archive".to_vec();
    let mac_url = artifacts.put("demo.zip", &mac);
    let good = STANDARD.encode(sparkle.sign(&mac).to_bytes());
    let bad = STANDARD.encode(sparkle.sign(b"other").to_bytes());
    for (version, signature, expected) in [("3.0.0", &good, 201), ("3.0.1", &bad, 422)] {
        let reply = app
            .publisher()
            .register(
                "demo",
                &json!({"version": version, "platform": "darwin", "architecture": "arm64",
                        "files": [{"kind": "zip", "url": mac_url, "size": mac.len(), "sha256": sha256_hex(&mac), "ed_signature": signature}]}),
            )
            .await;
        assert_eq!(reply.status, expected, "{version}: {}", reply.text);
    }
    let unsigned_mac = app
        .publisher()
        .register(
            "demo",
            &json!({"version": "3.0.2", "platform": "darwin", "architecture": "arm64",
                    "files": [{"kind": "zip", "url": mac_url, "size": mac.len(), "sha256": sha256_hex(&mac)}]}),
        )
        .await;
    assert!(
        unsigned_mac
            .field_error("files[0].ed_signature")
            .contains("required")
    );
}

#[tokio::test]
async fn a_stalled_artifact_download_times_out_with_a_field_error() {
    let mut settings = test_settings();
    settings.security.artifact_verification.timeout = std::time::Duration::from_secs(1);
    settings
        .security
        .artifact_verification
        .allow_private_addresses = true;
    let app = TestApp::with_settings(settings).await;
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stall = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    create_app(&app, "demo", json!({"verify_on_register": true})).await;
    let reply = app
        .publisher()
        .register(
            "demo",
            &json!({"version": "1.0.0", "platform": "linux", "architecture": "amd64",
                    "files": [{"kind": "appimage", "url": format!("http://{addr}/a.AppImage"), "size": 1, "sha256": SHA256}]}),
        )
        .await;
    let message = reply.field_error("files[0].url");
    assert!(message.contains("did not finish within 1s"), "{message}");
    stall.abort();
}

#[tokio::test]
async fn verification_downloads_never_reach_internal_addresses() {
    // The default: only public addresses, so a write key cannot probe the
    // server's own network.
    let app = TestApp::new().await;
    let artifacts = ArtifactServer::start().await;
    create_app(&app, "demo", json!({"verify_on_register": true})).await;
    let bytes = b"internal";
    let loopback = artifacts.put("x.AppImage", bytes);
    let by_name = loopback.replace("127.0.0.1", "localhost");
    for url in [loopback.as_str(), by_name.as_str()] {
        let reply = app
            .publisher()
            .register(
                "demo",
                &json!({"version": "1.0.0", "platform": "linux", "architecture": "amd64",
                        "files": [{"kind": "appimage", "url": url, "size": bytes.len(), "sha256": sha256_hex(bytes)}]}),
            )
            .await;
        assert_eq!(reply.status, 422, "{url}: {}", reply.text);
        let message = reply.field_error("files[0].url");
        assert!(message.contains("public address"), "{url}: {message}");
        assert!(
            !message.contains("404") && !message.contains("bytes"),
            "{message}"
        );
    }
}
