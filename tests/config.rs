//! Configuration loading: sections, layering, environment overrides, secret
//! files, interpolation, error reporting, redaction, production rules, the
//! server-only load of the health probe, and `updater config check`.
//!
//! No test touches the real process environment or depends on the current
//! directory: every load names its file (or `UPDATER_CONFIG`) and its
//! environment explicitly.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use updater::config::{
    ConfigError, Env, Environment, LoadOptions, Loaded, LogFormat, Permission, Settings, load,
    load_server_only,
};

const STRONG_ADMIN_KEY: &str = "prod-admin-key-0123456789abcdef0123456789";
const STRONG_MONITOR_KEY: &str = "prod-monitor-key-0123456789abcdef01234567";
const SHA256_HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// ---------------------------------------------------------------- helpers

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
    Command::new(common::binary())
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

// ---------------------------------------------------------------- sections

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

#[test]
fn section_defaults_to_development() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), THREE_SECTIONS);
    let loaded = load_ok(&options(&path, None, &[]));
    assert_eq!(loaded.section, "development");
    assert_eq!(loaded.settings.server.port, 8101);
    assert_eq!(loaded.source.as_deref(), Some(path.as_path()));
}

#[test]
fn section_from_environment_when_no_option() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), THREE_SECTIONS);
    let loaded = load_ok(&options(
        &path,
        None,
        &[("UPDATER_CONFIG_SECTION", "staging")],
    ));
    assert_eq!(loaded.section, "staging");
    assert_eq!(loaded.settings.server.port, 8102);
}

#[test]
fn section_option_beats_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), THREE_SECTIONS);
    let loaded = load_ok(&options(
        &path,
        Some("qa"),
        &[("UPDATER_CONFIG_SECTION", "staging")],
    ));
    assert_eq!(loaded.section, "qa");
    assert_eq!(loaded.settings.server.port, 8103);
}

#[test]
fn unknown_section_lists_known_sections_but_not_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), THREE_SECTIONS);
    let errors = load_err(&options(&path, Some("nope"), &[]));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let error = &errors[0];
    assert!(error.contains("nope"), "{error}");
    let known = error
        .split_once("known sections:")
        .unwrap_or_else(|| panic!("no list of known sections in: {error}"))
        .1;
    for section in ["development", "staging", "qa"] {
        assert!(known.contains(section), "`{section}` missing from: {error}");
    }
    assert!(!known.contains("defaults"), "`defaults` listed in: {error}");

    // `defaults` is not a section that can be selected, from either source.
    let errors = load_err(&options(&path, Some("defaults"), &[]));
    assert_error(&errors, &["defaults", "known sections:", "development"]);
    let errors = load_err(&options(
        &path,
        None,
        &[("UPDATER_CONFIG_SECTION", "defaults")],
    ));
    assert_error(&errors, &["known sections:"]);
}

#[test]
fn unknown_section_from_environment_is_an_error_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), THREE_SECTIONS);
    let errors = load_err(&options(&path, None, &[("UPDATER_CONFIG_SECTION", "prod")]));
    assert_error(&errors, &["prod", "development", "staging", "qa"]);
}

#[test]
fn missing_default_section_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), "staging:\n  server:\n    port: 9001\n");
    let errors = load_err(&options(&path, None, &[]));
    assert_error(&errors, &["development", "staging"]);
}

#[test]
fn defaults_section_applies_under_every_section() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        r#"
defaults:
  server:
    max_connections: 77
  logging:
    level: warn
development:
  server:
    port: 8101
staging:
  logging:
    format: json
"#,
    );
    for section in ["development", "staging"] {
        let loaded = load_ok(&options(&path, Some(section), &[]));
        assert_eq!(loaded.settings.server.max_connections, 77, "{section}");
        assert_eq!(loaded.settings.logging.level, "warn", "{section}");
    }
    let dev = load_ok(&options(&path, Some("development"), &[]));
    assert_eq!(dev.settings.server.port, 8101);
    assert_eq!(dev.settings.logging.format, LogFormat::Pretty);
    let staging = load_ok(&options(&path, Some("staging"), &[]));
    assert_eq!(staging.settings.server.port, 8080);
    assert_eq!(staging.settings.logging.format, LogFormat::Json);
}

#[test]
fn config_path_from_updater_config_when_no_option() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), "development:\n  server:\n    port: 8201\n");
    let options = LoadOptions {
        config_path: None,
        section: None,
        overrides: Vec::new(),
        env: env(&[("UPDATER_CONFIG", path_str(&path))]),
    };
    let loaded = load_ok(&options);
    assert_eq!(loaded.settings.server.port, 8201);
    assert_eq!(loaded.source.as_deref(), Some(path.as_path()));
}

#[test]
fn config_path_option_beats_updater_config() {
    let dir = tempfile::tempdir().unwrap();
    let chosen = dir.path().join("chosen.yaml");
    std::fs::write(&chosen, "development:\n  server:\n    port: 8301\n").unwrap();
    let other = dir.path().join("other.yaml");
    std::fs::write(&other, "development:\n  server:\n    port: 8302\n").unwrap();
    let loaded = load_ok(&options(
        &chosen,
        None,
        &[("UPDATER_CONFIG", path_str(&other))],
    ));
    assert_eq!(loaded.settings.server.port, 8301);
    assert_eq!(loaded.source.as_deref(), Some(chosen.as_path()));
}

#[test]
fn missing_config_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.yaml");
    let errors = load_err(&options(&missing, None, &[]));
    assert_error(&errors, &["absent.yaml"]);
}

#[test]
fn invalid_yaml_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), "development:\n  server: [unclosed\n");
    let errors = load_err(&options(&path, None, &[]));
    assert_error(&errors, &["config.yaml"]);
}

// ---------------------------------------------------------------- precedence

const PORT_LAYERS: &str = r#"
defaults:
  server:
    port: 8081
development:
  server:
    port: 8082
"#;

