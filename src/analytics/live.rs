//! The counts of the current hour and the sketches of the current day, in
//! memory: a check touches one shard's lock and one map entry, and
//! allocates only for a series it is the first to see.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use semver::Version;

use crate::domain::analytics::{
    CountRow, Granularity, InstallSketch, OTHER, Outcome, Series, SketchRow, UNKNOWN, UsageBatch,
};

const SHARDS: usize = 16;

/// One update check, as a handler saw it.
#[derive(Debug, Clone, Copy)]
pub struct CheckRecord<'a> {
    pub application_id: &'a str,
    pub channel: &'a str,
    pub platform: &'a str,
    pub architecture: &'a str,
    /// `None` when the protocol does not say (electron-updater, Sparkle).
    pub current_version: Option<&'a Version>,
    pub outcome: Outcome,
    pub offered: Option<&'a Version>,
    /// The keyed hash of the install id, when the client sent one.
    pub install: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum VersionTag {
    Known(Version),
    Unknown,
    /// Past the series cap.
    Other,
}

impl VersionTag {
    fn of(version: Option<&Version>) -> Self {
        version.map_or(Self::Unknown, |v| Self::Known(v.clone()))
    }

    fn matches(&self, version: Option<&Version>) -> bool {
        match (self, version) {
            (Self::Known(mine), Some(theirs)) => mine == theirs,
            (Self::Unknown, None) => true,
            _ => false,
        }
    }

