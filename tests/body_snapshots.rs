//! Byte-exact snapshots of every wire body: the OpenAPI document, each client
//! protocol and the JSON API, over one realistic catalog. They are the
//! regression net for refactors that must keep every body identical.
//!
//! Each snapshot is the whole exchange: the request line, the status and
//! content type, then the body verbatim up to `[EOF]` (insta trims trailing
//! whitespace and folds CRLF, so the marker keeps a trailing newline visible
//! and a carriage return is shown as `␍`). Keys and signatures come from fixed
//! seeds; only values that change per run are filtered (see `settings`).
//! Review changes with `cargo insta review`, or `INSTA_UPDATE=always` and git diff.

mod common;

use axum::body::Body;
use axum::http::Request;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;
use ed25519_dalek::{Signer, SigningKey};
use insta::assert_snapshot;
use serde_json::{Value, json};
use sha2::Digest;

const APP: &str = "desk";
/// Every request carries it, so error bodies' `request_id` is stable.
const REQUEST_ID: &str = "snapshot-request-1";
/// In the 30 % rollout of 1.2.0 by the server's bucket (1870 of 10 000).
const INSTALL_IN: &str = "00000000-0000-4000-8000-000000000002";
/// Outside 1.2.0's 30 % by electron-updater's rule (UUID bytes 12-15 = u32::MAX).
const STAGING_OUT: &str = "00000000-0000-4000-8000-0000ffffffff";

const ALL: &[(&str, &str)] = &[
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("darwin", "arm64"),
    ("darwin", "amd64"),
    ("windows", "amd64"),
    ("windows", "arm64"),
];
const MAIN: &[(&str, &str)] = &[
    ("linux", "amd64"),
    ("darwin", "arm64"),
    ("windows", "amd64"),
];

/// Values that change per run: stored timestamps (registration and
/// application `created_at`/`updated_at`), error `timestamp`s, and Sparkle's
/// phased-rollout interval, which the server computes from the time since
/// `pubDate`. Every filter matches only the exact shape it replaces.
fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(
        r#""(created_at|updated_at|timestamp)":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z""#,
        r#""$1":"[now]""#,
    );
    settings.add_filter(
        r"<sparkle:phasedRolloutInterval>\d+</sparkle:phasedRolloutInterval>",
        "<sparkle:phasedRolloutInterval>[seconds since pubDate]</sparkle:phasedRolloutInterval>",
    );
    settings
}