#[test]
fn precedence_each_layer_wins_over_the_one_below() {
    let dir = tempfile::tempdir().unwrap();

    // Built-in default only.
    let builtin = dir.path().join("builtin.yaml");
    std::fs::write(&builtin, "development:\n  logging:\n    level: info\n").unwrap();
    assert_eq!(
        load_ok(&options(&builtin, None, &[])).settings.server.port,
        8080
    );

    // `defaults` beats the built-in default.
    let defaults_only = dir.path().join("defaults.yaml");
    std::fs::write(
        &defaults_only,
        "defaults:\n  server:\n    port: 8081\ndevelopment: {}\n",
    )
    .unwrap();
    assert_eq!(
        load_ok(&options(&defaults_only, None, &[]))
            .settings
            .server
            .port,
        8081
    );

    // The selected section beats `defaults`.
    let layers = write_yaml(dir.path(), PORT_LAYERS);
    assert_eq!(
        load_ok(&options(&layers, None, &[])).settings.server.port,
        8082
    );

    // The environment beats the section.
    let with_env = options(&layers, None, &[("UPDATER_SERVER__PORT", "8083")]);
    assert_eq!(load_ok(&with_env).settings.server.port, 8083);

    // The command line beats the environment.
    let mut with_cli = with_env.clone();
    with_cli
        .overrides
        .push(("server.port".to_string(), "8084".to_string()));
    assert_eq!(load_ok(&with_cli).settings.server.port, 8084);
}

#[test]
fn layers_merge_key_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        r#"
defaults:
  server:
    max_connections: 55
    request_timeout: 7s
development:
  server:
    port: 8090
"#,
    );
    let loaded = load_ok(&options(
        &path,
        None,
        &[("UPDATER_SERVER__HEADER_READ_TIMEOUT", "3s")],
    ));
    let server = &loaded.settings.server;
    assert_eq!(server.port, 8090);
    assert_eq!(server.max_connections, 55);
    assert_eq!(server.request_timeout, std::time::Duration::from_secs(7));
    assert_eq!(
        server.header_read_timeout,
        std::time::Duration::from_secs(3)
    );
    // Untouched keys keep their built-in defaults.
    assert_eq!(server.max_body_bytes, 1024 * 1024);
    assert_eq!(loaded.settings.storage.sqlite.file, "updater.db");
}

#[test]
fn command_line_override_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), PORT_LAYERS);

    let mut bad_value = options(&path, None, &[]);
    bad_value
        .overrides
        .push(("server.port".to_string(), "eighty".to_string()));
    assert_error(&load_err(&bad_value), &["server.port", "eighty"]);

    let mut unknown = options(&path, None, &[]);
    unknown
        .overrides
        .push(("server.prot".to_string(), "1".to_string()));
    assert_error(&load_err(&unknown), &["server.prot"]);

    let mut host = options(&path, None, &[]);
    host.overrides
        .push(("server.host".to_string(), "127.0.0.2".to_string()));
    assert_eq!(load_ok(&host).settings.server.host.to_string(), "127.0.0.2");
}

// ---------------------------------------------------------------- environment

const ONE_KEY: &str = r#"
development:
  security:
    api_keys:
      - name: reader
        key: yaml-reader-key-0123456789abcdef0123
        permissions: [read]
"#;

#[test]
fn environment_overrides_scalars() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), ONE_KEY);
    let loaded = load_ok(&options(
        &path,
        None,
        &[
            ("UPDATER_SERVER__PORT", "9000"),
            ("UPDATER_LOGGING__LEVEL", "debug"),
            ("UPDATER_LOGGING__FORMAT", "json"),
            ("UPDATER_METRICS__ENABLED", "false"),
            ("UPDATER_SERVER__HOST", "::1"),
            // Not ours: ignored.
            ("HOME", "/nowhere"),
            ("UPDATERX", "1"),
        ],
    ));
    let settings = &loaded.settings;
    assert_eq!(settings.server.port, 9000);
    assert_eq!(settings.logging.level, "debug");
    assert_eq!(settings.logging.format, LogFormat::Json);
    assert!(!settings.metrics.enabled);
    assert_eq!(settings.server.host.to_string(), "::1");
}

#[test]
fn environment_overrides_nested_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), ONE_KEY);
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, "not checked here").unwrap();
    std::fs::write(&key, "not checked here").unwrap();
    let loaded = load_ok(&options(
        &path,
        None,
        &[
            ("UPDATER_SERVER__TLS__CERT_FILE", path_str(&cert)),
            ("UPDATER_SERVER__TLS__KEY_FILE", path_str(&key)),
            ("UPDATER_STORAGE__SQLITE__BUSY_TIMEOUT", "9s"),
            ("UPDATER_SECURITY__RATE_LIMIT__BURST", "7"),
        ],
    ));
    let settings = &loaded.settings;
    assert_eq!(settings.server.tls.cert_file, path_str(&cert));
    assert_eq!(settings.server.tls.key_file, path_str(&key));
    assert!(settings.server.tls.enabled());
    assert_eq!(
        settings.storage.sqlite.busy_timeout,
        std::time::Duration::from_secs(9)
    );
    assert_eq!(settings.security.rate_limit.burst, 7);
}

#[test]
fn environment_overrides_a_list_element_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), ONE_KEY);
    let loaded = load_ok(&options(
        &path,
        None,
        &[
            (
                "UPDATER_SECURITY__API_KEYS__0__KEY",
                "env-reader-key-0123456789abcdef01234",
            ),
            ("UPDATER_SECURITY__API_KEYS__0__NAME", "renamed"),
        ],
    ));
    let keys = &loaded.settings.security.api_keys;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].key.expose(), "env-reader-key-0123456789abcdef01234");
    assert_eq!(keys[0].name, "renamed");
    assert_eq!(keys[0].permissions, vec![Permission::Read]);
}

#[test]
fn environment_index_past_the_list_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), ONE_KEY);
    let errors = load_err(&options(
        &path,
        None,
        &[("UPDATER_SECURITY__API_KEYS__3__KEY", "whatever")],
    ));
    assert_error(&errors, &["UPDATER_SECURITY__API_KEYS__3__KEY"]);
}

