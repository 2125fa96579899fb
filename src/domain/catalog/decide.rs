//! The update decisions served from the index: the offer for one install,
//! the newest release of a track, and feeds walked newest-first.

use std::cmp::Ordering;
use std::ops::Bound;
use std::sync::Arc;

use semver::Version;

use super::{Catalog, Latest, Offer, Track, TrackKey, UpdateDecision, UpdateQuery};
use crate::domain::model::Release;

impl Catalog {
    /// The update decision for one client. `None` when the application is unknown.
    ///
    /// Candidates are the releases of the client's platform, architecture and
    /// channel that are not yanked and whose rollout admits this install,
    /// pre-releases only when allowed, capped by the application's
    /// `max_version`. The highest candidate newer than the client that the
    /// client may install (its `minimum_version` is met) is offered, so a
    /// client too old for the newest release gets a stepping stone. The update
    /// is required when any candidate between the client (exclusive) and the
    /// offer (inclusive) is required, when the client is below the
    /// application's `min_version`, or when the application requires every update.
    pub fn decide(&self, app_id: &str, query: &UpdateQuery<'_>) -> Option<UpdateDecision> {
        let entry = self.apps.get(app_id)?;
        let app = &entry.app;
        let track_key = TrackKey {
            platform: query.platform.to_string(),
            architecture: query.architecture.to_string(),
            channel: query.channel.to_string(),
        };
        let Some(track) = entry.tracks.get(&track_key) else {
            return Some(UpdateDecision::NoUpdate);
        };
        let allow_prerelease = query.allow_prerelease || app.config.allow_prerelease;
        let upper = match &app.config.max_version {
            Some(max) => Bound::Included(max.clone()),
            None => Bound::Unbounded,
        };
        let lower = Bound::Excluded(query.current_version.clone());
        if !bounds_are_ordered(&lower, &upper) {
            return Some(UpdateDecision::NoUpdate);
        }
        let offered = track
            .by_version
            .range((lower.clone(), upper))
            .rev()
            .map(|(_, release)| release)
            .find(|release| {
                offerable(release, query, allow_prerelease)
                    && release
                        .rollout
                        .admits(app_id, release.version(), query.install_id)
            });
        let Some(release) = offered else {
            return Some(UpdateDecision::NoUpdate);
        };
        let required_set = if allow_prerelease {
            &track.required_all
        } else {
            &track.required_stable
        };
        let skipped_required = required_set
            .range((lower, Bound::Included(release.version().clone())))
            .next()
            .is_some();
        let below_min = app
            .config
            .min_version
            .as_ref()
            .is_some_and(|min| query.current_version < min);
        Some(UpdateDecision::Update {
            release: Arc::clone(release),
            required: skipped_required || below_min || app.config.required_update,
        })
    }

    /// Whether a newer release would be offered to this client but for its
    /// rollout (partial and not admitting this install, or paused): the
    /// analytics' `rollout_excluded`.
    pub fn held_back(&self, app_id: &str, query: &UpdateQuery<'_>) -> bool {
        let Some(entry) = self.apps.get(app_id) else {
            return false;
        };
        let allow_prerelease = query.allow_prerelease || entry.app.config.allow_prerelease;
        channels_followed(query.channel).iter().any(|channel| {
            let key = TrackKey {
                platform: query.platform.to_string(),
                architecture: query.architecture.to_string(),
                channel: channel.to_string(),
            };
            entry.tracks.get(&key).is_some_and(|track| {
                track
                    .by_version
                    .range((
                        Bound::Excluded(query.current_version.clone()),
                        Bound::Unbounded,
                    ))
                    .any(|(_, release)| {
                        offerable(release, query, allow_prerelease)
                            && !release
                                .rollout
                                .admits(app_id, release.version(), query.install_id)
                    })
            })
        })
    }

    /// The client protocols' decision. A client on a channel other than
    /// `stable` is also offered newer `stable` releases; the higher offer
    /// wins. An install running a yanked release with nothing newer to go to
    /// is offered the newest good release below it, marked as a rollback.
    /// `None` when there is nothing to offer (or the application is unknown).
    pub fn offer(&self, app_id: &str, query: &UpdateQuery<'_>) -> Option<Offer> {
        let channels = channels_followed(query.channel);
        let mut best: Option<Offer> = None;
        for channel in &channels {
            let on_channel = UpdateQuery {
                channel,
                ..query.clone()
            };
            if let UpdateDecision::Update { release, required } =
                self.decide(app_id, &on_channel)?
                && best
                    .as_ref()
                    .is_none_or(|b| release.version() > b.release.version())
            {
                best = Some(Offer {
                    release,
                    required,
                    rollback: false,
                });
            }
        }
        if best.is_some() {
            return best;
        }
        let entry = self.apps.get(app_id)?;
        let allow_prerelease = query.allow_prerelease || entry.app.config.allow_prerelease;
        let tracks: Vec<&Track> = channels
            .iter()
            .filter_map(|channel| {
                entry.tracks.get(&TrackKey {
                    platform: query.platform.to_string(),
                    architecture: query.architecture.to_string(),
                    channel: channel.to_string(),
                })
            })
            .collect();
        let running_yanked = tracks.iter().any(|t| {
            t.by_version
                .get(query.current_version)
                .is_some_and(|r| r.yanked)
        });
        if !running_yanked {
            return None;
        }
        let replacement = tracks
            .iter()
            .filter_map(|t| {
                t.by_version
                    .range(..query.current_version.clone())
                    .rev()
                    .map(|(_, r)| r)
                    .find(|r| {
                        !r.yanked
                            && (allow_prerelease || !r.is_prerelease())
                            && r.rollout.admits(app_id, r.version(), query.install_id)
                    })
            })
            .max_by(|a, b| a.version().cmp(b.version()));
        replacement.map(|release| Offer {
            release: Arc::clone(release),
            required: true,
            rollback: true,
        })
    }

