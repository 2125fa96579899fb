//! The one error type handlers return, and the JSON envelope every error
//! response carries: `{error, message, code, details, timestamp, request_id}`.
//! Clients get a stable code and a readable message; an internal cause
//! travels with the response as [`ErrorCause`] and the access log writes it
//! once, with the request id.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::access::manage::KeyError;
use crate::domain::validate::FieldErrors;
use crate::registry::WriteError;
use crate::store::StoreError;
use crate::webhooks::WebhookError;

tokio::task_local! {
    /// The id of the request being served, for error bodies and logs.
    pub static REQUEST_ID: String;
}

pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Always the literal `error`.
    #[schema(example = "error")]
    pub error: &'static str,
    pub message: String,
    /// Stable machine-readable code, e.g. `VALIDATION_ERROR`.
    #[schema(example = "VALIDATION_ERROR")]
    pub code: &'static str,
    /// Field → problem (text), for validation errors; `differences` (a
    /// list of `{target, field, published, requested}`) for a publish that
    /// conflicts with what is published; otherwise empty.
    pub details: BTreeMap<String, serde_json::Value>,
    pub timestamp: chrono::DateTime<chrono::Utc>,
    pub request_id: String,
}

/// Boxed so `Result<_, ApiError>` stays small on the happy path.
#[derive(Debug)]
pub struct ApiError(Box<ErrorParts>);

#[derive(Debug)]
struct ErrorParts {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: BTreeMap<String, serde_json::Value>,
    headers: HeaderMap,
    cause: Option<String>,
}

/// What went wrong inside, for the log only: a response extension the access
/// log reads, never part of the body.
#[derive(Debug, Clone)]
pub struct ErrorCause(pub Arc<str>);

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self(Box::new(ErrorParts {
            status,
            code,
            message: message.into(),
            details: BTreeMap::new(),
            headers: HeaderMap::new(),
            cause: None,
        }))
    }

    pub fn validation(errors: FieldErrors) -> Self {
        let summary = errors
            .0
            .iter()
            .map(|(field, problem)| format!("{field}: {problem}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_ERROR",
            format!("validation failed: {summary}"),
        );
        error.0.details = errors
            .0
            .into_iter()
            .map(|(field, problem)| (field, problem.into()))
            .collect();
        error
    }

    pub fn field(field: &str, problem: impl Into<String>) -> Self {
        let mut errors = FieldErrors::default();
        errors.add(field, problem);
        Self::validation(errors)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    pub fn application_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "APPLICATION_NOT_FOUND",
            format!("application '{id}' not found"),
        )
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "CONFLICT", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        let mut error = Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message);
        error.0.headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"updater\""),
        );
        error
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMIT_EXCEEDED",
            format!("too many requests; retry after {retry_after_secs} second(s)"),
        )
        .with_retry_after(retry_after_secs)
    }

    /// The store cannot take the write now; the client may retry.
    pub fn store_unavailable(retry_after_secs: u64) -> Self {
        Self::unavailable("storage is temporarily unavailable; retry later")
            .with_retry_after(retry_after_secs)
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.0
            .headers
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        self
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            message,
        )
    }

    /// A failure the client cannot fix. The client sees only a generic
    /// message and the request id; the cause goes to the access log.
    pub fn internal(cause: impl Display) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "internal server error",
        )
        .with_cause(cause)
    }

    fn with_cause(mut self, cause: impl Display) -> Self {
        self.0.cause = Some(cause.to_string());
        self
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The body this error answers with, for `request_id`: what a publish
    /// job keeps as its `error`.
    pub fn body(&self, request_id: String) -> ErrorBody {
        ErrorBody {
            error: "error",
            message: self.0.message.clone(),
            code: self.0.code,
            details: self.0.details.clone(),
            timestamp: chrono::Utc::now(),
            request_id,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body(current_request_id());
        let parts = *self.0;
        let mut response = (parts.status, Json(body)).into_response();
        response.headers_mut().extend(parts.headers);
        if let Some(cause) = parts.cause {
            response.extensions_mut().insert(ErrorCause(cause.into()));
        }
        response
    }
}

/// Every registry outcome's status, code and message, written once.
impl From<WriteError> for ApiError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::ApplicationNotFound(id) => ApiError::application_not_found(&id),
            WriteError::ReleaseNotFound(key) => {
                ApiError::not_found(format!("release '{}' not found", key.id()))
            }
            WriteError::ApplicationExists(id) => {
                ApiError::conflict(format!("application '{id}' already exists"))
            }
            WriteError::ReleaseExists(key) => ApiError::conflict(format!(
                "release '{}' already exists (versions differing only in build metadata are the same release); releases are immutable (delete it first to replace it)",
                key.id()
            )),
            WriteError::HasReleases {
                application_id,
                count,
            } => ApiError::conflict(format!(
                "application '{application_id}' has {count} release(s); delete them first or pass ?force=true"
            )),
            WriteError::Differs(differences) => {
                let mut targets: Vec<&str> =
                    differences.iter().map(|d| d.target.as_str()).collect();
                targets.dedup();
                let mut error = ApiError::conflict(format!(
                    "this version is already published with other content for {} ({} field(s) differ); \
                     publish a new version, or delete those releases first",
                    targets.join(", "),
                    differences.len()
                ));
                let listed = differences
                    .into_iter()
                    .map(|d| {
                        serde_json::json!({
                            "target": d.target,
                            "field": d.field,
                            "published": d.published,
                            "requested": d.requested,
                        })
                    })
                    .collect();
                error
                    .0
                    .details
                    .insert("differences".into(), serde_json::Value::Array(listed));
                error
            }
            WriteError::Invalid(errors) => ApiError::validation(errors),
            WriteError::Store(error) => error.into(),
        }
    }
}

