//! `GET /api/v1/jobs/{job_id}`: a publish that outlasted its request, as
//! kept in the store, so any replica answers for it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::{Authorized, PublishAccess};
use super::error::{ApiError, ErrorBody};
use super::releases::PublishResponse;
use crate::domain::job::{Job, JobStatus};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_job))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatusView {
    Running,
    Succeeded,
    Failed,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct JobView {
    id: String,
    status: JobStatusView,
    application_id: String,
    version: String,
    created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finished_at: Option<DateTime<Utc>>,
    /// Once succeeded: the publish's answer, as a 200 or 201 would carry it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<PublishResponse>)]
    result: Option<serde_json::Value>,
    /// Once failed: the error body the publish would have answered with
    /// (e.g. a 422 naming `targets[i].files[j].<field>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ErrorBody>)]
    error: Option<serde_json::Value>,
}

fn parse(text: Option<&str>) -> Option<serde_json::Value> {
    text.map(|t| serde_json::from_str(t).unwrap_or(serde_json::Value::Null))
}

impl JobView {
    fn new(job: &Job, now: DateTime<Utc>) -> Self {
        let mut view = Self {
            id: job.id.clone(),
            status: match job.status {
                JobStatus::Running => JobStatusView::Running,
                JobStatus::Succeeded => JobStatusView::Succeeded,
                JobStatus::Failed => JobStatusView::Failed,
            },
            application_id: job.application_id.clone(),
            version: job.version.clone(),
            created_at: job.created_at,
            finished_at: job.finished_at,
            result: parse(job.result.as_deref()),
            error: parse(job.error.as_deref()),
        };
        if job.is_abandoned(now) {
            let abandoned = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "JOB_ABANDONED",
                "the server verifying this publish stopped before it finished, and nothing was \
                 published; publish again (re-running a publish is safe)",
            );
            view.status = JobStatusView::Failed;
            view.error = serde_json::to_value(abandoned.body(String::new())).ok();
        }
        view
    }
}

/// A publish job: `running` until every file of every new target was
/// verified and the releases stored (`succeeded`, with the publish's answer
/// in `result`) or refused (`failed`, with the error body in `error`). A job
/// still running after its deadline (verification timeout + 1 minute) is
/// reported `failed`: the replica doing it stopped.
#[utoipa::path(get, path = "/api/v1/jobs/{job_id}", tag = "releases",
    params(("job_id" = String, Path, description = "The job id from a 202's `Location`")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The job", body = JobView),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks publish permission or is not allowed for the job's application", body = ErrorBody),
        (status = 404, description = "Unknown job (finished jobs are kept 24 hours)", body = ErrorBody)))]
async fn get_job(
    Authorized(caller, _): Authorized<PublishAccess>,
    State(state): State<AppState>,
    Path(job_id): Path<String>,
) -> Result<Json<JobView>, ApiError> {
    let job = state
        .registry
        .store()
        .job(&job_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("job '{job_id}' not found")))?;
    caller.check_application(&state, &job.application_id)?;
    Ok(Json(JobView::new(&job, crate::domain::now())))
}
