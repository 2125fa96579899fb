//! The analytics tables: check counts per hour (rolled up into days) and
//! install sketches per day, each row owned by the replica that wrote it.
//! Both SQL backends run the same statements, built here.

mod memory;
mod sql_store;

pub(super) use memory::MemoryUsage;
pub(super) use sql_store::sql_usage_store;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::StoreError;
use crate::domain::analytics::{
    CountRow, Granularity, InstallSketch, Outcome, RollUp, Series, SketchRow, UsageBatch,
    UsageFootprint,
};

/// Rows per statement: under SQLite's and PostgreSQL's bind limits.
pub(super) const ROWS_PER_STATEMENT: usize = 1_000;

#[async_trait]
pub trait UsageStore: Send + Sync {
    /// The deployment's analytics secret: `candidate` when none is stored
    /// yet, else the stored one, so every replica hashes install ids alike.
    async fn analytics_secret(&self, candidate: &[u8]) -> Result<Vec<u8>, StoreError>;
    /// Replaces the batch's rows (a replica's running totals) in one
    /// transaction, one statement per table (per 1,000 rows).
    async fn write_usage(&self, batch: &UsageBatch) -> Result<(), StoreError>;
    /// An application's count rows in `[from, to)`, summed over replicas.
    async fn usage_counts(
        &self,
        application_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CountRow>, StoreError>;
    /// An application's install sketches of the days starting in `[from, to)`,
    /// one row per replica.
    async fn usage_sketches(
        &self,
        application_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<SketchRow>, StoreError>;
    /// Folds hourly rows before `hourly_before` (a day boundary) into daily
    /// rows, and removes every row before `expire_before`.
    async fn roll_up_usage(
        &self,
        hourly_before: DateTime<Utc>,
        expire_before: DateTime<Utc>,
    ) -> Result<RollUp, StoreError>;
    async fn usage_footprint(&self) -> Result<UsageFootprint, StoreError>;
}

/// A count row as read back (`checks` summed over replicas).
#[derive(sqlx::FromRow)]
pub(super) struct DbCount {
    granularity: String,
    bucket: i64,
    channel: String,
    platform: String,
    architecture: String,
    version: String,
    outcome: String,
    offered: String,
    checks: i64,
}

#[derive(sqlx::FromRow)]
pub(super) struct DbSketch {
    day: i64,
    channel: String,
    platform: String,
    architecture: String,
    version: String,
    offered: String,
    sketch: Vec<u8>,
}

#[derive(sqlx::FromRow)]
pub(super) struct DbFootprint {
    hourly: i64,
    daily: i64,
    sketches: i64,
}

impl From<DbFootprint> for UsageFootprint {
    fn from(row: DbFootprint) -> Self {
        Self {
            hourly_rows: row.hourly as u64,
            daily_rows: row.daily as u64,
            sketch_rows: row.sketches as u64,
        }
    }
}

fn at(seconds: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp(seconds, 0)
        .ok_or_else(|| StoreError::Corrupt(format!("bucket {seconds} is out of range")))
}

impl DbCount {
    pub(super) fn into_row(self, application_id: &str) -> Result<CountRow, StoreError> {
        Ok(CountRow {
            granularity: Granularity::parse(&self.granularity)
                .ok_or_else(|| StoreError::Corrupt(format!("granularity {}", self.granularity)))?,
            bucket: at(self.bucket)?,
            series: Series {
                application_id: application_id.to_string(),
                channel: self.channel,
                platform: self.platform,
                architecture: self.architecture,
                version: self.version,
                outcome: Outcome::parse(&self.outcome)
                    .ok_or_else(|| StoreError::Corrupt(format!("outcome {}", self.outcome)))?,
                offered: self.offered,
            },
            checks: self.checks.max(0) as u64,
        })
    }
}

impl DbSketch {
    pub(super) fn into_row(self, application_id: &str) -> Result<SketchRow, StoreError> {
        Ok(SketchRow {
            day: at(self.day)?,
            series: Series {
                application_id: application_id.to_string(),
                channel: self.channel,
                platform: self.platform,
                architecture: self.architecture,
                version: self.version,
                outcome: Outcome::None,
                offered: self.offered,
            },
            installs: decode_sketch(&self.sketch)?,
        })
    }
}

pub(super) fn encode_sketch(sketch: &InstallSketch) -> Vec<u8> {
    serde_json::to_vec(sketch.as_sketch()).expect("a sketch serialises")
}

pub(super) fn decode_sketch(bytes: &[u8]) -> Result<InstallSketch, StoreError> {
    Ok(InstallSketch::from_sketch(serde_json::from_slice(bytes)?))
}

/// The statements, the same text for SQLite and PostgreSQL (binds are
/// numbered by the builder).
pub(super) mod sql {
    pub const SECRET_INSERT: &str =
        "INSERT INTO analytics_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING";
    pub const SECRET_SELECT: &str = "SELECT secret FROM analytics_secret WHERE id = 1";
    pub const COUNTS: &str = "SELECT granularity, bucket, channel, platform, architecture, \
        version, outcome, offered, CAST(SUM(checks) AS BIGINT) AS checks FROM usage_counts \
        WHERE application_id = $1 AND bucket >= $2 AND bucket < $3 \
        GROUP BY granularity, bucket, channel, platform, architecture, version, outcome, offered";
    pub const SKETCHES: &str = "SELECT day, channel, platform, architecture, version, offered, \
        sketch FROM usage_sketches WHERE application_id = $1 AND day >= $2 AND day < $3";
    /// Every replica's hourly rows of a day become one daily row per series.
    pub const ROLL_UP: &str = "INSERT INTO usage_counts (application_id, granularity, bucket, \
        replica, channel, platform, architecture, version, outcome, offered, checks) \
        SELECT application_id, 'day', (bucket / 86400) * 86400, '', channel, platform, \
        architecture, version, outcome, offered, CAST(SUM(checks) AS BIGINT) FROM usage_counts \
        WHERE granularity = 'hour' AND bucket < $1 \
        GROUP BY application_id, (bucket / 86400) * 86400, channel, platform, architecture, \
        version, outcome, offered \
        ON CONFLICT (application_id, granularity, bucket, replica, channel, platform, \
        architecture, version, outcome, offered) \
        DO UPDATE SET checks = usage_counts.checks + excluded.checks";
    pub const DROP_HOURLY: &str =
        "DELETE FROM usage_counts WHERE granularity = 'hour' AND bucket < $1";
    pub const EXPIRE_COUNTS: &str = "DELETE FROM usage_counts WHERE bucket < $1";
    pub const EXPIRE_SKETCHES: &str = "DELETE FROM usage_sketches WHERE day < $1";
    pub const FOOTPRINT: &str = "SELECT \
        (SELECT COUNT(*) FROM usage_counts WHERE granularity = 'hour') AS hourly, \
        (SELECT COUNT(*) FROM usage_counts WHERE granularity = 'day') AS daily, \
        (SELECT COUNT(*) FROM usage_sketches) AS sketches";
}

/// The upsert of one chunk of count rows.
pub(super) fn upsert_counts<'a, DB>(replica: &'a str, rows: &'a [CountRow]) -> QueryBuilder<DB>
where
    DB: Database,
    &'a str: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut builder = QueryBuilder::new(
        "INSERT INTO usage_counts (application_id, granularity, bucket, replica, channel, \
         platform, architecture, version, outcome, offered, checks) ",
    );
    builder.push_values(rows, |mut values, row| {
        values
            .push_bind(row.series.application_id.as_str())
            .push_bind(row.granularity.as_str())
            .push_bind(row.bucket.timestamp())
            .push_bind(replica)
            .push_bind(row.series.channel.as_str())
            .push_bind(row.series.platform.as_str())
            .push_bind(row.series.architecture.as_str())
            .push_bind(row.series.version.as_str())
            .push_bind(row.series.outcome.as_str())
            .push_bind(row.series.offered.as_str())
            .push_bind(i64::try_from(row.checks).unwrap_or(i64::MAX));
    });
    builder.push(
        " ON CONFLICT (application_id, granularity, bucket, replica, channel, platform, \
         architecture, version, outcome, offered) DO UPDATE SET checks = excluded.checks",
    );
    builder
}

