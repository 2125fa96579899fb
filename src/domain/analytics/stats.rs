//! The figures of one application over a range, from its count rows and
//! its daily install sketches.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use semver::Version;

use super::{
    AppStats, CountRow, Granularity, GroupStats, InstallSketch, OutcomeCount, RolloutFunnel,
    SeriesPoint, SketchRow, StatsQuery, TrackFilter, VersionFilter,
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

/// The unique installs of the sketches `track` admits, merged.
pub fn count_installs(sketches: &[SketchRow], track: &TrackFilter) -> u64 {
    merged(sketches.iter().filter(|s| track.admits(&s.series))).estimate()
}

fn merged<'a>(rows: impl Iterator<Item = &'a SketchRow>) -> InstallSketch {
    let mut all = InstallSketch::default();
    for row in rows {
        all.merge(&row.installs);
    }
    all
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64).min(1.0)
    }
}

pub fn compute_stats(
    query: &StatsQuery,
    counts: &[CountRow],
    sketches: &[SketchRow],
    tracks: &[ReleaseTrack],
) -> AppStats {
    let granularity = if counts.iter().any(|c| c.granularity == Granularity::Day) {
        Granularity::Day
    } else {
        Granularity::Hour
    };
    let mut checks_by_key: BTreeMap<&str, u64> = BTreeMap::new();
    let mut by_outcome: BTreeMap<(super::Outcome, &str), u64> = BTreeMap::new();
    for row in counts {
        *checks_by_key.entry(query.by.key(&row.series)).or_default() += row.checks;
        *by_outcome
            .entry((row.series.outcome, row.series.offered.as_str()))
            .or_default() += row.checks;
    }
    let outcomes = by_outcome
        .into_iter()
        .map(|((outcome, offered), checks)| OutcomeCount {
            outcome,
            offered: offered.to_string(),
            checks,
        })
        .collect();
    let mut sketch_by_key: BTreeMap<&str, InstallSketch> = BTreeMap::new();
    let mut by_day: BTreeMap<DateTime<Utc>, (InstallSketch, BTreeMap<&str, InstallSketch>)> =
        BTreeMap::new();
    let mut total = InstallSketch::default();
    for row in sketches {
        let key = query.by.key(&row.series);
        sketch_by_key.entry(key).or_default().merge(&row.installs);
        let (day_total, day_keys) = by_day.entry(row.day).or_default();
        day_total.merge(&row.installs);
        day_keys.entry(key).or_default().merge(&row.installs);
        total.merge(&row.installs);
    }
    let installs = total.estimate();
    let mut keys: Vec<&str> = checks_by_key
        .keys()
        .chain(sketch_by_key.keys())
        .copied()
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let mut groups: Vec<GroupStats> = keys
        .into_iter()
        .map(|key| {
            let key_installs = sketch_by_key.get(key).map_or(0, InstallSketch::estimate);
            GroupStats {
                key: key.to_string(),
                checks: checks_by_key.get(key).copied().unwrap_or(0),
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
    let series = by_day
        .iter()
        .flat_map(|(day, (day_total, day_keys))| {
            let whole = day_total.estimate();
            day_keys.iter().map(move |(key, sketch)| SeriesPoint {
                at: *day,
                key: key.to_string(),
                installs: sketch.estimate(),
                share: share(sketch.estimate(), whole),
            })
        })
        .collect();
    let funnels = tracks
        .iter()
        .map(|track| RolloutFunnel {
            version: track.version.to_string(),
            channel: track.channel.clone(),
            platform: track.platform.clone(),
            architecture: track.architecture.clone(),
            rollout_percentage: track.rollout_percentage,
            paused: track.paused,
            eligible: count_installs(
                sketches,
                &track.filter(VersionFilter::Below(track.version.clone())),
            ),
            offered: merged(sketches.iter().filter(|s| {
                track.filter(VersionFilter::Any).admits(&s.series)
                    && s.series.offered == track.version.to_string()
            }))
            .estimate(),
            running: count_installs(
                sketches,
                &track.filter(VersionFilter::Exactly(track.version.clone())),
            ),
        })
        .collect();
    AppStats {
        from: query.from,
        to: query.to,
        by: query.by,
        granularity,
        checks: counts.iter().map(|c| c.checks).sum(),
        installs,
        groups,
        series,
        outcomes,
        funnels,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Outcome, Series, StatsBy, install_hash};
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
        let counts = vec![
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
        let sketches = vec![
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
        let stats = compute_stats(&query, &counts, &sketches, &[track]);
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
