//! `*_FILE` variables: values read from files, one trailing newline
//! trimmed, a warning for files others can read.

use std::path::PathBuf;

use super::{
    ONE_KEY, assert_error, committed_config, env, load_err, load_ok, options, path_str,
    secret_file, write_yaml,
};
use crate::common::sut::LoadOptions;

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

/// A key whose only value is in a missing file gets one error, the file's,
/// not also "one of `key` or `key_hash` must be set".
#[test]
fn missing_secret_file_is_the_only_error_for_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-secret");
    let path = write_yaml(
        dir.path(),
        "development:\n  security:\n    api_keys:\n      - name: reader\n        permissions: [read]\n",
    );
    let errors = load_err(&options(
        &path,
        None,
        &[(
            "UPDATER_SECURITY__API_KEYS__0__KEY_FILE",
            path_str(&missing),
        )],
    ));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_error(
        &errors,
        &["UPDATER_SECURITY__API_KEYS__0__KEY_FILE", "no-such-secret"],
    );

    // The same for an entry added from the environment.
    let path = write_yaml(dir.path(), ONE_KEY);
    let errors = load_err(&options(
        &path,
        None,
        &[
            ("UPDATER_SECURITY__API_KEYS__1__NAME", "ci"),
            ("UPDATER_SECURITY__API_KEYS__1__PERMISSIONS", "publish"),
            (
                "UPDATER_SECURITY__API_KEYS__1__KEY_FILE",
                path_str(&missing),
            ),
        ],
    ));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_error(
        &errors,
        &["UPDATER_SECURITY__API_KEYS__1__KEY_FILE", "no-such-secret"],
    );
}

/// `${NAME}` with `NAME_FILE` naming a missing file: one error, naming the
/// key, the variable and the path.
#[test]
fn missing_file_behind_a_reference_is_the_only_error_for_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("admin_api_key");
    let errors = load_err(&LoadOptions {
        config_path: Some(committed_config()),
        section: Some("production".into()),
        overrides: Vec::new(),
        env: env(&[
            ("ADMIN_API_KEY_FILE", path_str(&missing)),
            (
                "MONITORING_API_KEY",
                "prod-monitor-key-0123456789abcdef01234567",
            ),
            ("UPDATER_SERVER__ALLOW_PUBLIC_HTTP", "true"),
        ]),
    });
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_error(
        &errors,
        &[
            "security.api_keys.0.key",
            "ADMIN_API_KEY_FILE",
            path_str(&missing),
        ],
    );

    // The database URL of the PostgreSQL store likewise.
    let errors = load_err(&LoadOptions {
        config_path: Some(committed_config()),
        section: None,
        overrides: Vec::new(),
        env: env(&[
            ("UPDATER_STORAGE__TYPE", "postgres"),
            ("DATABASE_URL_FILE", path_str(&missing)),
        ]),
    });
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_error(
        &errors,
        &[
            "storage.postgres.url",
            "DATABASE_URL_FILE",
            path_str(&missing),
        ],
    );
}
