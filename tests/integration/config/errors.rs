//! Error reporting: unknown keys with their full path, and every problem
//! collected into one `ConfigError`.

use super::{assert_error, load_err, options, write_yaml};
use crate::common::sut::load;

#[test]
fn unknown_yaml_keys_are_reported_with_their_full_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        r#"
development:
  server:
    prot: 8080
  security:
    api_keys:
      - nmae: reader
        key: unknown-key-test-0123456789abcdef0123
        permissions: [read]
"#,
    );
    let errors = load_err(&options(&path, None, &[]));
    assert_error(&errors, &["server.prot"]);
    assert_error(&errors, &["security.api_keys.0.nmae"]);
}

#[test]
fn unknown_keys_in_the_defaults_section_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        "defaults:\n  loging:\n    level: info\ndevelopment: {}\n",
    );
    let errors = load_err(&options(&path, None, &[]));
    assert_error(&errors, &["loging"]);
}

#[test]
fn every_error_is_reported_in_one_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        r#"
development:
  server:
    prot: 8080
    port: not-a-port
  logging:
    levle: debug
"#,
    );
    let errors = load_err(&options(&path, None, &[("UPDATER_NOT__A__KEY", "1")]));
    assert!(errors.len() >= 4, "{errors:#?}");
    assert_error(&errors, &["server.prot"]);
    assert_error(&errors, &["logging.levle"]);
    assert_error(&errors, &["server.port", "not-a-port"]);
    assert_error(&errors, &["UPDATER_NOT__A__KEY"]);

    // Display lists them all too.
    let message = load(&options(&path, None, &[])).unwrap_err().to_string();
    for needle in ["server.prot", "logging.levle", "not-a-port"] {
        assert!(message.contains(needle), "{message}");
    }
}

/// Errors found only when the merged tree is turned into typed settings (an
/// IP address, an enum value) must be reported along with the others, not
/// one per run.
#[test]
fn value_errors_are_reported_with_the_other_errors() {
    let dir = tempfile::tempdir().unwrap();
    // Two bad values and nothing else: both must be reported.
    let two_values = write_yaml(
        dir.path(),
        "development:\n  server:\n    host: not-an-ip\n  logging:\n    format: xml\n",
    );
    let first = load_err(&options(&two_values, None, &[]));
    // A bad value next to an unknown key: all three must be reported.
    let mixed = dir.path().join("mixed.yaml");
    std::fs::write(
        &mixed,
        "development:\n  server:\n    prot: 8080\n    host: not-an-ip\n  logging:\n    format: xml\n",
    )
    .unwrap();
    let second = load_err(&options(&mixed, None, &[]));
    let mentions = |errors: &[String], needle: &str| errors.iter().any(|e| e.contains(needle));
    assert!(
        mentions(&first, "server.host")
            && mentions(&first, "logging.format")
            && mentions(&second, "server.prot")
            && mentions(&second, "server.host")
            && mentions(&second, "logging.format"),
        "not every error was reported;\n\
         host + format gave: {first:#?}\n\
         prot + host + format gave: {second:#?}"
    );
}

#[test]
fn a_bad_value_alone_names_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), "development:\n  server:\n    host: not-an-ip\n");
    let errors = load_err(&options(&path, None, &[]));
    assert_error(&errors, &["server.host"]);
    let path = write_yaml(dir.path(), "development:\n  environment: staging\n");
    let errors = load_err(&options(&path, None, &[]));
    assert_error(&errors, &["environment"]);
}
