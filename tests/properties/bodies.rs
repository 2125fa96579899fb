//! Arbitrary JSON-ish bodies posted with the admin key to every endpoint that
//! reads one: objects with the fields the endpoint knows (and some it does
//! not) holding values of any type, malformed JSON, invalid UTF-8 and wrong
//! content types. Never a 5xx; every 4xx is the JSON error envelope.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::common::SHA256;
use crate::rendering::release_body;
use crate::routes::{APPS, ARCHS, PLATFORMS, VERSIONS};
use crate::support::{Probe, Role, World, any_text, check, slot};

const CASES: u32 = 128;

/// Every field of the request bodies (registration, files, applications,
/// their config, release patches, the check body). `verify_on_register` is
/// left out: turning it on makes registrations download from the network.
const FIELDS: &[&str] = &[
    "application_id",
    "version",
    "platform",
    "architecture",
    "channel",
    "download_url",
    "checksum",
    "checksum_type",
    "file_size",
    "signature",
    "files",
    "release_notes",
    "release_date",
    "required",
    "minimum_version",
    "minimum_system_version",
    "metadata",
    "rollout_percentage",
    "id",
    "name",
    "description",
    "platforms",
    "config",
    "rollout_paused",
    "yanked",
    "yank_reason",
    "current_version",
    "allow_prerelease",
    "include_metadata",
    "install_id",
];
const FILE_FIELDS: &[&str] = &[
    "kind",
    "url",
    "size",
    "sha256",
    "sha512",
    "sha1",
    "signature",
    "ed_signature",
    "blockmap_url",
    "blockmap_size",
];
const CONFIG_FIELDS: &[&str] = &[
    "update_check_url",
    "auto_update",
    "update_interval",
    "required_update",
    "min_version",
    "max_version",
    "allow_prerelease",
    "custom_fields",
    "notification_url",
    "analytics_enabled",
    "tauri_public_key",
    "sparkle_public_key",
];
/// Strings that pass some field's rules, so bodies get past the first check.
const STRINGS: &[&str] = &[
    "demo",
    "fresh-app",
    "1.0.0",
    "3.0.0",
    "2.0.0-rc.1",
    "v1.2",
    "linux",
    "darwin",
    "windows",
    "amd64",
    "arm64",
    "stable",
    "beta",
    "sha256",
    "sha512",
    "https://cdn.example.com/app.AppImage",
    "https://cdn.example.com/app.msi",
    "http://127.0.0.1/app.deb",
    "ftp://example.com/x",
    SHA256,
    "2026-01-02T03:04:05Z",
    "not-a-date",
    "appimage",
    "nupkg",
    "10.15",
    "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3",
    "",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => proptest::sample::select(STRINGS).prop_map(Value::from),
        2 => any_text(20).prop_map(Value::from),
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::from),
        1 => (0u64..200).prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
    ]
}

/// Any JSON value, nested a few levels.
fn any_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(any_text(6), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object whose keys come mostly from `fields`.
fn object_of(fields: &'static [&'static str], value: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    let key = prop_oneof![
        6 => proptest::sample::select(fields).prop_map(str::to_string),
        1 => any_text(8),
    ];
    proptest::collection::vec((key, value), 0..10)
        .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>()))
        .boxed()
}

fn field_value() -> BoxedStrategy<Value> {
    prop_oneof![
        6 => scalar().boxed(),
        1 => any_value().boxed(),
        1 => proptest::collection::vec(object_of(FILE_FIELDS, scalar().boxed()), 0..3)
            .prop_map(Value::Array).boxed(),
        1 => object_of(CONFIG_FIELDS, scalar().boxed()),
        1 => proptest::collection::vec(proptest::sample::select(STRINGS).prop_map(Value::from), 0..4)
            .prop_map(Value::Array).boxed(),
    ]
    .boxed()
}

/// `(content type, bytes)`: mostly a JSON object of known fields.
fn body() -> impl Strategy<Value = (Option<String>, Vec<u8>)> {
    let json = Some("application/json".to_string());
    prop_oneof![
        8 => object_of(FIELDS, field_value()).prop_map({
            let json = json.clone();
            move |v| (json.clone(), v.to_string().into_bytes())
        }),
        1 => any_value().prop_map({
            let json = json.clone();
            move |v| (json.clone(), v.to_string().into_bytes())
        }),
        1 => (
            object_of(FIELDS, field_value()),
            proptest::sample::select(&["", "}", ",", "{", "\"", "\\", " trailing", "\u{0}"][..]),
            0..64usize,
        )
            .prop_map({
                let json = json.clone();
                move |(v, junk, cut)| {
                    let mut text = v.to_string();
                    let mut end = text.len().min(cut.max(1));
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.truncate(end);
                    (json.clone(), format!("{text}{junk}").into_bytes())
                }
            }),
        1 => proptest::collection::vec(any::<u8>(), 0..48).prop_map({
            let json = json.clone();
            move |b| (json.clone(), b)
        }),
        1 => (
            proptest::sample::select(
                &["text/plain", "application/json; charset=utf-8", "APPLICATION/JSON",
                  "application/jsonx", "multipart/form-data", ""][..],
            ),
            object_of(FIELDS, field_value()),
        )
            .prop_map(|(ct, v)| {
                ((!ct.is_empty()).then(|| ct.to_string()), v.to_string().into_bytes())
            }),
    ]
}

