//! `POST /api/v1/applications/{app_id}/releases`: one version for every
//! target at once, all or nothing. The rules are [`crate::domain::publish`].
//! With `verify_on_register`, the new targets' files are verified first; when
//! that outlasts the request, the answer is a job ([`crate::http::jobs`])
//! and the releases appear once every file passed.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::register::{FileRequest, rollout_percentage};
use super::{target_application, verify_files};
use crate::domain::audit::Origin;
use crate::domain::job::Job;
use crate::domain::publish::{Batch, Planned, PublishDraft, TargetDraft, build_batch, plan};
use crate::domain::{Application, Release};
use crate::http::AppState;
use crate::http::auth::{Authorized, PublishAccess};
use crate::http::body::{Fields, FromBody, JsonBody};
use crate::http::error::{ApiError, ErrorBody, current_request_id};
use crate::registry::WriteError;

/// Time a job may still be reported running after verification's own
/// deadline: storing the releases and the job's outcome.
const JOB_MARGIN: Duration = Duration::from_secs(60);

#[derive(utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    version: String,
    /// Default `stable`.
    channel: Option<String>,
    release_notes: Option<String>,
    /// Default: now. When given, it is part of what a re-run must match.
    release_date: Option<DateTime<Utc>>,
    #[serde(default)]
    required: bool,
    /// Clients below this version are not offered this release.
    minimum_version: Option<String>,
    /// Staged rollout: share of installs offered the release (0-100, default 100).
    rollout_percentage: Option<u8>,
    metadata: Option<BTreeMap<String, String>>,
    /// Every platform and architecture of the version (1 to 64), each with its files.
    targets: Vec<TargetRequest>,
}

/// One platform and architecture of a version, with its files.
#[derive(utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetRequest {
    platform: String,
    architecture: String,
    /// The oldest OS version this build runs on (Sparkle, electron-updater), e.g. `10.15`.
    minimum_system_version: Option<String>,
    /// One file per installer kind (1 to 32).
    files: Vec<FileRequest>,
}

impl FromBody for PublishRequest {
    fn from_body(fields: &mut Fields<'_>) -> Self {
        Self {
            version: fields.required("version"),
            channel: fields.optional("channel"),
            release_notes: fields.optional("release_notes"),
            release_date: fields.optional("release_date"),
            required: fields.optional("required").unwrap_or_default(),
            minimum_version: fields.optional("minimum_version"),
            rollout_percentage: rollout_percentage(fields),
            metadata: fields.optional("metadata"),
            targets: fields.required_objects("targets"),
        }
    }
}

impl FromBody for TargetRequest {
    fn from_body(fields: &mut Fields<'_>) -> Self {
        Self {
            platform: fields.required("platform"),
            architecture: fields.required("architecture"),
            minimum_system_version: fields.optional("minimum_system_version"),
            files: fields.required_objects("files"),
        }
    }
}

