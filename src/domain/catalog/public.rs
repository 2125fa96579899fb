//! What a public download page may show: the releases every install is
//! offered.
//!
//! A release is public when its application opted in (`download_page`), it
//! is on `stable`, not a pre-release, not yanked, within the application's
//! `max_version`, and fully rolled out (100 %, not paused). A visitor who
//! downloads by hand bypasses the staged rollout, so a partial rollout stays
//! off the page until it reaches everyone.
//!
//! A universal macOS release is listed first among the Mac downloads, since
//! it runs on every Mac, unless it is superseded: when neither an Intel nor
//! an Apple silicon Mac would be offered it.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use semver::Version;

use super::view::TrackView;
use super::{AppEntry, Catalog, Track};
use crate::domain::artifact::{Artifact, ArtifactKind};
use crate::domain::model::{Application, Release};
use crate::domain::platform::{
    ARCHITECTURES, DEFAULT_CHANNEL, PLATFORMS, UNIVERSAL, normalize_platform, served_by_universal,
};

/// What a download address names: a platform (`windows`, `mac`, `linux`,
/// ...) or, after Hazel and Nuts, a kind of file standing for its platform
/// (`exe`, `msi`, `dmg`, `deb`, `rpm`, `appimage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadTarget {
    pub platform: &'static str,
    /// The kinds of file a visitor wants, preferred first.
    kinds: &'static [ArtifactKind],
    /// The address named a kind of file: no other kind will do.
    exact: bool,
}

impl DownloadTarget {
    /// The platform's installers, preferred first; any file but a delta
    /// package when the release has none of them.
    pub fn platform(platform: &'static str) -> Self {
        let kinds: &'static [ArtifactKind] = match platform {
            "windows" => &[ArtifactKind::Nsis, ArtifactKind::Msi, ArtifactKind::Zip],
            "darwin" => &[ArtifactKind::Dmg, ArtifactKind::Zip, ArtifactKind::App],
            "linux" => &[ArtifactKind::Appimage, ArtifactKind::Deb, ArtifactKind::Rpm],
            _ => &[],
        };
        Self {
            platform,
            kinds,
            exact: false,
        }
    }

    fn exactly(platform: &'static str, kind: &'static [ArtifactKind]) -> Self {
        Self {
            platform,
            kinds: kind,
            exact: true,
        }
    }

    /// The file of `release` this target asks for.
    pub fn file_of<'a>(&self, release: &'a Release) -> Option<&'a Artifact> {
        release.file_of(self.kinds).or_else(|| {
            if self.exact {
                None
            } else {
                release
                    .files
                    .iter()
                    .find(|f| f.kind != ArtifactKind::NupkgDelta)
            }
        })
    }
}

/// A download address's platform segment (case-insensitive), with the
/// message a visitor sees when it names nothing known.
pub fn parse_download_target(input: &str) -> Result<DownloadTarget, String> {
    let target = match input.trim().to_ascii_lowercase().as_str() {
        "exe" => DownloadTarget::exactly("windows", &[ArtifactKind::Nsis]),
        "msi" => DownloadTarget::exactly("windows", &[ArtifactKind::Msi]),
        "dmg" => DownloadTarget::exactly("darwin", &[ArtifactKind::Dmg]),
        "deb" => DownloadTarget::exactly("linux", &[ArtifactKind::Deb]),
        "rpm" => DownloadTarget::exactly("linux", &[ArtifactKind::Rpm]),
        "appimage" => DownloadTarget::exactly("linux", &[ArtifactKind::Appimage]),
        other => match normalize_platform(other) {
            Some(platform) => DownloadTarget::platform(platform),
            None => {
                return Err(format!(
                    "unknown platform `{}`; use windows (win, exe, msi), darwin (mac, macos, dmg), \
                     linux (deb, rpm, appimage), android or ios",
                    input.escape_debug()
                ));
            }
        },
    };
    Ok(target)
}

/// One platform and architecture's newest public release, with the file a
/// visitor gets.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicDownload {
    pub release: Arc<Release>,
    pub file: Artifact,
}

