//! Production rules: required, long and non-development keys, no public
//! plain HTTP unless said, database TLS warnings, and the committed
//! `config.yaml`'s sections.

use std::path::Path;

use super::{
    assert_error, committed_config, env, load_err, load_ok, options, path_str, secret_file,
    write_yaml,
};
use crate::common::sut::{
    ConfigError, Env, Environment, LoadOptions, Loaded, LogFormat, Permission, load,
};

const STRONG_ADMIN_KEY: &str = "prod-admin-key-0123456789abcdef0123456789";
const STRONG_MONITOR_KEY: &str = "prod-monitor-key-0123456789abcdef01234567";

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
