//! The key pepper, the audit log's retention and webhook delivery settings.

use std::time::Duration;

use super::{assert_error, load_err, load_ok, options, secret_file, write_yaml};

#[test]
fn webhook_and_audit_settings_are_read_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        "development:\n  audit:\n    retention: 30d\n  webhooks:\n    backoff_initial: 2s\n    backoff_max: 1m\n",
    );
    let loaded = load_ok(&options(
        &path,
        None,
        &[
            ("UPDATER_WEBHOOKS__RETRY_FOR", "6h"),
            ("UPDATER_WEBHOOKS__ALLOW_HTTP", "true"),
        ],
    ));
    let settings = &loaded.settings;
    assert_eq!(
        settings.audit.retention,
        Duration::from_secs(30 * 24 * 3600)
    );
    assert_eq!(settings.webhooks.backoff_initial, Duration::from_secs(2));
    assert_eq!(settings.webhooks.backoff_max, Duration::from_secs(60));
    assert_eq!(settings.webhooks.retry_for, Duration::from_secs(6 * 3600));
    assert!(settings.webhooks.allow_http);

    let bad = write_yaml(
        dir.path(),
        "development:\n  audit:\n    retention: 1h\n  webhooks:\n    timeout: 5m\n    backoff_initial: 1m\n    backoff_max: 10s\n    retry_for: 0s\n",
    );
    let errors = load_err(&options(&bad, None, &[]));
    assert_error(&errors, &["audit.retention", "at least 1d"]);
    assert_error(&errors, &["webhooks.timeout", "at most 1m"]);
    assert_error(&errors, &["webhooks.backoff_max", "backoff_initial"]);
    assert_error(&errors, &["webhooks.retry_for", "greater than zero"]);
}

#[test]
fn the_key_pepper_is_a_secret_with_a_minimum_length() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), "development: {}\n");
    let short = "too-short-pepper-value";
    let errors = load_err(&options(
        &path,
        None,
        &[("UPDATER_SECURITY__KEY_PEPPER", short)],
    ));
    assert_error(&errors, &["security.key_pepper", "at least 32 characters"]);
    assert!(
        errors.iter().all(|e| !e.contains(short)),
        "the pepper is never echoed: {errors:?}"
    );

    let pepper = "a-pepper-from-a-file-0123456789abcdef";
    let file = secret_file(dir.path(), "pepper", pepper, 0o600);
    let loaded = load_ok(&options(
        &path,
        None,
        &[("UPDATER_SECURITY__KEY_PEPPER_FILE", file.to_str().unwrap())],
    ));
    assert_eq!(loaded.settings.security.key_pepper.expose(), pepper);
}

#[test]
fn postgres_without_a_pepper_warns_that_managed_keys_are_off() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        "development:\n  storage:\n    type: postgres\n    postgres:\n      url: postgres://u:p@db/x\n",
    );
    let loaded = load_ok(&options(&path, None, &[]));
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.contains("security.key_pepper")),
        "{:?}",
        loaded.warnings
    );
}
