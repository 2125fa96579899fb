//! The public download page of an application that opted in
//! (`config.download_page`), after Hazel and Nuts:
//!
//! - `GET /download/{app}`: the newest public release of each platform, the
//!   visitor's first (from the User-Agent), with sizes, checksums and notes;
//! - `GET /download/{app}/{platform}[/{arch}]`: a redirect to that file;
//! - `GET /download/{app}/feed.atom`: the Atom feed of public versions;
//! - `GET /download/assets/download.css` and `icon.svg`: the page's
//!   stylesheet and icon (with an icon of its own, browsers do not ask for
//!   `/favicon.ico`, which would be a 404).
//!
//! These are pages and redirects, not API operations, so they stay out of
//! the OpenAPI document. An unknown application and one that has not opted
//! in get the same JSON 404, so the page tells nobody which applications
//! exist.

mod feed;
pub(crate) mod labels;
mod notes;
mod page;
mod visitor;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::domain::Application;
use crate::domain::catalog::parse_download_target;
use crate::domain::parse_architecture;
use crate::http::AppState;
use crate::http::assets::{embedded, html};
use crate::http::error::ApiError;
use crate::http::extract::valid_app_id;

const STYLESHEET_PATH: &str = "/download/assets/download.css";
const STYLESHEET: &str = include_str!("download.css");
const ICON_PATH: &str = "/download/assets/icon.svg";
const ICON: &str = include_str!("icon.svg");
/// Versions in the feed: enough for any reader to catch up.
const FEED_ENTRIES: usize = 50;
/// Pages, feeds and redirects may be cached briefly: a new release, a yank
/// or a finished rollout shows within a minute.
const CACHE_BRIEFLY: &str = "public, max-age=60";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(STYLESHEET_PATH, get(stylesheet))
        .route(ICON_PATH, get(icon))
        .route("/download/{app}", get(download_page))
        .route("/download/{app}/feed.atom", get(atom_feed))
        .route("/download/{app}/{platform}", get(download_for_platform))
        .route(
            "/download/{app}/{platform}/{arch}",
            get(download_for_target),
        )
}

fn page_path(app_id: &str) -> String {
    format!("/download/{app_id}")
}

fn feed_path(app_id: &str) -> String {
    format!("/download/{app_id}/feed.atom")
}

fn target_path(app_id: &str, platform: &str, architecture: &str) -> String {
    format!("/download/{app_id}/{platform}/{architecture}")
}

async fn stylesheet() -> Response {
    embedded("text/css; charset=utf-8", STYLESHEET)
}

async fn icon() -> Response {
    embedded("image/svg+xml", ICON)
}

/// The application, when it has a download page; the same 404 otherwise.
fn published_application(state: &AppState, app_id: &str) -> Result<Application, ApiError> {
    valid_app_id(app_id, "app")?;
    state
        .registry
        .read(|catalog| catalog.public_application(app_id).cloned())
        .ok_or_else(|| ApiError::not_found("there is no download page at this address"))
}

fn cached_briefly(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_BRIEFLY),
    );
    response
}

async fn download_page(
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let app = published_application(&state, &app_id)?;
    let downloads = state.registry.read(|c| c.public_downloads(&app_id));
    let visitor = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(visitor::from_user_agent);
    let mut response = cached_briefly(html(page::render(&app, &downloads, visitor)));
    // The first download shown depends on the User-Agent.
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("User-Agent"));
    Ok(response)
}

async fn atom_feed(
    State(state): State<AppState>,
    Path(app_id): Path<String>,
) -> Result<Response, ApiError> {
    let app = published_application(&state, &app_id)?;
    let versions = state
        .registry
        .read(|c| c.public_versions(&app_id, FEED_ENTRIES));
    let response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/atom+xml; charset=utf-8"),
        )],
        feed::render(&app, &versions),
    )
        .into_response();
    Ok(cached_briefly(response))
}

async fn download_for_platform(
    State(state): State<AppState>,
    Path((app_id, platform)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    redirect(&state, &app_id, &platform, None)
}

async fn download_for_target(
    State(state): State<AppState>,
    Path((app_id, platform, arch)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    redirect(&state, &app_id, &platform, Some(&arch))
}

/// A 302 to the newest public release's file for the platform (and
/// architecture), which the visitor's browser then downloads.
fn redirect(
    state: &AppState,
    app_id: &str,
    platform: &str,
    arch: Option<&str>,
) -> Result<Response, ApiError> {
    let app = published_application(state, app_id)?;
    let target = parse_download_target(platform).map_err(ApiError::not_found)?;
    let architecture = arch
        .map(parse_architecture)
        .transpose()
        .map_err(ApiError::not_found)?;
    let download = state
        .registry
        .read(|c| c.public_download(app_id, &target, architecture))
        .ok_or_else(|| {
            let on = arch.map_or_else(String::new, |a| format!(" on `{}`", a.escape_debug()));
            ApiError::not_found(format!(
                "{} has no stable release for `{}`{on}",
                app.name,
                platform.escape_debug()
            ))
        })?;
    // Stored URLs were checked at registration; the parse gives the ASCII
    // form a header needs (punycode host, percent-encoded path).
    let location = url::Url::parse(&download.file.url)
        .ok()
        .and_then(|url| HeaderValue::from_str(url.as_str()).ok())
        .ok_or_else(|| ApiError::internal("a stored download URL does not parse"))?;
    let response = (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
    Ok(cached_briefly(response))
}
