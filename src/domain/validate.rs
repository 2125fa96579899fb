//! Input rules for applications and releases, reported per field.

use std::collections::BTreeMap;
use std::net::IpAddr;

use url::Url;

use super::model::{ApplicationConfig, ChecksumType};
use super::signing::{SparklePublicKey, TauriPublicKey};
use super::{parse_platform, parse_version};

/// Field path → what is wrong with it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| message.into());
    }

    /// Adds `later`'s problems, except those about a field already found
    /// wrong here: the same field, one inside it (`files[1].url` when
    /// `files[1]` is wrong) or one containing it (`files` when `files[1].url`
    /// is wrong). So rules run over a stand-in for a value that did not read
    /// add nothing about it.
    pub fn absorb(&mut self, later: FieldErrors) {
        for (field, message) in later.0 {
            let judged = self
                .0
                .keys()
                .any(|found| nested(&field, found) || nested(found, &field));
            if !judged {
                self.add(field, message);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

/// Whether `field` is `outer` or a field inside it (`outer.x`, `outer[0]`).
fn nested(field: &str, outer: &str) -> bool {
    field
        .strip_prefix(outer)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

pub const MAX_ID_LEN: usize = 100;
pub const MAX_NAME_LEN: usize = 200;
pub const MAX_TEXT_LEN: usize = 64 * 1024;
pub const MAX_URL_LEN: usize = 2048;
pub const MAX_SIGNATURE_LEN: usize = 16 * 1024;
pub const MAX_METADATA_ENTRIES: usize = 64;
pub const MAX_METADATA_VALUE_LEN: usize = 1024;

/// Application ids: `^[A-Za-z0-9_-]{1,100}$`, as in the Go service.
pub fn check_application_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("must not be empty".into());
    }
    if id.len() > MAX_ID_LEN {
        return Err(format!("must be at most {MAX_ID_LEN} characters"));
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err("may contain only letters, digits, '-' and '_'".into());
    }
    Ok(())
}

/// Free text must not carry control characters other than newlines and tabs.
pub fn check_text(value: &str, max_len: usize, multiline: bool) -> Result<(), String> {
    if value.len() > max_len {
        return Err(format!("must be at most {max_len} bytes"));
    }
    let bad = value
        .chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')));
    if bad {
        return Err("must not contain control characters".into());
    }
    // Noncharacters are not allowed in XML and YAML documents, so one in
    // release notes would break a whole appcast or channel file.
    let nonchar = value
        .chars()
        .any(|c| matches!(c as u32, 0xFDD0..=0xFDEF) || (c as u32 & 0xFFFE) == 0xFFFE);
    if nonchar {
        return Err("must not contain Unicode noncharacters (such as U+FFFF)".into());
    }
    Ok(())
}

pub fn check_checksum(checksum: &str, kind: ChecksumType) -> Result<String, String> {
    let normalized = checksum.trim().to_ascii_lowercase();
    if normalized.len() != kind.hex_len() || !normalized.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "must be {} hexadecimal characters for {}",
            kind.hex_len(),
            kind.as_str()
        ));
    }
    Ok(normalized)
}

/// A SHA-512 digest as hex (128 characters) or base64 (88 characters, as
/// electron-builder writes it), returned as lowercase hex.
pub fn check_sha512(input: &str) -> Result<String, String> {
    use base64::Engine;
    let trimmed = input.trim();
    if trimmed.len() == 128 {
        return check_checksum(trimmed, ChecksumType::Sha512);
    }
    base64::engine::general_purpose::STANDARD
        .decode(trimmed)
        .ok()
        .filter(|bytes| bytes.len() == 64)
        .map(hex::encode)
        .ok_or_else(|| {
            "must be a SHA-512 digest: 128 hexadecimal characters or 88 base64 characters".into()
        })
}

/// A SHA-1 digest (40 hexadecimal characters), returned lowercase.
pub fn check_sha1(input: &str) -> Result<String, String> {
    let normalized = input.trim().to_ascii_lowercase();
    if normalized.len() != 40 || !normalized.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("must be 40 hexadecimal characters".into());
    }
    Ok(normalized)
}

