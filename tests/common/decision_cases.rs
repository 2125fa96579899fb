//! The update decision's cases as a table: stepping stones, required
//! propagation, pre-releases, channels, and the application's
//! `min_version`, `max_version` and `required_update`. The in-process
//! decision suite (`tests/integration/decision_rule`) checks them against the
//! catalog; the import suite (`tests/live/import_go.rs`) against a server on a
//! store imported from the Go updater's storage. `UNIVERSAL_CASES`, for
//! universal macOS releases (which the Go updater does not have), are
//! checked by the in-process suite only.

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

/// One macOS release of a universal case, on `stable`: `architecture` is
/// `universal`, `arm64` or `amd64`.
pub struct M {
    pub version: &'static str,
    pub architecture: &'static str,
    pub required: bool,
    pub minimum: Option<&'static str>,
    pub yanked: bool,
    pub rollout: u8,
}

pub const fn mac(version: &'static str, architecture: &'static str) -> M {
    M {
        version,
        architecture,
        required: false,
        minimum: None,
        yanked: false,
        rollout: 100,
    }
}

pub const fn universal(version: &'static str) -> M {
    mac(version, "universal")
}

/// (offered version, its architecture, required) or None for "no update".
pub type MacExpected = Option<(&'static str, &'static str, bool)>;

/// A darwin client of `architecture` at `current`, with no install id (so
/// only complete rollouts are offered).
pub struct UniversalCase {
    pub name: &'static str,
    pub releases: &'static [M],
    pub architecture: &'static str,
    pub current: &'static str,
    pub expected: MacExpected,
}

const fn on_mac(
    name: &'static str,
    releases: &'static [M],
    architecture: &'static str,
    current: &'static str,
    expected: MacExpected,
) -> UniversalCase {
    UniversalCase {
        name,
        releases,
        architecture,
        current,
        expected,
    }
}

/// The decision with universal macOS releases: one serves Intel and Apple
/// silicon Macs; a higher version wins whatever its architecture; at the
/// same version the client's own architecture wins, whatever its state.
pub static UNIVERSAL_CASES: &[UniversalCase] = &[
    on_mac(
        "universal only, Apple silicon",
        &[universal("1.0.0"), universal("1.1.0")],
        "arm64",
        "1.0.0",
        Some(("1.1.0", "universal", false)),
    ),
    on_mac(
        "universal only, Intel",
        &[universal("1.1.0")],
        "amd64",
        "1.0.0",
        Some(("1.1.0", "universal", false)),
    ),
    on_mac(
        "universal is not for 32-bit",
        &[universal("1.1.0")],
        "386",
        "1.0.0",
        None,
    ),
    on_mac(
        "a universal client sees universal releases only",
        &[universal("1.1.0"), mac("1.2.0", "arm64")],
        "universal",
        "1.0.0",
        Some(("1.1.0", "universal", false)),
    ),
    on_mac(
        "same version: the specific release wins",
        &[universal("1.1.0"), mac("1.1.0", "arm64")],
        "arm64",
        "1.0.0",
        Some(("1.1.0", "arm64", false)),
    ),
    on_mac(
        "same version: the other architecture gets universal",
        &[universal("1.1.0"), mac("1.1.0", "arm64")],
        "amd64",
        "1.0.0",
        Some(("1.1.0", "universal", false)),
    ),
    on_mac(
        "universal newer than specific wins",
        &[mac("1.1.0", "arm64"), universal("1.2.0")],
        "arm64",
        "1.0.0",
        Some(("1.2.0", "universal", false)),
    ),
    on_mac(
        "specific newer than universal wins",
        &[universal("1.1.0"), mac("1.2.0", "arm64")],
        "arm64",
        "1.0.0",
        Some(("1.2.0", "arm64", false)),
    ),
    on_mac(
        "another architecture's newer release does not count",
        &[universal("1.1.0"), mac("1.2.0", "amd64")],
        "arm64",
        "1.0.0",
        Some(("1.1.0", "universal", false)),
    ),
    on_mac(
        "client at the universal version: no update",
        &[universal("1.1.0"), mac("1.0.0", "arm64")],
        "arm64",
        "1.1.0",
        None,
    ),
    on_mac(
        "yanked universal: the older specific release",
        &[mac("1.1.0", "arm64"), Mq::YANKED_UNIVERSAL_1_2],
        "arm64",
        "1.0.0",
        Some(("1.1.0", "arm64", false)),
    ),
    on_mac(
        "yanked specific hides the universal build of its version",
        &[universal("1.1.0"), Mq::YANKED_ARM64_1_2, universal("1.2.0")],
        "arm64",
        "1.0.0",
        Some(("1.1.0", "universal", false)),
    ),
    on_mac(
        "staged specific hides the universal build of its version",
        &[universal("1.1.0"), Mq::STAGED_ARM64_1_2, universal("1.2.0")],
        "arm64",
        "1.0.0",
        Some(("1.1.0", "universal", false)),
    ),
    on_mac(
        "staged universal: the older specific release",
        &[mac("1.1.0", "amd64"), Mq::STAGED_UNIVERSAL_1_2],
        "amd64",
        "1.0.0",
        Some(("1.1.0", "amd64", false)),
    ),
    on_mac(
        "skipped required universal propagates",
        &[Mq::REQUIRED_UNIVERSAL_1_1, mac("1.2.0", "arm64")],
        "arm64",
        "1.0.0",
        Some(("1.2.0", "arm64", true)),
    ),
    on_mac(
        "a required universal hidden by the specific release does not count",
        &[
            Mq::REQUIRED_UNIVERSAL_1_1,
            mac("1.1.0", "arm64"),
            mac("1.2.0", "arm64"),
        ],
        "arm64",
        "1.0.0",
        Some(("1.2.0", "arm64", false)),
    ),
    on_mac(
        "universal stepping stone to a specific release",
        &[universal("1.5.0"), Mq::ARM64_2_FROM_1_5],
        "arm64",
        "1.0.0",
        Some(("1.5.0", "universal", false)),
    ),
];

/// Mac releases that need more than one modifier.
struct Mq;
impl Mq {
    const YANKED_UNIVERSAL_1_2: M = M {
        yanked: true,
        ..universal("1.2.0")
    };
    const YANKED_ARM64_1_2: M = M {
        yanked: true,
        ..mac("1.2.0", "arm64")
    };
    const STAGED_ARM64_1_2: M = M {
        rollout: 50,
        ..mac("1.2.0", "arm64")
    };
    const STAGED_UNIVERSAL_1_2: M = M {
        rollout: 50,
        ..universal("1.2.0")
    };
    const REQUIRED_UNIVERSAL_1_1: M = M {
        required: true,
        ..universal("1.1.0")
    };
    const ARM64_2_FROM_1_5: M = M {
        minimum: Some("1.5.0"),
        ..mac("2.0.0", "arm64")
    };
}
