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

use crate::app::AppState;
use crate::domain::{Application, DEFAULT_CHANNEL, parse_channel, parse_version};
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
        _ => "armv7",
    }
}

/// A timestamp the way Tauri requires it (RFC 3339, whole seconds, `Z`).
fn rfc3339(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// NuGet package names as Squirrel.Windows and Velopack expect them.
fn nupkg_name(package_id: &str, version: &Version, delta: bool) -> String {
    let kind = if delta { "delta" } else { "full" };
    format!("{package_id}-{version}-{kind}.nupkg")
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

/// Splits `<id>-<version>-full.nupkg` / `-delta.nupkg` into (version, delta).
fn parse_nupkg_name(file: &str) -> Option<(Version, bool)> {
    let (stem, delta) = if let Some(stem) = file.strip_suffix("-full.nupkg") {
        (stem, false)
    } else {
        (file.strip_suffix("-delta.nupkg")?, true)
    };
    stem.match_indices('-')
        .find_map(|(at, _)| Version::parse(&stem[at + 1..]).ok())
        .map(|v| (v, delta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nupkg_names_round_trip() {
        for (id, version, delta) in [
            ("my-app", "1.2.3", false),
            ("App", "2.0.0-beta.1", true),
            ("a.b-c", "10.0.1-rc-2", false),
        ] {
            let version = Version::parse(version).unwrap();
            let name = nupkg_name(id, &version, delta);
            assert_eq!(parse_nupkg_name(&name), Some((version, delta)), "{name}");
        }
        assert_eq!(parse_nupkg_name("App-1.0.0.zip"), None);
        let squirrel = |v: &str| squirrel_version(&Version::parse(v).unwrap());
        assert_eq!(squirrel("1.2.0").as_deref(), Some("1.2.0"));
        assert_eq!(squirrel("1.2.0-beta.1").as_deref(), Some("1.2.0-beta-1"));
        assert_eq!(squirrel("1.2.0+build.7").as_deref(), Some("1.2.0"));
        assert_eq!(squirrel("1.2.0-1"), None);
        assert_eq!(parse_nupkg_name("App-full.nupkg"), None);
    }
}