/// Download URLs must be `https`; plain `http` is accepted for loopback hosts,
/// or everywhere when `allow_http` is set.
pub fn check_download_url(raw: &str, allow_http: bool) -> Result<(), String> {
    if raw.len() > MAX_URL_LEN {
        return Err(format!("must be at most {MAX_URL_LEN} characters"));
    }
    // The URL parser would silently drop these, and the stored URL is the raw one.
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain whitespace or control characters".into());
    }
    let url = Url::parse(raw).map_err(|e| format!("is not a valid URL: {e}"))?;
    let Some(host) = url.host_str() else {
        return Err("must have a host".into());
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials".into());
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_http || is_loopback_host(host) => Ok(()),
        "http" => Err("must use https (plain http is only accepted for loopback hosts)".into()),
        other => Err(format!("scheme `{other}` is not allowed; use https")),
    }
}

pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

pub fn check_metadata(metadata: &BTreeMap<String, String>) -> Result<(), String> {
    if metadata.len() > MAX_METADATA_ENTRIES {
        return Err(format!("must have at most {MAX_METADATA_ENTRIES} entries"));
    }
    for (key, value) in metadata {
        if key.is_empty() || key.len() > 100 {
            return Err("keys must be 1 to 100 characters".into());
        }
        check_text(key, 100, false).map_err(|e| format!("key `{}` {e}", key.escape_debug()))?;
        check_text(value, MAX_METADATA_VALUE_LEN, false)
            .map_err(|e| format!("value of `{}` {e}", key.escape_debug()))?;
    }
    Ok(())
}

/// An application's config as the client wrote it, before any check.
#[derive(Debug, Clone, Default)]
pub struct ApplicationConfigDraft {
    pub update_check_url: String,
    pub auto_update: bool,
    pub update_interval: i64,
    pub required_update: bool,
    pub min_version: Option<String>,
    pub max_version: Option<String>,
    pub allow_prerelease: bool,
    pub custom_fields: BTreeMap<String, String>,
    pub notification_url: String,
    pub analytics_enabled: bool,
    pub tauri_public_key: Option<String>,
    pub sparkle_public_key: Option<String>,
    pub verify_on_register: bool,
    pub download_page: bool,
}

impl From<&ApplicationConfig> for ApplicationConfigDraft {
    fn from(config: &ApplicationConfig) -> Self {
        Self {
            update_check_url: config.update_check_url.clone(),
            auto_update: config.auto_update,
            update_interval: config.update_interval,
            required_update: config.required_update,
            min_version: config.min_version.as_ref().map(ToString::to_string),
            max_version: config.max_version.as_ref().map(ToString::to_string),
            allow_prerelease: config.allow_prerelease,
            custom_fields: config.custom_fields.clone(),
            notification_url: config.notification_url.clone(),
            analytics_enabled: config.analytics_enabled,
            tauri_public_key: config.tauri_public_key.clone(),
            sparkle_public_key: config.sparkle_public_key.clone(),
            verify_on_register: config.verify_on_register,
            download_page: config.download_page,
        }
    }
}

/// Checks a config draft, reporting every problem under `config.<field>`.
/// Versions are parsed once here; an empty version or key clears it.
pub fn check_config(draft: ApplicationConfigDraft, errors: &mut FieldErrors) -> ApplicationConfig {
    if draft.update_interval < 0 {
        errors.add("config.update_interval", "must not be negative");
    }
    let mut version = |field: &str, value: Option<String>| {
        let value = value.filter(|v| !v.trim().is_empty())?;
        parse_version(&value).map_err(|e| errors.add(field, e)).ok()
    };
    let min_version = version("config.min_version", draft.min_version);
    let max_version = version("config.max_version", draft.max_version);
    if let (Some(min), Some(max)) = (&min_version, &max_version)
        && min > max
    {
        errors.add(
            "config.min_version",
            "must not be greater than config.max_version",
        );
    }
    for (field, url) in [
        ("config.update_check_url", &draft.update_check_url),
        ("config.notification_url", &draft.notification_url),
    ] {
        if !url.is_empty() && !Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        {
            errors.add(field, "must be an http or https URL");
        }
    }
    if let Err(e) = check_metadata(&draft.custom_fields) {
        errors.add("config.custom_fields", e);
    }
    let tauri_public_key = check_public_key(
        "config.tauri_public_key",
        draft.tauri_public_key,
        |k| TauriPublicKey::parse(k).map(drop),
        errors,
    );
    let sparkle_public_key = check_public_key(
        "config.sparkle_public_key",
        draft.sparkle_public_key,
        |k| SparklePublicKey::parse(k).map(drop),
        errors,
    );
    ApplicationConfig {
        update_check_url: draft.update_check_url,
        auto_update: draft.auto_update,
        update_interval: draft.update_interval,
        required_update: draft.required_update,
        min_version,
        max_version,
        allow_prerelease: draft.allow_prerelease,
        custom_fields: draft.custom_fields,
        notification_url: draft.notification_url,
        analytics_enabled: draft.analytics_enabled,
        tauri_public_key,
        sparkle_public_key,
        verify_on_register: draft.verify_on_register,
        download_page: draft.download_page,
    }
}

