//! `POST /api/v1/keys`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};

use super::{IssuedKeyResponse, KeyView, reload};
use crate::access::manage::{self, KeyDraft, KeyError};
use crate::domain::validate::FieldErrors;
use crate::http::AppState;
use crate::http::auth::{Authorized, GlobalAdminAccess};
use crate::http::body::{FieldType, Fields, FromBody, JsonBody};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::health::PermissionView;

#[derive(utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    /// Who or what uses it (`release-pipeline`), 1-100 characters.
    name: String,
    permissions: Vec<PermissionView>,
    /// Application ids it may touch; omit or `null` for every application.
    #[serde(default)]
    applications: Option<Vec<String>>,
    /// When it stops working (RFC 3339). Give this or `expires_in`, or neither.
    #[serde(default)]
    expires_at: Option<DateTime<Utc>>,
    /// How long it works from now: `90d`, `12h`.
    #[serde(default)]
    expires_in: Option<String>,
}

impl FromBody for CreateKeyRequest {
    fn from_body(fields: &mut Fields<'_>) -> Self {
        Self {
            name: fields.required("name"),
            permissions: fields.required("permissions"),
            applications: fields.optional("applications"),
            expires_at: fields.optional("expires_at"),
            expires_in: fields.optional("expires_in"),
        }
    }
}

impl FieldType for PermissionView {
    fn read(value: &serde_json::Value, path: &str, problems: &mut FieldErrors) -> Option<Self> {
        const KNOWN: &str = "read, publish, rollout, delete, write, admin, monitor";
        let permission = serde_json::from_value(value.clone()).ok();
        if permission.is_none() {
            let problem = match value.as_str() {
                Some(text) => format!(
                    "unknown permission `{}`; known: {KNOWN}",
                    text.escape_debug()
                ),
                None => format!("must be one of {KNOWN}"),
            };
            problems.add(path, problem);
        }
        permission
    }
}

/// Creates a key. The token is in this response only.
#[utoipa::path(post, path = "/api/v1/keys", tag = "keys",
    request_body = CreateKeyRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; the token is shown this once", body = IssuedKeyResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks admin permission or is scoped", body = ErrorBody),
        (status = 409, description = "Managed keys are disabled (no `security.key_pepper` on PostgreSQL)", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody)))]
pub(super) async fn create_key(
    Authorized(caller, _): Authorized<GlobalAdminAccess>,
    State(state): State<AppState>,
    body: JsonBody<CreateKeyRequest>,
) -> Result<(StatusCode, Json<IssuedKeyResponse>), ApiError> {
    if state.keys.pepper().is_none() {
        return Err(KeyError::Disabled.into());
    }
    let draft = body
        .check(|body| {
            let draft = KeyDraft {
                name: body.name,
                permissions: body
                    .permissions
                    .into_iter()
                    .map(|p| crate::config::Permission::from(p).as_str().to_string())
                    .collect(),
                applications: body.applications,
                expires_at: body.expires_at,
                expires_in: body.expires_in,
            };
            manage::check(draft.clone(), crate::domain::now()).map(|_| draft)
        })
        .map_err(ApiError::validation)?;
    let issued = manage::create(
        state.registry.store(),
        state.keys.pepper(),
        &caller.origin,
        draft,
    )
    .await?;
    reload(&state).await;
    tracing::info!(event = "security_audit", action = "key_created", key_id = %issued.key.id, name = %issued.key.name, key_name = %caller.name());
    Ok((
        StatusCode::CREATED,
        Json(IssuedKeyResponse {
            key: KeyView::from(&issued.key),
            token: issued.token,
        }),
    ))
}
