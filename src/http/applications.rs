//! Application CRUD.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{AdminAccess, Authorized, ReadAccess, WriteAccess};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery, valid_app_id};
use super::pagination::{PageInfo, Paging};
use crate::domain::signing::{SparklePublicKey, TauriPublicKey};
use crate::domain::validate::{
    FieldErrors, MAX_NAME_LEN, MAX_TEXT_LEN, check_application_id, check_text,
};
use crate::domain::{Application, ApplicationConfig, parse_platform, parse_version};
use crate::http::AppState;
use crate::registry::WriteError;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_applications, create_application))
        .routes(routes!(
            get_application,
            update_application,
            delete_application
        ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ApplicationSummary {
    id: String,
    name: String,
    description: String,
    platforms: Vec<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ApplicationStatsInfo {
    total_releases: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_release_date: Option<DateTime<Utc>>,
    platform_count: usize,
    required_releases: usize,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ApplicationInfo {
    id: String,
    name: String,
    description: String,
    platforms: Vec<String>,
    config: ApplicationConfig,
    stats: ApplicationStatsInfo,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ListApplicationsResponse {
    applications: Vec<ApplicationSummary>,
    #[serde(flatten)]
    page: PageInfo,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListApplicationsParams {
    /// 1 to 1000, default 50.
    limit: Option<u64>,
    /// Default 0.
    offset: Option<u64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApplicationRequest {
    /// `^[A-Za-z0-9_-]{1,100}$`
    id: String,
    name: String,
    #[serde(default)]
    description: String,
    /// At least one of windows, linux, darwin, android, ios.
    platforms: Vec<String>,
    #[serde(default)]
    config: ApplicationConfig,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreateApplicationResponse {
    id: String,
    message: String,
    created_at: DateTime<Utc>,
}

/// Each field present replaces the stored one; absent fields are kept.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationConfigPatch {
    update_check_url: Option<String>,
    auto_update: Option<bool>,
    update_interval: Option<i64>,
    required_update: Option<bool>,
    /// An empty string clears it.
    min_version: Option<String>,
    /// An empty string clears it.
    max_version: Option<String>,
    allow_prerelease: Option<bool>,
    custom_fields: Option<BTreeMap<String, String>>,
    notification_url: Option<String>,
    analytics_enabled: Option<bool>,
    /// An empty string clears it.
    tauri_public_key: Option<String>,
    /// An empty string clears it.
    sparkle_public_key: Option<String>,
    verify_on_register: Option<bool>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateApplicationRequest {
    name: Option<String>,
    description: Option<String>,
    platforms: Option<Vec<String>>,
    /// Merged field by field into the stored config.
    config: Option<ApplicationConfigPatch>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UpdateApplicationResponse {
    id: String,
    message: String,
    updated_at: DateTime<Utc>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeleteApplicationParams {
    /// Also delete the application's releases.
    #[serde(default)]
    force: bool,
}

fn check_name(name: &str, errors: &mut FieldErrors) {
    if name.trim().is_empty() {
        errors.add("name", "must not be empty");
    } else if let Err(e) = check_text(name, MAX_NAME_LEN, false) {
        errors.add("name", e);
    }
}

fn check_description(description: &str, errors: &mut FieldErrors) {
    if let Err(e) = check_text(description, MAX_TEXT_LEN, true) {
        errors.add("description", e);
    }
}

fn normalize_platforms(platforms: &[String], errors: &mut FieldErrors) -> Vec<String> {
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

/// Normalises version fields in place and reports every problem.
fn check_config(config: &mut ApplicationConfig, errors: &mut FieldErrors) {
    if config.update_interval < 0 {
        errors.add("config.update_interval", "must not be negative");
    }
    let mut parse = |field: &str, value: &mut Option<String>| {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            *value = None;
        }
        let parsed = value.as_deref().map(parse_version).transpose();
        match parsed {
            Ok(v) => {
                *value = v.as_ref().map(ToString::to_string);
                v
            }
            Err(e) => {
                errors.add(field, e);
                None
            }
        }
    };
    let min = parse("config.min_version", &mut config.min_version);
    let max = parse("config.max_version", &mut config.max_version);
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        errors.add(
            "config.min_version",
            "must not be greater than config.max_version",
        );
    }
    for (field, url) in [
        ("config.update_check_url", &config.update_check_url),
        ("config.notification_url", &config.notification_url),
    ] {
        if !url.is_empty()
            && !url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        {
            errors.add(field, "must be an http or https URL");
        }
    }
    if let Err(e) = crate::domain::validate::check_metadata(&config.custom_fields) {
        errors.add("config.custom_fields", e);
    }
    for (field, value, parse) in [
        (
            "config.tauri_public_key",
            &mut config.tauri_public_key,
            (|k| TauriPublicKey::parse(k).map(drop)) as fn(&str) -> Result<(), String>,
        ),
        (
            "config.sparkle_public_key",
            &mut config.sparkle_public_key,
            |k| SparklePublicKey::parse(k).map(drop),
        ),
    ] {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            *value = None;
        }
        if let Some(key) = value.as_deref() {
            if key.len() > 4096 {
                errors.add(field, "must be at most 4096 characters");
            } else if let Err(e) = parse(key) {
                errors.add(field, e);
            }
        }
    }
}

/// Lists applications, ordered by id.
#[utoipa::path(get, path = "/api/v1/applications", tag = "applications",
    params(ListApplicationsParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of applications", body = ListApplicationsResponse),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody)))]
async fn list_applications(
    _auth: Authorized<ReadAccess>,
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListApplicationsParams>,
) -> Result<Json<ListApplicationsResponse>, ApiError> {
    let paging = Paging::from_params(params.limit, params.offset)?;
    let page = state
        .registry
        .read(|c| c.applications(paging.offset, paging.limit));
    Ok(Json(ListApplicationsResponse {
        page: paging.info(page.total),
        applications: page
            .items
            .into_iter()
            .map(|a| ApplicationSummary {
                id: a.id,
                name: a.name,
                description: a.description,
                platforms: a.platforms,
                created_at: a.created_at,
                updated_at: a.updated_at,
            })
            .collect(),
    }))
}

/// Creates an application.
#[utoipa::path(post, path = "/api/v1/applications", tag = "applications",
    request_body = CreateApplicationRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = CreateApplicationResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks write permission", body = ErrorBody),
        (status = 409, description = "The id is taken", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody)))]
async fn create_application(
    Authorized(principal, _): Authorized<WriteAccess>,
    State(state): State<AppState>,
    ApiJson(mut body): ApiJson<CreateApplicationRequest>,
) -> Result<(StatusCode, Json<CreateApplicationResponse>), ApiError> {
    let mut errors = FieldErrors::default();
    if let Err(e) = check_application_id(&body.id) {
        errors.add("id", e);
    }
    check_name(&body.name, &mut errors);
    check_description(&body.description, &mut errors);
    let platforms = normalize_platforms(&body.platforms, &mut errors);
    check_config(&mut body.config, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let now = crate::domain::now();
    let app = Application {
        id: body.id.clone(),
        name: body.name.trim().to_string(),
        description: body.description,
        platforms,
        config: body.config,
        created_at: now,
        updated_at: now,
    };
    match state.registry.create_application(app).await {
        Ok(()) => {}
        Err(WriteError::Conflict) => {
            return Err(ApiError::conflict(format!(
                "application '{}' already exists",
                body.id
            )));
        }
        Err(other) => return Err(other.into()),
    }
    tracing::info!(event = "security_audit", action = "application_created", app_id = %body.id, key_name = %principal.name);
    Ok((
        StatusCode::CREATED,
        Json(CreateApplicationResponse {
            message: format!("Application '{}' created successfully", body.id),
            id: body.id,
            created_at: now,
        }),
    ))
}

/// One application with its config and release statistics.
#[utoipa::path(get, path = "/api/v1/applications/{app_id}", tag = "applications",
    params(("app_id" = String, Path, description = "Application id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The application", body = ApplicationInfo),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 404, description = "Unknown application", body = ErrorBody),
        (status = 422, description = "Invalid id", body = ErrorBody)))]
async fn get_application(
    _auth: Authorized<ReadAccess>,
    State(state): State<AppState>,
    Path(app_id): Path<String>,
) -> Result<Json<ApplicationInfo>, ApiError> {
    valid_app_id(&app_id, "app_id")?;
    let found = state
        .registry
        .read(|c| Some((c.application(&app_id)?.clone(), c.stats(&app_id)?)));
    let (app, stats) = found.ok_or_else(|| ApiError::application_not_found(&app_id))?;
    Ok(Json(ApplicationInfo {
        id: app.id,
        name: app.name,
        description: app.description,
        platforms: app.platforms,
        config: app.config,
        stats: ApplicationStatsInfo {
            total_releases: stats.total_releases,
            latest_version: stats.latest_version.map(|v| v.to_string()),
            latest_release_date: stats.latest_release_date,
            platform_count: stats.platform_count,
            required_releases: stats.required_releases,
        },
        created_at: app.created_at,
        updated_at: app.updated_at,
    }))
}

fn apply_patch(app: &mut Application, body: UpdateApplicationRequest) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::default();
    if body.name.is_none()
        && body.description.is_none()
        && body.platforms.is_none()
        && body.config.is_none()
    {
        errors.add(
            "body",
            "give at least one of name, description, platforms, config",
        );
        return Err(errors);
    }
    if let Some(name) = body.name {
        check_name(&name, &mut errors);
        app.name = name.trim().to_string();
    }
    if let Some(description) = body.description {
        check_description(&description, &mut errors);
        app.description = description;
    }
    if let Some(platforms) = body.platforms {
        app.platforms = normalize_platforms(&platforms, &mut errors);
    }
    if let Some(patch) = body.config {
        let config = &mut app.config;
        macro_rules! take {
            ($($field:ident),*) => { $( if let Some(v) = patch.$field { config.$field = v; } )* };
        }
        take!(
            update_check_url,
            auto_update,
            update_interval,
            required_update,
            allow_prerelease,
            custom_fields,
            notification_url,
            analytics_enabled,
            verify_on_register
        );
        if let Some(v) = patch.tauri_public_key {
            config.tauri_public_key = Some(v);
        }
        if let Some(v) = patch.sparkle_public_key {
            config.sparkle_public_key = Some(v);
        }
        if let Some(v) = patch.min_version {
            config.min_version = Some(v);
        }
        if let Some(v) = patch.max_version {
            config.max_version = Some(v);
        }
        check_config(config, &mut errors);
    }
    app.updated_at = crate::domain::now();
    errors.into_result(())
}

/// Updates an application partially.
#[utoipa::path(put, path = "/api/v1/applications/{app_id}", tag = "applications",
    params(("app_id" = String, Path, description = "Application id")),
    request_body = UpdateApplicationRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = UpdateApplicationResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks admin permission", body = ErrorBody),
        (status = 404, description = "Unknown application", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody)))]
