//! Liveness (`/health`, no store access) and readiness (`/health/ready`).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth;
use crate::config::Permission;
use crate::http::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(api_health))
        .routes(routes!(ready))
}

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Serialize, utoipa::ToSchema)]
pub struct HealthResponse {
    #[schema(example = "healthy")]
    status: &'static str,
    timestamp: DateTime<Utc>,
    version: &'static str,
    /// Present only for a `read` or `monitor` key.
    #[serde(skip_serializing_if = "Option::is_none")]
    uptime_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    components: Option<BTreeMap<&'static str, ComponentHealth>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    build: Option<BuildInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<AuthInfo>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ComponentHealth {
    status: &'static str,
    message: String,
    timestamp: DateTime<Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BuildInfo {
    version: &'static str,
    arch: &'static str,
    profile: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuthInfo {
    authentication_enabled: bool,
    api_key_name: String,
    permissions: Vec<PermissionView>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Permission)]
#[serde(rename_all = "lowercase")]
pub enum PermissionView {
    Read,
    Publish,
    Rollout,
    Delete,
    Write,
    Admin,
    Monitor,
}

impl From<PermissionView> for Permission {
    fn from(view: PermissionView) -> Self {
        match view {
            PermissionView::Read => Self::Read,
            PermissionView::Publish => Self::Publish,
            PermissionView::Rollout => Self::Rollout,
            PermissionView::Delete => Self::Delete,
            PermissionView::Write => Self::Write,
            PermissionView::Admin => Self::Admin,
            PermissionView::Monitor => Self::Monitor,
        }
    }
}

impl From<Permission> for PermissionView {
    fn from(permission: Permission) -> Self {
        match permission {
            Permission::Read => Self::Read,
            Permission::Publish => Self::Publish,
            Permission::Rollout => Self::Rollout,
            Permission::Delete => Self::Delete,
            Permission::Write => Self::Write,
            Permission::Admin => Self::Admin,
            Permission::Monitor => Self::Monitor,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReadyResponse {
    #[schema(example = "ready")]
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    timestamp: DateTime<Utc>,
}

fn health_body(state: &AppState, parts: &Parts) -> HealthResponse {
    let now = Utc::now();
    let mut body = HealthResponse {
        status: "healthy",
        timestamp: now,
        version: VERSION,
        uptime_seconds: None,
        components: None,
        build: None,
        metrics: None,
    };
    let Some(principal) = auth::optional(parts, state) else {
        return body;
    };
    if !(principal.allows(Permission::Read) || principal.allows(Permission::Monitor)) {
        return body;
    }
    let store = state.health.store_status();
    let draining = state.health.is_draining();
    body.uptime_seconds = Some(state.health.started.elapsed().as_secs());
    body.components = Some(BTreeMap::from([
        (
            "storage",
            ComponentHealth {
                status: if store.reachable {
                    "healthy"
                } else {
                    "unhealthy"
                },
                message: format!("{} store {}", state.registry.store().kind(), store.message),
                timestamp: store.checked_at,
            },
        ),
        (
            "api",
            ComponentHealth {
                status: if draining { "draining" } else { "healthy" },
                message: if draining { "shutting down" } else { "serving" }.to_string(),
                timestamp: now,
            },
        ),
    ]));
    body.build = Some(BuildInfo {
        version: VERSION,
        arch: std::env::consts::ARCH,
        profile: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    });
    body.metrics = Some(AuthInfo {
        authentication_enabled: true,
        api_key_name: principal.name.clone(),
        permissions: principal
            .permissions
            .iter()
            .copied()
            .map(PermissionView::from)
            .collect(),
    });
    body
}

/// Liveness: the process answers. Never touches the store. A `read` or
/// `monitor` key adds components, uptime and build details.
#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, description = "Alive", body = HealthResponse)))]
async fn health(State(state): State<AppState>, parts: Parts) -> Json<HealthResponse> {
    Json(health_body(&state, &parts))
}

/// The same as `/health`, under the API prefix.
#[utoipa::path(get, path = "/api/v1/health", tag = "health",
    responses((status = 200, description = "Alive", body = HealthResponse)))]
async fn api_health(State(state): State<AppState>, parts: Parts) -> Json<HealthResponse> {
    Json(health_body(&state, &parts))
}

/// Readiness: 503 while draining for shutdown or while the store is unreachable.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses(
        (status = 200, description = "Ready for traffic", body = ReadyResponse),
        (status = 503, description = "Not ready", body = ReadyResponse)))]
async fn ready(State(state): State<AppState>) -> Response {
    let reason = if state.health.is_draining() {
        Some("draining")
    } else if !state.health.store_status().reachable {
        Some("storage unreachable")
    } else {
        None
    };
    let (status, text) = match reason {
        None => (StatusCode::OK, "ready"),
        Some(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
    };
    (
        status,
        Json(ReadyResponse {
            status: text,
            reason,
            timestamp: Utc::now(),
        }),
    )
        .into_response()
}
