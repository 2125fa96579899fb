//! `GET /api/v1/applications/{id}/stats`: adoption figures from the
//! analytics (what is kept and how it is counted: docs/analytics.md).

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Authorized, ReadAccess};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiQuery, valid_app_id};
use crate::domain::analytics::{
    AppStats, GroupStats, OutcomeCount, RolloutFunnel, SKETCH_RELATIVE_ERROR, SeriesPoint, StatsBy,
    StatsQuery,
};
use crate::domain::validate::FieldErrors;
use crate::http::AppState;

/// The longest range one request may ask for.
const MAX_RANGE_DAYS: i64 = 400;
const DEFAULT_RANGE_DAYS: i64 = 30;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(application_stats))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    /// Start of the range (inclusive): RFC 3339 or `YYYY-MM-DD`. Default: 30 days before `to`.
    from: Option<String>,
    /// End of the range (exclusive): RFC 3339 or `YYYY-MM-DD`. Default: now.
    to: Option<String>,
    /// `version` (default), `platform` or `channel`.
    by: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StatsResponse {
    application_id: String,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// `version`, `platform` or `channel`.
    by: &'static str,
    /// `hour` when every count of the range is hourly, else `day`.
    granularity: &'static str,
    /// Update checks in the range (exact).
    checks: u64,
    /// Unique installs in the range (estimated from install ids).
    installs: u64,
    /// The relative standard error of install estimates above 128 installs
    /// (below that they are exact).
    installs_relative_error: f64,
    groups: Vec<GroupView>,
    /// Per day and key: installs, and their share of the day's installs.
    series: Vec<SeriesView>,
    /// Checks per answer (exact).
    outcomes: Vec<OutcomeView>,
    /// Per release being rolled out (and the newest of each track):
    /// installs on an older version, offered it, running it.
    funnels: Vec<FunnelView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct GroupView {
    key: String,
    checks: u64,
    installs: u64,
    share: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SeriesView {
    at: DateTime<Utc>,
    key: String,
    installs: u64,
    share: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OutcomeView {
    /// `offered`, `none`, `rollout_excluded` or `rollback`.
    outcome: &'static str,
    /// The version offered or rolled back to; empty otherwise.
    offered: String,
    checks: u64,
}

impl From<OutcomeCount> for OutcomeView {
    fn from(o: OutcomeCount) -> Self {
        Self {
            outcome: o.outcome.as_str(),
            offered: o.offered,
            checks: o.checks,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FunnelView {
    version: String,
    channel: String,
    platform: String,
    architecture: String,
    rollout_percentage: u8,
    paused: bool,
    eligible: u64,
    offered: u64,
    running: u64,
}

impl From<GroupStats> for GroupView {
    fn from(g: GroupStats) -> Self {
        Self {
            key: g.key,
            checks: g.checks,
            installs: g.installs,
            share: g.share,
        }
    }
}

impl From<SeriesPoint> for SeriesView {
    fn from(p: SeriesPoint) -> Self {
        Self {
            at: p.at,
            key: p.key,
            installs: p.installs,
            share: p.share,
        }
    }
}

impl From<RolloutFunnel> for FunnelView {
    fn from(f: RolloutFunnel) -> Self {
        Self {
            version: f.version,
            channel: f.channel,
            platform: f.platform,
            architecture: f.architecture,
            rollout_percentage: f.rollout_percentage,
            paused: f.paused,
            eligible: f.eligible,
            offered: f.offered,
            running: f.running,
        }
    }
}

impl StatsResponse {
    fn new(application_id: String, stats: AppStats) -> Self {
        Self {
            application_id,
            from: stats.from,
            to: stats.to,
            by: stats.by.as_str(),
            granularity: stats.granularity.as_str(),
            checks: stats.checks,
            installs: stats.installs,
            installs_relative_error: SKETCH_RELATIVE_ERROR,
            groups: stats.groups.into_iter().map(Into::into).collect(),
            series: stats.series.into_iter().map(Into::into).collect(),
            outcomes: stats.outcomes.into_iter().map(Into::into).collect(),
            funnels: stats.funnels.into_iter().map(Into::into).collect(),
        }
    }
}

fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.to_utc());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc())
        .ok_or_else(|| "must be an RFC 3339 time or a YYYY-MM-DD date".to_string())
}

/// The query the parameters ask for, or every problem with them.
pub fn stats_query(params: &StatsParams, now: DateTime<Utc>) -> Result<StatsQuery, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut instant = |field: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(parse_instant)
            .transpose()
            .map_err(|e| errors.add(field, e))
            .ok()
            .flatten()
    };
    let to = instant("to", &params.to).unwrap_or(now);
    let from =
        instant("from", &params.from).unwrap_or(to - chrono::Duration::days(DEFAULT_RANGE_DAYS));
    let by = match params.by.as_deref() {
        None => StatsBy::Version,
        Some(text) => StatsBy::parse(text).unwrap_or_else(|| {
            errors.add("by", "must be version, platform or channel");
            StatsBy::Version
        }),
    };
    if from >= to {
        errors.add("from", "must be before `to`");
    } else if to - from > chrono::Duration::days(MAX_RANGE_DAYS) {
        errors.add(
            "from",
            format!("the range may span at most {MAX_RANGE_DAYS} days"),
        );
    }
    errors.into_result(StatsQuery { from, to, by })
}

/// An application's adoption figures: version, platform or channel
/// distribution, uptake over time, and rollout funnels.
#[utoipa::path(get, path = "/api/v1/applications/{app_id}/stats", tag = "applications",
    security(("bearer" = [])),
    params(("app_id" = String, Path, description = "Application id"), StatsParams),
    responses(
        (status = 200, description = "The figures of the range", body = StatsResponse),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks read permission or is not allowed for this application", body = ErrorBody),
        (status = 404, description = "Unknown application", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody),
        (status = 503, description = "The store did not answer in time", body = ErrorBody)))]
async fn application_stats(
    Authorized(caller, _): Authorized<ReadAccess>,
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    ApiQuery(params): ApiQuery<StatsParams>,
) -> Result<Json<StatsResponse>, ApiError> {
    valid_app_id(&app_id, "app_id")?;
    caller.check_application(&state, &app_id)?;
    if state.registry.read(|c| c.application(&app_id).is_none()) {
        return Err(ApiError::application_not_found(&app_id));
    }
    let query = stats_query(&params, Utc::now()).map_err(ApiError::validation)?;
    let stats = state.analytics.stats(&app_id, &query).await?;
    Ok(Json(StatsResponse::new(app_id, stats)))
}
