//! Middleware for who the client is and how much it may ask: the client IP
//! for everything after it, the per-IP rate limit, the request deadline, and
//! `Connection: close` while draining. The rules live in [`crate::access`].

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::watch;

use super::error::ApiError;
use super::state::AppState;

/// The client address used for rate limits and logs.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

fn is_probe(path: &str) -> bool {
    matches!(path, "/health" | "/health/ready" | "/api/v1/health")
}

/// Resolves the client IP for everything after it (logs, limits, auth).
pub async fn client_ip(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let ip = state.client_ips.resolve(peer, request.headers());
    request.extensions_mut().insert(ClientIp(ip));
    next.run(request).await
}

/// The per-IP request limit. Probes are exempt, so a busy client cannot fail them.
/// Cuts a request off after `server.request_timeout` with a 408. Time a
/// handler spends in [`RequestBudget::excluding`] (downloading files to
/// verify them, which has its own deadline) does not count.
pub async fn request_deadline(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let budget = RequestBudget::new(state.settings.server.request_timeout);
    let mut changes = budget.0.subscribe();
    request.extensions_mut().insert(budget);
    let response = next.run(request);
    tokio::pin!(response);
    loop {
        let current = *changes.borrow_and_update();
        let expiry = async {
            if current.paused {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep_until(current.deadline).await;
        };
        tokio::select! {
            response = &mut response => return response,
            () = expiry => return axum::http::StatusCode::REQUEST_TIMEOUT.into_response(),
            _ = changes.changed() => {}
        }
    }
}

/// A request's deadline, set by [`request_deadline`].
#[derive(Clone)]
pub struct RequestBudget(Arc<watch::Sender<Budget>>);

#[derive(Clone, Copy)]
struct Budget {
    deadline: tokio::time::Instant,
    paused: bool,
}

impl RequestBudget {
    fn new(limit: std::time::Duration) -> Self {
        Self(Arc::new(watch::Sender::new(Budget {
            deadline: tokio::time::Instant::now() + limit,
            paused: false,
        })))
    }

    /// Runs `work` with the deadline stopped; the time it took is added to
    /// the deadline afterwards.
    pub async fn excluding<F: Future>(&self, work: F) -> F::Output {
        struct Resume<'a>(&'a watch::Sender<Budget>, tokio::time::Instant);
        impl Drop for Resume<'_> {
            fn drop(&mut self) {
                let paused_for = self.1.elapsed();
                self.0.send_modify(|budget| {
                    budget.paused = false;
                    budget.deadline += paused_for;
                });
            }
        }
        self.0.send_modify(|budget| budget.paused = true);
        let _resume = Resume(&self.0, tokio::time::Instant::now());
        work.await
    }
}

/// Refuses writes with 503 and `Retry-After` at once while the store is
/// known to be unreachable (see [`crate::registry::Registry::admit_write`]).
/// Reads are served from memory and pass; so do the update check sent as a
/// POST and console sign-in and sign-out, which do not need the store.
pub async fn store_breaker(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let writes = !matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    ) && !matches!(path, "/api/v1/check" | "/console/login" | "/console/logout");
    if writes && let Err(open) = state.registry.admit_write().await {
        return ApiError::store_unavailable(whole_seconds(open.retry_after)).into_response();
    }
    next.run(request).await
}

/// While draining, every response asks the client (or proxy) to close its
/// connection, so nothing is sent on a keep-alive connection that is about
/// to close.
pub async fn close_when_draining(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if state.health.is_draining() {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

/// A `Retry-After` value: the wait rounded up, at least one second.
fn whole_seconds(wait: std::time::Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

pub async fn rate_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let (Some(limiter), Some(ClientIp(ip))) = (
        &state.request_limiter,
        request.extensions().get::<ClientIp>(),
    ) && !is_probe(request.uri().path())
        && let Err(wait) = limiter.check(ip)
    {
        return ApiError::too_many_requests(whole_seconds(wait)).into_response();
    }
    next.run(request).await
}
