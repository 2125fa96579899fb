//! Public update checks and latest-version lookups, served from memory.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use semver::Version;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery, install_id, valid_app_id};
use super::usage::Checked;
use crate::domain::validate::FieldErrors;
use crate::domain::{Latest, Release, UpdateDecision, UpdateQuery, parse_target, parse_version};
use crate::http::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(check_by_query))
        .routes(routes!(check_by_body))
        .routes(routes!(latest_by_path))
        .routes(routes!(latest_by_query))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckParams {
    /// The version the client runs.
    current_version: String,
    /// `windows`, `linux`, `darwin` (or `macos`), `android`, `ios`.
    platform: String,
    /// `amd64` (or `x86_64`), `arm64` (or `aarch64`), `386` (or `i686`), `arm` (or `armv7`); on `darwin` also `universal` (universal builds only).
    architecture: String,
    /// Release channel; default `stable`.
    channel: Option<String>,
    #[serde(default)]
    allow_prerelease: bool,
    #[serde(default)]
    include_metadata: bool,
    /// The install's id for staged rollouts (also read from the `X-Install-Id`
    /// or `x-user-staging-id` header).
    install_id: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CheckRequest {
    application_id: String,
    current_version: String,
    platform: String,
    architecture: String,
    channel: Option<String>,
    #[serde(default)]
    allow_prerelease: bool,
    #[serde(default)]
    include_metadata: bool,
    /// The install's id for staged rollouts (also read from the `X-Install-Id`
    /// or `x-user-staging-id` header).
    install_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UpdateCheckResponse {
    update_available: bool,
    current_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    download_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    checksum: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    checksum_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    release_notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    release_date: Option<DateTime<Utc>>,
    required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    minimum_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LatestParams {
    platform: String,
    architecture: String,
    channel: Option<String>,
    #[serde(default)]
    allow_prerelease: bool,
    #[serde(default)]
    include_metadata: bool,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LatestQueryParams {
    /// The application id (`application_id` is accepted as well).
    app_id: Option<String>,
    application_id: Option<String>,
    platform: String,
    architecture: String,
    channel: Option<String>,
    #[serde(default)]
    allow_prerelease: bool,
    #[serde(default)]
    include_metadata: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LatestVersionResponse {
    version: String,
    download_url: String,
    checksum: String,
    checksum_type: &'static str,
    file_size: u64,
    release_notes: String,
    release_date: DateTime<Utc>,
    required: bool,
    channel: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    minimum_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<BTreeMap<String, String>>,
}

struct CheckInput<'a> {
    app_id: &'a str,
    current_version: &'a str,
    platform: &'a str,
    architecture: &'a str,
    channel: Option<&'a str>,
    allow_prerelease: bool,
    include_metadata: bool,
    install_id: Option<&'a str>,
}

fn check(state: &AppState, input: CheckInput<'_>) -> Result<UpdateCheckResponse, ApiError> {
    let mut errors = FieldErrors::default();
    let version = parse_version(input.current_version)
        .map_err(|e| errors.add("current_version", e))
        .ok();
    let target = parse_target(
        input.platform,
        input.architecture,
        input.channel,
        &mut errors,
    );
    let (Some(version), Some(target)) = (version, target) else {
        return Err(ApiError::validation(errors));
    };
    let query = UpdateQuery {
        current_version: &version,
        platform: target.platform,
        architecture: target.architecture,
        channel: &target.channel,
        allow_prerelease: input.allow_prerelease,
        install_id: input.install_id,
    };
    let Some(decision) = state.registry.read(|c| c.decide(input.app_id, &query)) else {
        metrics::counter!("updater_update_checks_total", "application" => "unknown", "outcome" => "unknown_application")
            .increment(1);
        return Err(ApiError::application_not_found(input.app_id));
    };
    let checked = Checked {
        app_id: input.app_id,
        channel: &target.channel,
        platform: target.platform,
        architecture: target.architecture,
        current: Some(&version),
        install_id: input.install_id,
    };
    match &decision {
        UpdateDecision::NoUpdate => checked.nothing(state, &query),
        UpdateDecision::Update { release, .. } => checked.offered(state, release.version(), false),
    }
    let outcome = match &decision {
        UpdateDecision::NoUpdate => "no_update",
        UpdateDecision::Update { required: true, .. } => "required_update",
        UpdateDecision::Update { .. } => "update_available",
    };
    metrics::counter!("updater_update_checks_total", "application" => input.app_id.to_string(), "outcome" => outcome)
        .increment(1);
    Ok(check_response(&version, decision, input.include_metadata))
}

fn check_response(
    current: &Version,
    decision: UpdateDecision,
    include_metadata: bool,
) -> UpdateCheckResponse {
    let mut response = UpdateCheckResponse {
        update_available: false,
        current_version: current.to_string(),
        latest_version: None,
        download_url: None,
        checksum: None,
        checksum_type: None,
        file_size: None,
        release_notes: None,
        release_date: None,
        required: false,
        minimum_version: None,
        signature: None,
        channel: None,
        metadata: None,
    };
    if let UpdateDecision::Update { release, required } = decision {
        let release: Arc<Release> = release;
        response.update_available = true;
        response.required = required;
        response.latest_version = Some(release.version().to_string());
        let (checksum, checksum_type) = release.primary_checksum();
        response.download_url = Some(release.primary_file().url.clone());
        response.checksum = Some(checksum.to_string());
        response.checksum_type = Some(checksum_type.as_str());
        response.file_size = Some(release.primary_file().size);
        response.release_notes = Some(release.release_notes.clone());
        response.release_date = Some(release.release_date);
        response.minimum_version = release.minimum_version.as_ref().map(ToString::to_string);
        response.signature = release.primary_file().signature.clone();
        response.channel = Some(release.channel.clone());
        response.metadata = include_metadata.then(|| release.metadata.clone());
    }
    response
}

/// Checks for an update (query form).
#[utoipa::path(get, path = "/api/v1/updates/{app_id}/check", tag = "updates",
    params(("app_id" = String, Path, description = "Application id"), CheckParams),
    responses(
        (status = 200, description = "The decision; `update_available: false` when there is nothing newer", body = UpdateCheckResponse),
        (status = 404, description = "Unknown application", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody)))]
async fn check_by_query(
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<CheckParams>,
) -> Result<Json<UpdateCheckResponse>, ApiError> {
    valid_app_id(&app_id, "app_id")?;
    let install_id = install_id(&headers, params.install_id.as_deref())?;
    check(
        &state,
        CheckInput {
            app_id: &app_id,
            current_version: &params.current_version,
            platform: &params.platform,
            architecture: &params.architecture,
            channel: params.channel.as_deref(),
            allow_prerelease: params.allow_prerelease,
            include_metadata: params.include_metadata,
            install_id: install_id.as_deref(),
        },
    )
    .map(Json)
}

/// Checks for an update (body form).
#[utoipa::path(post, path = "/api/v1/check", tag = "updates",
    request_body = CheckRequest,
    responses(
        (status = 200, description = "The decision", body = UpdateCheckResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 404, description = "Unknown application", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody)))]
