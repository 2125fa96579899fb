//! Real update clients against the server on a real socket: the
//! `cargo-packager-updater` crate (Tauri's protocol and minisign) and the
//! `velopack` crate. Artifacts come from a separate loopback HTTP server, as
//! they would from a CDN. `publish` runs `updater publish` on the build
//! tools' outputs and checks that these clients find what it published.

mod common;
#[path = "clients/publish.rs"]
mod publish;

use std::path::Path;

use common::*;
use serde_json::{Value, json};

struct Setup {
    server: LiveServer,
    artifacts: ArtifactServer,
    http: reqwest::Client,
}

impl Setup {
    async fn start() -> Self {
        let mut settings = test_settings();
        settings.security.allow_http_download_urls = true;
        // The artifact server is on loopback.
        settings
            .security
            .artifact_verification
            .allow_private_addresses = true;
        Self {
            server: LiveServer::start(settings).await,
            artifacts: ArtifactServer::start().await,
            http: http(),
        }
    }

    async fn create_app(&self, body: Value) {
        self.post("/api/v1/applications", ADMIN_KEY, body).await;
    }

    async fn register(&self, app: &str, body: Value) {
        self.post(&format!("/api/v1/updates/{app}/register"), WRITE_KEY, body)
            .await;
    }

    async fn post(&self, path: &str, key: &str, body: Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.server.base))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
    }
}

fn describe(check: &velopack::UpdateCheck) -> String {
    match check {
        velopack::UpdateCheck::RemoteIsEmpty => "RemoteIsEmpty".into(),
        velopack::UpdateCheck::NoUpdateAvailable => "NoUpdateAvailable".into(),
        velopack::UpdateCheck::UpdateAvailable(info) => {
            format!("UpdateAvailable({})", info.TargetFullRelease.Version)
        }
    }
}

/// Runs a blocking client off the async runtime.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

fn packager(base: &str, app: &str, current: &str, pubkey: &str) -> cargo_packager_updater::Updater {
    let endpoint =
        format!("{base}/tauri/{app}/stable/{{{{target}}}}/{{{{arch}}}}/{{{{current_version}}}}");
    cargo_packager_updater::UpdaterBuilder::new(
        current.parse().unwrap(),
        cargo_packager_updater::Config {
            endpoints: vec![endpoint.parse().unwrap()],
            pubkey: pubkey.to_string(),
            windows: None,
        },
    )
    .build()
    .unwrap()
}

/// The architecture this machine reports, in the server's names.
fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => panic!("no test mapping for {other}"),
    }
}

