//! The update decision as a table of cases, against the in-memory catalog.

use std::collections::BTreeMap;

use chrono::Utc;
use updater::domain::{
    Application, ApplicationConfig, Artifact, ArtifactKind, Catalog, Change, Latest, Release,
    ReleaseKey, Rollout, UpdateDecision, UpdateQuery, parse_version,
};

struct R {
    version: &'static str,
    required: bool,
    minimum: Option<&'static str>,
    channel: &'static str,
    platform: &'static str,
}

const fn r(version: &'static str) -> R {
    R {
        version,
        required: false,
        minimum: None,
        channel: "stable",
        platform: "linux",
    }
}

const fn req(version: &'static str) -> R {
    R {
        required: true,
        ..r(version)
    }
}

const fn min(version: &'static str, minimum: &'static str) -> R {
    R {
        minimum: Some(minimum),
        ..r(version)
    }
}

const fn beta(version: &'static str) -> R {
    R {
        channel: "beta",
        ..r(version)
    }
}

const fn windows(version: &'static str) -> R {
    R {
        platform: "windows",
        ..r(version)
    }
}

fn release(
    version: &str,
    platform: &str,
    channel: &str,
    required: bool,
    minimum: Option<&str>,
) -> Release {
    let now = Utc::now();
    Release {
        key: ReleaseKey {
            application_id: "app".into(),
            version: parse_version(version).unwrap(),
            platform: platform.into(),
            architecture: "amd64".into(),
        },
        channel: channel.into(),
        files: vec![Artifact {
            kind: ArtifactKind::Zip,
            url: format!("https://cdn.example.com/{version}.zip"),
            size: 1,
            sha256: Some("0".repeat(64)),
            sha512: None,
            sha1: None,
            signature: None,
            ed_signature: None,
            blockmap_url: None,
            blockmap_size: None,
        }],
        release_notes: String::new(),
        release_date: now,
        required,
        minimum_version: minimum.map(|m| parse_version(m).unwrap()),
        minimum_system_version: None,
        metadata: BTreeMap::new(),
        created_at: now,
        rollout: Rollout::default(),
        yanked: false,
        yank_reason: String::new(),
    }
}

fn catalog(releases: &[R], config: ApplicationConfig) -> Catalog {
    let now = Utc::now();
    let mut catalog = Catalog::default();
    catalog.apply(Change::ApplicationUpserted(Application {
        id: "app".into(),
        name: "App".into(),
        description: String::new(),
        platforms: vec!["linux".into(), "windows".into()],
        config,
        created_at: now,
        updated_at: now,
    }));
    for spec in releases {
        catalog.apply(Change::ReleaseUpserted(release(
            spec.version,
            spec.platform,
            spec.channel,
            spec.required,
            spec.minimum,
        )));
    }
    catalog
}

