//! Every route with path parameters, through the production router over a
//! seeded catalog, with arbitrary percent-encoded segments and query strings:
//! never a 5xx, and on `/api/v1` every 4xx is the JSON error envelope.

use proptest::prelude::*;
use serde_json::json;

use crate::support::{Param, Probe, Role, World, check, encoded, params, query, slot};

const CASES: u32 = 128;

pub const APPS: &[&str] = &["demo", "empty", "missing", "DEMO", "demo-2", "a_b"];
pub const VERSIONS: &[&str] = &[
    "1.0.0",
    "1.0.1",
    "2.0.0",
    "0.9",
    "v1",
    "1.1.0-beta.1",
    "1.0.0%2Bbuild.5",
    "3.0.0",
];
pub const PLATFORMS: &[&str] = &[
    "linux", "darwin", "macos", "windows", "Win32", "ios", "beos",
];
pub const ARCHS: &[&str] = &[
    "amd64",
    "x86_64",
    "arm64",
    "aarch64",
    "386",
    "arm",
    "universal",
];
const CHANNELS: &[&str] = &["stable", "beta", "latest", "Beta", "nightly"];
const TAURI_TARGETS: &[&str] = &["linux", "darwin", "windows", "linux-x86_64", "macos"];
const ELECTRON_FILES: &[&str] = &[
    "latest.yml",
    "latest-mac.yml",
    "latest-linux.yml",
    "beta-linux.yml",
    "latest-linux-arm64.yml",
    "latest-linux-mips.yml",
    "nightly.yml",
    "latest.json",
];
const VELOPACK_FILES: &[&str] = &[
    "releases.win.json",
    "releases.osx.json",
    "releases.beta.json",
    "releases..json",
    "RELEASES",
    "demo-1.0.0-full.nupkg",
    "demo-2.0.0-full.nupkg",
];
const SQUIRREL_LAST: &[&str] = &[
    "RELEASES",
    "1.0.0",
    "0.9.0",
    "2.0.0",
    "demo-1.0.0-full.nupkg",
    "latest",
];

const CHECK_PARAMS: &[&str] = &[
    "current_version",
    "platform",
    "architecture",
    "channel",
    "allow_prerelease",
    "include_metadata",
    "install_id",
    "app_id",
    "application_id",
];
const LIST_PARAMS: &[&str] = &[
    "platform",
    "platforms",
    "architecture",
    "channel",
    "version",
    "required",
    "sort_by",
    "sort_order",
    "limit",
    "offset",
    "force",
];
const PROTOCOL_PARAMS: &[&str] = &[
    "bundle_type",
    "install_id",
    "id",
    "localVersion",
    "stagingId",
    "channel",
];
/// Values for any of the parameters above.
const PARAM_VALUES: &[&str] = &[
    "1.0.0",
    "0.9",
    "v2",
    "linux",
    "macos",
    "x86_64",
    "arm64",
    "beta",
    "stable",
    "true",
    "false",
    "1",
    "0",
    "-1",
    "1000",
    "1001",
    "18446744073709551616",
    "demo",
    "install-42",
    "version",
    "created_at",
    "desc",
    "asc",
    "linux,darwin",
    "msi",
    "deb",
    "nsis",
];

fn app() -> BoxedStrategy<String> {
    slot(APPS)
}

fn seg(known: &'static [&'static str]) -> BoxedStrategy<String> {
    slot(known)
}

const CHECK_QUERY: &[Param] = &[
    ("current_version", VERSIONS, 0.9),
    ("platform", PLATFORMS, 0.9),
    ("architecture", ARCHS, 0.9),
    ("channel", CHANNELS, 0.3),
    ("allow_prerelease", BOOLS, 0.3),
    ("include_metadata", BOOLS, 0.3),
    ("install_id", INSTALL_IDS, 0.3),
];
const LATEST_QUERY: &[Param] = &[
    ("app_id", APPS, 0.9),
    ("platform", PLATFORMS, 0.9),
    ("architecture", ARCHS, 0.9),
    ("channel", CHANNELS, 0.3),
    ("allow_prerelease", BOOLS, 0.3),
];
const LIST_QUERY: &[Param] = &[
    ("platform", PLATFORMS, 0.9),
    ("channel", CHANNELS, 0.3),
    ("version", VERSIONS, 0.3),
    (
        "sort_by",
        &["version", "created_at", "release_date", "platform", "size"],
        0.3,
    ),
    ("sort_order", &["asc", "desc", "up"], 0.3),
    ("limit", &["1", "50", "1000", "1001", "0", "-1"], 0.3),
    ("offset", &["0", "1", "18446744073709551615"], 0.3),
];
const PROTOCOL_QUERY: &[Param] = &[
    (
        "bundle_type",
        &["msi", "nsis", "deb", "appimage", "rpm", "exe"],
        0.3,
    ),
    ("install_id", INSTALL_IDS, 0.3),
    ("localVersion", VERSIONS, 0.3),
    ("id", &["demo", "Demo.App", ""], 0.3),
];
const BOOLS: &[&str] = &["true", "false", "true", "false", "1"];
const INSTALL_IDS: &[&str] = &["install-42", "a:b.c_d", "7", "", "bad%20id"];

