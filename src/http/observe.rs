//! Request ids, one access-log line per request, and HTTP metrics labelled by
//! the matched route (never the raw path, which an attacker controls).

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use super::error::{ErrorCause, REQUEST_ID};
use super::limits::ClientIp;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// An incoming id is kept when it is 1–128 characters of `[A-Za-z0-9._:-]`;
/// anything else is replaced, so logs cannot be forged through it.
fn is_valid_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

pub async fn request_id(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_valid_request_id(v))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
    let header =
        HeaderValue::from_str(&id).expect("validated or generated ids are valid header values");
    let mut response = REQUEST_ID.scope(id, next.run(request)).await;
    response.headers_mut().insert(REQUEST_ID_HEADER, header);
    response
}

fn is_probe(route: &str) -> bool {
    matches!(route, "/health" | "/health/ready" | "/api/v1/health")
}

pub async fn access_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let client_ip = request.extensions().get::<ClientIp>().map(|c| c.0);
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let request_id = REQUEST_ID.try_with(Clone::clone).unwrap_or_default();

    metrics::counter!(
        "updater_http_requests_total",
        "method" => method.to_string(),
        "route" => route.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!(
        "updater_http_request_duration_seconds",
        "method" => method.to_string(),
        "route" => route.clone()
    )
    .record(elapsed.as_secs_f64());

    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let client_ip = client_ip.map(|ip| ip.to_string()).unwrap_or_default();
    if let Some(ErrorCause(cause)) = response.extensions().get::<ErrorCause>() {
        tracing::error!(target: "updater::access", %request_id, %method, %route, status, latency_ms, %client_ip, error = %cause, "request failed");
    } else if is_probe(&route) {
        tracing::debug!(target: "updater::access", %request_id, %method, %route, status, latency_ms, %client_ip, "request");
    } else {
        tracing::info!(target: "updater::access", %request_id, %method, %route, status, latency_ms, %client_ip, "request");
    }
    response
}
