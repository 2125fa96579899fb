//! Listing, reading, rotating and revoking managed keys.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;

use super::{IssuedKeyResponse, KeyView, reload, valid_key_id};
use crate::access::manage;
use crate::http::AppState;
use crate::http::auth::{Authorized, GlobalAdminAccess};
use crate::http::error::{ApiError, ErrorBody};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ListKeysResponse {
    /// Oldest first, revoked and expired keys included.
    keys: Vec<KeyView>,
}

/// Every managed key (configured keys are not listed).
#[utoipa::path(get, path = "/api/v1/keys", tag = "keys",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The keys", body = ListKeysResponse),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks admin permission or is scoped", body = ErrorBody)))]
pub(super) async fn list_keys(
    _caller: Authorized<GlobalAdminAccess>,
    State(state): State<AppState>,
) -> Result<Json<ListKeysResponse>, ApiError> {
    let keys = state.registry.store().load_keys().await?;
    Ok(Json(ListKeysResponse {
        keys: keys.iter().map(KeyView::from).collect(),
    }))
}

/// One managed key.
#[utoipa::path(get, path = "/api/v1/keys/{key_id}", tag = "keys",
    params(("key_id" = String, Path, description = "Key id (16 hex characters)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The key", body = KeyView),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks admin permission or is scoped", body = ErrorBody),
        (status = 404, description = "No such key", body = ErrorBody),
        (status = 422, description = "Invalid key id", body = ErrorBody)))]
pub(super) async fn get_key(
    _caller: Authorized<GlobalAdminAccess>,
    State(state): State<AppState>,
    Path(key_id): Path<String>,
) -> Result<Json<KeyView>, ApiError> {
    valid_key_id(&key_id)?;
    let key = manage::find(state.registry.store(), &key_id).await?;
    Ok(Json(KeyView::from(&key)))
}

/// Gives the key a new secret: the old token stops working at once, on
/// every replica within the propagation delay.
#[utoipa::path(post, path = "/api/v1/keys/{key_id}/rotate", tag = "keys",
    params(("key_id" = String, Path, description = "Key id (16 hex characters)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Rotated; the new token is shown this once", body = IssuedKeyResponse),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks admin permission or is scoped", body = ErrorBody),
        (status = 404, description = "No such key", body = ErrorBody),
        (status = 409, description = "Managed keys are disabled", body = ErrorBody),
        (status = 422, description = "Invalid key id, or the key is revoked", body = ErrorBody)))]
pub(super) async fn rotate_key(
    Authorized(caller, _): Authorized<GlobalAdminAccess>,
    State(state): State<AppState>,
    Path(key_id): Path<String>,
) -> Result<Json<IssuedKeyResponse>, ApiError> {
    valid_key_id(&key_id)?;
    let issued = manage::rotate(
        state.registry.store(),
        state.keys.pepper(),
        &caller.origin,
        &key_id,
    )
    .await?;
    reload(&state).await;
    tracing::info!(event = "security_audit", action = "key_rotated", %key_id, key_name = %caller.name());
    Ok(Json(IssuedKeyResponse {
        key: KeyView::from(&issued.key),
        token: issued.token,
    }))
}

/// Revokes the key for good. Revoking a revoked key is not an error.
#[utoipa::path(post, path = "/api/v1/keys/{key_id}/revoke", tag = "keys",
    params(("key_id" = String, Path, description = "Key id (16 hex characters)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Revoked", body = KeyView),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks admin permission or is scoped", body = ErrorBody),
        (status = 404, description = "No such key", body = ErrorBody),
        (status = 422, description = "Invalid key id", body = ErrorBody)))]
pub(super) async fn revoke_key(
    Authorized(caller, _): Authorized<GlobalAdminAccess>,
    State(state): State<AppState>,
    Path(key_id): Path<String>,
) -> Result<Json<KeyView>, ApiError> {
    valid_key_id(&key_id)?;
    let key = manage::revoke(state.registry.store(), &caller.origin, &key_id).await?;
    reload(&state).await;
    tracing::info!(event = "security_audit", action = "key_revoked", %key_id, key_name = %caller.name());
    Ok(Json(KeyView::from(&key)))
}