/// One public version, for a feed of releases.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicVersion {
    pub version: Version,
    /// The latest release date among its targets.
    pub released: DateTime<Utc>,
    /// The first non-empty notes among its targets.
    pub release_notes: String,
    /// Its targets, in the application's platform order.
    pub releases: Vec<Arc<Release>>,
}

fn is_public(app: &Application, release: &Release) -> bool {
    release.channel == DEFAULT_CHANNEL
        && !release.is_prerelease()
        && release.rollout.percentage >= 100
        && release.listable(app, false, None)
}

/// Sorts targets by the application's platform order (unlisted platforms
/// after, in the service's order), then by architecture, universal first.
fn target_order(app: &Application, platform: &str, architecture: &str) -> (usize, usize) {
    let listed = app.platforms.iter().position(|p| p == platform);
    let known = PLATFORMS.iter().position(|p| *p == platform);
    let platform_rank = listed.unwrap_or(app.platforms.len() + known.unwrap_or(PLATFORMS.len()));
    let architecture_rank = [UNIVERSAL]
        .into_iter()
        .chain(ARCHITECTURES)
        .position(|a| a == architecture)
        .unwrap_or(ARCHITECTURES.len() + 1);
    (platform_rank, architecture_rank)
}

fn newest_public<'a>(app: &Application, track: &'a Track) -> Option<&'a Arc<Release>> {
    track
        .by_version
        .values()
        .rev()
        .find(|release| is_public(app, release))
}

/// The newest public release a client of this view would be offered.
fn newest_public_in<'a>(app: &Application, view: TrackView<'a>) -> Option<&'a Arc<Release>> {
    view.newest_first().find(|release| is_public(app, release))
}

/// Whether an Intel or an Apple silicon Mac would be offered `universal`.
fn serves_a_mac(entry: &AppEntry, universal: &Release) -> bool {
    ARCHITECTURES
        .into_iter()
        .filter(|a| served_by_universal(&universal.key.platform, a))
        .any(|a| {
            newest_public_in(
                &entry.app,
                entry.view(&universal.key.platform, a, DEFAULT_CHANNEL),
            )
            .is_some_and(|r| r.key == universal.key)
        })
}

impl Catalog {
    /// The application, when it has opted in to a public download page.
    pub fn public_application(&self, id: &str) -> Option<&Application> {
        self.application(id).filter(|app| app.config.download_page)
    }

    /// The newest public release of each platform and architecture that has
    /// one, with its preferred file, in the application's platform order and
    /// then by architecture. Empty when the application has not opted in.
    pub fn public_downloads(&self, app_id: &str) -> Vec<PublicDownload> {
        self.public_downloads_for(app_id, None)
    }

    /// The newest public release for `target` on `architecture` (on an
    /// Intel or Apple silicon Mac, a universal one when that is what the
    /// Mac would be offered), or on the first architecture (universal,
    /// amd64, arm64, 386, arm) whose newest public release has a file
    /// `target` accepts.
    pub fn public_download(
        &self,
        app_id: &str,
        target: &DownloadTarget,
        architecture: Option<&str>,
    ) -> Option<PublicDownload> {
        let Some(architecture) = architecture else {
            return self
                .public_downloads_for(app_id, Some(target))
                .into_iter()
                .next();
        };
        let entry = self
            .apps
            .get(app_id)
            .filter(|e| e.app.config.download_page)?;
        let view = entry.view(target.platform, architecture, DEFAULT_CHANNEL);
        let release = newest_public_in(&entry.app, view)?;
        let file = target.file_of(release)?.clone();
        Some(PublicDownload {
            release: release.clone(),
            file,
        })
    }

