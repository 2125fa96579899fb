//! The client protocols' wire formats, checked against the documented
//! formats with strict parsers, plus registration-time signature checks.

mod common;

use axum::Router;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use common::*;
use ed25519_dalek::Signer;
use serde_json::{Value, json};

const SPARKLE_NS: &str = "http://www.andymatuschak.org/xml-namespaces/sparkle";

async fn create_app(router: &Router, id: &str, config: Value) {
    let reply = call(
        router,
        "POST",
        "/api/v1/applications",
        Some(ADMIN_KEY),
        Some(json!({"id": id, "name": format!("App {id}"), "platforms": ["linux", "windows", "darwin"], "config": config})),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
}

async fn register(router: &Router, app: &str, body: Value) -> Reply {
    call(
        router,
        "POST",
        &format!("/api/v1/updates/{app}/register"),
        Some(WRITE_KEY),
        Some(body),
    )
    .await
}

async fn register_ok(router: &Router, app: &str, body: Value) {
    let reply = register(router, app, body).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
}

async fn patch(router: &Router, app: &str, release: &str, body: Value) {
    let reply = call(
        router,
        "PATCH",
        &format!("/api/v1/updates/{app}/releases/{release}"),
        Some(ADMIN_KEY),
        Some(body),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

async fn get(router: &Router, uri: &str) -> Reply {
    call(router, "GET", uri, None, None).await
}

async fn get_with(router: &Router, uri: &str, header: (&str, &str)) -> Reply {
    let request = axum::http::Request::builder()
        .uri(uri)
        .header(header.0, header.1)
        .body(axum::body::Body::empty())
        .unwrap();
    send(router, request).await
}

/// The message of a 422 for `field`, failing when the reply is anything else.
fn field_error<'a>(reply: &'a Reply, field: &str) -> &'a str {
    assert_eq!(reply.status, 422, "{}", reply.text);
    reply.body["details"][field]
        .as_str()
        .unwrap_or_else(|| panic!("no error for {field}: {}", reply.text))
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

/// A Tauri application with 1.0.0 and 1.1.0 on linux/amd64 (AppImage and
/// deb), darwin/arm64 (app) and windows/amd64 (NSIS and MSI).
async fn tauri_fixture() -> (Router, TauriKeys) {
    let router = router().await;
    let keys = TauriKeys::generate();
    create_app(
        &router,
        "demo",
        json!({"tauri_public_key": keys.tauri_public_key()}),
    )
    .await;
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
            register_ok(
                &router,
                "demo",
                json!({"version": version, "platform": platform, "architecture": arch,
                       "release_notes": format!("Notes for {version}"),
                       "release_date": "2026-01-02T03:04:05.678Z", "files": files}),
            )
            .await;
        }
    }
    (router, keys)
}

#[tokio::test]
async fn tauri_dynamic_endpoint_offers_the_matching_bundle_or_204() {
    let (router, _keys) = tauri_fixture().await;

    let reply = get(&router, "/tauri/demo/stable/linux/x86_64/1.0.0").await;
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
    let deb = get(
        &router,
        "/tauri/demo/stable/linux/x86_64/1.0.0?bundle_type=deb",
    )
    .await;
    assert_eq!(deb.body["url"], "https://cdn.example.com/demo-1.1.0.deb");
    assert!(deb.body.get("format").is_none());
    let rpm = get(
        &router,
        "/tauri/demo/stable/linux/x86_64/1.0.0?bundle_type=rpm",
    )
    .await;
    assert_eq!(rpm.status, 204, "no rpm was published");

    let mac = get(&router, "/tauri/demo/stable/darwin/aarch64/1.0.0").await;
    assert_eq!(mac.body["url"], "https://cdn.example.com/demo-1.1.0.app");
    assert_eq!(mac.body["format"], "app");
    // cargo-packager says `macos`.
    let packager = get(&router, "/tauri/demo/stable/macos/aarch64/1.0.0").await;
    assert_eq!(packager.body["version"], "1.1.0");
    let windows = get(&router, "/tauri/demo/stable/windows/x86_64/1.0.0").await;
    assert_eq!(windows.body["format"], "nsis");
    let msi = get(
        &router,
        "/tauri/demo/stable/windows/x86_64/1.0.0?bundle_type=msi",
    )
    .await;
    assert_eq!(msi.body["format"], "wix");

    // Percent-encoded build metadata and a `v` prefix, as Tauri sends them.
    let encoded = get(&router, "/tauri/demo/stable/linux/x86_64/1.0.0%2Bbuild.7").await;
    assert_eq!(encoded.body["version"], "1.1.0");
    let prefixed = get(&router, "/tauri/demo/stable/linux/x86_64/v1.1.0").await;
    assert_eq!(prefixed.status, 204);

    for uri in [
        "/tauri/demo/stable/linux/x86_64/1.1.0",
        "/tauri/demo/stable/linux/x86_64/9.0.0",
        "/tauri/demo/stable/beos/x86_64/1.0.0",
        "/tauri/demo/stable/linux/mips/1.0.0",
    ] {
        let reply = get(&router, uri).await;
        assert_eq!(reply.status, 204, "{uri}: {}", reply.text);
        assert!(reply.text.is_empty());
    }
    let bad_version = get(&router, "/tauri/demo/stable/linux/x86_64/not-a-version").await;
    assert_eq!(bad_version.status, 422);
    assert!(bad_version.body["details"]["current_version"].is_string());
    let bad_bundle = get(
        &router,
        "/tauri/demo/stable/linux/x86_64/1.0.0?bundle_type=snap",
    )
    .await;
    assert_eq!(bad_bundle.status, 422);
    let unknown = get(&router, "/tauri/nope/stable/linux/x86_64/1.0.0").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body["code"], "APPLICATION_NOT_FOUND");
}

