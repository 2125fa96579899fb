//! Sparkle's appcast: strict RSS with the Sparkle namespace, EdDSA
//! signatures, channels and phased rollout.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use ed25519_dalek::Signer;
use serde_json::json;

use super::create_app;
use crate::common::{TestApp, sha256_hex};

const SPARKLE_NS: &str = "http://www.andymatuschak.org/xml-namespaces/sparkle";

#[tokio::test]
async fn sparkle_appcast_is_strict_rss_with_the_sparkle_namespace() {
    let app = TestApp::new().await;
    let sparkle = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    create_app(
        &app,
        "demo",
        json!({"sparkle_public_key": STANDARD.encode(sparkle.verifying_key().to_bytes())}),
    )
    .await;
    let day_ago = (Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    let releases = [
        (
            "1.0.0",
            "stable",
            100,
            false,
            "2026-01-01T00:00:00Z".to_string(),
        ),
        ("1.1.0", "stable", 30, false, day_ago),
        (
            "1.2.0-beta.1",
            "beta",
            100,
            true,
            "2026-01-03T00:00:00Z".to_string(),
        ),
    ];
    let mut archives = std::collections::HashMap::new();
    for (version, channel, percentage, required, date) in &releases {
        let bytes = format!("mac {version}").into_bytes();
        let signature = STANDARD.encode(sparkle.sign(&bytes).to_bytes());
        app.publisher()
            .register(
                "demo",
                &json!({"version": version, "platform": "darwin", "architecture": "arm64", "channel": channel,
                        "rollout_percentage": percentage, "required": required, "release_date": date,
                        "minimum_system_version": "11.0", "release_notes": "<b>Bold</b> & \"new\"",
                        "files": [{"kind": "zip", "url": format!("https://cdn.example.com/Demo-{version}.zip?a=1&b=2"),
                                   "size": bytes.len(), "sha256": sha256_hex(&bytes), "ed_signature": signature}]}),
            )
            .await
            .assert_status(201);
        archives.insert(version.to_string(), bytes);
    }
    let reply = app
        .anonymous()
        .get("/sparkle/demo/darwin/arm64/appcast.xml")
        .await;
    assert_eq!(reply.status, 200);
    assert!(
        reply.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/rss+xml")
    );
    let doc =
        roxmltree::Document::parse(&reply.text).unwrap_or_else(|e| panic!("{e}\n{}", reply.text));
    let rss = doc.root_element();
    assert_eq!(rss.tag_name().name(), "rss");
    assert_eq!(rss.attribute("version"), Some("2.0"));
    assert_eq!(rss.lookup_namespace_uri(Some("sparkle")), Some(SPARKLE_NS));
    let items: Vec<_> = rss
        .descendants()
        .filter(|n| n.has_tag_name("item"))
        .collect();
    assert_eq!(items.len(), 3);
    let child = |item: &roxmltree::Node, name: &str| {
        item.children()
            .find(|n| n.has_tag_name((SPARKLE_NS, name)))
            .and_then(|n| n.text().map(str::to_string))
    };
    let verifying = sparkle.verifying_key();
    for item in &items {
        let version = child(item, "version").expect("sparkle:version in the sparkle namespace");
        assert_eq!(
            child(item, "shortVersionString").as_deref(),
            Some(version.as_str())
        );
        assert_eq!(child(item, "minimumSystemVersion").as_deref(), Some("11.0"));
        let pub_date = item
            .children()
            .find(|n| n.has_tag_name("pubDate"))
            .unwrap()
            .text()
            .unwrap();
        assert!(DateTime::parse_from_rfc2822(pub_date).is_ok(), "{pub_date}");
        let description = item
            .children()
            .find(|n| n.has_tag_name("description"))
            .unwrap()
            .text()
            .unwrap();
        assert_eq!(description, "<b>Bold</b> & \"new\"");
        let enclosure = item
            .children()
            .find(|n| n.has_tag_name("enclosure"))
            .unwrap();
        let archive = &archives[&version];
        assert_eq!(
            enclosure.attribute("url"),
            Some(format!("https://cdn.example.com/Demo-{version}.zip?a=1&b=2").as_str())
        );
        assert_eq!(
            enclosure.attribute("length"),
            Some(archive.len().to_string().as_str())
        );
        assert_eq!(enclosure.attribute((SPARKLE_NS, "os")), Some("macos"));
        let signature = STANDARD
            .decode(enclosure.attribute((SPARKLE_NS, "edSignature")).unwrap())
            .unwrap();
        let signature = ed25519_dalek::Signature::from_slice(&signature).unwrap();
        verifying
            .verify_strict(archive, &signature)
            .expect("edSignature verifies over the archive");
        match version.as_str() {
            "1.2.0-beta.1" => {
                assert_eq!(child(item, "channel").as_deref(), Some("beta"));
                assert!(
                    item.children()
                        .any(|n| n.has_tag_name((SPARKLE_NS, "criticalUpdate")))
                );
            }
            "1.1.0" => {
                assert_eq!(child(item, "channel"), None);
                let interval: i64 = child(item, "phasedRolloutInterval")
                    .unwrap()
                    .parse()
                    .unwrap();
                // Sparkle admits group g (0..7) once elapsed >= interval * g;
                // 30 % needs ceil(0.3 * 7) = 3 eligible groups.
                let elapsed = 86_400;
                let eligible = (elapsed / interval + 1).min(7);
                assert_eq!(eligible, 3, "interval {interval}");
            }
            _ => assert_eq!(child(item, "phasedRolloutInterval"), None),
        }
    }
    // Newest first.
    assert_eq!(child(&items[0], "version").as_deref(), Some("1.2.0-beta.1"));
}
