//! The records the service keeps: applications and their releases.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use semver::Version;

use super::artifact::{Artifact, ArtifactKind};

/// Per-application update policy. Unlike the Go service, these fields drive
/// behaviour: `allow_prerelease`, `min_version`, `max_version` and
/// `required_update` are applied by the update decision.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplicationConfig {
    pub update_check_url: String,
    pub auto_update: bool,
    /// Seconds between client checks: advisory, stored and returned with the application.
    pub update_interval: i64,
    /// Every offered update is mandatory.
    pub required_update: bool,
    /// Clients below this version are told their update is required.
    pub min_version: Option<Version>,
    /// Releases above this version are never offered.
    pub max_version: Option<Version>,
    /// Offer pre-releases to every client of this application.
    pub allow_prerelease: bool,
    pub custom_fields: BTreeMap<String, String>,
    pub notification_url: String,
    pub analytics_enabled: bool,
    /// The Tauri / cargo-packager updater public key, as `tauri.conf.json`
    /// holds it (base64 of the minisign public key file). When set, every
    /// file's minisign signature must match it at registration.
    pub tauri_public_key: Option<String>,
    /// Sparkle's `SUPublicEDKey` (base64 Ed25519). When set, every macOS
    /// archive needs an `ed_signature` made with it.
    pub sparkle_public_key: Option<String>,
    /// Download every file at registration and check its size, digests and
    /// signatures before accepting the release.
    pub verify_on_register: bool,
    /// Publish a download page at `/download/{app}` with the newest stable
    /// release of each platform and an Atom feed of releases.
    pub download_page: bool,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Never empty; the first file is the one the single-file `/api/v1` form shows.
    pub files: Vec<Artifact>,
    pub release_notes: String,
    pub release_date: DateTime<Utc>,
    pub required: bool,
    pub minimum_version: Option<Version>,
    /// The oldest operating-system version the release runs on (Sparkle,
    /// electron-updater), e.g. `10.15`.
    pub minimum_system_version: Option<String>,
    pub metadata: BTreeMap<String, String>,
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

    /// Whether a feed (a list the client chooses from) may carry this release
    /// for a client of `app`: not yanked, not paused or at 0 %, a pre-release
    /// only when allowed, within the application's `max_version`, and, when
    /// the client says what it runs, its `minimum_version` met. Rollout
    /// admission per install is the protocol's business.
    pub fn listable(
        &self,
        app: &Application,
        allow_prerelease: bool,
        current: Option<&Version>,
    ) -> bool {
        !self.yanked
            && !self.rollout.paused
            && self.rollout.percentage > 0
            && (allow_prerelease || app.config.allow_prerelease || !self.is_prerelease())
            && app
                .config
                .max_version
                .as_ref()
                .is_none_or(|max| self.version() <= max)
            && current.is_none_or(|c| self.minimum_version.as_ref().is_none_or(|min| c >= min))
    }

    /// The file the single-file `/api/v1` form shows.
    pub fn primary_file(&self) -> &Artifact {
        &self.files[0]
    }

    /// The primary file's checksum as the single-file form reports it:
    /// SHA-256 when known, else SHA-512.
    pub fn primary_checksum(&self) -> (&str, ChecksumType) {
        let file = self.primary_file();
        match (&file.sha256, &file.sha512) {
            (Some(sha256), _) => (sha256, ChecksumType::Sha256),
            (None, Some(sha512)) => (sha512, ChecksumType::Sha512),
            (None, None) => ("", ChecksumType::Sha256),
        }
    }

    /// The first file of one of `kinds`, in the order of `kinds`.
    pub fn file_of(&self, kinds: &[ArtifactKind]) -> Option<&Artifact> {
        kinds
            .iter()
            .find_map(|kind| self.files.iter().find(|f| f.kind == *kind))
    }
}