/// A body the endpoint accepts as is, before `mutated` breaks some of it.
fn valid_body(endpoint: Endpoint) -> BoxedStrategy<Value> {
    let platforms = proptest::collection::vec(
        proptest::sample::select(&["linux", "windows", "darwin", "macos", "ios", "android"][..]),
        1..4,
    );
    match endpoint {
        Endpoint::CreateApp => ("[a-zA-Z0-9_-]{1,24}", any_text(12), platforms)
            .prop_map(|(id, name, p)| json!({"id": id, "name": format!("App {name}"), "platforms": p}))
            .boxed(),
        Endpoint::UpdateApp => (any_text(12), platforms)
            .prop_map(|(d, p)| json!({"description": d, "platforms": p}))
            .boxed(),
        Endpoint::Register => release_body().boxed(),
        Endpoint::PatchRelease => (0u8..=100, any::<bool>(), any::<bool>())
            .prop_map(|(r, p, y)| json!({"rollout_percentage": r, "rollout_paused": p, "yanked": y}))
            .boxed(),
        Endpoint::Check => (
            proptest::sample::select(APPS),
            proptest::sample::select(VERSIONS),
            proptest::sample::select(PLATFORMS),
            proptest::sample::select(ARCHS),
        )
            .prop_map(|(a, v, p, r)| json!({"application_id": a, "current_version": v, "platform": p, "architecture": r}))
            .boxed(),
    }
}

/// A valid body with up to three fields replaced by anything or removed,
/// mostly fields the body has.
fn mutated(endpoint: Endpoint) -> impl Strategy<Value = Value> {
    let change = (
        any::<proptest::sample::Index>(),
        proptest::option::weighted(0.25, proptest::sample::select(FIELDS)),
        proptest::option::weighted(0.8, field_value()),
    );
    (
        valid_body(endpoint),
        proptest::collection::vec(change, 0..4),
    )
        .prop_map(|(mut body, changes)| {
            if let Some(fields) = body.as_object_mut() {
                for (own, other, value) in changes {
                    let keys: Vec<String> = fields.keys().cloned().collect();
                    let field = match other {
                        Some(other) => other.to_string(),
                        None if keys.is_empty() => continue,
                        None => keys[own.index(keys.len())].clone(),
                    };
                    match value {
                        Some(value) => fields.insert(field, value),
                        None => fields.remove(&field),
                    };
                }
            }
            body
        })
}

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    CreateApp,
    UpdateApp,
    Register,
    PatchRelease,
    Check,
}

fn write_endpoint() -> impl Strategy<Value = (Endpoint, &'static str, String)> {
    let app = || slot(APPS);
    prop_oneof![
        Just((
            Endpoint::CreateApp,
            "POST",
            "/api/v1/applications".to_string()
        )),
        app().prop_map(|a| (
            Endpoint::UpdateApp,
            "PUT",
            format!("/api/v1/applications/{a}")
        )),
        app().prop_map(|a| (
            Endpoint::Register,
            "POST",
            format!("/api/v1/updates/{a}/register")
        )),
        (app(), slot(VERSIONS), slot(PLATFORMS), slot(ARCHS)).prop_map(|(a, v, p, r)| (
            Endpoint::PatchRelease,
            "PATCH",
            format!("/api/v1/updates/{a}/releases/{v}/{p}/{r}")
        )),
        Just((Endpoint::Check, "POST", "/api/v1/check".to_string())),
    ]
}

fn probe() -> impl Strategy<Value = Probe> {
    write_endpoint().prop_flat_map(|(endpoint, method, uri)| {
        let json = |v: Value| {
            (
                Some("application/json".to_string()),
                v.to_string().into_bytes(),
            )
        };
        let body = prop_oneof![
            1 => mutated(endpoint).prop_map(json),
            1 => body(),
        ];
        body.prop_map(move |body| Probe {
            method,
            uri: uri.clone(),
            role: Role::Admin,
            body: Some(body),
            api: true,
            headers: Vec::new(),
        })
    })
}

#[test]
fn write_endpoints_never_fail_with_a_5xx_on_any_body() {
    let world = World::seeded();
    check(CASES * 2, probe(), |probe| world.assert_sound(&probe));
}
