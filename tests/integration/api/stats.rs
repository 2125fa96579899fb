//! Adoption analytics through the API: a known population of installs is
//! counted exactly and estimated within the sketch's error, every protocol
//! is counted, and `GET /stats` is scoped and refuses bad parameters.

use serde_json::{Value, json};

use crate::common::fixtures::{app_body, release_body};
use crate::common::sut::{Rollout, SKETCH_RELATIVE_ERROR, parse_version};
use crate::common::{Reply, TestApp};

const INSTALLS: usize = 10_000;
const SHA512: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Which version install `i` runs: 70 % on 1.0.0, 20 % on 1.5.0, 10 % on 2.0.0.
fn running(i: usize) -> &'static str {
    match i % 10 {
        0..=6 => "1.0.0",
        7 | 8 => "1.5.0",
        _ => "2.0.0",
    }
}

fn group<'a>(stats: &'a Value, key: &str) -> &'a Value {
    stats["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == key)
        .unwrap_or_else(|| panic!("no group {key} in {stats}"))
}

fn outcome_checks(stats: &Value, outcome: &str, offered: &str) -> u64 {
    stats["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["outcome"] == outcome && o["offered"] == offered)
        .map(|o| o["checks"].as_u64().unwrap())
        .sum()
}

/// Within three standard errors of the sketch (or exact below 129).
fn assert_estimate(estimate: &Value, expected: usize, what: &str) {
    let estimate = estimate.as_u64().unwrap() as f64;
    let expected = expected as f64;
    let tolerance = if expected <= 128.0 {
        0.0
    } else {
        3.0 * SKETCH_RELATIVE_ERROR * expected
    };
    assert!(
        (estimate - expected).abs() <= tolerance,
        "{what}: estimated {estimate}, expected {expected} ± {tolerance}"
    );
}

async fn stats(app: &TestApp, query: &str) -> Reply {
    app.reader()
        .get(&format!("/api/v1/applications/pop/stats{query}"))
        .await
}

#[tokio::test]
async fn a_known_population_is_counted_exactly_and_estimated_within_the_sketch_error() {
    let app = TestApp::new().await;
    app.seed("pop", &["1.0.0", "1.5.0"]).await;
    let mut staged = release_body("2.0.0");
    staged["rollout_percentage"] = json!(10);
    app.publisher()
        .register("pop", &staged)
        .await
        .assert_status(201);

    let rollout = Rollout {
        percentage: 10,
        paused: false,
    };
    let v2 = parse_version("2.0.0").unwrap();
    let mut expected_offers = [0u64; 3]; // 2.0.0, 1.5.0, held back
    let mut expected_checks = 0u64;
    for i in 0..INSTALLS {
        let id = format!("install-{i:05}");
        let current = running(i);
        // Every tenth install checks twice: counted twice, installed once.
        for _ in 0..if i % 10 == 3 { 2 } else { 1 } {
            let uri = format!(
                "/api/v1/updates/pop/check?current_version={current}&platform=linux&architecture=amd64&install_id={id}"
            );
            let reply = app.anonymous().get(&uri).await;
            reply.assert_status(200);
            expected_checks += 1;
            let admitted = rollout.admits("pop", &v2, Some(&id));
            let expected = match (current, admitted) {
                ("2.0.0", _) => None,
                (_, true) => Some("2.0.0"),
                ("1.0.0", false) => Some("1.5.0"),
                _ => None,
            };
            assert_eq!(
                reply.body["latest_version"].as_str(),
                expected,
                "install {id}"
            );
            match (current, expected) {
                (_, Some("2.0.0")) => expected_offers[0] += 1,
                (_, Some(_)) => expected_offers[1] += 1,
                ("1.5.0", None) => expected_offers[2] += 1,
                _ => {}
            }
        }
    }

    let reply = stats(&app, "?by=version").await;
    reply.assert_status(200);
    let stats = &reply.body;
    assert_eq!(stats["checks"].as_u64(), Some(expected_checks));
    let on = |version: &str| (0..INSTALLS).filter(|i| running(*i) == version).count();
    let checks_on = |version: &str| {
        (0..INSTALLS)
            .filter(|i| running(*i) == version)
            .map(|i| if i % 10 == 3 { 2 } else { 1 })
            .sum::<u64>()
    };
    for version in ["1.0.0", "1.5.0", "2.0.0"] {
        assert_eq!(
            group(stats, version)["checks"].as_u64(),
            Some(checks_on(version))
        );
        assert_estimate(&group(stats, version)["installs"], on(version), version);
    }
    assert_estimate(&stats["installs"], INSTALLS, "all installs");
    assert_eq!(
        outcome_checks(stats, "offered", "2.0.0"),
        expected_offers[0]
    );
    assert_eq!(
        outcome_checks(stats, "offered", "1.5.0"),
        expected_offers[1]
    );
    assert_eq!(
        outcome_checks(stats, "rollout_excluded", ""),
        expected_offers[2]
    );
    assert_eq!(outcome_checks(stats, "none", ""), checks_on("2.0.0"));

    let funnel = stats["funnels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["version"] == "2.0.0")
        .expect("a funnel for the staged release");
    assert_eq!(funnel["rollout_percentage"], 10);
    assert_estimate(&funnel["eligible"], on("1.0.0") + on("1.5.0"), "eligible");
    let offered_installs = (0..INSTALLS)
        .filter(|i| running(*i) != "2.0.0")
        .filter(|i| rollout.admits("pop", &v2, Some(&format!("install-{i:05}"))))
        .count();
    assert_estimate(&funnel["offered"], offered_installs, "offered");
    assert_estimate(&funnel["running"], on("2.0.0"), "running");
    let share: f64 = group(stats, "1.0.0")["share"].as_f64().unwrap();
    assert!((share - 0.7).abs() < 0.05, "share of 1.0.0: {share}");
    let series = stats["series"].as_array().unwrap();
    assert!(series.iter().any(|p| p["key"] == "2.0.0"), "{series:?}");

    let by_platform = stats_of(&app, "?by=platform").await;
    assert_eq!(by_platform["groups"][0]["key"], "linux");
    assert_eq!(
        by_platform["groups"][0]["checks"].as_u64(),
        Some(expected_checks)
    );
}

async fn stats_of(app: &TestApp, query: &str) -> Value {
    let reply = stats(app, query).await;
    reply.assert_status(200);
    reply.body
}

#[tokio::test]
async fn every_protocol_is_counted_and_install_ids_are_never_echoed() {
    let app = TestApp::new().await;
    app.admin()
        .create_app(&app_body("pop"))
        .await
        .assert_status(201);
    for version in ["1.0.0", "1.1.0"] {
        let body = json!({"version": version, "platform": "linux", "architecture": "amd64",
            "files": [{"kind": "appimage", "url": format!("https://cdn.example.com/Pop-{version}.AppImage"),
                       "size": 3, "sha512": SHA512}]});
        app.publisher()
            .register("pop", &body)
            .await
            .assert_status(201);
    }
    let anonymous = app.anonymous();
    anonymous
        .get("/tauri/pop/stable/linux/x86_64/1.0.0?install_id=tauri-install")
        .await;
    anonymous
        .get("/electron-updater/pop/latest-linux.yml")
        .await
        .assert_status(200);
    anonymous
        .get("/velopack/pop/linux/x64/releases.linux.json?localVersion=1.1.0&stagingId=velopack-install")
        .await;
    anonymous
        .get("/api/v1/updates/pop/check?current_version=1.1.0&platform=linux&architecture=amd64")
        .await
        .assert_status(200);
    let stats = stats_of(&app, "").await;
    assert_eq!(stats["checks"].as_u64(), Some(4), "{stats}");
    assert_eq!(group(&stats, "1.0.0")["checks"], 1);
    assert_eq!(group(&stats, "1.1.0")["checks"], 2);
    assert_eq!(
        group(&stats, "unknown")["checks"],
        1,
        "electron-updater sends no version"
    );
    assert_eq!(stats["installs"], 2, "two checks carried an install id");
    assert_eq!(
        outcome_checks(&stats, "offered", "1.1.0"),
        1,
        "the channel file listed 1.1.0"
    );
    assert_eq!(
        outcome_checks(&stats, "none", ""),
        3,
        "the unsigned Tauri offer was not sent"
    );
    let text = serde_json::to_string(&stats).unwrap();
    assert!(!text.contains("tauri-install") && !text.contains("velopack-install"));
}

#[tokio::test]
async fn stats_are_scoped_and_bad_parameters_are_named() {
    let app = TestApp::new().await;
    app.seed("pop", &["1.0.0"]).await;
    app.seed("other", &["1.0.0"]).await;
    let scoped = app.key_for(&["read"], Some(&["other"])).await;
    app.anonymous()
        .get("/api/v1/applications/pop/stats")
        .await
        .assert_status(401);
    let denied = app
        .with_key(&scoped.token)
        .get("/api/v1/applications/pop/stats")
        .await;
    denied.assert_status(403);
    let hidden = app
        .with_key(&scoped.token)
        .get("/api/v1/applications/missing/stats")
        .await;
    hidden.assert_status(403);
    app.with_key(&scoped.token)
        .get("/api/v1/applications/other/stats")
        .await
        .assert_status(200);
    app.reader()
        .get("/api/v1/applications/missing/stats")
        .await
        .assert_status(404);
    for (query, field) in [
        ("?by=install", "by"),
        ("?from=yesterday", "from"),
        ("?to=2026-13-01", "to"),
        ("?from=2026-02-01&to=2026-01-01", "from"),
        ("?from=2020-01-01&to=2026-01-01", "from"),
    ] {
        let reply = stats(&app, query).await;
        reply.assert_status(422);
        assert!(
            reply.body["details"].get(field).is_some(),
            "{query}: {}",
            reply.body
        );
    }
    stats(&app, "?install_id=x").await.assert_status(422);
    let day = stats_of(&app, "?from=2026-01-01&to=2026-01-02").await;
    assert_eq!(day["checks"], 0);
    assert_eq!(day["from"], "2026-01-01T00:00:00Z");
}
