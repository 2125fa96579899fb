//! Releases: listing (read), registering and publishing (write), and deleting or changing
//! rollout and yank state (admin), one file per action.

mod list;
mod manage;
mod publish;
mod register;

pub use publish::PublishResponse;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::extract::valid_app_id;
use crate::domain::signing::SigningKeys;
use crate::domain::validate::FieldErrors;
use crate::domain::{
    Application, Artifact, ArtifactKind, Release, ReleaseKey, parse_architecture, parse_platform,
    parse_version,
};
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::verify::Problem;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list::list_releases))
        .routes(routes!(register::register_release))
        .routes(routes!(publish::publish_releases))
        .routes(routes!(manage::delete_release, manage::update_release))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReleaseInfo {
    /// `<app>-<version>-<platform>-<arch>`
    id: String,
    application_id: String,
    version: String,
    platform: String,
    architecture: String,
    channel: String,
    prerelease: bool,
    download_url: String,
    checksum: String,
    checksum_type: &'static str,
    file_size: u64,
    release_notes: String,
    release_date: DateTime<Utc>,
    required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    minimum_version: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    metadata: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
    /// Every file of the release; the single-file fields above repeat the first.
    files: Vec<FileView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    minimum_system_version: Option<String>,
    created_at: DateTime<Utc>,
    /// Share of installs offered this release (0-100).
    rollout_percentage: u8,
    rollout_paused: bool,
    yanked: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    yank_reason: String,
}

impl From<&Release> for ReleaseInfo {
    fn from(r: &Release) -> Self {
        let (checksum, checksum_type) = r.primary_checksum();
        let primary = r.primary_file();
        Self {
            id: r.id(),
            application_id: r.key.application_id.clone(),
            version: r.version().to_string(),
            platform: r.key.platform.clone(),
            architecture: r.key.architecture.clone(),
            channel: r.channel.clone(),
            prerelease: r.is_prerelease(),
            download_url: primary.url.clone(),
            checksum: checksum.to_string(),
            checksum_type: checksum_type.as_str(),
            file_size: primary.size,
            release_notes: r.release_notes.clone(),
            release_date: r.release_date,
            required: r.required,
            minimum_version: r.minimum_version.as_ref().map(ToString::to_string),
            metadata: r.metadata.clone(),
            signature: primary.signature.clone(),
            files: r.files.iter().map(FileView::from).collect(),
            minimum_system_version: r.minimum_system_version.clone(),
            created_at: r.created_at,
            rollout_percentage: r.rollout.percentage,
            rollout_paused: r.rollout.paused,
            yanked: r.yanked,
            yank_reason: r.yank_reason.clone(),
        }
    }
}

/// One downloadable file of a release.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Artifact)]
pub struct FileView {
    kind: FileKindView,
    url: String,
    size: u64,
    /// Lowercase hex digests; at least one of SHA-256 and SHA-512 is present.
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha512: Option<String>,
    /// Squirrel.Windows `RELEASES` lines need SHA-1.
    #[serde(skip_serializing_if = "Option::is_none")]
    sha1: Option<String>,
    /// A minisign signature (Tauri, cargo-packager), stored verbatim as
    /// published: the `.sig` file's content.
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
    /// A Sparkle EdDSA (Ed25519) signature, base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    ed_signature: Option<String>,
    /// electron-updater differential downloads.
    #[serde(skip_serializing_if = "Option::is_none")]
    blockmap_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blockmap_size: Option<u64>,
}

impl From<&Artifact> for FileView {
    fn from(file: &Artifact) -> Self {
        Self {
            kind: file.kind.into(),
            url: file.url.clone(),
            size: file.size,
            sha256: file.sha256.clone(),
            sha512: file.sha512.clone(),
            sha1: file.sha1.clone(),
            signature: file.signature.clone(),
            ed_signature: file.ed_signature.clone(),
            blockmap_url: file.blockmap_url.clone(),
            blockmap_size: file.blockmap_size,
        }
    }
}

/// Installer and package kinds the client protocols know.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ArtifactKind)]
#[serde(rename_all = "snake_case")]
pub enum FileKindView {
    Appimage,
    Deb,
    Rpm,
    /// A macOS `.app` bundle archive (`.app.tar.gz`), as Tauri ships it.
    App,
    Dmg,
    Msi,
    /// An NSIS installer (`-setup.exe`).
    Nsis,
    /// A full NuGet package (Squirrel.Windows, Velopack).
    Nupkg,
    /// A delta NuGet package (Squirrel.Windows, Velopack).
    NupkgDelta,
    Zip,
    /// A file registered through the single-file `/api/v1` form whose kind
    /// cannot be told from its URL.
    Other,
}

impl From<ArtifactKind> for FileKindView {
    fn from(kind: ArtifactKind) -> Self {
        match kind {
            ArtifactKind::Appimage => Self::Appimage,
            ArtifactKind::Deb => Self::Deb,
            ArtifactKind::Rpm => Self::Rpm,
            ArtifactKind::App => Self::App,
            ArtifactKind::Dmg => Self::Dmg,
            ArtifactKind::Msi => Self::Msi,
            ArtifactKind::Nsis => Self::Nsis,
            ArtifactKind::Nupkg => Self::Nupkg,
            ArtifactKind::NupkgDelta => Self::NupkgDelta,
            ArtifactKind::Zip => Self::Zip,
            ArtifactKind::Other => Self::Other,
        }
    }
}

/// The application a release is written to: a valid id, within the key's
/// scope (checked before existence, so a scoped key learns nothing), known.
fn target_application(
    state: &AppState,
    caller: &Caller,
    app_id: &str,
) -> Result<Application, ApiError> {
    valid_app_id(app_id, "app_id")?;
    caller.check_application(state, app_id)?;
    state
        .registry
        .read(|c| c.application(app_id).cloned())
        .ok_or_else(|| ApiError::application_not_found(app_id))
}

/// Downloads and checks `releases`' files (`verify_on_register`). Problems
/// are a 422 with one error per file field, named by `field` in the
/// request's own terms, and a `security_audit` line naming the key.
async fn verify_files(
    state: &AppState,
    app: &Application,
    releases: &[Release],
    key_name: &str,
    field: impl Fn(&Problem) -> String,
) -> Result<(), ApiError> {
    let problems = state
        .downloader
        .verify(releases, &SigningKeys::of(&app.config))
        .await;
    if problems.is_empty() {
        return Ok(());
    }
    let mut errors = FieldErrors::default();
    for problem in problems {
        errors.add(field(&problem), problem.message);
    }
    tracing::warn!(event = "security_audit", action = "release_verification_failed", app_id = %app.id, version = %releases[0].version(), %key_name);
    Err(ApiError::validation(errors))
}

/// The release named by a path, with platform and architecture aliases accepted.
pub(in crate::http) fn release_key(
    app_id: String,
    version: &str,
    platform: &str,
    arch: &str,
) -> Result<ReleaseKey, ApiError> {
    valid_app_id(&app_id, "app_id")?;
    let mut errors = FieldErrors::default();
    let version = parse_version(version)
        .map_err(|e| errors.add("version", e))
        .ok();
    let platform = parse_platform(platform)
        .map_err(|e| errors.add("platform", e))
        .ok();
    let architecture = parse_architecture(arch)
        .map_err(|e| errors.add("arch", e))
        .ok();
    let (Some(version), Some(platform), Some(architecture)) = (version, platform, architecture)
    else {
        return Err(ApiError::validation(errors));
    };
    Ok(ReleaseKey {
        application_id: app_id,
        version,
        platform: platform.to_string(),
        architecture: architecture.to_string(),
    })
}