#[tokio::test]
async fn cargo_packager_updater_checks_downloads_and_verifies() {
    let setup = Setup::start().await;
    let keys = TauriKeys::generate();
    setup.create_app(json!({"id": "demo", "name": "Demo", "platforms": ["linux"],
                   "config": {"tauri_public_key": keys.tauri_public_key(), "verify_on_register": true}}),
        )
        .await;
    let bytes: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let url = setup.artifacts.put("demo-1.1.0.AppImage", &bytes);
    setup.register("demo", json!({"version": "1.1.0", "platform": "linux", "architecture": host_arch(),
                   "release_notes": "Better",
                   "files": [{"kind": "appimage", "url": url, "size": bytes.len(), "sha256": sha256_hex(&bytes),
                              "signature": keys.sign(&bytes, "demo-1.1.0.AppImage", "1.1.0")}]}),
        )
        .await;
    let base = setup.server.base.clone();
    let pubkey = keys.tauri_public_key();

    let (found, downloaded) = blocking({
        let (base, pubkey) = (base.clone(), pubkey.clone());
        move || {
            let update = packager(&base, "demo", "1.0.0", &pubkey)
                .check()
                .unwrap()
                .expect("1.0.0 is offered an update");
            let downloaded = update.download();
            (update, downloaded)
        }
    })
    .await;
    assert_eq!(found.version, "1.1.0");
    assert_eq!(found.body.as_deref(), Some("Better"));
    assert!(matches!(
        found.format,
        cargo_packager_updater::UpdateFormat::AppImage
    ));
    assert_eq!(downloaded.expect("signature verifies"), bytes);

    let none = blocking({
        let (base, pubkey) = (base.clone(), pubkey.clone());
        move || packager(&base, "demo", "1.1.0", &pubkey).check().unwrap()
    })
    .await;
    assert!(none.is_none(), "204 means no update");

    // The CDN serves other bytes: the client refuses them.
    let mut tampered = bytes.clone();
    tampered[100] ^= 1;
    setup.artifacts.put("demo-1.1.0.AppImage", &tampered);
    let refused = blocking({
        let (base, pubkey) = (base.clone(), pubkey.clone());
        move || {
            packager(&base, "demo", "1.0.0", &pubkey)
                .check()
                .unwrap()
                .unwrap()
                .download()
        }
    })
    .await;
    let error = refused.expect_err("tampered artifact accepted").to_string();
    assert!(error.to_lowercase().contains("signature"), "{error}");

    // An application without a key cannot have signatures checked at
    // publish time; a forged one still fails in the client.
    setup
        .create_app(json!({"id": "nokey", "name": "No key", "platforms": ["linux"]}))
        .await;
    let genuine = b"genuine".to_vec();
    let url = setup.artifacts.put("nokey.AppImage", &genuine);
    setup.register("nokey", json!({"version": "2.0.0", "platform": "linux", "architecture": host_arch(),
                   "files": [{"kind": "appimage", "url": url, "size": genuine.len(), "sha256": sha256_hex(&genuine),
                              "signature": keys.sign(b"something else", "nokey.AppImage", "2.0.0")}]}),
        )
        .await;
    let forged = blocking(move || {
        packager(&base, "nokey", "1.0.0", &pubkey)
            .check()
            .unwrap()
            .unwrap()
            .download()
    })
    .await;
    let error = forged.expect_err("forged signature accepted").to_string();
    assert!(error.to_lowercase().contains("signature"), "{error}");
}

/// A Velopack install on disk: the manifest, a stand-in `Update.exe` and
/// the packages directory where downloads land.
fn velopack_install(root: &Path, version: &str) -> velopack::locator::VelopackLocatorConfig {
    velopack_install_of(root, "Demo.App", version)
}

fn velopack_install_of(
    root: &Path,
    id: &str,
    version: &str,
) -> velopack::locator::VelopackLocatorConfig {
    std::fs::create_dir_all(root.join("current")).unwrap();
    std::fs::create_dir_all(root.join("packages")).unwrap();
    let manifest = root.join("current/sq.version");
    std::fs::write(
        &manifest,
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<package><metadata><id>{id}</id><title>Demo</title>\
             <version>{version}</version><mainExe>demo</mainExe></metadata></package>"
        ),
    )
    .unwrap();
    let update_exe = root.join("Update");
    std::fs::write(&update_exe, b"#!/bin/sh\n").unwrap();
    velopack::locator::VelopackLocatorConfig {
        RootAppDir: root.to_path_buf(),
        UpdateExePath: update_exe,
        PackagesDir: root.join("packages"),
        ManifestPath: manifest,
        CurrentBinaryDir: root.join("current"),
        IsPortable: false,
    }
}

fn velopack_check(
    base: &str,
    locator: velopack::locator::VelopackLocatorConfig,
) -> (velopack::UpdateManager, velopack::UpdateCheck) {
    let manager = velopack::UpdateManager::new(
        velopack::sources::HttpSource::new(base),
        None,
        Some(locator),
    )
    .unwrap();
    let check = manager.check_for_updates().unwrap();
    (manager, check)
}

