//! Releases with arbitrary but mostly valid contents (versions, channels,
//! notes full of markup and quotes, odd URLs, any file kinds, signatures,
//! dates, metadata), registered and then read back through every protocol
//! and the JSON API: whatever registration accepts, every renderer serves
//! without a 5xx.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::common::SHA256;
use crate::support::{Probe, Role, World, any_text, check, encode};

const CASES: u32 = 48;

const SHA512_HEX: &str = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
const SHA1_HEX: &str = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
/// 64 zero bytes in base64: the shape of a Sparkle EdDSA signature.
const ED_SIGNATURE: &str =
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";

/// Characters that mean something to JSON, YAML, XML, the `RELEASES` format
/// or a terminal, between ordinary words.
fn markup_text(max: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => "[a-zA-Z0-9 ]{1,8}",
        2 => proptest::sample::select(&[
            "<", ">", "&", "&amp;", "]]>", "<![CDATA[", "\"", "'", ": ", "#", "---", "\n", "\r\n",
            "\t", "- ", "{{", "}}", "${x}", "%s", "\\", "*", "|", "!", "?", "@", "`", "\u{feff}",
            "\u{202e}", "💩", "日本語", "\u{10ffff}", "\u{fffd}",
        ][..])
        .prop_map(str::to_string),
        1 => any_text(6),
    ];
    proptest::collection::vec(piece, 0..max).prop_map(|p| p.concat())
}

fn version() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (1u64..40, 0u64..40, 0u64..40).prop_map(|(a, b, c)| format!("{a}.{b}.{c}")),
        2 => (1u64..40, 0u64..40, "[0-9A-Za-z-]{1,10}(\\.[0-9A-Za-z-]{1,6}){0,2}")
            .prop_map(|(a, b, pre)| format!("{a}.{b}.0-{pre}")),
        1 => (1u64..40, "[0-9A-Za-z-]{1,10}").prop_map(|(a, build)| format!("v{a}.1+{build}")),
        1 => any::<u64>().prop_map(|n| format!("{n}.0.0")),
    ]
}

fn channel() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        3 => proptest::sample::select(&["stable", "beta", "nightly", "Beta", "rc.1"][..])
            .prop_map(str::to_string),
        1 => "[a-z0-9._-]{1,32}",
    ])
}

/// An `https` URL whose last segment names a `suffix` file, with odd paths,
/// hosts, queries and fragments.
fn url(suffix: &'static str) -> impl Strategy<Value = String> {
    let host = proptest::sample::select(
        &[
            "cdn.example.com",
            "例え.jp",
            "xn--bcher-kva.example",
            "[::1]",
            "127.0.0.1:8443",
            "a.b.c.d.example:443",
        ][..],
    );
    let segment = prop_oneof![
        3 => "[a-zA-Z0-9._-]{1,12}",
        1 => any_text(8).prop_map(|s| encode(s.as_bytes(), true)),
        1 => "[äöü€日本]{1,4}",
        1 => proptest::sample::select(&["..", ".", "%2F", "%00", "a%20b", "'", "\"", "<x>"][..])
            .prop_map(str::to_string),
    ];
    (
        host,
        proptest::collection::vec(segment, 0..3),
        "[a-zA-Z0-9._-]{1,10}",
        proptest::option::of("[a-z0-9=&%]{0,16}"),
        proptest::option::of("[a-z0-9<>\"]{0,8}"),
    )
        .prop_map(move |(host, dirs, stem, q, frag)| {
            let mut url = format!("https://{host}/");
            for dir in dirs {
                url.push_str(&dir);
                url.push('/');
            }
            url.push_str(&stem);
            url.push_str(suffix);
            if let Some(q) = q {
                url.push('?');
                url.push_str(&q);
            }
            if let Some(frag) = frag {
                url.push('#');
                url.push_str(&frag);
            }
            url
        })
}