    fn public_downloads_for(
        &self,
        app_id: &str,
        only: Option<&DownloadTarget>,
    ) -> Vec<PublicDownload> {
        let Some(entry) = self.apps.get(app_id).filter(|e| e.app.config.download_page) else {
            return Vec::new();
        };
        let app = &entry.app;
        let mut downloads: Vec<PublicDownload> = entry
            .tracks
            .iter()
            .filter(|(key, _)| key.channel == DEFAULT_CHANNEL)
            .filter(|(key, _)| only.is_none_or(|t| t.platform == key.platform))
            .filter_map(|(key, track)| {
                let release = newest_public(app, track)?;
                let target = only
                    .copied()
                    .or_else(|| normalize_platform(&key.platform).map(DownloadTarget::platform))?;
                let file = target.file_of(release)?.clone();
                Some(PublicDownload {
                    release: release.clone(),
                    file,
                })
            })
            .filter(|d| d.release.key.architecture != UNIVERSAL || serves_a_mac(entry, &d.release))
            .collect();
        downloads.sort_by_key(|d| {
            target_order(app, &d.release.key.platform, &d.release.key.architecture)
        });
        downloads
    }

    /// Public versions, newest first, at most `limit` of them. Empty when the
    /// application has not opted in.
    pub fn public_versions(&self, app_id: &str, limit: usize) -> Vec<PublicVersion> {
        let Some(entry) = self.apps.get(app_id).filter(|e| e.app.config.download_page) else {
            return Vec::new();
        };
        let app = &entry.app;
        let mut by_version: BTreeMap<&Version, Vec<Arc<Release>>> = BTreeMap::new();
        for (key, track) in &entry.tracks {
            if key.channel != DEFAULT_CHANNEL {
                continue;
            }
            for (version, release) in &track.by_version {
                if is_public(app, release) {
                    by_version.entry(version).or_default().push(release.clone());
                }
            }
        }
        by_version
            .into_iter()
            .rev()
            .take(limit)
            .map(|(version, mut releases)| {
                releases.sort_by_key(|r| target_order(app, &r.key.platform, &r.key.architecture));
                PublicVersion {
                    version: version.clone(),
                    released: releases
                        .iter()
                        .map(|r| r.release_date)
                        .max()
                        .unwrap_or_default(),
                    release_notes: releases
                        .iter()
                        .map(|r| r.release_notes.clone())
                        .find(|notes| !notes.trim().is_empty())
                        .unwrap_or_default(),
                    releases,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::Change;
    use crate::domain::model::{ApplicationConfig, ReleaseKey};
    use crate::domain::rollout::Rollout;

    fn app(download_page: bool) -> Application {
        Application {
            id: "desk".into(),
            name: "Desk".into(),
            description: String::new(),
            platforms: vec!["linux".into(), "windows".into()],
            config: ApplicationConfig {
                download_page,
                ..Default::default()
            },
            created_at: DateTime::default(),
            updated_at: DateTime::default(),
        }
    }

    fn file(url: &str) -> Artifact {
        Artifact {
            kind: ArtifactKind::from_url(url).unwrap_or(ArtifactKind::Other),
            url: url.into(),
            size: 1,
            sha256: Some("0".repeat(64)),
            sha512: None,
            sha1: None,
            signature: None,
            ed_signature: None,
            blockmap_url: None,
            blockmap_size: None,
        }
    }

    fn release(version: &str, platform: &str, architecture: &str, files: &[&str]) -> Release {
        Release {
            key: ReleaseKey {
                application_id: "desk".into(),
                version: version.parse().unwrap(),
                platform: platform.into(),
                architecture: architecture.into(),
            },
            channel: DEFAULT_CHANNEL.into(),
            files: files.iter().map(|url| file(url)).collect(),
            release_notes: format!("notes {version}"),
            release_date: DateTime::default(),
            required: false,
            minimum_version: None,
            minimum_system_version: None,
            metadata: BTreeMap::new(),
            created_at: DateTime::default(),
            rollout: Rollout::default(),
            yanked: false,
            yank_reason: String::new(),
        }
    }

    fn catalog(releases: Vec<Release>) -> Catalog {
        Catalog::from_snapshot(vec![app(true)], releases)
    }

    fn versions(downloads: &[PublicDownload]) -> Vec<String> {
        downloads
            .iter()
            .map(|d| {
                format!(
                    "{}/{}/{}",
                    d.release.key.platform,
                    d.release.key.architecture,
                    d.release.version()
                )
            })
            .collect()
    }

    #[test]
    fn only_fully_rolled_out_stable_releases_are_public() {
        let mut beta = release("3.0.0", "linux", "amd64", &["https://x/a.AppImage"]);
        beta.channel = "beta".into();
        let mut yanked = release("2.5.0", "linux", "amd64", &["https://x/a.AppImage"]);
        yanked.yanked = true;
        let mut partial = release("2.4.0", "linux", "amd64", &["https://x/a.AppImage"]);
        partial.rollout.percentage = 50;
        let mut paused = release("2.3.0", "linux", "amd64", &["https://x/a.AppImage"]);
        paused.rollout.paused = true;
        let catalog = catalog(vec![
            beta,
            yanked,
            partial,
            paused,
            release("2.2.0-rc.1", "linux", "amd64", &["https://x/a.AppImage"]),
            release("2.1.0", "linux", "amd64", &["https://x/a.AppImage"]),
            release("2.0.0", "windows", "amd64", &["https://x/a-setup.exe"]),
            release("2.0.0", "linux", "arm64", &["https://x/b.AppImage"]),
        ]);
        assert_eq!(
            versions(&catalog.public_downloads("desk")),
            [
                "linux/amd64/2.1.0",
                "linux/arm64/2.0.0",
                "windows/amd64/2.0.0"
            ]
        );
        let history = catalog.public_versions("desk", 10);
        let listed: Vec<String> = history.iter().map(|v| v.version.to_string()).collect();
        assert_eq!(listed, ["2.1.0", "2.0.0"]);
        assert_eq!(history[1].releases.len(), 2);
        assert_eq!(history[1].release_notes, "notes 2.0.0");
        assert_eq!(catalog.public_versions("desk", 1).len(), 1);
    }

    #[test]
    fn nothing_is_public_without_the_opt_in() {
        let mut catalog = catalog(vec![release(
            "1.0.0",
            "linux",
            "amd64",
            &["https://x/a.deb"],
        )]);
        assert!(catalog.public_application("desk").is_some());
        catalog.apply(Change::ApplicationUpserted(app(false)));
        assert!(catalog.public_application("desk").is_none());
        assert!(catalog.public_downloads("desk").is_empty());
        assert!(catalog.public_versions("desk", 10).is_empty());
        let linux = parse_download_target("linux").unwrap();
        assert!(catalog.public_download("desk", &linux, None).is_none());
    }

    #[test]
    fn targets_pick_files_by_kind() {
        let catalog = catalog(vec![
            release(
                "1.0.0",
                "linux",
                "amd64",
                &["https://x/a.rpm", "https://x/a.deb"],
            ),
            release("1.0.0", "linux", "arm64", &["https://x/b.AppImage"]),
            release(
                "1.0.0",
                "windows",
                "amd64",
                &["https://x/a-delta.nupkg", "https://x/a-full.nupkg"],
            ),
        ]);
        let url = |platform: &str, architecture: Option<&str>| {
            let target = parse_download_target(platform).unwrap();
            catalog
                .public_download("desk", &target, architecture)
                .map(|d| d.file.url)
        };
        assert_eq!(url("linux", None).as_deref(), Some("https://x/a.deb"));
        assert_eq!(url("rpm", None).as_deref(), Some("https://x/a.rpm"));
        assert_eq!(
            url("AppImage", None).as_deref(),
            Some("https://x/b.AppImage")
        );
        assert_eq!(
            url("linux", Some("arm64")).as_deref(),
            Some("https://x/b.AppImage")
        );
        assert_eq!(url("deb", Some("arm64")), None);
        assert_eq!(
            url("win32", None).as_deref(),
            Some("https://x/a-full.nupkg")
        );
        assert_eq!(url("exe", None), None);
        assert_eq!(url("mac", None), None);
        assert!(
            parse_download_target("beos")
                .unwrap_err()
                .contains("unknown platform `beos`")
        );
    }
}
