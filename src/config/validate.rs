//! Rules that need more than one key, and the stricter `production` checks.

use std::collections::BTreeSet;
use std::time::Duration;

use super::load::Unreadable;
use super::{Environment, Settings, StorageType};

/// Keys documented for the `development` section. Refused in `production`.
pub const DEVELOPMENT_KEYS: [&str; 3] = [
    "dev-admin-key-do-not-use-in-production-0000",
    "dev-write-key-do-not-use-in-production-0000",
    "dev-read-key-do-not-use-in-production-00000",
];

pub const MIN_PRODUCTION_KEY_LEN: usize = 32;

/// `unreadable` keys had a value that could not be read, already reported:
/// they are not called unset as well.
pub fn validate(
    settings: &Settings,
    unreadable: &Unreadable,
    warnings: &mut Vec<String>,
) -> Vec<String> {
    let mut errors = Vec::new();
    let production = settings.environment == Environment::Production;
    let server = &settings.server;

    if !(1024..=64 * 1024 * 1024).contains(&server.max_body_bytes) {
        errors.push("`server.max_body_bytes` must be between 1024 and 67108864".into());
    }
    if !(8 * 1024..=1024 * 1024).contains(&server.max_header_bytes) {
        errors.push("`server.max_header_bytes` must be between 8192 and 1048576".into());
    }
    if server.max_connections == 0 {
        errors.push("`server.max_connections` must be at least 1".into());
    }
    if !(1..=1000).contains(&server.http2_max_concurrent_streams) {
        errors.push("`server.http2_max_concurrent_streams` must be between 1 and 1000".into());
    }
    for (key, value) in [
        ("server.header_read_timeout", server.header_read_timeout),
        ("server.idle_timeout", server.idle_timeout),
        ("server.request_timeout", server.request_timeout),
        ("server.shutdown_timeout", server.shutdown_timeout),
    ] {
        if value.is_zero() {
            errors.push(format!("`{key}` must be greater than zero"));
        }
    }
    validate_operations(settings, &mut errors, warnings);
    if server.drain_delay > Duration::from_secs(300) {
        errors.push("`server.drain_delay` must be at most 5m".into());
    }
    let tls = &server.tls;
    if tls.enabled() {
        if tls.cert_file.is_empty() || tls.key_file.is_empty() {
            errors.push(
                "`server.tls.cert_file` and `server.tls.key_file` must be set together".into(),
            );
        }
        for (key, path) in [
            ("server.tls.cert_file", &tls.cert_file),
            ("server.tls.key_file", &tls.key_file),
        ] {
            if !path.is_empty() && std::fs::metadata(path).is_err() {
                errors.push(format!("`{key}`: cannot read {path}"));
            }
        }
    }
    for origin in &server.cors.allowed_origins {
        let valid = url::Url::parse(origin).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && u.path() == "/"
                && !origin.ends_with('/')
        });
        if !valid {
            errors.push(format!(
                "`server.cors.allowed_origins`: `{origin}` is not an origin like https://app.example.com"
            ));
        }
    }

    if settings.storage.data_dir.as_os_str().is_empty() {
        errors.push("`storage.data_dir` must not be empty".into());
    }
    let file = &settings.storage.sqlite.file;
    if file.is_empty() || file.contains('/') || file.contains('\\') {
        errors.push("`storage.sqlite.file` must be a plain file name".into());
    }

    validate_postgres(settings, production, unreadable, &mut errors, warnings);
    validate_keys(settings, production, unreadable, &mut errors, warnings);

    for proxy in &settings.security.trusted_proxies {
        if proxy.parse::<ipnet::IpNet>().is_err() && proxy.parse::<std::net::IpAddr>().is_err() {
            errors.push(format!(
                "`security.trusted_proxies`: `{proxy}` is not an IP address or CIDR range"
            ));
        }
    }
    let rate = &settings.security.rate_limit;
    if rate.enabled && (rate.requests_per_minute == 0 || rate.burst == 0) {
        errors.push(
            "`security.rate_limit.requests_per_minute` and `burst` must be at least 1".into(),
        );
    }
    let verification = &settings.security.artifact_verification;
    if verification.max_bytes == 0 {
        errors.push("`security.artifact_verification.max_bytes` must be at least 1".into());
    }
    if verification.timeout < Duration::from_secs(1) {
        errors.push("`security.artifact_verification.timeout` must be at least 1s".into());
    }
    if !(1..=32).contains(&verification.concurrency) {
        errors.push("`security.artifact_verification.concurrency` must be between 1 and 32".into());
    }
    if settings.security.auth_failure_limit.failures_per_minute == 0 {
        errors.push("`security.auth_failure_limit.failures_per_minute` must be at least 1".into());
    }

    // tracing-subscriber 0.3 slices a directive with leading whitespace at
    // the wrong offsets, and panics when that lands inside a character.
    let level = &settings.logging.level;
    if level
        .split(',')
        .any(|directive| directive.trim() != directive)
    {
        errors.push(format!(
            "`logging.level`: `{}` has whitespace around a directive; write e.g. `updater=debug,info`",
            level.escape_debug()
        ));
    } else if let Err(e) = tracing_subscriber::EnvFilter::try_new(level) {
        errors.push(format!(
            "`logging.level`: `{}` is not a valid filter: {e}",
            settings.logging.level
        ));
    }

    if production {
        let public = !server.host.is_loopback();
        if public && !tls.enabled() && !server.allow_public_http {
            errors.push(format!(
                "production refuses plain HTTP on the public address {}: configure `server.tls`, bind a loopback address, \
                 or set `server.allow_public_http: true` when TLS is terminated in front of the service",
                server.host
            ));
        }
        if settings.security.allow_http_download_urls {
            warnings.push("`security.allow_http_download_urls` is on in production: clients may be sent plain-HTTP downloads".into());
        }
    }
    errors
}

