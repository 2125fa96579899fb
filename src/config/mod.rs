//! Typed configuration. See `docs/configuration.md` for every key.
//!
//! Layers, lowest first: built-in defaults, the `defaults` section of the
//! YAML file, the selected section, `UPDATER_*` environment variables, the
//! command line. Loading lives in [`load`]; rules that span keys in [`validate`].

mod analytics;
mod cache_control;
mod console;
mod host;
mod interpolate;
mod key_digest;
mod load;
mod operations;
mod secret;
mod tree;
mod validate;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use analytics::AnalyticsSettings;
pub use cache_control::CacheControlSettings;
pub use console::ConsoleSettings;
pub use interpolate::Env;
pub use key_digest::{KeyDigest, key_digest, parse_key_hash};
pub use load::{ConfigError, LoadOptions, Loaded, load, load_server_only};
pub use operations::{AuditSettings, WebhookSettings};
pub use secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `production` turns on the strict start-up checks.
    pub environment: Environment,
    pub server: ServerSettings,
    pub storage: StorageSettings,
    pub security: SecuritySettings,
    pub logging: LoggingSettings,
    pub metrics: MetricsSettings,
    pub audit: AuditSettings,
    pub webhooks: WebhookSettings,
    pub analytics: AnalyticsSettings,
    pub cache_control: CacheControlSettings,
    pub console: ConsoleSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            environment: Environment::Development,
            server: ServerSettings::default(),
            storage: StorageSettings::default(),
            security: SecuritySettings::default(),
            logging: LoggingSettings::default(),
            metrics: MetricsSettings::default(),
            audit: AuditSettings::default(),
            webhooks: WebhookSettings::default(),
            analytics: AnalyticsSettings::default(),
            cache_control: CacheControlSettings::default(),
            console: ConsoleSettings::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    #[serde(with = "host")]
    pub host: IpAddr,
    pub port: u16,
    /// Accept plain HTTP on a non-loopback address in `production` (TLS
    /// terminated by a proxy or ingress in front of the service).
    pub allow_public_http: bool,
    pub max_body_bytes: usize,
    pub max_header_bytes: usize,
    pub max_connections: usize,
    /// Time from accept to a complete request head, whatever the protocol.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// Time a kept-alive connection may stay open with no request in flight.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    pub http2_max_concurrent_streams: u32,
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Time between readiness turning 503 and the listener closing on shutdown.
    #[serde(with = "humantime_serde")]
    pub drain_delay: Duration,
    /// Hard deadline for in-flight requests once the listener has closed.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    pub tls: TlsSettings,
    pub cors: CorsSettings,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 8080,
            allow_public_http: false,
            max_body_bytes: 1024 * 1024,
            max_header_bytes: 64 * 1024,
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(90),
            http2_max_concurrent_streams: 100,
            request_timeout: Duration::from_secs(30),
            drain_delay: Duration::ZERO,
            shutdown_timeout: Duration::from_secs(20),
            tls: TlsSettings::default(),
            cors: CorsSettings::default(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM certificate chain. Setting either file turns TLS on; both are required.
    pub cert_file: String,
    /// PEM private key.
    pub key_file: String,
}

