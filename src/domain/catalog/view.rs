//! The releases a client of one target sees on one channel: its own
//! architecture's and, for a Mac on Intel or Apple silicon, the universal
//! ones. A higher version wins whatever its architecture; at the same
//! version the client's own architecture wins, whatever its state, so a
//! yanked, paused or staged release there is not bypassed through the
//! universal build of that version.

use std::cmp::Ordering;
use std::ops::Bound;
use std::sync::Arc;

use semver::Version;

use super::{AppEntry, Track, TrackKey};
use crate::domain::model::Release;
use crate::domain::platform::{UNIVERSAL, served_by_universal};

type Range = (Bound<Version>, Bound<Version>);

/// One channel of a target, as its clients see it.
#[derive(Clone, Copy)]
pub(super) struct TrackView<'a> {
    own: Option<&'a Track>,
    universal: Option<&'a Track>,
}

impl AppEntry {
    pub(super) fn view(&self, platform: &str, architecture: &str, channel: &str) -> TrackView<'_> {
        let track = |architecture: &str| {
            self.tracks.get(&TrackKey {
                platform: platform.to_string(),
                architecture: architecture.to_string(),
                channel: channel.to_string(),
            })
        };
        TrackView {
            own: track(architecture),
            universal: if served_by_universal(platform, architecture) {
                track(UNIVERSAL)
            } else {
                None
            },
        }
    }
}

impl Track {
    /// The release whose version equals `version` up to build metadata.
    pub(super) fn twin_of(&self, version: &Version) -> Option<&Arc<Release>> {
        // Versions equal in precedence sort together, the one without build
        // metadata first, so one range step finds a twin.
        let mut base = version.clone();
        base.build = semver::BuildMetadata::EMPTY;
        self.by_version
            .range(base..)
            .next()
            .filter(|(v, _)| v.cmp_precedence(version) == Ordering::Equal)
            .map(|(_, release)| release)
    }
}

impl<'a> TrackView<'a> {
    pub(super) fn newest_first(self) -> impl Iterator<Item = &'a Arc<Release>> + 'a {
        self.newest_first_in((Bound::Unbounded, Bound::Unbounded))
    }

    /// The releases with versions in `range`, newest first.
    pub(super) fn newest_first_in(
        self,
        range: Range,
    ) -> impl Iterator<Item = &'a Arc<Release>> + 'a {
        let in_range = move |track: Option<&'a Track>| {
            let range = range.clone();
            track
                .into_iter()
                .flat_map(move |t| t.by_version.range(range.clone()).rev().map(|(_, r)| r))
                .peekable()
        };
        let mut own = in_range(self.own);
        let mut universal = in_range(self.universal);
        std::iter::from_fn(move || {
            let order = match (own.peek(), universal.peek()) {
                (None, None) => return None,
                (Some(_), None) => Ordering::Greater,
                (None, Some(_)) => Ordering::Less,
                (Some(o), Some(u)) => o.version().cmp_precedence(u.version()),
            };
            match order {
                Ordering::Greater => own.next(),
                Ordering::Less => universal.next(),
                Ordering::Equal => {
                    universal.next();
                    own.next()
                }
            }
        })
    }

    /// The release of exactly `version`.
    pub(super) fn get(self, version: &Version) -> Option<&'a Arc<Release>> {
        self.own
            .and_then(|own| own.by_version.get(version))
            .or_else(|| self.unshadowed(version))
    }

    /// The universal release of exactly `version`, unless the client's own
    /// architecture has that version.
    fn unshadowed(self, version: &Version) -> Option<&'a Arc<Release>> {
        self.universal?.by_version.get(version).filter(|r| {
            self.own
                .is_none_or(|own| own.twin_of(r.version()).is_none())
        })
    }

    /// Whether a required release that is not yanked (and, unless
    /// `allow_prerelease`, not a pre-release) has a version in `range`.
    pub(super) fn requires_in(self, range: Range, allow_prerelease: bool) -> bool {
        let required = |track: &'a Track| {
            if allow_prerelease {
                &track.required_all
            } else {
                &track.required_stable
            }
        };
        let own = self
            .own
            .is_some_and(|t| required(t).range(range.clone()).next().is_some());
        own || self.universal.is_some_and(|u| {
            required(u)
                .range(range)
                .any(|v| self.own.is_none_or(|own| own.twin_of(v).is_none()))
        })
    }
}
