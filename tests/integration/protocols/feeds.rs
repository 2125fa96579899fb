//! Every feed at once: yanked releases and rollback, the application's
//! version policy, and hostile requests.

use serde_json::json;

use super::{create_app, file, tauri_fixture};
use crate::common::{TestApp, sha256_hex};

#[tokio::test]
async fn a_yanked_release_is_replaced_and_rolled_back_where_clients_can_downgrade() {
    let app = TestApp::new().await;
    create_app(&app, "demo", json!({})).await;
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
            app.publisher().register("demo", &json!({"version": version, "platform": platform, "architecture": arch, "files": files})).await.assert_status(201);
        }
    }
    for target in ["linux/amd64", "darwin/arm64", "windows/amd64"] {
        app.admin()
            .patch_release(
                "demo",
                &format!("1.1.0/{target}"),
                &json!({"yanked": true, "yank_reason": "crashes on start"}),
            )
            .await
            .assert_status(200);
    }
    let stats = app.reader().get_app("demo").await;
    assert_eq!(
        stats.body["stats"]["latest_version"], "1.0.0",
        "{}",
        stats.text
    );
    // Nobody is offered the yanked release.
    let squirrel = app
        .anonymous()
        .get("/electron/demo/stable/darwin/arm64/1.0.0")
        .await;
    assert_eq!(squirrel.status, 204);
    // Squirrel.Mac installs whatever a 200 names: installs on 1.1.0 go back.
    let back = app
        .anonymous()
        .get("/electron/demo/stable/darwin/arm64/1.1.0")
        .await;
    assert_eq!(back.status, 200);
    assert_eq!(back.body["name"], "1.0.0");
    assert_eq!(
        back.body["url"],
        "https://cdn.example.com/demo-1.0.0-mac.zip"
    );
    // electron-updater and Velopack see 1.0.0 as the newest (downgrade when allowed).
    let yml = app
        .anonymous()
        .get("/electron-updater/demo/latest-linux.yml")
        .await;
    assert!(yml.text.starts_with("version: \"1.0.0\"\n"), "{}", yml.text);
    let feed = app
        .anonymous()
        .get("/velopack/demo/windows/x64/releases.win.json")
        .await;
    let versions: Vec<&str> = feed.body["Assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["Version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["1.0.0"]);
    let releases = app
        .anonymous()
        .get("/electron/demo/stable/windows/amd64/RELEASES")
        .await;
    assert_eq!(releases.status, 200);
    assert!(
        releases.text.contains("demo-1.0.0-full.nupkg"),
        "{}",
        releases.text
    );
    assert!(!releases.text.contains("1.1.0"));
    let appcast = app
        .anonymous()
        .get("/sparkle/demo/darwin/arm64/appcast.xml")
        .await;
    assert_eq!(appcast.status, 200);
    assert!(
        appcast
            .text
            .contains("<sparkle:version>1.0.0</sparkle:version>")
    );
    assert!(!appcast.text.contains("1.1.0"));
}

#[tokio::test]
async fn feeds_apply_the_application_policy() {
    let app = TestApp::new().await;
    create_app(&app, "demo", json!({"max_version": "1.5.0"})).await;
    for (version, minimum) in [
        ("1.0.0", None),
        ("1.2.0-beta.1", None),
        ("1.4.0", Some("1.1.0")),
        ("2.0.0", None),
    ] {
        let bytes = format!("pkg {version}").into_bytes();
        for (platform, channel) in [("windows", "beta"), ("linux", "beta")] {
            app.publisher()
                .register(
                    "demo",
                    &json!({"version": version, "platform": platform, "architecture": "amd64", "channel": channel,
                            "minimum_version": minimum,
                            "files": [{"kind": "nupkg", "url": format!("https://cdn.example.com/{platform}-{version}.nupkg"),
                                       "size": bytes.len(), "sha256": sha256_hex(&bytes), "sha1": "ab".repeat(20)}]}),
                )
                .await
                .assert_status(201);
        }
    }
    // max_version caps every feed; minimum_version applies when the client says what it runs.
    let releases = app
        .anonymous()
        .get("/electron/demo/beta/windows/amd64/RELEASES?id=Demo&localVersion=1.0.0")
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
    let newer_client = app
        .anonymous()
        .get("/electron/demo/beta/windows/amd64/RELEASES?id=Demo&localVersion=1.2.0")
        .await;
    assert!(newer_client.text.contains("Demo-1.4.0-full.nupkg"));
    assert!(!newer_client.text.contains("2.0.0"));
    // A dotted pre-release is named the way Squirrel reads it, and its package redirects.
    let download = app
        .anonymous()
        .get("/electron/demo/beta/windows/amd64/Demo-1.2.0-beta-1-full.nupkg")
        .await;
    assert_eq!(download.status, 302);
    assert_eq!(
        download.headers["location"],
        "https://cdn.example.com/windows-1.2.0-beta.1.nupkg"
    );

    let feed = app
        .anonymous()
        .get("/velopack/demo/linux/x64/releases.beta.json?localVersion=1.0.0")
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
async fn hostile_protocol_requests_never_get_a_5xx() {
    let (app, _keys) = tauri_fixture().await;
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
        let reply = app.anonymous().get(uri).await;
        assert!(reply.status < 500, "{uri}: {} {}", reply.status, reply.text);
        if reply.status >= 400 {
            assert!(
                reply.error_code().is_some(),
                "{uri}: JSON error body expected, got {}",
                reply.text
            );
        }
    }
}
