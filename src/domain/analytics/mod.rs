//! Adoption analytics: what one update check leaves behind, and the figures
//! read back from it. Pure types and arithmetic; aggregation in memory and
//! flushing live in `crate::analytics`, the tables in `crate::store`.
//!
//! Nothing here holds an install id or an address: a check is counted in an
//! hourly row keyed by (application, channel, platform, architecture,
//! current version, outcome, offered version), and its install id, when the
//! client sends one, only as a keyed 64-bit hash inside a HyperLogLog sketch
//! per day and series.

mod sketch;
mod stats;

use chrono::{DateTime, Duration, DurationRound, Utc};
use semver::Version;

use super::platform::runs_on;

pub use sketch::{InstallSketch, SKETCH_RELATIVE_ERROR, install_hash};
pub use stats::{ReleaseTrack, StatsBuilder, merge_installs};

/// A version the server did not track as itself: the per-series cap was
/// reached, or the client sent none (electron-updater's channel files).
pub const OTHER: &str = "other";
pub const UNKNOWN: &str = "unknown";

/// What an update check answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// A newer release was offered (the `offered` version of the row).
    Offered,
    /// Nothing newer for this install.
    None,
    /// A newer release exists, but its rollout does not admit this install yet
    /// (or it is paused).
    RolloutExcluded,
    /// The install runs a yanked release and was offered an older one.
    Rollback,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::Offered,
        Outcome::None,
        Outcome::RolloutExcluded,
        Outcome::Rollback,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Offered => "offered",
            Outcome::None => "none",
            Outcome::RolloutExcluded => "rollout_excluded",
            Outcome::Rollback => "rollback",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

/// The dimensions a check is counted under.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Series {
    pub application_id: String,
    pub channel: String,
    pub platform: String,
    pub architecture: String,
    /// The version the client runs, [`UNKNOWN`] when it did not say, or
    /// [`OTHER`] past the series cap.
    pub version: String,
    pub outcome: Outcome,
    /// The version offered (or rolled back to); empty otherwise.
    pub offered: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Granularity {
    Hour,
    Day,
}

impl Granularity {
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Hour => "hour",
            Granularity::Day => "day",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "hour" => Some(Granularity::Hour),
            "day" => Some(Granularity::Day),
            _ => None,
        }
    }

    /// The start of the bucket holding `at`.
    pub fn bucket(self, at: DateTime<Utc>) -> DateTime<Utc> {
        let width = match self {
            Granularity::Hour => Duration::hours(1),
            Granularity::Day => Duration::days(1),
        };
        at.duration_trunc(width).unwrap_or(at)
    }
}

/// Checks counted in one bucket, summed over every replica that wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct CountRow {
    pub granularity: Granularity,
    pub bucket: DateTime<Utc>,
    pub series: Series,
    pub checks: u64,
}

/// One day's unique installs of a series (the outcome is not part of a
/// sketch's key: `series.outcome` is ignored).
#[derive(Debug, Clone)]
pub struct SketchRow {
    pub day: DateTime<Utc>,
    pub series: Series,
    pub installs: InstallSketch,
}

/// What one replica writes at a flush: its running totals of the buckets
/// that changed since the last one (a total replaces the stored one).
#[derive(Debug, Clone, Default)]
pub struct UsageBatch {
    pub replica: String,
    pub counts: Vec<CountRow>,
    pub sketches: Vec<SketchRow>,
}

impl UsageBatch {
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty() && self.sketches.is_empty()
    }
}

/// How many rows the analytics tables hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageFootprint {
    pub hourly_rows: u64,
    pub daily_rows: u64,
    pub sketch_rows: u64,
}

/// What a roll-up did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RollUp {
    /// Hourly rows folded into daily ones.
    pub rolled_up: u64,
    /// Rows (counts and sketches) past the retention, removed.
    pub expired: u64,
}

/// How the figures of `GET /stats` are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsBy {
    Version,
    Platform,
    Channel,
}

impl StatsBy {
    pub fn as_str(self) -> &'static str {
        match self {
            StatsBy::Version => "version",
            StatsBy::Platform => "platform",
            StatsBy::Channel => "channel",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "version" => Some(StatsBy::Version),
            "platform" => Some(StatsBy::Platform),
            "channel" => Some(StatsBy::Channel),
            _ => None,
        }
    }

    fn key(self, series: &Series) -> &str {
        match self {
            StatsBy::Version => &series.version,
            StatsBy::Platform => &series.platform,
            StatsBy::Channel => &series.channel,
        }
    }
}

