//! Feeds a CDN can cache: every successful GET of an update feed or check
//! carries an `ETag` (a hash of its body), `If-None-Match` answers `304`,
//! and `Cache-Control` says how long a shared cache may keep it (per
//! endpoint family, `cache_control.*`). An answer that depends on a
//! per-install rollout bucket is `no-store`.

use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::state::AppState;
use crate::config::CacheControlSettings;

/// Feeds are rendered by this server and small; a body past this is passed
/// on without an `ETag` rather than held in memory.
const LARGEST_TAGGED_BODY: usize = 4 * 1024 * 1024;

/// Headers that pick a rollout bucket; a shared cache must key on them.
const VARY: HeaderValue = HeaderValue::from_static("X-Install-Id, X-User-Staging-Id");
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
const INSTALL_HEADERS: [&str; 2] = ["x-install-id", "x-user-staging-id"];
const INSTALL_PARAMS: [&str; 2] = ["install_id", "stagingId"];

/// The `cache_control` family a path belongs to; `None` for everything
/// that is not an update feed or check.
fn max_age_for(settings: &CacheControlSettings, path: &str) -> Option<Duration> {
    let family = |prefix: &str| path.starts_with(prefix);
    if family("/tauri/") {
        Some(settings.tauri)
    } else if family("/electron-updater/") {
        Some(settings.electron_updater)
    } else if family("/electron/") {
        Some(settings.squirrel)
    } else if family("/sparkle/") {
        Some(settings.sparkle)
    } else if family("/velopack/") {
        Some(settings.velopack)
    } else if path == "/api/v1/latest" || is_check_path(path) {
        Some(settings.checks)
    } else {
        None
    }
}

/// `/api/v1/updates/{app}/check` or `/api/v1/updates/{app}/latest`.
fn is_check_path(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    matches!(
        segments.as_slice(),
        ["api", "v1", "updates", _, "check" | "latest"]
    )
}

fn is_per_install(request: &Request) -> bool {
    let in_query = request.uri().query().is_some_and(|query| {
        query.split('&').any(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            INSTALL_PARAMS.contains(&name)
        })
    });
    in_query
        || INSTALL_HEADERS
            .iter()
            .any(|name| request.headers().contains_key(*name))
}

fn cache_control(max_age: Duration, per_install: bool) -> HeaderValue {
    if per_install || max_age.is_zero() {
        return NO_STORE;
    }
    HeaderValue::try_from(format!("public, max-age={}", max_age.as_secs())).unwrap_or(NO_STORE)
}

fn entity_tag(body: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(body);
    HeaderValue::try_from(format!("\"{}\"", hex::encode(&digest[..16])))
        .expect("a quoted hex string is a valid header value")
}

/// RFC 9110 §13.1.2: weak comparison, a list of tags or `*`.
fn none_match(headers: &HeaderMap, tag: &HeaderValue) -> bool {
    let tag = tag.as_bytes();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/").as_bytes() == tag)
}

pub async fn feed_cache(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let is_read = matches!(*request.method(), Method::GET | Method::HEAD);
    let max_age = match max_age_for(&state.settings.cache_control, request.uri().path()) {
        Some(max_age) if is_read => max_age,
        _ => return next.run(request).await,
    };
    let per_install = is_per_install(&request);
    let conditional = request.headers().clone();
    let response = next.run(request).await;
    if !matches!(response.status(), StatusCode::OK | StatusCode::NO_CONTENT) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    parts
        .headers
        .insert(header::CACHE_CONTROL, cache_control(max_age, per_install));
    parts.headers.insert(header::VARY, VARY);
    if parts.status == StatusCode::NO_CONTENT {
        return Response::from_parts(parts, body);
    }
    let small = http_body::Body::size_hint(&body)
        .upper()
        .is_some_and(|size| size <= LARGEST_TAGGED_BODY as u64);
    if !small {
        return Response::from_parts(parts, body);
    }
    let Ok(bytes) = to_bytes(body, LARGEST_TAGGED_BODY).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let tag = entity_tag(&bytes);
    let not_modified = none_match(&conditional, &tag);
    parts.headers.insert(header::ETAG, tag);
    if not_modified {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists_and_star() {
        let tag = entity_tag(b"feed");
        let quoted = tag.to_str().unwrap().to_string();
        for value in [
            quoted.clone(),
            format!("W/{quoted}"),
            format!("\"other\", {quoted}"),
            "*".to_string(),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(header::IF_NONE_MATCH, value.parse().unwrap());
            assert!(none_match(&headers, &tag), "{value}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, "\"other\"".parse().unwrap());
        assert!(!none_match(&headers, &tag));
        assert!(!none_match(&HeaderMap::new(), &tag));
    }

    #[test]
    fn only_feeds_and_checks_belong_to_a_family() {
        let settings = CacheControlSettings {
            sparkle: Duration::from_secs(5),
            ..CacheControlSettings::default()
        };
        assert_eq!(
            max_age_for(&settings, "/sparkle/demo/darwin/arm64/appcast.xml"),
            Some(Duration::from_secs(5))
        );
        for path in [
            "/api/v1/updates/demo/check",
            "/api/v1/updates/demo/latest",
            "/api/v1/latest",
            "/electron/demo/stable/darwin/arm64/1.0.0",
        ] {
            assert_eq!(max_age_for(&settings, path), Some(Duration::from_secs(60)));
        }
        for path in [
            "/api/v1/updates/demo/releases",
            "/api/v1/updates/demo/releases/check",
            "/api/v1/updates/demo",
            "/health",
            "/console/",
        ] {
            assert_eq!(max_age_for(&settings, path), None, "{path}");
        }
    }
}
