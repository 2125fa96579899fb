//! electron-updater's `generic` provider: `<base>/<channel><suffix>.yml`.
//!
//! Base URL `/electron-updater/{app}`. `latest.yml` (Windows), `latest-mac.yml`,
//! `latest-linux.yml` (x64) and `latest-linux-<arch>.yml`; another channel
//! replaces `latest` (`beta-linux.yml`). `latest` is the `stable` channel.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{allow_prerelease, application, channel, with_content_type};
use crate::domain::rollout::electron_staging_admits;
use crate::domain::{
    ArtifactKind, Catalog, DEFAULT_CHANNEL, Release, channels_followed, normalize_architecture,
};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::usage::Checked;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/electron-updater/{app}/{file}", get(channel_file))
}

/// One file of the channel file.
struct FileInfo {
    url: String,
    /// Base64, as electron-updater checks it.
    sha512: Option<String>,
    /// Hex SHA-256, electron-updater's fallback when no SHA-512 is known.
    sha2: Option<String>,
    size: u64,
    block_map_size: Option<u64>,
}

/// A YAML double-quoted scalar. Every string is quoted, so a version such as
/// `1.10` stays a string and a date is not read back as a timestamp.
fn quoted(value: &str) -> String {
    serde_json::Value::from(value).to_string()
}

/// The channel file, written the way electron-builder writes it.
fn render(release: &Release, files: &[FileInfo], staging_override: Option<u8>) -> String {
    let mut yaml = format!(
        "version: {}\nfiles:\n",
        quoted(&release.version().to_string())
    );
    for file in files {
        yaml.push_str(&format!("  - url: {}\n", quoted(&file.url)));
        if let Some(sha512) = &file.sha512 {
            yaml.push_str(&format!("    sha512: {}\n", quoted(sha512)));
        }
        if let Some(sha2) = &file.sha2 {
            yaml.push_str(&format!("    sha2: {}\n", quoted(sha2)));
        }
        yaml.push_str(&format!("    size: {}\n", file.size));
        if let Some(size) = file.block_map_size {
            yaml.push_str(&format!("    blockMapSize: {size}\n"));
        }
    }
    // electron-updater 6.x still reads the first file's `path` and `sha512`.
    yaml.push_str(&format!("path: {}\n", quoted(&files[0].url)));
    if let Some(sha512) = &files[0].sha512 {
        yaml.push_str(&format!("sha512: {}\n", quoted(sha512)));
    }
    let date = release
        .release_date
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    yaml.push_str(&format!("releaseDate: {}\n", quoted(&date)));
    if !release.release_notes.is_empty() {
        yaml.push_str(&format!(
            "releaseNotes: {}\n",
            quoted(&release.release_notes)
        ));
    }
    let staging = staging_override.unwrap_or(release.rollout.percentage);
    if staging < 100 {
        yaml.push_str(&format!("stagingPercentage: {staging}\n"));
    }
    if let Some(min) = &release.minimum_system_version {
        yaml.push_str(&format!("minimumSystemVersion: {}\n", quoted(min)));
    }
    yaml
}

/// What a channel file name asks for: channel, platform and architectures.
struct FileTarget {
    channel: String,
    platform: &'static str,
    architectures: Vec<&'static str>,
}

fn parse_file_name(file: &str) -> Result<FileTarget, ApiError> {
    let bad = || ApiError::not_found(format!("no channel file named '{file}'"));
    let stem = file.strip_suffix(".yml").ok_or_else(bad)?;
    let (channel_part, platform, architectures) = if let Some(c) = stem.strip_suffix("-mac") {
        (c, "darwin", vec!["arm64", "amd64"])
    } else if let Some(c) = stem.strip_suffix("-linux") {
        (c, "linux", vec!["amd64"])
    } else if let Some((c, arch)) = stem.rsplit_once("-linux-") {
        let arch = normalize_architecture(arch).ok_or_else(bad)?;
        (c, "linux", vec![arch])
    } else {
        (stem, "windows", vec!["amd64", "arm64", "386"])
    };
    let channel_name = match channel_part {
        "latest" => DEFAULT_CHANNEL.to_string(),
        other => channel(other)?,
    };
    Ok(FileTarget {
        channel: channel_name,
        platform,
        architectures,
    })
}

fn installer_kinds(platform: &str) -> &'static [ArtifactKind] {
    match platform {
        "darwin" => &[ArtifactKind::Zip, ArtifactKind::Dmg],
        "linux" => &[ArtifactKind::Appimage, ArtifactKind::Deb, ArtifactKind::Rpm],
        _ => &[ArtifactKind::Nsis],
    }
}

