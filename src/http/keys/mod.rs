//! Managed API keys (`/api/v1/keys`): created, listed, rotated and revoked
//! by an unscoped admin key. A token is in the response to create and
//! rotate, and nowhere else.

mod create;
mod manage;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::health::PermissionView;
use crate::domain::keys::{ManagedKey, Token};
use crate::http::AppState;
use crate::http::error::ApiError;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(manage::list_keys, create::create_key))
        .routes(routes!(manage::get_key))
        .routes(routes!(manage::rotate_key))
        .routes(routes!(manage::revoke_key))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = KeyStatus)]
pub enum KeyStatusView {
    Active,
    Expired,
    Revoked,
}

/// A managed key as the API shows it: never its secret or digest.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ApiKey)]
pub struct KeyView {
    /// 16 hex characters; also the part after `upd_` in its token.
    id: String,
    name: String,
    permissions: Vec<PermissionView>,
    /// The applications it may touch; `null`: every application.
    applications: Option<Vec<String>>,
    created_at: DateTime<Utc>,
    created_by: String,
    expires_at: Option<DateTime<Utc>>,
    /// Updated within about 30 seconds of a use.
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    status: KeyStatusView,
}

impl From<&ManagedKey> for KeyView {
    fn from(key: &ManagedKey) -> Self {
        use crate::domain::keys::KeyStatus;
        Self {
            id: key.id.clone(),
            name: key.name.clone(),
            permissions: key
                .permissions
                .iter()
                .copied()
                .map(PermissionView::from)
                .collect(),
            applications: key
                .applications
                .as_ref()
                .map(|a| a.iter().cloned().collect()),
            created_at: key.created_at,
            created_by: key.created_by.clone(),
            expires_at: key.expires_at,
            last_used_at: key.last_used_at,
            revoked_at: key.revoked_at,
            status: match key.status(Utc::now()) {
                KeyStatus::Active => KeyStatusView::Active,
                KeyStatus::Expired => KeyStatusView::Expired,
                KeyStatus::Revoked => KeyStatusView::Revoked,
            },
        }
    }
}

/// A key and its token, which is shown this once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IssuedKeyResponse {
    key: KeyView,
    /// `upd_<id>_<secret>`: store it now; only its digest is kept.
    token: String,
}

fn valid_key_id(id: &str) -> Result<(), ApiError> {
    if Token::is_id(id) {
        Ok(())
    } else {
        Err(ApiError::field(
            "key_id",
            "must be 16 lowercase hex characters",
        ))
    }
}

const KEY_RELOAD_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

/// The key table every replica serves from, reloaded after a local change
/// (other replicas hear of it through the store's change feed).
async fn reload(state: &AppState) {
    match state
        .keys
        .reload(state.registry.store(), KEY_RELOAD_DEADLINE)
        .await
    {
        Ok(()) => {}
        Err(e) => {
            tracing::warn!(error = %e, "reloading managed keys failed; the next refresh retries")
        }
    }
}
