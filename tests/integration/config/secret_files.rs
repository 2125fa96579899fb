//! `*_FILE` variables: values read from files, one trailing newline
//! trimmed, a warning for files others can read.

use std::path::PathBuf;

use super::{ONE_KEY, assert_error, load_err, load_ok, options, path_str, secret_file, write_yaml};

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