/// Whether electron-updater's staging lets this install have the release.
/// With a staging id the server applies electron-updater's own rule, so an
/// install outside the newest release's rollout is shown the newest release
/// it is in; without one the client decides from `stagingPercentage`.
fn staging_admits(release: &Release, staging_id: Option<&str>) -> bool {
    staging_id
        .and_then(|id| electron_staging_admits(release.rollout.percentage, id))
        .unwrap_or(true)
}

/// The releases the channel file names: the newest version that every
/// architecture with an acceptable release has, so no client is handed
/// another architecture's installer; else the newest of the first
/// architecture (in the file's order) that has one. A universal release
/// that stands in for both Mac architectures is named once.
fn pick(
    catalog: &Catalog,
    app_id: &str,
    target: &FileTarget,
    channels: &[&str],
    accept: &dyn Fn(&Release) -> bool,
) -> Option<Vec<Arc<Release>>> {
    let newest_accepted = |arch: &str| {
        catalog
            .newest_first(app_id, target.platform, arch, Some(channels))?
            .find(|r| accept(r))
            .cloned()
    };
    let architectures: Vec<&str> = target
        .architectures
        .iter()
        .copied()
        .filter(|arch| newest_accepted(arch).is_some())
        .collect();
    let (primary, others) = architectures.split_first()?;
    let candidates = catalog
        .newest_first(app_id, target.platform, primary, Some(channels))?
        .filter(|r| accept(r));
    for candidate in candidates {
        let siblings: Option<Vec<Arc<Release>>> = others
            .iter()
            .map(|arch| {
                catalog
                    .release_at(app_id, target.platform, arch, channels, candidate.version())
                    .filter(|r| accept(r))
                    .cloned()
            })
            .collect();
        if let Some(siblings) = siblings {
            let mut group = vec![Arc::clone(candidate)];
            for sibling in siblings {
                if group.iter().all(|r| r.key != sibling.key) {
                    group.push(sibling);
                }
            }
            return Some(group);
        }
    }
    newest_accepted(primary).map(|r| vec![r])
}

async fn channel_file(
    State(state): State<AppState>,
    Path((app_id, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let app = application(&state, &app_id)?;
    let target = parse_file_name(&file)?;
    let staging_id = headers
        .get("x-user-staging-id")
        .and_then(|v| v.to_str().ok());
    let prerelease = allow_prerelease(&target.channel, None);
    let channels = channels_followed(&target.channel);
    let kinds = installer_kinds(target.platform);
    let has_installer = |r: &Release| !r.yanked && r.file_of(kinds).is_some();
    let listable = |r: &Release| has_installer(r) && r.listable(&app, prerelease, None);
    // Clients must always get a channel file: a missing one is an error to
    // electron-updater, not "no update". When the install is outside every
    // staged release, the newest is listed with its stagingPercentage (the
    // client declines it itself); when every release is paused or at 0 %,
    // the newest is listed at 0 %.
    let (admitted_group, group, staging_override) = state.registry.read(|c| {
        let admitted = |r: &Release| listable(r) && staging_admits(r, staging_id);
        let admitted_group = pick(c, &app_id, &target, &channels, &admitted);
        let (group, staging_override) = admitted_group
            .clone()
            .or_else(|| pick(c, &app_id, &target, &channels, &listable))
            .map(|group| (group, None))
            .or_else(|| {
                pick(c, &app_id, &target, &channels, &has_installer).map(|group| (group, Some(0)))
            })
            .unzip();
        (admitted_group.is_some(), group, staging_override)
    });
    let (Some(group), staging_override) = (group, staging_override.flatten()) else {
        return Err(ApiError::not_found(format!(
            "no release for '{app_id}' on {} in channel '{}'",
            target.platform, target.channel
        )));
    };
    let newest = Arc::clone(&group[0]);
    let checked = Checked {
        app_id: &app_id,
        channel: &target.channel,
        platform: target.platform,
        architecture: &newest.key.architecture,
        current: None,
        install_id: staging_id,
    };
    if admitted_group {
        checked.listed(&state, Some(newest.version()));
    } else {
        checked.held_back(&state);
    }
    let mut files = Vec::new();
    for release in &group {
        for file in release.files.iter().filter(|f| kinds.contains(&f.kind)) {
            files.push(FileInfo {
                url: file.url.clone(),
                sha512: file
                    .sha512
                    .as_deref()
                    .and_then(|h| hex::decode(h).ok())
                    .map(|bytes| STANDARD.encode(bytes)),
                sha2: file.sha512.is_none().then(|| file.sha256.clone()).flatten(),
                size: file.size,
                block_map_size: file.blockmap_size,
            });
        }
    }
    Ok(with_content_type(
        "text/yaml; charset=utf-8",
        render(&newest, &files, staging_override),
    ))
}
