//! Tauri v1 and v2 (`tauri-plugin-updater`) and cargo-packager-updater.
//!
//! Dynamic: `GET /tauri/{app}/{channel}/{target}/{arch}/{current_version}`
//! answers 200 with one update or 204. Static: `GET /tauri/{app}/{channel}/latest.json`
//! lists the newest fully rolled-out version for every platform.
//!
//! A universal macOS release is `darwin-universal` in the static manifest,
//! and also `darwin-x86_64` and `darwin-aarch64` where no release of that
//! architecture has the version: Tauri looks a Mac up by its CPU.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::{
    allow_prerelease, application, channel, current_version, no_content, rfc3339, tauri_arch,
};
use crate::domain::platform::{ARCHITECTURES, UNIVERSAL, UNIVERSAL_PLATFORM};
use crate::domain::signing::tauri_signature_field;
use crate::domain::{
    Artifact, ArtifactKind, Release, UpdateQuery, channels_followed, normalize_architecture,
    normalize_platform,
};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{ApiQuery, install_id};
use crate::http::usage::Checked;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route(
            "/tauri/{app}/{channel}/{target}/{arch}/{current_version}",
            get(dynamic),
        )
        .route("/tauri/{app}/{channel}/latest.json", get(static_manifest))
}

#[derive(Deserialize)]
struct DynamicParams {
    bundle_type: Option<String>,
    install_id: Option<String>,
}

#[derive(Serialize)]
struct TauriUpdate {
    version: String,
    notes: String,
    pub_date: String,
    url: String,
    signature: String,
    /// cargo-packager-updater requires it; Tauri ignores it.
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<&'static str>,
}

#[derive(Serialize)]
struct StaticPlatform {
    url: String,
    signature: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<&'static str>,
}

#[derive(Serialize)]
struct StaticManifest {
    version: String,
    notes: String,
    pub_date: String,
    platforms: BTreeMap<String, StaticPlatform>,
}

/// The installer kinds a client may be given, best first. A client that
/// says how it was installed gets only that kind: a `.deb` install is never
/// handed an AppImage.
fn kinds_for(platform: &str, bundle_type: Option<&str>) -> Result<Vec<ArtifactKind>, ApiError> {
    let bundle = bundle_type
        .map(|b| b.trim().to_ascii_lowercase())
        .filter(|b| b != "unknown");
    match bundle.as_deref() {
        None => Ok(default_kinds(platform).to_vec()),
        Some(b) => match ArtifactKind::parse(b) {
            Some(
                kind @ (ArtifactKind::Appimage
                | ArtifactKind::Deb
                | ArtifactKind::Rpm
                | ArtifactKind::App
                | ArtifactKind::Msi
                | ArtifactKind::Nsis),
            ) => Ok(vec![kind]),
            _ => Err(ApiError::field(
                "bundle_type",
                "must be appimage, deb, rpm, app, msi, nsis or unknown",
            )),
        },
    }
}

fn default_kinds(platform: &str) -> &'static [ArtifactKind] {
    match platform {
        "linux" => &[ArtifactKind::Appimage],
        "darwin" => &[ArtifactKind::App],
        "windows" => &[ArtifactKind::Nsis, ArtifactKind::Msi],
        _ => &[],
    }
}

/// cargo-packager-updater's `format`.
fn packager_format(kind: ArtifactKind) -> Option<&'static str> {
    match kind {
        ArtifactKind::Appimage => Some("appimage"),
        ArtifactKind::App => Some("app"),
        ArtifactKind::Nsis => Some("nsis"),
        ArtifactKind::Msi => Some("wix"),
        _ => None,
    }
}

/// The signed file of one of `kinds`: Tauri refuses an update without a signature.
fn signed_file<'a>(
    release: &'a Release,
    kinds: &[ArtifactKind],
) -> Option<(&'a Artifact, &'a str)> {
    kinds.iter().find_map(|kind| {
        release
            .files
            .iter()
            .find(|f| f.kind == *kind)
            .and_then(|f| f.signature.as_deref().map(|s| (f, s)))
    })
}

async fn dynamic(
    State(state): State<AppState>,
    Path((app_id, channel_name, target, arch, current)): Path<(
        String,
        String,
        String,
        String,
        String,
    )>,
    ApiQuery(params): ApiQuery<DynamicParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    application(&state, &app_id)?;
    let channel_name = channel(&channel_name)?;
    let current = current_version(&current, "current_version")?;
    let install = install_id(&headers, params.install_id.as_deref())?;
    let Some((platform, architecture)) = dynamic_target(&target, &arch) else {
        return Ok(no_content());
    };
    let kinds = kinds_for(platform, params.bundle_type.as_deref())?;
    let query = UpdateQuery {
        current_version: &current,
        platform,
        architecture,
        channel: &channel_name,
        allow_prerelease: allow_prerelease(&channel_name, Some(&current)),
        install_id: install.as_deref(),
    };
    let offer = state.registry.read(|c| c.offer(&app_id, &query));
    let sendable = offer.and_then(|offer| {
        let (file, signature) = signed_file(&offer.release, &kinds)?;
        Some((file.clone(), signature.to_owned(), offer))
    });
    Checked {
        app_id: &app_id,
        channel: &channel_name,
        platform,
        architecture,
        current: Some(&current),
        install_id: install.as_deref(),
    }
    .answered(&state, &query, sendable.as_ref().map(|(_, _, offer)| offer));
    let Some((file, signature, offer)) = sendable else {
        return Ok(no_content());
    };
    let signature = signature.as_str();
    Ok(Json(TauriUpdate {
        version: offer.release.version().to_string(),
        notes: offer.release.release_notes.clone(),
        pub_date: rfc3339(&offer.release.release_date),
        url: file.url.clone(),
        signature: tauri_signature_field(signature),
        format: packager_format(file.kind),
    })
    .into_response())
}