async fn check_by_body(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CheckRequest>,
) -> Result<Json<UpdateCheckResponse>, ApiError> {
    valid_app_id(&body.application_id, "application_id")?;
    let install_id = install_id(&headers, body.install_id.as_deref())?;
    check(
        &state,
        CheckInput {
            app_id: &body.application_id,
            current_version: &body.current_version,
            platform: &body.platform,
            architecture: &body.architecture,
            channel: body.channel.as_deref(),
            allow_prerelease: body.allow_prerelease,
            include_metadata: body.include_metadata,
            install_id: install_id.as_deref(),
        },
    )
    .map(Json)
}

struct LatestInput<'a> {
    platform: &'a str,
    architecture: &'a str,
    channel: Option<&'a str>,
    allow_prerelease: bool,
    include_metadata: bool,
}

fn latest(
    state: &AppState,
    app_id: &str,
    input: LatestInput<'_>,
) -> Result<LatestVersionResponse, ApiError> {
    let mut errors = FieldErrors::default();
    let Some(target) = parse_target(
        input.platform,
        input.architecture,
        input.channel,
        &mut errors,
    ) else {
        return Err(ApiError::validation(errors));
    };
    let found = state.registry.read(|c| {
        c.latest(
            app_id,
            target.platform,
            target.architecture,
            &target.channel,
            input.allow_prerelease,
        )
    });
    let release = match found {
        Latest::UnknownApplication => return Err(ApiError::application_not_found(app_id)),
        Latest::NoRelease => {
            return Err(ApiError::not_found(format!(
                "application '{app_id}' has no release for {}/{} on channel '{}'",
                target.platform, target.architecture, target.channel
            )));
        }
        Latest::Release(release) => release,
    };
    let required = release.required;
    Ok(LatestVersionResponse {
        version: release.version().to_string(),
        download_url: release.primary_file().url.clone(),
        checksum: release.primary_checksum().0.to_string(),
        checksum_type: release.primary_checksum().1.as_str(),
        file_size: release.primary_file().size,
        release_notes: release.release_notes.clone(),
        release_date: release.release_date,
        required,
        channel: release.channel.clone(),
        minimum_version: release.minimum_version.as_ref().map(ToString::to_string),
        signature: release.primary_file().signature.clone(),
        metadata: input.include_metadata.then(|| release.metadata.clone()),
    })
}

/// The newest release for a platform and architecture.
#[utoipa::path(get, path = "/api/v1/updates/{app_id}/latest", tag = "updates",
    params(("app_id" = String, Path, description = "Application id"), LatestParams),
    responses(
        (status = 200, description = "The newest release", body = LatestVersionResponse),
        (status = 404, description = "Unknown application, or no release for this target", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody)))]
async fn latest_by_path(
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    ApiQuery(params): ApiQuery<LatestParams>,
) -> Result<Json<LatestVersionResponse>, ApiError> {
    valid_app_id(&app_id, "app_id")?;
    latest(
        &state,
        &app_id,
        LatestInput {
            platform: &params.platform,
            architecture: &params.architecture,
            channel: params.channel.as_deref(),
            allow_prerelease: params.allow_prerelease,
            include_metadata: params.include_metadata,
        },
    )
    .map(Json)
}

/// The newest release, with the application given as `app_id` or `application_id`.
#[utoipa::path(get, path = "/api/v1/latest", tag = "updates",
    params(LatestQueryParams),
    responses(
        (status = 200, description = "The newest release", body = LatestVersionResponse),
        (status = 404, description = "Unknown application, or no release for this target", body = ErrorBody),
        (status = 422, description = "Invalid or missing parameters", body = ErrorBody)))]
async fn latest_by_query(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<LatestQueryParams>,
) -> Result<Json<LatestVersionResponse>, ApiError> {
    let app_id = match (&params.app_id, &params.application_id) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::field(
                "app_id",
                "app_id and application_id disagree; give one",
            ));
        }
        (Some(id), _) | (None, Some(id)) => id.clone(),
        (None, None) => return Err(ApiError::field("app_id", "app_id parameter is required")),
    };
    valid_app_id(&app_id, "app_id")?;
    latest(
        &state,
        &app_id,
        LatestInput {
            platform: &params.platform,
            architecture: &params.architecture,
            channel: params.channel.as_deref(),
            allow_prerelease: params.allow_prerelease,
            include_metadata: params.include_metadata,
        },
    )
    .map(Json)
}
