//! What every property shares: the runner configuration, text and
//! percent-encoding strategies, and `World`, a seeded `TestApp` on its own
//! runtime that a synchronous property can drive request by request.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseResult, TestRunner};
use serde_json::{Value, json};

use crate::common::sut::Settings;
use crate::common::{Reply, SHA256, TestApp, app_body, test_settings};

/// A fixed configuration: `cases` cases, no failure files written anywhere,
/// and shrinking bounded so a failure is reported in seconds.
pub fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2048,
        ..Config::default()
    }
}

/// Runs `test` on `cases` values of `strategy`; a failure (or a panic inside
/// `test`) fails the calling `#[test]` with the minimal input found.
pub fn check<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> TestCaseResult)
where
    S::Value: std::fmt::Debug,
{
    let mut runner = TestRunner::new(config(cases));
    if let Err(failure) = runner.run(&strategy, test) {
        panic!("{failure}");
    }
}

/// Any text: arbitrary characters, mostly short.
pub fn any_text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..=max).prop_map(String::from_iter)
}

/// Text from the characters that matter to parsers of names and versions:
/// ASCII letters, digits, separators, whitespace, and a few non-ASCII ones.
pub fn parser_text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!(
        "[a-zA-Z0-9._+:~/\\\\ \t\n\\-vV%$Ωé\u{0}\u{feff}\u{200b}]{{0,{max}}}"
    ))
    .expect("a valid regex")
}

/// `bytes` with every byte outside RFC 3986's unreserved set escaped, except,
/// when `raw_sub_delims`, the sub-delimiters a path segment may hold as is.
pub fn encode(bytes: &[u8], raw_sub_delims: bool) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        let keep = b.is_ascii_alphanumeric()
            || b"-._~".contains(&b)
            || (raw_sub_delims && b"!$&'()*+,;=:@".contains(&b));
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Escapes a client might send that are odd but valid in a URI: stray `%`,
/// bad hex, encoded slashes and dots, NUL, truncated or invalid UTF-8.
const RAW_TOKENS: &[&str] = &[
    "",
    ".",
    "..",
    "%",
    "%%",
    "%zz",
    "%2",
    "%2F",
    "%2f..%2f",
    "%2E%2E",
    "%00",
    "%C3",
    "%FF%FE",
    "%E2%80%AE",
    "%F0%9F%92%A9",
    "~",
    "a%20b",
    "%25",
    "+",
    "%2B",
    "%0D%0A",
];

/// One percent-encoded path segment or query value: a value from `known`
/// (so real records are reached), arbitrary text, arbitrary bytes, a raw
/// escape, or something long.
pub fn encoded(known: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(known).prop_map(str::to_string),
        2 => (any_text(24), any::<bool>()).prop_map(|(s, raw)| encode(s.as_bytes(), raw)),
        2 => (parser_text(24), any::<bool>()).prop_map(|(s, raw)| encode(s.as_bytes(), raw)),
        1 => proptest::collection::vec(any::<u8>(), 0..16).prop_map(|b| encode(&b, true)),
        1 => proptest::sample::select(RAW_TOKENS).prop_map(str::to_string),
        1 => (proptest::sample::select(known), proptest::sample::select(RAW_TOKENS))
            .prop_map(|(k, t)| format!("{k}{t}")),
        1 => ("[a-zA-Z0-9]", 90..300usize).prop_map(|(c, n)| c.repeat(n)),
    ]
}

/// A path segment that is mostly a value from `known` as is, so a request
/// with several segments reaches the handler's later steps often enough.
pub fn slot(known: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        3 => proptest::sample::select(known).prop_map(str::to_string),
        1 => encoded(known),
    ]
    .boxed()
}

/// One query parameter: its name, values worth sending, and how often it is sent.
pub type Param = (&'static str, &'static [&'static str], f64);

/// A query string for an endpoint: each of `params` present as often as it
/// says, with a `slot` value, followed now and then by arbitrary parts.
pub fn params(params: &'static [Param]) -> BoxedStrategy<String> {
    let each: Vec<BoxedStrategy<Option<String>>> = params
        .iter()
        .map(|(name, known, presence)| {
            proptest::option::weighted(*presence, slot(known))
                .prop_map(move |v| v.map(|v| format!("{name}={v}")))
                .boxed()
        })
        .collect();
    let extra = prop_oneof![
        3 => Just(String::new()),
        1 => query(&["install_id", "channel", "allow_prerelease", "x"], &["1", "true", "a+b"]),
    ];
    (each, extra)
        .prop_map(|(parts, extra)| {
            let mut parts: Vec<String> = parts.into_iter().flatten().collect();
            if !extra.is_empty() {
                parts.push(extra);
            }
            parts.join("&")
        })
        .boxed()
}

/// A query string: `name=value` pairs with names from `names` (or arbitrary)
/// and values as `encoded`, bare names, repeats, and raw separators.
pub fn query(
    names: &'static [&'static str],
    values: &'static [&'static str],
) -> impl Strategy<Value = String> {
    let name = prop_oneof![
        4 => proptest::sample::select(names).prop_map(str::to_string),
        1 => any_text(12).prop_map(|s| encode(s.as_bytes(), false)),
    ];
    let part = prop_oneof![
        6 => (name.clone(), encoded(values)).prop_map(|(n, v)| format!("{n}={v}")),
        1 => name,
        1 => proptest::sample::select(&["&", "=", "==", "a=b=c", "%", "%zz=%zz", "+=+", ";"][..])
            .prop_map(str::to_string),
    ];
    proptest::collection::vec(part, 0..7).prop_map(|parts| parts.join("&"))
}

/// Who sends a request.
#[derive(Debug, Clone, Copy)]
pub enum Role {
    Anonymous,
    Reader,
    Admin,
}

