//! Precedence: built-in defaults < `defaults` < the section < the
//! environment < the command line, merged key by key.

use super::{assert_error, load_err, load_ok, options, write_yaml};

const PORT_LAYERS: &str = r#"
defaults:
  server:
    port: 8081
development:
  server:
    port: 8082
"#;

#[test]
fn precedence_each_layer_wins_over_the_one_below() {
    let dir = tempfile::tempdir().unwrap();

    // Built-in default only.
    let builtin = dir.path().join("builtin.yaml");
    std::fs::write(&builtin, "development:\n  logging:\n    level: info\n").unwrap();
    assert_eq!(
        load_ok(&options(&builtin, None, &[])).settings.server.port,
        8080
    );

    // `defaults` beats the built-in default.
    let defaults_only = dir.path().join("defaults.yaml");
    std::fs::write(
        &defaults_only,
        "defaults:\n  server:\n    port: 8081\ndevelopment: {}\n",
    )
    .unwrap();
    assert_eq!(
        load_ok(&options(&defaults_only, None, &[]))
            .settings
            .server
            .port,
        8081
    );

    // The selected section beats `defaults`.
    let layers = write_yaml(dir.path(), PORT_LAYERS);
    assert_eq!(
        load_ok(&options(&layers, None, &[])).settings.server.port,
        8082
    );

    // The environment beats the section.
    let with_env = options(&layers, None, &[("UPDATER_SERVER__PORT", "8083")]);
    assert_eq!(load_ok(&with_env).settings.server.port, 8083);

    // The command line beats the environment.
    let mut with_cli = with_env.clone();
    with_cli
        .overrides
        .push(("server.port".to_string(), "8084".to_string()));
    assert_eq!(load_ok(&with_cli).settings.server.port, 8084);
}

#[test]
fn layers_merge_key_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        r#"
defaults:
  server:
    max_connections: 55
    request_timeout: 7s
development:
  server:
    port: 8090
"#,
    );
    let loaded = load_ok(&options(
        &path,
        None,
        &[("UPDATER_SERVER__HEADER_READ_TIMEOUT", "3s")],
    ));
    let server = &loaded.settings.server;
    assert_eq!(server.port, 8090);
    assert_eq!(server.max_connections, 55);
    assert_eq!(server.request_timeout, std::time::Duration::from_secs(7));
    assert_eq!(
        server.header_read_timeout,
        std::time::Duration::from_secs(3)
    );
    // Untouched keys keep their built-in defaults.
    assert_eq!(server.max_body_bytes, 1024 * 1024);
    assert_eq!(loaded.settings.storage.sqlite.file, "updater.db");
}

#[test]
fn command_line_override_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(dir.path(), PORT_LAYERS);

    let mut bad_value = options(&path, None, &[]);
    bad_value
        .overrides
        .push(("server.port".to_string(), "eighty".to_string()));
    assert_error(&load_err(&bad_value), &["server.port", "eighty"]);

    let mut unknown = options(&path, None, &[]);
    unknown
        .overrides
        .push(("server.prot".to_string(), "1".to_string()));
    assert_error(&load_err(&unknown), &["server.prot"]);

    let mut host = options(&path, None, &[]);
    host.overrides
        .push(("server.host".to_string(), "127.0.0.2".to_string()));
    assert_eq!(load_ok(&host).settings.server.host.to_string(), "127.0.0.2");
}
