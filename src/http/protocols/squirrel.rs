//! Electron's built-in `autoUpdater`: Squirrel.Mac and Squirrel.Windows.
//!
//! `GET /electron/{app}/{channel}/darwin/{arch}/{current_version}`: Squirrel.Mac
//! JSON (200) or 204. `GET /electron/{app}/{channel}/windows/{arch}/RELEASES`:
//! the Squirrel.Windows feed, whose relative package names are answered by
//! `GET …/windows/{arch}/<id>-<version>-full.nupkg` with a redirect to the file.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use semver::Version;

use super::{
    PACKAGES, allow_prerelease, application, channel, current_version, no_content, nupkg_name,
    package_id, package_url, redirect, rfc3339, squirrel_version, with_content_type,
};
use crate::domain::{
    Application, ArtifactKind, UpdateQuery, channels_followed, normalize_architecture,
    normalize_platform, parse_version,
};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{ApiQuery, install_id};
use crate::http::usage::Checked;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route(
        "/electron/{app}/{channel}/{platform}/{arch}/{last}",
        get(feed),
    )
}

#[derive(Deserialize)]
struct FeedParams {
    /// Squirrel.Windows' package id.
    id: Option<String>,
    #[serde(rename = "localVersion")]
    local_version: Option<String>,
    install_id: Option<String>,
}

#[derive(Serialize)]
struct SquirrelMacUpdate {
    name: String,
    notes: String,
    pub_date: String,
    url: String,
}

async fn feed(
    State(state): State<AppState>,
    Path((app_id, channel_name, platform, arch, last)): Path<(
        String,
        String,
        String,
        String,
        String,
    )>,
    ApiQuery(params): ApiQuery<FeedParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let app = application(&state, &app_id)?;
    let channel_name = channel(&channel_name)?;
    let (Some(platform), Some(architecture)) =
        (normalize_platform(&platform), normalize_architecture(&arch))
    else {
        return Ok(no_content());
    };
    match platform {
        "darwin" => {
            let current = current_version(&last, "current_version")?;
            let install = install_id(&headers, params.install_id.as_deref())?;
            let query = UpdateQuery {
                current_version: &current,
                platform,
                architecture,
                channel: &channel_name,
                allow_prerelease: allow_prerelease(&channel_name, Some(&current)),
                install_id: install.as_deref(),
            };
            // Squirrel.Mac installs whatever a 200 names, so a rollback works.
            let offer = state.registry.read(|c| c.offer(&app_id, &query));
            let sendable = offer.and_then(|o| {
                let file = o.release.file_of(&[ArtifactKind::Zip])?.clone();
                Some((o, file))
            });
            Checked {
                app_id: &app_id,
                channel: &channel_name,
                platform,
                architecture,
                current: Some(&current),
                install_id: install.as_deref(),
            }
            .answered(&state, &query, sendable.as_ref().map(|(offer, _)| offer));
            let Some((offer, file)) = sendable else {
                return Ok(no_content());
            };
            Ok(Json(SquirrelMacUpdate {
                name: offer.release.version().to_string(),
                notes: offer.release.release_notes.clone(),
                pub_date: rfc3339(&offer.release.release_date),
                url: file.url,
            })
            .into_response())
        }
        "windows" if last == "RELEASES" => {
            let package = package_id(params.id.as_deref(), &app_id);
            // A garbled localVersion only loses the minimum_version filter.
            let local = params
                .local_version
                .as_deref()
                .and_then(|v| parse_version(v).ok());
            let body = releases_file(
                &state,
                &app,
                &package,
                architecture,
                &channel_name,
                local.as_ref(),
            );
            Checked {
                app_id: &app_id,
                channel: &channel_name,
                platform,
                architecture,
                current: local.as_ref(),
                install_id: None,
            }
            .listed(&state, body.as_ref().map(|(_, newest)| newest));
            match body {
                Some((body, _)) => Ok(with_content_type("text/plain; charset=utf-8", body)),
                // An empty RELEASES is "corrupt" to Squirrel; 404 is an honest "nothing here".
                None => Err(ApiError::not_found(format!(
                    "no Squirrel.Windows packages for '{app_id}' on windows/{architecture} in channel '{channel_name}'"
                ))),
            }
        }
        "windows" if last.ends_with(".nupkg") => {
            let channels = channels_followed(&channel_name);
            let releases = state
                .registry
                .read(|c| c.track_releases(&app_id, "windows", architecture, Some(&channels)))
                .unwrap_or_default();
            let url = package_url(&releases, &last, squirrel_version);
            match url {
                Some(url) => Ok(redirect(&url)),
                None => Err(ApiError::not_found(format!("no package named '{last}'"))),
            }
        }
        _ => Ok(no_content()),
    }
}

/// `RELEASES` lines for every offered package, oldest first:
/// `<SHA1> <file name> <size>`, plus ` # NN%` for a staged rollout, which
/// Squirrel.Windows applies itself (it sends no install id); with the
/// newest version listed.
fn releases_file(
    state: &AppState,
    app: &Application,
    package: &str,
    architecture: &str,
    channel_name: &str,
    local: Option<&Version>,
) -> Option<(String, Version)> {
    let channels = channels_followed(channel_name);
    let prerelease = allow_prerelease(channel_name, local);
    let releases = state
        .registry
        .read(|c| c.track_releases(&app.id, "windows", architecture, Some(&channels)))?;
    let mut lines = String::new();
    let mut newest: Option<&Version> = None;
    for release in releases
        .iter()
        .filter(|r| r.listable(app, prerelease, local))
    {
        let Some(version) = squirrel_version(release.version()) else {
            continue;
        };
        for (kind, suffix) in PACKAGES {
            let Some(file) = release.file_of(&[kind]) else {
                continue;
            };
            let Some(sha1) = &file.sha1 else {
                continue;
            };
            let name = nupkg_name(package, &version, suffix);
            lines.push_str(&format!(
                "{} {name} {}",
                sha1.to_ascii_uppercase(),
                file.size
            ));
            if release.rollout.percentage < 100 {
                lines.push_str(&format!(" # {}%", release.rollout.percentage));
            }
            lines.push('\n');
            newest = newest.max(Some(release.version()));
        }
    }
    newest.map(|newest| (lines, newest.clone()))
}
