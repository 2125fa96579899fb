//! What the tests send: the four API keys of `test_settings` (the admin key
//! is also the child servers'), a placeholder digest, and minimal bodies.

use serde_json::{Value, json};

pub const ADMIN_KEY: &str = "test-admin-key-0123456789abcdef0123456789";
pub const WRITE_KEY: &str = "test-write-key-0123456789abcdef0123456789";
pub const READ_KEY: &str = "test-read-key-0123456789abcdef01234567890";
pub const MONITOR_KEY: &str = "test-monitor-key-0123456789abcdef012345678";
pub const SHA256: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// An application on linux, windows and darwin.
pub fn app_body(id: &str) -> Value {
    json!({"id": id, "name": format!("App {id}"), "platforms": ["linux", "windows", "darwin"]})
}

/// A single-file linux/amd64 release of `version`.
pub fn release_body(version: &str) -> Value {
    json!({
        "version": version,
        "platform": "linux",
        "architecture": "amd64",
        "download_url": format!("https://cdn.example.com/app-{version}.tar.gz"),
        "checksum": SHA256,
        "file_size": 1024
    })
}
