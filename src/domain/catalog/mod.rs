//! The in-memory index every read is served from.
//!
//! Writes reach the index as [`Change`]s after the store has accepted them, so
//! the same `apply` path can later take changes made by another replica (a
//! change feed). Releases are grouped by (platform, architecture, channel) in
//! ordered maps keyed by version, so a lookup is a range scan from the top of
//! one map: logarithmic in the number of releases.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use semver::Version;

mod decide;
mod public;
mod view;

use super::model::{Application, Release, ReleaseKey};

pub use decide::channels_followed;
pub use public::{DownloadTarget, PublicDownload, PublicVersion, parse_download_target};

/// One write, as applied to the index.
#[derive(Debug, Clone)]
pub enum Change {
    ApplicationUpserted(Application),
    ApplicationDeleted(String),
    /// A new release, or new rollout or yank state for an existing one.
    ReleaseUpserted(Release),
    ReleaseDeleted(ReleaseKey),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TrackKey {
    platform: String,
    architecture: String,
    channel: String,
}

/// Releases of one application for one platform, architecture and channel.
#[derive(Debug, Default)]
struct Track {
    by_version: BTreeMap<Version, Arc<Release>>,
    /// Required releases, all of them and stable ones only, for range queries.
    required_all: BTreeSet<Version>,
    required_stable: BTreeSet<Version>,
}

impl Track {
    fn insert(&mut self, release: Arc<Release>) {
        let version = release.version().clone();
        if release.required && !release.yanked {
            self.required_all.insert(version.clone());
            if !release.is_prerelease() {
                self.required_stable.insert(version.clone());
            }
        }
        self.by_version.insert(version, release);
    }

    fn remove(&mut self, version: &Version) {
        self.by_version.remove(version);
        self.required_all.remove(version);
        self.required_stable.remove(version);
    }
}

#[derive(Debug)]
struct AppEntry {
    app: Application,
    tracks: HashMap<TrackKey, Track>,
    /// Which track holds each release, for delete and duplicate checks.
    locations: HashMap<ReleaseKey, TrackKey>,
}

#[derive(Debug, Default)]
pub struct Catalog {
    apps: BTreeMap<String, AppEntry>,
}

/// What a client asks when it checks for an update.
#[derive(Debug, Clone)]
pub struct UpdateQuery<'a> {
    pub current_version: &'a Version,
    pub platform: &'a str,
    pub architecture: &'a str,
    pub channel: &'a str,
    pub allow_prerelease: bool,
    /// The install's id, for staged rollouts.
    pub install_id: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum UpdateDecision {
    NoUpdate,
    Update {
        release: Arc<Release>,
        required: bool,
    },
}

/// The newest release of a track, as `Catalog::latest` finds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Latest {
    UnknownApplication,
    /// The application exists but the track has no eligible release.
    NoRelease,
    Release(Arc<Release>),
}

/// What a client protocol offers one install.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub release: Arc<Release>,
    pub required: bool,
    /// The install runs a yanked release and this older one replaces it;
    /// only protocols whose clients can downgrade act on it.
    pub rollback: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseSortField {
    Version,
    ReleaseDate,
    Platform,
    Architecture,
    CreatedAt,
}

#[derive(Debug, Clone, Default)]
pub struct ReleaseFilter {
    pub platforms: Vec<String>,
    pub architecture: Option<String>,
    pub channel: Option<String>,
    pub version: Option<Version>,
    pub required: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationStats {
    pub total_releases: usize,
    pub latest_version: Option<Version>,
    pub latest_release_date: Option<DateTime<Utc>>,
    pub platform_count: usize,
    pub required_releases: usize,
}

impl Catalog {
    pub fn from_snapshot(applications: Vec<Application>, releases: Vec<Release>) -> Self {
        let mut catalog = Catalog::default();
        for app in applications {
            catalog.apply(Change::ApplicationUpserted(app));
        }
        for release in releases {
            catalog.apply(Change::ReleaseUpserted(release));
        }
        catalog
    }

    pub fn apply(&mut self, change: Change) {
        match change {
            Change::ApplicationUpserted(app) => match self.apps.get_mut(&app.id) {
                Some(entry) => entry.app = app,
                None => {
                    let entry = AppEntry {
                        app,
                        tracks: HashMap::new(),
                        locations: HashMap::new(),
                    };
                    self.apps.insert(entry.app.id.clone(), entry);
                }
            },
            Change::ApplicationDeleted(id) => {
                self.apps.remove(&id);
            }
            Change::ReleaseUpserted(release) => {
                let Some(entry) = self.apps.get_mut(&release.key.application_id) else {
                    return;
                };
                let track_key = TrackKey {
                    platform: release.key.platform.clone(),
                    architecture: release.key.architecture.clone(),
                    channel: release.channel.clone(),
                };
                if let Some(previous) = entry
                    .locations
                    .insert(release.key.clone(), track_key.clone())
                    && let Some(track) = entry.tracks.get_mut(&previous)
                {
                    track.remove(release.version());
                }
                entry
                    .tracks
                    .entry(track_key)
                    .or_default()
                    .insert(Arc::new(release));
            }
            Change::ReleaseDeleted(key) => {
                let Some(entry) = self.apps.get_mut(&key.application_id) else {
                    return;
                };
                if let Some(track_key) = entry.locations.remove(&key)
                    && let Some(track) = entry.tracks.get_mut(&track_key)
                {
                    track.remove(&key.version);
                    if track.by_version.is_empty() {
                        entry.tracks.remove(&track_key);
                    }
                }
            }
        }
    }