/// A query string for `params`, or arbitrary pairs of known names.
fn query_for(params_of: &'static [Param], names: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![3 => params(params_of), 1 => query(names, PARAM_VALUES)].boxed()
}

fn check_query() -> BoxedStrategy<String> {
    query_for(CHECK_QUERY, CHECK_PARAMS)
}

fn update_checks() -> impl Strategy<Value = Probe> {
    prop_oneof![
        (app(), check_query()).prop_map(|(a, q)| Probe::get(
            format!("/api/v1/updates/{a}/check"),
            q,
            Role::Anonymous,
            true
        )),
        (app(), check_query()).prop_map(|(a, q)| Probe::get(
            format!("/api/v1/updates/{a}/latest"),
            q,
            Role::Anonymous,
            true
        )),
        query_for(LATEST_QUERY, CHECK_PARAMS).prop_map(|q| Probe::get(
            "/api/v1/latest".into(),
            q,
            Role::Anonymous,
            true
        )),
    ]
}

#[test]
fn update_checks_never_fail_with_a_5xx() {
    let world = World::seeded();
    check(CASES, update_checks(), |probe| world.assert_sound(&probe));
}

/// `version/platform/arch` of one release.
fn release_path() -> impl Strategy<Value = String> {
    (seg(VERSIONS), seg(PLATFORMS), seg(ARCHS)).prop_map(|(v, p, a)| format!("{v}/{p}/{a}"))
}

fn management() -> impl Strategy<Value = Probe> {
    let role = prop_oneof![
        1 => Just(Role::Anonymous),
        1 => Just(Role::Reader),
        4 => Just(Role::Admin),
    ];
    let list = query_for(LIST_QUERY, LIST_PARAMS);
    prop_oneof![
        (app(), list.clone(), role.clone()).prop_map(|(a, q, r)| Probe::get(
            format!("/api/v1/updates/{a}/releases"),
            q,
            r,
            true
        )),
        (app(), release_path(), role.clone()).prop_map(|(a, t, r)| Probe::get(
            format!("/api/v1/updates/{a}/releases/{t}"),
            String::new(),
            r,
            true
        )
        .with("PATCH", Some(json!({"rollout_paused": false})))),
        (app(), release_path(), role.clone()).prop_map(|(a, t, r)| Probe::get(
            format!("/api/v1/updates/{a}/releases/{t}"),
            String::new(),
            r,
            true
        )
        .with("DELETE", None)),
        (app(), seg(VERSIONS), role.clone()).prop_map(|(a, v, r)| Probe::get(
            format!("/api/v1/updates/{a}/register"),
            String::new(),
            r,
            true
        )
        .with(
            "POST",
            Some(
                json!({"version": v, "platform": "linux", "architecture": "amd64",
                        "download_url": "https://cdn.example.com/a.AppImage",
                        "checksum": crate::common::SHA256, "file_size": 1})
            )
        )),
        (app(), list.clone(), role.clone()).prop_map(|(a, q, r)| Probe::get(
            format!("/api/v1/applications/{a}"),
            q,
            r,
            true
        )),
        (app(), list.clone(), role.clone()).prop_map(|(a, q, r)| Probe::get(
            format!("/api/v1/applications/{a}"),
            q,
            r,
            true
        )
        .with("PUT", Some(json!({"description": "updated"})))),
        (app(), list.clone(), role.clone()).prop_map(|(a, q, r)| Probe::get(
            format!("/api/v1/applications/{a}"),
            q,
            r,
            true
        )
        .with("DELETE", None)),
        (list, role).prop_map(|(q, r)| Probe::get("/api/v1/applications".into(), q, r, true)),
    ]
}

