//! The records the service keeps: applications and their releases.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use semver::Version;
use serde::{Deserialize, Serialize};

/// Per-application update policy. Unlike the Go service, these fields drive
/// behaviour: `allow_prerelease`, `min_version`, `max_version` and
/// `required_update` are applied by the update decision.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ApplicationConfig {
    pub update_check_url: String,
    pub auto_update: bool,
    /// Seconds between client checks: advisory, stored and returned with the application.
    pub update_interval: i64,
    /// Every offered update is mandatory.
    pub required_update: bool,
    /// Clients below this version are told their update is required.
    pub min_version: Option<String>,
    /// Releases above this version are never offered.
    pub max_version: Option<String>,
    /// Offer pre-releases to every client of this application.
    pub allow_prerelease: bool,
    pub custom_fields: BTreeMap<String, String>,
    pub notification_url: String,
    pub analytics_enabled: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    pub id: String,
    pub name: String,
    pub description: String,
    pub platforms: Vec<String>,
    pub config: ApplicationConfig,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Application {
    pub fn min_version(&self) -> Option<Version> {
        self.config
            .min_version
            .as_deref()
            .and_then(|v| super::parse_version(v).ok())
    }

    pub fn max_version(&self) -> Option<Version> {
        self.config
            .max_version
            .as_deref()
            .and_then(|v| super::parse_version(v).ok())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChecksumType {
    Sha256,
    Sha512,
}

impl ChecksumType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChecksumType::Sha256 => "sha256",
            ChecksumType::Sha512 => "sha512",
        }
    }

    pub fn hex_len(self) -> usize {
        match self {
            ChecksumType::Sha256 => 64,
            ChecksumType::Sha512 => 128,
        }
    }

    pub fn parse(input: &str) -> Option<Self> {
        match input.trim().to_ascii_lowercase().as_str() {
            "sha256" => Some(ChecksumType::Sha256),
            "sha512" => Some(ChecksumType::Sha512),
            _ => None,
        }
    }
}

/// What identifies a release: one build of one version for one target.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReleaseKey {
    pub application_id: String,
    pub version: Version,
    pub platform: String,
    pub architecture: String,
}

impl ReleaseKey {
    /// The Go service's release id: `<app>-<version>-<platform>-<arch>`.
    pub fn id(&self) -> String {
        format!(
            "{}-{}-{}-{}",
            self.application_id, self.version, self.platform, self.architecture
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    pub key: ReleaseKey,
    pub channel: String,
    pub download_url: String,
    pub checksum: String,
    pub checksum_type: ChecksumType,
    pub file_size: u64,
    pub release_notes: String,
    pub release_date: DateTime<Utc>,
    pub required: bool,
    pub minimum_version: Option<Version>,
    pub metadata: BTreeMap<String, String>,
    pub signature: Option<String>,
    pub created_at: DateTime<Utc>,
    pub rollout: super::Rollout,
    /// A yanked release is never offered again.
    pub yanked: bool,
    pub yank_reason: String,
}

impl Release {
    pub fn id(&self) -> String {
        self.key.id()
    }

    pub fn version(&self) -> &Version {
        &self.key.version
    }

    pub fn is_prerelease(&self) -> bool {
        !self.key.version.pre.is_empty()
    }
}