#[tokio::test]
async fn velopack_checks_and_downloads_from_the_feed() {
    let setup = Setup::start().await;
    setup
        .create_app(json!({"id": "demo", "name": "Demo", "platforms": ["linux"]}))
        .await;
    let package: Vec<u8> = (0..20_000u32).map(|i| (i % 253) as u8).collect();
    let url = setup.artifacts.put("Demo.App-1.1.0-full.nupkg", &package);
    setup.register("demo", json!({"version": "1.1.0", "platform": "linux", "architecture": "amd64",
                   "files": [{"kind": "nupkg", "url": url, "size": package.len(), "sha256": sha256_hex(&package)}]}),
        )
        .await;
    let base = format!("{}/velopack/demo/linux/x64", setup.server.base);
    let dir = tempfile::tempdir().unwrap();

    let root = dir.path().join("old");
    let (found, downloaded) = blocking({
        let (base, root) = (base.clone(), root.clone());
        move || {
            let (manager, check) = velopack_check(&base, velopack_install(&root, "1.0.0"));
            let velopack::UpdateCheck::UpdateAvailable(info) = check else {
                panic!("1.0.0 should be offered 1.1.0, got {}", describe(&check));
            };
            let downloaded = manager.download_updates(&info, None);
            (info, downloaded)
        }
    })
    .await;
    assert_eq!(found.TargetFullRelease.Version, "1.1.0");
    assert_eq!(found.TargetFullRelease.PackageId, "Demo.App");
    downloaded.expect("download and SHA-256 check");
    let stored = std::fs::read(root.join("packages/Demo.App-1.1.0-full.nupkg")).unwrap();
    assert_eq!(stored, package);

    let current = blocking({
        let (base, root) = (base.clone(), dir.path().join("current-install"));
        move || velopack_check(&base, velopack_install(&root, "1.1.0")).1
    })
    .await;
    assert!(
        matches!(current, velopack::UpdateCheck::NoUpdateAvailable),
        "{}",
        describe(&current)
    );

    let empty = blocking({
        let (base, root) = (
            format!("{}/velopack/demo/linux/arm64", setup.server.base),
            dir.path().join("arm"),
        );
        move || velopack_check(&base, velopack_install(&root, "1.0.0")).1
    })
    .await;
    assert!(
        matches!(empty, velopack::UpdateCheck::RemoteIsEmpty),
        "{}",
        describe(&empty)
    );

    // Other bytes behind the URL: the SHA-256 check refuses them.
    setup
        .artifacts
        .put("Demo.App-1.1.0-full.nupkg", b"tampered package");
    let refused = blocking({
        let (base, root) = (base.clone(), dir.path().join("tampered"));
        move || {
            let (manager, check) = velopack_check(&base, velopack_install(&root, "1.0.0"));
            let velopack::UpdateCheck::UpdateAvailable(info) = check else {
                panic!("expected an update");
            };
            manager.download_updates(&info, None)
        }
    })
    .await;
    let error = format!("{:?}", refused.expect_err("tampered package accepted"));
    assert!(
        error.contains("Checksum") || error.contains("Size"),
        "{error}"
    );
}

#[tokio::test]
async fn velopack_staged_rollout_is_sticky_per_install() {
    let setup = Setup::start().await;
    setup
        .create_app(json!({"id": "demo", "name": "Demo", "platforms": ["linux"]}))
        .await;
    let package = b"staged package".to_vec();
    let url = setup.artifacts.put("p", &package);
    setup.register("demo", json!({"version": "2.0.0", "platform": "linux", "architecture": "amd64", "rollout_percentage": 10,
                   "files": [{"kind": "nupkg", "url": url, "size": package.len(), "sha256": sha256_hex(&package)}]}),
        )
        .await;
    let base = format!("{}/velopack/demo/linux/x64", setup.server.base);
    let dir = tempfile::tempdir().unwrap();
    let outcomes = blocking(move || {
        (0..60)
            .map(|i| {
                let root = dir.path().join(format!("install-{i}"));
                let locator = velopack_install(&root, "1.0.0");
                // Velopack sends the id it keeps in packages/.betaId as stagingId.
                std::fs::write(
                    root.join("packages/.betaId"),
                    format!("00000000-0000-4000-8000-{i:012}"),
                )
                .unwrap();
                let first = velopack_check(&base, locator.clone()).1;
                let second = velopack_check(&base, locator).1;
                let offered = |c: &velopack::UpdateCheck| {
                    matches!(c, velopack::UpdateCheck::UpdateAvailable(_))
                };
                assert_eq!(
                    offered(&first),
                    offered(&second),
                    "install {i} changed its answer"
                );
                offered(&first)
            })
            .collect::<Vec<bool>>()
    })
    .await;
    let admitted = outcomes.iter().filter(|o| **o).count();
    assert!(
        (1..=15).contains(&admitted),
        "{admitted} of 60 installs admitted at 10%"
    );
}