#[test]
fn environment_sets_a_whole_list_from_commas() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        "development:\n  security:\n    trusted_proxies: [172.16.0.0/12]\n",
    );
    let loaded = load_ok(&options(
        &path,
        None,
        &[(
            "UPDATER_SECURITY__TRUSTED_PROXIES",
            "10.0.0.0/8,192.168.1.1",
        )],
    ));
    assert_eq!(
        loaded.settings.security.trusted_proxies,
        vec!["10.0.0.0/8".to_string(), "192.168.1.1".to_string()]
    );
}

#[test]
fn unknown_updater_variable_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), ONE_KEY);
    let errors = load_err(&options(&path, None, &[("UPDATER_SERVER__PROT", "9000")]));
    assert_error(&errors, &["UPDATER_SERVER__PROT"]);
    let errors = load_err(&options(&path, None, &[("UPDATER_BOGUS", "1")]));
    assert_error(&errors, &["UPDATER_BOGUS"]);
}

#[test]
fn control_variables_are_not_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), ONE_KEY);
    let options = LoadOptions {
        config_path: None,
        section: None,
        overrides: Vec::new(),
        env: env(&[
            ("UPDATER_CONFIG", path_str(&path)),
            ("UPDATER_CONFIG_SECTION", "development"),
        ]),
    };
    let loaded = load_ok(&options);
    assert_eq!(loaded.section, "development");
}

#[test]
fn non_number_for_a_number_key_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), ONE_KEY);
    let errors = load_err(&options(&path, None, &[("UPDATER_SERVER__PORT", "abc")]));
    assert_error(&errors, &["server.port", "abc"]);
    let errors = load_err(&options(
        &path,
        None,
        &[("UPDATER_SECURITY__RATE_LIMIT__BURST", "lots")],
    ));
    assert_error(&errors, &["security.rate_limit.burst"]);
}

#[test]
fn non_boolean_for_a_boolean_key_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), ONE_KEY);
    let errors = load_err(&options(
        &path,
        None,
        &[("UPDATER_METRICS__ENABLED", "maybe")],
    ));
    assert_error(&errors, &["metrics.enabled"]);
}

// ---------------------------------------------------------------- *_FILE variables

#[test]
fn file_variable_reads_the_value_and_trims_one_newline() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), ONE_KEY);
    for (content, expected) in [
        ("  /srv/my data  \n", "  /srv/my data  "),
        ("/srv/crlf\r\n", "/srv/crlf"),
        ("/srv/two\n\n", "/srv/two\n"),
        ("/srv/none", "/srv/none"),
    ] {
        let file = secret_file(dir.path(), "data_dir", content, 0o600);
        let loaded = load_ok(&options(
            &path,
            None,
            &[("UPDATER_STORAGE__DATA_DIR_FILE", path_str(&file))],
        ));
        assert_eq!(
            loaded.settings.storage.data_dir,
            PathBuf::from(expected),
            "content {content:?}"
        );
    }
}

#[test]
fn file_variable_sets_a_secret_in_a_list_element() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), ONE_KEY);
    let file = secret_file(
        dir.path(),
        "reader_key",
        "file-reader-key-0123456789abcdef0123\n",
        0o600,
    );
    let loaded = load_ok(&options(
        &path,
        None,
        &[("UPDATER_SECURITY__API_KEYS__0__KEY_FILE", path_str(&file))],
    ));
    assert_eq!(
        loaded.settings.security.api_keys[0].key.expose(),
        "file-reader-key-0123456789abcdef0123"
    );
    assert!(
        loaded.warnings.iter().all(|w| !w.contains("reader_key")),
        "{:?}",
        loaded.warnings
    );
}

#[test]
fn file_variable_and_value_variable_both_set_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), ONE_KEY);
    let file = secret_file(dir.path(), "level", "debug\n", 0o600);
    let errors = load_err(&options(
        &path,
        None,
        &[
            ("UPDATER_LOGGING__LEVEL", "warn"),
            ("UPDATER_LOGGING__LEVEL_FILE", path_str(&file)),
        ],
    ));
    assert_error(
        &errors,
        &["UPDATER_LOGGING__LEVEL", "UPDATER_LOGGING__LEVEL_FILE"],
    );
}

#[test]
fn shared_secret_file_warns_private_file_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), ONE_KEY);

    let shared = secret_file(
        dir.path(),
        "shared_key",
        "shared-reader-key-0123456789abcdef0123\n",
        0o644,
    );
    let loaded = load_ok(&options(
        &path,
        None,
        &[("UPDATER_SECURITY__API_KEYS__0__KEY_FILE", path_str(&shared))],
    ));
    assert_eq!(
        loaded.settings.security.api_keys[0].key.expose(),
        "shared-reader-key-0123456789abcdef0123"
    );
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.contains("shared_key")
                && w.contains("UPDATER_SECURITY__API_KEYS__0__KEY_FILE")),
        "expected a warning about the 0644 file, got {:?}",
        loaded.warnings
    );

    let private = secret_file(
        dir.path(),
        "private_key",
        "private-reader-key-0123456789abcdef012\n",
        0o600,
    );
    let loaded = load_ok(&options(
        &path,
        None,
        &[(
            "UPDATER_SECURITY__API_KEYS__0__KEY_FILE",
            path_str(&private),
        )],
    ));
    assert!(
        loaded.warnings.is_empty(),
        "a 0600 file must not warn: {:?}",
        loaded.warnings
    );
}

#[test]
fn missing_secret_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), ONE_KEY);
    let missing = dir.path().join("no-such-secret");
    let errors = load_err(&options(
        &path,
        None,
        &[(
            "UPDATER_SECURITY__API_KEYS__0__KEY_FILE",
            path_str(&missing),
        )],
    ));
    assert_error(
        &errors,
        &["UPDATER_SECURITY__API_KEYS__0__KEY_FILE", "no-such-secret"],
    );
}

// ---------------------------------------------------------------- interpolation

#[test]
fn interpolation_resolves_references_defaults_and_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        r#"
development:
  server:
    port: "${PORT:-8181}"
    max_connections: ${CONNECTIONS}
  storage:
    data_dir: "${DATA_ROOT}/data/$${literal}"
    sqlite:
      file: ${DB_NAME:-${FALLBACK_DB}}
  logging:
    level: "${LEVEL:-${MISSING:-warn}}"
  security:
    api_keys:
      - name: reader
        key: ${READER_KEY}
        permissions: [read]