#[tokio::test]
async fn channels_are_separate_and_follow_stable() {
    let (router, keys) = tauri_fixture().await;
    let beta = b"beta build";
    register_ok(
        &router,
        "demo",
        json!({"version": "1.2.0-beta.1", "platform": "linux", "architecture": "amd64", "channel": "beta",
               "files": [signed_file(&keys, "appimage", "1.2.0-beta.1", beta)]}),
    )
    .await;
    let on_beta = get(&router, "/tauri/demo/beta/linux/x86_64/1.0.0").await;
    assert_eq!(on_beta.body["version"], "1.2.0-beta.1");
    let on_stable = get(&router, "/tauri/demo/stable/linux/x86_64/1.0.0").await;
    assert_eq!(on_stable.body["version"], "1.1.0");
    let on_nightly = get(&router, "/tauri/demo/nightly/linux/x86_64/1.0.0").await;
    assert_eq!(
        on_nightly.body["version"], "1.1.0",
        "an empty channel follows stable"
    );

    // A newer stable release reaches beta users too.
    let stable = b"stable 1.3";
    register_ok(
        &router,
        "demo",
        json!({"version": "1.3.0", "platform": "linux", "architecture": "amd64",
               "files": [signed_file(&keys, "appimage", "1.3.0", stable)]}),
    )
    .await;
    let on_beta = get(&router, "/tauri/demo/beta/linux/x86_64/1.2.0-beta.1").await;
    assert_eq!(on_beta.body["version"], "1.3.0");
}

#[tokio::test]
async fn tauri_static_manifest_lists_every_platform_key() {
    let (router, keys) = tauri_fixture().await;
    // A staged release is not in the static file: it cannot tell installs apart.
    let staged = b"staged";
    register_ok(
        &router,
        "demo",
        json!({"version": "1.5.0", "platform": "linux", "architecture": "amd64", "rollout_percentage": 50,
               "files": [signed_file(&keys, "appimage", "1.5.0", staged)]}),
    )
    .await;
    let reply = get(&router, "/tauri/demo/stable/latest.json").await;
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
    let nightly = get(&router, "/tauri/demo/nightly/latest.json").await;
    assert_eq!(nightly.body["version"], "1.1.0");
    assert_eq!(
        get(&router, "/tauri/nope/stable/latest.json").await.status,
        404
    );
}