/// File kinds with the suffix a client's file names end in.
const KINDS: &[(&str, &str)] = &[
    ("appimage", ".AppImage"),
    ("deb", ".deb"),
    ("rpm", ".rpm"),
    ("app", ".app.tar.gz"),
    ("dmg", ".dmg"),
    ("msi", ".msi"),
    ("nsis", "-setup.exe"),
    ("nupkg", "-full.nupkg"),
    ("nupkg_delta", "-delta.nupkg"),
    ("zip", ".zip"),
];

fn file() -> impl Strategy<Value = Value> {
    proptest::sample::select(KINDS).prop_flat_map(|(kind, suffix)| {
        (
            url(suffix),
            prop_oneof![3 => 0u64..10_000_000, 1 => Just(i64::MAX as u64)],
            0..4u8,
            proptest::option::of(markup_text(4)),
            any::<bool>(),
            proptest::option::of((url(".blockmap"), 0u64..100_000)),
            any::<bool>(),
        )
            .prop_map(
                move |(url, size, digests, signature, ed, blockmap, named)| {
                    let mut f = Map::new();
                    if named {
                        f.insert("kind".into(), json!(kind));
                    }
                    f.insert("url".into(), json!(url));
                    f.insert("size".into(), json!(size));
                    match digests {
                        0 => f.insert("sha256".into(), json!(SHA256)),
                        1 => f.insert("sha512".into(), json!(SHA512_HEX)),
                        2 => f.insert("sha1".into(), json!(SHA1_HEX)),
                        _ => f.insert("sha256".into(), json!(SHA256.to_uppercase())),
                    };
                    if digests == 2 {
                        f.insert("sha256".into(), json!(SHA256));
                    }
                    if let Some(signature) = signature.filter(|s| !s.trim().is_empty()) {
                        f.insert("signature".into(), json!(signature));
                    }
                    if ed {
                        f.insert("ed_signature".into(), json!(ED_SIGNATURE));
                    }
                    if let Some((url, size)) = blockmap {
                        f.insert("blockmap_url".into(), json!(url));
                        f.insert("blockmap_size".into(), json!(size));
                    }
                    Value::Object(f)
                },
            )
    })
}

/// A registration body that registration mostly accepts.
pub fn release_body() -> impl Strategy<Value = Value> {
    let target = (
        proptest::sample::select(&["linux", "darwin", "windows", "macos", "Win32"][..]),
        proptest::sample::select(&["amd64", "x86_64", "arm64", "aarch64", "386", "arm"][..]),
        channel(),
    );
    let form = prop_oneof![
        2 => proptest::collection::vec(file(), 1..4).prop_map(|files| json!({"files": files})),
        1 => (url(".AppImage"), any::<bool>(), proptest::option::of(markup_text(3)))
            .prop_map(|(url, sha512, signature)| {
                let mut body = json!({"download_url": url, "file_size": 1234,
                    "checksum": if sha512 { SHA512_HEX } else { SHA256 }});
                if sha512 {
                    body["checksum_type"] = json!("sha512");
                }
                if let Some(s) = signature.filter(|s| !s.trim().is_empty()) {
                    body["signature"] = json!(s);
                }
                body
            }),
    ];
    let extras = (
        proptest::option::of(markup_text(12)),
        proptest::option::of(
            (1970i32..9999, 1u32..13, 1u32..29, 0u32..24, 0u32..1_000_000)
                .prop_map(|(y, m, d, h, us)| format!("{y:04}-{m:02}-{d:02}T{h:02}:00:00.{us:06}Z")),
        ),
        any::<bool>(),
        proptest::option::of(prop_oneof![Just("0.0.1".to_string()), Just(String::new())]),
        proptest::option::of("[0-9]{1,2}(\\.[0-9]{1,3}){0,2}"),
        proptest::collection::btree_map("[a-zA-Z0-9_.-]{1,10}", markup_text(3), 0..3),
        proptest::option::of(0u8..=100),
    );
    (version(), target, form, extras).prop_map(
        |(version, (platform, arch, channel), form, extras)| {
            let (notes, date, required, minimum, system, metadata, rollout) = extras;
            let mut body = form;
            body["version"] = json!(version);
            body["platform"] = json!(platform);
            body["architecture"] = json!(arch);
            let optional = [
                ("channel", channel.map(Value::from)),
                ("release_notes", notes.map(Value::from)),
                ("release_date", date.map(Value::from)),
                ("required", Some(Value::from(required))),
                ("minimum_version", minimum.map(Value::from)),
                ("minimum_system_version", system.map(Value::from)),
                ("metadata", Some(json!(metadata))),
                ("rollout_percentage", rollout.map(Value::from)),
            ];
            for (field, value) in optional {
                if let Some(value) = value {
                    body[field] = value;
                }
            }
            body
        },
    )
}

