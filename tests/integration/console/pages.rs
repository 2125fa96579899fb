//! What the pages show, and to whom: a scoped key sees only its
//! applications (and the same 403 for others as for none), the admin pages
//! need an unscoped admin key, stored payloads come out escaped, and every
//! page carries the strict policy.

use serde_json::json;

use super::{Browser, console_app};
use crate::common::fixtures::release_body;
use crate::common::{ADMIN_KEY, READ_KEY};

const EVIL: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>";

#[tokio::test]
async fn a_scoped_key_sees_only_its_applications() {
    let app = console_app().await;
    app.seed("desk", &["1.0.0"]).await;
    app.seed("secret", &["1.0.0"]).await;
    let scoped = app.key_for(&["admin"], Some(&["desk"])).await;
    let browser = Browser::signed_in(&app, &scoped.token).await;

    let list = browser.get("/console/apps").await;
    list.assert_status(200);
    assert!(list.text.contains("/console/apps/desk"));
    assert!(!list.text.contains("secret"), "{}", list.text);
    assert!(list.text.contains("1 application"));

    browser.get("/console/apps/desk").await.assert_status(200);
    let other = browser.get("/console/apps/secret").await;
    let missing = browser.get("/console/apps/no-such-app").await;
    other.assert_status(403);
    missing.assert_status(403);
    assert_eq!(
        other.text.replace("secret", ""),
        missing.text.replace("no-such-app", ""),
        "the same answer whether the application exists or not"
    );
    for path in [
        "/console/apps/secret/adoption",
        "/console/apps/secret/releases/1.0.0/linux/amd64/pause",
        "/console/audit",
        "/console/keys",
        "/console/webhooks",
    ] {
        browser.get(path).await.assert_status(403);
    }
    assert!(
        !list.text.contains("/console/audit"),
        "no link to what the key may not open"
    );
}

#[tokio::test]
async fn the_application_page_lists_releases_by_channel_with_files_and_signatures() {
    let app = console_app().await;
    app.seed("desk", &["1.0.0"]).await;
    let mut beta = release_body("2.0.0-beta.1");
    beta["channel"] = json!("beta");
    beta["files"] = json!([{
        "url": "https://cdn.example.com/desk-2.0.0-beta.1.AppImage",
        "size": 123_456_789,
        "sha256": format!("{:064x}", 7),
        "signature": "untrusted comment: signature\nRWQ=\ntrusted comment: x\nAAAA"
    }]);
    beta.as_object_mut().unwrap().remove("download_url");
    beta.as_object_mut().unwrap().remove("checksum");
    beta.as_object_mut().unwrap().remove("file_size");
    app.publisher()
        .register("desk", &beta)
        .await
        .assert_status(201);

    let browser = Browser::signed_in(&app, READ_KEY).await;
    let page = browser.get("/console/apps/desk").await;
    page.assert_status(200);
    let html = &page.text;
    for expected in [
        "Channel beta",
        "Channel stable",
        "desk-2.0.0-beta.1.AppImage",
        "123.5 MB",
        "minisign, not checked",
        "unsigned",
        "not downloaded (verify_on_register is off)",
        "Everyone",
    ] {
        assert!(html.contains(expected), "{expected} in {html}");
    }
    assert!(
        html.find("Channel beta").unwrap() < html.find("Channel stable").unwrap(),
        "channels in order"
    );
}

#[tokio::test]
async fn the_adoption_page_draws_its_charts_from_counted_checks() {
    let app = console_app().await;
    app.seed("desk", &["1.0.0", "2.0.0"]).await;
    for (version, count) in [("1.0.0", 6), ("2.0.0", 4)] {
        for i in 0..count {
            let uri = format!(
                "/api/v1/updates/desk/check?current_version={version}&platform=linux&architecture=amd64&install_id={version}-{i}"
            );
            app.anonymous().get(&uri).await.assert_status(200);
        }
    }
    let browser = Browser::signed_in(&app, READ_KEY).await;
    let page = browser.get("/console/apps/desk/adoption").await;
    page.assert_status(200);
    let html = &page.text;
    assert!(
        html.contains("<strong>10</strong> unique installs"),
        "{html}"
    );
    assert_eq!(html.matches("<svg").count(), 2, "two charts: {html}");
    assert!(html.contains("60.0 %") && html.contains("40.0 %"), "{html}");
    let week = browser.get("/console/apps/desk/adoption?days=7").await;
    week.assert_status(200);
    let bad = browser.get("/console/apps/desk/adoption?days=3").await;
    bad.assert_status(422);
    assert!(bad.text.contains("must be 7, 30 or 90"));
}

