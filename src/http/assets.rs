//! What every HTML surface (the console, the download page) shares: the
//! stricter-than-JSON but still script-from-self-only Content Security
//! Policy, the HTML response, and files compiled into the binary.
//!
//! The middleware sets `default-src 'none'` only when a response carries no
//! policy of its own, so pages set theirs here.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// Scripts, styles and images from this origin only: no inline script or
/// style, no framing, forms post back here.
pub const HTML_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// A rendered page with the HTML policy.
pub fn html(body: String) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(HTML_CSP),
            ),
        ],
        body,
    )
        .into_response()
}

/// A file compiled into the binary (a stylesheet, a script). Cached for an
/// hour: the files change only with the binary.
pub fn embedded(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
        .into_response()
}
