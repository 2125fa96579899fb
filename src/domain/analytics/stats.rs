//! The figures of one application over a range, folded from its count
//! rows and its daily install sketches.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use semver::Version;

use super::{
    AppStats, CountRow, Granularity, GroupStats, InstallSketch, Outcome, OutcomeCount,
    RolloutFunnel, SeriesPoint, SketchRow, StatsQuery, TrackFilter, VersionFilter,
};

/// A release the funnel is drawn for.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseTrack {
    pub version: Version,
    pub channel: String,
    pub platform: String,
    pub architecture: String,
    pub rollout_percentage: u8,
    pub paused: bool,
}

impl ReleaseTrack {
    fn filter(&self, versions: VersionFilter) -> TrackFilter {
        TrackFilter {
            platform: self.platform.clone(),
            architecture: self.architecture.clone(),
            channel: self.channel.clone(),
            versions,
        }
    }
}

/// Adds to `into` the sketches `track` admits.
pub fn merge_installs(into: &mut InstallSketch, sketches: &[SketchRow], track: &TrackFilter) {
    for row in sketches.iter().filter(|s| track.admits(&s.series)) {
        into.merge(&row.installs);
    }
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64).min(1.0)
    }
}

/// The three sketches of one funnel: eligible, offered, running.
#[derive(Default)]
struct FunnelSketches([InstallSketch; 3]);

/// An application's figures, built from its rows a window at a time, so a
/// long range never holds more than one window of rows: what is kept is a
/// sketch per key, per day and key, and per funnel.
pub struct StatsBuilder {
    query: StatsQuery,
    tracks: Vec<ReleaseTrack>,
    any_daily: bool,
    checks: u64,
    checks_by_key: BTreeMap<String, u64>,
    by_outcome: BTreeMap<(Outcome, String), u64>,
    total: InstallSketch,
    sketch_by_key: BTreeMap<String, InstallSketch>,
    by_day: BTreeMap<DateTime<Utc>, (InstallSketch, BTreeMap<String, InstallSketch>)>,
    funnels: Vec<FunnelSketches>,
}

impl StatsBuilder {
    pub fn new(query: &StatsQuery, tracks: Vec<ReleaseTrack>) -> Self {
        Self {
            query: query.clone(),
            funnels: tracks.iter().map(|_| FunnelSketches::default()).collect(),
            tracks,
            any_daily: false,
            checks: 0,
            checks_by_key: BTreeMap::new(),
            by_outcome: BTreeMap::new(),
            total: InstallSketch::default(),
            sketch_by_key: BTreeMap::new(),
            by_day: BTreeMap::new(),
        }
    }

    pub fn add_counts(&mut self, counts: &[CountRow]) {
        for row in counts {
            self.any_daily |= row.granularity == Granularity::Day;
            self.checks += row.checks;
            *self
                .checks_by_key
                .entry(self.query.by.key(&row.series).to_string())
                .or_default() += row.checks;
            *self
                .by_outcome
                .entry((row.series.outcome, row.series.offered.clone()))
                .or_default() += row.checks;
        }
    }

    pub fn add_sketches(&mut self, sketches: &[SketchRow]) {
        for row in sketches {
            let key = self.query.by.key(&row.series);
            self.total.merge(&row.installs);
            self.sketch_by_key
                .entry(key.to_string())
                .or_default()
                .merge(&row.installs);
            let (day_total, day_keys) = self.by_day.entry(row.day).or_default();
            day_total.merge(&row.installs);
            day_keys
                .entry(key.to_string())
                .or_default()
                .merge(&row.installs);
            for (track, funnel) in self.tracks.iter().zip(&mut self.funnels) {
                let on_track = track.filter(VersionFilter::Any);
                if !on_track.admits(&row.series) {
                    continue;
                }
                let version = track.version.to_string();
                let [eligible, offered, running] = &mut funnel.0;
                if VersionFilter::Below(track.version.clone()).admits(&row.series.version) {
                    eligible.merge(&row.installs);
                }
                if row.series.offered == version {
                    offered.merge(&row.installs);
                }
                if row.series.version == version {
                    running.merge(&row.installs);
                }
            }
        }
    }

