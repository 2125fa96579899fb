//! Hashed API keys (`key_hash: sha256:<hex>`).

use super::{SHA256_HEX, assert_error, load_err, load_ok, options, write_yaml};

fn hashed_key_yaml(entry: &str) -> String {
    format!(
        "development:\n  security:\n    api_keys:\n      - name: hashed\n        permissions: [read]\n{entry}"
    )
}

#[test]
fn key_hash_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        &hashed_key_yaml(&format!("        key_hash: \"sha256:{SHA256_HEX}\"\n")),
    );
    let loaded = load_ok(&options(&path, None, &[]));
    let key = &loaded.settings.security.api_keys[0];
    assert_eq!(key.key_hash, format!("sha256:{SHA256_HEX}"));
    assert!(key.key.is_empty());
}

#[test]
fn key_hash_is_accepted_in_production() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        &format!(
            "production:\n  environment: production\n  security:\n    api_keys:\n      - name: hashed\n        key_hash: \"sha256:{SHA256_HEX}\"\n        permissions: [admin]\n"
        ),
    );
    load_ok(&options(&path, Some("production"), &[]));
}

#[test]
fn malformed_key_hash_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        format!("md5:{SHA256_HEX}"),
        format!("sha256:{}", &SHA256_HEX[..63]),
        format!("sha256:{}0", SHA256_HEX),
        format!("sha256:{}g", &SHA256_HEX[..63]),
        SHA256_HEX.to_string(),
    ] {
        let path = write_yaml(
            dir.path(),
            &hashed_key_yaml(&format!("        key_hash: \"{bad}\"\n")),
        );
        let errors = load_err(&options(&path, None, &[]));
        assert_error(&errors, &["security.api_keys.0", "key_hash"]);
    }
}

#[test]
fn key_and_key_hash_together_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_yaml(
        dir.path(),
        &hashed_key_yaml(&format!(
            "        key: both-key-0123456789abcdef0123456789\n        key_hash: \"sha256:{SHA256_HEX}\"\n"
        )),
    );
    let errors = load_err(&options(&path, None, &[]));
    assert_error(&errors, &["security.api_keys.0", "key_hash"]);
}