/// One generated request and what its answer must satisfy.
#[derive(Debug, Clone)]
pub struct Probe {
    pub method: &'static str,
    /// Path and query, already percent-encoded.
    pub uri: String,
    pub role: Role,
    /// `(content type, body)`; JSON for the write endpoints, or anything.
    pub body: Option<(Option<String>, Vec<u8>)>,
    /// `/api/v1` routes: every 4xx carries the JSON error envelope. The
    /// protocol routes answer as their clients expect; only a 5xx is wrong.
    pub api: bool,
    /// Extra headers (a console session's cookie, `Accept`).
    pub headers: Vec<(&'static str, String)>,
}

impl Probe {
    pub fn get(path: String, query: String, role: Role, api: bool) -> Self {
        let uri = if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        };
        Self {
            method: "GET",
            uri,
            role,
            body: None,
            api,
            headers: Vec::new(),
        }
    }

    pub fn with(mut self, method: &'static str, body: Option<Value>) -> Self {
        self.method = method;
        self.body = body.map(|b| (Some("application/json".into()), b.to_string().into_bytes()));
        self
    }
}

/// A seeded application on its own runtime.
pub struct World {
    runtime: tokio::runtime::Runtime,
    app: TestApp,
}

impl World {
    /// `demo` with releases on linux, darwin and windows (stable 1.0.0 and
    /// 2.0.0 at 50 % rollout, beta 1.1.0-beta.1 on linux, a yanked 1.0.1),
    /// and `empty` with none.
    pub fn seeded() -> Self {
        Self::seeded_with(test_settings())
    }

    /// As [`World::seeded`], under `settings`.
    pub fn seeded_with(settings: Settings) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let app = runtime.block_on(async {
            let app = TestApp::with_settings(settings).await;
            app.admin()
                .create_app(&app_body("demo"))
                .await
                .assert_status(201);
            app.admin()
                .create_app(&app_body("empty"))
                .await
                .assert_status(201);
            for body in seed_releases() {
                app.publisher()
                    .register("demo", &body)
                    .await
                    .assert_status(201);
            }
            app.admin()
                .patch_release(
                    "demo",
                    "1.0.1/linux/amd64",
                    &json!({"yanked": true, "yank_reason": "broken"}),
                )
                .await
                .assert_status(200);
            app
        });
        Self { runtime, app }
    }

    pub fn send(&self, probe: &Probe) -> Reply {
        let client = match probe.role {
            Role::Anonymous => self.app.anonymous(),
            Role::Reader => self.app.reader(),
            Role::Admin => self.app.admin(),
        };
        let mut builder = client.request(probe.method, &probe.uri);
        for (name, value) in &probe.headers {
            builder = builder.header(*name, value.as_str());
        }
        let body = match &probe.body {
            Some((content_type, bytes)) => {
                if let Some(content_type) = content_type {
                    builder = builder.header("content-type", content_type.as_str());
                }
                axum::body::Body::from(bytes.clone())
            }
            None => axum::body::Body::empty(),
        };
        let request = builder.body(body).expect("generated URIs are valid");
        self.runtime.block_on(client.send(request))
    }

    /// Sends `probe`: never a 5xx, and on `/api/v1` every 4xx is the JSON
    /// error envelope.
    pub fn assert_sound(&self, probe: &Probe) -> TestCaseResult {
        Self::assert_reply_sound(probe, &self.send(probe))
    }

    /// What [`World::assert_sound`] checks, on a reply already had.
    pub fn assert_reply_sound(probe: &Probe, reply: &Reply) -> TestCaseResult {
        prop_assert!(
            reply.status < 500,
            "{} {} answered {}: {}",
            probe.method,
            probe.uri,
            reply.status,
            reply.text
        );
        if probe.api && reply.status >= 400 {
            prop_assert!(
                reply.body.get("error").is_some_and(Value::is_string),
                "{} {} answered {} without a JSON `error`: {}",
                probe.method,
                probe.uri,
                reply.status,
                reply.text
            );
        }
        Ok(())
    }
}

fn file(kind: &str, name: &str) -> Value {
    json!({"kind": kind, "url": format!("https://cdn.example.com/{name}"), "size": 1024,
           "sha256": SHA256, "sha1": "0123456789abcdef0123456789abcdef01234567"})
}

fn seed_releases() -> Vec<Value> {
    let mut bodies = Vec::new();
    for (version, channel, rollout) in [
        ("1.0.0", "stable", 100),
        ("1.0.1", "stable", 100),
        ("2.0.0", "stable", 50),
        ("1.1.0-beta.1", "beta", 100),
    ] {
        for (platform, arch, files) in [
            (
                "linux",
                "amd64",
                vec![
                    file("appimage", &format!("demo-{version}.AppImage")),
                    file("deb", &format!("demo-{version}.deb")),
                ],
            ),
            (
                "darwin",
                "arm64",
                vec![
                    file("app", &format!("demo-{version}.app.tar.gz")),
                    file("zip", &format!("demo-{version}-mac.zip")),
                    file("dmg", &format!("demo-{version}.dmg")),
                ],
            ),
            (
                "windows",
                "amd64",
                vec![
                    file("nsis", &format!("demo-{version}-setup.exe")),
                    file("msi", &format!("demo-{version}.msi")),
                    file("nupkg", &format!("demo-{version}-full.nupkg")),
                ],
            ),
        ] {
            if channel == "beta" && platform != "linux" {
                continue;
            }
            bodies.push(json!({
                "version": version, "platform": platform, "architecture": arch,
                "channel": channel, "rollout_percentage": rollout,
                "release_notes": format!("Notes for {version}"),
                "minimum_system_version": "10.15", "files": files,
            }));
        }
    }
    bodies
}
