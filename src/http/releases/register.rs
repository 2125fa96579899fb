//! `POST /api/v1/updates/{app_id}/register`: the request as the client
//! writes it; the rules are [`crate::domain::register`].

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{target_application, verify_files};
use crate::domain::register::{FileDraft, ReleaseDraft, build_release, file_field};
use crate::http::AppState;
use crate::http::auth::{Authorized, PublishAccess};
use crate::http::body::{Fields, FromBody, JsonBody};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::limits::RequestBudget;
use crate::registry::WriteError;

#[derive(utoipa::ToSchema)]
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
#[derive(utoipa::ToSchema)]
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

impl FromBody for RegisterReleaseRequest {
    fn from_body(fields: &mut Fields<'_>) -> Self {
        Self {
            application_id: fields.optional("application_id"),
            version: fields.required("version"),
            platform: fields.required("platform"),
            architecture: fields.required("architecture"),
            channel: fields.optional("channel"),
            download_url: fields.optional("download_url"),
            checksum: fields.optional("checksum"),
            checksum_type: fields.optional("checksum_type"),
            file_size: fields.optional("file_size"),
            signature: fields.optional("signature"),
            files: fields.objects("files"),
            release_notes: fields.optional("release_notes"),
            release_date: fields.optional("release_date"),
            required: fields.optional("required").unwrap_or_default(),
            minimum_version: fields.optional("minimum_version"),
            minimum_system_version: fields.optional("minimum_system_version"),
            metadata: fields.optional("metadata"),
            rollout_percentage: rollout_percentage(fields),
        }
    }
}

/// Read as any non-negative integer, so one above 100 gets the rule's
/// message (`must be between 0 and 100`) rather than a type error.
pub(super) fn rollout_percentage(fields: &mut Fields<'_>) -> Option<u8> {
    let percentage: Option<u64> = fields.optional("rollout_percentage");
    percentage.map(|p| u8::try_from(p).unwrap_or(u8::MAX))
}

impl FromBody for FileRequest {
    fn from_body(fields: &mut Fields<'_>) -> Self {
        Self {
            kind: fields.optional("kind"),
            url: fields.required("url"),
            size: fields.required("size"),
            sha256: fields.optional("sha256"),
            sha512: fields.optional("sha512"),
            sha1: fields.optional("sha1"),
            signature: fields.optional("signature"),
            ed_signature: fields.optional("ed_signature"),
            blockmap_url: fields.optional("blockmap_url"),
            blockmap_size: fields.optional("blockmap_size"),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RegisterReleaseResponse {
    id: String,
    message: String,
    created_at: DateTime<Utc>,
    /// Whether the files were downloaded and checked (`verify_on_register`).
    verified: bool,
}

impl From<RegisterReleaseRequest> for ReleaseDraft {
    fn from(body: RegisterReleaseRequest) -> Self {
        Self {
            application_id: body.application_id,
            version: body.version,
            platform: body.platform,
            architecture: body.architecture,
            channel: body.channel,
            download_url: body.download_url,
            checksum: body.checksum,
            checksum_type: body.checksum_type,
            file_size: body.file_size,
            signature: body.signature,
            files: body
                .files
                .map(|files| files.into_iter().map(FileDraft::from).collect()),
            release_notes: body.release_notes,
            release_date: body.release_date,
            required: body.required,
            minimum_version: body.minimum_version,
            minimum_system_version: body.minimum_system_version,
            metadata: body.metadata,
            rollout_percentage: body.rollout_percentage,
        }
    }
}

impl From<FileRequest> for FileDraft {
    fn from(file: FileRequest) -> Self {
        Self {
            kind: file.kind,
            url: file.url,
            size: file.size,
            sha256: file.sha256,
            sha512: file.sha512,
            sha1: file.sha1,
            signature: file.signature,
            ed_signature: file.ed_signature,
            blockmap_url: file.blockmap_url,
            blockmap_size: file.blockmap_size,
        }
    }
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
        (status = 403, description = "Key lacks publish permission or is not allowed for this application", body = ErrorBody),
        (status = 404, description = "Unknown application", body = ErrorBody),
        (status = 409, description = "This release already exists", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody)))]
pub(super) async fn register_release(
    Authorized(caller, _): Authorized<PublishAccess>,
    State(state): State<AppState>,
    budget: Option<Extension<RequestBudget>>,
    Path(app_id): Path<String>,
    body: JsonBody<RegisterReleaseRequest>,
) -> Result<(StatusCode, Json<RegisterReleaseResponse>), ApiError> {
    let app = target_application(&state, &caller, &app_id)?;
    let single = body.get().is_none_or(|b| b.files.is_none());
    let allow_http = state.settings.security.allow_http_download_urls;
    let release = body
        .check(|body| build_release(&app, body.into(), allow_http))
        .map_err(ApiError::validation)?;
    if state.registry.read(|c| c.has_version_twin(&release.key)) {
        return Err(WriteError::ReleaseExists(release.key).into());
    }
    let verified = app.config.verify_on_register;
    if verified {
        let verification = verify_files(
            &state,
            &app,
            std::slice::from_ref(&release),
            caller.name(),
            |problem| file_field(single, problem.file, problem.field),
        );
        match budget {
            Some(Extension(budget)) => budget.excluding(verification).await?,
            None => verification.await?,
        }
    }
    let id = release.id();
    let version = release.version().to_string();
    let created_at = release.created_at;
    let (platform, architecture) = (
        release.key.platform.clone(),
        release.key.architecture.clone(),
    );
    state.registry.add_release(&caller.origin, release).await?;
    tracing::info!(event = "security_audit", action = "release_registered", %app_id, %version, %platform, %architecture, key_name = %caller.name());
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
