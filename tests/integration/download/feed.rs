//! `GET /download/{app}/feed.atom`: well-formed Atom, public versions
//! newest first, notes as sanitised HTML.

use serde_json::json;

use super::{create_app, register, release, seeded};
use crate::common::TestApp;

const ATOM: &str = "http://www.w3.org/2005/Atom";

fn child<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> roxmltree::Node<'a, 'a> {
    node.children()
        .find(|c| c.has_tag_name((ATOM, name)))
        .unwrap_or_else(|| panic!("no <{name}>"))
}

#[tokio::test]
async fn the_feed_is_atom_with_public_versions_newest_first() {
    let app = seeded().await;
    let reply = app.anonymous().get("/download/desk/feed.atom").await;
    reply.assert_status(200);
    assert_eq!(
        reply.header("content-type"),
        "application/atom+xml; charset=utf-8"
    );
    assert_eq!(reply.header("cache-control"), "public, max-age=60");
    let document = roxmltree::Document::parse(&reply.text).expect("well-formed XML");
    let feed = document.root_element();
    assert!(feed.has_tag_name((ATOM, "feed")), "{}", reply.text);
    assert_eq!(child(feed, "title").text(), Some("Desk releases"));
    assert_eq!(child(feed, "id").text(), Some("urn:updater:download:desk"));
    assert_eq!(child(feed, "updated").text(), Some("2026-11-20T12:00:00Z"));
    let entries: Vec<_> = feed
        .children()
        .filter(|c| c.has_tag_name((ATOM, "entry")))
        .collect();
    let titles: Vec<_> = entries
        .iter()
        .map(|e| child(*e, "title").text().unwrap())
        .collect();
    assert_eq!(titles, ["Desk 2.0.0", "Desk 1.0.0"], "only public versions");
    let newest = entries[0];
    assert_eq!(
        child(newest, "id").text(),
        Some("urn:updater:download:desk:2.0.0")
    );
    assert_eq!(
        child(newest, "link").attribute("href"),
        Some("/download/desk")
    );
    let content = child(newest, "content");
    assert_eq!(content.attribute("type"), Some("html"));
    let html = content.text().unwrap();
    assert!(html.contains("Notes of <strong>2.0.0</strong>"), "{html}");
    assert!(
        html.contains("<li>Windows (x64): Desk-2.0.0-setup.exe, 80.0 MB</li>"),
        "{html}"
    );
}

#[tokio::test]
async fn payloads_in_the_feed_are_escaped_and_sanitised() {
    let app = TestApp::new().await;
    let name = "<b>Evil</b> & \"co\" ]]>";
    create_app(&app, "evil", name, true).await;
    let mut body = release(
        "1.0.0",
        "linux",
        "amd64",
        &[("https://cdn.example.com/e.deb", 10)],
    );
    body["release_notes"] =
        json!("<script>alert(1)</script><img src=x onerror=alert(2)>\n\n**ok**");
    register(&app, "evil", &body).await;
    let reply = app.anonymous().get("/download/evil/feed.atom").await;
    let document = roxmltree::Document::parse(&reply.text).expect("well-formed XML");
    let feed = document.root_element();
    assert_eq!(
        child(feed, "title").text(),
        Some(format!("{name} releases").as_str())
    );
    let entry = child(feed, "entry");
    let html = child(entry, "content").text().unwrap();
    assert!(
        !html.contains("<script") && !html.contains("onerror") && !html.contains("<img"),
        "{html}"
    );
    assert!(html.contains("<strong>ok</strong>"), "{html}");
}

#[tokio::test]
async fn an_application_without_public_releases_has_an_empty_feed() {
    let app = TestApp::new().await;
    create_app(&app, "fresh", "Fresh", true).await;
    let reply = app.anonymous().get("/download/fresh/feed.atom").await;
    let document = roxmltree::Document::parse(&reply.text).expect("well-formed XML");
    assert_eq!(
        document
            .root_element()
            .children()
            .filter(|c| c.has_tag_name((ATOM, "entry")))
            .count(),
        0
    );
    let page = app.anonymous().get("/download/fresh").await;
    page.assert_status(200);
    assert!(
        page.text
            .contains("No release is available for download yet.")
    );
}