/// A time range, `[from, to)`, grouped one way.
#[derive(Debug, Clone)]
pub struct StatsQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub by: StatsBy,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AppStats {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub by: StatsBy,
    /// The finest bucket the range's check counts come from: hourly rows
    /// are kept for `analytics.hourly_retention`, daily ones after that.
    pub granularity: Granularity,
    /// Update checks in the range (exact).
    pub checks: u64,
    /// Unique installs in the range (estimated).
    pub installs: u64,
    /// One per key of `by`, most installs first.
    pub groups: Vec<GroupStats>,
    /// Per day and key: the key's share of that day's installs.
    pub series: Vec<SeriesPoint>,
    /// Checks per answer (exact): how many were offered each version, held
    /// back by a rollout, rolled back, or told nothing is newer.
    pub outcomes: Vec<OutcomeCount>,
    pub funnels: Vec<RolloutFunnel>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeCount {
    pub outcome: Outcome,
    /// The version offered or rolled back to; empty otherwise.
    pub offered: String,
    pub checks: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupStats {
    pub key: String,
    pub checks: u64,
    pub installs: u64,
    /// Of the range's installs, 0 to 1.
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SeriesPoint {
    pub at: DateTime<Utc>,
    pub key: String,
    pub installs: u64,
    pub share: f64,
}

/// A release's way through its rollout, over the range: installs of its
/// track on an older version (eligible), those offered it, those running it.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutFunnel {
    pub version: String,
    pub channel: String,
    pub platform: String,
    pub architecture: String,
    pub rollout_percentage: u8,
    pub paused: bool,
    pub eligible: u64,
    pub offered: u64,
    pub running: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionFilter {
    Any,
    Below(Version),
    Exactly(Version),
}

impl VersionFilter {
    /// Whether a series' version string passes; [`OTHER`] and [`UNKNOWN`]
    /// pass only `Any`.
    pub fn admits(&self, version: &str) -> bool {
        let parsed = || Version::parse(version).ok();
        match self {
            VersionFilter::Any => true,
            VersionFilter::Below(limit) => parsed().is_some_and(|v| v < *limit),
            VersionFilter::Exactly(exact) => parsed().is_some_and(|v| v == *exact),
        }
    }
}

/// The installs a rollout change reaches: one track, some versions. A
/// universal release's track is the Intel and Apple silicon Macs it runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackFilter {
    pub platform: String,
    pub architecture: String,
    pub channel: String,
    pub versions: VersionFilter,
}

impl TrackFilter {
    pub fn admits(&self, series: &Series) -> bool {
        series.platform == self.platform
            && runs_on(&self.platform, &self.architecture, &series.architecture)
            && series.channel == self.channel
            && self.versions.admits(&series.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for outcome in Outcome::ALL {
            assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
        }
        for by in [StatsBy::Version, StatsBy::Platform, StatsBy::Channel] {
            assert_eq!(StatsBy::parse(by.as_str()), Some(by));
        }
        assert_eq!(StatsBy::parse("install"), None);
    }

    #[test]
    fn buckets_start_on_the_hour_and_the_day() {
        let at = DateTime::parse_from_rfc3339("2026-12-04T13:47:12Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            Granularity::Hour.bucket(at).to_rfc3339(),
            "2026-12-04T13:00:00+00:00"
        );
        assert_eq!(
            Granularity::Day.bucket(at).to_rfc3339(),
            "2026-12-04T00:00:00+00:00"
        );
    }

    #[test]
    fn version_filters() {
        let v2 = Version::new(2, 0, 0);
        assert!(VersionFilter::Below(v2.clone()).admits("1.9.9"));
        assert!(!VersionFilter::Below(v2.clone()).admits("2.0.0"));
        assert!(!VersionFilter::Below(v2.clone()).admits(OTHER));
        assert!(VersionFilter::Exactly(v2.clone()).admits("2.0.0"));
        assert!(VersionFilter::Any.admits(UNKNOWN));
    }

    #[test]
    fn a_universal_track_counts_the_macs_it_serves() {
        let series = |platform: &str, architecture: &str| Series {
            application_id: "desk".into(),
            channel: "stable".into(),
            platform: platform.into(),
            architecture: architecture.into(),
            version: "1.0.0".into(),
            outcome: Outcome::None,
            offered: String::new(),
        };
        let track = |architecture: &str| TrackFilter {
            platform: "darwin".into(),
            architecture: architecture.into(),
            channel: "stable".into(),
            versions: VersionFilter::Any,
        };
        assert!(track("universal").admits(&series("darwin", "arm64")));
        assert!(track("universal").admits(&series("darwin", "amd64")));
        assert!(!track("universal").admits(&series("darwin", "386")));
        assert!(!track("universal").admits(&series("linux", "amd64")));
        assert!(!track("arm64").admits(&series("darwin", "amd64")));
    }
}
