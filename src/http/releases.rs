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
use crate::app::AppState;
use crate::domain::validate::{
    FieldErrors, MAX_SIGNATURE_LEN, MAX_TEXT_LEN, check_checksum, check_download_url,
    check_metadata, check_text,
};
use crate::domain::{
    ChecksumType, Release, ReleaseFilter, ReleaseKey, ReleaseSortField, Rollout,
    normalize_platform, parse_architecture, parse_channel, parse_platform, parse_version,
};
use crate::registry::WriteError;

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
        Self {
            id: r.id(),
            application_id: r.key.application_id.clone(),
            version: r.version().to_string(),
            platform: r.key.platform.clone(),
            architecture: r.key.architecture.clone(),
            channel: r.channel.clone(),
            prerelease: r.is_prerelease(),
            download_url: r.download_url.clone(),
            checksum: r.checksum.clone(),
            checksum_type: r.checksum_type.as_str(),
            file_size: r.file_size,
            release_notes: r.release_notes.clone(),
            release_date: r.release_date,
            required: r.required,
            minimum_version: r.minimum_version.as_ref().map(ToString::to_string),
            metadata: r.metadata.clone(),
            signature: r.signature.clone(),
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
    /// `https` URL (plain `http` only for loopback hosts unless allowed by config).
    download_url: String,
    checksum: String,
    /// `sha256` (default) or `sha512`.
    checksum_type: Option<String>,
    file_size: u64,
    release_notes: Option<String>,
    /// Default: now.
    release_date: Option<DateTime<Utc>>,
    #[serde(default)]
    required: bool,
    /// Clients below this version are not offered this release.
    minimum_version: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
    /// Stored verbatim (e.g. a minisign or Ed25519 signature).
    signature: Option<String>,
    /// Staged rollout: share of installs offered the release (0-100, default 100).
    rollout_percentage: Option<u8>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RegisterReleaseResponse {
    id: String,
    message: String,
    created_at: DateTime<Utc>,
}

/// Sizes up to 2^63 - 1 bytes: what every store can hold as a signed 64-bit integer.
const MAX_FILE_SIZE: u64 = i64::MAX as u64;

fn build_release(
    state: &AppState,
    app_id: &str,
    body: RegisterReleaseRequest,
) -> Result<Release, ApiError> {
    let listed_platforms = state
        .registry
        .read(|c| c.application(app_id).map(|a| a.platforms.clone()))
        .ok_or_else(|| ApiError::application_not_found(app_id))?;
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
    if body.file_size > MAX_FILE_SIZE {
        errors.add(
            "file_size",
            format!("must be at most {MAX_FILE_SIZE} bytes"),
        );
    }
    let allow_http = state.settings.security.allow_http_download_urls;
    if let Err(e) = check_download_url(&body.download_url, allow_http) {
        errors.add("download_url", e);
    }
    let checksum_type = match body.checksum_type.as_deref() {
        None => Some(ChecksumType::Sha256),
        Some(t) => ChecksumType::parse(t),
    };
    let checksum = match checksum_type {
        None => {
            errors.add("checksum_type", "must be sha256 or sha512");
            None
        }
        Some(kind) => check_checksum(&body.checksum, kind)
            .map_err(|e| errors.add("checksum", e))
            .ok(),
    };
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
    let metadata = body.metadata.unwrap_or_default();
    if let Err(e) = check_metadata(&metadata) {
        errors.add("metadata", e);
    }
    if let Some(signature) = &body.signature {
        if signature.is_empty() {
            errors.add("signature", "must not be empty when given");
        } else if let Err(e) = check_text(signature, MAX_SIGNATURE_LEN, true) {
            errors.add("signature", e);
        }
    }
    if let Some(platform) = normalize_platform(&body.platform)
        && !listed_platforms.iter().any(|p| p == platform)
    {
        errors.add(
            "platform",
            format!(
                "application '{app_id}' does not list platform '{platform}' (it lists: {})",
                listed_platforms.join(", ")
            ),
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let (Some(version), Some(target), Some(checksum_type), Some(checksum)) =
        (version, target, checksum_type, checksum)
    else {
        unreachable!("every missing part added a field error");
    };
    let now = crate::domain::now();
    Ok(Release {
        key: ReleaseKey {
            application_id: app_id.to_string(),
            version,
            platform: target.platform.to_string(),
            architecture: target.architecture.to_string(),
        },
        channel: target.channel,
        download_url: body.download_url,
        checksum,
        checksum_type,
        file_size: body.file_size,
        release_notes: notes,
        release_date: body.release_date.map_or(now, |d| d.trunc_subsecs(6)),
        required: body.required,
        minimum_version,
        metadata,
        signature: body.signature,
        created_at: now,
        rollout: Rollout {
            percentage: rollout_percentage,
            paused: false,
        },
        yanked: false,
        yank_reason: String::new(),
    })
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
    let release = build_release(&state, &app_id, body)?;
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
                "release '{id}' already exists; releases are immutable (delete it first to replace it)"
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