/// (offered version, required) or None for "no update".
type Expected = Option<(&'static str, bool)>;

struct Case {
    name: &'static str,
    releases: &'static [R],
    config: fn() -> ApplicationConfig,
    current: &'static str,
    channel: &'static str,
    allow_prerelease: bool,
    expected: Expected,
}

fn plain() -> ApplicationConfig {
    ApplicationConfig::default()
}

fn prerelease_app() -> ApplicationConfig {
    ApplicationConfig {
        allow_prerelease: true,
        ..Default::default()
    }
}

fn min_version_2() -> ApplicationConfig {
    ApplicationConfig {
        min_version: Some("2.0.0".parse().unwrap()),
        ..Default::default()
    }
}

fn max_version_1_5() -> ApplicationConfig {
    ApplicationConfig {
        max_version: Some("1.5.0".parse().unwrap()),
        ..Default::default()
    }
}

fn always_required() -> ApplicationConfig {
    ApplicationConfig {
        required_update: true,
        ..Default::default()
    }
}

const fn case(
    name: &'static str,
    releases: &'static [R],
    current: &'static str,
    expected: Expected,
) -> Case {
    Case {
        name,
        releases,
        config: plain,
        current,
        channel: "stable",
        allow_prerelease: false,
        expected,
    }
}

static CASES: &[Case] = &[
    case("no releases at all", &[], "1.0.0", None),
    case(
        "only older releases",
        &[r("0.9.0"), r("1.0.0")],
        "1.0.0",
        None,
    ),
    case("client newer than everything", &[r("1.0.0")], "3.0.0", None),
    case(
        "newest is offered",
        &[r("1.0.0"), r("1.1.0"), r("1.2.0")],
        "1.0.0",
        Some(("1.2.0", false)),
    ),
    case("other platform only", &[windows("2.0.0")], "1.0.0", None),
    case(
        "prerelease skipped by default",
        &[r("1.1.0"), r("2.0.0-beta.1")],
        "1.0.0",
        Some(("1.1.0", false)),
    ),
    case(
        "only prerelease newer: no update",
        &[r("2.0.0-rc.1")],
        "1.0.0",
        None,
    ),
    Case {
        allow_prerelease: true,
        ..case(
            "prerelease when the request allows",
            &[r("1.1.0"), r("2.0.0-beta.1")],
            "1.0.0",
            Some(("2.0.0-beta.1", false)),
        )
    },
    Case {
        config: prerelease_app,
        ..case(
            "prerelease when the application allows",
            &[r("1.1.0"), r("2.0.0-beta.1")],
            "1.0.0",
            Some(("2.0.0-beta.1", false)),
        )
    },
    case(
        "stepping stone when too old for newest",
        &[r("1.5.0"), min("2.0.0", "1.5.0")],
        "1.0.0",
        Some(("1.5.0", false)),
    ),
    case(
        "newest when minimum met",
        &[r("1.5.0"), min("2.0.0", "1.5.0")],
        "1.5.0",
        Some(("2.0.0", false)),
    ),
    case(
        "minimum equal to client is met",
        &[min("2.0.0", "1.2.0")],
        "1.2.0",
        Some(("2.0.0", false)),
    ),
    case(
        "nothing installable: no update",
        &[min("2.0.0", "1.5.0")],
        "1.0.0",
        None,
    ),
    case(
        "required on the offered release",
        &[req("1.1.0")],
        "1.0.0",
        Some(("1.1.0", true)),
    ),
    case(
        "skipped required release propagates",
        &[req("1.1.0"), r("1.2.0")],
        "1.0.0",
        Some(("1.2.0", true)),
    ),
    case(
        "required below the client does not count",
        &[req("1.0.0"), r("1.2.0")],
        "1.0.0",
        Some(("1.2.0", false)),
    ),
    case(
        "required above the offer does not count",
        &[r("1.5.0"), Rq::MIN_REQ_2],
        "1.0.0",
        Some(("1.5.0", false)),
    ),
    case(
        "required prerelease ignored when prereleases are off",
        &[Rq::REQ_BETA, r("1.2.0")],
        "1.0.0",
        Some(("1.2.0", false)),
    ),
    Case {
        allow_prerelease: true,
        ..case(
            "required prerelease counts when prereleases are on",
            &[Rq::REQ_BETA, r("1.2.0")],
            "1.0.0",
            Some(("1.2.0", true)),
        )
    },
    Case {
        config: min_version_2,
        ..case(
            "client below application min_version must update",
            &[r("2.1.0")],
            "1.0.0",
            Some(("2.1.0", true)),
        )
    },
    Case {
        config: min_version_2,
        ..case(
            "client at application min_version need not",
            &[r("2.1.0")],
            "2.0.0",
            Some(("2.1.0", false)),
        )
    },
    Case {
        config: max_version_1_5,
        ..case(
            "max_version caps the offer",
            &[r("1.4.0"), r("1.5.0"), r("2.0.0")],
            "1.0.0",
            Some(("1.5.0", false)),
        )
    },
    Case {
        config: max_version_1_5,
        ..case(
            "client at max_version gets nothing",
            &[r("2.0.0")],
            "1.5.0",
            None,
        )
    },
    Case {
        config: always_required,
        ..case(
            "required_update makes every update required",
            &[r("1.1.0")],
            "1.0.0",
            Some(("1.1.0", true)),
        )
    },
    case(
        "other channels are not candidates",
        &[beta("3.0.0"), r("1.1.0")],
        "1.0.0",
        Some(("1.1.0", false)),
    ),
    Case {
        channel: "beta",
        ..case(
            "beta channel sees beta releases",
            &[beta("3.0.0"), r("1.1.0")],
            "1.0.0",
            Some(("3.0.0", false)),
        )
    },
    case(
        "prerelease client moves to the release",
        &[r("1.0.0")],
        "1.0.0-rc.2",
        Some(("1.0.0", false)),
    ),
    case(
        "semver ordering, not string ordering",
        &[r("1.9.0"), r("1.10.0")],
        "1.0.0",
        Some(("1.10.0", false)),
    ),
];

/// Releases that need more than one modifier.
struct Rq;
impl Rq {
    const MIN_REQ_2: R = R {
        required: true,
        minimum: Some("1.5.0"),
        ..r("2.0.0")
    };
    const REQ_BETA: R = R {
        required: true,
        ..r("1.1.0-beta.1")
    };
}

#[test]
fn decision_table() {
    let mut failures = Vec::new();
    for case in CASES {
        let catalog = catalog(case.releases, (case.config)());
        let current = parse_version(case.current).unwrap();
        let query = UpdateQuery {
            current_version: &current,
            platform: "linux",
            architecture: "amd64",
            channel: case.channel,
            allow_prerelease: case.allow_prerelease,
            install_id: None,
        };
        let decision = catalog
            .decide("app", &query)
            .expect("the application exists");
        let got = match &decision {
            UpdateDecision::NoUpdate => None,
            UpdateDecision::Update { release, required } => {
                Some((release.version().to_string(), *required))
            }
        };
        let expected = case.expected.map(|(v, r)| (v.to_string(), r));
        if got != expected {
            failures.push(format!("{}: expected {expected:?}, got {got:?}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "decision rule failures:\n{}",
        failures.join("\n")
    );
    assert!(CASES.len() >= 25);
}

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