impl From<KeyError> for ApiError {
    fn from(error: KeyError) -> Self {
        match error {
            KeyError::Disabled => ApiError::conflict(error.to_string()),
            KeyError::NotFound(id) => ApiError::not_found(format!("key '{id}' not found")),
            KeyError::Invalid(errors) => ApiError::validation(errors),
            // A duplicate id is a 1-in-2^64 chance; the client may retry.
            KeyError::Store(StoreError::Conflict) => {
                ApiError::conflict("key id collision; retry the request")
            }
            KeyError::Store(error) => error.into(),
        }
    }
}

impl From<WebhookError> for ApiError {
    fn from(error: WebhookError) -> Self {
        match error {
            WebhookError::NotFound(id) => ApiError::not_found(format!("webhook '{id}' not found")),
            WebhookError::Invalid(errors) => ApiError::validation(errors),
            WebhookError::Store(error) => error.into(),
        }
    }
}

/// A store failure: 503 while the store cannot be reached (the client may
/// retry), otherwise a 500. The cause is logged, never sent.
impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(cause) => ApiError::store_unavailable(1)
                .with_cause(format_args!("store unavailable: {cause}")),
            other @ (StoreError::Conflict | StoreError::NotFound | StoreError::Corrupt(_)) => {
                ApiError::internal(other)
            }
        }
    }
}

/// Gives error responses made outside the handlers (unknown route, wrong
/// method, body too large, timeout) the same JSON envelope, keeping their
/// headers (`Allow`, `Retry-After`).
pub async fn json_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    // The console's error pages (HTML, for a browser that asked for it)
    // are answers already; only bodies no handler wrote are replaced.
    let is_answer = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_answer {
        return response;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("NOT_FOUND", "no such endpoint".to_string()),
        StatusCode::METHOD_NOT_ALLOWED => (
            "INVALID_REQUEST",
            format!("method {method} is not allowed on this endpoint"),
        ),
        StatusCode::REQUEST_TIMEOUT => ("REQUEST_TIMEOUT", "the request took too long".to_string()),
        StatusCode::PAYLOAD_TOO_LARGE => ("BAD_REQUEST", "request body too large".to_string()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("BAD_REQUEST", "unsupported content type".to_string())
        }
        StatusCode::TOO_MANY_REQUESTS => ("RATE_LIMIT_EXCEEDED", "too many requests".to_string()),
        StatusCode::SERVICE_UNAVAILABLE => {
            ("SERVICE_UNAVAILABLE", "service unavailable".to_string())
        }
        s if s.is_server_error() => ("INTERNAL_ERROR", "internal server error".to_string()),
        _ => (
            "BAD_REQUEST",
            "the request could not be understood".to_string(),
        ),
    };
    let (mut parts, _) = response.into_parts();
    let rebuilt = ApiError::new(status, code, message).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.extend(rebuilt.headers().clone());
    Response::from_parts(parts, rebuilt.into_body())
}

/// The response for a panicking handler: a JSON 500 with no panic text.
pub fn panic_response(payload: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    let detail = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("non-string panic payload");
    ApiError::internal(format_args!("handler panicked: {detail}")).into_response()
}
