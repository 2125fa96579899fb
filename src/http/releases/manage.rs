//! Deleting a release, and changing its rollout or yank state (admin).

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;

use super::{ReleaseInfo, release_key};
use crate::domain::validate::{FieldErrors, check_text};
use crate::http::AppState;
use crate::http::auth::{Authorized, DeleteAccess, RolloutAccess};
use crate::http::body::{Fields, FromBody, JsonBody};
use crate::http::error::{ApiError, ErrorBody};
use crate::registry::WriteError;

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
        (status = 403, description = "Key lacks delete permission or is not allowed for this application", body = ErrorBody),
        (status = 404, description = "No such release", body = ErrorBody),
        (status = 422, description = "Invalid path parameters", body = ErrorBody)))]
pub(super) async fn delete_release(
    Authorized(caller, _): Authorized<DeleteAccess>,
    State(state): State<AppState>,
    Path((app_id, version, platform, arch)): Path<(String, String, String, String)>,
) -> Result<Json<DeleteReleaseResponse>, ApiError> {
    let key = release_key(app_id, &version, &platform, &arch)?;
    caller.check_application(&state, &key.application_id)?;
    let id = key.id();
    state.registry.delete_release(&caller.origin, &key).await?;
    tracing::info!(event = "security_audit", action = "release_deleted", app_id = %key.application_id, release = %id, key_name = %caller.name());
    Ok(Json(DeleteReleaseResponse {
        message: format!("Release '{id}' deleted successfully"),
        id,
    }))
}

#[derive(utoipa::ToSchema)]
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

impl FromBody for UpdateReleaseRequest {
    fn from_body(fields: &mut Fields<'_>) -> Self {
        Self {
            rollout_percentage: super::register::rollout_percentage(fields),
            rollout_paused: fields.optional("rollout_paused"),
            yanked: fields.optional("yanked"),
            yank_reason: fields.optional("yank_reason"),
        }
    }
}

fn check_change(body: UpdateReleaseRequest) -> Result<UpdateReleaseRequest, FieldErrors> {
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
    errors.into_result(body)
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
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks rollout permission or is not allowed for this application", body = ErrorBody),
        (status = 404, description = "No such release", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody)))]
pub(super) async fn update_release(
    Authorized(caller, _): Authorized<RolloutAccess>,
    State(state): State<AppState>,
    Path((app_id, version, platform, arch)): Path<(String, String, String, String)>,
    body: JsonBody<UpdateReleaseRequest>,
) -> Result<Json<ReleaseInfo>, ApiError> {
    let key = release_key(app_id, &version, &platform, &arch)?;
    caller.check_application(&state, &key.application_id)?;
    // An unknown release is a 404 whatever the body says.
    if state.registry.read(|c| c.release(&key)).is_none() {
        return Err(WriteError::ReleaseNotFound(key).into());
    }
    let body = body.check(check_change).map_err(ApiError::validation)?;
    let id = key.id();
    let updated = state
        .registry
        .update_release(&caller.origin, &key, |release| {
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
        .await?;
    tracing::info!(
        event = "security_audit",
        action = "release_updated",
        release = %id,
        rollout_percentage = updated.rollout.percentage,
        rollout_paused = updated.rollout.paused,
        yanked = updated.yanked,
        key_name = %caller.name()
    );
    Ok(Json(ReleaseInfo::from(&updated)))
}
