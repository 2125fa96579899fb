//! Checks on single settings: artifact verification limits and the
//! PostgreSQL URL.

use super::{
    assert_error, committed_config, load_err, load_ok, options, path_str, secret_file, write_yaml,
};

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
        &[
            ("UPDATER_SECURITY__ARTIFACT_VERIFICATION__TIMEOUT", "90s"),
            ("UPDATER_SECURITY__ARTIFACT_VERIFICATION__CONCURRENCY", "8"),
        ],
    ));
    let verification = &loaded.settings.security.artifact_verification;
    assert_eq!(verification.max_bytes, 1_048_576);
    assert_eq!(verification.timeout, std::time::Duration::from_secs(90));
    assert_eq!(verification.concurrency, 8);

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
    for concurrency in ["0", "33"] {
        let bad = write_yaml(
            dir.path(),
            &format!(
                "development:\n  security:\n    artifact_verification:\n      concurrency: {concurrency}\n"
            ),
        );
        assert_error(
            &load_err(&options(&bad, None, &[])),
            &[
                "security.artifact_verification.concurrency",
                "between 1 and 32",
            ],
        );
    }
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