/// The reads that render a release registered with `body`, for an install
/// `install` running 0.0.1.
fn reads(body: &Value, install: &str) -> Vec<Probe> {
    let text = |field: &str| body[field].as_str().unwrap_or_default().to_string();
    let e = |s: &str| encode(s.as_bytes(), false);
    let (platform, arch, version) = (
        e(&text("platform")),
        e(&text("architecture")),
        e(&text("version")),
    );
    let channel = body["channel"].as_str().map_or("stable".to_string(), e);
    let target = format!("platform={platform}&architecture={arch}&channel={channel}");
    let api = |path: String, query: String| Probe::get(path, query, Role::Anonymous, true);
    let protocol = |path: String, query: String| Probe::get(path, query, Role::Anonymous, false);
    let file_channel = if channel == "stable" {
        "latest"
    } else {
        channel.as_str()
    };
    vec![
        api(
            "/api/v1/updates/demo/check".into(),
            format!(
                "current_version=0.0.1&{target}&include_metadata=true&allow_prerelease=true&install_id={install}"
            ),
        ),
        api(
            "/api/v1/updates/demo/latest".into(),
            format!("{target}&include_metadata=true&allow_prerelease=true"),
        ),
        Probe::get(
            "/api/v1/updates/demo/releases".into(),
            format!("platform={platform}&limit=1000"),
            Role::Reader,
            true,
        ),
        protocol(
            format!("/tauri/demo/{channel}/{platform}/{arch}/0.0.1"),
            format!("install_id={install}"),
        ),
        protocol(
            format!("/tauri/demo/{channel}/{platform}/{arch}/0.0.1"),
            "bundle_type=msi".into(),
        ),
        protocol(format!("/tauri/demo/{channel}/latest.json"), String::new()),
        protocol(
            format!("/electron/demo/{channel}/{platform}/{arch}/0.0.1"),
            String::new(),
        ),
        protocol(
            format!("/electron/demo/{channel}/{platform}/{arch}/RELEASES"),
            "localVersion=0.0.1".into(),
        ),
        protocol(
            format!("/electron-updater/demo/{file_channel}.yml"),
            String::new(),
        ),
        protocol(
            format!("/electron-updater/demo/{file_channel}-mac.yml"),
            String::new(),
        ),
        protocol(
            format!("/electron-updater/demo/{file_channel}-linux.yml"),
            String::new(),
        ),
        protocol(
            format!("/electron-updater/demo/{file_channel}-linux-{arch}.yml"),
            String::new(),
        ),
        protocol(
            format!("/sparkle/demo/{platform}/{arch}/appcast.xml"),
            format!("channel={channel}"),
        ),
        protocol(
            format!("/velopack/demo/{platform}/{arch}/releases.{channel}.json"),
            format!("localVersion=0.0.1&stagingId={install}"),
        ),
        protocol(
            format!("/velopack/demo/{platform}/{arch}/demo-{version}-full.nupkg"),
            String::new(),
        ),
    ]
}

#[test]
fn whatever_registration_accepts_every_protocol_renders() {
    let world = World::seeded();
    let case = (
        proptest::collection::vec(release_body(), 1..3),
        "[a-z0-9]{1,12}",
    );
    check(CASES, case, |(bodies, install)| {
        for body in &bodies {
            let register = Probe::get(
                "/api/v1/updates/demo/register".into(),
                String::new(),
                Role::Admin,
                true,
            )
            .with("POST", Some(body.clone()));
            world.assert_sound(&register)?;
            for read in reads(body, &install) {
                world.assert_sound(&read)?;
            }
        }
        Ok(())
    });
}