/// The upsert of one chunk of sketches, encoded beforehand.
pub(super) fn upsert_sketches<'a, DB>(
    replica: &'a str,
    rows: &'a [(&'a SketchRow, Vec<u8>)],
) -> QueryBuilder<DB>
where
    DB: Database,
    &'a str: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
    &'a [u8]: Encode<'a, DB> + Type<DB>,
{
    let mut builder = QueryBuilder::new(
        "INSERT INTO usage_sketches (application_id, day, replica, channel, platform, \
         architecture, version, offered, sketch) ",
    );
    builder.push_values(rows, |mut values, (row, encoded)| {
        values
            .push_bind(row.series.application_id.as_str())
            .push_bind(row.day.timestamp())
            .push_bind(replica)
            .push_bind(row.series.channel.as_str())
            .push_bind(row.series.platform.as_str())
            .push_bind(row.series.architecture.as_str())
            .push_bind(row.series.version.as_str())
            .push_bind(row.series.offered.as_str())
            .push_bind(encoded.as_slice());
    });
    builder.push(
        " ON CONFLICT (application_id, day, replica, channel, platform, architecture, version, \
         offered) DO UPDATE SET sketch = excluded.sketch",
    );
    builder
}

/// The batch's sketches with their encodings, for [`upsert_sketches`].
pub(super) fn encoded_sketches(batch: &UsageBatch) -> Vec<(&SketchRow, Vec<u8>)> {
    batch
        .sketches
        .iter()
        .map(|row| (row, encode_sketch(&row.installs)))
        .collect()
}