    /// Releases of one platform and architecture on the given channels (all
    /// channels when `None`), oldest first. `None` when the application is unknown.
    pub fn track_releases(
        &self,
        app_id: &str,
        platform: &str,
        architecture: &str,
        channels: Option<&[&str]>,
    ) -> Option<Vec<Arc<Release>>> {
        let mut releases: Vec<Arc<Release>> = self
            .newest_first(app_id, platform, architecture, channels)?
            .cloned()
            .collect();
        releases.reverse();
        Some(releases)
    }

    /// The release of exactly `version` for this target on one of `channels`.
    pub fn release_at(
        &self,
        app_id: &str,
        platform: &str,
        architecture: &str,
        channels: &[&str],
        version: &Version,
    ) -> Option<&Arc<Release>> {
        let entry = self.apps.get(app_id)?;
        channels.iter().find_map(|channel| {
            entry
                .tracks
                .get(&TrackKey {
                    platform: platform.to_string(),
                    architecture: architecture.to_string(),
                    channel: channel.to_string(),
                })?
                .by_version
                .get(version)
        })
    }

    /// The same releases, newest first, merged lazily from the channels'
    /// ordered maps: a feed that needs only the newest few never walks the
    /// whole history.
    pub fn newest_first<'a>(
        &'a self,
        app_id: &str,
        platform: &str,
        architecture: &str,
        channels: Option<&[&str]>,
    ) -> Option<impl Iterator<Item = &'a Arc<Release>> + 'a> {
        let entry = self.apps.get(app_id)?;
        let mut tracks: Vec<_> = entry
            .tracks
            .iter()
            .filter(|(key, _)| {
                key.platform == platform
                    && key.architecture == architecture
                    && channels.is_none_or(|c| c.contains(&key.channel.as_str()))
            })
            .map(|(_, track)| track.by_version.values().rev().peekable())
            .collect();
        Some(std::iter::from_fn(move || {
            let newest = tracks
                .iter_mut()
                .enumerate()
                .filter_map(|(i, t)| t.peek().map(|r| (i, r.version())))
                .max_by(|a, b| a.1.cmp(b.1))
                .map(|(i, _)| i)?;
            tracks[newest].next()
        }))
    }

    /// The newest release a client of this track may be offered, ignoring its
    /// own version.
    pub fn latest(
        &self,
        app_id: &str,
        platform: &str,
        architecture: &str,
        channel: &str,
        allow_prerelease: bool,
    ) -> Latest {
        let Some(entry) = self.apps.get(app_id) else {
            return Latest::UnknownApplication;
        };
        let track_key = TrackKey {
            platform: platform.to_string(),
            architecture: architecture.to_string(),
            channel: channel.to_string(),
        };
        let allow_prerelease = allow_prerelease || entry.app.config.allow_prerelease;
        let max = entry.app.config.max_version.as_ref();
        let newest = entry.tracks.get(&track_key).and_then(|track| {
            track.by_version.values().rev().find(|r| {
                (allow_prerelease || !r.is_prerelease())
                    && !r.yanked
                    && r.rollout.admits(app_id, r.version(), None)
                    && max.is_none_or(|m| r.version() <= m)
            })
        });
        match newest {
            Some(release) => Latest::Release(Arc::clone(release)),
            None => Latest::NoRelease,
        }
    }
}

/// The channels a client on `channel` follows: its own, then `stable`.
pub fn channels_followed(channel: &str) -> Vec<&str> {
    if channel == crate::domain::DEFAULT_CHANNEL {
        vec![channel]
    } else {
        vec![channel, crate::domain::DEFAULT_CHANNEL]
    }
}

fn bounds_are_ordered(lower: &Bound<Version>, upper: &Bound<Version>) -> bool {
    match (lower, upper) {
        (Bound::Excluded(low), Bound::Included(high)) => low < high,
        _ => true,
    }
}

/// Everything but the rollout that lets a release be offered to this client.
fn offerable(release: &Release, query: &UpdateQuery<'_>, allow_prerelease: bool) -> bool {
    // Build metadata does not make a version newer.
    release.version().cmp_precedence(query.current_version) == Ordering::Greater
        && (allow_prerelease || !release.is_prerelease())
        && !release.yanked
        && release
            .minimum_version
            .as_ref()
            .is_none_or(|min| query.current_version >= min)
}