    fn label(&self) -> String {
        match self {
            Self::Known(v) => v.to_string(),
            Self::Unknown => UNKNOWN.into(),
            Self::Other => OTHER.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LiveSeries {
    application_id: String,
    channel: String,
    platform: String,
    architecture: String,
    version: VersionTag,
    outcome: Outcome,
    offered: Option<Version>,
}

impl LiveSeries {
    fn matches(&self, record: &CheckRecord<'_>, overflow: bool) -> bool {
        self.application_id == record.application_id
            && self.platform == record.platform
            && self.architecture == record.architecture
            && self.outcome == record.outcome
            && if overflow {
                self.version == VersionTag::Other && self.channel == OTHER && self.offered.is_none()
            } else {
                self.channel == record.channel
                    && self.version.matches(record.current_version)
                    && self.offered.as_ref() == record.offered
            }
    }

    fn new(record: &CheckRecord<'_>, overflow: bool) -> Self {
        Self {
            application_id: record.application_id.into(),
            channel: if overflow { OTHER } else { record.channel }.into(),
            platform: record.platform.into(),
            architecture: record.architecture.into(),
            version: if overflow {
                VersionTag::Other
            } else {
                VersionTag::of(record.current_version)
            },
            outcome: record.outcome,
            offered: if overflow {
                None
            } else {
                record.offered.cloned()
            },
        }
    }

    fn to_series(&self) -> Series {
        Series {
            application_id: self.application_id.clone(),
            channel: self.channel.clone(),
            platform: self.platform.clone(),
            architecture: self.architecture.clone(),
            version: self.version.label(),
            outcome: self.outcome,
            offered: self
                .offered
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        }
    }
}

struct Cell {
    hour: DateTime<Utc>,
    day: DateTime<Utc>,
    series: LiveSeries,
    checks: u64,
    installs: InstallSketch,
    /// Changed since the last flush.
    counts_dirty: bool,
    installs_dirty: bool,
}

#[derive(Default)]
struct Shard {
    /// By the hash of (hour, series); collisions share a vector.
    cells: HashMap<u64, Vec<Cell>>,
}

pub struct Live {
    shards: Vec<Mutex<Shard>>,
    series: AtomicUsize,
    max_series: usize,
}

fn slot(hour: DateTime<Utc>, record: &CheckRecord<'_>, overflow: bool) -> u64 {
    let mut hasher = DefaultHasher::new();
    hour.timestamp().hash(&mut hasher);
    record.application_id.hash(&mut hasher);
    record.platform.hash(&mut hasher);
    record.architecture.hash(&mut hasher);
    record.outcome.hash(&mut hasher);
    overflow.hash(&mut hasher);
    if !overflow {
        record.channel.hash(&mut hasher);
        record.current_version.hash(&mut hasher);
        record.offered.hash(&mut hasher);
    }
    hasher.finish()
}

/// Which cells a flush wrote, to mark them dirty again if it fails.
pub struct Taken(Vec<(usize, u64, LiveSeries, DateTime<Utc>)>);

impl Live {
    pub fn new(max_series: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            series: AtomicUsize::new(0),
            max_series,
        }
    }

    pub fn record(&self, at: DateTime<Utc>, record: &CheckRecord<'_>) {
        let hour = Granularity::Hour.bucket(at);
        let mut overflow = false;
        loop {
            let slot = slot(hour, record, overflow);
            let mut shard = self.shards[(slot as usize) % SHARDS].lock();
            let cells = shard.cells.entry(slot).or_default();
            let cell = match cells
                .iter_mut()
                .position(|c| c.hour == hour && c.series.matches(record, overflow))
            {
                Some(index) => &mut cells[index],
                None => {
                    if !overflow && self.series.load(Ordering::Relaxed) >= self.max_series {
                        overflow = true;
                        continue;
                    }
                    self.series.fetch_add(1, Ordering::Relaxed);
                    cells.push(Cell {
                        hour,
                        day: Granularity::Day.bucket(at),
                        series: LiveSeries::new(record, overflow),
                        checks: 0,
                        installs: InstallSketch::default(),
                        counts_dirty: false,
                        installs_dirty: false,
                    });
                    cells.last_mut().expect("just pushed")
                }
            };
            cell.checks += 1;
            cell.counts_dirty = true;
            if let Some(install) = record.install {
                cell.installs.insert(install);
                cell.installs_dirty = true;
            }
            return;
        }
    }

    /// The running totals of every cell changed since the last flush, marked
    /// clean; and forgets clean cells of hours before `keep_from`.
    pub fn take(&self, replica: &str, keep_from: DateTime<Utc>) -> (UsageBatch, Taken) {
        let mut batch = UsageBatch {
            replica: replica.to_string(),
            ..UsageBatch::default()
        };
        let mut taken = Vec::new();
        // A day's sketch is the union of its hours' sketches, per series.
        let mut day_sketches: HashMap<(DateTime<Utc>, Series), InstallSketch> = HashMap::new();
        let mut dirty_days: std::collections::HashSet<(DateTime<Utc>, Series)> =
            std::collections::HashSet::new();
        for (index, shard) in self.shards.iter().enumerate() {
            let mut shard = shard.lock();
            for (slot, cells) in shard.cells.iter_mut() {
                for cell in cells.iter_mut() {
                    let mut sketch_series = cell.series.to_series();
                    sketch_series.outcome = Outcome::None;
                    let day_key = (cell.day, sketch_series);
                    if cell.installs.estimate() > 0 {
                        day_sketches
                            .entry(day_key.clone())
                            .or_default()
                            .merge(&cell.installs);
                    }
                    if cell.installs_dirty {
                        dirty_days.insert(day_key);
                    }
                    if cell.counts_dirty || cell.installs_dirty {
                        taken.push((index, *slot, cell.series.clone(), cell.hour));
                    }
                    if cell.counts_dirty {
                        batch.counts.push(CountRow {
                            granularity: Granularity::Hour,
                            bucket: cell.hour,
                            series: cell.series.to_series(),
                            checks: cell.checks,
                        });
                    }
                    cell.counts_dirty = false;
                    cell.installs_dirty = false;
                }
            }
        }
        batch.sketches = day_sketches
            .into_iter()
            .filter(|(key, _)| dirty_days.contains(key))
            .map(|((day, series), installs)| SketchRow {
                day,
                series,
                installs,
            })
            .collect();
        self.forget_before(keep_from);
        (batch, Taken(taken))
    }

    /// Marks a failed flush's cells dirty again, so the next one retries.
    pub fn restore(&self, taken: Taken) {
        for (index, slot, series, hour) in taken.0 {
            let mut shard = self.shards[index].lock();
            if let Some(cell) = shard.cells.get_mut(&slot).and_then(|cells| {
                cells
                    .iter_mut()
                    .find(|c| c.hour == hour && c.series == series)
            }) {
                cell.counts_dirty = true;
                cell.installs_dirty = true;
            }
        }
    }

    /// Clean cells of a past hour are written and no longer needed, except
    /// that the day's sketch is rebuilt from its hours: keep those until
    /// their day is over (`keep_from` is the start of yesterday's last hour
    /// at the earliest).
    fn forget_before(&self, keep_from: DateTime<Utc>) {
        let mut removed = 0;
        for shard in &self.shards {
            let mut shard = shard.lock();
            shard.cells.retain(|_, cells| {
                let before = cells.len();
                cells.retain(|c| c.counts_dirty || c.installs_dirty || c.day >= keep_from);
                removed += before - cells.len();
                !cells.is_empty()
            });
        }
        self.series.fetch_sub(removed, Ordering::Relaxed);
    }

    pub fn series(&self) -> usize {
        self.series.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record<'a>(version: &'a Version, install: Option<u64>) -> CheckRecord<'a> {
        CheckRecord {
            application_id: "app",
            channel: "stable",
            platform: "linux",
            architecture: "amd64",
            current_version: Some(version),
            outcome: Outcome::None,
            offered: None,
            install,
        }
    }

    #[test]
    fn checks_add_up_and_a_flush_takes_only_what_changed() {
        let live = Live::new(100);
        let now = Utc::now();
        let v1 = Version::new(1, 0, 0);
        for i in 0..10 {
            live.record(now, &record(&v1, Some(i % 4)));
        }
        let (batch, _) = live.take("r", Granularity::Day.bucket(now));
        assert_eq!(batch.counts.len(), 1);
        assert_eq!(batch.counts[0].checks, 10);
        assert_eq!(batch.sketches[0].installs.estimate(), 4);
        let (again, _) = live.take("r", Granularity::Day.bucket(now));
        assert!(again.is_empty());
        live.record(now, &record(&v1, None));
        let (third, _) = live.take("r", Granularity::Day.bucket(now));
        assert_eq!(third.counts[0].checks, 11, "totals are cumulative");
        assert!(third.sketches.is_empty());
    }

    #[test]
    fn series_past_the_cap_are_counted_as_other() {
        let live = Live::new(2);
        let now = Utc::now();
        let versions: Vec<Version> = (0..5).map(|i| Version::new(1, i, 0)).collect();
        for v in &versions {
            live.record(now, &record(v, None));
        }
        let (batch, _) = live.take("r", Granularity::Day.bucket(now));
        assert_eq!(live.series(), 3);
        let other = batch
            .counts
            .iter()
            .find(|c| c.series.version == OTHER)
            .unwrap();
        assert_eq!(other.checks, 3);
        assert_eq!(batch.counts.iter().map(|c| c.checks).sum::<u64>(), 5);
    }

    #[test]
    fn a_failed_flush_is_retried() {
        let live = Live::new(100);
        let now = Utc::now();
        let v1 = Version::new(1, 0, 0);
        live.record(now, &record(&v1, Some(1)));
        let (_, taken) = live.take("r", Granularity::Day.bucket(now));
        live.restore(taken);
        let (retry, _) = live.take("r", Granularity::Day.bucket(now));
        assert_eq!(retry.counts[0].checks, 1);
        assert_eq!(retry.sketches.len(), 1);
    }
}