"#,
    );
    let loaded = load_ok(&options(
        &path,
        None,
        &[
            ("CONNECTIONS", "12"),
            ("DATA_ROOT", "/srv/updater"),
            ("FALLBACK_DB", "fallback.db"),
            ("READER_KEY", "interp-reader-key-0123456789abcdef01"),
        ],
    ));
    let settings = &loaded.settings;
    assert_eq!(settings.server.port, 8181);
    assert_eq!(settings.server.max_connections, 12);
    assert_eq!(
        settings.storage.data_dir,
        PathBuf::from("/srv/updater/data/${literal}")
    );
    assert_eq!(settings.storage.sqlite.file, "fallback.db");
    assert_eq!(settings.logging.level, "warn");
    assert_eq!(
        settings.security.api_keys[0].key.expose(),
        "interp-reader-key-0123456789abcdef01"
    );

    // A set variable beats its default.
    let loaded = load_ok(&options(
        &path,
        None,
        &[
            ("PORT", "8282"),
            ("CONNECTIONS", "12"),
            ("DATA_ROOT", "/srv"),
            ("DB_NAME", "primary.db"),
            ("LEVEL", "error"),
            ("READER_KEY", "interp-reader-key-0123456789abcdef01"),
        ],
    ));
    assert_eq!(loaded.settings.server.port, 8282);
    assert_eq!(loaded.settings.storage.sqlite.file, "primary.db");
    assert_eq!(loaded.settings.logging.level, "error");
}

const INTERPOLATED_KEY: &str = r#"
development:
  security:
    api_keys:
      - name: reader
        key: ${READER_KEY}
        permissions: [read]
"#;

#[test]
fn interpolation_falls_back_to_the_file_variable() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), INTERPOLATED_KEY);
    let file = secret_file(
        dir.path(),
        "reader",
        "from-file-reader-key-0123456789abcdef\r\n",
        0o600,
    );
    let loaded = load_ok(&options(
        &path,
        None,
        &[("READER_KEY_FILE", path_str(&file))],
    ));
    assert_eq!(
        loaded.settings.security.api_keys[0].key.expose(),
        "from-file-reader-key-0123456789abcdef"
    );
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

    let shared = secret_file(
        dir.path(),
        "reader_shared",
        "from-file-reader-key-0123456789abcdef\n",
        0o644,
    );
    let loaded = load_ok(&options(
        &path,
        None,
        &[("READER_KEY_FILE", path_str(&shared))],
    ));
    assert!(
        loaded.warnings.iter().any(|w| w.contains("reader_shared")),
        "{:?}",
        loaded.warnings
    );
}

#[test]
fn interpolation_with_name_and_name_file_both_set_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), INTERPOLATED_KEY);
    let file = secret_file(
        dir.path(),
        "reader",
        "from-file-reader-key-0123456789abcdef\n",
        0o600,
    );
    let errors = load_err(&options(
        &path,
        None,
        &[
            ("READER_KEY", "from-env-reader-key-0123456789abcdef"),
            ("READER_KEY_FILE", path_str(&file)),
        ],
    ));
    assert_error(&errors, &["READER_KEY", "READER_KEY_FILE"]);
}

#[test]
fn interpolation_of_an_unset_variable_names_key_path_and_variable() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), INTERPOLATED_KEY);
    let errors = load_err(&options(&path, None, &[]));
    assert_error(&errors, &["security.api_keys.0.key", "READER_KEY"]);
}

#[test]
fn interpolation_with_a_missing_file_variable_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), INTERPOLATED_KEY);
    let missing = dir.path().join("gone");
    let errors = load_err(&options(
        &path,
        None,
        &[("READER_KEY_FILE", path_str(&missing))],
    ));
    assert_error(&errors, &["READER_KEY_FILE"]);
}

#[test]
fn interpolation_in_an_unselected_section_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        r#"
development:
  server:
    port: 8123
production:
  server:
    port: ${UNSET_PORT}
  security:
    api_keys:
      - name: admin
        key: ${UNSET_ADMIN_KEY}
        permissions: [admin]
      - name: broken
        key: "${unterminated"
        permissions: [read]
"#,
    );
    let loaded = load_ok(&options(&path, Some("development"), &[]));
    assert_eq!(loaded.settings.server.port, 8123);
    // ... and it is checked when that section is chosen.
    let errors = load_err(&options(&path, Some("production"), &[]));
    assert_error(&errors, &["UNSET_PORT", "server.port"]);
    assert_error(&errors, &["UNSET_ADMIN_KEY", "security.api_keys.0.key"]);
}

// ---------------------------------------------------------------- unknown keys, error collection

#[test]
fn unknown_yaml_keys_are_reported_with_their_full_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        r#"
development:
  server:
    prot: 8080
  security:
    api_keys:
      - nmae: reader
        key: unknown-key-test-0123456789abcdef0123
        permissions: [read]
"#,
    );
    let errors = load_err(&options(&path, None, &[]));
    assert_error(&errors, &["server.prot"]);
    assert_error(&errors, &["security.api_keys.0.nmae"]);
}

#[test]
fn unknown_keys_in_the_defaults_section_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        "defaults:\n  loging:\n    level: info\ndevelopment: {}\n",
    );
    let errors = load_err(&options(&path, None, &[]));
    assert_error(&errors, &["loging"]);
}

#[test]
fn every_error_is_reported_in_one_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        r#"
development:
  server:
    prot: 8080
    port: not-a-port
  logging:
    levle: debug
"#,
    );
    let errors = load_err(&options(&path, None, &[("UPDATER_NOT__A__KEY", "1")]));
    assert!(errors.len() >= 4, "{errors:#?}");
    assert_error(&errors, &["server.prot"]);
    assert_error(&errors, &["logging.levle"]);
    assert_error(&errors, &["server.port", "not-a-port"]);
    assert_error(&errors, &["UPDATER_NOT__A__KEY"]);

    // Display lists them all too.
    let message = load(&options(&path, None, &[])).unwrap_err().to_string();
    for needle in ["server.prot", "logging.levle", "not-a-port"] {
        assert!(message.contains(needle), "{message}");
    }
}

