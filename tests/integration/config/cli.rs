//! The binary: `updater config check`, the environment, `--version` and
//! `--help`.

use std::process::Command;

use super::{THREE_SECTIONS, path_str, text, updater, write_yaml};
use crate::common::binary;

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
    let output = Command::new(binary())
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
