//! `GET /download/{app}`: the opt-in, the listing, the User-Agent's pick,
//! the policy headers, inert payloads, and the same over a real socket.

use regex::Regex;
use serde_json::json;

use super::{create_app, digest, register, release, seeded};
use crate::common::{LiveServer, TestApp, test_settings};

const WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15";
const LINUX_ARM: &str = "Mozilla/5.0 (X11; Linux aarch64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const LINUX: &str =
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

/// The recommended download's platform, architecture and link.
fn primary(html: &str) -> Option<(String, String, String)> {
    let article = Regex::new(
        r#"<article class="download primary" data-platform="([^"]+)" data-architecture="([^"]+)">"#,
    )
    .unwrap();
    let link = Regex::new(r#"<a class="button" id="primary-download" href="([^"]+)">"#).unwrap();
    let found = article.captures(html)?;
    let href = link
        .captures(html)
        .expect("a primary card has the primary link");
    Some((found[1].into(), found[2].into(), href[1].into()))
}

#[tokio::test]
async fn only_applications_that_opted_in_have_a_page() {
    let app = TestApp::new().await;
    create_app(&app, "private", "Private", false).await;
    register(
        &app,
        "private",
        &release(
            "1.0.0",
            "linux",
            "amd64",
            &[("https://cdn.example.com/p.deb", 10)],
        ),
    )
    .await;
    let visitor = app.anonymous();
    let unknown = visitor.get("/download/nosuchapp").await;
    unknown.assert_error(404, "NOT_FOUND");
    for uri in [
        "/download/private",
        "/download/private/feed.atom",
        "/download/private/linux",
        "/download/private/linux/amd64",
    ] {
        let reply = visitor.get(uri).await;
        reply.assert_error(404, "NOT_FOUND");
        assert_eq!(
            reply.body["message"], unknown.body["message"],
            "{uri} tells nothing apart"
        );
    }
    app.admin()
        .update_app("private", &json!({"config": {"download_page": true}}))
        .await
        .assert_status(200);
    assert_eq!(
        app.admin().get_app("private").await.body["config"]["download_page"],
        true
    );
    let entries = app.audit_entries("action=application.updated").await;
    assert!(
        entries[0].to_string().contains("config.download_page"),
        "{entries:?}"
    );
    let page = visitor.get("/download/private").await;
    page.assert_status(200);
    assert!(page.text.contains("p.deb"), "{}", page.text);
}

#[tokio::test]
async fn the_page_lists_every_platform_with_size_and_checksum() {
    let app = seeded().await;
    let page = app.anonymous().get("/download/desk").await;
    page.assert_status(200);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(page.header("cache-control"), "public, max-age=60");
    assert_eq!(page.header("vary"), "User-Agent");
    let html = &page.text;
    assert!(
        html.starts_with("<!DOCTYPE html><html lang=\"en\">"),
        "{html}"
    );
    assert!(html.contains("<h1>Download Desk</h1>"), "{html}");
    assert!(html.contains(r#"<link rel="stylesheet" href="/download/assets/download.css">"#));
    assert!(html.contains(
        r#"<link rel="alternate" type="application/atom+xml" title="Desk releases" href="/download/desk/feed.atom">"#
    ));
    for (label, file, size, checksum) in [
        (
            "Linux (x64)",
            "Desk-2.0.0.AppImage",
            "123.5 MB",
            123_456_789,
        ),
        (
            "Linux (ARM64)",
            "Desk-2.0.0-arm64.AppImage",
            "120.0 MB",
            120_000_000,
        ),
        (
            "Windows (x64)",
            "Desk-2.0.0-setup.exe",
            "80.0 MB",
            80_000_000,
        ),
        ("macOS (Intel)", "Desk-2.0.0-x64.dmg", "95.0 MB", 95_000_000),
        (
            "macOS (Apple silicon)",
            "Desk-2.0.0-arm64.dmg",
            "94.0 MB",
            94_000_000,
        ),
    ] {
        assert!(
            html.contains(&format!("<h3>{label}</h3>")),
            "{label}: {html}"
        );
        assert!(html.contains(&format!(">{file}</dd>")), "{file}: {html}");
        assert!(html.contains(&format!(">{size}</data>")), "{size}: {html}");
        assert!(
            html.contains(&digest(checksum)),
            "{label}'s checksum: {html}"
        );
    }
    assert!(html.contains(r#"<time datetime="2026-11-20T12:00:00Z">20 November 2026</time>"#));
    assert!(html.contains("Notes of <strong>2.0.0</strong>"), "{html}");
    // Listed in the application's platform order: linux, windows, darwin.
    let order: Vec<usize> = [
        "Linux (x64)",
        "Linux (ARM64)",
        "Windows (x64)",
        "macOS (Intel)",
    ]
    .iter()
    .map(|label| html.find(label).unwrap())
    .collect();
    assert!(order.is_sorted(), "{order:?}");
}

#[tokio::test]
async fn releases_not_offered_to_everyone_stay_off_the_page() {
    let app = seeded().await;
    let html = app.anonymous().get("/download/desk").await.text;
    // 3.0.0-beta.1 is a pre-release, 2.3.0 at 50 %, 2.2.0 on beta, 2.1.0
    // yanked (windows) and paused (darwin); 1.0.0 is not the newest.
    for hidden in ["3.0.0", "2.3.0", "2.2.0", "2.1.0", "1.0.0"] {
        assert!(!html.contains(hidden), "{hidden} is listed: {html}");
    }
    assert_eq!(
        html.matches(r#"<dd class="version">2.0.0</dd>"#).count(),
        5,
        "{html}"
    );
}

#[tokio::test]
async fn the_user_agent_picks_the_recommended_download() {
    let app = seeded().await;
    let visitor = app.anonymous();
    let cases = [
        (WINDOWS, ("windows", "amd64")),
        // A Mac's architecture is not told: the first one published.
        (MAC, ("darwin", "amd64")),
        (LINUX, ("linux", "amd64")),
        (LINUX_ARM, ("linux", "arm64")),
    ];
    for (user_agent, (platform, arch)) in cases {
        let page = visitor
            .get_with("/download/desk", ("user-agent", user_agent))
            .await;
        page.assert_status(200);
        let found = primary(&page.text).unwrap_or_else(|| panic!("no primary for {user_agent}"));
        let expected = (
            platform.to_string(),
            arch.to_string(),
            format!("/download/desk/{platform}/{arch}"),
        );
        assert_eq!(found, expected, "{user_agent}");
        assert!(page.text.contains("Other platforms"));
        // The recommended one is not listed twice.
        let label = format!("data-platform=\"{platform}\" data-architecture=\"{arch}\"");
        assert_eq!(page.text.matches(&label).count(), 1, "{user_agent}");
    }
    for user_agent in [
        "curl/8.5.0",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile",
    ] {
        let page = visitor
            .get_with("/download/desk", ("user-agent", user_agent))
            .await;
        assert_eq!(primary(&page.text), None, "{user_agent}");
        assert!(page.text.contains("Choose your platform"), "{user_agent}");
    }
}

#[tokio::test]
async fn the_policy_allows_no_inline_script_or_style() {
    let app = seeded().await;
    let page = app.anonymous().get("/download/desk").await;
    let policy = page.header("content-security-policy");
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(policy.contains("style-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert!(!page.text.contains("<script"), "no script at all");
    assert!(!page.text.contains("style="), "no inline style");
    let css = app.anonymous().get("/download/assets/download.css").await;
    css.assert_status(200);
    assert_eq!(css.header("content-type"), "text/css; charset=utf-8");
    assert!(css.text.contains("@media"), "a phone layout");
    let icon = app.anonymous().get("/download/assets/icon.svg").await;
    icon.assert_status(200);
    assert_eq!(icon.header("content-type"), "image/svg+xml");
}

#[tokio::test]
async fn stored_payloads_in_names_and_notes_are_inert() {
    let app = TestApp::new().await;
    let name = r#"<script>window.__xss=1</script><img src=x onerror="window.__xss=2">"#;
    create_app(&app, "evil", name, true).await;
    let mut body = release(
        "1.0.0",
        "linux",
        "amd64",
        &[("https://cdn.example.com/e.deb", 10)],
    );
    body["release_notes"] = json!(concat!(
        "Fixed\n\n<script>window.__xss=3</script>\n\n",
        "<img src=x onerror=\"window.__xss=4\">\n\n",
        "<a href=\"javascript:window.__xss=5\" onclick=\"window.__xss=6\">click</a> ",
        "[docs](https://example.com/docs) <p style=\"x\" onmouseover=\"y()\">hover</p>",
    ));
    register(&app, "evil", &body).await;
    let html = app.anonymous().get("/download/evil").await.text;
    assert!(
        html.contains("<h1>Download &lt;script&gt;window.__xss=1&lt;/script&gt;&lt;img src=x onerror=&quot;window.__xss=2&quot;&gt;</h1>"),
        "{html}"
    );
    for forbidden in [
        "<script",
        "<img",
        "onerror=\"",
        "onclick",
        "onmouseover",
        "javascript:",
        "__xss=3",
        "__xss=4",
    ] {
        assert!(!html.contains(forbidden), "{forbidden} in {html}");
    }
    assert!(
        html.contains(r#"<a href="https://example.com/docs" rel="noopener noreferrer">docs</a>"#),
        "{html}"
    );
    assert!(html.contains("hover"), "{html}");
}

#[tokio::test]
async fn bad_addresses_are_client_errors() {
    let app = seeded().await;
    let visitor = app.anonymous();
    let bad_id = visitor.get("/download/not%20an%20id").await;
    assert!(!bad_id.field_error("app").is_empty(), "{}", bad_id.text);
    visitor
        .get("/download/desk/")
        .await
        .assert_error(404, "NOT_FOUND");
    visitor
        .get("/download/desk/linux/amd64/extra")
        .await
        .assert_error(404, "NOT_FOUND");
    let post = visitor.post("/download/desk", &json!({})).await;
    post.assert_error(405, "INVALID_REQUEST");
}

#[tokio::test]
async fn an_application_named_assets_still_has_its_page() {
    let app = TestApp::new().await;
    create_app(&app, "assets", "Assets", true).await;
    register(
        &app,
        "assets",
        &release(
            "1.0.0",
            "linux",
            "amd64",
            &[("https://cdn.example.com/a.deb", 10)],
        ),
    )
    .await;
    app.anonymous()
        .get("/download/assets")
        .await
        .assert_status(200);
    let redirect = app.anonymous().get("/download/assets/linux").await;
    redirect.assert_status(302);
    assert_eq!(redirect.header("location"), "https://cdn.example.com/a.deb");
}

#[tokio::test]
async fn the_page_and_a_redirect_over_a_real_socket() {
    let server = LiveServer::start(test_settings()).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let admin = format!("Bearer {}", crate::common::ADMIN_KEY);
    let created = client
        .post(format!("{}/api/v1/applications", server.base))
        .header("authorization", &admin)
        .json(&json!({"id": "live", "name": "Live", "platforms": ["windows"], "config": {"download_page": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let registered = client
        .post(format!("{}/api/v1/updates/live/register", server.base))
        .header("authorization", &admin)
        .json(&release(
            "1.2.3",
            "windows",
            "amd64",
            &[("https://cdn.example.com/Live-setup.exe", 10)],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let page = client
        .get(format!("{}/download/live", server.base))
        .header("user-agent", WINDOWS)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        !page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("unsafe-inline")
    );
    let html = page.text().await.unwrap();
    assert_eq!(
        primary(&html),
        Some((
            "windows".into(),
            "amd64".into(),
            "/download/live/windows/amd64".into()
        ))
    );
    let redirect = client
        .get(format!("{}/download/live/windows/amd64", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 302);
    assert_eq!(
        redirect.headers()["location"],
        "https://cdn.example.com/Live-setup.exe"
    );
    server.stop().await;
}