const MAX_PUBLIC_KEY_LEN: usize = 4096;

/// A signing key as given (an empty one clears it), if it parses.
fn check_public_key(
    field: &str,
    value: Option<String>,
    parse: impl Fn(&str) -> Result<(), String>,
    errors: &mut FieldErrors,
) -> Option<String> {
    let key = value.filter(|v| !v.trim().is_empty())?;
    if key.len() > MAX_PUBLIC_KEY_LEN {
        errors.add(
            field,
            format!("must be at most {MAX_PUBLIC_KEY_LEN} characters"),
        );
    } else if let Err(e) = parse(&key) {
        errors.add(field, e);
    }
    Some(key)
}

pub fn check_name(name: &str, errors: &mut FieldErrors) {
    if name.trim().is_empty() {
        errors.add("name", "must not be empty");
    } else if let Err(e) = check_text(name, MAX_NAME_LEN, false) {
        errors.add("name", e);
    }
}

pub fn check_description(description: &str, errors: &mut FieldErrors) {
    if let Err(e) = check_text(description, MAX_TEXT_LEN, true) {
        errors.add("description", e);
    }
}

/// Platforms normalised and de-duplicated, in the order given.
pub fn normalize_platforms(platforms: &[String], errors: &mut FieldErrors) -> Vec<String> {
    if platforms.is_empty() {
        errors.add("platforms", "must list at least one platform");
    }
    let mut normalized: Vec<String> = Vec::new();
    for platform in platforms {
        match parse_platform(platform) {
            Ok(p) if !normalized.iter().any(|n| n == p) => normalized.push(p.to_string()),
            Ok(_) => {}
            Err(e) => errors.add("platforms", e),
        }
    }
    normalized
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_ids() {
        assert!(check_application_id("my-app_1").is_ok());
        for bad in ["", "../etc", "a b", "a/b", "a\u{0}b", "é", &"x".repeat(101)] {
            assert!(check_application_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn absorbed_problems_skip_fields_already_found_wrong() {
        let mut found = FieldErrors::default();
        found.add("files[1]", "must be an object");
        found.add("file_size", "must be a non-negative integer");
        let mut later = FieldErrors::default();
        for field in [
            "files[1].url",
            "files",
            "file_size",
            "files[10].url",
            "download_url",
        ] {
            later.add(field, "rule");
        }
        found.absorb(later);
        let fields: Vec<&str> = found.0.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            ["download_url", "file_size", "files[10].url", "files[1]"]
        );
        assert_eq!(found.0["file_size"], "must be a non-negative integer");
    }

    #[test]
    fn download_urls() {
        assert!(check_download_url("https://cdn.example.com/a.zip", false).is_ok());
        assert!(check_download_url("http://127.0.0.1:9000/a.zip", false).is_ok());
        assert!(check_download_url("http://localhost/a.zip", false).is_ok());
        assert!(check_download_url("http://[::1]/a.zip", false).is_ok());
        assert!(check_download_url("http://cdn.example.com/a.zip", false).is_err());
        assert!(check_download_url("https://cdn.example.com/a\n.zip", false).is_err());
        assert!(check_download_url(" https://cdn.example.com/a.zip", false).is_err());
        assert!(check_download_url("http://cdn.example.com/a.zip", true).is_ok());
        assert!(check_download_url("ftp://cdn.example.com/a.zip", true).is_err());
        assert!(check_download_url("https://user:pw@cdn.example.com/a", false).is_err());
        assert!(check_download_url("not a url", false).is_err());
    }

    #[test]
    fn checksums() {
        let sha256 = "A".repeat(64);
        assert_eq!(
            check_checksum(&sha256, ChecksumType::Sha256).unwrap(),
            "a".repeat(64)
        );
        assert!(check_checksum(&sha256, ChecksumType::Sha512).is_err());
        assert!(check_checksum(&"g".repeat(64), ChecksumType::Sha256).is_err());
        assert!(check_checksum(&"b".repeat(128), ChecksumType::Sha512).is_ok());
    }
}
