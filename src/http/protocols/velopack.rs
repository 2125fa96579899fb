//! Velopack feeds: `GET /velopack/{app}/{platform}/{arch}/releases.{channel}.json`.
//!
//! The client's base URL is `/velopack/{app}/{platform}/{arch}`; it downloads
//! `<base>/<FileName>`, which redirects to the package's own URL. Velopack's
//! default channels (`win`, `osx`, `linux`) are the `stable` channel.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::{
    PACKAGES, allow_prerelease, application, channel, nupkg_name, package_id, package_url, redirect,
};
use crate::domain::{
    ArtifactKind, DEFAULT_CHANNEL, channels_followed, normalize_architecture, normalize_platform,
    parse_version,
};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{ApiQuery, install_id};
use crate::http::usage::Checked;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route(
        "/velopack/{app}/{platform}/{arch}/{file}",
        get(feed_or_package),
    )
}

#[derive(Deserialize)]
struct FeedParams {
    id: Option<String>,
    #[serde(rename = "localVersion")]
    local_version: Option<String>,
    /// Velopack's install id for staged rollouts.
    #[serde(rename = "stagingId")]
    staging_id: Option<String>,
    install_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Feed {
    assets: Vec<Asset>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Asset {
    package_id: String,
    version: String,
    #[serde(rename = "Type")]
    kind: &'static str,
    file_name: String,
    /// Empty when unknown, as Velopack's own feeds write it.
    #[serde(rename = "SHA1")]
    sha1: String,
    #[serde(rename = "SHA256")]
    sha256: String,
    size: u64,
    notes_markdown: String,
    notes_html: String,
}

async fn feed_or_package(
    State(state): State<AppState>,
    Path((app_id, platform, arch, file)): Path<(String, String, String, String)>,
    ApiQuery(params): ApiQuery<FeedParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let app = application(&state, &app_id)?;
    let platform = normalize_platform(&platform)
        .ok_or_else(|| ApiError::field("platform", "must be windows, linux or darwin (macos)"))?;
    let architecture = normalize_architecture(&arch).ok_or_else(|| {
        ApiError::field(
            "arch",
            "must be amd64 (x64), arm64, 386 (x86), arm or universal",
        )
    })?;
    if let Some(channel_part) = file
        .strip_prefix("releases.")
        .and_then(|f| f.strip_suffix(".json"))
    {
        let channel_name = match channel_part {
            "win" | "osx" | "linux" => DEFAULT_CHANNEL.to_string(),
            other => channel(other)?,
        };
        let install = install_id(
            &headers,
            params
                .staging_id
                .as_deref()
                .or(params.install_id.as_deref()),
        )?;
        let package = package_id(params.id.as_deref(), &app_id);
        let local = params
            .local_version
            .as_deref()
            .and_then(|v| parse_version(v).ok());
        let prerelease = allow_prerelease(&channel_name, local.as_ref());
        let channels = channels_followed(&channel_name);
        let releases = state
            .registry
            .read(|c| c.track_releases(&app_id, platform, architecture, Some(&channels)))
            .unwrap_or_default();
        let mut assets = Vec::new();
        for release in releases.iter().filter(|r| {
            r.listable(&app, prerelease, local.as_ref())
                && r.rollout.admits(&app_id, r.version(), install.as_deref())
        }) {
            for (kind, suffix) in PACKAGES {
                // Velopack checks SHA-256, else SHA-1: a package with neither is left out.
                if let Some(file) = release
                    .file_of(&[kind])
                    .filter(|f| f.sha256.is_some() || f.sha1.is_some())
                {
                    assets.push(Asset {
                        package_id: package.clone(),
                        version: release.version().to_string(),
                        kind: if kind == ArtifactKind::Nupkg {
                            "Full"
                        } else {
                            "Delta"
                        },
                        file_name: nupkg_name(&package, &release.version().to_string(), suffix),
                        sha1: file.sha1.clone().unwrap_or_default().to_ascii_uppercase(),
                        sha256: file.sha256.clone().unwrap_or_default(),
                        size: file.size,
                        notes_markdown: release.release_notes.clone(),
                        notes_html: String::new(),
                    });
                }
            }
        }
        let newest = assets
            .iter()
            .filter_map(|a| parse_version(&a.version).ok())
            .max();
        Checked {
            app_id: &app_id,
            channel: &channel_name,
            platform,
            architecture,
            current: local.as_ref(),
            install_id: install.as_deref(),
        }
        .listed(&state, newest.as_ref());
        // An empty feed is Velopack's "nothing here" (RemoteIsEmpty).
        return Ok(Json(Feed { assets }).into_response());
    }
    let releases = state
        .registry
        .read(|c| c.track_releases(&app_id, platform, architecture, None))
        .unwrap_or_default();
    let url = package_url(&releases, &file, |v| Some(v.to_string()));
    match url {
        Some(url) => Ok(redirect(&url)),
        None => Err(ApiError::not_found(format!("no package named '{file}'"))),
    }
}
