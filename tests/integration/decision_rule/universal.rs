//! Universal macOS releases in the decision: the table in
//! `common::decision_cases`, then what the table cannot say (installs in a
//! staged rollout, rollbacks, the newest release, feeds).

use std::sync::Arc;

use super::{catalog, plain, release};
use crate::common::decision_cases::{M, UNIVERSAL_CASES, mac, universal};
use crate::common::sut::{
    Catalog, Change, Latest, Release, UpdateDecision, UpdateQuery, parse_version,
};

fn mac_release(spec: &M) -> Release {
    let mut release = release(
        spec.version,
        "darwin",
        "stable",
        spec.required,
        spec.minimum,
    );
    release.key.architecture = spec.architecture.into();
    release.yanked = spec.yanked;
    release.rollout.percentage = spec.rollout;
    release
}

fn mac_catalog(releases: &[M]) -> Catalog {
    let mut catalog = catalog(&[], plain());
    for spec in releases {
        catalog.apply(Change::ReleaseUpserted(mac_release(spec)));
    }
    catalog
}

fn decide(
    catalog: &Catalog,
    architecture: &str,
    current: &str,
    install_id: Option<&str>,
) -> Option<(String, String, bool)> {
    let current = parse_version(current).unwrap();
    let query = UpdateQuery {
        current_version: &current,
        platform: "darwin",
        architecture,
        channel: "stable",
        allow_prerelease: false,
        install_id,
    };
    match catalog
        .decide("app", &query)
        .expect("the application exists")
    {
        UpdateDecision::NoUpdate => None,
        UpdateDecision::Update { release, required } => Some((
            release.version().to_string(),
            release.key.architecture.clone(),
            required,
        )),
    }
}

#[test]
fn universal_decision_table() {
    let mut failures = Vec::new();
    for case in UNIVERSAL_CASES {
        let catalog = mac_catalog(case.releases);
        let got = decide(&catalog, case.architecture, case.current, None);
        let expected = case
            .expected
            .map(|(v, a, r)| (v.to_string(), a.to_string(), r));
        if got != expected {
            failures.push(format!("{}: expected {expected:?}, got {got:?}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "universal decision failures:\n{}",
        failures.join("\n")
    );
    assert!(UNIVERSAL_CASES.len() >= 15);
}

#[test]
fn installs_outside_a_staged_specific_release_wait_for_it() {
    let staged = M {
        rollout: 20,
        ..mac("1.2.0", "arm64")
    };
    let catalog = mac_catalog(&[universal("1.1.0"), staged, universal("1.2.0")]);
    let mut admitted = 0;
    for i in 0..500 {
        let id = format!("install-{i}");
        // Outside the 20 %, an install is not handed the universal 1.2.0 instead.
        if let Some((version, architecture, _)) = decide(&catalog, "arm64", "1.1.0", Some(&id)) {
            assert_eq!(
                (version.as_str(), architecture.as_str()),
                ("1.2.0", "arm64")
            );
            admitted += 1;
        }
    }
    assert!((50..=150).contains(&admitted), "20% of 500; got {admitted}");
    assert_eq!(
        decide(&catalog, "amd64", "1.1.0", Some("install-1")),
        Some(("1.2.0".into(), "universal".into(), false)),
        "Intel Macs are not held back by the Apple silicon rollout"
    );
}

fn offered(catalog: &Catalog, architecture: &str, current: &str) -> Option<(String, String, bool)> {
    let current = parse_version(current).unwrap();
    let query = UpdateQuery {
        current_version: &current,
        platform: "darwin",
        architecture,
        channel: "stable",
        allow_prerelease: false,
        install_id: None,
    };
    catalog.offer("app", &query).map(|offer| {
        (
            offer.release.version().to_string(),
            offer.release.key.architecture.clone(),
            offer.rollback,
        )
    })
}

#[test]
fn an_install_on_a_yanked_universal_release_rolls_back_across_architectures() {
    let yanked = M {
        yanked: true,
        ..universal("1.2.0")
    };
    let catalog = mac_catalog(&[universal("1.0.0"), mac("1.1.0", "arm64"), yanked]);
    assert_eq!(
        offered(&catalog, "arm64", "1.2.0"),
        Some(("1.1.0".into(), "arm64".into(), true))
    );
    assert_eq!(
        offered(&catalog, "amd64", "1.2.0"),
        Some(("1.0.0".into(), "universal".into(), true))
    );
    assert_eq!(offered(&catalog, "arm64", "1.1.0"), None);
}

#[test]
fn latest_and_feeds_merge_universal_releases() {
    let beta = Release {
        channel: "beta".into(),
        ..mac_release(&universal("1.3.0-beta.1"))
    };
    let mut catalog = mac_catalog(&[
        universal("1.0.0"),
        mac("1.0.0", "arm64"),
        universal("1.1.0"),
        mac("1.2.0", "amd64"),
    ]);
    catalog.apply(Change::ReleaseUpserted(beta));
    let listed = |architecture: &str, channels: Option<&[&str]>| -> Vec<String> {
        catalog
            .newest_first("app", "darwin", architecture, channels)
            .unwrap()
            .map(|r| format!("{}/{}", r.version(), r.key.architecture))
            .collect()
    };
    assert_eq!(
        listed("arm64", Some(&["stable"])),
        ["1.1.0/universal", "1.0.0/arm64"]
    );
    assert_eq!(
        listed("amd64", None),
        [
            "1.3.0-beta.1/universal",
            "1.2.0/amd64",
            "1.1.0/universal",
            "1.0.0/universal"
        ]
    );
    assert_eq!(listed("universal", Some(&["stable"])).len(), 2);
    assert!(listed("386", None).is_empty());
    let latest =
        |architecture: &str| match catalog.latest("app", "darwin", architecture, "stable", false) {
            Latest::Release(r) => Some(format!("{}/{}", r.version(), r.key.architecture)),
            _ => None,
        };
    assert_eq!(latest("arm64").as_deref(), Some("1.1.0/universal"));
    assert_eq!(latest("amd64").as_deref(), Some("1.2.0/amd64"));
    let at = |architecture: &str, version: &str| {
        catalog
            .release_at(
                "app",
                "darwin",
                architecture,
                &["stable"],
                &parse_version(version).unwrap(),
            )
            .map(|r: &Arc<Release>| r.key.architecture.clone())
    };
    assert_eq!(at("arm64", "1.0.0").as_deref(), Some("arm64"));
    assert_eq!(at("amd64", "1.0.0").as_deref(), Some("universal"));
    assert_eq!(at("arm64", "1.2.0"), None);
}

#[test]
fn universal_releases_are_not_for_other_platforms() {
    let mut on_linux = mac_release(&universal("2.0.0"));
    on_linux.key.platform = "linux".into();
    let mut catalog = catalog(&[super::r("1.0.0")], plain());
    catalog.apply(Change::ReleaseUpserted(on_linux));
    let current = parse_version("0.9.0").unwrap();
    let query = UpdateQuery {
        current_version: &current,
        platform: "linux",
        architecture: "amd64",
        channel: "stable",
        allow_prerelease: false,
        install_id: None,
    };
    match catalog.decide("app", &query).unwrap() {
        UpdateDecision::Update { release, .. } => {
            assert_eq!(release.version().to_string(), "1.0.0")
        }
        UpdateDecision::NoUpdate => panic!("1.0.0 should be offered"),
    }
}
