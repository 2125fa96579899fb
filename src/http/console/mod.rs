//! The web console at `/console` (only with `console.enabled`): server-rendered
//! pages, no script at all, so the policy of [`crate::http::assets`] holds
//! and every page reads without JavaScript.
//!
//! - `GET|POST /console/login`, `POST /console/logout`: an API key exchanged
//!   for a session cookie ([`session`]);
//! - `GET /console/apps`, `/console/apps/{app}`: applications, their releases
//!   by channel with files and signatures, `/console/apps/{app}/adoption`
//!   the charts;
//! - `GET|POST /console/apps/{app}/releases/{version}/{platform}/{arch}/{action}`:
//!   rollout control, confirmed with the installs it reaches ([`rollout`]);
//! - `GET /console/audit`, `/console/keys`, `/console/webhooks`: for
//!   unscoped admin keys, as in the API.
//!
//! Errors answer as HTML pages to a browser (which asks for `text/html`)
//! and as the API's JSON otherwise.

mod admin;
mod adoption;
mod apps;
mod audit;
mod charts;
mod layout;
mod login;
mod rollout;
mod session;

use axum::Router;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::http::AppState;
use crate::http::assets::embedded;
use crate::http::error::ApiError;

pub(crate) const STYLESHEET_PATH: &str = "/console/assets/console.css";
const STYLESHEET: &str = include_str!("console.css");
pub(crate) const ICON_PATH: &str = "/console/assets/icon.svg";
const ICON: &str = include_str!("icon.svg");
const HOME: &str = "/console/apps";

/// The console's routes; none when it is off, so `/console` is a 404 then.
pub fn router(enabled: bool) -> Router<AppState> {
    if !enabled {
        return Router::new();
    }
    Router::new()
        .route(STYLESHEET_PATH, get(stylesheet))
        .route(ICON_PATH, get(icon))
        .route("/console", get(|| async { Redirect::to(HOME) }))
        .route("/console/login", get(login::form).post(login::sign_in))
        .route("/console/logout", axum::routing::post(login::sign_out))
        .route(HOME, get(apps::list))
        .route("/console/apps/{app}", get(apps::show))
        .route("/console/apps/{app}/adoption", get(adoption::show))
        .route(
            "/console/apps/{app}/releases/{version}/{platform}/{arch}/{action}",
            get(rollout::confirm).post(rollout::apply),
        )
        .route("/console/audit", get(audit::show))
        .route("/console/keys", get(admin::keys))
        .route("/console/webhooks", get(admin::webhooks))
}

async fn stylesheet() -> Response {
    embedded("text/css; charset=utf-8", STYLESHEET)
}

async fn icon() -> Response {
    embedded("image/svg+xml", ICON)
}

fn app_path(app_id: &str) -> String {
    format!("/console/apps/{}", encode(app_id))
}

/// A path segment, percent-encoded (ids are already plain, versions may
/// hold `+`).
fn encode(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// An error of a console request: an HTML page for a browser, the API's
/// JSON for anything else.
pub struct ConsoleError {
    error: ApiError,
    html: bool,
}

impl ConsoleError {
    fn new(error: ApiError, headers: &HeaderMap) -> Self {
        let html = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
        Self { error, html }
    }
}

impl IntoResponse for ConsoleError {
    /// The API's answer (its status and headers, `Retry-After` among them)
    /// with the page as its body.
    fn into_response(self) -> Response {
        if !self.html {
            return self.error.into_response();
        }
        let page = layout::error_page(self.error.status(), self.error.message());
        let (mut parts, _) = self.error.into_response().into_parts();
        let (page_parts, body) = page.into_parts();
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.headers.extend(page_parts.headers);
        Response::from_parts(parts, body)
    }
}

/// `?` on an [`ApiError`] (or anything that becomes one, a store error)
/// inside a handler that has the request headers.
trait OrPage<T> {
    fn or_page(self, headers: &HeaderMap) -> Result<T, ConsoleError>;
}

impl<T, E: Into<ApiError>> OrPage<T> for Result<T, E> {
    fn or_page(self, headers: &HeaderMap) -> Result<T, ConsoleError> {
        self.map_err(|e| ConsoleError::new(e.into(), headers))
    }
}
