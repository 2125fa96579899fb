//! The inputs of the configuration properties: every known key, values for
//! secret and other keys, environments, sections and command-line overrides,
//! and the YAML file they are written to.

use std::path::Path;
use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::common::sut::Settings;
use crate::support::any_text;

/// In every secret value; `!` keeps it out of any `${NAME}`.
pub const MARK: &str = "s3cr3t!MARK";

/// Every leaf key of the settings as dotted paths; list elements of
/// `security.api_keys` as `security.api_keys.<i>.<field>`.
static KEYS: LazyLock<Vec<String>> = LazyLock::new(|| {
    fn walk(value: &Value, path: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(fields) => {
                for (k, v) in fields {
                    let child = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(v, &child, out);
                }
            }
            _ => out.push(path.to_string()),
        }
    }
    let mut keys = Vec::new();
    walk(
        &serde_json::to_value(Settings::default()).expect("settings serialize"),
        "",
        &mut keys,
    );
    for i in 0..2 {
        for field in ["name", "key", "key_hash", "permissions"] {
            keys.push(format!("security.api_keys.{i}.{field}"));
        }
    }
    keys
});

/// A key is secret when its own name (the last segment) says so. Paths to
/// files (`server.tls.key_file`) are not secrets: their content is, and an
/// unreadable file is reported by its path on purpose.
fn is_secret(path: &str) -> bool {
    let leaf = path.rsplit('.').next().unwrap_or(path);
    !leaf.ends_with("_file")
        && ["key", "secret", "password", "url"]
            .iter()
            .any(|word| leaf.contains(word))
}

/// Values that are valid for some key, so loads get past the first check.
const PLAUSIBLE: &[&str] = &[
    "8080",
    "0",
    "-1",
    "65536",
    "1e3",
    "1.5",
    "18446744073709551616",
    "true",
    "false",
    "TRUE",
    "yes",
    "10s",
    "0s",
    "5m",
    "1h30m",
    "-1s",
    "99999999999999999999h",
    "memory",
    "sqlite",
    "postgres",
    "production",
    "development",
    "json",
    "pretty",
    "read",
    "admin",
    "read,write",
    "[read, monitor]",
    "[unclosed",
    "127.0.0.1",
    "0.0.0.0",
    "::1",
    "10.0.0.0/8",
    "https://app.example.com",
    "info",
    "updater=debug,info",
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "",
    " ",
];
/// Interpolation, broken and not.
const FRAGMENTS: &[&str] = &[
    "${PLAIN_A}",
    "${PLAIN_B:-fallback}",
    "${UNSET:-}",
    "${UNSET}",
    "${UNSET:-${PLAIN_A}}",
    "$${PLAIN_A}",
    "${",
    "}",
    "${1BAD}",
    "${bad name}",
    "${:-x}",
    "$",
    "${PLAIN_A",
];

/// Text for a key that is not secret.
fn plain_text() -> BoxedStrategy<String> {
    let piece = prop_oneof![
        3 => proptest::sample::select(PLAUSIBLE).prop_map(str::to_string),
        2 => proptest::sample::select(FRAGMENTS).prop_map(str::to_string),
        1 => any_text(12),
    ];
    proptest::collection::vec(piece, 1..4)
        .prop_map(|p| p.concat())
        .boxed()
}

/// Text for a secret key: `MARK` somewhere, maybe inside broken references,
/// or a reference to a variable that holds one.
pub fn secret_text() -> BoxedStrategy<String> {
    let piece = || {
        prop_oneof![
            2 => proptest::sample::select(FRAGMENTS).prop_map(str::to_string),
            1 => Just("${HIDDEN}".to_string()),
            1 => Just("${UNSET:-${HIDDEN}}".to_string()),
            1 => any_text(8),
            1 => proptest::sample::select(PLAUSIBLE).prop_map(str::to_string),
        ]
    };
    prop_oneof![
        4 => (proptest::collection::vec(piece(), 0..3), proptest::collection::vec(piece(), 0..3))
            .prop_map(|(before, after)| format!("{}{MARK}{}", before.concat(), after.concat())),
        1 => Just("${HIDDEN}".to_string()),
        1 => Just(format!("${{UNSET:-{MARK}${{}}")),
    ]
    .boxed()
}

