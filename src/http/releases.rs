//! Listing, registering and deleting releases.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{AdminAccess, Authorized, ReadAccess, WriteAccess};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery, parse_target, valid_app_id};
use super::pagination::{PageInfo, Paging};
use crate::domain::signing::{EdSignature, MinisignSignature, SparklePublicKey, TauriPublicKey};
use crate::domain::validate::{
    FieldErrors, MAX_SIGNATURE_LEN, MAX_TEXT_LEN, check_checksum, check_download_url,
    check_metadata, check_sha1, check_sha512, check_text,
};
use crate::domain::{
    Application, ApplicationConfig, Artifact, ArtifactKind, ChecksumType, Release, ReleaseFilter,
    ReleaseKey, ReleaseSortField, Rollout, normalize_platform, parse_architecture, parse_channel,
    parse_platform, parse_version,
};
use crate::http::AppState;
use crate::registry::WriteError;
use crate::verify::SigningKeys;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_releases))
        .routes(routes!(register_release))
        .routes(routes!(delete_release, update_release))
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
    files: Vec<Artifact>,
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
            files: r.files.clone(),
            minimum_system_version: r.minimum_system_version.clone(),
            created_at: r.created_at,
            rollout_percentage: r.rollout.percentage,
            rollout_paused: r.rollout.paused,
            yanked: r.yanked,
            yank_reason: r.yank_reason.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    Version,
    #[default]
    ReleaseDate,
    Platform,
    Architecture,
    CreatedAt,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListReleasesParams {
    platform: Option<String>,
    /// Comma-separated platforms.
    platforms: Option<String>,
    architecture: Option<String>,
    channel: Option<String>,
    /// Exact version.
    version: Option<String>,
    required: Option<bool>,
    #[serde(default)]
    sort_by: SortBy,
    #[serde(default)]
    sort_order: SortOrder,
    /// 1 to 1000, default 50.
    limit: Option<u64>,
    /// Default 0.
    offset: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ListReleasesResponse {
    releases: Vec<ReleaseInfo>,
    #[serde(flatten)]
    page: PageInfo,
}

fn release_filter(params: &ListReleasesParams) -> Result<ReleaseFilter, ApiError> {
    let mut errors = FieldErrors::default();
    let mut filter = ReleaseFilter::default();
    let mut platforms: Vec<&str> = params.platform.iter().map(String::as_str).collect();
    if let Some(list) = &params.platforms {
        platforms.extend(list.split(',').map(str::trim).filter(|p| !p.is_empty()));
    }
    for platform in platforms {
        match parse_platform(platform) {
            Ok(p) => filter.platforms.push(p.to_string()),
            Err(e) => errors.add("platform", e),
        }
    }
    if let Some(arch) = &params.architecture {
        match parse_architecture(arch) {
            Ok(a) => filter.architecture = Some(a.to_string()),
            Err(e) => errors.add("architecture", e),
        }
    }
    if let Some(channel) = &params.channel {
        match parse_channel(channel) {
            Ok(c) => filter.channel = Some(c),
            Err(e) => errors.add("channel", e),
        }
    }
    if let Some(version) = &params.version {
        match parse_version(version) {
            Ok(v) => filter.version = Some(v),
            Err(e) => errors.add("version", e),
        }
    }
    filter.required = params.required;
    errors.into_result(filter).map_err(ApiError::validation)
}

/// Lists an application's releases with filters, sorting and pagination.
#[utoipa::path(get, path = "/api/v1/updates/{app_id}/releases", tag = "releases",
    params(("app_id" = String, Path, description = "Application id"), ListReleasesParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of releases", body = ListReleasesResponse),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 404, description = "Unknown application", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody)))]
async fn list_releases(
    _auth: Authorized<ReadAccess>,
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    ApiQuery(params): ApiQuery<ListReleasesParams>,
) -> Result<Json<ListReleasesResponse>, ApiError> {
    valid_app_id(&app_id, "app_id")?;
    let paging = Paging::from_params(params.limit, params.offset)?;
    let filter = release_filter(&params)?;
    let sort = match params.sort_by {
        SortBy::Version => ReleaseSortField::Version,
        SortBy::ReleaseDate => ReleaseSortField::ReleaseDate,
        SortBy::Platform => ReleaseSortField::Platform,
        SortBy::Architecture => ReleaseSortField::Architecture,
        SortBy::CreatedAt => ReleaseSortField::CreatedAt,
    };
    let descending = matches!(params.sort_order, SortOrder::Desc);
    let page = state
        .registry
        .read(|c| {
            c.releases(
                &app_id,
                &filter,
                sort,
                descending,
                paging.offset,
                paging.limit,
            )
        })
        .ok_or_else(|| ApiError::application_not_found(&app_id))?;
    Ok(Json(ListReleasesResponse {
        page: paging.info(page.total),
        releases: page
            .items
            .iter()
            .map(|r| ReleaseInfo::from(r.as_ref()))
            .collect(),
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterReleaseRequest {
    /// Optional; must match the path when given.
    application_id: Option<String>,
    version: String,
    platform: String,
    architecture: String,
    /// Default `stable`.
    channel: Option<String>,
    /// The single-file form: `https` URL (plain `http` only for loopback
    /// hosts unless allowed by config). Give either this with `checksum` and
    /// `file_size`, or `files`.
    download_url: Option<String>,
    checksum: Option<String>,
    /// `sha256` (default) or `sha512`.
    checksum_type: Option<String>,
    file_size: Option<u64>,
    /// The single-file form's signature, stored verbatim (a minisign `.sig`).
    signature: Option<String>,
    /// The release's files, one per installer kind (at most 32).
    files: Option<Vec<FileRequest>>,
    release_notes: Option<String>,
    /// Default: now.
    release_date: Option<DateTime<Utc>>,
    #[serde(default)]
    required: bool,
    /// Clients below this version are not offered this release.
    minimum_version: Option<String>,
    /// The oldest OS version the release runs on (Sparkle, electron-updater), e.g. `10.15`.
    minimum_system_version: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
    /// Staged rollout: share of installs offered the release (0-100, default 100).
    rollout_percentage: Option<u8>,
}

/// One file of a release.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileRequest {
    /// `appimage`, `deb`, `rpm`, `app`, `dmg`, `msi`, `nsis`, `nupkg`,
    /// `nupkg_delta` or `zip`; default: told from the URL's file name.
    kind: Option<String>,
    url: String,
    size: u64,
    /// Hex.
    sha256: Option<String>,
    /// Hex or base64 (as electron-builder writes it).
    sha512: Option<String>,
    /// Hex; needed for Squirrel.Windows `RELEASES`.
    sha1: Option<String>,
    /// Minisign signature: the `.sig` file's content, stored verbatim.
    signature: Option<String>,
    /// Sparkle EdDSA signature (base64).
    ed_signature: Option<String>,
    blockmap_url: Option<String>,
    blockmap_size: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RegisterReleaseResponse {
    id: String,
    message: String,
    created_at: DateTime<Utc>,
    /// Whether the files were downloaded and checked (`verify_on_register`).
    verified: bool,
}

/// Sizes up to 2^63 - 1 bytes: what every store can hold as a signed 64-bit integer.
const MAX_FILE_SIZE: u64 = i64::MAX as u64;
const MAX_FILES: usize = 32;

/// The single-file form as a one-element file list.
fn single_file(body: &mut RegisterReleaseRequest, errors: &mut FieldErrors) -> Vec<FileRequest> {
    let (Some(url), Some(checksum), Some(size)) = (
        body.download_url.take(),
        body.checksum.take(),
        body.file_size.take(),
    ) else {
        for (field, missing) in [
            ("download_url", body.download_url.is_none()),
            ("checksum", body.checksum.is_none()),
            ("file_size", body.file_size.is_none()),
        ] {
            if missing {
                errors.add(field, "is required unless `files` is given");
            }
        }
        return Vec::new();
    };
    let (sha256, sha512) = match body.checksum_type.as_deref().map(ChecksumType::parse) {
        None | Some(Some(ChecksumType::Sha256)) => (Some(checksum), None),
        Some(Some(ChecksumType::Sha512)) => (None, Some(checksum)),
        Some(None) => {
            errors.add("checksum_type", "must be sha256 or sha512");
            return Vec::new();
        }
    };
    vec![FileRequest {
        kind: Some(
            ArtifactKind::from_url(&url)
                .unwrap_or(ArtifactKind::Other)
                .as_str()
                .to_string(),
        ),
        url,
        size,
        sha256,
        sha512,
        sha1: None,
        signature: body.signature.take(),
        ed_signature: None,
        blockmap_url: None,
        blockmap_size: None,
    }]
}

fn build_file(
    index: usize,
    file: FileRequest,
    allow_http: bool,
    single: bool,
    errors: &mut FieldErrors,
) -> Option<Artifact> {
    let name = |field: &str| file_field(single, index, field);
    let kind = match file.kind.as_deref() {
        Some(k) => ArtifactKind::parse(k).filter(|k| single || *k != ArtifactKind::Other),
        None => ArtifactKind::from_url(&file.url),
    };
    if kind.is_none() {
        let known: Vec<&str> = ArtifactKind::ALL[..ArtifactKind::ALL.len() - 1]
            .iter()
            .map(|k| k.as_str())
            .collect();
        let message = match &file.kind {
            Some(_) => format!("must be one of {}", known.join(", ")),
            None => format!(
                "cannot be told from the URL's file name; give one of {}",
                known.join(", ")
            ),
        };
        errors.add(name("kind"), message);
    }
    if let Err(e) = check_download_url(&file.url, allow_http) {
        errors.add(name("url"), e);
    }
    if file.size > MAX_FILE_SIZE {
        errors.add(
            name("size"),
            format!("must be at most {MAX_FILE_SIZE} bytes"),
        );
    }
    let sha256 = file
        .sha256
        .as_deref()
        .map(|c| check_checksum(c, ChecksumType::Sha256))
        .transpose()
        .map_err(|e| errors.add(name("sha256"), e))
        .ok()
        .flatten();
    let sha512 = file
        .sha512
        .as_deref()
        .map(check_sha512)
        .transpose()
        .map_err(|e| errors.add(name("sha512"), e))
        .ok()
        .flatten();
    let sha1 = file
        .sha1
        .as_deref()
        .map(check_sha1)
        .transpose()
        .map_err(|e| errors.add(name("sha1"), e))
        .ok()
        .flatten();
    if file.sha256.is_none() && file.sha512.is_none() {
        errors.add(name("sha256"), "give sha256, sha512 or both");
    }
    for (field, value) in [
        ("signature", &file.signature),
        ("ed_signature", &file.ed_signature),
    ] {
        match value {
            Some(v) if v.trim().is_empty() => {
                errors.add(name(field), "must not be empty when given")
            }
            Some(v) => {
                if let Err(e) = check_text(v, MAX_SIGNATURE_LEN, true) {
                    errors.add(name(field), e);
                }
            }
            None => {}
        }
    }
    if let Some(url) = &file.blockmap_url
        && let Err(e) = check_download_url(url, allow_http)
    {
        errors.add(name("blockmap_url"), e);
    }
    if file.blockmap_size.is_some() && file.blockmap_url.is_none() {
        errors.add(name("blockmap_size"), "needs blockmap_url");
    }
    Some(Artifact {
        kind: kind?,
        url: file.url,
        size: file.size,
        sha256,
        sha512,
        sha1,
        signature: file.signature,
        ed_signature: file.ed_signature,
        blockmap_url: file.blockmap_url,
        blockmap_size: file.blockmap_size,
    })
}

/// Kinds a Tauri or cargo-packager client installs, so they must be signed
/// when the application has a Tauri key.
const TAURI_KINDS: [ArtifactKind; 6] = [
    ArtifactKind::Appimage,
    ArtifactKind::App,
    ArtifactKind::Msi,
    ArtifactKind::Nsis,
    ArtifactKind::Deb,
    ArtifactKind::Rpm,
];
/// Kinds Sparkle installs on macOS.
const SPARKLE_KINDS: [ArtifactKind; 3] = [ArtifactKind::Zip, ArtifactKind::Dmg, ArtifactKind::App];

/// Checks signatures against the application's keys as far as possible
/// without the file: presence, key id, algorithm and signed version.
fn check_signatures(release: &Release, keys: &SigningKeys, single: bool, errors: &mut FieldErrors) {
    for (index, file) in release.files.iter().enumerate() {
        let field = |name: &str| file_field(single, index, name);
        if let Some(key) = &keys.tauri {
            match &file.signature {
                Some(sig) => {
                    let checked = MinisignSignature::parse(sig)
                        .and_then(|s| s.check_against(key, release.version()));
                    if let Err(e) = checked {
                        errors.add(field("signature"), e);
                    }
                }
                None if TAURI_KINDS.contains(&file.kind) => errors.add(
                    field("signature"),
                    "is required: the application has a tauri_public_key and Tauri clients refuse unsigned updates",
                ),
                None => {}
            }
        }
        if let Some(sig) = &file.ed_signature
            && let Err(e) = EdSignature::parse(sig)
        {
            errors.add(field("ed_signature"), e);
        }
        if keys.sparkle.is_some()
            && release.key.platform == "darwin"
            && SPARKLE_KINDS.contains(&file.kind)
            && file.ed_signature.is_none()
        {
            errors.add(
                field("ed_signature"),
                "is required: the application has a sparkle_public_key and Sparkle refuses unsigned updates",
            );
        }
    }
}

/// The application's keys, parsed (they were validated when stored).
fn signing_keys(config: &ApplicationConfig) -> SigningKeys {
    SigningKeys {
        tauri: config
            .tauri_public_key
            .as_deref()
            .and_then(|k| TauriPublicKey::parse(k).ok()),
        sparkle: config
            .sparkle_public_key
            .as_deref()
            .and_then(|k| SparklePublicKey::parse(k).ok()),
    }
}

fn build_release(
    state: &AppState,
    app: &Application,
    mut body: RegisterReleaseRequest,
) -> Result<Release, ApiError> {
    let app_id = app.id.as_str();
    let mut errors = FieldErrors::default();
    if body
        .application_id
        .as_deref()
        .is_some_and(|id| id != app_id)
    {
        errors.add(
            "application_id",
            "does not match the application in the path",
        );
    }
    let version = parse_version(&body.version)
        .map_err(|e| errors.add("version", e))
        .ok();
    let target = parse_target(
        &body.platform,
        &body.architecture,
        body.channel.as_deref(),
        &mut errors,
    );
    let rollout_percentage = body.rollout_percentage.unwrap_or(100);
    if rollout_percentage > 100 {
        errors.add("rollout_percentage", "must be between 0 and 100");
    }
    let allow_http = state.settings.security.allow_http_download_urls;
    let single = body.files.is_none();
    let requested = match body.files.take() {
        Some(files) => {
            let single_fields = [
                ("download_url", body.download_url.is_some()),
                ("checksum", body.checksum.is_some()),
                ("checksum_type", body.checksum_type.is_some()),
                ("file_size", body.file_size.is_some()),
                ("signature", body.signature.is_some()),
            ];
            for (field, given) in single_fields {
                if given {
                    errors.add(
                        field,
                        "give either `files` or the single-file fields, not both",
                    );
                }
            }
            if files.is_empty() {
                errors.add("files", "must list at least one file");
            }
            if files.len() > MAX_FILES {
                errors.add("files", format!("must list at most {MAX_FILES} files"));
            }
            files
        }
        None => single_file(&mut body, &mut errors),
    };
    let built: Vec<Option<Artifact>> = requested
        .into_iter()
        .take(MAX_FILES)
        .enumerate()
        .map(|(i, f)| build_file(i, f, allow_http, single, &mut errors))
        .collect();
    for (index, file) in built.iter().enumerate() {
        let Some(file) = file else { continue };
        if built[..index].iter().flatten().any(|f| f.kind == file.kind) {
            errors.add(
                file_field(single, index, "kind"),
                format!(
                    "`{}` is listed twice; a release has one file per kind",
                    file.kind.as_str()
                ),
            );
        }
    }
    let files: Vec<Artifact> = built.into_iter().flatten().collect();
    let notes = body.release_notes.unwrap_or_default();
    if let Err(e) = check_text(&notes, MAX_TEXT_LEN, true) {
        errors.add("release_notes", e);
    }
    let minimum_version = match body
        .minimum_version
        .as_deref()
        .filter(|m| !m.trim().is_empty())
    {
        None => None,
        Some(m) => parse_version(m)
            .map_err(|e| errors.add("minimum_version", e))
            .ok(),
    };
    if let (Some(min), Some(v)) = (&minimum_version, &version)
        && min > v
    {
        errors.add(
            "minimum_version",
            "must not be greater than the release version",
        );
    }
    let minimum_system_version = body
        .minimum_system_version
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    if let Some(v) = &minimum_system_version {
        let valid = v.len() <= 32
            && v.split('.')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
        if !valid {
            errors.add(
                "minimum_system_version",
                "must be a dotted numeric version such as 10.15 or 10.0.17763",
            );
        }
    }
    let metadata = body.metadata.unwrap_or_default();
    if let Err(e) = check_metadata(&metadata) {
        errors.add("metadata", e);
    }
    if let Some(platform) = normalize_platform(&body.platform)
        && !app.platforms.iter().any(|p| p == platform)
    {
        errors.add(
            "platform",
            format!(
                "application '{app_id}' does not list platform '{platform}' (it lists: {})",
                app.platforms.join(", ")
            ),
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let (Some(version), Some(target)) = (version, target) else {
        unreachable!("every missing part added a field error");
    };
    let now = crate::domain::now();
    let release = Release {
        key: ReleaseKey {
            application_id: app_id.to_string(),
            version,
            platform: target.platform.to_string(),
            architecture: target.architecture.to_string(),
        },
        channel: target.channel,
        files,
        release_notes: notes,
        release_date: body.release_date.map_or(now, |d| d.trunc_subsecs(6)),
        required: body.required,
        minimum_version,
        minimum_system_version,
        metadata,
        created_at: now,
        rollout: Rollout {
            percentage: rollout_percentage,
            paused: false,
        },
        yanked: false,
        yank_reason: String::new(),
    };
    check_signatures(&release, &signing_keys(&app.config), single, &mut errors);
    errors.into_result(release).map_err(ApiError::validation)
}

/// Registers a release. An existing (application, version, platform,
/// architecture) is a 409; releases are never overwritten.
#[utoipa::path(post, path = "/api/v1/updates/{app_id}/register", tag = "releases",
    params(("app_id" = String, Path, description = "Application id")),
    request_body = RegisterReleaseRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered", body = RegisterReleaseResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks write permission", body = ErrorBody),
        (status = 404, description = "Unknown application", body = ErrorBody),
        (status = 409, description = "This release already exists", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody)))]
async fn register_release(
    Authorized(principal, _): Authorized<WriteAccess>,
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    ApiJson(body): ApiJson<RegisterReleaseRequest>,
) -> Result<(StatusCode, Json<RegisterReleaseResponse>), ApiError> {
    valid_app_id(&app_id, "app_id")?;
    let app = state
        .registry
        .read(|c| c.application(&app_id).cloned())
        .ok_or_else(|| ApiError::application_not_found(&app_id))?;
    let single = body.files.is_none();
    let release = build_release(&state, &app, body)?;
    if state.registry.read(|c| c.has_version_twin(&release.key)) {
        return Err(ApiError::conflict(format!(
            "release '{}' already exists (versions differing only in build metadata are the same release); releases are immutable (delete it first to replace it)",
            release.id()
        )));
    }
    let verified = app.config.verify_on_register;
    if verified {
        let problems = state
            .downloader
            .verify(&release, &signing_keys(&app.config))
            .await;
        if !problems.is_empty() {
            let mut errors = FieldErrors::default();
            for (index, field, message) in problems {
                errors.add(file_field(single, index, &field), message);
            }
            tracing::warn!(event = "security_audit", action = "release_verification_failed", %app_id, version = %release.version(), key_name = %principal.name);
            return Err(ApiError::validation(errors));
        }
    }
    let id = release.id();
    let version = release.version().to_string();
    let created_at = release.created_at;
    let (platform, architecture) = (
        release.key.platform.clone(),
        release.key.architecture.clone(),
    );
    match state.registry.add_release(release).await {
        Ok(()) => {}
        Err(WriteError::Conflict) => {
            return Err(ApiError::conflict(format!(
                "release '{id}' already exists (versions differing only in build metadata are the same release); releases are immutable (delete it first to replace it)"
            )));
        }
        Err(WriteError::ApplicationNotFound) => {
            return Err(ApiError::application_not_found(&app_id));
        }
        Err(other) => return Err(other.into()),
    }
    tracing::info!(event = "security_audit", action = "release_registered", %app_id, %version, %platform, %architecture, key_name = %principal.name);
    Ok((
        StatusCode::CREATED,
        Json(RegisterReleaseResponse {
            message: format!("Release {version} registered successfully"),
            id,
            created_at,
            verified,
        }),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeleteReleaseResponse {
    id: String,
    message: String,
}

/// Deletes one release. Platform and architecture aliases are accepted.
#[utoipa::path(delete, path = "/api/v1/updates/{app_id}/releases/{version}/{platform}/{arch}", tag = "releases",
    params(
        ("app_id" = String, Path, description = "Application id"),
        ("version" = String, Path, description = "Release version"),
        ("platform" = String, Path, description = "Platform"),
        ("arch" = String, Path, description = "Architecture")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Deleted", body = DeleteReleaseResponse),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks admin permission", body = ErrorBody),
        (status = 404, description = "No such release", body = ErrorBody),
        (status = 422, description = "Invalid path parameters", body = ErrorBody)))]
async fn delete_release(
    Authorized(principal, _): Authorized<AdminAccess>,
    State(state): State<AppState>,
    Path((app_id, version, platform, arch)): Path<(String, String, String, String)>,
) -> Result<Json<DeleteReleaseResponse>, ApiError> {
    let key = release_key(app_id, &version, &platform, &arch)?;
    let id = key.id();
    match state.registry.delete_release(&key).await {
        Ok(()) => {}
        Err(WriteError::ReleaseNotFound | WriteError::ApplicationNotFound) => {
            return Err(ApiError::not_found(format!("release '{id}' not found")));
        }
        Err(other) => return Err(other.into()),
    }
    tracing::info!(event = "security_audit", action = "release_deleted", app_id = %key.application_id, release = %id, key_name = %principal.name);
    Ok(Json(DeleteReleaseResponse {
        message: format!("Release '{id}' deleted successfully"),
        id,
    }))
}

/// The name a file field's error is reported under: `files[<index>].<field>`,
/// or, for the single-file form, its historical field names.
fn file_field(single: bool, index: usize, field: &str) -> String {
    if !single {
        return format!("files[{index}].{field}");
    }
    match field {
        "url" => "download_url",
        "size" => "file_size",
        "sha256" | "sha512" => "checksum",
        other => other,
    }
    .to_string()
}

/// The release named by a path, with platform and architecture aliases accepted.
fn release_key(
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateReleaseRequest {
    /// Raise or lower the share of installs offered the release (0-100).
    rollout_percentage: Option<u8>,
    /// `true` pauses the rollout (the release is offered to no one), `false` resumes it.
    rollout_paused: Option<bool>,
    /// `true` yanks the release: it is never offered again. `false` restores it.
    yanked: Option<bool>,
    /// Why it was yanked (shown to admins).
    yank_reason: Option<String>,
}

/// Changes a release's rollout or yank state. Its files and metadata stay immutable.
#[utoipa::path(patch, path = "/api/v1/updates/{app_id}/releases/{version}/{platform}/{arch}", tag = "releases",
    params(
        ("app_id" = String, Path, description = "Application id"),
        ("version" = String, Path, description = "Release version"),
        ("platform" = String, Path, description = "Platform"),
        ("arch" = String, Path, description = "Architecture")),
    request_body = UpdateReleaseRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The release after the change", body = ReleaseInfo),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks admin permission", body = ErrorBody),
        (status = 404, description = "No such release", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody)))]
async fn update_release(
    Authorized(principal, _): Authorized<AdminAccess>,
    State(state): State<AppState>,
    Path((app_id, version, platform, arch)): Path<(String, String, String, String)>,
    ApiJson(body): ApiJson<UpdateReleaseRequest>,
) -> Result<Json<ReleaseInfo>, ApiError> {
    let key = release_key(app_id, &version, &platform, &arch)?;
    let mut errors = FieldErrors::default();
    if body.rollout_percentage.is_none()
        && body.rollout_paused.is_none()
        && body.yanked.is_none()
        && body.yank_reason.is_none()
    {
        errors.add(
            "body",
            "give at least one of rollout_percentage, rollout_paused, yanked, yank_reason",
        );
    }
    if body.rollout_percentage.is_some_and(|p| p > 100) {
        errors.add("rollout_percentage", "must be between 0 and 100");
    }
    if let Some(reason) = &body.yank_reason
        && let Err(e) = check_text(reason, 1024, false)
    {
        errors.add("yank_reason", e);
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let id = key.id();
    let updated = state
        .registry
        .update_release(&key, |release| {
            if let Some(percentage) = body.rollout_percentage {
                release.rollout.percentage = percentage;
            }
            if let Some(paused) = body.rollout_paused {
                release.rollout.paused = paused;
            }
            if let Some(yanked) = body.yanked {
                release.yanked = yanked;
                if !yanked {
                    release.yank_reason.clear();
                }
            }
            if let Some(reason) = body.yank_reason {
                release.yank_reason = reason;
            }
        })
        .await
        .map_err(|e| match e {
            WriteError::ReleaseNotFound | WriteError::ApplicationNotFound => {
                ApiError::not_found(format!("release '{id}' not found"))
            }
            other => other.into(),
        })?;
    tracing::info!(
        event = "security_audit",
        action = "release_updated",
        release = %id,
        rollout_percentage = updated.rollout.percentage,
        rollout_paused = updated.rollout.paused,
        yanked = updated.yanked,
        key_name = %principal.name
    );
    Ok(Json(ReleaseInfo::from(&updated)))
}