/// Errors found only when the merged tree is turned into typed settings (an
/// IP address, an enum value) must be reported along with the others, not
/// one per run.
#[test]
fn value_errors_are_reported_with_the_other_errors() {
    let dir = tempfile::tempdir().unwrap();
    // Two bad values and nothing else: both must be reported.
    let two_values = write_yaml(
        dir.path(),
        "development:\n  server:\n    host: not-an-ip\n  logging:\n    format: xml\n",
    );
    let first = load_err(&options(&two_values, None, &[]));
    // A bad value next to an unknown key: all three must be reported.
    let mixed = dir.path().join("mixed.yaml");
    std::fs::write(
        &mixed,
        "development:\n  server:\n    prot: 8080\n    host: not-an-ip\n  logging:\n    format: xml\n",
    )
    .unwrap();
    let second = load_err(&options(&mixed, None, &[]));
    let mentions = |errors: &[String], needle: &str| errors.iter().any(|e| e.contains(needle));
    assert!(
        mentions(&first, "server.host")
            && mentions(&first, "logging.format")
            && mentions(&second, "server.prot")
            && mentions(&second, "server.host")
            && mentions(&second, "logging.format"),
        "not every error was reported;\n\
         host + format gave: {first:#?}\n\
         prot + host + format gave: {second:#?}"
    );
}

#[test]
fn a_bad_value_alone_names_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), "development:\n  server:\n    host: not-an-ip\n");
    let errors = load_err(&options(&path, None, &[]));
    assert_error(&errors, &["server.host"]);
    let path = write_yaml(dir.path(), "development:\n  environment: staging\n");
    let errors = load_err(&options(&path, None, &[]));
    assert_error(&errors, &["environment"]);
}

// ---------------------------------------------------------------- redaction

#[test]
fn secrets_never_appear_in_debug_or_serialized_output() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        r#"
development:
  security:
    api_keys:
      - name: admin
        key: yaml-secret-admin-key-0123456789abcdef
        permissions: [admin]
      - name: reader
        key: ${READER_KEY}
        permissions: [read]
      - name: hashed
        key_hash: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        permissions: [monitor]
"#,
    );
    let secrets = [
        "yaml-secret-admin-key-0123456789abcdef",
        "env-secret-reader-key-0123456789abcdef",
        "env-secret-override-key-0123456789abcdef",
    ];
    let loaded = load_ok(&options(
        &path,
        None,
        &[
            ("READER_KEY", secrets[1]),
            ("UPDATER_SECURITY__API_KEYS__0__KEY", secrets[2]),
        ],
    ));
    let settings: &Settings = &loaded.settings;
    assert_eq!(settings.security.api_keys[0].key.expose(), secrets[2]);
    assert_eq!(settings.security.api_keys[1].key.expose(), secrets[1]);

    let debug = format!("{settings:?}");
    let pretty = format!("{settings:#?}");
    let loaded_debug = format!("{loaded:?}");
    let yaml = serde_norway::to_string(settings).unwrap();
    let json = serde_json::to_string(settings).unwrap();
    for (label, output) in [
        ("Debug", &debug),
        ("pretty Debug", &pretty),
        ("Loaded Debug", &loaded_debug),
        ("YAML", &yaml),
        ("JSON", &json),
    ] {
        for secret in secrets {
            assert!(
                !output.contains(secret),
                "{label} leaks {secret}:\n{output}"
            );
        }
        assert!(output.contains("[REDACTED]"), "{label}:\n{output}");
    }
    // The hash is not a secret and stays visible.
    assert!(yaml.contains(SHA256_HEX), "{yaml}");
}

// ---------------------------------------------------------------- production rules

fn production_yaml(server: &str, keys: &str) -> String {
    format!(
        "production:\n  environment: production\n  server:\n{server}  security:\n    api_keys:\n{keys}"
    )
}

fn key_entry(name: &str, key: &str, permission: &str) -> String {
    format!("      - name: {name}\n        key: {key}\n        permissions: [{permission}]\n")
}

fn load_production(dir: &Path, yaml: &str) -> Result<Loaded, ConfigError> {
    let path = write_yaml(dir, yaml);
    load(&options(&path, Some("production"), &[]))
}

#[test]
fn production_requires_an_api_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        "production:\n  environment: production\n  server:\n    host: 127.0.0.1\n",
    );
    let errors = load_err(&options(&path, Some("production"), &[]));
    assert_error(&errors, &["API key"]);

    // The same settings are fine in development (with a warning).
    let path = write_yaml(
        dir.path(),
        "development:\n  environment: development\n  server:\n    host: 127.0.0.1\n",
    );
    let loaded = load_ok(&options(&path, None, &[]));
    assert_eq!(loaded.settings.environment, Environment::Development);
    assert!(!loaded.warnings.is_empty());
}

#[test]
fn production_rejects_short_keys() {
    let dir = tempfile::tempdir().unwrap();
    let server = "    host: 127.0.0.1\n";
    let short = "a".repeat(31);
    let errors = load_production(
        dir.path(),
        &production_yaml(server, &key_entry("admin", &short, "admin")),
    )
    .unwrap_err()
    .errors;
    assert_error(&errors, &["security.api_keys.0", "32"]);

    let exact = "b".repeat(32);
    let loaded = load_production(
        dir.path(),
        &production_yaml(server, &key_entry("admin", &exact, "admin")),
    )
    .unwrap_or_else(|e| panic!("a 32-character key is long enough:\n{e}"));
    assert_eq!(loaded.settings.environment, Environment::Production);

    // Short keys are allowed in development.
    let dev = write_yaml(
        dir.path(),
        &format!(
            "development:\n  security:\n    api_keys:\n{}",
            key_entry("admin", "short", "admin")
        ),
    );
    load_ok(&options(&dev, None, &[]));
}