impl TlsSettings {
    pub fn enabled(&self) -> bool {
        !self.cert_file.is_empty() || !self.key_file.is_empty()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorsSettings {
    /// Exact origins (`https://app.example.com`); empty turns CORS off.
    pub allowed_origins: Vec<String>,
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
}

impl Default for CorsSettings {
    fn default() -> Self {
        Self {
            allowed_origins: Vec::new(),
            max_age: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageType {
    Sqlite,
    Postgres,
    Memory,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSettings {
    #[serde(rename = "type")]
    pub kind: StorageType,
    pub data_dir: PathBuf,
    pub sqlite: SqliteSettings,
    pub postgres: PostgresSettings,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            kind: StorageType::Sqlite,
            data_dir: PathBuf::from("./data"),
            sqlite: SqliteSettings::default(),
            postgres: PostgresSettings::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresSettings {
    /// `postgres://user:password@host:5432/db?sslmode=verify-full`. A secret:
    /// it usually carries the password.
    pub url: Secret,
    pub max_connections: u32,
    /// How long a query waits for a connection before the store reports
    /// itself unavailable.
    #[serde(with = "humantime_serde")]
    pub acquire_timeout: Duration,
}

impl Default for PostgresSettings {
    fn default() -> Self {
        Self {
            url: Secret::default(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

impl StorageSettings {
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join(&self.sqlite.file)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqliteSettings {
    /// File name inside `storage.data_dir`.
    pub file: String,
    #[serde(with = "humantime_serde")]
    pub busy_timeout: Duration,
}

impl Default for SqliteSettings {
    fn default() -> Self {
        Self {
            file: "updater.db".into(),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    Read,
    /// Register releases (and read).
    Publish,
    /// Change a release's rollout or yank state (and read).
    Rollout,
    /// Delete releases and applications (and read).
    Delete,
    /// Create applications and publish releases (and read).
    Write,
    Admin,
    Monitor,
}

impl Permission {
    pub const ALL: [Permission; 7] = [
        Permission::Read,
        Permission::Publish,
        Permission::Rollout,
        Permission::Delete,
        Permission::Write,
        Permission::Admin,
        Permission::Monitor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Publish => "publish",
            Permission::Rollout => "rollout",
            Permission::Delete => "delete",
            Permission::Write => "write",
            Permission::Admin => "admin",
            Permission::Monitor => "monitor",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// What holding `self` grants: `read` comes with every permission but
    /// `monitor`; `write` adds `publish`; `admin` grants everything.
    pub fn grants(self, needed: Permission) -> bool {
        use Permission::*;
        self == needed
            || self == Admin
            || match needed {
                Read => self != Monitor,
                Publish => self == Write,
                _ => false,
            }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiKeySettings {
    pub name: String,
    /// The key itself; give either this or `key_hash`.
    pub key: Secret,
    /// `sha256:<64 hex>` of the key, so the key itself need not be in config.
    pub key_hash: String,
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[derive(Default)]
pub struct SecuritySettings {
    pub api_keys: Vec<ApiKeySettings>,
    /// Peers (IPs or CIDRs) whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
    /// Accept `http://` download URLs for any host (loopback hosts always are).
    pub allow_http_download_urls: bool,
    /// Limits on downloads made to verify artifacts at registration.
    pub artifact_verification: ArtifactVerificationSettings,
    pub rate_limit: RateLimitSettings,
    pub auth_failure_limit: AuthFailureLimitSettings,
    /// The server-side secret managed API keys are HMAC'd with (at least 32
    /// characters; shared by every replica). Empty: SQLite keeps a generated
    /// one in `<data_dir>/key-pepper`; PostgreSQL then has no managed keys.
    pub key_pepper: Secret,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArtifactVerificationSettings {
    /// Largest artifact the server downloads to verify (bytes).
    pub max_bytes: u64,
    /// Deadline for downloading and checking all of a release's files.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Let verification downloads reach loopback, private and link-local
    /// addresses (a local artifact server in development and tests).
    pub allow_private_addresses: bool,
    /// Files of one registration or publish downloaded at the same time (1-32).
    pub concurrency: usize,
}

impl Default for ArtifactVerificationSettings {
    fn default() -> Self {
        Self {
            max_bytes: 4 * 1024 * 1024 * 1024,
            timeout: Duration::from_secs(600),
            allow_private_addresses: false,
            concurrency: 4,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSettings {
    pub enabled: bool,
    pub requests_per_minute: u32,
    pub burst: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            requests_per_minute: 600,
            burst: 100,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthFailureLimitSettings {
    /// Failed authentications a client IP may make per minute before every
    /// authenticated request from it is refused with 429.
    pub failures_per_minute: u32,
    #[serde(with = "humantime_serde")]
    pub lockout: Duration,
}

impl Default for AuthFailureLimitSettings {
    fn default() -> Self {
        Self {
            failures_per_minute: 10,
            lockout: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoggingSettings {
    /// A `tracing` filter: `info`, `debug`, `updater=debug,info`.
    pub level: String,
    pub format: LogFormat,
}

impl Default for LoggingSettings {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Pretty,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// Serve `/metrics` (Prometheus text) to keys with `monitor` or `admin`.
    pub enabled: bool,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self { enabled: true }
    }
}
