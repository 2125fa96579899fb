//! `${NAME}` and `${NAME:-default}` references in YAML strings, and secret files.

use std::collections::BTreeMap;
use std::path::Path;

/// The process environment, captured once so loading is deterministic and
/// tests need not touch the real environment.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `NAME`, else the content of the file named by `NAME_FILE`. Both set is an error.
    pub fn value_or_file(
        &self,
        name: &str,
        warnings: &mut Vec<String>,
    ) -> Result<Option<String>, String> {
        let file_var = format!("{name}_FILE");
        match (self.get(name), self.get(&file_var)) {
            (Some(_), Some(_)) => Err(format!("both {name} and {file_var} are set; set only one")),
            (Some(value), None) => Ok(Some(value.to_string())),
            (None, Some(path)) => read_secret_file(Path::new(path), &file_var, warnings).map(Some),
            (None, None) => Ok(None),
        }
    }
}

/// Reads a secret file: one trailing newline (`\n` or `\r\n`) is removed, the
/// rest is kept byte for byte. A file readable by group or others is a warning.
pub fn read_secret_file(
    path: &Path,
    variable: &str,
    warnings: &mut Vec<String>,
) -> Result<String, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("{variable}: cannot read {}: {e}", path.display()))?;
    warn_if_shared(path, variable, warnings);
    let mut text = String::from_utf8(bytes)
        .map_err(|_| format!("{variable}: {} is not UTF-8", path.display()))?;
    if text.ends_with("\r\n") {
        text.truncate(text.len() - 2);
    } else if text.ends_with('\n') {
        text.truncate(text.len() - 1);
    }
    Ok(text)
}

#[cfg(unix)]
fn warn_if_shared(path: &Path, variable: &str, warnings: &mut Vec<String>) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            warnings.push(format!(
                "{variable}: secret file {} is readable by group or others (mode {:o}); restrict it to 0400 or 0600",
                path.display(),
                mode & 0o777
            ));
        }
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_: &Path, _: &str, _: &mut Vec<String>) {}

/// Replaces every `${NAME}` / `${NAME:-default}` in `input`. `$${` is a literal `${`.
/// A default may itself hold references: `${PRIMARY:-${FALLBACK}}`.
pub fn interpolate(input: &str, env: &Env, warnings: &mut Vec<String>) -> Result<String, String> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            // Messages never quote the text: it may be a secret's value.
            let end =
                closing_brace(tail).ok_or("unterminated `${` (write `$${` for a literal `${`)")?;
            out.push_str(&resolve(&tail[..end], env, warnings)?);
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn closing_brace(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn resolve(expr: &str, env: &Env, warnings: &mut Vec<String>) -> Result<String, String> {
    let (name, default) = match expr.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (expr, None),
    };
    let valid_name = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_name {
        return Err(
            "a `${...}` reference without a valid variable name (expected ${NAME} or ${NAME:-default}, \
             NAME of letters, digits and `_`)"
                .into(),
        );
    }
    match env.value_or_file(name, warnings)? {
        Some(value) if !(value.is_empty() && default.is_some()) => Ok(value),
        _ => match default {
            Some(default) => interpolate(default, env, warnings)
                .map_err(|e| format!("environment variable {name} is not set (nor {name}_FILE) and its default failed: {e}")),
            None => Err(format!(
                "environment variable {name} is not set (nor {name}_FILE)"
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &str, env: &Env) -> Result<String, String> {
        interpolate(input, env, &mut Vec::new())
    }

    #[test]
    fn references_defaults_and_escapes() {
        let env = Env::from_pairs([("A", "alpha"), ("EMPTY", "")]);
        assert_eq!(run("${A}", &env).unwrap(), "alpha");
        assert_eq!(run("x-${A}-y", &env).unwrap(), "x-alpha-y");
        assert_eq!(run("${B:-beta}", &env).unwrap(), "beta");
        assert_eq!(run("${EMPTY:-fallback}", &env).unwrap(), "fallback");
        assert_eq!(run("${B:-${A}}", &env).unwrap(), "alpha");
        assert_eq!(run("$${A}", &env).unwrap(), "${A}");
        assert_eq!(run("cost: $5", &env).unwrap(), "cost: $5");
        assert!(run("${B}", &env).unwrap_err().contains("B is not set"));
        assert!(run("${A", &env).is_err());
        assert!(run("${1A}", &env).is_err());
    }

    #[test]
    fn errors_never_quote_the_text() {
        let env = Env::default();
        for input in [
            "hunter2${",
            "${hunter2",
            "${hunter2!}",
            "${UNSET:-hunter2${}",
            "${UNSET:-${hunter2 x}}",
        ] {
            let error = run(input, &env).unwrap_err();
            assert!(!error.contains("hunter2"), "{input}: {error}");
        }
    }

    #[test]
    fn falls_back_to_file_variant() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "from-file\n").unwrap();
        let env = Env::from_pairs([("KEY_FILE", path.to_str().unwrap())]);
        assert_eq!(run("${KEY}", &env).unwrap(), "from-file");
        let both = Env::from_pairs([("KEY", "x"), ("KEY_FILE", path.to_str().unwrap())]);
        assert!(run("${KEY}", &both).unwrap_err().contains("both"));
    }
}
