//! The public download page (`/download/{app}`): the opt-in, what the page
//! lists, the User-Agent's pick, the redirects, the Atom feed, and that
//! stored payloads in names and notes come out inert. Through the
//! production router, with one suite over a real socket.

mod feed;
mod page;
mod redirects;
mod universal;

use serde_json::{Value, json};

use crate::common::TestApp;

/// The application every suite here publishes.
pub const APP: &str = "desk";

/// An application with the download page on (`download_page`).
pub async fn create_app(app: &TestApp, id: &str, name: &str, download_page: bool) {
    app.admin()
        .create_app(&json!({
            "id": id,
            "name": name,
            "description": "A desk for your files",
            "platforms": ["linux", "windows", "darwin"],
            "config": {"download_page": download_page},
        }))
        .await
        .assert_status(201);
}

/// A distinct SHA-256-shaped digest for each file.
pub fn digest(seed: u32) -> String {
    format!("{seed:064x}")
}

/// A release of `version` for one target with `files` (URL, size), each
/// with a digest derived from its size.
pub fn release(version: &str, platform: &str, arch: &str, files: &[(&str, u64)]) -> Value {
    let files: Vec<Value> = files
        .iter()
        .map(|(url, size)| json!({"url": url, "size": size, "sha256": digest(*size as u32)}))
        .collect();
    json!({
        "version": version,
        "platform": platform,
        "architecture": arch,
        "files": files,
        "release_notes": format!("Notes of **{version}**"),
        "release_date": "2026-11-20T12:00:00Z",
    })
}

pub async fn register(app: &TestApp, id: &str, body: &Value) {
    app.publisher().register(id, body).await.assert_status(201);
}

const CDN: &str = "https://cdn.example.com";

/// `desk` with stable 2.0.0 on five targets (1.0.0 before it), and newer
/// releases no visitor may see: a pre-release, a partial rollout, a paused
/// one, a yanked one and one on `beta`.
pub async fn seeded() -> TestApp {
    let app = TestApp::new().await;
    create_app(&app, APP, "Desk", true).await;
    let linux = |v: &str| {
        release(
            v,
            "linux",
            "amd64",
            &[
                (&format!("{CDN}/Desk-{v}.AppImage"), 123_456_789),
                (&format!("{CDN}/desk_{v}_amd64.deb"), 45_600_000),
                (&format!("{CDN}/desk-{v}.x86_64.rpm"), 45_700_000),
            ],
        )
    };
    register(&app, APP, &linux("1.0.0")).await;
    register(&app, APP, &linux("2.0.0")).await;
    let targets = [
        (
            "linux",
            "arm64",
            vec![(format!("{CDN}/Desk-2.0.0-arm64.AppImage"), 120_000_000)],
        ),
        (
            "windows",
            "amd64",
            vec![
                (format!("{CDN}/Desk-2.0.0-delta.nupkg"), 5_000_000),
                (format!("{CDN}/Desk-2.0.0-full.nupkg"), 90_000_000),
                (format!("{CDN}/Desk-2.0.0-setup.exe"), 80_000_000),
                (format!("{CDN}/Desk-2.0.0.msi"), 81_000_000),
            ],
        ),
        (
            "darwin",
            "amd64",
            vec![(format!("{CDN}/Desk-2.0.0-x64.dmg"), 95_000_000)],
        ),
        (
            "darwin",
            "arm64",
            vec![(format!("{CDN}/Desk-2.0.0-arm64.dmg"), 94_000_000)],
        ),
    ];
    for (platform, arch, files) in targets {
        let files: Vec<(&str, u64)> = files.iter().map(|(u, s)| (u.as_str(), *s)).collect();
        register(&app, APP, &release("2.0.0", platform, arch, &files)).await;
    }
    for (version, patch) in [
        ("3.0.0-beta.1", json!({})),
        ("2.3.0", json!({"rollout_percentage": 50})),
        ("2.2.0", json!({"channel": "beta"})),
    ] {
        let mut body = linux(version);
        body.as_object_mut()
            .unwrap()
            .extend(patch.as_object().unwrap().clone());
        register(&app, APP, &body).await;
    }
    let exe = format!("{CDN}/Desk-2.1.0-setup.exe");
    let dmg = format!("{CDN}/Desk-2.1.0-x64.dmg");
    register(
        &app,
        APP,
        &release("2.1.0", "windows", "amd64", &[(&exe, 1)]),
    )
    .await;
    register(
        &app,
        APP,
        &release("2.1.0", "darwin", "amd64", &[(&dmg, 1)]),
    )
    .await;
    let admin = app.admin();
    admin
        .patch_release(
            APP,
            "2.1.0/windows/amd64",
            &json!({"yanked": true, "yank_reason": "crash"}),
        )
        .await
        .assert_status(200);
    admin
        .patch_release(APP, "2.1.0/darwin/amd64", &json!({"rollout_paused": true}))
        .await
        .assert_status(200);
    app
}