/// A YAML scalar for `path`: text, or a number, boolean or null.
fn scalar(path: &str) -> BoxedStrategy<Value> {
    let text = if is_secret(path) {
        secret_text()
    } else {
        plain_text()
    };
    prop_oneof![
        6 => text.prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::from),
        1 => Just(Value::Null),
        1 => Just(Value::Array(Vec::new())),
    ]
    .boxed()
}

fn key() -> impl Strategy<Value = String> {
    proptest::sample::select(KEYS.clone())
}

/// `(dotted key, value)` pairs, mostly at known keys.
fn entries() -> impl Strategy<Value = Entries> {
    let entry = prop_oneof![
        8 => key().prop_flat_map(|k| (Just(k.clone()), scalar(&k))),
        1 => (
            proptest::sample::select(&["server", "security", "storage.postgres", "logging"][..]),
            proptest::sample::select(&["unknown", "extra_key", "passwords"][..]),
        )
            .prop_map(|(a, b)| format!("{a}.{b}"))
            .prop_flat_map(|k| (Just(k.clone()), scalar(&k))),
        1 => (
            proptest::sample::select(&["server", "security", "storage", "security.api_keys"][..]),
            prop_oneof![Just(Value::from("x")), Just(Value::from(1)), Just(Value::Null)],
        )
            .prop_map(|(k, v)| (k.to_string(), v)),
    ];
    prop_oneof![
        proptest::collection::vec(entry.clone(), 0..3),
        proptest::collection::vec(entry, 0..8),
    ]
}

/// Sets `value` at the dotted `path`, making mappings (or, for a numeric
/// segment, list elements) on the way; a scalar in the way is replaced.
fn insert(root: &mut Value, path: &str, value: Value) {
    let mut node = root;
    let segments: Vec<&str> = path.split('.').collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let next_is_index = segments
            .get(i + 1)
            .is_some_and(|s| s.parse::<usize>().is_ok());
        let empty = || {
            if next_is_index {
                Value::Array(Vec::new())
            } else {
                Value::Object(Map::new())
            }
        };
        if let Ok(index) = segment.parse::<usize>() {
            if !node.is_array() {
                *node = Value::Array(Vec::new());
            }
            let items = node.as_array_mut().expect("made a list");
            while items.len() <= index {
                items.push(Value::Object(Map::new()));
            }
            node = &mut items[index];
        } else {
            if !node.is_object() {
                *node = Value::Object(Map::new());
            }
            let fields = node.as_object_mut().expect("made a mapping");
            node = fields.entry(segment.to_string()).or_insert_with(empty);
        }
        if last {
            *node = value;
            return;
        }
    }
}

/// `(dotted key, value)` pairs to write.
pub type Entries = Vec<(String, Value)>;
/// A section's body: entries, or a scalar where a mapping belongs.
pub type Section = Result<Entries, Value>;

/// One load's input.
#[derive(Debug, Clone)]
pub struct Case {
    /// `(section, entries)`; a section may also be a scalar.
    pub sections: Vec<(String, Section)>,
    pub section: Option<String>,
    pub env: Vec<(String, String)>,
    /// Command-line `--set key=value` overrides.
    pub overrides: Vec<(String, String)>,
}

fn section_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("development".to_string()),
        2 => Just("production".to_string()),
        1 => Just("defaults".to_string()),
        1 => Just("staging".to_string()),
        1 => "[a-z]{1,6}",
    ]
}

/// `secret_file` holds a secret value, for the `_FILE` variables.
fn env_var(secret_file: String) -> impl Strategy<Value = (String, String)> {
    let file_var = |k: &str| format!("UPDATER_{}_FILE", k.replace('.', "__").to_uppercase());
    let override_var = key().prop_flat_map(|k| {
        let name = format!("UPDATER_{}", k.replace('.', "__").to_uppercase());
        let value = if is_secret(&k) {
            secret_text()
        } else {
            plain_text()
        };
        (Just(name), value)
    });
    prop_oneof![
        6 => override_var,
        1 => key().prop_map(move |k| (file_var(&k), "/nonexistent/secret-file".to_string())),
        1 => key()
            .prop_filter("a secret key", |k| is_secret(k))
            .prop_map({
                let secret_file = secret_file.clone();
                move |k| (file_var(&k), secret_file.clone())
            }),
        1 => Just(("HIDDEN_FILE".to_string(), secret_file)),
        1 => ("UPDATER_[A-Z_]{1,12}", plain_text()),
        1 => (Just("UPDATER_CONFIG_SECTION".to_string()), section_name()),
        1 => (Just("PLAIN_A".to_string()), plain_text()),
        1 => (Just("PLAIN_B".to_string()), plain_text()),
        1 => (Just("PLAIN_B_FILE".to_string()), Just("/nonexistent/plain".to_string())),
        2 => (Just("HIDDEN".to_string()), secret_text()),
    ]
}

