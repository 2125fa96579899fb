//! Webhooks (`/api/v1/webhooks`), for an unscoped admin key: register one
//! for an application or for all, list, read, delete, and read its
//! delivery log. The signing secret is returned on creation only.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::{Authorized, GlobalAdminAccess};
use super::body::{Fields, FromBody, JsonBody};
use super::error::{ApiError, ErrorBody};
use super::extract::ApiQuery;
use crate::domain::webhook::{DeliveryAttempt, Webhook};
use crate::webhooks::{self, WebhookDraft};

const MAX_DELIVERIES: u32 = 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, delete_webhook))
        .routes(routes!(list_deliveries))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    id: String,
    /// `null`: events of every application.
    application_id: Option<String>,
    url: String,
    events: Vec<String>,
    created_at: DateTime<Utc>,
    created_by: String,
}

impl From<&Webhook> for WebhookView {
    fn from(hook: &Webhook) -> Self {
        Self {
            id: hook.id.clone(),
            application_id: hook.application_id.clone(),
            url: hook.url.clone(),
            events: hook.events.clone(),
            created_at: hook.created_at,
            created_by: hook.created_by.clone(),
        }
    }
}

#[derive(utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// `https://` target (see `webhooks.allow_http` and `webhooks.allow_private_addresses`).
    url: String,
    /// Event types (`release.published`), groups (`application.*`) or `*`.
    events: Vec<String>,
    /// Only this application's events; omit for every application.
    #[serde(default)]
    application_id: Option<String>,
    /// A `whsec_<base64>` secret; omit to have one generated.
    #[serde(default)]
    secret: Option<String>,
}

impl FromBody for CreateWebhookRequest {
    fn from_body(fields: &mut Fields<'_>) -> Self {
        Self {
            url: fields.required("url"),
            events: fields.required("events"),
            application_id: fields.optional("application_id"),
            secret: fields.optional("secret"),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedWebhookResponse {
    webhook: WebhookView,
    /// The signing secret (`whsec_...`): shown this once.
    secret: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ListWebhooksResponse {
    webhooks: Vec<WebhookView>,
}

fn valid_webhook_id(id: &str) -> Result<(), ApiError> {
    let ok = id
        .strip_prefix("wh_")
        .is_some_and(|rest| rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(ApiError::field(
            "webhook_id",
            "must be `wh_` followed by 32 hex characters",
        ))
    }
}

/// Registers a webhook; deliveries start with the next matching change.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks",
    request_body = CreateWebhookRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; the secret is shown this once", body = CreatedWebhookResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks admin permission or is scoped", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody)))]
pub(super) async fn create_webhook(
    Authorized(caller, _): Authorized<GlobalAdminAccess>,
    State(state): State<AppState>,
    body: JsonBody<CreateWebhookRequest>,
) -> Result<(StatusCode, Json<CreatedWebhookResponse>), ApiError> {
    let draft = body
        .check(|body| {
            let draft = WebhookDraft {
                url: body.url,
                events: body.events,
                application_id: body.application_id,
                secret: body.secret,
            };
            webhooks::check(&draft, &state.settings.webhooks).into_result(draft)
        })
        .map_err(ApiError::validation)?;
    let hook = webhooks::create(
        state.registry.store(),
        &caller.origin,
        draft,
        &state.settings.webhooks,
    )
    .await?;
    tracing::info!(event = "security_audit", action = "webhook_created", webhook_id = %hook.id, key_name = %caller.name());
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhookResponse {
            webhook: WebhookView::from(&hook),
            secret: hook.secret,
        }),
    ))
}

/// Every webhook.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The webhooks", body = ListWebhooksResponse),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks admin permission or is scoped", body = ErrorBody)))]
pub(super) async fn list_webhooks(
    _caller: Authorized<GlobalAdminAccess>,
    State(state): State<AppState>,
) -> Result<Json<ListWebhooksResponse>, ApiError> {
    let hooks = state.registry.store().webhooks().await?;
    Ok(Json(ListWebhooksResponse {
        webhooks: hooks.iter().map(WebhookView::from).collect(),
    }))
}

/// One webhook.
#[utoipa::path(get, path = "/api/v1/webhooks/{webhook_id}", tag = "webhooks",
    params(("webhook_id" = String, Path, description = "Webhook id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The webhook", body = WebhookView),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks admin permission or is scoped", body = ErrorBody),
        (status = 404, description = "No such webhook", body = ErrorBody),
        (status = 422, description = "Invalid webhook id", body = ErrorBody)))]
pub(super) async fn get_webhook(
    _caller: Authorized<GlobalAdminAccess>,
    State(state): State<AppState>,
    Path(webhook_id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    valid_webhook_id(&webhook_id)?;
    let hook = webhooks::find(state.registry.store(), &webhook_id).await?;
    Ok(Json(WebhookView::from(&hook)))
}

/// Deletes a webhook with its pending deliveries and delivery log.
#[utoipa::path(delete, path = "/api/v1/webhooks/{webhook_id}", tag = "webhooks",
    params(("webhook_id" = String, Path, description = "Webhook id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks admin permission or is scoped", body = ErrorBody),
        (status = 404, description = "No such webhook", body = ErrorBody),
        (status = 422, description = "Invalid webhook id", body = ErrorBody)))]
pub(super) async fn delete_webhook(
    Authorized(caller, _): Authorized<GlobalAdminAccess>,
    State(state): State<AppState>,
    Path(webhook_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    valid_webhook_id(&webhook_id)?;
    webhooks::delete(state.registry.store(), &caller.origin, &webhook_id).await?;
    tracing::info!(event = "security_audit", action = "webhook_deleted", %webhook_id, key_name = %caller.name());
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesParams {
    /// 1-1000, default 100.
    limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// The `webhook-id` header: the same on every attempt of one event.
    message_id: String,
    event_type: String,
    at: DateTime<Utc>,
    /// The receiver's HTTP status; `null` when none came (refused, timed out).
    status: Option<u16>,
    error: Option<String>,
    duration_ms: u64,
    succeeded: bool,
}

impl From<DeliveryAttempt> for DeliveryView {
    fn from(a: DeliveryAttempt) -> Self {
        Self {
            message_id: a.message_id,
            event_type: a.event_type,
            at: a.at,
            status: a.status,
            error: a.error,
            duration_ms: a.duration_ms,
            succeeded: a.succeeded,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveriesResponse {
    /// Newest first.
    deliveries: Vec<DeliveryView>,
}

/// A webhook's delivery attempts, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{webhook_id}/deliveries", tag = "webhooks",
    params(("webhook_id" = String, Path, description = "Webhook id"), DeliveriesParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The attempts", body = DeliveriesResponse),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks admin permission or is scoped", body = ErrorBody),
        (status = 404, description = "No such webhook", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody)))]
pub(super) async fn list_deliveries(
    _caller: Authorized<GlobalAdminAccess>,
    State(state): State<AppState>,
    Path(webhook_id): Path<String>,
    ApiQuery(params): ApiQuery<DeliveriesParams>,
) -> Result<Json<DeliveriesResponse>, ApiError> {
    valid_webhook_id(&webhook_id)?;
    let limit = params.limit.unwrap_or(100);
    if !(1..=MAX_DELIVERIES).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            format!("must be between 1 and {MAX_DELIVERIES}"),
        ));
    }
    let store = state.registry.store();
    webhooks::find(store, &webhook_id).await?;
    let attempts = store.deliveries(&webhook_id, limit).await?;
    Ok(Json(DeliveriesResponse {
        deliveries: attempts.into_iter().map(DeliveryView::from).collect(),
    }))
}