/// Management routes change the catalog (a delete may hit a seeded release),
/// so they get a world of their own.
#[test]
fn management_routes_never_fail_with_a_5xx() {
    let world = World::seeded();
    check(CASES, management(), |probe| world.assert_sound(&probe));
}

fn protocols() -> impl Strategy<Value = Probe> {
    let q = || query_for(PROTOCOL_QUERY, PROTOCOL_PARAMS);
    prop_oneof![
        (
            app(),
            seg(CHANNELS),
            seg(TAURI_TARGETS),
            seg(ARCHS),
            seg(VERSIONS),
            q()
        )
            .prop_map(|(a, c, t, r, v, q)| Probe::get(
                format!("/tauri/{a}/{c}/{t}/{r}/{v}"),
                q,
                Role::Anonymous,
                false
            )),
        (app(), seg(CHANNELS), q()).prop_map(|(a, c, q)| Probe::get(
            format!("/tauri/{a}/{c}/latest.json"),
            q,
            Role::Anonymous,
            false
        )),
        (
            app(),
            seg(CHANNELS),
            seg(PLATFORMS),
            seg(ARCHS),
            seg(SQUIRREL_LAST),
            q()
        )
            .prop_map(|(a, c, p, r, l, q)| Probe::get(
                format!("/electron/{a}/{c}/{p}/{r}/{l}"),
                q,
                Role::Anonymous,
                false
            )),
        (app(), seg(ELECTRON_FILES), q()).prop_map(|(a, f, q)| Probe::get(
            format!("/electron-updater/{a}/{f}"),
            q,
            Role::Anonymous,
            false
        )),
        (app(), seg(PLATFORMS), seg(ARCHS), q()).prop_map(|(a, p, r, q)| Probe::get(
            format!("/sparkle/{a}/{p}/{r}/appcast.xml"),
            q,
            Role::Anonymous,
            false
        )),
        (app(), seg(PLATFORMS), seg(ARCHS), seg(VELOPACK_FILES), q()).prop_map(
            |(a, p, r, f, q)| Probe::get(
                format!("/velopack/{a}/{p}/{r}/{f}"),
                q,
                Role::Anonymous,
                false
            )
        ),
    ]
}

#[test]
fn protocol_routes_never_fail_with_a_5xx() {
    let world = World::seeded();
    check(CASES, protocols(), |probe| world.assert_sound(&probe));
}

const PREFIXES: &[&str] = &[
    "/api/v1/updates",
    "/api/v1/applications",
    "/api/v1/check",
    "/api/v1",
    "/tauri",
    "/electron",
    "/electron-updater",
    "/sparkle",
    "/velopack",
    "/health",
    "",
];
const ANY_SEGMENT: &[&str] = &[
    "demo",
    "releases",
    "register",
    "check",
    "latest",
    "1.0.0",
    "linux",
    "amd64",
    "stable",
    "latest.json",
    "appcast.xml",
    "RELEASES",
];

/// Too few or too many segments under a known prefix, with any method: the
/// fallback and method-not-allowed answers are JSON too.
fn any_path() -> impl Strategy<Value = Probe> {
    (
        proptest::sample::select(PREFIXES),
        proptest::collection::vec(encoded(ANY_SEGMENT), 0..7),
        query(CHECK_PARAMS, PARAM_VALUES),
        proptest::sample::select(&["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"][..]),
        prop_oneof![Just(Role::Anonymous), Just(Role::Admin)],
    )
        .prop_map(|(prefix, segments, q, method, role)| {
            let path = format!("{prefix}/{}", segments.join("/"));
            let api = prefix.starts_with("/api") || prefix.is_empty() || prefix == "/health";
            let body = (method != "GET" && method != "HEAD").then(|| json!({}));
            // HEAD answers carry no body, so the envelope cannot be checked.
            Probe::get(path, q, role, api && method != "HEAD").with(method, body)
        })
}

#[test]
fn any_path_under_a_known_prefix_never_fails_with_a_5xx() {
    let world = World::seeded();
    check(CASES, any_path(), |probe| world.assert_sound(&probe));
}
