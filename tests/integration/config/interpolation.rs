//! `${VAR}` interpolation: references, defaults, escapes, the `_FILE`
//! fallback, and its errors.

use std::path::PathBuf;

use super::{assert_error, load_err, load_ok, options, path_str, secret_file, write_yaml};

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
