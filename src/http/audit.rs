//! `GET /api/v1/audit`: the audit log, newest first, for an unscoped admin
//! key. Entries are never edited or deleted through the API.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::{Authorized, GlobalAdminAccess};
use super::error::{ApiError, ErrorBody};
use super::extract::ApiQuery;
use crate::domain::audit::{AuditEntry, AuditQuery};

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;
pub(in crate::http) const MAX_FILTER_LEN: usize = 200;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only entries about this application.
    application: Option<String>,
    /// A key id or an actor name.
    actor: Option<String>,
    /// An action (`release.published`) or a prefix ending in `.` (`key.`).
    action: Option<String>,
    /// Entries at or after this time (RFC 3339).
    since: Option<DateTime<Utc>>,
    /// Entries before this time (RFC 3339).
    until: Option<DateTime<Utc>>,
    /// `next_cursor` of the previous page.
    cursor: Option<i64>,
    /// 1-1000, default 100.
    limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ActorView {
    /// `managed`, `config`, `cli` or `anonymous`.
    kind: &'static str,
    key_id: Option<String>,
    name: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FieldChangeView {
    field: String,
    before: Option<String>,
    after: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditEntryView {
    id: i64,
    at: DateTime<Utc>,
    actor: ActorView,
    client_ip: Option<String>,
    request_id: Option<String>,
    action: String,
    application_id: Option<String>,
    target: String,
    changes: Vec<FieldChangeView>,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(entry: AuditEntry) -> Self {
        Self {
            id: entry.id,
            at: entry.at,
            actor: ActorView {
                kind: entry.actor.kind.as_str(),
                key_id: entry.actor.key_id,
                name: entry.actor.name,
            },
            client_ip: entry.client_ip,
            request_id: entry.request_id,
            action: entry.action,
            application_id: entry.application_id,
            target: entry.target,
            changes: entry
                .changes
                .0
                .into_iter()
                .map(|c| FieldChangeView {
                    field: c.field,
                    before: c.before,
                    after: c.after,
                })
                .collect(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditResponse {
    entries: Vec<AuditEntryView>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    next_cursor: Option<i64>,
}

/// What every reader of the log (this API, the console) may ask: a limit
/// of 1-1000, filters of at most 200 characters, a positive cursor.
pub(in crate::http) fn check_query(query: &AuditQuery) -> Result<(), ApiError> {
    if !(1..=MAX_LIMIT).contains(&query.limit) {
        return Err(ApiError::field(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    for (name, value) in [
        ("application", &query.application_id),
        ("actor", &query.actor),
        ("action", &query.action),
    ] {
        if value
            .as_ref()
            .is_some_and(|v| v.chars().count() > MAX_FILTER_LEN)
        {
            return Err(ApiError::field(
                name,
                format!("must be at most {MAX_FILTER_LEN} characters"),
            ));
        }
    }
    if query.before.is_some_and(|c| c < 1) {
        return Err(ApiError::field("cursor", "must be a positive entry id"));
    }
    Ok(())
}

/// The audit log, newest first, with cursor pagination.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    params(AuditParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of entries", body = AuditResponse),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks admin permission or is scoped", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody),
        (status = 503, description = "The store is unavailable", body = ErrorBody)))]
pub(super) async fn list_audit(
    _caller: Authorized<GlobalAdminAccess>,
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<AuditResponse>, ApiError> {
    let query = AuditQuery {
        application_id: params.application,
        actor: params.actor,
        action: params.action,
        since: params.since,
        until: params.until,
        before: params.cursor,
        limit: params.limit.unwrap_or(DEFAULT_LIMIT),
    };
    check_query(&query)?;
    let entries = state.registry.store().audit(&query).await?;
    let next_cursor = (entries.len() == query.limit as usize)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(Json(AuditResponse {
        entries: entries.into_iter().map(AuditEntryView::from).collect(),
        next_cursor,
    }))
}
