//! `UPDATER_*` environment overrides: scalars, nested keys, list elements
//! and whole lists, and the errors that name the variable or key.

use super::{ONE_KEY, assert_error, env, load_err, load_ok, options, path_str, write_yaml};
use crate::common::sut::{LoadOptions, LogFormat, Permission};

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
    assert_error(
        &errors,
        &["UPDATER_SECURITY__API_KEYS__3__KEY", "past the end"],
    );
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
