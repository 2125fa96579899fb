//! The HTTP surface: one module per area, each with its `router()`, merged
//! here with the middleware every request passes through.

pub mod applications;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod body;
mod caching;
mod console;
pub mod download;
pub mod error;
pub mod extract;
pub mod health;
pub mod jobs;
pub mod keys;
pub mod limits;
mod middleware;
pub mod observe;
pub mod pagination;
pub mod protocols;
pub mod releases;
mod state;
pub mod stats;
pub mod updates;
mod usage;
pub mod webhooks;

pub use state::{AppState, HealthState, StoreStatus};

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use auth::{Authorized, GlobalMonitorAccess};
use error::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(title = "updater", description = "Self-hosted software-update server: update checks, releases, applications."),
    modifiers(&BearerAuth),
    components(schemas(error::ErrorBody)),
    tags(
        (name = "updates", description = "Public update checks"),
        (name = "releases", description = "Release publishing (write) and management (admin)"),
        (name = "applications", description = "Applications"),
        (name = "keys", description = "Managed API keys (unscoped admin)"),
        (name = "audit", description = "The audit log (unscoped admin)"),
        (name = "webhooks", description = "Webhooks and their delivery log (unscoped admin)"),
        (name = "health", description = "Liveness and readiness"),
        (name = "operations", description = "Metrics and the API description")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(updates::router())
        .merge(releases::router())
        .merge(jobs::router())
        .merge(applications::router())
        .merge(stats::router())
        .merge(keys::router())
        .merge(audit::router())
        .merge(webhooks::router())
        .routes(routes!(metrics))
        .routes(routes!(openapi_json))
}

/// The OpenAPI document, generated from the handlers' annotations.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut api) = api_router().split_for_parts();
    api.info.version = health::VERSION.to_string();
    api
}

#[derive(Clone)]
struct OpenApiJson(Arc<String>);

pub fn build_router(state: AppState) -> Router {
    let (router, _) = api_router().split_for_parts();
    let document = OpenApiJson(Arc::new(
        openapi()
            .to_pretty_json()
            .expect("the OpenAPI document serializes"),
    ));
    let router = router
        .merge(protocols::router())
        .merge(download::router())
        .merge(console::router(state.settings.console.enabled))
        .fallback(not_found)
        .layer(axum::Extension(document));
    middleware::apply(router, &state).with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

/// Prometheus metrics, for unscoped `monitor` (or `admin`) keys.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition", content_type = "text/plain"),
        (status = 401, description = "No or invalid key", body = error::ErrorBody),
        (status = 403, description = "Key lacks monitor permission or is scoped", body = error::ErrorBody),
        (status = 404, description = "Metrics are disabled", body = error::ErrorBody)))]
async fn metrics(
    _caller: Authorized<GlobalMonitorAccess>,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let handle = state
        .metrics
        .as_ref()
        .ok_or_else(|| ApiError::not_found("metrics are disabled"))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response())
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
async fn openapi_json(axum::Extension(document): axum::Extension<OpenApiJson>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document.0.as_str().to_string(),
    )
        .into_response()
}
