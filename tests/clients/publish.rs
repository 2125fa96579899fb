//! `updater publish` on the build tools' own outputs
//! (tests/fixtures/build-outputs), then the real clients find the update:
//! cargo-packager-updater (Tauri protocol, minisign from `tauri signer`) and
//! the velopack crate. No release body is written by hand: the CLI builds it.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::{Setup, blocking, describe, host_arch, packager, velopack_check, velopack_install_of};
use crate::common::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/build-outputs/1.2.0")
}

/// Serves every file of `dir` from the artifact server, as a CDN would.
fn serve_dir(setup: &Setup, dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            setup.artifacts.put(&name, &std::fs::read(&path).unwrap());
        }
    }
}

async fn run_publish(setup: &Setup, extra: &[&str], dir: &Path) {
    let mut args: Vec<String> = ["publish", "--app", "demo", "--version", "1.2.0", "--json"]
        .map(String::from)
        .to_vec();
    args.extend([
        "--base-url".into(),
        format!("{}/files/", setup.artifacts.base),
    ]);
    args.extend(extra.iter().map(|a| a.to_string()));
    args.push(dir.to_str().unwrap().to_string());
    let server = setup.server.base.clone();
    let output = blocking(move || {
        std::process::Command::new(binary())
            .args(&args)
            .env("UPDATER_SERVER", server)
            .env("UPDATER_TOKEN", WRITE_KEY)
            .output()
            .unwrap()
    })
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(!stdout.contains(WRITE_KEY) && !stderr.contains(WRITE_KEY));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["status"], "published", "{report}");
    assert_eq!(report["verified"], true, "{report}");
}

#[tokio::test]
async fn a_published_tauri_release_reaches_cargo_packager_updater() {
    if host_arch() != "amd64" {
        eprintln!("skipped: the Tauri fixtures are x86_64 builds");
        return;
    }
    let setup = Setup::start().await;
    let pubkey = std::fs::read_to_string(fixtures().join("tauri.pub")).unwrap();
    let pubkey = pubkey.trim().to_string();
    setup
        .create_app(
            json!({"id": "demo", "name": "Demo", "platforms": ["linux", "windows", "darwin"],
                   "config": {"tauri_public_key": pubkey, "verify_on_register": true}}),
        )
        .await;
    let dir = fixtures().join("tauri-action");
    serve_dir(&setup, &dir);
    run_publish(&setup, &[], &dir).await;

    let base = setup.server.base.clone();
    let (found, downloaded) = blocking(move || {
        let update = packager(&base, "demo", "1.0.0", &pubkey)
            .check()
            .unwrap()
            .expect("1.0.0 is offered 1.2.0");
        let downloaded = update.download();
        (update, downloaded)
    })
    .await;
    assert_eq!(found.version, "1.2.0");
    assert!(matches!(
        found.format,
        cargo_packager_updater::UpdateFormat::AppImage
    ));
    let expected = std::fs::read(dir.join("Demo_1.2.0_amd64.AppImage")).unwrap();
    assert_eq!(
        downloaded.expect("the tauri signer's signature verifies"),
        expected
    );
}

#[tokio::test]
async fn a_published_velopack_release_reaches_the_velopack_client() {
    let setup = Setup::start().await;
    setup
        .create_app(json!({"id": "demo", "name": "Demo", "platforms": ["linux"],
                           "config": {"verify_on_register": true}}))
        .await;
    let dir = fixtures().join("velopack");
    serve_dir(&setup, &dir);
    run_publish(&setup, &["--platform", "linux", "--arch", "amd64"], &dir).await;

    let base = format!("{}/velopack/demo/linux/x64", setup.server.base);
    let install = tempfile::tempdir().unwrap();
    let root = install.path().to_path_buf();
    let (found, downloaded) = blocking({
        let root = root.clone();
        move || {
            let (manager, check) =
                velopack_check(&base, velopack_install_of(&root, "Demo", "1.0.0"));
            let velopack::UpdateCheck::UpdateAvailable(info) = check else {
                panic!("1.0.0 should be offered 1.2.0, got {}", describe(&check));
            };
            let downloaded = manager.download_updates(&info, None);
            (info, downloaded)
        }
    })
    .await;
    assert_eq!(found.TargetFullRelease.Version, "1.2.0");
    downloaded.expect("download and SHA-256 check");
    let stored = std::fs::read(root.join("packages/Demo-1.2.0-full.nupkg")).unwrap();
    assert_eq!(
        stored,
        std::fs::read(dir.join("Demo-1.2.0-full.nupkg")).unwrap()
    );
}
