//! Sparkle (and WinSparkle) appcasts: `GET /sparkle/{app}/{platform}/{arch}/appcast.xml`.
//!
//! The whole feed is sent and the client chooses, so every channel is in it:
//! items outside `stable` carry `<sparkle:channel>`, which apps opt into.
//! Sparkle has no architecture split: a Mac's feed (`amd64` or `arm64`)
//! holds one item per version, the universal release where its own
//! architecture has none.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Utc};
use quick_xml::escape::escape;
use semver::Version;

use super::{application, with_content_type};
use crate::domain::{
    ArtifactKind, DEFAULT_CHANNEL, Release, normalize_architecture, normalize_platform,
};
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::usage::Checked;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/sparkle/{app}/{platform}/{arch}/appcast.xml", get(appcast))
}

/// Items per feed: Sparkle only needs the newest ones it may install.
const MAX_ITEMS: usize = 50;
/// Sparkle's phased rollout admits installs in seven groups.
const SPARKLE_GROUPS: i64 = 7;

async fn appcast(
    State(state): State<AppState>,
    Path((app_id, platform, arch)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let app = application(&state, &app_id)?;
    let platform = normalize_platform(&platform)
        .ok_or_else(|| ApiError::field("platform", "must be darwin (macos) or windows"))?;
    let architecture = normalize_architecture(&arch).ok_or_else(|| {
        ApiError::field(
            "arch",
            "must be amd64 (x86_64), arm64 (aarch64), 386 (i686), arm or universal",
        )
    })?;
    let kinds: &[ArtifactKind] = match platform {
        "windows" => &[ArtifactKind::Msi, ArtifactKind::Nsis, ArtifactKind::Zip],
        _ => &[ArtifactKind::Zip, ArtifactKind::Dmg, ArtifactKind::App],
    };
    let now = Utc::now();
    // Items outside `stable` carry their channel, which apps opt into, so a
    // pre-release there reaches only those who asked for it.
    let (items, newest): (Vec<String>, Vec<Version>) = state.registry.read(|c| {
        c.newest_first(&app_id, platform, architecture, None)
            .into_iter()
            .flatten()
            .filter(|r| r.listable(&app, r.channel != DEFAULT_CHANNEL, None))
            .filter_map(|r| Some((item(r, kinds, platform, now)?, r.version().clone())))
            .take(MAX_ITEMS)
            .unzip()
    });
    // Sparkle sends neither the version it runs nor an install id.
    Checked {
        app_id: &app_id,
        channel: DEFAULT_CHANNEL,
        platform,
        architecture,
        current: None,
        install_id: None,
    }
    .listed(&state, newest.iter().max());
    let items = items.concat();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <rss version=\"2.0\" xmlns:sparkle=\"http://www.andymatuschak.org/xml-namespaces/sparkle\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n\
         <channel>\n<title>{}</title>\n<language>en</language>\n{items}</channel>\n</rss>\n",
        escape(app.name.as_str())
    );
    Ok(with_content_type(
        "application/rss+xml; charset=utf-8",
        body,
    ))
}

fn item(
    release: &Release,
    kinds: &[ArtifactKind],
    platform: &str,
    now: DateTime<Utc>,
) -> Option<String> {
    let file = release.file_of(kinds)?;
    let version = release.version().to_string();
    let mut xml = format!(
        "<item>\n<title>{title}</title>\n<pubDate>{date}</pubDate>\n\
         <sparkle:version>{v}</sparkle:version>\n<sparkle:shortVersionString>{v}</sparkle:shortVersionString>\n",
        title = escape(format!("Version {version}").as_str()),
        date = release.release_date.to_rfc2822(),
        v = escape(version.as_str()),
    );
    if release.channel != DEFAULT_CHANNEL {
        xml.push_str(&format!(
            "<sparkle:channel>{}</sparkle:channel>\n",
            escape(release.channel.as_str())
        ));
    }
    if let Some(min) = &release.minimum_system_version {
        xml.push_str(&format!(
            "<sparkle:minimumSystemVersion>{}</sparkle:minimumSystemVersion>\n",
            escape(min.as_str())
        ));
    }
    if release.required {
        xml.push_str("<sparkle:criticalUpdate></sparkle:criticalUpdate>\n");
    }
    if let Some(interval) = phased_rollout_interval(release, now) {
        xml.push_str(&format!(
            "<sparkle:phasedRolloutInterval>{interval}</sparkle:phasedRolloutInterval>\n"
        ));
    }
    if !release.release_notes.is_empty() {
        xml.push_str(&format!(
            "<description>{}</description>\n",
            escape(release.release_notes.as_str())
        ));
    }
    let os = if platform == "windows" {
        "windows"
    } else {
        "macos"
    };
    xml.push_str(&format!(
        "<enclosure url=\"{url}\" length=\"{len}\" type=\"application/octet-stream\" sparkle:os=\"{os}\"",
        url = escape(file.url.as_str()),
        len = file.size,
    ));
    if let Some(signature) = &file.ed_signature {
        xml.push_str(&format!(
            " sparkle:edSignature=\"{}\"",
            escape(signature.trim())
        ));
    }
    if file.kind == ArtifactKind::Dmg
        || file.kind == ArtifactKind::Zip
        || file.kind == ArtifactKind::App
    {
        xml.push_str(" sparkle:installationType=\"application\"");
    }
    xml.push_str("/>\n</item>\n");
    Some(xml)
}

/// Sparkle admits group `g` of 7 once `now - pubDate >= interval * g`. A
/// percentage maps to ⌈p × 7 / 100⌉ eligible groups; the interval is chosen
/// on each request so that exactly that many are eligible now, so raising the
/// percentage admits more installs at the next check. `None` at 100 %.
fn phased_rollout_interval(release: &Release, now: DateTime<Utc>) -> Option<i64> {
    let percentage = i64::from(release.rollout.percentage);
    if percentage >= 100 || release.required {
        return None;
    }
    let groups = ((percentage * SPARKLE_GROUPS + 99) / 100).clamp(1, SPARKLE_GROUPS);
    if groups == SPARKLE_GROUPS {
        return None;
    }
    let elapsed = (now - release.release_date).num_seconds().max(1);
    Some((elapsed * 2 / (2 * groups - 1)).max(1))
}
