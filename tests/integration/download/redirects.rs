//! `GET /download/{app}/{platform}[/{arch}]`: a 302 to the newest public
//! release's file, with Hazel's platform and file-kind names.

use crate::common::TestApp;

use super::seeded;

const CDN: &str = "https://cdn.example.com";

#[tokio::test]
async fn platforms_aliases_and_file_kinds_redirect_to_the_newest_stable_file() {
    let app = seeded().await;
    let visitor = app.anonymous();
    let cases = [
        ("linux", "Desk-2.0.0.AppImage"),
        ("linux/amd64", "Desk-2.0.0.AppImage"),
        ("linux/arm64", "Desk-2.0.0-arm64.AppImage"),
        ("Linux/aarch64", "Desk-2.0.0-arm64.AppImage"),
        ("deb", "desk_2.0.0_amd64.deb"),
        ("rpm/x86_64", "desk-2.0.0.x86_64.rpm"),
        ("AppImage/arm64", "Desk-2.0.0-arm64.AppImage"),
        // Windows: the installer, never the Squirrel package.
        ("windows", "Desk-2.0.0-setup.exe"),
        ("win32", "Desk-2.0.0-setup.exe"),
        ("win/x64", "Desk-2.0.0-setup.exe"),
        ("exe", "Desk-2.0.0-setup.exe"),
        ("msi", "Desk-2.0.0.msi"),
        // A Mac's architecture is not told: the first one published, amd64.
        ("mac", "Desk-2.0.0-x64.dmg"),
        ("darwin/arm64", "Desk-2.0.0-arm64.dmg"),
        ("macos/aarch64", "Desk-2.0.0-arm64.dmg"),
        ("osx/x86_64", "Desk-2.0.0-x64.dmg"),
        ("dmg/arm64", "Desk-2.0.0-arm64.dmg"),
    ];
    for (target, file) in cases {
        let reply = visitor.get(&format!("/download/desk/{target}")).await;
        assert_eq!(reply.status, 302, "{target}: {}", reply.text);
        assert_eq!(
            reply.header("location"),
            format!("{CDN}/{file}"),
            "{target}"
        );
        assert_eq!(
            reply.header("cache-control"),
            "public, max-age=60",
            "{target}"
        );
    }
}

#[tokio::test]
async fn unknown_or_unpublished_targets_are_404s_that_say_why() {
    let app = seeded().await;
    let visitor = app.anonymous();
    let cases = [
        ("beos", "unknown platform `beos`"),
        ("linux/mips", "unknown architecture `mips`"),
        (
            "windows/arm64",
            "Desk has no stable release for `windows` on `arm64`",
        ),
        ("android", "Desk has no stable release for `android`"),
        (
            "rpm/arm64",
            "Desk has no stable release for `rpm` on `arm64`",
        ),
        ("%3Cscript%3E", "unknown platform `<script>`"),
    ];
    for (target, message) in cases {
        let reply = visitor.get(&format!("/download/desk/{target}")).await;
        reply.assert_error(404, "NOT_FOUND");
        let said = reply.body["message"].as_str().unwrap();
        assert!(said.contains(message), "{target}: {said}");
    }
}

#[tokio::test]
async fn a_yank_moves_the_redirect_back() {
    let app = TestApp::new().await;
    super::create_app(&app, "rollback", "Rollback", true).await;
    for version in ["1.0.0", "1.1.0"] {
        let url = format!("{CDN}/Rollback-{version}.deb");
        let body = super::release(version, "linux", "amd64", &[(url.as_str(), 10)]);
        super::register(&app, "rollback", &body).await;
    }
    let location = || async {
        app.anonymous()
            .get("/download/rollback/deb")
            .await
            .header("location")
            .to_string()
    };
    assert_eq!(location().await, format!("{CDN}/Rollback-1.1.0.deb"));
    app.admin()
        .patch_release(
            "rollback",
            "1.1.0/linux/amd64",
            &serde_json::json!({"yanked": true}),
        )
        .await
        .assert_status(200);
    assert_eq!(location().await, format!("{CDN}/Rollback-1.0.0.deb"));
}