/// The URL is a secret: messages name the key, never the value.
fn validate_postgres(
    settings: &Settings,
    production: bool,
    unreadable: &Unreadable,
    errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    let postgres = &settings.storage.postgres;
    if postgres.max_connections == 0 {
        errors.push("`storage.postgres.max_connections` must be at least 1".into());
    }
    if postgres.acquire_timeout.is_zero() {
        errors.push("`storage.postgres.acquire_timeout` must be greater than zero".into());
    }
    if settings.storage.kind != StorageType::Postgres {
        return;
    }
    if postgres.url.is_empty() {
        if unreadable.contains("storage.postgres.url") {
            return;
        }
        errors.push(
            "`storage.postgres.url` must be set when `storage.type` is postgres (UPDATER_STORAGE__POSTGRES__URL, \
             or DATABASE_URL / DATABASE_URL_FILE through the committed config.yaml)"
                .into(),
        );
        return;
    }
    let parsed = url::Url::parse(postgres.url.expose())
        .ok()
        .filter(|u| matches!(u.scheme(), "postgres" | "postgresql"));
    let Some(parsed) = parsed else {
        errors.push(
            "`storage.postgres.url` is not a postgres:// URL (value not shown: it may hold a password)".into(),
        );
        return;
    };
    let sslmode = parsed
        .query_pairs()
        .find(|(k, _)| k == "sslmode")
        .map(|(_, v)| v.into_owned());
    let verifies = matches!(sslmode.as_deref(), Some("verify-ca" | "verify-full"));
    if production && !verifies {
        warnings.push(
            "`storage.postgres.url` does not set sslmode=verify-full (or verify-ca): the database connection is not authenticated"
                .into(),
        );
    }
}