#[tokio::test]
async fn registration_checks_signatures_against_the_application_keys() {
    let router = router().await;
    let keys = TauriKeys::generate();
    let other = TauriKeys::generate();
    create_app(
        &router,
        "demo",
        json!({"tauri_public_key": keys.tauri_public_key()}),
    )
    .await;
    let bytes = b"payload";
    let base = |files: Value| json!({"version": "2.0.0", "platform": "linux", "architecture": "amd64", "files": files});

    let wrong_key = register(
        &router,
        "demo",
        base(json!([signed_file(&other, "appimage", "2.0.0", bytes)])),
    )
    .await;
    let message = field_error(&wrong_key, "files[0].signature");
    assert!(message.contains("different key"), "{message}");

    let replayed = register(
        &router,
        "demo",
        base(json!([signed_file(&keys, "appimage", "1.9.0", bytes)])),
    )
    .await;
    let message = field_error(&replayed, "files[0].signature");
    assert!(message.contains("1.9.0"), "{message}");

    let unsigned = register(
        &router,
        "demo",
        base(json!([file(
            "appimage",
            "https://cdn.example.com/a.AppImage",
            bytes
        )])),
    )
    .await;
    assert!(field_error(&unsigned, "files[0].signature").contains("required"));

    let mut garbage = signed_file(&keys, "appimage", "2.0.0", bytes);
    garbage["signature"] = json!("not a signature");
    let garbage = register(&router, "demo", base(json!([garbage]))).await;
    assert_eq!(garbage.status, 422);

    // The single-file form keeps its field names.
    let single = register(
        &router,
        "demo",
        json!({"version": "2.0.0", "platform": "linux", "architecture": "amd64",
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

    register_ok(
        &router,
        "demo",
        base(json!([signed_file(&keys, "appimage", "2.0.0", bytes)])),
    )
    .await;

    // Bad keys are refused when the application is configured.
    let bad_key = call(
        &router,
        "PUT",
        "/api/v1/applications/demo",
        Some(ADMIN_KEY),
        Some(
            json!({"config": {"tauri_public_key": "bm90IGEga2V5", "sparkle_public_key": "short"}}),
        ),
    )
    .await;
    assert_eq!(bad_key.status, 422);
    assert!(bad_key.body["details"]["config.tauri_public_key"].is_string());
    assert!(bad_key.body["details"]["config.sparkle_public_key"].is_string());
}

#[tokio::test]
async fn file_lists_are_validated_field_by_field() {
    let router = router().await;
    create_app(&router, "demo", json!({})).await;
    let reply = register(
        &router,
        "demo",
        json!({"version": "1.0.0", "platform": "linux", "architecture": "amd64",
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
    let empty = register(
        &router,
        "demo",
        json!({"version": "1.0.0", "platform": "linux", "architecture": "amd64", "files": []}),
    )
    .await;
    assert_eq!(empty.status, 422);

    // sha512 in base64 (electron-builder's form) is stored as hex.
    let bytes = b"electron";
    let b64 = STANDARD.encode(hex::decode(sha512_hex(bytes)).unwrap());
    register_ok(
        &router,
        "demo",
        json!({"version": "1.0.0", "platform": "linux", "architecture": "amd64", "minimum_system_version": "10.15",
               "files": [{"url": "https://cdn.example.com/a.AppImage", "size": 8, "sha512": b64}]}),
    )
    .await;
    let listed = call(
        &router,
        "GET",
        "/api/v1/updates/demo/releases",
        Some(READ_KEY),
        None,
    )
    .await;
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
    let router = router_with(settings).await;
    let artifacts = ArtifactServer::start().await;
    let keys = TauriKeys::generate();
    let sparkle = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    create_app(
        &router,
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
               "signature": keys.sign(data, "demo.AppImage", version)})
    };
    let release = |version: &str, files: Value| json!({"version": version, "platform": "linux", "architecture": "amd64", "files": files});

    let ok = register(
        &router,
        "demo",
        release("1.0.0", json!([signed("1.0.0", &url, &bytes)])),
    )
    .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    assert_eq!(ok.body["verified"], true);

    // Signed and hashed bytes that are not what the server sends.
    let mut lie = signed("1.0.1", &url, b"other bytes!!!!!!");
    lie["size"] = json!(bytes.len());
    let tampered = register(&router, "demo", release("1.0.1", json!([lie]))).await;
    assert_eq!(tampered.status, 422, "{}", tampered.text);
    assert!(field_error(&tampered, "files[0].sha256").contains("does not match"));

    // Right digest, signature over other bytes: the signature check catches it.
    let mut forged = signed("1.0.2", &url, &bytes);
    forged["signature"] = json!(keys.sign(b"something else", "demo.AppImage", "1.0.2"));
    let forged = register(&router, "demo", release("1.0.2", json!([forged]))).await;
    assert!(field_error(&forged, "files[0].signature").contains("does not verify"));

    let mut short = signed("1.0.3", &url, &bytes);
    short["size"] = json!(bytes.len() + 1);
    let short = register(&router, "demo", release("1.0.3", json!([short]))).await;
    assert!(
        short.body["details"]["files[0].size"].is_string(),
        "{}",
        short.text
    );

    let missing = register(
        &router,
        "demo",
        release(
            "1.0.4",
            json!([signed(
                "1.0.4",
                &format!("{}/files/nope", artifacts.base),
                &bytes
            )]),
        ),
    )
    .await;
    assert!(field_error(&missing, "files[0].url").contains("404"));

    let big = vec![1u8; 2048];
    let big_url = artifacts.put("big.AppImage", &big);
    let too_big = register(
        &router,
        "demo",
        release("1.0.5", json!([signed("1.0.5", &big_url, &big)])),
    )
    .await;
    assert!(field_error(&too_big, "files[0].size").contains("limit"));

    // Redirects may not leave for plain http on a public host.
    let bounce = redirector("http://cdn.example.com/demo.AppImage").await;
    let redirected = register(
        &router,
        "demo",
        release(
            "1.0.6",
            json!([signed("1.0.6", &format!("{bounce}/demo.AppImage"), &bytes)]),
        ),
    )
    .await;
    assert_eq!(redirected.status, 422);
    assert!(
        field_error(&redirected, "files[0].url").contains("https"),
        "{}",
        redirected.text
    );

    // Sparkle: the EdDSA signature is checked over the downloaded archive.
    let mac = b"mac archive".to_vec();
    let mac_url = artifacts.put("demo.zip", &mac);
    let good = STANDARD.encode(sparkle.sign(&mac).to_bytes());
    let bad = STANDARD.encode(sparkle.sign(b"other").to_bytes());
    for (version, signature, expected) in [("3.0.0", &good, 201), ("3.0.1", &bad, 422)] {
        let reply = register(
            &router,
            "demo",
            json!({"version": version, "platform": "darwin", "architecture": "arm64",
                   "files": [{"kind": "zip", "url": mac_url, "size": mac.len(), "sha256": sha256_hex(&mac), "ed_signature": signature}]}),
        )
        .await;
        assert_eq!(reply.status, expected, "{version}: {}", reply.text);
    }
    let unsigned_mac = register(
        &router,
        "demo",
        json!({"version": "3.0.2", "platform": "darwin", "architecture": "arm64",
               "files": [{"kind": "zip", "url": mac_url, "size": mac.len(), "sha256": sha256_hex(&mac)}]}),
    )
    .await;
    assert!(field_error(&unsigned_mac, "files[0].ed_signature").contains("required"));
}

#[tokio::test]
async fn a_stalled_artifact_download_times_out_with_a_field_error() {
    let mut settings = test_settings();
    settings.security.artifact_verification.timeout = std::time::Duration::from_secs(1);
    settings
        .security
        .artifact_verification
        .allow_private_addresses = true;
    let router = router_with(settings).await;
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stall = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    create_app(&router, "demo", json!({"verify_on_register": true})).await;
    let reply = register(
        &router,
        "demo",
        json!({"version": "1.0.0", "platform": "linux", "architecture": "amd64",
               "files": [{"kind": "appimage", "url": format!("http://{addr}/a.AppImage"), "size": 1, "sha256": SHA256}]}),
    )
    .await;
    let message = field_error(&reply, "files[0].url");
    assert!(message.contains("did not finish within 1s"), "{message}");
    stall.abort();
}

#[tokio::test]
async fn verification_downloads_never_reach_internal_addresses() {
    // The default: only public addresses, so a write key cannot probe the
    // server's own network.
    let router = router().await;
    let artifacts = ArtifactServer::start().await;
    create_app(&router, "demo", json!({"verify_on_register": true})).await;
    let bytes = b"internal";
    let loopback = artifacts.put("x.AppImage", bytes);
    let by_name = loopback.replace("127.0.0.1", "localhost");
    for url in [loopback.as_str(), by_name.as_str()] {
        let reply = register(
            &router,
            "demo",
            json!({"version": "1.0.0", "platform": "linux", "architecture": "amd64",
                   "files": [{"kind": "appimage", "url": url, "size": bytes.len(), "sha256": sha256_hex(bytes)}]}),
        )
        .await;
        assert_eq!(reply.status, 422, "{url}: {}", reply.text);
        let message = field_error(&reply, "files[0].url");
        assert!(message.contains("public address"), "{url}: {message}");
        assert!(
            !message.contains("404") && !message.contains("bytes"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn staged_rollouts_are_deterministic_per_install() {
    let (router, keys) = tauri_fixture().await;
    register_ok(
        &router,
        "demo",
        json!({"version": "2.0.0", "platform": "linux", "architecture": "amd64", "rollout_percentage": 10,
               "files": [signed_file(&keys, "appimage", "2.0.0", b"two")]}),
    )
    .await;
    let mut admitted = 0;
    let total = 1000;
    for i in 0..total {
        let id = format!("install-{i}");
        let first = get_with(
            &router,
            "/tauri/demo/stable/linux/x86_64/1.1.0",
            ("x-install-id", &id),
        )
        .await;
        let again = get(
            &router,
            &format!("/tauri/demo/stable/linux/x86_64/1.1.0?install_id={id}"),
        )
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
    let anonymous = get(&router, "/tauri/demo/stable/linux/x86_64/1.0.0").await;
    assert_eq!(anonymous.body["version"], "1.1.0");
    patch(
        &router,
        "demo",
        "2.0.0/linux/amd64",
        json!({"rollout_paused": true}),
    )
    .await;
    for i in 0..200 {
        let reply = get_with(
            &router,
            "/tauri/demo/stable/linux/x86_64/1.1.0",
            ("x-install-id", &format!("install-{i}")),
        )
        .await;
        assert_eq!(reply.status, 204, "paused rollout offered to install-{i}");
    }
}

#[tokio::test]
async fn a_yanked_release_is_replaced_and_rolled_back_where_clients_can_downgrade() {
    let router = router().await;
    create_app(&router, "demo", json!({})).await;
    for version in ["1.0.0", "1.1.0"] {
        let bytes = format!("v{version}").into_bytes();
        for (platform, arch, files) in [
            (
                "linux",
                "amd64",
                json!([file(
                    "appimage",
                    &format!("https://cdn.example.com/demo-{version}.AppImage"),
                    &bytes
                )]),
            ),
            (
                "darwin",
                "arm64",
                json!([file(
                    "zip",
                    &format!("https://cdn.example.com/demo-{version}-mac.zip"),
                    &bytes
                )]),
            ),
            (
                "windows",
                "amd64",
                json!([{"kind": "nupkg", "url": format!("https://cdn.example.com/Demo-{version}-full.nupkg"),
                                          "size": bytes.len(), "sha256": sha256_hex(&bytes), "sha1": "a".repeat(40)}]),
            ),
        ] {
            let mut files = files;
            files[0]["signature"] = json!(null);
            files[0].as_object_mut().unwrap().remove("signature");
            register_ok(&router, "demo", json!({"version": version, "platform": platform, "architecture": arch, "files": files})).await;
        }
    }
    for target in ["linux/amd64", "darwin/arm64", "windows/amd64"] {
        patch(
            &router,
            "demo",
            &format!("1.1.0/{target}"),
            json!({"yanked": true, "yank_reason": "crashes on start"}),
        )
        .await;
    }
    let stats = call(
        &router,
        "GET",
        "/api/v1/applications/demo",
        Some(READ_KEY),
        None,
    )
    .await;
    assert_eq!(
        stats.body["stats"]["latest_version"], "1.0.0",
        "{}",
        stats.text
    );
    // Nobody is offered the yanked release.
    let squirrel = get(&router, "/electron/demo/stable/darwin/arm64/1.0.0").await;
    assert_eq!(squirrel.status, 204);
    // Squirrel.Mac installs whatever a 200 names: installs on 1.1.0 go back.
    let back = get(&router, "/electron/demo/stable/darwin/arm64/1.1.0").await;
    assert_eq!(back.status, 200);
    assert_eq!(back.body["name"], "1.0.0");
    assert_eq!(
        back.body["url"],
        "https://cdn.example.com/demo-1.0.0-mac.zip"
    );
    // electron-updater and Velopack see 1.0.0 as the newest (downgrade when allowed).
    let yml = get(&router, "/electron-updater/demo/latest-linux.yml").await;
    assert!(yml.text.starts_with("version: \"1.0.0\"\n"), "{}", yml.text);
    let feed = get(&router, "/velopack/demo/windows/x64/releases.win.json").await;
    let versions: Vec<&str> = feed.body["Assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["Version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["1.0.0"]);
    let releases = get(&router, "/electron/demo/stable/windows/amd64/RELEASES").await;
    assert_eq!(releases.status, 200);
    assert!(
        releases.text.contains("demo-1.0.0-full.nupkg"),
        "{}",
        releases.text
    );
    assert!(!releases.text.contains("1.1.0"));
    let appcast = get(&router, "/sparkle/demo/darwin/arm64/appcast.xml").await;
    assert_eq!(appcast.status, 200);
    assert!(
        appcast
            .text
            .contains("<sparkle:version>1.0.0</sparkle:version>")
    );
    assert!(!appcast.text.contains("1.1.0"));
}

#[tokio::test]
async fn tauri_rollback_points_installs_on_a_yanked_release_back() {
    let (router, _keys) = tauri_fixture().await;
    patch(
        &router,
        "demo",
        "1.1.0/linux/amd64",
        json!({"yanked": true}),
    )
    .await;
    let stuck = get(&router, "/tauri/demo/stable/linux/x86_64/1.1.0").await;
    assert_eq!(stuck.status, 200, "{}", stuck.text);
    assert_eq!(
        stuck.body["version"], "1.0.0",
        "allowDowngrades clients go back"
    );
    let older = get(&router, "/tauri/demo/stable/linux/x86_64/1.0.0").await;
    assert_eq!(older.status, 204);
}

#[tokio::test]
async fn squirrel_windows_releases_follow_the_line_grammar() {
    let router = router().await;
    create_app(&router, "demo", json!({})).await;
    for (version, percentage) in [
        ("1.0.0", 100),
        ("1.1.0", 100),
        ("1.2.0", 30),
        ("1.3.0", 100),
    ] {
        let full = format!("full {version}").into_bytes();
        let delta = format!("delta {version}").into_bytes();
        register_ok(
            &router,
            "demo",
            json!({"version": version, "platform": "windows", "architecture": "amd64", "rollout_percentage": percentage,
                   "files": [
                       {"kind": "nupkg", "url": format!("https://cdn.example.com/full-{version}"), "size": full.len(), "sha256": sha256_hex(&full), "sha1": "ab".repeat(20)},
                       {"kind": "nupkg_delta", "url": format!("https://cdn.example.com/delta-{version}"), "size": delta.len(), "sha256": sha256_hex(&delta), "sha1": "cd".repeat(20)},
                       {"kind": "nsis", "url": format!("https://cdn.example.com/Setup-{version}.exe"), "size": 1, "sha512": sha512_hex(b"x")}
                   ]}),
        )
        .await;
    }
    patch(
        &router,
        "demo",
        "1.3.0/windows/amd64",
        json!({"rollout_paused": true}),
    )
    .await;
    let reply = get(
        &router,
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

    let download = get(
        &router,
        "/electron/demo/stable/windows/amd64/DemoApp-1.1.0-delta.nupkg",
    )
    .await;
    assert_eq!(download.status, 302);
    assert_eq!(
        download.headers["location"],
        "https://cdn.example.com/delta-1.1.0"
    );
    assert_eq!(
        get(
            &router,
            "/electron/demo/stable/windows/amd64/DemoApp-9.9.9-full.nupkg"
        )
        .await
        .status,
        404
    );
    // Never an empty RELEASES: a 404 with a JSON body instead.
    let none = get(&router, "/electron/demo/stable/windows/arm64/RELEASES").await;
    assert_eq!(none.status, 404);
    assert_eq!(none.body["code"], "NOT_FOUND");
}

#[tokio::test]
async fn electron_updater_channel_files_match_electron_builder() {
    let router = router().await;
    create_app(&router, "demo", json!({})).await;
    let bytes = b"appimage bytes";
    for (version, channel, percentage) in [
        ("1.0.0", "stable", 100),
        ("1.1.0", "stable", 10),
        ("1.2.0-beta.1", "beta", 100),
    ] {
        register_ok(
            &router,
            "demo",
            json!({"version": version, "platform": "linux", "architecture": "amd64", "channel": channel,
                   "rollout_percentage": percentage, "release_notes": "Fixes: \"quotes\" & more\nline two",
                   "release_date": "2026-03-04T05:06:07Z", "minimum_system_version": "10.0.17763",
                   "files": [{"kind": "appimage", "url": format!("https://cdn.example.com/Demo-{version}.AppImage"),
                              "size": bytes.len(), "sha512": sha512_hex(bytes), "blockmap_url": format!("https://cdn.example.com/Demo-{version}.AppImage.blockmap"), "blockmap_size": 321}]}),
        )
        .await;
    }
    for arch in ["arm64", "amd64"] {
        register_ok(
            &router,
            "demo",
            json!({"version": "1.0.0", "platform": "darwin", "architecture": arch,
                   "files": [{"kind": "zip", "url": format!("https://cdn.example.com/Demo-1.0.0-{arch}-mac.zip"), "size": 3, "sha256": SHA256},
                             {"kind": "dmg", "url": format!("https://cdn.example.com/Demo-1.0.0-{arch}.dmg"), "size": 4, "sha512": sha512_hex(b"dmg")}]}),
        )
        .await;
    }

    let reply = get(&router, "/electron-updater/demo/latest-linux.yml").await;
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
    let out = get_with(
        &router,
        "/electron-updater/demo/latest-linux.yml",
        ("x-user-staging-id", "12345678-1234-4234-8234-ffffffffffff"),
    )
    .await;
    assert!(out.text.starts_with("version: \"1.0.0\"\n"), "{}", out.text);
    assert!(!out.text.contains("stagingPercentage"));
    let inside = get_with(
        &router,
        "/electron-updater/demo/latest-linux.yml",
        ("x-user-staging-id", "12345678-1234-4234-8234-000000000001"),
    )
    .await;
    assert!(
        inside.text.starts_with("version: \"1.1.0\"\n"),
        "{}",
        inside.text
    );

    let beta = get(&router, "/electron-updater/demo/beta-linux.yml").await;
    assert!(
        beta.text.starts_with("version: \"1.2.0-beta.1\"\n"),
        "{}",
        beta.text
    );

    let mac: serde_norway::Value = serde_norway::from_str(
        &get(&router, "/electron-updater/demo/latest-mac.yml")
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
        let reply = get(&router, missing).await;
        assert_eq!(reply.status, 404, "{missing}");
        assert!(reply.body["code"].as_str().unwrap().ends_with("NOT_FOUND"));
    }
}

#[tokio::test]
async fn sparkle_appcast_is_strict_rss_with_the_sparkle_namespace() {
    let router = router().await;
    let sparkle = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    create_app(
        &router,
        "demo",
        json!({"sparkle_public_key": STANDARD.encode(sparkle.verifying_key().to_bytes())}),
    )
    .await;
    let day_ago = (Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    let releases = [
        (
            "1.0.0",
            "stable",
            100,
            false,
            "2026-01-01T00:00:00Z".to_string(),
        ),
        ("1.1.0", "stable", 30, false, day_ago),
        (
            "1.2.0-beta.1",
            "beta",
            100,
            true,
            "2026-01-03T00:00:00Z".to_string(),
        ),
    ];
    let mut archives = std::collections::HashMap::new();
    for (version, channel, percentage, required, date) in &releases {
        let bytes = format!("mac {version}").into_bytes();
        let signature = STANDARD.encode(sparkle.sign(&bytes).to_bytes());
        register_ok(
            &router,
            "demo",
            json!({"version": version, "platform": "darwin", "architecture": "arm64", "channel": channel,
                   "rollout_percentage": percentage, "required": required, "release_date": date,
                   "minimum_system_version": "11.0", "release_notes": "<b>Bold</b> & \"new\"",
                   "files": [{"kind": "zip", "url": format!("https://cdn.example.com/Demo-{version}.zip?a=1&b=2"),
                              "size": bytes.len(), "sha256": sha256_hex(&bytes), "ed_signature": signature}]}),
        )
        .await;
        archives.insert(version.to_string(), bytes);
    }
    let reply = get(&router, "/sparkle/demo/darwin/arm64/appcast.xml").await;
    assert_eq!(reply.status, 200);
    assert!(
        reply.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/rss+xml")
    );
    let doc =
        roxmltree::Document::parse(&reply.text).unwrap_or_else(|e| panic!("{e}\n{}", reply.text));
    let rss = doc.root_element();
    assert_eq!(rss.tag_name().name(), "rss");
    assert_eq!(rss.attribute("version"), Some("2.0"));
    assert_eq!(rss.lookup_namespace_uri(Some("sparkle")), Some(SPARKLE_NS));
    let items: Vec<_> = rss
        .descendants()
        .filter(|n| n.has_tag_name("item"))
        .collect();
    assert_eq!(items.len(), 3);
    let child = |item: &roxmltree::Node, name: &str| {
        item.children()
            .find(|n| n.has_tag_name((SPARKLE_NS, name)))
            .and_then(|n| n.text().map(str::to_string))
    };
    let verifying = sparkle.verifying_key();
    for item in &items {
        let version = child(item, "version").expect("sparkle:version in the sparkle namespace");
        assert_eq!(
            child(item, "shortVersionString").as_deref(),
            Some(version.as_str())
        );
        assert_eq!(child(item, "minimumSystemVersion").as_deref(), Some("11.0"));
        let pub_date = item
            .children()
            .find(|n| n.has_tag_name("pubDate"))
            .unwrap()
            .text()
            .unwrap();
        assert!(DateTime::parse_from_rfc2822(pub_date).is_ok(), "{pub_date}");
        let description = item
            .children()
            .find(|n| n.has_tag_name("description"))
            .unwrap()
            .text()
            .unwrap();
        assert_eq!(description, "<b>Bold</b> & \"new\"");
        let enclosure = item
            .children()
            .find(|n| n.has_tag_name("enclosure"))
            .unwrap();
        let archive = &archives[&version];
        assert_eq!(
            enclosure.attribute("url"),
            Some(format!("https://cdn.example.com/Demo-{version}.zip?a=1&b=2").as_str())
        );
        assert_eq!(
            enclosure.attribute("length"),
            Some(archive.len().to_string().as_str())
        );
        assert_eq!(enclosure.attribute((SPARKLE_NS, "os")), Some("macos"));
        let signature = STANDARD
            .decode(enclosure.attribute((SPARKLE_NS, "edSignature")).unwrap())
            .unwrap();
        let signature = ed25519_dalek::Signature::from_slice(&signature).unwrap();
        verifying
            .verify_strict(archive, &signature)
            .expect("edSignature verifies over the archive");
        match version.as_str() {
            "1.2.0-beta.1" => {
                assert_eq!(child(item, "channel").as_deref(), Some("beta"));
                assert!(
                    item.children()
                        .any(|n| n.has_tag_name((SPARKLE_NS, "criticalUpdate")))
                );
            }
            "1.1.0" => {
                assert_eq!(child(item, "channel"), None);
                let interval: i64 = child(item, "phasedRolloutInterval")
                    .unwrap()
                    .parse()
                    .unwrap();
                // Sparkle admits group g (0..7) once elapsed >= interval * g;
                // 30 % needs ceil(0.3 * 7) = 3 eligible groups.
                let elapsed = 86_400;
                let eligible = (elapsed / interval + 1).min(7);
                assert_eq!(eligible, 3, "interval {interval}");
            }
            _ => assert_eq!(child(item, "phasedRolloutInterval"), None),
        }
    }
    // Newest first.
    assert_eq!(child(&items[0], "version").as_deref(), Some("1.2.0-beta.1"));
}

#[tokio::test]
async fn velopack_feed_lists_packages_and_redirects_downloads() {
    let router = router().await;
    create_app(&router, "demo", json!({})).await;
    for (version, percentage) in [("1.0.0", 100), ("1.1.0", 10)] {
        let full = format!("full {version}").into_bytes();
        register_ok(
            &router,
            "demo",
            json!({"version": version, "platform": "linux", "architecture": "amd64", "rollout_percentage": percentage,
                   "release_notes": "# Notes",
                   "files": [{"kind": "nupkg", "url": format!("https://cdn.example.com/pkg-{version}"), "size": full.len(), "sha256": sha256_hex(&full)}]}),
        )
        .await;
    }
    let feed = get(
        &router,
        "/velopack/demo/linux/x64/releases.linux.json?localVersion=1.0.0&id=Demo.App",
    )
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
        let first = get(&router, &uri).await.body["Assets"]
            .as_array()
            .unwrap()
            .len();
        let second = get(&router, &uri).await.body["Assets"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(first, second);
        if first == 2 {
            admitted += 1;
        }
    }
    assert!((70..=130).contains(&admitted), "{admitted} of 1000 at 10%");

    let download = get(
        &router,
        "/velopack/demo/linux/x64/Demo.App-1.0.0-full.nupkg",
    )
    .await;
    assert_eq!(download.status, 302);
    assert_eq!(
        download.headers["location"],
        "https://cdn.example.com/pkg-1.0.0"
    );
    let empty = get(&router, "/velopack/demo/windows/x64/releases.win.json").await;
    assert_eq!(empty.body, json!({"Assets": []}));
}

#[tokio::test]
async fn feeds_apply_the_application_policy() {
    let router = router().await;
    create_app(&router, "demo", json!({"max_version": "1.5.0"})).await;
    for (version, minimum) in [
        ("1.0.0", None),
        ("1.2.0-beta.1", None),
        ("1.4.0", Some("1.1.0")),
        ("2.0.0", None),
    ] {
        let bytes = format!("pkg {version}").into_bytes();
        for (platform, channel) in [("windows", "beta"), ("linux", "beta")] {
            register_ok(
                &router,
                "demo",
                json!({"version": version, "platform": platform, "architecture": "amd64", "channel": channel,
                       "minimum_version": minimum,
                       "files": [{"kind": "nupkg", "url": format!("https://cdn.example.com/{platform}-{version}.nupkg"),
                                  "size": bytes.len(), "sha256": sha256_hex(&bytes), "sha1": "ab".repeat(20)}]}),
            )
            .await;
        }
    }
    // max_version caps every feed; minimum_version applies when the client says what it runs.
    let releases = get(
        &router,
        "/electron/demo/beta/windows/amd64/RELEASES?id=Demo&localVersion=1.0.0",
    )
    .await;
    let names: Vec<&str> = releases
        .text
        .lines()
        .map(|l| l.split(' ').nth(1).unwrap())
        .collect();
    assert_eq!(
        names,
        ["Demo-1.0.0-full.nupkg", "Demo-1.2.0-beta-1-full.nupkg"],
        "{}",
        releases.text
    );
    let newer_client = get(
        &router,
        "/electron/demo/beta/windows/amd64/RELEASES?id=Demo&localVersion=1.2.0",
    )
    .await;
    assert!(newer_client.text.contains("Demo-1.4.0-full.nupkg"));
    assert!(!newer_client.text.contains("2.0.0"));
    // A dotted pre-release is named the way Squirrel reads it, and its package redirects.
    let download = get(
        &router,
        "/electron/demo/beta/windows/amd64/Demo-1.2.0-beta-1-full.nupkg",
    )
    .await;
    assert_eq!(download.status, 302);
    assert_eq!(
        download.headers["location"],
        "https://cdn.example.com/windows-1.2.0-beta.1.nupkg"
    );

    let feed = get(
        &router,
        "/velopack/demo/linux/x64/releases.beta.json?localVersion=1.0.0",
    )
    .await;
    let versions: Vec<&str> = feed.body["Assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["Version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["1.0.0", "1.2.0-beta.1"]);
}

#[tokio::test]
async fn build_metadata_never_makes_a_different_release() {
    let router = router().await;
    create_app(&router, "demo", json!({})).await;
    let zip = |version: &str| {
        json!({"version": version, "platform": "darwin", "architecture": "arm64",
               "files": [{"kind": "zip", "url": format!("https://cdn.example.com/{version}.zip"), "size": 1, "sha256": SHA256}]})
    };
    register_ok(&router, "demo", zip("1.0.0+build.7")).await;
    // Squirrel.Mac installs any 200: a build-metadata twin must not be one.
    let same = get(&router, "/electron/demo/stable/darwin/arm64/1.0.0").await;
    assert_eq!(same.status, 204, "{}", same.text);
    for twin in ["1.0.0", "1.0.0+build.8"] {
        let reply = register(&router, "demo", zip(twin)).await;
        assert_eq!(reply.status, 409, "{twin}: {}", reply.text);
    }
    register_ok(&router, "demo", zip("1.0.1")).await;
    let older = get(&router, "/electron/demo/stable/darwin/arm64/1.0.0-rc.1").await;
    assert_eq!(older.body["name"], "1.0.1");
}

#[tokio::test]
async fn electron_updater_never_mixes_architectures_or_loses_the_file() {
    let router = router().await;
    create_app(&router, "demo", json!({})).await;
    let exe = |version: &str, arch: &str, percentage: u8| {
        json!({"version": version, "platform": "windows", "architecture": arch, "rollout_percentage": percentage,
               "files": [{"kind": "nsis", "url": format!("https://cdn.example.com/Setup-{version}-{arch}.exe"), "size": 1, "sha512": sha512_hex(b"x")}]})
    };
    register_ok(&router, "demo", exe("1.0.0", "amd64", 100)).await;
    register_ok(&router, "demo", exe("1.0.0", "arm64", 100)).await;
    register_ok(&router, "demo", exe("1.1.0", "arm64", 100)).await;
    let yml = get(&router, "/electron-updater/demo/latest.yml").await;
    assert!(yml.text.starts_with("version: \"1.0.0\"\n"), "{}", yml.text);
    assert!(
        yml.text.contains("Setup-1.0.0-amd64.exe") && yml.text.contains("Setup-1.0.0-arm64.exe")
    );
    assert!(!yml.text.contains("1.1.0"));

    // Only a paused release: still a channel file, which the client declines.
    create_app(&router, "paused", json!({})).await;
    register_ok(&router, "paused", exe("1.0.0", "amd64", 100)).await;
    patch(
        &router,
        "paused",
        "1.0.0/windows/amd64",
        json!({"rollout_paused": true}),
    )
    .await;
    let paused = get(&router, "/electron-updater/paused/latest.yml").await;
    assert_eq!(paused.status, 200);
    assert!(
        paused.text.contains("stagingPercentage: 0\n"),
        "{}",
        paused.text
    );
}

#[tokio::test]
async fn text_that_would_break_a_feed_is_refused() {
    let router = router().await;
    create_app(&router, "demo", json!({})).await;
    let reply = register(
        &router,
        "demo",
        json!({"version": "1.0.0", "platform": "linux", "architecture": "amd64", "release_notes": "bad \u{ffff} notes",
               "files": [{"kind": "appimage", "url": "https://cdn.example.com/a b.AppImage", "size": 1, "sha256": SHA256}]}),
    )
    .await;
    assert!(field_error(&reply, "release_notes").contains("noncharacter"));
    assert!(field_error(&reply, "files[0].url").contains("whitespace"));
}

#[tokio::test]
async fn hostile_protocol_requests_never_get_a_5xx() {
    let (router, _keys) = tauri_fixture().await;
    let uris = [
        "/tauri/demo/stable/linux/x86_64/%00",
        "/tauri/demo/%2e%2e/linux/x86_64/1.0.0",
        "/tauri/de%20mo/stable/linux/x86_64/1.0.0",
        "/tauri/demo/stable/latest.json?x=%ff",
        "/electron/demo/stable/darwin/arm64/99999999999999999999.0.0",
        "/electron/demo/stable/windows/amd64/..%2F..%2Fetc%2Fpasswd.nupkg",
        "/electron/demo/stable/windows/amd64/RELEASES?id=%3Cscript%3E",
        "/electron-updater/demo/..yml",
        "/electron-updater/demo/-linux-.yml",
        "/electron-updater/demo/a%0Ab-linux.yml",
        "/sparkle/demo/beos/arm64/appcast.xml",
        "/sparkle/demo/darwin/arm64/appcast.xml?x=%00",
        "/velopack/demo/linux/x64/releases..json",
        "/velopack/demo/linux/x64/releases.%00.json",
        "/velopack/demo/linux/x64/x-full.nupkg",
    ];
    for uri in uris {
        let reply = get(&router, uri).await;
        assert!(reply.status < 500, "{uri}: {} {}", reply.status, reply.text);
        if reply.status >= 400 {
            assert!(
                reply.body["code"].is_string(),
                "{uri}: JSON error body expected, got {}",
                reply.text
            );
        }
    }
}
