//! Adoption analytics: every update check is counted in memory
//! ([`live`]), written to the store every `analytics.flush_interval` by
//! one task (and at shutdown), rolled up hourly, and read back as
//! [`AppStats`]. Counting never waits on the store: a check takes one
//! shard lock for a map update.
//!
//! Each process writes its own rows under a random replica id, as running
//! totals that replace what it wrote before, so a failed flush is simply
//! retried and several replicas never overwrite each other; reads sum them.

mod live;

pub use live::CheckRecord;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::AnalyticsSettings;
use crate::domain::analytics::{
    AppStats, Granularity, InstallSketch, ReleaseTrack, RollUp, StatsBuilder, StatsQuery,
    TrackFilter, UsageFootprint, install_hash, merge_installs,
};
use crate::domain::{Release, ReleaseFilter, ReleaseSortField};
use crate::registry::Registry;
use crate::store::StoreError;
use live::Live;

/// The deadline of one flush, query or roll-up against the store.
const STORE_DEADLINE: Duration = Duration::from_secs(5);
const ROLL_UP_INTERVAL: Duration = Duration::from_secs(3600);
/// How far back "active" installs are counted for a rollout decision.
const ACTIVE_WINDOW_DAYS: i64 = 30;
/// The span of rows read from the store at a time.
const READ_WINDOW_DAYS: i64 = 7;
/// At most this many funnels per application (the newest releases first).
const MAX_FUNNELS: usize = 24;

pub struct Analytics {
    settings: AnalyticsSettings,
    registry: Arc<Registry>,
    replica: String,
    /// Random until [`Analytics::load_secret`] adopts the stored one.
    secret: parking_lot::RwLock<Vec<u8>>,
    live: Live,
    flushing: tokio::sync::Mutex<()>,
    stop: tokio::sync::Notify,
}

fn timed<T>(
    result: Result<Result<T, StoreError>, tokio::time::error::Elapsed>,
) -> Result<T, StoreError> {
    result.unwrap_or_else(|_| {
        Err(StoreError::Unavailable(
            "the store did not answer in time".into(),
        ))
    })
}

/// `[from, to)` cut into consecutive windows of [`READ_WINDOW_DAYS`].
fn windows(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let step = chrono::Duration::days(READ_WINDOW_DAYS);
    let mut windows = Vec::new();
    let mut start = from;
    while start < to {
        let end = (start + step).min(to);
        windows.push((start, end));
        start = end;
    }
    windows
}