#[tokio::test]
async fn the_audit_log_filters_and_pages() {
    let app = console_app().await;
    app.seed("desk", &["1.0.0"]).await;
    app.seed("other", &["1.0.0"]).await;
    let browser = Browser::signed_in(&app, ADMIN_KEY).await;
    let all = browser.get("/console/audit").await;
    all.assert_status(200);
    assert!(all.text.contains("console.signed_in"));
    assert!(
        all.text.contains("release.published") || all.text.contains("release.registered"),
        "{}",
        all.text
    );

    let desk = browser
        .get("/console/audit?application=desk&action=application.")
        .await;
    desk.assert_status(200);
    assert!(desk.text.contains("application.created"), "{}", desk.text);
    assert!(!desk.text.contains("<code>other</code>"), "{}", desk.text);
    assert!(!desk.text.contains("console.signed_in"));
    browser
        .get("/console/audit?cursor=-3")
        .await
        .assert_status(422);
    let long = format!("/console/audit?actor={}", "a".repeat(300));
    browser.get(&long).await.assert_status(422);
}

#[tokio::test]
async fn keys_and_webhooks_are_listed_for_an_unscoped_admin_without_secrets() {
    let app = console_app().await;
    let key = app.key_for(&["publish"], Some(&["desk"])).await;
    let browser = Browser::signed_in(&app, ADMIN_KEY).await;
    let keys = browser.get("/console/keys").await;
    keys.assert_status(200);
    assert!(keys.text.contains(&key.id) && keys.text.contains("key-publish"));
    let secret = key.token.rsplit('_').next().unwrap();
    assert!(!keys.text.contains(secret), "no token in the page");
    browser.get("/console/webhooks").await.assert_status(200);

    let reader = Browser::signed_in(&app, READ_KEY).await;
    reader.get("/console/keys").await.assert_status(403);
}

#[tokio::test]
async fn stored_payloads_come_out_escaped_under_the_strict_policy() {
    let app = console_app().await;
    app.admin()
        .create_app(
            &json!({"id": "evil", "name": EVIL, "description": EVIL, "platforms": ["linux"]}),
        )
        .await
        .assert_status(201);
    let browser = Browser::signed_in(&app, ADMIN_KEY).await;
    for path in [
        "/console/apps",
        "/console/apps/evil",
        "/console/apps/evil/adoption",
        "/console/audit",
    ] {
        let page = browser.get(path).await;
        page.assert_status(200);
        assert!(
            !page.text.contains("<script>alert"),
            "{path}: {}",
            page.text
        );
        assert!(!page.text.contains("<img src=x"), "{path}");
        let policy = page.header("content-security-policy");
        assert!(
            policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"),
            "{policy}"
        );
        assert_eq!(page.header("x-content-type-options"), "nosniff");
        assert_eq!(page.header("cache-control"), "no-store", "{path}");
    }
    let page = browser.get("/console/apps").await;
    assert!(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[tokio::test]
async fn the_stylesheet_and_icon_are_served_from_the_binary() {
    let app = console_app().await;
    let browser = Browser::new(&app);
    let css = browser.get("/console/assets/console.css").await;
    css.assert_status(200);
    assert!(css.header("content-type").starts_with("text/css"));
    assert!(css.text.contains(".scroll"));
    let icon = browser.get("/console/assets/icon.svg").await;
    icon.assert_status(200);
    assert_eq!(icon.header("content-type"), "image/svg+xml");
}

#[tokio::test]
async fn the_release_list_narrows_to_one_platform() {
    let app = console_app().await;
    app.seed("desk", &["1.0.0"]).await;
    let mut windows = release_body("1.0.0");
    windows["platform"] = json!("windows");
    windows["download_url"] = json!("https://cdn.example.com/desk-setup.exe");
    app.publisher()
        .register("desk", &windows)
        .await
        .assert_status(201);
    let browser = Browser::signed_in(&app, READ_KEY).await;

    let all = browser.get("/console/apps/desk").await;
    assert!(
        all.text.contains("release-desk-1.0.0-linux-amd64")
            && all.text.contains("release-desk-1.0.0-windows-amd64")
    );
    let only = browser.get("/console/apps/desk?platform=windows").await;
    only.assert_status(200);
    assert!(only.text.contains("release-desk-1.0.0-windows-amd64"));
    assert!(!only.text.contains("release-desk-1.0.0-linux-amd64"));
    assert!(
        only.text.contains(r#"<option value="windows" selected>"#),
        "{}",
        only.text
    );
    let alias = browser.get("/console/apps/desk?platform=win").await;
    alias.assert_status(200);
    assert!(!alias.text.contains("release-desk-1.0.0-linux-amd64"));
    let unknown = browser.get("/console/apps/desk?platform=amiga").await;
    unknown.assert_status(422);
    assert!(unknown.text.contains("unknown platform"));
}
