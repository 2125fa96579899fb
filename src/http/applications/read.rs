//! `GET /api/v1/applications` and `GET /api/v1/applications/{app_id}`.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

use super::{ApplicationConfigView, ApplicationInfo, ApplicationStatsInfo, ApplicationSummary};
use crate::http::AppState;
use crate::http::auth::{Authorized, ReadAccess};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiQuery, valid_app_id};
use crate::http::pagination::{PageInfo, Paging};

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

/// Lists applications, ordered by id.
#[utoipa::path(get, path = "/api/v1/applications", tag = "applications",
    params(ListApplicationsParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of applications", body = ListApplicationsResponse),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks read permission", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody)))]
pub(super) async fn list_applications(
    Authorized(caller, _): Authorized<ReadAccess>,
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<ListApplicationsParams>,
) -> Result<Json<ListApplicationsResponse>, ApiError> {
    let paging = Paging::from_params(params.limit, params.offset)?;
    let principal = &caller.principal;
    let page = state.registry.read(|c| {
        c.applications_matching(
            |id| principal.allows_application(id),
            paging.offset,
            paging.limit,
        )
    });
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

/// One application with its config and release statistics.
#[utoipa::path(get, path = "/api/v1/applications/{app_id}", tag = "applications",
    params(("app_id" = String, Path, description = "Application id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The application", body = ApplicationInfo),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks read permission or is not allowed for this application", body = ErrorBody),
        (status = 404, description = "Unknown application", body = ErrorBody),
        (status = 422, description = "Invalid id", body = ErrorBody)))]
pub(super) async fn get_application(
    Authorized(caller, _): Authorized<ReadAccess>,
    State(state): State<AppState>,
    Path(app_id): Path<String>,
) -> Result<Json<ApplicationInfo>, ApiError> {
    valid_app_id(&app_id, "app_id")?;
    caller.check_application(&state, &app_id)?;
    let found = state
        .registry
        .read(|c| Some((c.application(&app_id)?.clone(), c.stats(&app_id)?)));
    let (app, stats) = found.ok_or_else(|| ApiError::application_not_found(&app_id))?;
    Ok(Json(ApplicationInfo {
        id: app.id,
        name: app.name,
        description: app.description,
        platforms: app.platforms,
        config: ApplicationConfigView::from(&app.config),
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
