//! `GET /api/v1/updates/{app_id}/releases`: filters, sorting, pagination.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

use super::ReleaseInfo;
use crate::domain::validate::FieldErrors;
use crate::domain::{
    ReleaseFilter, ReleaseSortField, parse_architecture, parse_channel, parse_platform,
    parse_version,
};
use crate::http::AppState;
use crate::http::auth::{Authorized, ReadAccess};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiQuery, valid_app_id};
use crate::http::pagination::{PageInfo, Paging};

#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    Version,
    #[default]
    ReleaseDate,
    Platform,
    Architecture,
    CreatedAt,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListReleasesParams {
    platform: Option<String>,
    /// Comma-separated platforms.
    platforms: Option<String>,
    architecture: Option<String>,
    channel: Option<String>,
    /// Exact version.
    version: Option<String>,
    required: Option<bool>,
    #[serde(default)]
    #[param(inline)]
    sort_by: SortBy,
    #[serde(default)]
    #[param(inline)]
    sort_order: SortOrder,
    /// 1 to 1000, default 50.
    limit: Option<u64>,
    /// Default 0.
    offset: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ListReleasesResponse {
    releases: Vec<ReleaseInfo>,
    #[serde(flatten)]
    page: PageInfo,
}

fn release_filter(params: &ListReleasesParams) -> Result<ReleaseFilter, ApiError> {
    let mut errors = FieldErrors::default();
    let mut filter = ReleaseFilter::default();
    let mut platforms: Vec<&str> = params.platform.iter().map(String::as_str).collect();
    if let Some(list) = &params.platforms {
        platforms.extend(list.split(',').map(str::trim).filter(|p| !p.is_empty()));
    }
    for platform in platforms {
        match parse_platform(platform) {
            Ok(p) => filter.platforms.push(p.to_string()),
            Err(e) => errors.add("platform", e),
        }
    }
    if let Some(arch) = &params.architecture {
        match parse_architecture(arch) {
            Ok(a) => filter.architecture = Some(a.to_string()),
            Err(e) => errors.add("architecture", e),
        }
    }
    if let Some(channel) = &params.channel {
        match parse_channel(channel) {
            Ok(c) => filter.channel = Some(c),
            Err(e) => errors.add("channel", e),
        }
    }
    if let Some(version) = &params.version {
        match parse_version(version) {
            Ok(v) => filter.version = Some(v),
            Err(e) => errors.add("version", e),
        }
    }
    filter.required = params.required;
    errors.into_result(filter).map_err(ApiError::validation)
}

/// Lists an application's releases with filters, sorting and pagination.
#[utoipa::path(get, path = "/api/v1/updates/{app_id}/releases", tag = "releases",
    params(("app_id" = String, Path, description = "Application id"), ListReleasesParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of releases", body = ListReleasesResponse),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks read permission or is not allowed for this application", body = ErrorBody),
        (status = 404, description = "Unknown application", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody)))]
pub(super) async fn list_releases(
    Authorized(caller, _): Authorized<ReadAccess>,
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    ApiQuery(params): ApiQuery<ListReleasesParams>,
) -> Result<Json<ListReleasesResponse>, ApiError> {
    valid_app_id(&app_id, "app_id")?;
    caller.check_application(&state, &app_id)?;
    let paging = Paging::from_params(params.limit, params.offset)?;
    let filter = release_filter(&params)?;
    let sort = match params.sort_by {
        SortBy::Version => ReleaseSortField::Version,
        SortBy::ReleaseDate => ReleaseSortField::ReleaseDate,
        SortBy::Platform => ReleaseSortField::Platform,
        SortBy::Architecture => ReleaseSortField::Architecture,
        SortBy::CreatedAt => ReleaseSortField::CreatedAt,
    };
    let descending = matches!(params.sort_order, SortOrder::Desc);
    let page = state
        .registry
        .read(|c| {
            c.releases(
                &app_id,
                &filter,
                sort,
                descending,
                paging.offset,
                paging.limit,
            )
        })
        .ok_or_else(|| ApiError::application_not_found(&app_id))?;
    Ok(Json(ListReleasesResponse {
        page: paging.info(page.total),
        releases: page
            .items
            .iter()
            .map(|r| ReleaseInfo::from(r.as_ref()))
            .collect(),
    }))
}
