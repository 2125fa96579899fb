//! `updater import feed`, the real binary: the build tools' own feeds
//! (tests/fixtures/build-outputs, from the fixtures generator) over a real
//! loopback HTTP server and from files, with and without `--hash-files`;
//! re-runs and dry runs; then the imported versions through our protocol
//! endpoints.

use std::path::Path;

use serde_json::Value;

use crate::common::*;
use crate::durability::blocking_client;
use crate::import_go::{fixtures, report, updater};

const GITHUB: &str = "https://github.com/demo-org/demo/releases/download/v1.2.0/";
const DOWNLOADS: &str = "https://downloads.example.com/demo/sparkle/";

/// Serves every file of a fixture directory at `/files/<name>`.
fn serve_dir(artifacts: &ArtifactServer, dir: &Path, rewrite: &[(&str, &str)]) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let mut bytes = std::fs::read(&path).unwrap();
        if let Ok(text) = String::from_utf8(bytes.clone()) {
            let mut text = text;
            for (from, to) in rewrite {
                text = text.replace(from, to);
            }
            bytes = text.into_bytes();
        }
        artifacts.put(path.file_name().unwrap().to_str().unwrap(), &bytes);
    }
}

fn summary(report: &Value) -> (u64, u64, u64, u64) {
    let s = &report["summary"];
    let n = |k: &str| s[k].as_u64().unwrap();
    (n("would_import"), n("imported"), n("skipped"), n("refused"))
}

#[test]
fn feeds_over_http_and_from_files_are_imported_once_and_served() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let artifacts = runtime.block_on(ArtifactServer::start());
    let files = format!("{}/files/", artifacts.base);
    let outputs = fixtures().join("build-outputs/1.2.0");
    serve_dir(&artifacts, &outputs.join("electron"), &[]);
    serve_dir(&artifacts, &outputs.join("sparkle"), &[(DOWNLOADS, &files)]);
    serve_dir(
        &artifacts,
        &outputs.join("tauri-action"),
        &[(GITHUB, &files)],
    );
    serve_dir(&artifacts, &outputs.join("velopack"), &[]);

    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "");
    let run = |args: &[&str]| {
        let mut all = vec!["import", "feed"];
        all.extend(args);
        all.extend(["--app", "demo", "--json"]);
        updater(dir.path(), &all, &[])
    };
    let mac_feed = format!("{files}latest-mac.yml");

    // The application must exist first.
    let missing = run(&[&mac_feed]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("does not exist: create it first"),
        "{missing:?}"
    );
    let app = dir.path().join("app.json");
    std::fs::write(
        &app,
        r#"{"applications":[{"id":"demo","name":"Demo","platforms":["linux","windows","darwin"]}],"releases":[]}"#,
    )
    .unwrap();
    report(
        &updater(
            dir.path(),
            &["import", "go-updater", app.to_str().unwrap(), "--json"],
            &[],
        ),
        0,
    );

    // electron-builder over HTTP: names resolve against the feed's URL.
    assert_eq!(
        summary(&report(&run(&[&mac_feed, "--dry-run"]), 0)),
        (1, 0, 0, 0)
    );
    assert_eq!(summary(&report(&run(&[&mac_feed]), 0)), (0, 1, 0, 0));
    assert_eq!(summary(&report(&run(&[&mac_feed]), 0)), (0, 0, 1, 0));
    let windows_feed = format!("{files}latest.yml");
    assert_eq!(summary(&report(&run(&[&windows_feed]), 0)), (0, 1, 0, 0));

    // Sparkle gives a length and a signature, no digest.
    let appcast = format!("{files}appcast.xml");
    let unhashed = report(&run(&[&appcast]), 0);
    assert_eq!(summary(&unhashed), (0, 0, 0, 4), "{unhashed}");
    assert!(
        unhashed["records"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("re-run with --hash-files"),
        "{unhashed}"
    );
    // 1.2.0 for darwin/arm64 came from electron-builder already: refused, not replaced.
    let hashed = report(&run(&[&appcast, "--hash-files"]), 0);
    assert_eq!(summary(&hashed), (0, 3, 0, 1), "{hashed}");
    let conflict = hashed["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "refused")
        .unwrap();
    assert_eq!(conflict["id"], "demo-1.2.0-darwin-arm64");
    assert!(
        conflict["reason"]
            .as_str()
            .unwrap()
            .contains("already in the store with different files"),
        "{conflict}"
    );
    assert_eq!(
        summary(&report(&run(&[&appcast, "--hash-files"]), 0)),
        (0, 0, 3, 1),
        "re-hashed files are identical"
    );

    // Tauri's latest.json from a file (absolute URLs), hashed.
    let latest = dir.path().join("latest.json");
    let text = std::fs::read_to_string(outputs.join("tauri-action/latest.json")).unwrap();
    std::fs::write(&latest, text.replace(GITHUB, &files)).unwrap();
    let latest = latest.to_str().unwrap();
    // Its macOS and Windows 1.2.0 are electron-builder's already; Linux is new.
    let tauri = report(&run(&[latest, "--hash-files", "--channel", "tauri"]), 0);
    assert_eq!(summary(&tauri), (0, 1, 0, 2), "{tauri}");

    // Velopack from a file: relative names need --base-url, the target --platform/--arch.
    let velopack = outputs.join("velopack/releases.stable.json");
    let velopack = velopack.to_str().unwrap();
    let untargeted = report(&run(&[velopack]), 0);
    assert!(
        untargeted["records"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("give --platform"),
        "{untargeted}"
    );
    let imported = report(
        &run(&[
            velopack,
            "--base-url",
            &files,
            "--platform",
            "windows",
            "--arch",
            "arm64",
        ]),
        0,
    );
    assert_eq!(summary(&imported), (0, 1, 0, 0), "{imported}");

    // Unreadable input is 2.
    for bad in [
        format!("{files}missing.yml"),
        "/nonexistent/feed.yml".to_string(),
    ] {
        assert_eq!(run(&[&bad]).status.code(), Some(2), "{bad}");
    }
    let plain = run(&["http://updates.example.com/latest.yml"]);
    assert_eq!(plain.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&plain.stderr).contains("plain http"));

    let server = ChildServer::spawn(dir.path(), free_port());
    let client = blocking_client();
    let get = |path: &str| {
        let response = client.get(format!("{}{path}", server.base)).send().unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        response.text().unwrap()
    };
    let mac = get("/electron-updater/demo/latest-mac.yml");
    assert!(mac.contains("version: \"1.2.0\""), "{mac}");
    assert!(mac.contains("Demo-1.2.0-arm64-mac.zip"), "{mac}");
    let sparkle = get("/sparkle/demo/darwin/amd64/appcast.xml");
    assert!(
        sparkle.contains("Demo-1.1.0.zip") && sparkle.contains("Demo-1.2.0.zip"),
        "{sparkle}"
    );
    assert!(
        sparkle.contains("10.15"),
        "minimum system version kept: {sparkle}"
    );
    let tauri: Value = serde_json::from_str(&get("/tauri/demo/tauri/linux/x86_64/1.0.0")).unwrap();
    assert_eq!(tauri["version"], "1.2.0", "{tauri}");
    assert!(
        tauri["url"].as_str().unwrap().starts_with(&files),
        "{tauri}"
    );
    let releases: Value =
        serde_json::from_str(&get("/velopack/demo/windows/arm64/releases.stable.json")).unwrap();
    assert_eq!(releases["Assets"][0]["Version"], "1.2.0", "{releases}");
    drop(runtime);
}
