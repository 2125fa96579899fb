//! The analytics tables on every store (memory, a real SQLite file, a real
//! PostgreSQL server): replicas' rows are summed, a rewrite replaces, and a
//! year of synthetic usage rolls up into a table whose size is bounded by
//! the retention, not by the traffic.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use crate::common::PgCluster;
use crate::common::sut::{
    CountRow, Granularity, InstallSketch, MemoryStore, Outcome, PostgresSettings, PostgresStore,
    SKETCH_RELATIVE_ERROR, Secret, Series, SketchRow, SqliteStore, Store, UsageBatch,
    UsageFootprint, install_hash,
};

const SERIES_PER_HOUR: usize = 10;
const REPLICAS: [&str; 2] = ["replica-a", "replica-b"];
const DAYS: i64 = 365;
const CHECKS_PER_ROW: u64 = 5;

fn series(index: usize) -> Series {
    Series {
        application_id: "year".into(),
        channel: "stable".into(),
        platform: ["linux", "windows"][index % 2].into(),
        architecture: "amd64".into(),
        version: format!("1.{}.0", index / 2),
        outcome: Outcome::None,
        offered: String::new(),
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
}

fn sketch(day: i64, index: usize) -> InstallSketch {
    let mut sketch = InstallSketch::default();
    for install in 0..20 {
        sketch.insert(install_hash(b"year", &format!("{day}-{index}-{install}")));
    }
    sketch
}

/// One day of one replica: every hour's rows, and the day's sketches.
fn day_batch(replica: &str, day: i64) -> UsageBatch {
    let midnight = start() + chrono::Duration::days(day);
    let counts = (0..24)
        .flat_map(|hour| {
            (0..SERIES_PER_HOUR).map(move |index| CountRow {
                granularity: Granularity::Hour,
                bucket: midnight + chrono::Duration::hours(hour),
                series: series(index),
                checks: CHECKS_PER_ROW,
            })
        })
        .collect();
    let sketches = (0..SERIES_PER_HOUR)
        .map(|index| SketchRow {
            day: midnight,
            series: series(index),
            installs: sketch(day, index),
        })
        .collect();
    UsageBatch {
        replica: replica.into(),
        counts,
        sketches,
    }
}

async fn total_checks(store: &dyn Store, from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    store
        .usage_counts("year", from, to)
        .await
        .unwrap()
        .iter()
        .map(|row| row.checks)
        .sum()
}

async fn a_year_rolls_up_into_a_bounded_table(store: Arc<dyn Store>) {
    for day in 0..DAYS {
        for replica in REPLICAS {
            store.write_usage(&day_batch(replica, day)).await.unwrap();
        }
    }
    let end = start() + chrono::Duration::days(DAYS);
    let per_day = 24 * SERIES_PER_HOUR as u64 * REPLICAS.len() as u64 * CHECKS_PER_ROW;
    assert_eq!(
        total_checks(&*store, start(), end).await,
        per_day * DAYS as u64
    );
    let written = store.usage_footprint().await.unwrap();
    assert_eq!(written.hourly_rows, DAYS as u64 * 24 * 20);

    // Hourly rows for 30 days, daily rows (replicas merged) for 180.
    let hourly_before = end - chrono::Duration::days(30);
    let expire_before = end - chrono::Duration::days(180);
    let done = store
        .roll_up_usage(hourly_before, expire_before)
        .await
        .unwrap();
    assert_eq!(done.rolled_up, (DAYS as u64 - 30) * 24 * 20);
    let footprint = store.usage_footprint().await.unwrap();
    assert_eq!(
        footprint,
        UsageFootprint {
            hourly_rows: 30 * 24 * SERIES_PER_HOUR as u64 * REPLICAS.len() as u64,
            daily_rows: 150 * SERIES_PER_HOUR as u64,
            sketch_rows: 180 * SERIES_PER_HOUR as u64 * REPLICAS.len() as u64,
        },
        "the table size depends on the retention only"
    );
    assert_eq!(
        total_checks(&*store, expire_before, end).await,
        per_day * 180,
        "rolling up keeps every check of the retained days"
    );
    let rolled_day = store
        .usage_counts(
            "year",
            expire_before,
            expire_before + chrono::Duration::days(1),
        )
        .await
        .unwrap();
    assert!(rolled_day.iter().all(|r| r.granularity == Granularity::Day));
    assert_eq!(rolled_day.len(), SERIES_PER_HOUR);
    assert_eq!(rolled_day[0].checks, 24 * 2 * CHECKS_PER_ROW);

    let again = store
        .roll_up_usage(hourly_before, expire_before)
        .await
        .unwrap();
    assert_eq!(
        (again.rolled_up, again.expired),
        (0, 0),
        "a second roll-up changes nothing"
    );
    assert_eq!(store.usage_footprint().await.unwrap(), footprint);

    // Sketches of both replicas merge into the day's unique installs.
    let sketches = store
        .usage_sketches("year", end - chrono::Duration::days(1), end)
        .await
        .unwrap();
    assert_eq!(sketches.len(), SERIES_PER_HOUR * 2);
    let mut union = InstallSketch::default();
    for row in &sketches {
        union.merge(&row.installs);
    }
    let expected = 20.0 * SERIES_PER_HOUR as f64;
    let error = (union.estimate() as f64 - expected).abs() / expected;
    assert!(
        error <= 3.0 * SKETCH_RELATIVE_ERROR,
        "estimated {}",
        union.estimate()
    );
}

async fn a_rewrite_replaces_and_replicas_add_up(store: Arc<dyn Store>) {
    let at = start();
    let row = |checks| CountRow {
        granularity: Granularity::Hour,
        bucket: at,
        series: series(0),
        checks,
    };
    for (replica, checks) in [("a", 3), ("a", 7), ("b", 5)] {
        let batch = UsageBatch {
            replica: replica.into(),
            counts: vec![row(checks)],
            sketches: Vec::new(),
        };
        store.write_usage(&batch).await.unwrap();
    }
    let rows = store
        .usage_counts("year", at, at + chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].checks, 12,
        "replica a's 7 replaced its 3; b's 5 added"
    );
    let first = store.analytics_secret(b"first").await.unwrap();
    let second = store.analytics_secret(b"second").await.unwrap();
    assert_eq!(
        (first.as_slice(), second.as_slice()),
        (&b"first"[..], &b"first"[..])
    );
}

async fn sqlite() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("usage.db"), Duration::from_secs(5))
        .await
        .unwrap();
    (dir, Arc::new(store))
}

async fn postgres(cluster: &PgCluster, name: &str) -> Arc<dyn Store> {
    let settings = PostgresSettings {
        url: Secret::new(cluster.database(name)),
        max_connections: 5,
        acquire_timeout: Duration::from_secs(5),
    };
    Arc::new(PostgresStore::open(&settings).await.unwrap())
}

#[tokio::test]
async fn memory_usage_tables() {
    a_rewrite_replaces_and_replicas_add_up(Arc::new(MemoryStore::new())).await;
    a_year_rolls_up_into_a_bounded_table(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn sqlite_usage_tables() {
    let (_dir, store) = sqlite().await;
    a_rewrite_replaces_and_replicas_add_up(store).await;
    let (_dir, store) = sqlite().await;
    a_year_rolls_up_into_a_bounded_table(store).await;
}

#[tokio::test]
async fn postgres_usage_tables() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    a_rewrite_replaces_and_replicas_add_up(postgres(&cluster, "usage_rewrite").await).await;
    a_year_rolls_up_into_a_bounded_table(postgres(&cluster, "usage_year").await).await;
}
