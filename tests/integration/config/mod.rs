//! Configuration loading: sections, layering, environment overrides, secret
//! files, interpolation, error reporting, redaction, production rules, the
//! server-only load of the health probe, and `updater config check`.
//!
//! No test touches the real process environment or depends on the current
//! directory: every load names its file (or `UPDATER_CONFIG`) and its
//! environment explicitly.

mod cli;
mod environment;
mod errors;
mod hints;
mod interpolation;
mod key_hash;
mod new_entries;
mod operations;
mod precedence;
mod production;
mod redaction;
mod secret_files;
mod sections;
mod server_only;
mod settings;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::binary;
use crate::common::sut::{ConfigError, Env, LoadOptions, Loaded, load};

const SHA256_HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

const THREE_SECTIONS: &str = r#"
defaults:
  logging:
    level: warn
development:
  server:
    port: 8101
staging:
  server:
    port: 8102
qa:
  server:
    port: 8103
"#;

const ONE_KEY: &str = r#"
development:
  security:
    api_keys:
      - name: reader
        key: yaml-reader-key-0123456789abcdef0123
        permissions: [read]
"#;

fn env(pairs: &[(&str, &str)]) -> Env {
    Env::from_pairs(pairs.iter().copied())
}

fn write_yaml(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("config.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn options(path: &Path, section: Option<&str>, vars: &[(&str, &str)]) -> LoadOptions {
    LoadOptions {
        config_path: Some(path.to_path_buf()),
        section: section.map(str::to_string),
        overrides: Vec::new(),
        env: env(vars),
    }
}

fn committed_config() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config.yaml")
}

fn load_ok(options: &LoadOptions) -> Loaded {
    match load(options) {
        Ok(loaded) => loaded,
        Err(e) => panic!("expected the configuration to load, got:\n{e}"),
    }
}

fn load_err(options: &LoadOptions) -> Vec<String> {
    match load(options) {
        Ok(loaded) => panic!(
            "expected a configuration error, got settings:\n{:#?}",
            loaded.settings
        ),
        Err(ConfigError { errors }) => {
            assert!(
                !errors.is_empty(),
                "a ConfigError must hold at least one error"
            );
            errors
        }
    }
}

/// Asserts that some error contains every one of `needles`.
fn assert_error(errors: &[String], needles: &[&str]) {
    assert!(
        errors
            .iter()
            .any(|e| needles.iter().all(|needle| e.contains(needle))),
        "no error mentions all of {needles:?}; errors:\n{errors:#?}"
    );
}

/// Writes `content` to `dir/name` with the given Unix mode.
fn secret_file(dir: &Path, name: &str, content: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The real binary with an empty environment (plus PATH) in `dir`.
fn updater(dir: &Path, args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(dir)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