fn validate_keys(
    settings: &Settings,
    production: bool,
    unreadable: &Unreadable,
    errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    let keys = &settings.security.api_keys;
    if keys.is_empty() {
        if production {
            errors.push("production requires at least one API key in `security.api_keys`".into());
        } else {
            warnings.push("no API keys configured: only the public endpoints can be used".into());
        }
    }
    let mut names = BTreeSet::new();
    let mut digests = BTreeSet::new();
    for (i, key) in keys.iter().enumerate() {
        let at = format!("`security.api_keys.{i}`");
        if key.name.is_empty() {
            errors.push(format!("{at}: `name` must be set"));
        } else if !names.insert(key.name.as_str()) {
            errors.push(format!("{at}: the name `{}` is used twice", key.name));
        }
        if key.permissions.is_empty() {
            errors.push(format!(
                "{at}: `permissions` must list at least one of read, publish, rollout, delete, write, admin, monitor"
            ));
        }
        let digest = match (key.key.is_empty(), key.key_hash.is_empty()) {
            (false, false) => {
                errors.push(format!("{at}: set either `key` or `key_hash`, not both"));
                continue;
            }
            (true, true) => {
                let given = ["key", "key_hash"]
                    .iter()
                    .any(|field| unreadable.contains(&format!("security.api_keys.{i}.{field}")));
                if !given {
                    errors.push(format!("{at}: one of `key` or `key_hash` must be set"));
                }
                continue;
            }
            (false, true) => {
                let value = key.key.expose();
                if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    errors.push(format!(
                        "{at}: `key` must not contain whitespace or control characters"
                    ));
                }
                if production && value.len() < MIN_PRODUCTION_KEY_LEN {
                    errors.push(format!(
                        "{at}: `key` must be at least {MIN_PRODUCTION_KEY_LEN} characters in production"
                    ));
                }
                if production && DEVELOPMENT_KEYS.contains(&value) {
                    errors.push(format!(
                        "{at}: the documented development keys are refused in production"
                    ));
                }
                super::key_digest(value)
            }
            (true, false) => {
                match super::parse_key_hash(&key.key_hash) {
                    Some(digest) => digest,
                    None => {
                        errors.push(format!("{at}: `key_hash` must be `sha256:` followed by 64 hexadecimal characters"));
                        continue;
                    }
                }
            }
        };
        if !digests.insert(digest) {
            errors.push(format!("{at}: the same key is configured twice"));
        }
    }
}

/// The key pepper, the audit log and webhook delivery.
fn validate_operations(settings: &Settings, errors: &mut Vec<String>, warnings: &mut Vec<String>) {
    let pepper = &settings.security.key_pepper;
    if !pepper.is_empty() && pepper.expose().chars().count() < 32 {
        errors.push("`security.key_pepper` must be at least 32 characters".into());
    }
    if pepper.is_empty() && settings.storage.kind == super::StorageType::Postgres {
        warnings.push(
            "`security.key_pepper` is not set: managed API keys are disabled on PostgreSQL \
             (every replica must share the pepper)"
                .into(),
        );
    }
    settings.analytics.validate(errors);
    settings.cache_control.validate(errors);
    settings.console.validate(errors);
    if settings.audit.retention < Duration::from_secs(24 * 3600) {
        errors.push("`audit.retention` must be at least 1d".into());
    }
    let webhooks = &settings.webhooks;
    for (key, value) in [
        ("webhooks.timeout", webhooks.timeout),
        ("webhooks.backoff_initial", webhooks.backoff_initial),
        ("webhooks.retry_for", webhooks.retry_for),
    ] {
        if value.is_zero() {
            errors.push(format!("`{key}` must be greater than zero"));
        }
    }
    if webhooks.timeout > Duration::from_secs(60) {
        errors.push("`webhooks.timeout` must be at most 1m".into());
    }
    if webhooks.backoff_max < webhooks.backoff_initial {
        errors
            .push("`webhooks.backoff_max` must not be less than `webhooks.backoff_initial`".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level_errors(level: &str) -> Vec<String> {
        let mut settings = Settings::default();
        settings.logging.level = level.into();
        validate(&settings, &Unreadable::new(), &mut Vec::new())
            .into_iter()
            .filter(|e| e.contains("logging.level"))
            .collect()
    }

    #[test]
    fn a_level_with_whitespace_is_an_error_not_a_panic() {
        // Panicked inside tracing-subscriber's directive parser.
        assert_eq!(level_errors("\ta\u{a1}[").len(), 1);
        assert_eq!(level_errors("info, updater=debug").len(), 1);
        assert_eq!(level_errors(" info").len(), 1);
        assert!(level_errors("updater=debug,info").is_empty());
        assert!(level_errors("").is_empty());
        assert_eq!(level_errors("not a filter[").len(), 1);
    }
}
