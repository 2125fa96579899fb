//! The health probe's server-only load, which ignores problems outside
//! `server`.

use super::{assert_error, load_err, options, write_yaml};
use crate::common::sut::load_server_only;

const SERVER_AND_BROKEN_REST: &str = r#"
defaults:
  nonsense: true
development:
  server:
    port: 8400
    max_connections: 9
  security:
    api_keys:
      - name: admin
        key: ${SECRET}
        permissions: [admin]
    unknown_security_key: 1
  logging:
    levle: debug
"#;

#[test]
fn server_only_load_ignores_problems_outside_server() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), SERVER_AND_BROKEN_REST);
    // The full load fails ...
    let errors = load_err(&options(&path, None, &[]));
    assert_error(&errors, &["SECRET"]);
    assert_error(&errors, &["logging.levle"]);

    // ... the server-only load does not.
    let server = load_server_only(&options(
        &path,
        None,
        &[
            ("UPDATER_SERVER__PORT", "9444"),
            ("UPDATER_SECURITY__NOT_A_KEY", "x"),
            ("UPDATER_SECURITY__API_KEYS__0__KEY_FILE", "/no/such/file"),
        ],
    ))
    .unwrap_or_else(|e| panic!("server-only load failed:\n{e}"));
    assert_eq!(server.port, 9444);
    assert_eq!(server.max_connections, 9);

    let server = load_server_only(&options(&path, None, &[])).unwrap();
    assert_eq!(server.port, 8400);
}

#[test]
fn server_only_load_still_reports_server_problems() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), SERVER_AND_BROKEN_REST);
    let error =
        load_server_only(&options(&path, None, &[("UPDATER_SERVER__PORT", "abc")])).unwrap_err();
    assert_error(&error.errors, &["server.port"]);

    let path = write_yaml(
        dir.path(),
        "development:\n  server:\n    prot: 1\n    port: ${PROBE_PORT}\n",
    );
    let error = load_server_only(&options(&path, None, &[])).unwrap_err();
    assert_error(&error.errors, &["server.prot"]);
    assert_error(&error.errors, &["PROBE_PORT"]);
    let error = load_server_only(&options(&path, Some("absent"), &[])).unwrap_err();
    assert_error(&error.errors, &["absent", "development"]);
}
