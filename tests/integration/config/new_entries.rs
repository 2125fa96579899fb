//! List entries added from the environment: `UPDATER_…__<i>__<FIELD>` with
//! `i` the list's length appends an entry; an index past that needs every
//! index in between, or it is an error saying how to add one.

use super::{
    ONE_KEY, assert_error, committed_config, env, load_err, load_ok, options, path_str,
    secret_file, write_yaml,
};
use crate::common::sut::{LoadOptions, Permission};

const CI_KEY: &str = "ci-publisher-key-0123456789abcdef0123456";

#[test]
fn the_index_after_the_last_entry_appends_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), ONE_KEY);
    let loaded = load_ok(&options(
        &path,
        None,
        &[
            ("UPDATER_SECURITY__API_KEYS__1__NAME", "ci"),
            ("UPDATER_SECURITY__API_KEYS__1__KEY", CI_KEY),
            (
                "UPDATER_SECURITY__API_KEYS__1__PERMISSIONS",
                "publish,rollout",
            ),
        ],
    ));
    let keys = &loaded.settings.security.api_keys;
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].name, "reader");
    assert_eq!(keys[1].name, "ci");
    assert_eq!(keys[1].key.expose(), CI_KEY);
    assert_eq!(
        keys[1].permissions,
        vec![Permission::Publish, Permission::Rollout]
    );
}

#[test]
fn several_new_entries_in_a_row_are_added_whatever_the_name_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), ONE_KEY);
    let hash = format!("sha256:{}", super::SHA256_HEX);
    let loaded = load_ok(&options(
        &path,
        None,
        &[
            ("UPDATER_SECURITY__API_KEYS__1__NAME", "ci"),
            ("UPDATER_SECURITY__API_KEYS__1__KEY", CI_KEY),
            ("UPDATER_SECURITY__API_KEYS__1__PERMISSIONS", "publish"),
            ("UPDATER_SECURITY__API_KEYS__2__NAME", "audit"),
            ("UPDATER_SECURITY__API_KEYS__2__KEY_HASH", hash.as_str()),
            ("UPDATER_SECURITY__API_KEYS__2__PERMISSIONS", "read"),
        ],
    ));
    let keys = &loaded.settings.security.api_keys;
    let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["reader", "ci", "audit"]);
    assert_eq!(keys[2].key_hash, hash);

    // `__10__` sorts before `__2__`: indexes count, not the variables' order.
    let proxies: Vec<(String, String)> = (0..=10)
        .map(|i| {
            (
                format!("UPDATER_SECURITY__TRUSTED_PROXIES__{i}"),
                format!("10.0.0.{i}"),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str)> = proxies
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let loaded = load_ok(&options(&path, None, &pairs));
    let expected: Vec<String> = (0..=10).map(|i| format!("10.0.0.{i}")).collect();
    assert_eq!(loaded.settings.security.trusted_proxies, expected);
}

#[test]
fn a_new_entry_reads_its_key_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), ONE_KEY);
    let file = secret_file(dir.path(), "ci_key", &format!("{CI_KEY}\n"), 0o600);
    let loaded = load_ok(&options(
        &path,
        None,
        &[
            ("UPDATER_SECURITY__API_KEYS__1__KEY_FILE", path_str(&file)),
            ("UPDATER_SECURITY__API_KEYS__1__NAME", "ci"),
            ("UPDATER_SECURITY__API_KEYS__1__PERMISSIONS", "write"),
        ],
    ));
    let keys = &loaded.settings.security.api_keys;
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[1].key.expose(), CI_KEY);
    assert_eq!(keys[1].permissions, vec![Permission::Write]);
}

#[test]
fn a_gap_is_an_error_giving_the_length_and_the_next_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), ONE_KEY);
    let errors = load_err(&options(
        &path,
        None,
        &[
            ("UPDATER_SECURITY__API_KEYS__2__NAME", "ci"),
            ("UPDATER_SECURITY__API_KEYS__2__KEY", CI_KEY),
            ("UPDATER_SECURITY__API_KEYS__2__PERMISSIONS", "publish"),
        ],
    ));
    assert_error(
        &errors,
        &[
            "UPDATER_SECURITY__API_KEYS__2__KEY:",
            "index 2 is past the end of `security.api_keys`",
            "which has 1 entry",
            "UPDATER_SECURITY__API_KEYS__1__<FIELD>",
            "KEY, KEY_HASH, NAME, PERMISSIONS",
        ],
    );
    assert!(
        errors
            .iter()
            .all(|e| !e.contains("does not match any configuration key")),
        "{errors:#?}"
    );
    // One error per variable, and no half-made entry behind them.
    assert_eq!(errors.len(), 3, "{errors:#?}");

    // A list of scalars: the hint is the element variable itself.
    let errors = load_err(&options(
        &path,
        None,
        &[("UPDATER_SECURITY__TRUSTED_PROXIES__1", "10.0.0.1")],
    ));
    assert_error(
        &errors,
        &[
            "index 1 is past the end of `security.trusted_proxies`, which has 0 entries",
            "set UPDATER_SECURITY__TRUSTED_PROXIES__0:",
        ],
    );
}

#[test]
fn a_new_entry_is_validated_like_one_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), ONE_KEY);
    let errors = load_err(&options(
        &path,
        None,
        &[("UPDATER_SECURITY__API_KEYS__1__KEY", CI_KEY)],
    ));
    assert_error(&errors, &["security.api_keys.1", "`name` must be set"]);
    assert_error(&errors, &["security.api_keys.1", "`permissions` must list"]);
}

/// The documented way to add a CI key to the production section without
/// mounting a configuration file.
#[test]
fn a_ci_key_is_added_to_the_committed_production_section() {
    let dir = tempfile::tempdir().unwrap();
    let ci_key = secret_file(dir.path(), "ci_api_key", &format!("{CI_KEY}\n"), 0o400);
    let loaded = load_ok(&LoadOptions {
        config_path: Some(committed_config()),
        section: Some("production".into()),
        overrides: Vec::new(),
        env: env(&[
            (
                "PRODUCTION_ADMIN_API_KEY",
                "prod-admin-key-0123456789abcdef0123456789",
            ),
            (
                "PRODUCTION_MONITORING_API_KEY",
                "prod-monitor-key-0123456789abcdef01234567",
            ),
            ("UPDATER_SERVER__ALLOW_PUBLIC_HTTP", "true"),
            ("UPDATER_SECURITY__API_KEYS__2__NAME", "ci"),
            ("UPDATER_SECURITY__API_KEYS__2__KEY_FILE", path_str(&ci_key)),
            ("UPDATER_SECURITY__API_KEYS__2__PERMISSIONS", "publish"),
        ]),
    });
    let keys = &loaded.settings.security.api_keys;
    let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["admin", "monitoring", "ci"]);
    assert_eq!(keys[2].key.expose(), CI_KEY);
    assert_eq!(keys[2].permissions, vec![Permission::Publish]);
}