async fn update_application(
    Authorized(principal, _): Authorized<AdminAccess>,
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    ApiJson(body): ApiJson<UpdateApplicationRequest>,
) -> Result<Json<UpdateApplicationResponse>, ApiError> {
    valid_app_id(&app_id, "app_id")?;
    let updated = match state
        .registry
        .update_application(&app_id, |app| apply_patch(app, body))
        .await
    {
        Ok(Ok(app)) => app,
        Ok(Err(errors)) => return Err(ApiError::validation(errors)),
        Err(WriteError::ApplicationNotFound) => {
            return Err(ApiError::application_not_found(&app_id));
        }
        Err(other) => return Err(other.into()),
    };
    tracing::info!(event = "security_audit", action = "application_updated", %app_id, key_name = %principal.name);
    Ok(Json(UpdateApplicationResponse {
        message: format!("Application '{app_id}' updated successfully"),
        id: app_id,
        updated_at: updated.updated_at,
    }))
}

/// Deletes an application. While it has releases this is a 409 unless `force=true`.
#[utoipa::path(delete, path = "/api/v1/applications/{app_id}", tag = "applications",
    params(("app_id" = String, Path, description = "Application id"), DeleteApplicationParams),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks admin permission", body = ErrorBody),
        (status = 404, description = "Unknown application", body = ErrorBody),
        (status = 409, description = "The application still has releases", body = ErrorBody),
        (status = 422, description = "Invalid id or parameters", body = ErrorBody)))]
async fn delete_application(
    Authorized(principal, _): Authorized<AdminAccess>,
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    ApiQuery(params): ApiQuery<DeleteApplicationParams>,
) -> Result<StatusCode, ApiError> {
    valid_app_id(&app_id, "app_id")?;
    match state
        .registry
        .delete_application(&app_id, params.force)
        .await
    {
        Ok(()) => {}
        Err(WriteError::ApplicationNotFound) => {
            return Err(ApiError::application_not_found(&app_id));
        }
        Err(WriteError::HasReleases(n)) => {
            return Err(ApiError::conflict(format!(
                "application '{app_id}' has {n} release(s); delete them first or pass ?force=true"
            )));
        }
        Err(other) => return Err(other.into()),
    }
    tracing::info!(event = "security_audit", action = "application_deleted", %app_id, force = params.force, key_name = %principal.name);
    Ok(StatusCode::NO_CONTENT)
}