impl From<PublishRequest> for PublishDraft {
    fn from(body: PublishRequest) -> Self {
        Self {
            version: body.version,
            channel: body.channel,
            release_notes: body.release_notes,
            release_date: body.release_date,
            required: body.required,
            minimum_version: body.minimum_version,
            rollout_percentage: body.rollout_percentage,
            metadata: body.metadata,
            targets: body
                .targets
                .into_iter()
                .map(|t| TargetDraft {
                    platform: t.platform,
                    architecture: t.architecture,
                    minimum_system_version: t.minimum_system_version,
                    files: t.files.into_iter().map(Into::into).collect(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PublishStatus {
    /// Stored by this publish.
    Published,
    /// Already published with identical content.
    Unchanged,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PublishResponse {
    application_id: String,
    version: String,
    channel: String,
    /// `published` when at least one target is new, else `unchanged`.
    status: PublishStatus,
    /// Whether new files were downloaded and checked (`verify_on_register`).
    verified: bool,
    /// One per target, in request order.
    releases: Vec<PublishedTarget>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PublishedTarget {
    /// `<app>-<version>-<platform>-<arch>`
    id: String,
    platform: String,
    architecture: String,
    status: PublishStatus,
}

impl PublishResponse {
    fn new(planned: &[Planned], verified: bool) -> Self {
        let first = &planned[0].release;
        let any_new = planned.iter().any(|p| p.new);
        let status = |new: bool| match new {
            true => PublishStatus::Published,
            false => PublishStatus::Unchanged,
        };
        Self {
            application_id: first.key.application_id.clone(),
            version: first.version().to_string(),
            channel: first.channel.clone(),
            status: status(any_new),
            verified,
            releases: planned
                .iter()
                .map(|p| PublishedTarget {
                    id: p.release.id(),
                    platform: p.release.key.platform.clone(),
                    architecture: p.release.key.architecture.clone(),
                    status: status(p.new),
                })
                .collect(),
        }
    }

    fn status_code(&self) -> StatusCode {
        match self.status {
            PublishStatus::Published => StatusCode::CREATED,
            PublishStatus::Unchanged => StatusCode::OK,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PublishAccepted {
    job: JobLink,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct JobLink {
    id: String,
    /// Always `running`.
    #[schema(example = "running")]
    status: &'static str,
    /// Where to poll: `/api/v1/jobs/{id}`.
    url: String,
}

/// Publishes a version for every target at once, in one transaction: all
/// targets or none, every field error of every target listed at once.
/// Re-running an identical publish is a 200 that changes nothing; targets
/// new to an existing version are added; a target already published with
/// other content is a 409 listing what differs.
#[utoipa::path(post, path = "/api/v1/applications/{app_id}/releases", tag = "releases",
    params(("app_id" = String, Path, description = "Application id")),
    request_body = PublishRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every target was already published with identical content", body = PublishResponse),
        (status = 201, description = "Published (new targets stored)", body = PublishResponse),
        (status = 202, description = "Verifying the files outlasts the request: poll the job in `Location`", body = PublishAccepted,
            headers(("Location" = String, description = "`/api/v1/jobs/{id}`"))),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "No or invalid key", body = ErrorBody),
        (status = 403, description = "Key lacks publish permission or is not allowed for this application", body = ErrorBody),
        (status = 404, description = "Unknown application", body = ErrorBody),
        (status = 409, description = "A target is already published with other content; `details.differences` lists what differs", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "Invalid fields, or files that failed verification (`targets[i].files[j].<field>`)", body = ErrorBody)))]
pub(super) async fn publish_releases(
    Authorized(caller, _): Authorized<PublishAccess>,
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    body: JsonBody<PublishRequest>,
) -> Result<Response, ApiError> {
    let app = target_application(&state, &caller, &app_id)?;
    let allow_http = state.settings.security.allow_http_download_urls;
    let batch = body
        .check(|body| build_batch(&app, body.into(), allow_http))
        .map_err(ApiError::validation)?;
    // Conflicts and re-runs answer before anything is downloaded.
    let planned = state
        .registry
        .read(|c| plan(batch.clone(), |key| c.version_twin(key)))
        .map_err(WriteError::Differs)?;
    let new: Vec<(usize, Release)> = planned
        .into_iter()
        .enumerate()
        .filter(|(_, p)| p.new)
        .map(|(index, p)| (index, p.release))
        .collect();
    let verified = app.config.verify_on_register;
    if !verified || new.is_empty() {
        let response = commit(&state, &caller.origin, batch, verified).await?;
        return Ok((response.status_code(), Json(response)).into_response());
    }
    let version = batch.releases[0].version().to_string();
    let mut task = tokio::spawn(verify_and_commit(
        state.clone(),
        caller.origin.clone(),
        app,
        batch,
        new,
    ));
    let wait = verification_wait(state.settings.server.request_timeout);
    if let Ok(joined) = tokio::time::timeout(wait, &mut task).await {
        let response = joined.map_err(ApiError::internal)??;
        return Ok((response.status_code(), Json(response)).into_response());
    }
    let deadline = state.downloader.timeout() + JOB_MARGIN;
    let job = Job::start(
        &app_id,
        &version,
        crate::domain::now()
            + chrono::Duration::from_std(deadline).unwrap_or(chrono::Duration::MAX),
    );
    state.registry.store().insert_job(&job).await?;
    tracing::info!(job_id = %job.id, %app_id, %version, "publish verification continues as a job");
    let url = format!("/api/v1/jobs/{}", job.id);
    let accepted = PublishAccepted {
        job: JobLink {
            id: job.id.clone(),
            status: "running",
            url: url.clone(),
        },
    };
    tokio::spawn(finish_job(state, job, task, current_request_id()));
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, url)],
        Json(accepted),
    )
        .into_response())
}

/// How long a publish waits for verification before answering with a job:
/// three quarters of `server.request_timeout`, leaving the rest for storing
/// the job and answering within the request's deadline.
fn verification_wait(request_timeout: Duration) -> Duration {
    request_timeout * 3 / 4
}

async fn commit(
    state: &AppState,
    origin: &Origin,
    batch: Batch,
    verified: bool,
) -> Result<PublishResponse, ApiError> {
    let planned = state.registry.add_releases(origin, batch).await?;
    let response = PublishResponse::new(&planned, verified);
    if response.status == PublishStatus::Published {
        tracing::info!(event = "security_audit", action = "releases_published", app_id = %response.application_id, version = %response.version, targets = planned.iter().filter(|p| p.new).count(), key_name = %origin.actor.name);
    }
    Ok(response)
}

/// Verifies every file of the new targets, then stores the batch. `new`
/// pairs each new release with its index in the request, so a problem is
/// reported under `targets[<index>].files[<file>].<field>`.
async fn verify_and_commit(
    state: AppState,
    origin: Origin,
    app: Application,
    batch: Batch,
    new: Vec<(usize, Release)>,
) -> Result<PublishResponse, ApiError> {
    let (indices, releases): (Vec<usize>, Vec<Release>) = new.into_iter().unzip();
    verify_files(&state, &app, &releases, &origin.actor.name, |problem| {
        format!(
            "targets[{}].files[{}].{}",
            indices[problem.release], problem.file, problem.field
        )
    })
    .await?;
    commit(&state, &origin, batch, true).await
}

/// Waits for a publish that outlasted its request and stores its outcome in
/// its job: the answer the request would have had, or its error body.
async fn finish_job(
    state: AppState,
    job: Job,
    task: tokio::task::JoinHandle<Result<PublishResponse, ApiError>>,
    request_id: String,
) {
    let outcome = match task.await {
        Ok(Ok(response)) => Ok(to_json(&response)),
        Ok(Err(error)) => Err(to_json(&error.body(request_id))),
        Err(panicked) => {
            tracing::error!(error = %panicked, job_id = %job.id, "publish job failed");
            Err(to_json(&ApiError::internal(&panicked).body(request_id)))
        }
    };
    let finished = job.finish(outcome);
    if let Err(e) = state.registry.store().update_job(&finished).await {
        tracing::error!(error = %e, job_id = %finished.id, "storing a publish job's outcome failed");
    }
}

/// These bodies always serialize; `null` would only stand for a bug.
fn to_json(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .unwrap_or(serde_json::Value::Null)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_publish_waits_three_quarters_of_the_request_deadline() {
        assert_eq!(
            verification_wait(Duration::from_secs(30)),
            Duration::from_millis(22_500)
        );
    }
}