fn override_entry() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        4 => key(),
        1 => "[a-z_]{1,8}(\\.[a-z_0-9]{1,8}){0,3}",
    ]
    .prop_flat_map(|k| {
        let value = if is_secret(&k) {
            secret_text()
        } else {
            plain_text()
        };
        (Just(k), value)
    })
}

pub fn case(secret_file: String) -> impl Strategy<Value = Case> {
    let section = (
        section_name(),
        prop_oneof![
            8 => entries().prop_map(Ok),
            1 => prop_oneof![Just(Value::from("x")), Just(Value::from(1)), Just(Value::Null)]
                .prop_map(Err),
        ],
    );
    (
        proptest::option::weighted(0.85, entries()),
        proptest::collection::vec(section, 0..3),
        proptest::option::weighted(0.25, section_name()),
        proptest::collection::vec(env_var(secret_file), 0..6),
        proptest::collection::vec(override_entry(), 0..3),
    )
        .prop_map(|(development, others, section, env, overrides)| {
            let mut sections: Vec<_> = development
                .map(|entries| ("development".to_string(), Ok(entries)))
                .into_iter()
                .collect();
            sections.extend(others);
            Case {
                sections,
                section,
                env,
                overrides,
            }
        })
}

/// A configuration that loads: secrets where they belong (an API key from
/// the YAML, the environment or a reference, the database URL), so the
/// loaded settings' `Debug` is checked too.
pub fn loadable(secret_file: String) -> impl Strategy<Value = Case> {
    let key = prop_oneof![
        Just(Value::from(format!("yaml-{MARK}"))),
        Just(Value::from("${HIDDEN}")),
        Just(Value::from(format!("${{UNSET:-default-{MARK}}}"))),
    ];
    (key, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        move |(key, from_env, from_file, production)| {
            let mut entries = vec![
                ("security.api_keys.0.name".to_string(), Value::from("k")),
                ("security.api_keys.0.key".to_string(), key),
                (
                    "security.api_keys.0.permissions".to_string(),
                    Value::from("read"),
                ),
                (
                    "storage.postgres.url".to_string(),
                    Value::from(format!("postgres://u:{MARK}@db/updater")),
                ),
                ("storage.type".to_string(), Value::from("memory")),
            ];
            if production {
                entries.push(("environment".to_string(), Value::from("production")));
            }
            let mut env = vec![(
                "HIDDEN".to_string(),
                format!("env-{MARK}-0123456789abcdef0123456789"),
            )];
            if from_env {
                env.push((
                    "UPDATER_SECURITY__API_KEYS__0__KEY".to_string(),
                    format!("override-{MARK}"),
                ));
            } else if from_file {
                env.push((
                    "UPDATER_SECURITY__API_KEYS__0__KEY_FILE".to_string(),
                    secret_file.clone(),
                ));
            }
            Case {
                sections: vec![("development".to_string(), Ok(entries))],
                section: None,
                env,
                overrides: Vec::new(),
            }
        },
    )
}

pub fn write_case(case: &Case, path: &Path) {
    let mut root = Value::Object(Map::new());
    for (name, body) in &case.sections {
        let mut section = Value::Object(Map::new());
        match body {
            Ok(entries) => {
                for (key, value) in entries {
                    insert(&mut section, key, value.clone());
                }
            }
            Err(scalar) => section = scalar.clone(),
        }
        root.as_object_mut()
            .expect("a mapping")
            .insert(name.clone(), section);
    }
    // Always a file, so the committed `./config.yaml` is never read.
    let text = serde_norway::to_string(&root).expect("YAML serializes");
    std::fs::write(path, text).expect("the temporary file is writable");
}
