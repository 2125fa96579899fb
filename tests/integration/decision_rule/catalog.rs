//! Lookups beyond the table: an unknown application, a deleted release,
//! a 20,000-release catalog.

use super::{catalog, plain, r, release, req};
use crate::common::sut::{Change, ReleaseKey, UpdateDecision, UpdateQuery, parse_version};

#[test]
fn unknown_application_is_none() {
    let catalog = catalog(&[r("1.0.0")], plain());
    let current = parse_version("1.0.0").unwrap();
    let query = UpdateQuery {
        current_version: &current,
        platform: "linux",
        architecture: "amd64",
        channel: "stable",
        allow_prerelease: false,
        install_id: None,
    };
    assert!(catalog.decide("other", &query).is_none());
}

#[test]
fn deleting_a_release_removes_it_from_decisions() {
    let mut catalog = catalog(&[r("1.1.0"), req("1.2.0")], plain());
    let current = parse_version("1.0.0").unwrap();
    let query = UpdateQuery {
        current_version: &current,
        platform: "linux",
        architecture: "amd64",
        channel: "stable",
        allow_prerelease: false,
        install_id: None,
    };
    catalog.apply(Change::ReleaseDeleted(ReleaseKey {
        application_id: "app".into(),
        version: parse_version("1.2.0").unwrap(),
        platform: "linux".into(),
        architecture: "amd64".into(),
    }));
    match catalog.decide("app", &query).unwrap() {
        UpdateDecision::Update { release, required } => {
            assert_eq!(release.version().to_string(), "1.1.0");
            assert!(!required, "the deleted required release must not count");
        }
        UpdateDecision::NoUpdate => panic!("1.1.0 should still be offered"),
    }
}

#[test]
fn large_catalog_lookups() {
    let versions: Vec<String> = (0..20_000)
        .map(|i| format!("1.{}.{}", i / 100, i % 100))
        .collect();
    let mut catalog = catalog(&[], plain());
    for (i, v) in versions.iter().enumerate() {
        catalog.apply(Change::ReleaseUpserted(release(
            v,
            "linux",
            "stable",
            i == 10_000,
            None,
        )));
    }
    let old = parse_version("1.0.5").unwrap();
    let query = UpdateQuery {
        current_version: &old,
        platform: "linux",
        architecture: "amd64",
        channel: "stable",
        allow_prerelease: false,
        install_id: None,
    };
    match catalog.decide("app", &query).unwrap() {
        UpdateDecision::Update { release, required } => {
            assert_eq!(release.version().to_string(), "1.199.99");
            assert!(required, "release 1.100.0 is required and skipped");
        }
        UpdateDecision::NoUpdate => panic!("expected an update"),
    }
}
