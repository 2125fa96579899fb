//! The update decision's cases as a table: stepping stones, required
//! propagation, pre-releases, channels, and the application's
//! `min_version`, `max_version` and `required_update`. The in-process
//! decision suite (`tests/integration/decision_rule`) checks them against the
//! catalog; the import suite (`tests/live/import_go.rs`) against a server on a
//! store imported from the Go updater's storage.

use super::sut::ApplicationConfig;

/// One release of a case: linux/amd64 on `stable` unless said otherwise.
pub struct R {
    pub version: &'static str,
    pub required: bool,
    pub minimum: Option<&'static str>,
    pub channel: &'static str,
    pub platform: &'static str,
}

pub const fn r(version: &'static str) -> R {
    R {
        version,
        required: false,
        minimum: None,
        channel: "stable",
        platform: "linux",
    }
}

pub const fn req(version: &'static str) -> R {
    R {
        required: true,
        ..r(version)
    }
}

pub const fn min(version: &'static str, minimum: &'static str) -> R {
    R {
        minimum: Some(minimum),
        ..r(version)
    }
}

pub const fn beta(version: &'static str) -> R {
    R {
        channel: "beta",
        ..r(version)
    }
}

pub const fn windows(version: &'static str) -> R {
    R {
        platform: "windows",
        ..r(version)
    }
}

/// The configuration a case's application has by default.
pub fn plain() -> ApplicationConfig {
    ApplicationConfig::default()
}

/// (offered version, required) or None for "no update".
pub type Expected = Option<(&'static str, bool)>;

pub struct Case {
    pub name: &'static str,
    pub releases: &'static [R],
    pub config: fn() -> ApplicationConfig,
    pub current: &'static str,
    pub channel: &'static str,
    pub allow_prerelease: bool,
    pub expected: Expected,
}

pub fn prerelease_app() -> ApplicationConfig {
    ApplicationConfig {
        allow_prerelease: true,
        ..Default::default()
    }
}

pub fn min_version_2() -> ApplicationConfig {
    ApplicationConfig {
        min_version: Some("2.0.0".parse().unwrap()),
        ..Default::default()
    }
}

pub fn max_version_1_5() -> ApplicationConfig {
    ApplicationConfig {
        max_version: Some("1.5.0".parse().unwrap()),
        ..Default::default()
    }
}

pub fn always_required() -> ApplicationConfig {
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

pub static CASES: &[Case] = &[
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