#[test]
fn production_rejects_the_development_keys() {
    let dir = tempfile::tempdir().unwrap();
    let server = "    host: 127.0.0.1\n";
    for dev_key in [
        "dev-admin-key-do-not-use-in-production-0000",
        "dev-write-key-do-not-use-in-production-0000",
        "dev-read-key-do-not-use-in-production-00000",
    ] {
        let keys =
            key_entry("admin", STRONG_ADMIN_KEY, "admin") + &key_entry("dev", dev_key, "read");
        let errors = load_production(dir.path(), &production_yaml(server, &keys))
            .err()
            .unwrap_or_else(|| panic!("{dev_key} was accepted in production"))
            .errors;
        assert_error(&errors, &["security.api_keys.1", "development"]);
    }
}

#[test]
fn production_refuses_public_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let keys = key_entry("admin", STRONG_ADMIN_KEY, "admin");
    for host in ["0.0.0.0", "\"::\"", "192.0.2.10"] {
        let server = format!("    host: {host}\n");
        let errors = load_production(dir.path(), &production_yaml(&server, &keys))
            .err()
            .unwrap_or_else(|| panic!("plain HTTP on {host} was accepted"))
            .errors;
        assert_error(&errors, &["allow_public_http"]);
    }
}

#[test]
fn production_allows_public_http_when_said_explicitly() {
    let dir = tempfile::tempdir().unwrap();
    let keys = key_entry("admin", STRONG_ADMIN_KEY, "admin");
    let server = "    host: 0.0.0.0\n    allow_public_http: true\n";
    let loaded = load_production(dir.path(), &production_yaml(server, &keys))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.settings.server.allow_public_http);

    // The same from the environment.
    let path = write_yaml(dir.path(), &production_yaml("    host: 0.0.0.0\n", &keys));
    load_ok(&options(
        &path,
        Some("production"),
        &[("UPDATER_SERVER__ALLOW_PUBLIC_HTTP", "true")],
    ));
}

#[test]
fn production_allows_loopback_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let keys = key_entry("admin", STRONG_ADMIN_KEY, "admin");
    for host in ["127.0.0.1", "\"::1\""] {
        let server = format!("    host: {host}\n");
        load_production(dir.path(), &production_yaml(&server, &keys))
            .unwrap_or_else(|e| panic!("loopback {host} refused:\n{e}"));
    }
}

#[test]
fn production_allows_public_host_with_tls() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, "cert").unwrap();
    std::fs::write(&key, "key").unwrap();
    let server = format!(
        "    host: 0.0.0.0\n    tls:\n      cert_file: {}\n      key_file: {}\n",
        cert.display(),
        key.display()
    );
    let keys = key_entry("admin", STRONG_ADMIN_KEY, "admin");
    load_production(dir.path(), &production_yaml(&server, &keys))
        .unwrap_or_else(|e| panic!("TLS on a public address refused:\n{e}"));
}

#[test]
fn committed_production_section_loads_with_environment_keys() {
    let loaded = load_ok(&LoadOptions {
        config_path: Some(committed_config()),
        section: Some("production".into()),
        overrides: Vec::new(),
        env: env(&[
            ("PRODUCTION_ADMIN_API_KEY", STRONG_ADMIN_KEY),
            ("PRODUCTION_MONITORING_API_KEY", STRONG_MONITOR_KEY),
            ("UPDATER_SERVER__ALLOW_PUBLIC_HTTP", "true"),
        ]),
    });
    let settings = &loaded.settings;
    assert_eq!(settings.environment, Environment::Production);
    assert_eq!(settings.server.host.to_string(), "0.0.0.0");
    assert_eq!(settings.logging.format, LogFormat::Json);
    let keys = &settings.security.api_keys;
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].key.expose(), STRONG_ADMIN_KEY);
    assert_eq!(keys[0].permissions, vec![Permission::Admin]);
    assert_eq!(keys[1].key.expose(), STRONG_MONITOR_KEY);
    assert_eq!(keys[1].permissions, vec![Permission::Monitor]);
}

#[test]
fn committed_production_section_loads_with_secret_files() {
    let dir = tempfile::tempdir().unwrap();
    let admin = secret_file(
        dir.path(),
        "admin_api_key",
        &format!("{STRONG_ADMIN_KEY}\n"),
        0o600,
    );
    let monitor = secret_file(
        dir.path(),
        "monitoring_api_key",
        &format!("{STRONG_MONITOR_KEY}\n"),
        0o400,
    );
    let loaded = load_ok(&LoadOptions {
        config_path: Some(committed_config()),
        section: None,
        overrides: Vec::new(),
        env: env(&[
            ("UPDATER_CONFIG_SECTION", "production"),
            ("ADMIN_API_KEY_FILE", path_str(&admin)),
            ("MONITORING_API_KEY_FILE", path_str(&monitor)),
            ("UPDATER_SERVER__ALLOW_PUBLIC_HTTP", "true"),
        ]),
    });
    assert_eq!(loaded.section, "production");
    let keys = &loaded.settings.security.api_keys;
    assert_eq!(keys[0].key.expose(), STRONG_ADMIN_KEY);
    assert_eq!(keys[1].key.expose(), STRONG_MONITOR_KEY);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn committed_production_section_without_keys_names_the_variables() {
    let errors = load_err(&LoadOptions {
        config_path: Some(committed_config()),
        section: Some("production".into()),
        overrides: Vec::new(),
        env: env(&[("UPDATER_SERVER__ALLOW_PUBLIC_HTTP", "true")]),
    });
    assert_error(&errors, &["security.api_keys.0.key", "ADMIN_API_KEY"]);
    assert_error(&errors, &["security.api_keys.1.key", "MONITORING_API_KEY"]);
}

#[test]
fn committed_production_section_refuses_short_keys_and_public_http() {
    let short = load_err(&LoadOptions {
        config_path: Some(committed_config()),
        section: Some("production".into()),
        overrides: Vec::new(),
        env: env(&[
            ("PRODUCTION_ADMIN_API_KEY", "too-short"),
            ("PRODUCTION_MONITORING_API_KEY", STRONG_MONITOR_KEY),
            ("UPDATER_SERVER__ALLOW_PUBLIC_HTTP", "true"),
        ]),
    });
    assert_error(&short, &["security.api_keys.0", "32"]);

    let public = load_err(&LoadOptions {
        config_path: Some(committed_config()),
        section: Some("production".into()),
        overrides: Vec::new(),
        env: env(&[
            ("PRODUCTION_ADMIN_API_KEY", STRONG_ADMIN_KEY),
            ("PRODUCTION_MONITORING_API_KEY", STRONG_MONITOR_KEY),
        ]),
    });
    assert_error(&public, &["allow_public_http"]);
}

#[test]
fn committed_development_section_loads_without_environment() {
    let loaded = load_ok(&LoadOptions {
        config_path: Some(committed_config()),
        section: None,
        overrides: Vec::new(),
        env: Env::default(),
    });
    assert_eq!(loaded.section, "development");
    let settings = &loaded.settings;
    assert_eq!(settings.environment, Environment::Development);
    assert_eq!(settings.server.host.to_string(), "127.0.0.1");
    assert_eq!(settings.server.port, 8080);
    assert_eq!(settings.security.api_keys.len(), 3);
    assert_eq!(settings.logging.level, "info");
}

// ---------------------------------------------------------------- key_hash

fn hashed_key_yaml(entry: &str) -> String {
    format!(
        "development:\n  security:\n    api_keys:\n      - name: hashed\n        permissions: [read]\n{entry}"
    )
}

#[test]
fn key_hash_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        &hashed_key_yaml(&format!("        key_hash: \"sha256:{SHA256_HEX}\"\n")),
    );
    let loaded = load_ok(&options(&path, None, &[]));
    let key = &loaded.settings.security.api_keys[0];
    assert_eq!(key.key_hash, format!("sha256:{SHA256_HEX}"));
    assert!(key.key.is_empty());
}

