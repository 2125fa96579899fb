//! Staged rollouts, pauses and yanks in the decision.

use super::{catalog, plain, r, release};
use crate::common::sut::{
    Catalog, Change, Latest, Release, UpdateDecision, UpdateQuery, parse_version,
};

fn query_for<'a>(current: &'a semver::Version, install_id: Option<&'a str>) -> UpdateQuery<'a> {
    UpdateQuery {
        current_version: current,
        platform: "linux",
        architecture: "amd64",
        channel: "stable",
        allow_prerelease: false,
        install_id,
    }
}

fn offered(catalog: &Catalog, current: &str, install_id: Option<&str>) -> Option<String> {
    let current = parse_version(current).unwrap();
    match catalog
        .decide("app", &query_for(&current, install_id))
        .unwrap()
    {
        UpdateDecision::NoUpdate => None,
        UpdateDecision::Update { release, .. } => Some(release.version().to_string()),
    }
}

fn with(version: &str, edit: impl FnOnce(&mut Release)) -> Release {
    let mut r = release(version, "linux", "stable", false, None);
    edit(&mut r);
    r
}

#[test]
fn a_ten_percent_rollout_admits_ten_percent_and_decides_consistently() {
    let mut catalog = catalog(&[r("1.0.0")], plain());
    catalog.apply(Change::ReleaseUpserted(with("1.1.0", |r| {
        r.rollout.percentage = 10
    })));
    let ids: Vec<String> = (0..10_000).map(|i| format!("install-{i:05}")).collect();
    let admitted = ids
        .iter()
        .filter(|id| offered(&catalog, "1.0.0", Some(id)).as_deref() == Some("1.1.0"))
        .count();
    assert!(
        (900..=1100).contains(&admitted),
        "10% of 10,000 is 1,000 ± 100; got {admitted}"
    );
    for id in ids.iter().take(2_000) {
        assert_eq!(
            offered(&catalog, "0.9.0", Some(id)),
            offered(&catalog, "0.9.0", Some(id)),
            "the same install gets the same answer"
        );
        let answer = offered(&catalog, "0.9.0", Some(id));
        assert!(
            matches!(answer.as_deref(), Some("1.1.0" | "1.0.0")),
            "outside the rollout the previous release is offered"
        );
    }
    assert_eq!(
        offered(&catalog, "1.0.0", None),
        None,
        "installs without an id only get complete rollouts"
    );
}

#[test]
fn raising_a_rollout_keeps_admitted_installs_admitted() {
    let mut catalog = catalog(&[], plain());
    let ids: Vec<String> = (0..2_000).map(|i| format!("id-{i}")).collect();
    let mut previous: Vec<bool> = vec![false; ids.len()];
    for percentage in [5, 20, 50, 100] {
        catalog.apply(Change::ReleaseUpserted(with("2.0.0", |r| {
            r.rollout.percentage = percentage
        })));
        let now: Vec<bool> = ids
            .iter()
            .map(|id| offered(&catalog, "1.0.0", Some(id)).is_some())
            .collect();
        for (before, after) in previous.iter().zip(&now) {
            assert!(
                !before || *after,
                "an admitted install never drops out when the rollout grows"
            );
        }
        previous = now;
    }
    assert!(previous.iter().all(|a| *a));
}

#[test]
fn paused_rollouts_and_yanked_releases_are_not_offered() {
    let mut catalog = catalog(&[r("1.0.0")], plain());
    catalog.apply(Change::ReleaseUpserted(with("1.1.0", |r| {
        r.rollout.paused = true
    })));
    assert_eq!(
        offered(&catalog, "0.9.0", Some("x")),
        Some("1.0.0".into()),
        "paused: the previous release"
    );
    catalog.apply(Change::ReleaseUpserted(with("1.1.0", |_| {})));
    assert_eq!(
        offered(&catalog, "0.9.0", Some("x")),
        Some("1.1.0".into()),
        "resumed"
    );

    catalog.apply(Change::ReleaseUpserted(with("1.2.0", |r| {
        r.yanked = true;
        r.required = true;
    })));
    assert_eq!(
        offered(&catalog, "1.0.0", None),
        Some("1.1.0".into()),
        "yanked is never offered"
    );
    let current = parse_version("1.0.0").unwrap();
    match catalog.decide("app", &query_for(&current, None)).unwrap() {
        UpdateDecision::Update { required, .. } => {
            assert!(!required, "a yanked required release does not count")
        }
        UpdateDecision::NoUpdate => panic!("1.1.0 should be offered"),
    }
    catalog.apply(Change::ReleaseUpserted(with("1.3.0", |_| {})));
    assert_eq!(
        offered(&catalog, "1.2.0", None),
        Some("1.3.0".into()),
        "installs on a yanked release move to the newest good one"
    );
    assert!(matches!(
        catalog.latest("app", "linux", "amd64", "stable", false),
        Latest::Release(r) if r.version().to_string() == "1.3.0"
    ));
}
