//! The configuration as a JSON value tree, checked against the schema that
//! the serialized defaults make: type checks and coercion of environment
//! strings, merging of layers, and one environment variable set at its path.

use std::path::Path;

use serde_json::Value;

use super::ApiKeySettings;
use super::interpolate::{Env, read_secret_file};

/// Words that mark a key as possibly holding a secret: its string values are
/// never echoed in messages.
const SECRET_WORDS: [&str; 4] = ["key", "secret", "password", "url"];

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The schema of one element of a list key.
pub(super) fn list_item_schema(path: &str) -> Value {
    match path {
        "security.api_keys" => serde_json::to_value(ApiKeySettings::default()).expect("serializes"),
        _ => Value::String(String::new()),
    }
}

/// Checks `value` against the schema (the serialized defaults): unknown keys
/// and wrong types are errors; strings from the environment are coerced to the
/// expected type; list elements are completed with their defaults.
pub(super) fn conform(
    value: Value,
    schema: &Value,
    path: &str,
    label: &str,
    errors: &mut Vec<String>,
) -> Value {
    // An explicit `~` (or a reference that failed, already reported) means
    // "the default".
    if value.is_null() {
        return schema.clone();
    }
    // A string is echoed only where a number or boolean was expected and the
    // key is not secret-like: elsewhere it may be a secret put in the wrong place.
    let reveal = schema.is_number() || schema.is_boolean();
    let reveal = reveal && !SECRET_WORDS.iter().any(|word| path.contains(word));
    let wrong = |errors: &mut Vec<String>, expected: &str, found: &Value| {
        errors.push(format!(
            "{label} `{path}`: expected {expected}, found {}",
            describe(found, reveal)
        ));
    };
    match schema {
        Value::Object(fields) => match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .filter_map(|(k, v)| {
                        let child = join(path, &k);
                        match fields.get(&k) {
                            Some(field_schema) => {
                                Some((k, conform(v, field_schema, &child, label, errors)))
                            }
                            None => {
                                errors.push(format!("{label}: unknown key `{child}`"));
                                None
                            }
                        }
                    })
                    .collect(),
            ),
            other => {
                wrong(errors, "a mapping", &other);
                schema.clone()
            }
        },
        Value::Array(_) => {
            let items = match value {
                Value::Array(items) => items,
                Value::String(s) if s.trim_start().starts_with('[') => {
                    match serde_norway::from_str::<Value>(&s) {
                        Ok(Value::Array(items)) => items,
                        _ => {
                            errors.push(format!("{label} `{path}`: not a valid list"));
                            return Value::Array(Vec::new());
                        }
                    }
                }
                Value::String(s) => s
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| Value::String(p.to_string()))
                    .collect(),
                other => {
                    wrong(errors, "a list", &other);
                    return Value::Array(Vec::new());
                }
            };
            let item_schema = list_item_schema(path);
            Value::Array(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let conformed = conform(
                            item,
                            &item_schema,
                            &join(path, &i.to_string()),
                            label,
                            errors,
                        );
                        let mut filled = item_schema.clone();
                        merge(&mut filled, conformed);
                        filled
                    })
                    .collect(),
            )
        }
        Value::Bool(_) => match value {
            Value::Bool(b) => Value::Bool(b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
            other => {
                wrong(errors, "true or false", &other);
                schema.clone()
            }
        },
        Value::Number(_) => match value {
            Value::Number(n) => Value::Number(n),
            Value::String(s) => match serde_json::from_str::<serde_json::Number>(s.trim()) {
                Ok(n) => Value::Number(n),
                Err(_) => {
                    wrong(errors, "a number", &Value::String(s));
                    schema.clone()
                }
            },
            other => {
                wrong(errors, "a number", &other);
                schema.clone()
            }
        },
        Value::String(default) => {
            if let Some(number) = unitless_duration(default, &value) {
                errors.push(format!(
                    "{label} `{path}`: a duration needs a unit: write `{number}s` (or ms, m, h, d)"
                ));
                return schema.clone();
            }
            match value {
                Value::String(s) => Value::String(s),
                Value::Number(n) => Value::String(n.to_string()),
                Value::Bool(b) => Value::String(b.to_string()),
                other => {
                    wrong(errors, "a string", &other);
                    schema.clone()
                }
            }
        }
        Value::Null => value,
    }
}

