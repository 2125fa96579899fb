//! A universal macOS build on the download page: listed first among the
//! Macs (it runs on every one), recommended to Mac visitors, reached by the
//! redirects of both Mac architectures, and dropped once neither would be
//! offered it.

use super::{APP, register, release, seeded};

const CDN: &str = "https://cdn.example.com";
const MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15";

fn mac(version: &str, arch: &str) -> serde_json::Value {
    let file = format!("{CDN}/Desk-{version}-{arch}.dmg");
    release(version, "darwin", arch, &[(&file, 96_000_000)])
}

#[tokio::test]
async fn a_universal_build_is_listed_recommended_and_redirected_to() {
    let app = seeded().await;
    register(&app, APP, &mac("2.1.0", "universal")).await;
    let visitor = app.anonymous();
    let page = visitor
        .get_with("/download/desk", ("user-agent", MAC))
        .await;
    page.assert_status(200);
    assert!(
        page.text.contains(
            r#"<article class="download primary" data-platform="darwin" data-architecture="universal">"#
        ),
        "a Mac visitor is recommended the universal build: {}",
        page.text
    );
    assert!(
        page.text
            .contains("macOS Universal (Apple silicon and Intel)")
    );
    // The seeded Intel 2.1.0 is paused: it hides the universal 2.1.0 from
    // Intel Macs, which keep 2.0.0.
    for (target, file) in [
        ("mac", "Desk-2.1.0-universal.dmg"),
        ("mac/universal-apple-darwin", "Desk-2.1.0-universal.dmg"),
        ("darwin/arm64", "Desk-2.1.0-universal.dmg"),
        ("osx/x86_64", "Desk-2.0.0-x64.dmg"),
        ("windows", "Desk-2.0.0-setup.exe"),
    ] {
        let reply = visitor.get(&format!("/download/desk/{target}")).await;
        assert_eq!(reply.status, 302, "{target}: {}", reply.text);
        assert_eq!(
            reply.header("location"),
            format!("{CDN}/{file}"),
            "{target}"
        );
    }
    let unknown = visitor.get("/download/desk/linux/universal").await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);

    register(&app, APP, &mac("2.1.0", "arm64")).await;
    let arm64 = visitor.get("/download/desk/mac/arm64").await;
    assert_eq!(
        arm64.header("location"),
        format!("{CDN}/Desk-2.1.0-arm64.dmg")
    );
    let page = visitor
        .get_with("/download/desk", ("user-agent", MAC))
        .await;
    assert!(
        !page.text.contains(r#"data-architecture="universal""#),
        "neither Mac would be offered the universal build: {}",
        page.text
    );
    let mac = visitor.get("/download/desk/mac").await;
    assert_eq!(mac.header("location"), format!("{CDN}/Desk-2.0.0-x64.dmg"));
    let exact = visitor.get("/download/desk/mac/universal").await;
    assert_eq!(
        exact.header("location"),
        format!("{CDN}/Desk-2.1.0-universal.dmg")
    );
}
