//! The middleware every request passes through, in one stack read top-down:
//! the first layer listed is the outermost, the first to see a request and
//! the last to see its response.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{from_fn, from_fn_with_state};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use super::state::AppState;
use super::{caching, error, limits, observe};

pub fn apply(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let server = &state.settings.server;
    let hsts = server.tls.enabled().then(|| {
        SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        )
    });
    let stack = ServiceBuilder::new()
        .layer(from_fn(observe::request_id))
        .layer(from_fn_with_state(state.clone(), limits::client_ip))
        .layer(from_fn(observe::access_log))
        .layer(from_fn_with_state(
            state.clone(),
            limits::close_when_draining,
        ))
        .option_layer(hsts)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // Inside the header layers, so preflight answers carry them too.
        .option_layer(cors_layer(
            &server.cors.allowed_origins,
            server.cors.max_age,
        ))
        .layer(from_fn(error::json_errors))
        .layer(from_fn_with_state(state.clone(), caching::feed_cache))
        .layer(from_fn_with_state(state.clone(), limits::rate_limit))
        .layer(from_fn_with_state(state.clone(), limits::store_breaker))
        .layer(from_fn_with_state(state.clone(), limits::request_deadline))
        .layer(CatchPanicLayer::custom(error::panic_response))
        // Innermost: it changes the request body's type, which only the
        // routes themselves accept. axum's own limit covers its extractors.
        .layer(RequestBodyLimitLayer::new(server.max_body_bytes))
        .layer(DefaultBodyLimit::max(server.max_body_bytes));
    router.layer(stack)
}

/// Update checks read it for staged rollouts (`extract::install_id`).
const INSTALL_ID_HEADER: &str = "x-install-id";

/// Answers every `OPTIONS` request itself, so a preflight to a route
/// without an `OPTIONS` handler is not a 405.
fn cors_layer(origins: &[String], max_age: Duration) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static(observe::REQUEST_ID_HEADER),
                HeaderName::from_static(INSTALL_ID_HEADER),
            ])
            .expose_headers([
                HeaderName::from_static(observe::REQUEST_ID_HEADER),
                header::RETRY_AFTER,
            ])
            .max_age(max_age),
    )
}
