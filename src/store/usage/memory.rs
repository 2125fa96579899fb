//! The analytics tables of the memory store.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::domain::analytics::{
    CountRow, Granularity, InstallSketch, RollUp, Series, SketchRow, UsageBatch, UsageFootprint,
};

type CountKey = (Granularity, DateTime<Utc>, String, Series);
type SketchKey = (DateTime<Utc>, String, Series);

#[derive(Default)]
pub(in crate::store) struct MemoryUsage {
    secret: Option<Vec<u8>>,
    counts: BTreeMap<CountKey, u64>,
    sketches: BTreeMap<SketchKey, InstallSketch>,
}

/// Sketches are keyed without the outcome, as in the SQL tables.
fn sketch_series(series: &Series) -> Series {
    Series {
        outcome: crate::domain::analytics::Outcome::None,
        ..series.clone()
    }
}

impl MemoryUsage {
    pub(in crate::store) fn secret(&mut self, candidate: &[u8]) -> Vec<u8> {
        self.secret
            .get_or_insert_with(|| candidate.to_vec())
            .clone()
    }

    pub(in crate::store) fn write(&mut self, batch: &UsageBatch) {
        for row in &batch.counts {
            let key = (
                row.granularity,
                row.bucket,
                batch.replica.clone(),
                row.series.clone(),
            );
            self.counts.insert(key, row.checks);
        }
        for row in &batch.sketches {
            let key = (row.day, batch.replica.clone(), sketch_series(&row.series));
            self.sketches.insert(key, row.installs.clone());
        }
    }

    pub(in crate::store) fn counts(
        &self,
        application_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<CountRow> {
        let mut summed: BTreeMap<(Granularity, DateTime<Utc>, &Series), u64> = BTreeMap::new();
        for ((granularity, bucket, _, series), checks) in &self.counts {
            if series.application_id == application_id && *bucket >= from && *bucket < to {
                *summed.entry((*granularity, *bucket, series)).or_default() += checks;
            }
        }
        summed
            .into_iter()
            .map(|((granularity, bucket, series), checks)| CountRow {
                granularity,
                bucket,
                series: series.clone(),
                checks,
            })
            .collect()
    }

    pub(in crate::store) fn sketches(
        &self,
        application_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<SketchRow> {
        self.sketches
            .iter()
            .filter(|((day, _, series), _)| {
                series.application_id == application_id && *day >= from && *day < to
            })
            .map(|((day, _, series), installs)| SketchRow {
                day: *day,
                series: series.clone(),
                installs: installs.clone(),
            })
            .collect()
    }

    pub(in crate::store) fn roll_up(
        &mut self,
        hourly_before: DateTime<Utc>,
        expire_before: DateTime<Utc>,
    ) -> RollUp {
        let mut report = RollUp::default();
        let hourly: Vec<CountKey> = self
            .counts
            .keys()
            .filter(|(granularity, bucket, _, _)| {
                *granularity == Granularity::Hour && *bucket < hourly_before
            })
            .cloned()
            .collect();
        for key in hourly {
            let checks = self.counts.remove(&key).unwrap_or(0);
            let (_, bucket, _, series) = key;
            let day = (
                Granularity::Day,
                Granularity::Day.bucket(bucket),
                String::new(),
                series,
            );
            *self.counts.entry(day).or_default() += checks;
            report.rolled_up += 1;
        }
        let before = self.counts.len() + self.sketches.len();
        self.counts
            .retain(|(_, bucket, _, _), _| *bucket >= expire_before);
        self.sketches.retain(|(day, _, _), _| *day >= expire_before);
        report.expired = (before - self.counts.len() - self.sketches.len()) as u64;
        report
    }

    pub(in crate::store) fn footprint(&self) -> UsageFootprint {
        let hourly = self
            .counts
            .keys()
            .filter(|(granularity, ..)| *granularity == Granularity::Hour)
            .count() as u64;
        UsageFootprint {
            hourly_rows: hourly,
            daily_rows: self.counts.len() as u64 - hourly,
            sketch_rows: self.sketches.len() as u64,
        }
    }
}
