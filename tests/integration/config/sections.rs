//! Sections: the default `development`, selection by option or
//! `UPDATER_CONFIG_SECTION`, the `defaults` section, and which file is read.

use super::{THREE_SECTIONS, assert_error, env, load_err, load_ok, options, path_str, write_yaml};
use crate::common::sut::{LoadOptions, LogFormat};

#[test]
fn section_defaults_to_development() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), THREE_SECTIONS);
    let loaded = load_ok(&options(&path, None, &[]));
    assert_eq!(loaded.section, "development");
    assert_eq!(loaded.settings.server.port, 8101);
    assert_eq!(loaded.source.as_deref(), Some(path.as_path()));
}

#[test]
fn section_from_environment_when_no_option() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), THREE_SECTIONS);
    let loaded = load_ok(&options(
        &path,
        None,
        &[("UPDATER_CONFIG_SECTION", "staging")],
    ));
    assert_eq!(loaded.section, "staging");
    assert_eq!(loaded.settings.server.port, 8102);
}

#[test]
fn section_option_beats_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), THREE_SECTIONS);
    let loaded = load_ok(&options(
        &path,
        Some("qa"),
        &[("UPDATER_CONFIG_SECTION", "staging")],
    ));
    assert_eq!(loaded.section, "qa");
    assert_eq!(loaded.settings.server.port, 8103);
}

#[test]
fn unknown_section_lists_known_sections_but_not_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), THREE_SECTIONS);
    let errors = load_err(&options(&path, Some("nope"), &[]));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let error = &errors[0];
    assert!(error.contains("nope"), "{error}");
    let known = error
        .split_once("known sections:")
        .unwrap_or_else(|| panic!("no list of known sections in: {error}"))
        .1;
    for section in ["development", "staging", "qa"] {
        assert!(known.contains(section), "`{section}` missing from: {error}");
    }
    assert!(!known.contains("defaults"), "`defaults` listed in: {error}");

    // `defaults` is not a section that can be selected, from either source.
    let errors = load_err(&options(&path, Some("defaults"), &[]));
    assert_error(&errors, &["defaults", "known sections:", "development"]);
    let errors = load_err(&options(
        &path,
        None,
        &[("UPDATER_CONFIG_SECTION", "defaults")],
    ));
    assert_error(&errors, &["known sections:"]);
}

#[test]
fn unknown_section_from_environment_is_an_error_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), THREE_SECTIONS);
    let errors = load_err(&options(&path, None, &[("UPDATER_CONFIG_SECTION", "prod")]));
    assert_error(&errors, &["prod", "development", "staging", "qa"]);
}

#[test]
fn missing_default_section_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), "staging:\n  server:\n    port: 9001\n");
    let errors = load_err(&options(&path, None, &[]));
    assert_error(&errors, &["development", "staging"]);
}

#[test]
fn defaults_section_applies_under_every_section() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        r#"
defaults:
  server:
    max_connections: 77
  logging:
    level: warn
development:
  server:
    port: 8101
staging:
  logging:
    format: json
"#,
    );
    for section in ["development", "staging"] {
        let loaded = load_ok(&options(&path, Some(section), &[]));
        assert_eq!(loaded.settings.server.max_connections, 77, "{section}");
        assert_eq!(loaded.settings.logging.level, "warn", "{section}");
    }
    let dev = load_ok(&options(&path, Some("development"), &[]));
    assert_eq!(dev.settings.server.port, 8101);
    assert_eq!(dev.settings.logging.format, LogFormat::Pretty);
    let staging = load_ok(&options(&path, Some("staging"), &[]));
    assert_eq!(staging.settings.server.port, 8080);
    assert_eq!(staging.settings.logging.format, LogFormat::Json);
}

#[test]
fn config_path_from_updater_config_when_no_option() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), "development:\n  server:\n    port: 8201\n");
    let options = LoadOptions {
        config_path: None,
        section: None,
        overrides: Vec::new(),
        env: env(&[("UPDATER_CONFIG", path_str(&path))]),
    };
    let loaded = load_ok(&options);
    assert_eq!(loaded.settings.server.port, 8201);
    assert_eq!(loaded.source.as_deref(), Some(path.as_path()));
}

#[test]
fn config_path_option_beats_updater_config() {
    let dir = tempfile::tempdir().unwrap();
    let chosen = dir.path().join("chosen.yaml");
    std::fs::write(&chosen, "development:\n  server:\n    port: 8301\n").unwrap();
    let other = dir.path().join("other.yaml");
    std::fs::write(&other, "development:\n  server:\n    port: 8302\n").unwrap();
    let loaded = load_ok(&options(
        &chosen,
        None,
        &[("UPDATER_CONFIG", path_str(&other))],
    ));
    assert_eq!(loaded.settings.server.port, 8301);
    assert_eq!(loaded.source.as_deref(), Some(chosen.as_path()));
}

#[test]
fn missing_config_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.yaml");
    let errors = load_err(&options(&missing, None, &[]));
    assert_error(&errors, &["absent.yaml"]);
}

#[test]
fn invalid_yaml_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), "development:\n  server: [unclosed\n");
    let errors = load_err(&options(&path, None, &[]));
    assert_error(&errors, &["config.yaml"]);
}