    pub fn finish(self) -> AppStats {
        let installs = self.total.estimate();
        let mut keys: Vec<&String> = self
            .checks_by_key
            .keys()
            .chain(self.sketch_by_key.keys())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let mut groups: Vec<GroupStats> = keys
            .into_iter()
            .map(|key| {
                let key_installs = self
                    .sketch_by_key
                    .get(key)
                    .map_or(0, InstallSketch::estimate);
                GroupStats {
                    key: key.clone(),
                    checks: self.checks_by_key.get(key).copied().unwrap_or(0),
                    installs: key_installs,
                    share: share(key_installs, installs),
                }
            })
            .collect();
        groups.sort_by(|a, b| {
            b.installs
                .cmp(&a.installs)
                .then(b.checks.cmp(&a.checks))
                .then(a.key.cmp(&b.key))
        });
        let series = self
            .by_day
            .iter()
            .flat_map(|(day, (day_total, day_keys))| {
                let whole = day_total.estimate();
                day_keys.iter().map(move |(key, sketch)| SeriesPoint {
                    at: *day,
                    key: key.clone(),
                    installs: sketch.estimate(),
                    share: share(sketch.estimate(), whole),
                })
            })
            .collect();
        let outcomes = self
            .by_outcome
            .into_iter()
            .map(|((outcome, offered), checks)| OutcomeCount {
                outcome,
                offered,
                checks,
            })
            .collect();
        let funnels = self
            .tracks
            .iter()
            .zip(&self.funnels)
            .map(|(track, sketches)| RolloutFunnel {
                version: track.version.to_string(),
                channel: track.channel.clone(),
                platform: track.platform.clone(),
                architecture: track.architecture.clone(),
                rollout_percentage: track.rollout_percentage,
                paused: track.paused,
                eligible: sketches.0[0].estimate(),
                offered: sketches.0[1].estimate(),
                running: sketches.0[2].estimate(),
            })
            .collect();
        AppStats {
            from: self.query.from,
            to: self.query.to,
            by: self.query.by,
            granularity: if self.any_daily {
                Granularity::Day
            } else {
                Granularity::Hour
            },
            checks: self.checks,
            installs,
            groups,
            series,
            outcomes,
            funnels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Series, StatsBy, install_hash};
    use super::*;

    fn series(version: &str, offered: &str) -> Series {
        Series {
            application_id: "app".into(),
            channel: "stable".into(),
            platform: "windows".into(),
            architecture: "amd64".into(),
            version: version.into(),
            outcome: if offered.is_empty() {
                Outcome::None
            } else {
                Outcome::Offered
            },
            offered: offered.into(),
        }
    }

    fn sketch(ids: std::ops::Range<u32>) -> InstallSketch {
        let mut sketch = InstallSketch::default();
        for id in ids {
            sketch.insert(install_hash(b"k", &id.to_string()));
        }
        sketch
    }

    #[test]
    fn groups_shares_and_funnels_add_up() {
        let day = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let query = StatsQuery {
            from: day,
            to: day + chrono::Duration::days(1),
            by: StatsBy::Version,
        };
        let counts = [
            CountRow {
                granularity: Granularity::Hour,
                bucket: day,
                series: series("1.0.0", ""),
                checks: 70,
            },
            CountRow {
                granularity: Granularity::Hour,
                bucket: day,
                series: series("1.0.0", "2.0.0"),
                checks: 10,
            },
            CountRow {
                granularity: Granularity::Hour,
                bucket: day,
                series: series("2.0.0", ""),
                checks: 20,
            },
        ];
        let sketches = [
            SketchRow {
                day,
                series: series("1.0.0", ""),
                installs: sketch(0..70),
            },
            SketchRow {
                day,
                series: series("1.0.0", "2.0.0"),
                installs: sketch(70..80),
            },
            SketchRow {
                day,
                series: series("2.0.0", ""),
                installs: sketch(75..95),
            },
        ];
        let track = ReleaseTrack {
            version: Version::new(2, 0, 0),
            channel: "stable".into(),
            platform: "windows".into(),
            architecture: "amd64".into(),
            rollout_percentage: 10,
            paused: false,
        };
        let mut builder = StatsBuilder::new(&query, vec![track]);
        // In two windows, as the store is read.
        builder.add_counts(&counts[..1]);
        builder.add_counts(&counts[1..]);
        builder.add_sketches(&sketches[..2]);
        builder.add_sketches(&sketches[2..]);
        let stats = builder.finish();
        assert_eq!(stats.checks, 100);
        assert_eq!(stats.installs, 95);
        assert_eq!(stats.groups[0].key, "1.0.0");
        assert_eq!((stats.groups[0].checks, stats.groups[0].installs), (80, 80));
        assert_eq!((stats.groups[1].checks, stats.groups[1].installs), (20, 20));
        let funnel = &stats.funnels[0];
        assert_eq!(
            (funnel.eligible, funnel.offered, funnel.running),
            (80, 10, 20)
        );
        assert_eq!(stats.series.len(), 2);
        assert_eq!(stats.outcomes.len(), 2);
        assert_eq!(
            (stats.outcomes[0].offered.as_str(), stats.outcomes[0].checks),
            ("2.0.0", 10)
        );
        assert!((stats.series[0].share - 80.0 / 95.0).abs() < 1e-9);
    }
}
