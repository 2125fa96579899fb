//! The embedded default: one SQLite file in WAL mode with `synchronous=FULL`,
//! so a write is on disk before the API acknowledges it.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{SqliteConnection, query, query_as};

mod file;
mod idempotency;
mod records;
mod usage;

use super::rows::{DbApplication, DbRelease};
use super::{Journal, Snapshot, Store, StoreError, describe};
use crate::domain::audit::{AuditEntry, AuditQuery, AuditRecord};
use crate::domain::job::Job;
use crate::domain::keys::ManagedKey;
use crate::domain::webhook::{Delivery, DeliveryAttempt, NextStep, Webhook};
use crate::domain::{Application, Release, ReleaseKey};
use chrono::{DateTime, Utc};

pub struct SqliteStore {
    pool: SqlitePool,
    file: file::DatabaseFile,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies migrations.
    pub async fn open(path: &Path, busy_timeout: Duration) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(busy_timeout);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(busy_timeout)
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("opening {}: {}", path.display(), describe(&e)))
            })?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migrating {}: {e}", path.display())))?;
        let file = file::DatabaseFile::opened(path).await?;
        Ok(Self { pool, file })
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn load(&self) -> Result<Snapshot, StoreError> {
        let applications = query_as::<_, DbApplication>("SELECT * FROM applications ORDER BY id")
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(Application::try_from)
            .collect::<Result<_, _>>()?;
        let releases =
            query_as::<_, DbRelease>("SELECT * FROM releases ORDER BY application_id, created_at")
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .map(Release::try_from)
                .collect::<Result<_, _>>()?;
        Ok(Snapshot {
            applications,
            releases,
        })
    }

    async fn insert_application(
        &self,
        app: &Application,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = DbApplication::try_from(app)?;
        query(
            "INSERT INTO applications (id, name, description, platforms, config, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(row.id)
        .bind(row.name)
        .bind(row.description)
        .bind(row.platforms)
        .bind(row.config)
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(&mut *tx)
        .await?;
        records::write_journal(&mut tx, journal).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_application(
        &self,
        app: &Application,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = DbApplication::try_from(app)?;
        let result = query(
            "UPDATE applications SET name = ?, description = ?, platforms = ?, config = ?, updated_at = ? \
             WHERE id = ?",
        )
        .bind(row.name)
        .bind(row.description)
        .bind(row.platforms)
        .bind(row.config)
        .bind(row.updated_at)
        .bind(row.id)
        .execute(&mut *tx)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        records::write_journal(&mut tx, journal).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_application(&self, id: &str, journal: &Journal) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let result = query("DELETE FROM applications WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        records::write_journal(&mut tx, journal).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn insert_releases(
        &self,
        releases: &[Release],
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for release in releases {
            insert_release(&mut tx, release).await?;
        }
        records::write_journal(&mut tx, journal).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_release(&self, release: &Release, journal: &Journal) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let key = &release.key;
        let result = query(
            "UPDATE releases SET rollout_percentage = ?, rollout_paused = ?, yanked = ?, yank_reason = ? \
             WHERE application_id = ? AND version = ? AND platform = ? AND architecture = ?",
        )
        .bind(i16::from(release.rollout.percentage))
        .bind(release.rollout.paused)
        .bind(release.yanked)
        .bind(&release.yank_reason)
        .bind(&key.application_id)
        .bind(key.version.to_string())
        .bind(&key.platform)
        .bind(&key.architecture)
        .execute(&mut *tx)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        records::write_journal(&mut tx, journal).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_release(&self, key: &ReleaseKey, journal: &Journal) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let result = query(
            "DELETE FROM releases WHERE application_id = ? AND version = ? AND platform = ? AND architecture = ?",
        )
        .bind(&key.application_id)
        .bind(key.version.to_string())
        .bind(&key.platform)
        .bind(&key.architecture)
        .execute(&mut *tx)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        records::write_journal(&mut tx, journal).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn load_keys(&self) -> Result<Vec<ManagedKey>, StoreError> {
        records::load_keys(&self.pool).await
    }

    async fn insert_key(&self, key: &ManagedKey, journal: &Journal) -> Result<(), StoreError> {
        records::insert_key(&self.pool, key, journal).await
    }

    async fn update_key(&self, key: &ManagedKey, journal: &Journal) -> Result<(), StoreError> {
        records::update_key(&self.pool, key, journal).await
    }

    async fn touch_keys(&self, used: &[(String, DateTime<Utc>)]) -> Result<(), StoreError> {
        records::touch_keys(&self.pool, used).await
    }

    async fn record_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        records::insert_audit(&mut conn, record).await
    }

    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        records::audit(&self.pool, query).await
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        records::prune(&self.pool, before).await
    }

    async fn insert_job(&self, job: &Job) -> Result<(), StoreError> {
        records::insert_job(&self.pool, job).await
    }

    async fn update_job(&self, job: &Job) -> Result<(), StoreError> {
        records::update_job(&self.pool, job).await
    }

    async fn job(&self, id: &str) -> Result<Option<Job>, StoreError> {
        records::job(&self.pool, id).await
    }

    async fn prune_jobs(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        records::prune_jobs(&self.pool, before).await
    }

    async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        records::webhooks(&self.pool).await
    }

    async fn insert_webhook(&self, hook: &Webhook, journal: &Journal) -> Result<(), StoreError> {
        records::insert_webhook(&self.pool, hook, journal).await
    }

    async fn delete_webhook(&self, id: &str, journal: &Journal) -> Result<(), StoreError> {
        records::delete_webhook(&self.pool, id, journal).await
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        records::claim_deliveries(&self.pool, now, lease, limit).await
    }

    async fn finish_delivery(
        &self,
        attempt: &DeliveryAttempt,
        next: NextStep,
    ) -> Result<(), StoreError> {
        records::finish_delivery(&self.pool, attempt, next).await
    }

    async fn deliveries(
        &self,
        webhook_id: &str,
        limit: u32,
    ) -> Result<Vec<DeliveryAttempt>, StoreError> {
        records::deliveries(&self.pool, webhook_id, limit).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        query("SELECT 1").execute(&self.pool).await?;
        self.file.check().await
    }

    fn write_wait(&self) -> std::time::Duration {
        self.pool.options().get_acquire_timeout()
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// One release row, with the single-file columns older binaries read.
async fn insert_release(tx: &mut SqliteConnection, release: &Release) -> Result<(), StoreError> {
    let row = DbRelease::try_from(release)?;
    let primary = release.primary_file();
    let (checksum, checksum_type) = release.primary_checksum();
    let file_size = i64::try_from(primary.size).map_err(|_| {
        StoreError::Corrupt(format!("file size {} does not fit in SQLite", primary.size))
    })?;
    query(
            "INSERT INTO releases (application_id, version, platform, architecture, channel, \
             download_url, checksum, checksum_type, file_size, release_notes, release_date, required, \
             minimum_version, metadata, signature, created_at, rollout_percentage, rollout_paused, \
             yanked, yank_reason, files, minimum_system_version) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(row.application_id)
        .bind(row.version)
        .bind(row.platform)
        .bind(row.architecture)
        .bind(row.channel)
        .bind(&primary.url)
        .bind(checksum)
        .bind(checksum_type.as_str())
        .bind(file_size)
        .bind(row.release_notes)
        .bind(row.release_date)
        .bind(row.required)
        .bind(row.minimum_version)
        .bind(row.metadata)
        .bind(&primary.signature)
        .bind(row.created_at)
        .bind(row.rollout_percentage)
        .bind(row.rollout_paused)
        .bind(row.yanked)
        .bind(row.yank_reason)
        .bind(row.files)
        .bind(row.minimum_system_version)
        .execute(tx)
        .await?;
    Ok(())
}
