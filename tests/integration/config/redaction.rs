//! Secrets never appear in `Debug`, YAML or JSON output.

use super::{SHA256_HEX, load_ok, options, write_yaml};
use crate::common::sut::Settings;

#[test]
fn secrets_never_appear_in_debug_or_serialized_output() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        r#"
development:
  security:
    api_keys:
      - name: admin
        key: yaml-secret-admin-key-0123456789abcdef
        permissions: [admin]
      - name: reader
        key: ${READER_KEY}
        permissions: [read]
      - name: hashed
        key_hash: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        permissions: [monitor]
"#,
    );
    let secrets = [
        "yaml-secret-admin-key-0123456789abcdef",
        "env-secret-reader-key-0123456789abcdef",
        "env-secret-override-key-0123456789abcdef",
    ];
    let loaded = load_ok(&options(
        &path,
        None,
        &[
            ("READER_KEY", secrets[1]),
            ("UPDATER_SECURITY__API_KEYS__0__KEY", secrets[2]),
        ],
    ));
    let settings: &Settings = &loaded.settings;
    assert_eq!(settings.security.api_keys[0].key.expose(), secrets[2]);
    assert_eq!(settings.security.api_keys[1].key.expose(), secrets[1]);

    let debug = format!("{settings:?}");
    let pretty = format!("{settings:#?}");
    let loaded_debug = format!("{loaded:?}");
    let yaml = serde_norway::to_string(settings).unwrap();
    let json = serde_json::to_string(settings).unwrap();
    for (label, output) in [
        ("Debug", &debug),
        ("pretty Debug", &pretty),
        ("Loaded Debug", &loaded_debug),
        ("YAML", &yaml),
        ("JSON", &json),
    ] {
        for secret in secrets {
            assert!(
                !output.contains(secret),
                "{label} leaks {secret}:\n{output}"
            );
        }
        assert!(output.contains("[REDACTED]"), "{label}:\n{output}");
    }
    // The hash is not a secret and stays visible.
    assert!(yaml.contains(SHA256_HEX), "{yaml}");
}
