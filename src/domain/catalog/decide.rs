//! The update decisions served from the index: the offer for one install,
//! the newest release of a track, and feeds walked newest-first.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::ops::Bound;
use std::sync::Arc;

use semver::Version;

use super::view::TrackView;
use super::{Catalog, Latest, Offer, UpdateDecision, UpdateQuery};
use crate::domain::model::Release;
use crate::domain::platform::runs_on;

impl Catalog {
    /// The update decision for one client. `None` when the application is unknown.
    ///
    /// Candidates are the releases of the client's platform, architecture and
    /// channel (on an Intel or Apple silicon Mac also the universal ones,
    /// which a release of the client's own architecture at the same version
    /// hides) that are not yanked and whose rollout admits this install,
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
        let view = entry.view(query.platform, query.architecture, query.channel);
        let allow_prerelease = query.allow_prerelease || app.config.allow_prerelease;
        let upper = match &app.config.max_version {
            Some(max) => Bound::Included(max.clone()),
            None => Bound::Unbounded,
        };
        let lower = Bound::Excluded(query.current_version.clone());
        if !bounds_are_ordered(&lower, &upper) {
            return Some(UpdateDecision::NoUpdate);
        }
        let offered = view
            .newest_first_in((lower.clone(), upper))
            .find(|release| {
                offerable(release, query, allow_prerelease)
                    && release
                        .rollout
                        .admits(app_id, release.version(), query.install_id)
            });
        let Some(release) = offered else {
            return Some(UpdateDecision::NoUpdate);
        };
        let skipped_required = view.requires_in(
            (lower, Bound::Included(release.version().clone())),
            allow_prerelease,
        );
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
            entry
                .view(query.platform, query.architecture, channel)
                .newest_first_in((
                    Bound::Excluded(query.current_version.clone()),
                    Bound::Unbounded,
                ))
                .any(|release| {
                    offerable(release, query, allow_prerelease)
                        && !release
                            .rollout
                            .admits(app_id, release.version(), query.install_id)
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
        let views: Vec<TrackView<'_>> = channels
            .iter()
            .map(|channel| entry.view(query.platform, query.architecture, channel))
            .collect();
        let running_yanked = views
            .iter()
            .any(|view| view.get(query.current_version).is_some_and(|r| r.yanked));
        if !running_yanked {
            return None;
        }
        let replacement = views
            .iter()
            .filter_map(|view| {
                view.newest_first_in((
                    Bound::Unbounded,
                    Bound::Excluded(query.current_version.clone()),
                ))
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
    /// channels when `None`), oldest first, as [`Catalog::newest_first`]
    /// picks them. `None` when the application is unknown.
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

    /// The release of exactly `version` for this target on one of
    /// `channels`: its own architecture's, else (on an Intel or Apple silicon
    /// Mac) the universal one.
    pub fn release_at(
        &self,
        app_id: &str,
        platform: &str,
        architecture: &str,
        channels: &[&str],
        version: &Version,
    ) -> Option<&Arc<Release>> {
        let entry = self.apps.get(app_id)?;
        channels
            .iter()
            .find_map(|channel| entry.view(platform, architecture, channel).get(version))
    }

    /// The same releases, newest first, merged lazily from the channels'
    /// ordered maps: a feed that needs only the newest few never walks the
    /// whole history. On an Intel or Apple silicon Mac the universal
    /// releases of each channel are merged in, but for the versions its own
    /// architecture has on that channel.
    pub fn newest_first<'a>(
        &'a self,
        app_id: &str,
        platform: &str,
        architecture: &str,
        channels: Option<&[&str]>,
    ) -> Option<impl Iterator<Item = &'a Arc<Release>> + 'a> {
        let entry = self.apps.get(app_id)?;
        let present: BTreeSet<&str> = entry
            .tracks
            .keys()
            .filter(|key| {
                key.platform == platform
                    && runs_on(platform, &key.architecture, architecture)
                    && channels.is_none_or(|c| c.contains(&key.channel.as_str()))
            })
            .map(|key| key.channel.as_str())
            .collect();
        let mut tracks: Vec<_> = present
            .into_iter()
            .map(|channel| {
                entry
                    .view(platform, architecture, channel)
                    .newest_first()
                    .peekable()
            })
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
        let allow_prerelease = allow_prerelease || entry.app.config.allow_prerelease;
        let max = entry.app.config.max_version.as_ref();
        let newest = entry
            .view(platform, architecture, channel)
            .newest_first()
            .find(|r| {
                (allow_prerelease || !r.is_prerelease())
                    && !r.yanked
                    && r.rollout.admits(app_id, r.version(), None)
                    && max.is_none_or(|m| r.version() <= m)
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
