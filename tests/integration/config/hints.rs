//! Values a new user writes and what they are told: `localhost` as the host,
//! another host name, a duration without its unit.

use std::time::Duration;

use super::{
    ONE_KEY, assert_error, load_err, load_ok, options, path_str, text, updater, write_yaml,
};

#[test]
fn localhost_is_127_0_0_1_in_the_file_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        &format!("{ONE_KEY}  server:\n    host: localhost\n"),
    );
    let loaded = load_ok(&options(&path, None, &[]));
    assert_eq!(loaded.settings.server.host.to_string(), "127.0.0.1");

    let path = write_yaml(dir.path(), ONE_KEY);
    let loaded = load_ok(&options(
        &path,
        None,
        &[("UPDATER_SERVER__HOST", "localhost")],
    ));
    assert_eq!(loaded.settings.server.host.to_string(), "127.0.0.1");
}

#[test]
fn another_host_name_names_the_key_the_value_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        &format!("{ONE_KEY}  server:\n    host: updates.example.com\n"),
    );
    let errors = load_err(&options(&path, None, &[]));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_error(
        &errors,
        &[
            "`server.host`",
            "`updates.example.com` is not an IP address",
            "`127.0.0.1`",
            "`0.0.0.0`",
        ],
    );

    let path = write_yaml(dir.path(), ONE_KEY);
    let errors = load_err(&options(&path, None, &[("UPDATER_SERVER__HOST", "myhost")]));
    assert_error(&errors, &["`server.host`", "`myhost`", "`0.0.0.0`"]);
}

#[test]
fn config_check_prints_localhost_as_the_address_it_binds() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        &format!("{ONE_KEY}  server:\n    host: localhost\n"),
    );
    let output = updater(
        dir.path(),
        &["config", "check", "--config", path_str(&path)],
    );
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        text(&output.stderr)
    );
    let printed: serde_json::Value = serde_norway::from_str(&stdout).unwrap();
    assert_eq!(printed["server"]["host"], "127.0.0.1");
}

#[test]
fn a_duration_without_a_unit_names_the_variable_and_suggests_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), ONE_KEY);
    let errors = load_err(&options(
        &path,
        None,
        &[
            ("UPDATER_SERVER__REQUEST_TIMEOUT", "30"),
            ("UPDATER_CONSOLE__IDLE_TIMEOUT", "45"),
        ],
    ));
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_error(
        &errors,
        &[
            "UPDATER_SERVER__REQUEST_TIMEOUT",
            "server.request_timeout",
            "`30s`",
        ],
    );
    assert_error(
        &errors,
        &[
            "UPDATER_CONSOLE__IDLE_TIMEOUT",
            "console.idle_timeout",
            "`45s`",
        ],
    );
}

#[test]
fn a_duration_without_a_unit_in_the_file_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        &format!(
            "{ONE_KEY}  server:\n    request_timeout: 30\n  webhooks:\n    backoff_initial: \"5\"\n  storage:\n    sqlite:\n      busy_timeout: 2s\n"
        ),
    );
    let errors = load_err(&options(&path, None, &[]));
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_error(
        &errors,
        &["[development]", "`server.request_timeout`", "`30s`"],
    );
    assert_error(&errors, &["`webhooks.backoff_initial`", "`5s`"]);
}

#[test]
fn durations_with_units_and_a_bare_zero_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        &format!("{ONE_KEY}  server:\n    drain_delay: 0\n"),
    );
    let loaded = load_ok(&options(
        &path,
        None,
        &[("UPDATER_SERVER__REQUEST_TIMEOUT", "1m 30s")],
    ));
    assert_eq!(loaded.settings.server.drain_delay, Duration::ZERO);
    assert_eq!(
        loaded.settings.server.request_timeout,
        Duration::from_secs(90)
    );
}