fn random_bytes() -> Vec<u8> {
    let mut bytes = vec![0; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    bytes
}

impl Analytics {
    pub fn new(settings: &AnalyticsSettings, registry: Arc<Registry>) -> Self {
        Self {
            replica: hex::encode(&random_bytes()[..8]),
            settings: settings.clone(),
            registry,
            secret: parking_lot::RwLock::new(random_bytes()),
            live: Live::new(settings.max_series),
            flushing: tokio::sync::Mutex::new(()),
            stop: tokio::sync::Notify::new(),
        }
    }

    /// Adopts the deployment's install-id secret (storing a new one on the
    /// first start), so every replica hashes an install alike.
    pub async fn load_secret(&self) -> Result<(), StoreError> {
        let store = self.registry.store();
        let secret = timed(
            tokio::time::timeout(STORE_DEADLINE, store.analytics_secret(&random_bytes())).await,
        )?;
        *self.secret.write() = secret;
        Ok(())
    }

    pub fn enabled(&self) -> bool {
        self.settings.enabled
    }

    /// Counts one check. `install_id` is hashed at once and never kept.
    pub fn record(&self, check: CheckRecord<'_>, install_id: Option<&str>) {
        if !self.settings.enabled {
            return;
        }
        let install = install_id.map(|id| install_hash(&self.secret.read(), id));
        self.live
            .record(Utc::now(), &CheckRecord { install, ..check });
    }

    /// Writes what changed since the last flush; on failure it stays in
    /// memory for the next one.
    pub async fn flush(&self) -> Result<usize, StoreError> {
        let _one_at_a_time = self.flushing.lock().await;
        let today = Granularity::Day.bucket(Utc::now());
        let (batch, taken) = self.live.take(&self.replica, today);
        if batch.is_empty() {
            return Ok(0);
        }
        let rows = batch.counts.len() + batch.sketches.len();
        let store = self.registry.store();
        match timed(tokio::time::timeout(STORE_DEADLINE, store.write_usage(&batch)).await) {
            Ok(()) => {
                metrics::counter!("updater_analytics_rows_written_total").increment(rows as u64);
                Ok(rows)
            }
            Err(e) => {
                self.live.restore(taken);
                metrics::counter!("updater_analytics_flush_failures_total").increment(1);
                Err(e)
            }
        }
    }

    pub async fn roll_up(&self, now: DateTime<Utc>) -> Result<RollUp, StoreError> {
        let days = |d: Duration| chrono::Duration::days((d.as_secs() / 86_400) as i64);
        let hourly_before = Granularity::Day.bucket(now - days(self.settings.hourly_retention));
        let expire_before = Granularity::Day.bucket(now - days(self.settings.retention));
        let store = self.registry.store();
        timed(
            tokio::time::timeout(
                STORE_DEADLINE,
                store.roll_up_usage(hourly_before, expire_before),
            )
            .await,
        )
    }

    pub async fn footprint(&self) -> Result<UsageFootprint, StoreError> {
        let store = self.registry.store();
        timed(tokio::time::timeout(STORE_DEADLINE, store.usage_footprint()).await)
    }

    /// The figures of one application. This replica's unflushed counts are
    /// written first, so they are included. Rows are read a week at a time
    /// and folded in, so a year's range holds one week of rows at most.
    pub async fn stats(&self, app_id: &str, query: &StatsQuery) -> Result<AppStats, StoreError> {
        self.flush_before_reading().await;
        let store = self.registry.store();
        let mut builder = StatsBuilder::new(query, self.funnel_tracks(app_id));
        for (from, to) in windows(query.from, query.to) {
            let counts = timed(
                tokio::time::timeout(STORE_DEADLINE, store.usage_counts(app_id, from, to)).await,
            )?;
            builder.add_counts(&counts);
        }
        for (from, to) in windows(Granularity::Day.bucket(query.from), query.to) {
            let sketches = timed(
                tokio::time::timeout(STORE_DEADLINE, store.usage_sketches(app_id, from, to)).await,
            )?;
            builder.add_sketches(&sketches);
        }
        Ok(builder.finish())
    }

    /// Unique installs seen in the last 30 days on the track and versions given.
    pub async fn active_installs(
        &self,
        app_id: &str,
        track: &TrackFilter,
    ) -> Result<u64, StoreError> {
        self.flush_before_reading().await;
        let now = Utc::now();
        let from = Granularity::Day.bucket(now - chrono::Duration::days(ACTIVE_WINDOW_DAYS));
        let store = self.registry.store();
        let mut installs = InstallSketch::default();
        for (from, to) in windows(from, now) {
            let sketches = timed(
                tokio::time::timeout(STORE_DEADLINE, store.usage_sketches(app_id, from, to)).await,
            )?;
            merge_installs(&mut installs, &sketches, track);
        }
        Ok(installs.estimate())
    }

    async fn flush_before_reading(&self) {
        if let Err(e) = self.flush().await {
            tracing::warn!(error = %e, "flushing analytics before a query failed");
        }
    }

    /// The newest good release of each track, and every release whose
    /// rollout is partial or paused.
    fn funnel_tracks(&self, app_id: &str) -> Vec<ReleaseTrack> {
        let releases = self.registry.read(|c| {
            c.releases(
                app_id,
                &ReleaseFilter::default(),
                ReleaseSortField::Version,
                true,
                0,
                usize::MAX,
            )
            .map(|page| page.items)
            .unwrap_or_default()
        });
        let mut newest_seen = std::collections::HashSet::new();
        releases
            .iter()
            .filter(|r| !r.yanked)
            .filter(|r| {
                let newest = newest_seen.insert((
                    r.channel.clone(),
                    r.key.platform.clone(),
                    r.key.architecture.clone(),
                ));
                newest || r.rollout.percentage < 100 || r.rollout.paused
            })
            .take(MAX_FUNNELS)
            .map(|r: &Arc<Release>| ReleaseTrack {
                version: r.version().clone(),
                channel: r.channel.clone(),
                platform: r.key.platform.clone(),
                architecture: r.key.architecture.clone(),
                rollout_percentage: r.rollout.percentage,
                paused: r.rollout.paused,
            })
            .collect()
    }

    /// Ends the task of [`Analytics::spawn`] after the flush it may be in.
    pub fn stop(&self) {
        self.stop.notify_one();
    }

    /// Flushes every `flush_interval` and rolls up every hour, until
    /// [`Analytics::stop`]; a flush is never cut short, so nothing taken
    /// from memory is dropped.
    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let analytics = self.clone();
        tokio::spawn(async move {
            let mut flush = tokio::time::interval(analytics.settings.flush_interval);
            flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut roll_up = tokio::time::interval(ROLL_UP_INTERVAL);
            loop {
                tokio::select! {
                    _ = analytics.stop.notified() => return,
                    _ = flush.tick() => {
                        if let Err(e) = analytics.flush().await {
                            tracing::warn!(error = %e, "writing analytics failed; the next flush retries");
                        }
                        metrics::gauge!("updater_analytics_live_series").set(analytics.live.series() as f64);
                    }
                    _ = roll_up.tick() => match analytics.roll_up(Utc::now()).await {
                        Ok(done) if done.rolled_up + done.expired > 0 => tracing::info!(
                            rolled_up = done.rolled_up, expired = done.expired, "analytics rolled up"),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "rolling up analytics failed"),
                    },
                }
            }
        })
    }
}
