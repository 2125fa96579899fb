//! The wire protocols of real updater clients, each rendered from the same
//! release records: Tauri (and cargo-packager), Electron's Squirrel.Mac and
//! Squirrel.Windows, electron-updater, Sparkle and Velopack.
//!
//! Every protocol answers "nothing for you" the way its client expects it
//! (a 204, an older document, an empty feed), never with a 5xx.

mod electron_updater;
mod sparkle;
mod squirrel;
mod tauri;
mod velopack;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use semver::Version;

use crate::http::AppState;
use std::sync::Arc;

use crate::domain::{
    Application, ArtifactKind, DEFAULT_CHANNEL, Release, parse_channel, parse_version,
};
use crate::http::error::ApiError;
use crate::http::extract::valid_app_id;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(tauri::router())
        .merge(squirrel::router())
        .merge(electron_updater::router())
        .merge(sparkle::router())
        .merge(velopack::router())
}

/// The application, or the 404 every protocol gives for an unknown one.
fn application(state: &AppState, app_id: &str) -> Result<Application, ApiError> {
    valid_app_id(app_id, "app_id")?;
    state
        .registry
        .read(|c| c.application(app_id).cloned())
        .ok_or_else(|| ApiError::application_not_found(app_id))
}

fn channel(input: &str) -> Result<String, ApiError> {
    parse_channel(input).map_err(|e| ApiError::field("channel", e))
}

fn current_version(input: &str, field: &str) -> Result<Version, ApiError> {
    parse_version(input).map_err(|e| ApiError::field(field, e))
}

/// Pre-releases are offered on channels other than `stable`, to clients
/// already running one, and when the application allows them everywhere.
fn allow_prerelease(channel: &str, current: Option<&Version>) -> bool {
    channel != DEFAULT_CHANNEL || current.is_some_and(|v| !v.pre.is_empty())
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// A download handed to the artifact's own URL (CDN, object storage).
fn redirect(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(_) => ApiError::not_found("no such package").into_response(),
    }
}

fn with_content_type(content_type: &'static str, body: String) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Tauri's architecture names.
fn tauri_arch(architecture: &str) -> &'static str {
    match architecture {
        "amd64" => "x86_64",
        "arm64" => "aarch64",
        "386" => "i686",
        "universal" => "universal",
        _ => "armv7",
    }
}

/// A timestamp the way Tauri requires it (RFC 3339, whole seconds, `Z`).
fn rfc3339(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The two NuGet package kinds (Squirrel.Windows, Velopack) and the suffix
/// their file names carry.
const PACKAGES: [(ArtifactKind, &str); 2] = [
    (ArtifactKind::Nupkg, "full"),
    (ArtifactKind::NupkgDelta, "delta"),
];

/// `<id>-<version>-full.nupkg` or `-delta.nupkg`.
fn nupkg_name(package_id: &str, version: &str, suffix: &str) -> String {
    format!("{package_id}-{version}-{suffix}.nupkg")
}

/// The URL behind a package name a feed handed out: the good release whose
/// version (as `version_name` writes it) and kind the name ends with.
fn package_url(
    releases: &[Arc<Release>],
    file: &str,
    version_name: impl Fn(&Version) -> Option<String>,
) -> Option<String> {
    releases.iter().filter(|r| !r.yanked).find_map(|release| {
        let version = version_name(release.version())?;
        let (kind, _) = PACKAGES
            .iter()
            .find(|(_, suffix)| file.ends_with(&format!("-{version}-{suffix}.nupkg")))?;
        release.file_of(&[*kind]).map(|f| f.url.clone())
    })
}

/// The version as Squirrel.Windows reads it from a package name (NuGet v2:
/// a pre-release is one label of letters, digits and hyphens):
/// `1.2.0-beta.1` becomes `1.2.0-beta-1`, build metadata is dropped. `None`
/// when the pre-release does not start with a letter, which Squirrel cannot read.
fn squirrel_version(version: &Version) -> Option<String> {
    let core = format!("{}.{}.{}", version.major, version.minor, version.patch);
    if version.pre.is_empty() {
        return Some(core);
    }
    let label = version.pre.as_str().replace('.', "-");
    label
        .starts_with(|c: char| c.is_ascii_alphabetic())
        .then(|| format!("{core}-{label}"))
}

/// The package id a Squirrel or Velopack client sends (`?id=`), else the application id.
fn package_id(requested: Option<&str>, app_id: &str) -> String {
    requested
        .filter(|id| {
            (1..=100).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
        .unwrap_or(app_id)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squirrel_versions() {
        let squirrel = |v: &str| squirrel_version(&Version::parse(v).unwrap());
        assert_eq!(squirrel("1.2.0").as_deref(), Some("1.2.0"));
        assert_eq!(squirrel("1.2.0-beta.1").as_deref(), Some("1.2.0-beta-1"));
        assert_eq!(squirrel("1.2.0+build.7").as_deref(), Some("1.2.0"));
        assert_eq!(squirrel("1.2.0-1"), None);
    }
}