#[test]
fn key_hash_is_accepted_in_production() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        &format!(
            "production:\n  environment: production\n  security:\n    api_keys:\n      - name: hashed\n        key_hash: \"sha256:{SHA256_HEX}\"\n        permissions: [admin]\n"
        ),
    );
    load_ok(&options(&path, Some("production"), &[]));
}

#[test]
fn malformed_key_hash_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        format!("md5:{SHA256_HEX}"),
        format!("sha256:{}", &SHA256_HEX[..63]),
        format!("sha256:{}0", SHA256_HEX),
        format!("sha256:{}g", &SHA256_HEX[..63]),
        SHA256_HEX.to_string(),
    ] {
        let path = write_yaml(
            dir.path(),
            &hashed_key_yaml(&format!("        key_hash: \"{bad}\"\n")),
        );
        let errors = load_err(&options(&path, None, &[]));
        assert_error(&errors, &["security.api_keys.0", "key_hash"]);
    }
}

#[test]
fn key_and_key_hash_together_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        &hashed_key_yaml(&format!(
            "        key: both-key-0123456789abcdef0123456789\n        key_hash: \"sha256:{SHA256_HEX}\"\n"
        )),
    );
    let errors = load_err(&options(&path, None, &[]));
    assert_error(&errors, &["security.api_keys.0", "key_hash"]);
}

// ---------------------------------------------------------------- load_server_only

const SERVER_AND_BROKEN_REST: &str = r#"
defaults:
  nonsense: true
development:
  server:
    port: 8400
    max_connections: 9
  security:
    api_keys:
      - name: admin
        key: ${SECRET}
        permissions: [admin]
    unknown_security_key: 1
  logging:
    levle: debug
"#;

#[test]
fn server_only_load_ignores_problems_outside_server() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), SERVER_AND_BROKEN_REST);
    // The full load fails ...
    let errors = load_err(&options(&path, None, &[]));
    assert_error(&errors, &["SECRET"]);
    assert_error(&errors, &["logging.levle"]);

    // ... the server-only load does not.
    let server = load_server_only(&options(
        &path,
        None,
        &[
            ("UPDATER_SERVER__PORT", "9444"),
            ("UPDATER_SECURITY__NOT_A_KEY", "x"),
            ("UPDATER_SECURITY__API_KEYS__0__KEY_FILE", "/no/such/file"),
        ],
    ))
    .unwrap_or_else(|e| panic!("server-only load failed:\n{e}"));
    assert_eq!(server.port, 9444);
    assert_eq!(server.max_connections, 9);

    let server = load_server_only(&options(&path, None, &[])).unwrap();
    assert_eq!(server.port, 8400);
}

#[test]
fn server_only_load_still_reports_server_problems() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), SERVER_AND_BROKEN_REST);
    let error =
        load_server_only(&options(&path, None, &[("UPDATER_SERVER__PORT", "abc")])).unwrap_err();
    assert_error(&error.errors, &["server.port"]);

    let path = write_yaml(
        dir.path(),
        "development:\n  server:\n    prot: 1\n    port: ${PROBE_PORT}\n",
    );
    let error = load_server_only(&options(&path, None, &[])).unwrap_err();
    assert_error(&error.errors, &["server.prot"]);
    assert_error(&error.errors, &["PROBE_PORT"]);
    let error = load_server_only(&options(&path, Some("absent"), &[])).unwrap_err();
    assert_error(&error.errors, &["absent", "development"]);
}

// ---------------------------------------------------------------- the binary

#[test]
fn cli_config_check_prints_redacted_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "cli-secret-admin-key-0123456789abcdef0";
    let path = write_yaml(
        dir.path(),
        &format!(
            "staging:\n  server:\n    port: 8765\n  security:\n    api_keys:\n      - name: admin\n        key: {secret}\n        permissions: [admin]\n"
        ),
    );
    let output = updater(
        dir.path(),
        &[
            "config",
            "check",
            "--config",
            path_str(&path),
            "--section",
            "staging",
        ],
    );
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("[REDACTED]"), "{stdout}");
    assert!(stdout.contains("8765"), "{stdout}");
    assert!(stdout.contains("staging"), "{stdout}");
    assert!(!stdout.contains(secret), "stdout leaks the key:\n{stdout}");
    assert!(!stderr.contains(secret), "stderr leaks the key:\n{stderr}");

    // The printed configuration is itself YAML.
    let yaml: serde_json::Value = serde_norway::from_str(&stdout).unwrap();
    assert_eq!(yaml["server"]["port"], 8765);
    assert_eq!(yaml["security"]["api_keys"][0]["key"], "[REDACTED]");
}