    pub fn application(&self, id: &str) -> Option<&Application> {
        self.apps.get(id).map(|e| &e.app)
    }

    pub fn release(&self, key: &ReleaseKey) -> Option<Arc<Release>> {
        let entry = self.apps.get(&key.application_id)?;
        let track = entry.tracks.get(entry.locations.get(key)?)?;
        track.by_version.get(&key.version).cloned()
    }

    /// Whether another release of the same target has the same version up to
    /// build metadata (`1.0.0` and `1.0.0+build.7`): clients could not tell
    /// them apart.
    pub fn has_version_twin(&self, key: &ReleaseKey) -> bool {
        self.version_twin(key).is_some()
    }

    /// The release of the same target, in any channel, whose version equals
    /// `key`'s up to build metadata.
    pub fn version_twin(&self, key: &ReleaseKey) -> Option<Arc<Release>> {
        let entry = self.apps.get(&key.application_id)?;
        entry
            .tracks
            .iter()
            .filter(|(track_key, _)| {
                track_key.platform == key.platform && track_key.architecture == key.architecture
            })
            .find_map(|(_, track)| track.twin_of(&key.version).cloned())
    }

    pub fn release_count(&self, app_id: &str) -> usize {
        self.apps.get(app_id).map_or(0, |e| e.locations.len())
    }

    /// Applications ordered by id.
    pub fn applications(&self, offset: usize, limit: usize) -> Page<Application> {
        self.applications_matching(|_| true, offset, limit)
    }

    /// A page of the applications whose id `keep` accepts; `total` counts
    /// only those (a scoped key learns nothing of the others).
    pub fn applications_matching(
        &self,
        keep: impl Fn(&str) -> bool,
        offset: usize,
        limit: usize,
    ) -> Page<Application> {
        let mut total = 0;
        let mut items = Vec::new();
        for entry in self.apps.values().filter(|e| keep(&e.app.id)) {
            if total >= offset && items.len() < limit {
                items.push(entry.app.clone());
            }
            total += 1;
        }
        Page { items, total }
    }

    /// Filtered, sorted and paged releases of one application. Ties are broken
    /// by version, platform and architecture, so paging is stable.
    pub fn releases(
        &self,
        app_id: &str,
        filter: &ReleaseFilter,
        sort: ReleaseSortField,
        descending: bool,
        offset: usize,
        limit: usize,
    ) -> Option<Page<Arc<Release>>> {
        let entry = self.apps.get(app_id)?;
        let mut matching: Vec<Arc<Release>> = entry
            .tracks
            .values()
            .flat_map(|t| t.by_version.values())
            .filter(|r| filter.platforms.is_empty() || filter.platforms.contains(&r.key.platform))
            .filter(|r| {
                filter
                    .architecture
                    .as_ref()
                    .is_none_or(|a| &r.key.architecture == a)
            })
            .filter(|r| filter.channel.as_ref().is_none_or(|c| &r.channel == c))
            .filter(|r| filter.version.as_ref().is_none_or(|v| r.version() == v))
            .filter(|r| filter.required.is_none_or(|req| r.required == req))
            .cloned()
            .collect();
        matching.sort_by(|a, b| {
            let primary = match sort {
                ReleaseSortField::Version => a.version().cmp(b.version()),
                ReleaseSortField::ReleaseDate => a.release_date.cmp(&b.release_date),
                ReleaseSortField::Platform => a.key.platform.cmp(&b.key.platform),
                ReleaseSortField::Architecture => a.key.architecture.cmp(&b.key.architecture),
                ReleaseSortField::CreatedAt => a.created_at.cmp(&b.created_at),
            };
            let ordered = primary.then_with(|| a.key.cmp(&b.key));
            if descending {
                ordered.reverse()
            } else {
                ordered
            }
        });
        let total = matching.len();
        let items = matching.into_iter().skip(offset).take(limit).collect();
        Some(Page { items, total })
    }

    pub fn stats(&self, app_id: &str) -> Option<ApplicationStats> {
        let entry = self.apps.get(app_id)?;
        let releases = entry.tracks.values().flat_map(|t| t.by_version.values());
        let mut latest: Option<&Arc<Release>> = None;
        let mut platforms = BTreeSet::new();
        let mut required = 0;
        for release in releases {
            platforms.insert(release.key.platform.as_str());
            if release.required {
                required += 1;
            }
            // A yanked release is nobody's latest.
            let newer = !release.yanked
                && latest.is_none_or(|l| {
                    release
                        .version()
                        .cmp(l.version())
                        .then(release.release_date.cmp(&l.release_date))
                        == Ordering::Greater
                });
            if newer {
                latest = Some(release);
            }
        }
        Some(ApplicationStats {
            total_releases: entry.locations.len(),
            latest_version: latest.map(|r| r.version().clone()),
            latest_release_date: latest.map(|r| r.release_date),
            platform_count: platforms.len(),
            required_releases: required,
        })
    }
}