/// BLAKE2b-512 (RFC 7693), minisign's prehash: no crate in the tree exposes one,
/// and minisign's own signer adds random noise. Checked by `minisign-verify` below.
fn blake2b512(data: &[u8]) -> [u8; 64] {
    const IV: [u64; 8] = [
        0x6a09e667f3bcc908,
        0xbb67ae8584caa73b,
        0x3c6ef372fe94f82b,
        0xa54ff53a5f1d36f1,
        0x510e527fade682d1,
        0x9b05688c2b3e6c1f,
        0x1f83d9abfb41bd6b,
        0x5be0cd19137e2179,
    ];
    const SIGMA: [[usize; 16]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
        [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
        [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
        [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
        [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
        [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
        [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
        [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
        [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    ];
    let mut h = IV;
    h[0] ^= 0x0101_0040; // 64-byte digest, no key
    let blocks = data.len().div_ceil(128).max(1);
    for i in 0..blocks {
        let chunk = &data[i * 128..data.len().min(i * 128 + 128)];
        let mut block = [0u8; 128];
        block[..chunk.len()].copy_from_slice(chunk);
        let m: [u64; 16] = std::array::from_fn(|j| {
            u64::from_le_bytes(block[j * 8..j * 8 + 8].try_into().unwrap())
        });
        let mut v: [u64; 16] = std::array::from_fn(|j| if j < 8 { h[j] } else { IV[j - 8] });
        v[12] ^= (i * 128 + chunk.len()) as u64;
        if i + 1 == blocks {
            v[14] = !v[14];
        }
        for round in 0..12 {
            let s = SIGMA[round % 10];
            for lane in 0..8 {
                // Four columns, then four diagonals.
                let [a, b, c, d] = if lane < 4 {
                    [lane, lane + 4, lane + 8, lane + 12]
                } else {
                    let i = lane - 4;
                    [i, 4 + (i + 1) % 4, 8 + (i + 2) % 4, 12 + (i + 3) % 4]
                };
                let (x, y) = (m[s[2 * lane]], m[s[2 * lane + 1]]);
                v[a] = v[a].wrapping_add(v[b]).wrapping_add(x);
                v[d] = (v[d] ^ v[a]).rotate_right(32);
                v[c] = v[c].wrapping_add(v[d]);
                v[b] = (v[b] ^ v[c]).rotate_right(24);
                v[a] = v[a].wrapping_add(v[b]).wrapping_add(y);
                v[d] = (v[d] ^ v[a]).rotate_right(16);
                v[c] = v[c].wrapping_add(v[d]);
                v[b] = (v[b] ^ v[c]).rotate_right(63);
            }
        }
        for j in 0..8 {
            h[j] ^= v[j] ^ v[j + 8];
        }
    }
    std::array::from_fn(|j| h[j / 8].to_le_bytes()[j % 8])
}

/// A fixed minisign key (Tauri's updater key) and Sparkle EdDSA key.
struct Keys {
    tauri: SigningKey,
    sparkle: SigningKey,
}

const KEY_ID: [u8; 8] = *b"snapshot";

impl Keys {
    fn new() -> Self {
        Self {
            tauri: SigningKey::from_bytes(&[0x42; 32]),
            sparkle: SigningKey::from_bytes(&[0x17; 32]),
        }
    }

    /// The minisign public key file, as `minisign -G` writes it.
    fn minisign_public(&self) -> String {
        let key = [&b"Ed"[..], &KEY_ID, self.tauri.verifying_key().as_bytes()].concat();
        let id = u64::from_le_bytes(KEY_ID);
        format!(
            "untrusted comment: minisign public key: {id:016X}\n{}\n",
            STANDARD.encode(key)
        )
    }

    /// The `.sig` file `tauri signer sign` writes (base64 of a prehashed minisign signature).
    fn tauri_sign(&self, bytes: &[u8], file: &str, version: &str) -> String {
        let signature = self.tauri.sign(&blake2b512(bytes)).to_bytes();
        let comment = format!("timestamp:1700000000\tfile:{file}\tversion:{version}");
        let global = self
            .tauri
            .sign(&[&signature[..], comment.as_bytes()].concat());
        let text = format!(
            "untrusted comment: signature from tauri secret key\n{}\ntrusted comment: {comment}\n{}\n",
            STANDARD.encode([&b"ED"[..], &KEY_ID, &signature].concat()),
            STANDARD.encode(global.to_bytes()),
        );
        let key = minisign_verify::PublicKey::decode(&self.minisign_public()).unwrap();
        let decoded = minisign_verify::Signature::decode(&text).unwrap();
        key.verify(bytes, &decoded, false)
            .expect("a valid minisign signature");
        STANDARD.encode(text)
    }
}

/// The files of one build; the bytes behind them are a stand-in per file.
fn files(keys: &Keys, version: &str, platform: &str, arch: &str) -> Vec<Value> {
    let kinds: &[(&str, &str)] = match platform {
        "linux" => &[
            ("appimage", "Desk-{v}-{a}.AppImage"),
            ("deb", "desk_{v}_{a}.deb"),
        ],
        "darwin" => &[
            ("zip", "Desk-{v}-{a}-mac.zip"),
            ("dmg", "Desk-{v}-{a}.dmg"),
            ("app", "Desk_{v}_{a}.app.tar.gz"),
        ],
        _ => &[
            ("nsis", "Desk-Setup-{v}-{a}.exe"),
            ("msi", "Desk-{v}-{a}.msi"),
            ("nupkg", "Desk-{v}-{a}-full.nupkg"),
            ("nupkg_delta", "Desk-{v}-{a}-delta.nupkg"),
        ],
    };
    let mut out = Vec::new();
    for (kind, pattern) in kinds {
        if *kind == "nupkg_delta" && version == "1.0.0" {
            continue; // nothing to be a delta from
        }
        let name = pattern.replace("{v}", version).replace("{a}", arch);
        let bytes = format!("{name} build bytes").repeat(7).into_bytes();
        let url = format!("https://cdn.example.com/desk/{version}/{name}");
        let mut file = json!({"kind": kind, "url": url, "size": bytes.len()});
        if matches!(*kind, "appimage" | "nsis" | "zip") {
            file["sha512"] = json!(sha512_hex(&bytes));
            file["blockmap_url"] = json!(format!("{url}.blockmap"));
            file["blockmap_size"] = json!(bytes.len() / 7);
        }
        if kind.starts_with("nupkg") {
            file["sha1"] = json!(hex::encode(sha1::Sha1::digest(&bytes)));
        }
        if *kind == "nupkg_delta" {
            // SHA-1 and SHA-512 only: Velopack's feed has an empty SHA256.
            file["sha512"] = json!(sha512_hex(&bytes));
        } else if !matches!(*kind, "appimage" | "nsis") {
            file["sha256"] = json!(sha256_hex(&bytes));
        }
        if matches!(*kind, "appimage" | "deb" | "app" | "nsis" | "msi") {
            file["signature"] = json!(keys.tauri_sign(&bytes, &name, version));
        }
        if matches!(*kind, "zip" | "dmg" | "app" | "msi") {
            file["ed_signature"] = json!(STANDARD.encode(keys.sparkle.sign(&bytes).to_bytes()));
        }
        out.push(file);
    }
    out
}

/// Builds the request every snapshot sends: a fixed request id, and a key and
/// JSON body when given.
fn request(method: &str, uri: &str, key: Option<&str>, body: Option<Value>) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header("x-request-id", REQUEST_ID);
    if let Some(key) = key {
        builder = builder.header("authorization", format!("Bearer {key}"));
    }
    match body {
        Some(body) => builder
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    }
}

/// Sends `request` and renders the exchange as the snapshot holds it.
async fn exchange(app: &TestApp, request: Request<Body>) -> String {
    let mut line = format!("{} {}", request.method(), request.uri());
    for (name, value) in request.headers() {
        if !matches!(
            name.as_str(),
            "x-request-id" | "authorization" | "content-type"
        ) {
            line.push_str(&format!("\n{name}: {}", value.to_str().unwrap()));
        }
    }
    let reply = app.send(request).await;
    let content_type = reply
        .headers
        .get("content-type")
        .map_or("(no content type)", |v| v.to_str().unwrap());
    format!(
        "{line}\n{} {content_type}\n{}[EOF]",
        reply.status,
        reply.text.replace('\r', "␍")
    )
}

async fn get(app: &TestApp, uri: &str) -> String {
    exchange(app, request("GET", uri, None, None)).await
}

async fn get_with(app: &TestApp, uri: &str, header: (&str, &str)) -> String {
    let mut request = request("GET", uri, None, None);
    let (name, value) = header;
    request.headers_mut().insert(
        axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
        value.parse().unwrap(),
    );
    exchange(app, request).await
}

/// The catalog's requests: the application, then every release, each on
/// linux/amd64, darwin/arm64 and windows/amd64 and, for 1.0.0 and 1.1.0, on
/// linux/arm64, darwin/amd64 and windows/arm64 too. 1.2.0 is at 30 %, 1.3.0 is
/// yanked, 2.0.0-beta.1 is a required beta. Signed once, replayed per test.
fn catalog_requests() -> &'static [(&'static str, String, &'static str, Value)] {
    static REQUESTS: std::sync::OnceLock<Vec<(&str, String, &str, Value)>> =
        std::sync::OnceLock::new();
    REQUESTS.get_or_init(|| {
        let keys = Keys::new();
        let config = json!({
            "tauri_public_key": STANDARD.encode(keys.minisign_public()),
            "sparkle_public_key": STANDARD.encode(keys.sparkle.verifying_key().to_bytes()),
        });
        let app = json!({"id": APP, "name": "Desk & Co", "description": "Snapshot catalog",
                         "platforms": ["linux", "windows", "darwin"], "config": config});
        let mut requests = vec![("POST", "/api/v1/applications".to_string(), ADMIN_KEY, app)];
        let notes = "Fixes <b>crash</b> on start & \"sync\" when it's offline\nSecond line: 'faster' > before";
        let releases = [
            ("1.0.0", "stable", "2026-01-10T09:00:00Z", 100, false, "First release.", ALL),
            ("1.1.0", "stable", "2026-02-14T12:30:00.250Z", 100, false, notes, ALL),
            ("1.2.0", "stable", "2026-03-01T08:00:00Z", 30, false, "Staged", MAIN),
            ("1.3.0", "stable", "2026-03-10T10:00:00Z", 100, false, "Broken", MAIN),
            ("2.0.0-beta.1", "beta", "2026-03-20T00:00:00Z", 100, true, "Beta", MAIN),
        ];
        for (version, channel, date, rollout, required, notes, targets) in releases {
            for (platform, arch) in targets {
                let mut body = json!({"version": version, "platform": platform, "architecture": arch,
                    "channel": channel, "release_date": date, "rollout_percentage": rollout,
                    "required": required, "release_notes": notes,
                    "files": files(&keys, version, platform, arch)});
                if version == "1.1.0" && *platform != "linux" {
                    let os = if *platform == "darwin" { "11.0" } else { "10.0.17763" };
                    body["minimum_system_version"] = json!(os);
                    body["minimum_version"] = json!("1.0.0");
                }
                let uri = format!("/api/v1/updates/{APP}/register");
                requests.push(("POST", uri, WRITE_KEY, body));
            }
        }
        for (platform, arch) in MAIN {
            let uri = format!("/api/v1/updates/{APP}/releases/1.3.0/{platform}/{arch}");
            let yank = json!({"yanked": true, "yank_reason": "crashes on start"});
            requests.push(("PATCH", uri, ADMIN_KEY, yank));
        }
        requests
    })
}

/// A fresh server holding the catalog.
async fn catalog() -> TestApp {
    let app = TestApp::new().await;
    for (method, uri, key, body) in catalog_requests() {
        let reply = app.with_key(key).call(method, uri, Some(body)).await;
        assert!(reply.status < 300, "{method} {uri}: {}", reply.text);
    }
    app
}

/// Plain GETs over the catalog: snapshot name, request.
#[rustfmt::skip]
const TAURI: &[(&str, &str)] = &[
    ("tauri_dynamic_linux", "/tauri/desk/stable/linux/x86_64/1.0.0"),
    ("tauri_dynamic_linux_deb", "/tauri/desk/stable/linux/x86_64/1.0.0?bundle_type=deb"),
    ("tauri_dynamic_darwin", "/tauri/desk/stable/darwin/aarch64/1.0.0"),
    ("tauri_dynamic_windows_msi", "/tauri/desk/stable/windows/x86_64/1.0.0?bundle_type=msi"),
    ("tauri_dynamic_rollback_from_yanked", "/tauri/desk/stable/linux/x86_64/1.3.0"),
    ("tauri_dynamic_beta", "/tauri/desk/beta/linux/x86_64/1.1.0"),
    ("tauri_static_stable", "/tauri/desk/stable/latest.json"),
    ("tauri_static_beta", "/tauri/desk/beta/latest.json"),
];
#[rustfmt::skip]
const SQUIRREL: &[(&str, &str)] = &[
    ("squirrel_mac", "/electron/desk/stable/darwin/arm64/1.0.0"),
    ("squirrel_windows_releases_staged", "/electron/desk/stable/windows/x64/RELEASES?id=Desk&localVersion=1.0.0&arch=amd64"),
    ("squirrel_windows_releases_arm64", "/electron/desk/stable/windows/arm64/RELEASES"),
    ("squirrel_windows_releases_beta", "/electron/desk/beta/windows/x64/RELEASES?id=Desk"),
];
#[rustfmt::skip]
const ELECTRON_UPDATER: &[(&str, &str)] = &[
    ("electron_updater_latest", "/electron-updater/desk/latest.yml"),
    ("electron_updater_latest_mac", "/electron-updater/desk/latest-mac.yml"),
    ("electron_updater_latest_linux", "/electron-updater/desk/latest-linux.yml"),
    ("electron_updater_latest_linux_arm64", "/electron-updater/desk/latest-linux-arm64.yml"),
    ("electron_updater_beta_linux", "/electron-updater/desk/beta-linux.yml"),
];
#[rustfmt::skip]
const SPARKLE: &[(&str, &str)] = &[
    ("sparkle_appcast_mac", "/sparkle/desk/darwin/arm64/appcast.xml"),
    ("sparkle_appcast_windows", "/sparkle/desk/windows/x64/appcast.xml"),
];
#[rustfmt::skip]
const VELOPACK: &[(&str, &str)] = &[
    ("velopack_stable", "/velopack/desk/windows/x64/releases.win.json?id=Desk&localVersion=1.0.0"),
    ("velopack_beta", "/velopack/desk/windows/x64/releases.beta.json?id=Desk&localVersion=1.1.0"),
    // stagingId is INSTALL_IN, inside the 30 % of 1.2.0.
    ("velopack_stable_staged", "/velopack/desk/windows/x64/releases.win.json?stagingId=00000000-0000-4000-8000-000000000002"),
];
#[rustfmt::skip]
const JSON_API: &[(&str, &str)] = &[
    ("api_check_update", "/api/v1/updates/desk/check?current_version=1.0.0&platform=windows&architecture=amd64"),
    ("api_check_no_update", "/api/v1/updates/desk/check?current_version=1.1.0&platform=windows&architecture=amd64"),
    ("api_latest", "/api/v1/updates/desk/latest?platform=darwin&architecture=arm64"),
];
#[rustfmt::skip]
const ERRORS: &[(&str, &str)] = &[
    ("error_404_unknown_app_check", "/api/v1/updates/nope/check?current_version=1.0.0&platform=linux&architecture=amd64"),
    ("error_404_unknown_app_tauri", "/tauri/nope/stable/linux/x86_64/1.0.0"),
    ("error_422_check_validation", "/api/v1/updates/desk/check?current_version=abc&platform=beos&architecture=amd64"),
    ("error_422_tauri_bundle_type", "/tauri/desk/stable/linux/x86_64/1.0.0?bundle_type=snap"),
    ("error_404_squirrel_no_packages", "/electron/desk/stable/windows/ia32/RELEASES"),
    ("error_404_electron_updater_no_release", "/electron-updater/desk/latest-linux-armv7l.yml"),
];

/// Snapshots every GET of `cases`.
async fn snapshot_gets(app: &TestApp, cases: &[(&str, &str)]) {
    for (name, uri) in cases {
        assert_snapshot!(*name, get(app, uri).await);
    }
}

#[tokio::test]
async fn openapi_document() {
    let app = TestApp::new().await;
    assert_snapshot!("openapi", get(&app, "/api/v1/openapi.json").await);
}

#[tokio::test]
async fn tauri() {
    let _settings = settings().bind_to_scope();
    let app = catalog().await;
    snapshot_gets(&app, TAURI).await;
    let staged = "/tauri/desk/stable/linux/x86_64/1.1.0";
    let admitted = get_with(&app, staged, ("x-install-id", INSTALL_IN)).await;
    assert_snapshot!("tauri_dynamic_staged_install", admitted);
    // Nothing for an install without an id on the newest fully rolled-out release.
    let none = app.anonymous().get(staged).await;
    assert_eq!((none.status, none.text.as_str()), (204, ""));
}

#[tokio::test]
async fn squirrel() {
    let _settings = settings().bind_to_scope();
    snapshot_gets(&catalog().await, SQUIRREL).await;
}

#[tokio::test]
async fn electron_updater() {
    let _settings = settings().bind_to_scope();
    let app = catalog().await;
    snapshot_gets(&app, ELECTRON_UPDATER).await;
    let uri = "/electron-updater/desk/latest-linux.yml";
    let outside = get_with(&app, uri, ("x-user-staging-id", STAGING_OUT)).await;
    assert_snapshot!("electron_updater_latest_linux_outside_staging", outside);
}

#[tokio::test]
async fn sparkle() {
    let _settings = settings().bind_to_scope();
    snapshot_gets(&catalog().await, SPARKLE).await;
}

#[tokio::test]
async fn velopack() {
    let _settings = settings().bind_to_scope();
    snapshot_gets(&catalog().await, VELOPACK).await;
}

#[tokio::test]
async fn json_api() {
    let _settings = settings().bind_to_scope();
    let app = catalog().await;
    snapshot_gets(&app, JSON_API).await;
    let uri = "/api/v1/updates/desk/releases?version=1.3.0&sort_by=platform&sort_order=asc";
    let listing = exchange(&app, request("GET", uri, Some(READ_KEY), None)).await;
    assert_snapshot!("api_release_listing_yanked", listing);
    let uri = "/api/v1/applications/desk";
    let application = exchange(&app, request("GET", uri, Some(READ_KEY), None)).await;
    assert_snapshot!("api_application", application);
    let single_file = json!({"version": "1.4.0", "platform": "linux", "architecture": "amd64",
        "download_url": "https://cdn.example.com/desk/1.4.0/desk-1.4.0.tar.gz",
        "checksum": SHA256, "file_size": 1024, "release_date": "2026-04-01T00:00:00Z"});
    let uri = "/api/v1/updates/desk/register";
    let registered = request("POST", uri, Some(WRITE_KEY), Some(single_file));
    assert_snapshot!("api_register", exchange(&app, registered).await);
    let body = Some(app_body("notes"));
    let created = request("POST", "/api/v1/applications", Some(ADMIN_KEY), body);
    assert_snapshot!("api_create_application", exchange(&app, created).await);
}

#[tokio::test]
async fn errors() {
    let _settings = settings().bind_to_scope();
    let app = catalog().await;
    snapshot_gets(&app, ERRORS).await;
    let bad = json!({"version": "1.x", "platform": "linux", "architecture": "amd64",
        "files": [{"kind": "appimage", "url": "http://cdn.example.com/a b.AppImage", "size": 10,
                   "sha256": "abc"}]});
    let uri = "/api/v1/updates/desk/register";
    let invalid = request("POST", uri, Some(WRITE_KEY), Some(bad));
    assert_snapshot!(
        "error_422_register_validation",
        exchange(&app, invalid).await
    );
    let anonymous = request("POST", uri, None, Some(json!({})));
    assert_snapshot!(
        "error_401_register_without_key",
        exchange(&app, anonymous).await
    );
}

/// Registers darwin 1.4.0 for `arch` over the catalog.
async fn register_mac_1_4(app: &TestApp, arch: &str) {
    let body = json!({"version": "1.4.0", "platform": "darwin", "architecture": arch,
        "release_date": "2026-04-02T00:00:00Z", "release_notes": "One build for every Mac",
        "files": files(&Keys::new(), "1.4.0", "darwin", arch)});
    let uri = format!("/api/v1/updates/{APP}/register");
    let reply = app
        .with_key(WRITE_KEY)
        .call("POST", &uri, Some(&body))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
}

/// A universal macOS 1.4.0 over the catalog, then an Apple silicon build of
/// the same version beside it.
#[rustfmt::skip]
const UNIVERSAL: &[(&str, &str)] = &[
    ("universal_tauri_static", "/tauri/desk/stable/latest.json"),
    ("universal_tauri_dynamic_intel", "/tauri/desk/stable/darwin/x86_64/1.1.0"),
    ("universal_electron_updater_latest_mac", "/electron-updater/desk/latest-mac.yml"),
    ("universal_squirrel_mac_intel", "/electron/desk/stable/darwin/x64/1.1.0"),
    ("universal_sparkle_appcast_apple_silicon", "/sparkle/desk/darwin/arm64/appcast.xml"),
    ("universal_api_check_apple_silicon", "/api/v1/updates/desk/check?current_version=1.1.0&platform=darwin&architecture=arm64"),
];
#[rustfmt::skip]
const UNIVERSAL_AND_ARM64: &[(&str, &str)] = &[
    ("universal_and_arm64_tauri_static", "/tauri/desk/stable/latest.json"),
    ("universal_and_arm64_electron_updater_latest_mac", "/electron-updater/desk/latest-mac.yml"),
    ("universal_and_arm64_sparkle_appcast_apple_silicon", "/sparkle/desk/darwin/arm64/appcast.xml"),
];

#[tokio::test]
async fn universal() {
    let _settings = settings().bind_to_scope();
    let app = catalog().await;
    register_mac_1_4(&app, "universal").await;
    snapshot_gets(&app, UNIVERSAL).await;
    register_mac_1_4(&app, "arm64").await;
    snapshot_gets(&app, UNIVERSAL_AND_ARM64).await;
}
