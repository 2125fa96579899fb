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
        Value::String(_) => match value {
            Value::String(s) => Value::String(s),
            Value::Number(n) => Value::String(n.to_string()),
            Value::Bool(b) => Value::String(b.to_string()),
            other => {
                wrong(errors, "a string", &other);
                schema.clone()
            }
        },
        Value::Null => value,
    }
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

/// `UPDATER_SERVER__PORT` → `server.port`; `UPDATER_X_FILE` reads the value from a file.
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
) {
    let segments =
        |k: &str| -> Vec<String> { k.split("__").map(str::to_ascii_lowercase).collect() };
    let direct = segments(key);
    if let Some(leaf) = leaf_schema(schema, tree, &direct) {
        if env.get(&format!("{name}_FILE")).is_none() {
            set_leaf(
                tree,
                &direct,
                Value::String(raw.to_string()),
                &leaf,
                name,
                errors,
            );
        }
        return;
    }
    if let Some(stripped) = key.strip_suffix("_FILE") {
        let target = segments(stripped);
        if let Some(leaf) = leaf_schema(schema, tree, &target) {
            let value_variable = &name[..name.len() - "_FILE".len()];
            if env.get(value_variable).is_some() {
                errors.push(format!(
                    "both {value_variable} and {name} are set; set only one"
                ));
                return;
            }
            match read_secret_file(Path::new(raw), name, warnings) {
                Ok(content) => set_leaf(tree, &target, Value::String(content), &leaf, name, errors),
                Err(e) => errors.push(e),
            }
            return;
        }
    }
    errors.push(format!(
        "environment variable {name} does not match any configuration key (keys are UPDATER_ + the key path in capitals with `__` between levels, e.g. UPDATER_SERVER__PORT)"
    ));
}

/// The schema of the key at `segments`, if such a key exists. List indices
/// must name an element present in the merged tree.
pub(super) fn leaf_schema(schema: &Value, tree: &Value, segments: &[String]) -> Option<Value> {
    let mut schema = schema.clone();
    let mut node = tree;
    let mut path = String::new();
    for segment in segments {
        if segment.is_empty() {
            return None;
        }
        match (&schema, node) {
            (Value::Object(fields), Value::Object(children)) => {
                schema = fields.get(segment)?.clone();
                node = children.get(segment)?;
            }
            (Value::Array(_), Value::Array(items)) => {
                let index: usize = segment.parse().ok()?;
                node = items.get(index)?;
                schema = list_item_schema(&path);
            }
            _ => return None,
        }
        path = join(&path, segment);
    }
    Some(schema)
}

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
    for segment in segments {
        node = match node {
            Value::Object(children) => children.get_mut(segment).expect("checked by leaf_schema"),
            Value::Array(items) => items
                .get_mut(segment.parse::<usize>().expect("checked by leaf_schema"))
                .expect("checked by leaf_schema"),
            _ => unreachable!("checked by leaf_schema"),
        };
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