/// The number when `value` is a bare whole number (not zero) and the key is a
/// duration: every duration's default is written with a unit, which is how a
/// duration key is told from the schema.
fn unitless_duration(default: &str, value: &Value) -> Option<String> {
    let number = match value {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let duration = !default.is_empty() && humantime::parse_duration(default).is_ok();
    let bare = !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit());
    (duration && bare && !number.trim_start_matches('0').is_empty()).then_some(number)
}

pub(super) fn describe(value: &Value, reveal_strings: bool) -> String {
    match value {
        Value::Null => "nothing".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if reveal_strings && s.len() <= 64 => format!("\"{}\"", s.escape_debug()),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

/// Deep merge: mappings merge key by key, anything else replaces.
pub(super) fn merge(base: &mut Value, layer: Value) {
    match (base, layer) {
        (Value::Object(base_map), Value::Object(layer_map)) => {
            for (k, v) in layer_map {
                match base_map.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        base_map.insert(k, v);
                    }
                }
            }
        }
        (slot, layer) => *slot = layer,
    }
}

/// `UPDATER_SERVER__PORT` → `server.port`; `UPDATER_X_FILE` reads the value
/// from a file. Returns the key whose value could not be read (the error is
/// recorded), so validation does not also call that key unset.
#[allow(clippy::too_many_arguments)]
pub(super) fn apply_env_variable(
    tree: &mut Value,
    schema: &Value,
    env: &Env,
    name: &str,
    key: &str,
    raw: &str,
    errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Option<String> {
    let prefix = &name[..name.len() - key.len()];
    let segments =
        |k: &str| -> Vec<String> { k.split("__").map(str::to_ascii_lowercase).collect() };
    let direct = segments(key);
    if let Some((leaf, growths)) = resolve(schema, tree, &direct) {
        if env.get(&format!("{name}_FILE")).is_none()
            && room_for(&growths, &direct, prefix, key, env, name, errors)
        {
            set_leaf(
                tree,
                &direct,
                Value::String(raw.to_string()),
                &leaf,
                name,
                errors,
            );
        }
        return None;
    }
    if let Some(stripped) = key.strip_suffix("_FILE") {
        let target = segments(stripped);
        if let Some((leaf, growths)) = resolve(schema, tree, &target) {
            let value_variable = &name[..name.len() - "_FILE".len()];
            if env.get(value_variable).is_some() {
                errors.push(format!(
                    "both {value_variable} and {name} are set; set only one"
                ));
                return Some(target.join("."));
            }
            if !room_for(&growths, &target, prefix, stripped, env, name, errors) {
                return None;
            }
            match read_secret_file(Path::new(raw), name, warnings) {
                Ok(content) => set_leaf(tree, &target, Value::String(content), &leaf, name, errors),
                Err(e) => {
                    errors.push(e);
                    return Some(target.join("."));
                }
            }
            return None;
        }
    }
    errors.push(format!(
        "environment variable {name} does not match any configuration key (keys are UPDATER_ + the key path in capitals with `__` between levels, e.g. UPDATER_SERVER__PORT)"
    ));
    None
}

/// A list index at or past the end of its list: the element is new.
struct Growth {
    /// Where the index is among the key's segments.
    at: usize,
    /// The list's length before the variable is applied.
    len: usize,
}

/// The schema of the key at `segments`, if such a key exists. List indices
/// must name an element present in the merged tree.
pub(super) fn leaf_schema(schema: &Value, tree: &Value, segments: &[String]) -> Option<Value> {
    resolve(schema, tree, segments)
        .filter(|(_, growths)| growths.is_empty())
        .map(|(leaf, _)| leaf)
}

/// Like [`leaf_schema`], but a list index may be at or past the end of its
/// list, an element yet to be added (with a default element's fields); those
/// indexes are returned.
fn resolve(schema: &Value, tree: &Value, segments: &[String]) -> Option<(Value, Vec<Growth>)> {
    let mut schema = schema.clone();
    let mut node = tree.clone();
    let mut path = String::new();
    let mut growths = Vec::new();
    for (at, segment) in segments.iter().enumerate() {
        if segment.is_empty() {
            return None;
        }
        let (next_schema, next_node) = match (&schema, &node) {
            (Value::Object(fields), Value::Object(children)) => {
                (fields.get(segment)?.clone(), children.get(segment)?.clone())
            }
            (Value::Array(_), Value::Array(items)) => {
                let index: usize = segment.parse().ok()?;
                let item_schema = list_item_schema(&path);
                let item = items.get(index).cloned().unwrap_or_else(|| {
                    growths.push(Growth {
                        at,
                        len: items.len(),
                    });
                    item_schema.clone()
                });
                (item_schema, item)
            }
            _ => return None,
        };
        schema = next_schema;
        node = next_node;
        path = join(&path, segment);
    }
    Some((schema, growths))
}

/// A variable may add list elements: the index equal to the length appends
/// one, and an index past it is allowed only when variables for every index
/// in between exist too (`…__2__NAME` and `…__3__NAME` on a list of two).
fn room_for(
    growths: &[Growth],
    segments: &[String],
    prefix: &str,
    key: &str,
    env: &Env,
    name: &str,
    errors: &mut Vec<String>,
) -> bool {
    let parts: Vec<&str> = key.split("__").collect();
    for growth in growths {
        let list_variable = format!("{prefix}{}", parts[..growth.at].join("__"));
        let index: usize = segments[growth.at].parse().expect("resolve parsed it");
        // `…__2`, `…__2_FILE` or `…__2__<FIELD>` sets the element at 2.
        let set = |between: usize| {
            let element = format!("{list_variable}__{between}").to_ascii_uppercase();
            env.iter().any(|(other, _)| {
                other
                    .to_ascii_uppercase()
                    .strip_prefix(&element)
                    .is_some_and(|rest| {
                        rest.is_empty() || rest == "_FILE" || rest.starts_with("__")
                    })
            })
        };
        if (growth.len..index).all(set) {
            continue;
        }
        let list = segments[..growth.at].join(".");
        let len = growth.len;
        let entries = if len == 1 { "entry" } else { "entries" };
        let fields = match list_item_schema(&list) {
            Value::Object(fields) => {
                let names: Vec<String> = fields.keys().map(|f| f.to_ascii_uppercase()).collect();
                format!(
                    "{list_variable}__{len}__<FIELD> (FIELD one of {})",
                    names.join(", ")
                )
            }
            _ => format!("{list_variable}__{len}"),
        };
        errors.push(format!(
            "{name}: index {index} is past the end of `{list}`, which has {len} {entries}; \
             to add one, set {fields}: new entries take the next index, {len}, and further ones follow without gaps"
        ));
        return false;
    }
    true
}

/// Sets the key at `segments` (found by [`resolve`], and with room for any new
/// list element), adding default elements to reach a new index.
pub(super) fn set_leaf(
    tree: &mut Value,
    segments: &[String],
    raw: Value,
    leaf: &Value,
    label: &str,
    errors: &mut Vec<String>,
) {
    let path = segments.join(".");
    let value = conform(raw, leaf, &path, label, errors);
    let mut node = tree;
    let mut at = String::new();
    for segment in segments {
        node = match node {
            Value::Object(children) => children.get_mut(segment).expect("checked by resolve"),
            Value::Array(items) => {
                let index: usize = segment.parse().expect("checked by resolve");
                while items.len() <= index {
                    items.push(list_item_schema(&at));
                }
                &mut items[index]
            }
            _ => unreachable!("checked by resolve"),
        };
        at = join(&at, segment);
    }
    merge(node, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_values_of_secret_like_keys_are_not_echoed() {
        for path in [
            "security.allow_http_download_urls",
            "security.api_keys.0.key",
            "x.password",
            "x.secret",
        ] {
            let mut errors = Vec::new();
            conform(
                Value::String("hunter2-hunter2".into()),
                &Value::Bool(false),
                path,
                "test",
                &mut errors,
            );
            assert_eq!(errors.len(), 1, "{path}");
            assert!(!errors[0].contains("hunter2"), "{}", errors[0]);
        }
        let mut errors = Vec::new();
        conform(
            Value::String("yes".into()),
            &Value::Bool(false),
            "metrics.enabled",
            "test",
            &mut errors,
        );
        assert!(errors[0].contains("\"yes\""), "{}", errors[0]);
    }
}