/// The platform and architecture a check names. An app built for
/// `universal-apple-darwin` that sets `.target("darwin-universal")` sends
/// that as its target (and its CPU as the arch): it wants universal builds.
fn dynamic_target(target: &str, arch: &str) -> Option<(&'static str, &'static str)> {
    if normalize_architecture(target) == Some(UNIVERSAL) {
        return Some((UNIVERSAL_PLATFORM, UNIVERSAL));
    }
    Some((normalize_platform(target)?, normalize_architecture(arch)?))
}

/// Static manifests cannot tell installs apart, so they carry only releases
/// rolled out to everyone.
async fn static_manifest(
    State(state): State<AppState>,
    Path((app_id, channel_name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let app = application(&state, &app_id)?;
    let channel_name = channel(&channel_name)?;
    let channels = channels_followed(&channel_name);
    let prerelease = allow_prerelease(&channel_name, None);
    let offered = |r: &Release| {
        r.listable(&app, prerelease, None)
            && r.rollout.admits(&app_id, r.version(), None)
            && signed_file(r, default_kinds(&r.key.platform)).is_some()
    };
    let targets: Vec<(&str, &str)> = app
        .platforms
        .iter()
        .flat_map(|p| {
            let universal = (p == UNIVERSAL_PLATFORM).then_some(UNIVERSAL);
            ARCHITECTURES
                .into_iter()
                .chain(universal)
                .map(move |a| (p.as_str(), a))
        })
        .collect();
    // Each target's release at the newest version: on a Mac, the universal
    // one when the target's own architecture has none.
    let at_newest: Vec<(&str, Arc<Release>)> = state
        .registry
        .read(|c| {
            let newest = targets
                .iter()
                .filter_map(|(platform, arch)| {
                    c.newest_first(&app_id, platform, arch, Some(&channels))?
                        .find(|r| offered(r))
                        .map(|r| r.version().clone())
                })
                .max()?;
            Some(
                targets
                    .iter()
                    .filter_map(|(platform, arch)| {
                        c.release_at(&app_id, platform, arch, &channels, &newest)
                            .filter(|r| offered(r))
                            .map(|r| (*arch, Arc::clone(r)))
                    })
                    .collect(),
            )
        })
        .unwrap_or_default();
    let Some((_, newest_release)) = at_newest.first().cloned() else {
        return Ok(no_content());
    };
    let newest = newest_release.version().clone();
    let mut platforms = BTreeMap::new();
    for (target_arch, release) in &at_newest {
        let os = release.key.platform.as_str();
        let arch = tauri_arch(target_arch);
        // The file the dynamic endpoint gives a client that names no bundle.
        let default_kind = signed_file(release, default_kinds(os)).map(|(f, _)| f.kind);
        for file in &release.files {
            let (Some(signature), Some(bundle)) = (&file.signature, tauri_bundle(file.kind)) else {
                continue;
            };
            let entry = || StaticPlatform {
                url: file.url.clone(),
                signature: tauri_signature_field(signature),
                format: packager_format(file.kind),
            };
            platforms.insert(format!("{os}-{arch}-{bundle}"), entry());
            if default_kind == Some(file.kind) {
                platforms.insert(format!("{os}-{arch}"), entry());
                if os == "darwin" {
                    // cargo-packager names macOS `macos`.
                    platforms.insert(format!("macos-{arch}"), entry());
                }
            }
        }
    }
    Ok(Json(StaticManifest {
        version: newest.to_string(),
        notes: newest_release.release_notes.clone(),
        pub_date: rfc3339(&newest_release.release_date),
        platforms,
    })
    .into_response())
}

/// The bundle suffix of Tauri's static platform keys.
fn tauri_bundle(kind: ArtifactKind) -> Option<&'static str> {
    match kind {
        ArtifactKind::Appimage => Some("appimage"),
        ArtifactKind::Deb => Some("deb"),
        ArtifactKind::Rpm => Some("rpm"),
        ArtifactKind::App => Some("app"),
        ArtifactKind::Msi => Some("msi"),
        ArtifactKind::Nsis => Some("nsis"),
        _ => None,
    }
}
