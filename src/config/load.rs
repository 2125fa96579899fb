//! Layering: built-in defaults < `defaults` section < selected section <
//! `UPDATER_*` environment < command line, then type checks and validation.
//! Every error found is collected, so one run lists them all.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::interpolate::{Env, interpolate};
use super::tree::{
    apply_env_variable, conform, join, leaf_schema, list_item_schema, merge, set_leaf,
};
use super::{ServerSettings, Settings, validate};

const ENV_PREFIX: &str = "UPDATER_";
/// Variables that choose what to load rather than override a key.
/// `UPDATER_*` variables that are not configuration keys: which file and
/// section to load, and the admin key `updater keys --server` reads.
const CONTROL_VARIABLES: [&str; 3] = [
    "UPDATER_CONFIG",
    "UPDATER_CONFIG_SECTION",
    "UPDATER_ADMIN_KEY",
];
const DEFAULTS_SECTION: &str = "defaults";
const DEFAULT_SECTION: &str = "development";

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--config`; else `UPDATER_CONFIG`; else `./config.yaml` when present.
    pub config_path: Option<PathBuf>,
    /// `--section`; else `UPDATER_CONFIG_SECTION`; else `development`.
    pub section: Option<String>,
    /// Command-line overrides as (dotted key, raw value), applied last.
    pub overrides: Vec<(String, String)>,
    pub env: Env,
}

impl LoadOptions {
    pub fn from_process(config_path: Option<PathBuf>, section: Option<String>) -> Self {
        Self {
            config_path,
            section,
            overrides: Vec::new(),
            env: Env::from_process(),
        }
    }
}

#[derive(Debug)]
pub struct Loaded {
    pub settings: Settings,
    pub section: String,
    pub source: Option<PathBuf>,
    /// Things worth telling the operator that do not stop the start.
    pub warnings: Vec<String>,
}

#[derive(Debug)]
pub struct ConfigError {
    pub errors: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration ({} error(s)):", self.errors.len())?;
        for error in &self.errors {
            writeln!(f, "  - {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Which keys a load looks at. The health probe reads only `server`, so it
/// never resolves secrets or fails on unrelated keys.
#[derive(Clone, Copy, PartialEq)]
enum Scope {
    All,
    ServerOnly,
}

pub fn load(options: &LoadOptions) -> Result<Loaded, ConfigError> {
    let (mut loaded, mut errors, unreadable) = build(options, Scope::All)?;
    errors.extend(validate::validate(
        &loaded.settings,
        &unreadable,
        &mut loaded.warnings,
    ));
    if errors.is_empty() {
        Ok(loaded)
    } else {
        Err(ConfigError { errors })
    }
}

/// The server settings alone, as the `-health-check` probe needs them.
pub fn load_server_only(options: &LoadOptions) -> Result<ServerSettings, ConfigError> {
    match build(options, Scope::ServerOnly)? {
        (loaded, errors, _) if errors.is_empty() => Ok(loaded.settings.server),
        (_, errors, _) => Err(ConfigError { errors }),
    }
}

/// Keys that were given a value that could not be read (a missing secret
/// file, an unset `${NAME}`): the error is reported once, so validation does
/// not also call them unset.
pub(super) type Unreadable = BTreeSet<String>;

/// Settings as complete as the input allows, with every problem found and
/// the keys whose values could not be read. Only an unreadable file or an
/// unknown section stops early.
fn build(
    options: &LoadOptions,
    scope: Scope,
) -> Result<(Loaded, Vec<String>, Unreadable), ConfigError> {
    let env = &options.env;
    let mut errors = Vec::new();
    let mut unreadable = Unreadable::new();
    let mut warnings = Vec::new();
    let schema = serde_json::to_value(Settings::default()).expect("default settings serialize");

    let source = config_path(options);
    let sections = match &source {
        Some(path) => read_sections(path).map_err(|e| ConfigError { errors: vec![e] })?,
        None => Map::from_iter([(DEFAULT_SECTION.to_string(), Value::Object(Map::new()))]),
    };
    let section = options
        .section
        .clone()
        .or_else(|| env.get("UPDATER_CONFIG_SECTION").map(str::to_string))
        .unwrap_or_else(|| DEFAULT_SECTION.to_string());
    let source_label = source.as_ref().map_or_else(
        || "built-in defaults".to_string(),
        |p| p.display().to_string(),
    );
    if section == DEFAULTS_SECTION || !sections.contains_key(&section) {
        let known: Vec<&str> = sections
            .keys()
            .map(String::as_str)
            .filter(|k| *k != DEFAULTS_SECTION)
            .collect();
        return Err(ConfigError {
            errors: vec![format!(
                "unknown configuration section `{section}` in {source_label}; known sections: {}",
                known.join(", ")
            )],
        });
    }

    let mut tree = schema.clone();
    for name in [DEFAULTS_SECTION, section.as_str()] {
        let Some(layer) = sections.get(name) else {
            continue;
        };
        let layer = match (layer, scope) {
            (Value::Null, _) => continue,
            (Value::Object(map), Scope::ServerOnly) => match map.get("server") {
                Some(server) => {
                    Value::Object(Map::from_iter([("server".to_string(), server.clone())]))
                }
                None => continue,
            },
            (Value::Object(_), Scope::All) => layer.clone(),
            _ => {
                errors.push(format!(
                    "{source_label}: section `{name}` must be a mapping"
                ));
                continue;
            }
        };
        let label = format!("{source_label} [{name}]");
        let layer = interpolate_tree(
            layer,
            "",
            env,
            &label,
            &mut errors,
            &mut warnings,
            &mut unreadable,
        );
        let layer = conform(layer, &schema, "", &label, &mut errors);
        merge(&mut tree, layer);
    }

    for (name, raw) in env.iter() {
        let Some(key) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if CONTROL_VARIABLES.contains(&name) {
            continue;
        }
        if scope == Scope::ServerOnly && !key.starts_with("SERVER__") {
            continue;
        }
        unreadable.extend(apply_env_variable(
            &mut tree,
            &schema,
            env,
            name,
            key,
            raw,
            &mut errors,
            &mut warnings,
        ));
    }

    for (dotted, raw) in &options.overrides {
        let segments: Vec<String> = dotted.split('.').map(str::to_string).collect();
        let label = format!("command-line option for `{dotted}`");
        match leaf_schema(&schema, &tree, &segments) {
            Some(leaf) => set_leaf(
                &mut tree,
                &segments,
                Value::String(raw.clone()),
                &leaf,
                &label,
                &mut errors,
            ),
            None => errors.push(format!("{label}: no such configuration key")),
        }
    }

    let settings = deserialize_collecting(tree, &schema, &mut errors);
    let loaded = Loaded {
        settings,
        section,
        source,
        warnings,
    };
    Ok((loaded, errors, unreadable))
}

/// serde stops at the first bad value; to report them all, each bad value is
/// recorded, put back to its default, and deserialization tried again.
fn deserialize_collecting(mut tree: Value, schema: &Value, errors: &mut Vec<String>) -> Settings {
    const MAX_VALUE_ERRORS: usize = 64;
    for _ in 0..MAX_VALUE_ERRORS {
        match serde_path_to_error::deserialize::<_, Settings>(tree.clone()) {
            Ok(settings) => return settings,
            Err(error) => {
                errors.push(format!("`{}`: {}", error.path(), unquoted(error.inner())));
                let segments: Vec<serde_path_to_error::Segment> =
                    error.path().iter().cloned().collect();
                if !reset_to_default(&mut tree, schema, &segments) {
                    break;
                }
            }
        }
    }
    Settings::default()
}

/// A deserialisation error without the value it quotes (serde's
/// `invalid value: string "…", expected a duration`): the value may be a
/// secret read from a `*_FILE` or set on the wrong key.
fn unquoted(error: &impl std::fmt::Display) -> String {
    let text = error.to_string();
    match text.split_once(", expected ") {
        Some((_, expected)) => format!("invalid value, expected {expected}"),
        None if text.contains('"') => "invalid value".into(),
        None => text,
    }
}

/// Puts the value at `segments` back to its default (a list element is removed).
fn reset_to_default(
    tree: &mut Value,
    schema: &Value,
    segments: &[serde_path_to_error::Segment],
) -> bool {
    use serde_path_to_error::Segment;
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    let mut node = tree;
    let mut schema = Some(schema.clone());
    let mut path = String::new();
    for segment in parents {
        match (segment, node) {
            (Segment::Map { key }, Value::Object(children)) => {
                let Some(child) = children.get_mut(key) else {
                    return false;
                };
                node = child;
                schema = schema.and_then(|s| s.get(key).cloned());
                path = join(&path, key);
            }
            (Segment::Seq { index }, Value::Array(items)) => {
                let Some(child) = items.get_mut(*index) else {
                    return false;
                };
                node = child;
                schema = Some(list_item_schema(&path));
            }
            _ => return false,
        }
    }
    match (last, node) {
        (Segment::Seq { index }, Value::Array(items)) if *index < items.len() => {
            items.remove(*index);
            true
        }
        (Segment::Map { key }, Value::Object(children)) => {
            match schema.and_then(|s| s.get(key).cloned()) {
                Some(default) => children.insert(key.clone(), default),
                None => children.remove(key),
            };
            true
        }
        _ => false,
    }
}

fn config_path(options: &LoadOptions) -> Option<PathBuf> {
    if let Some(path) = &options.config_path {
        return Some(path.clone());
    }
    if let Some(path) = options.env.get("UPDATER_CONFIG") {
        return Some(PathBuf::from(path));
    }
    let local = Path::new("config.yaml");
    local.is_file().then(|| local.to_path_buf())
}

fn read_sections(path: &Path) -> Result<Map<String, Value>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let value: Value = serde_norway::from_str(&text)
        .map_err(|e| format!("{} is not valid YAML: {e}", path.display()))?;
    match value {
        Value::Object(map) if !map.is_empty() => Ok(map),
        _ => Err(format!(
            "{} must be a mapping of sections (`development:`, `production:`, ...)",
            path.display()
        )),
    }
}

/// Resolves `${...}` in every string of a YAML layer.
fn interpolate_tree(
    value: Value,
    path: &str,
    env: &Env,
    label: &str,
    errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
    unreadable: &mut Unreadable,
) -> Value {
    match value {
        Value::String(s) => match interpolate(&s, env, warnings) {
            Ok(resolved) => Value::String(resolved),
            Err(e) => {
                errors.push(format!("{label} `{path}`: {e}"));
                unreadable.insert(path.to_string());
                // Reported once: the key falls back to its default.
                Value::Null
            }
        },
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    let child = join(path, &i.to_string());
                    interpolate_tree(v, &child, env, label, errors, warnings, unreadable)
                })
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let child = join(path, &k);
                    (
                        k,
                        interpolate_tree(v, &child, env, label, errors, warnings, unreadable),
                    )
                })
                .collect(),
        ),
        other => other,
    }
}