#[test]
fn cli_config_check_lists_every_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        "broken:\n  server:\n    prot: 1\n    port: not-a-port\n  logging:\n    levle: debug\n",
    );
    let output = updater(
        dir.path(),
        &[
            "config",
            "check",
            "--config",
            path_str(&path),
            "--section",
            "broken",
        ],
    );
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "stderr:\n{stderr}");
    for needle in ["server.prot", "logging.levle", "not-a-port"] {
        assert!(
            stderr.contains(needle),
            "`{needle}` missing from:\n{stderr}"
        );
    }
}

#[test]
fn cli_config_check_unknown_section_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), THREE_SECTIONS);
    let output = updater(
        dir.path(),
        &[
            "config",
            "check",
            "--config",
            path_str(&path),
            "--section",
            "nope",
        ],
    );
    let stderr = text(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("nope") && stderr.contains("staging"),
        "{stderr}"
    );
}

#[test]
fn cli_without_config_file_uses_built_in_defaults() {
    // An empty directory: no ./config.yaml, no UPDATER_CONFIG.
    let dir = tempfile::tempdir().unwrap();
    let output = updater(dir.path(), &["config", "check"]);
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&output.stderr)
    );
    assert!(stdout.contains("built-in defaults"), "{stdout}");
    assert!(stdout.contains("development"), "{stdout}");
    let yaml: serde_json::Value = serde_norway::from_str(&stdout).unwrap();
    assert_eq!(yaml["server"]["port"], 8080);
    assert_eq!(yaml["server"]["host"], "127.0.0.1");

    // Then only `development` exists.
    let output = updater(dir.path(), &["config", "check", "--section", "production"]);
    let stderr = text(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("known sections: development"), "{stderr}");
}

#[test]
fn cli_reads_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), THREE_SECTIONS);
    let output = Command::new(common::binary())
        .args(["config", "check"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("UPDATER_CONFIG", &path)
        .env("UPDATER_CONFIG_SECTION", "qa")
        .env("UPDATER_LOGGING__LEVEL", "debug")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let yaml: serde_json::Value = serde_norway::from_str(&stdout).unwrap();
    assert_eq!(yaml["server"]["port"], 8103);
    assert_eq!(yaml["logging"]["level"], "debug");
}

#[test]
fn cli_version_and_help() {
    let dir = tempfile::tempdir().unwrap();
    let output = updater(dir.path(), &["--version"]);
    assert!(output.status.success());
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(env!("CARGO_PKG_VERSION")),
        "version missing from: {stdout}"
    );

    let output = updater(dir.path(), &["--help"]);
    assert!(output.status.success());
    let help = text(&output.stdout);
    assert!(help.contains("config"), "{help}");
    assert!(help.contains("serve"), "{help}");

    let output = updater(dir.path(), &["config", "--help"]);
    assert!(output.status.success());
    assert!(text(&output.stdout).contains("check"));
}

#[test]
fn artifact_verification_limits_are_read_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        "development:\n  security:\n    artifact_verification:\n      max_bytes: 1048576\n",
    );
    let loaded = load_ok(&options(
        &path,
        None,
        &[("UPDATER_SECURITY__ARTIFACT_VERIFICATION__TIMEOUT", "90s")],
    ));
    let verification = &loaded.settings.security.artifact_verification;
    assert_eq!(verification.max_bytes, 1_048_576);
    assert_eq!(verification.timeout, std::time::Duration::from_secs(90));

    let bad = write_yaml(
        dir.path(),
        "development:\n  security:\n    artifact_verification:\n      max_bytes: 0\n      timeout: 0s\n",
    );
    let errors = load_err(&options(&bad, None, &[]));
    assert_error(
        &errors,
        &["security.artifact_verification.max_bytes", "at least 1"],
    );
    assert_error(
        &errors,
        &["security.artifact_verification.timeout", "at least 1s"],
    );
}

#[test]
fn postgres_needs_a_url_and_never_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), "development:\n  storage:\n    type: postgres\n");
    let errors = load_err(&options(&path, None, &[]));
    assert_error(&errors, &["storage.postgres.url", "must be set"]);

    let secret = "mysql://root:hunter2-secret@db/x";
    let errors = load_err(&options(
        &path,
        None,
        &[("UPDATER_STORAGE__POSTGRES__URL", secret)],
    ));
    assert_error(&errors, &["storage.postgres.url", "not a postgres:// URL"]);
    assert!(errors.iter().all(|e| !e.contains("hunter2")), "{errors:?}");

    // DATABASE_URL_FILE, through the committed config's interpolation.
    let file = secret_file(
        dir.path(),
        "database_url",
        "postgres://updater:pw-from-file@db:5432/updater?sslmode=verify-full\n",
        0o600,
    );
    let loaded = load_ok(&options(
        &committed_config(),
        Some("development"),
        &[
            ("UPDATER_STORAGE__TYPE", "postgres"),
            ("DATABASE_URL_FILE", path_str(&file)),
        ],
    ));
    let postgres = &loaded.settings.storage.postgres;
    assert_eq!(
        postgres.url.expose(),
        "postgres://updater:pw-from-file@db:5432/updater?sslmode=verify-full"
    );
    assert_eq!(postgres.max_connections, 10);
    let shown = format!("{:?}", loaded.settings);
    assert!(!shown.contains("pw-from-file"), "{shown}");
}

#[test]
fn production_warns_about_unverified_database_tls() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "{}  storage:\n    type: postgres\n    postgres:\n      url: postgres://u:p@db/x?sslmode=require\n",
        production_yaml(
            "    host: 127.0.0.1\n",
            &key_entry(
                "admin",
                "a-production-key-of-sufficient-length-0001",
                "admin"
            )
        )
    );
    let loaded = load_production(dir.path(), &yaml).unwrap();
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.contains("sslmode=verify-full")),
        "{:?}",
        loaded.warnings
    );
}
