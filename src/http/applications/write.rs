//! Creating (write), changing and deleting (admin) an application.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ApplicationConfigView;
use crate::domain::Application;
use crate::domain::validate::{
    ApplicationConfigDraft, FieldErrors, check_application_id, check_config, check_description,
    check_name, normalize_platforms,
};
use crate::http::AppState;
use crate::http::auth::{AdminAccess, Authorized, DeleteAccess, WriteAccess};
use crate::http::body::{Fields, FromBody, JsonBody};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiQuery, valid_app_id};

#[derive(utoipa::ToSchema)]
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
    config: ApplicationConfigView,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreateApplicationResponse {
    id: String,
    message: String,
    created_at: DateTime<Utc>,
}

/// Each field present replaces the stored one; absent fields are kept.
#[derive(utoipa::ToSchema)]
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
    download_page: Option<bool>,
}

#[derive(utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateApplicationRequest {
    name: Option<String>,
    description: Option<String>,
    platforms: Option<Vec<String>>,
    /// Merged field by field into the stored config.
    config: Option<ApplicationConfigPatch>,
}

impl FromBody for CreateApplicationRequest {
    fn from_body(fields: &mut Fields<'_>) -> Self {
        Self {
            id: fields.required("id"),
            name: fields.required("name"),
            description: fields.optional("description").unwrap_or_default(),
            platforms: fields.required("platforms"),
            config: fields.object("config").unwrap_or_default(),
        }
    }
}

impl FromBody for ApplicationConfigPatch {
    fn from_body(fields: &mut Fields<'_>) -> Self {
        Self {
            update_check_url: fields.optional("update_check_url"),
            auto_update: fields.optional("auto_update"),
            update_interval: fields.optional("update_interval"),
            required_update: fields.optional("required_update"),
            min_version: fields.optional("min_version"),
            max_version: fields.optional("max_version"),
            allow_prerelease: fields.optional("allow_prerelease"),
            custom_fields: fields.optional("custom_fields"),
            notification_url: fields.optional("notification_url"),
            analytics_enabled: fields.optional("analytics_enabled"),
            tauri_public_key: fields.optional("tauri_public_key"),
            sparkle_public_key: fields.optional("sparkle_public_key"),
            verify_on_register: fields.optional("verify_on_register"),
            download_page: fields.optional("download_page"),
        }
    }
}

impl FromBody for UpdateApplicationRequest {
    fn from_body(fields: &mut Fields<'_>) -> Self {
        Self {
            name: fields.optional("name"),
            description: fields.optional("description"),
            platforms: fields.optional("platforms"),
            config: fields.object("config"),
        }
    }
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
pub(super) async fn create_application(
    Authorized(caller, _): Authorized<WriteAccess>,
    State(state): State<AppState>,
    body: JsonBody<CreateApplicationRequest>,
) -> Result<(StatusCode, Json<CreateApplicationResponse>), ApiError> {
    let app = body.check(new_application).map_err(ApiError::validation)?;
    caller.check_application(&state, &app.id)?;
    let (id, now) = (app.id.clone(), app.created_at);
    state
        .registry
        .create_application(&caller.origin, app)
        .await?;
    tracing::info!(event = "security_audit", action = "application_created", app_id = %id, key_name = %caller.name());
    Ok((
        StatusCode::CREATED,
        Json(CreateApplicationResponse {
            message: format!("Application '{id}' created successfully"),
            id,
            created_at: now,
        }),
    ))
}

fn new_application(body: CreateApplicationRequest) -> Result<Application, FieldErrors> {
    let mut errors = FieldErrors::default();
    if let Err(e) = check_application_id(&body.id) {
        errors.add("id", e);
    }
    check_name(&body.name, &mut errors);
    check_description(&body.description, &mut errors);
    let platforms = normalize_platforms(&body.platforms, &mut errors);
    let config = check_config(body.config.into(), &mut errors);
    let now = crate::domain::now();
    errors.into_result(Application {
        id: body.id,
        name: body.name.trim().to_string(),
        description: body.description,
        platforms,
        config,
        created_at: now,
        updated_at: now,
    })
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
        let mut config = ApplicationConfigDraft::from(&app.config);
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
            verify_on_register,
            download_page
        );
        for (field, value) in [
            (&mut config.tauri_public_key, patch.tauri_public_key),
            (&mut config.sparkle_public_key, patch.sparkle_public_key),
            (&mut config.min_version, patch.min_version),
            (&mut config.max_version, patch.max_version),
        ] {
            if value.is_some() {
                *field = value;
            }
        }
        app.config = check_config(config, &mut errors);
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
pub(super) async fn update_application(
    Authorized(caller, _): Authorized<AdminAccess>,
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    body: JsonBody<UpdateApplicationRequest>,
) -> Result<Json<UpdateApplicationResponse>, ApiError> {
    valid_app_id(&app_id, "app_id")?;
    caller.check_application(&state, &app_id)?;
    let updated = state
        .registry
        .update_application(&caller.origin, &app_id, |app| {
            body.check(|body| apply_patch(app, body))
        })
        .await?;
    tracing::info!(event = "security_audit", action = "application_updated", %app_id, key_name = %caller.name());
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
        (status = 403, description = "Key lacks delete permission or is not allowed for this application", body = ErrorBody),
        (status = 404, description = "Unknown application", body = ErrorBody),
        (status = 409, description = "The application still has releases", body = ErrorBody),
        (status = 422, description = "Invalid id or parameters", body = ErrorBody)))]
pub(super) async fn delete_application(
    Authorized(caller, _): Authorized<DeleteAccess>,
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    ApiQuery(params): ApiQuery<DeleteApplicationParams>,
) -> Result<StatusCode, ApiError> {
    valid_app_id(&app_id, "app_id")?;
    caller.check_application(&state, &app_id)?;
    state
        .registry
        .delete_application(&caller.origin, &app_id, params.force)
        .await?;
    tracing::info!(event = "security_audit", action = "application_deleted", %app_id, force = params.force, key_name = %caller.name());
    Ok(StatusCode::NO_CONTENT)
}
