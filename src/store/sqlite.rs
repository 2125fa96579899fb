//! The embedded default: one SQLite file in WAL mode with `synchronous=FULL`,
//! so a write is on disk before the API acknowledges it.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, query};

use super::{Snapshot, Store, StoreError, decode_files, decode_json, decode_version};
use crate::domain::{Application, Release, ReleaseKey, Rollout};

pub struct SqliteStore {
    pool: SqlitePool,
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
            .map_err(|e| StoreError::Unavailable(format!("opening {}: {e}", path.display())))?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migrating {}: {e}", path.display())))?;
        Ok(Self { pool })
    }
}

fn timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_timestamp(raw: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_str(raw).map_err(|e| StoreError::Corrupt(format!("timestamp `{raw}`: {e}")))
}

fn unavailable(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound,
        _ => StoreError::Unavailable(e.to_string()),
    }
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn application_from_row(row: &SqliteRow) -> Result<Application, StoreError> {
    Ok(Application {
        id: row.try_get("id").map_err(corrupt)?,
        name: row.try_get("name").map_err(corrupt)?,
        description: row.try_get("description").map_err(corrupt)?,
        platforms: decode_json(row.try_get("platforms").map_err(corrupt)?)?,
        config: decode_json(row.try_get("config").map_err(corrupt)?)?,
        created_at: parse_timestamp(row.try_get("created_at").map_err(corrupt)?)?,
        updated_at: parse_timestamp(row.try_get("updated_at").map_err(corrupt)?)?,
    })
}

fn release_from_row(row: &SqliteRow) -> Result<Release, StoreError> {
    let version: String = row.try_get("version").map_err(corrupt)?;
    let minimum: Option<String> = row.try_get("minimum_version").map_err(corrupt)?;
    let percentage: i64 = row.try_get("rollout_percentage").map_err(corrupt)?;
    Ok(Release {
        key: ReleaseKey {
            application_id: row.try_get("application_id").map_err(corrupt)?,
            version: decode_version(&version)?,
            platform: row.try_get("platform").map_err(corrupt)?,
            architecture: row.try_get("architecture").map_err(corrupt)?,
        },
        channel: row.try_get("channel").map_err(corrupt)?,
        files: decode_files(row.try_get("files").map_err(corrupt)?, &version)?,
        release_notes: row.try_get("release_notes").map_err(corrupt)?,
        release_date: parse_timestamp(row.try_get("release_date").map_err(corrupt)?)?,
        required: row.try_get("required").map_err(corrupt)?,
        minimum_version: minimum.as_deref().map(decode_version).transpose()?,
        minimum_system_version: row.try_get("minimum_system_version").map_err(corrupt)?,
        metadata: decode_json(row.try_get("metadata").map_err(corrupt)?)?,
        created_at: parse_timestamp(row.try_get("created_at").map_err(corrupt)?)?,
        rollout: Rollout {
            percentage: u8::try_from(percentage).map_err(corrupt)?,
            paused: row.try_get("rollout_paused").map_err(corrupt)?,
        },
        yanked: row.try_get("yanked").map_err(corrupt)?,
        yank_reason: row.try_get("yank_reason").map_err(corrupt)?,
    })
}

#[async_trait]
impl Store for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn load(&self) -> Result<Snapshot, StoreError> {
        let applications = query("SELECT * FROM applications ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .iter()
            .map(application_from_row)
            .collect::<Result<_, _>>()?;
        let releases = query("SELECT * FROM releases ORDER BY application_id, created_at")
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?
            .iter()
            .map(release_from_row)
            .collect::<Result<_, _>>()?;
        Ok(Snapshot {
            applications,
            releases,
        })
    }

    async fn insert_application(&self, app: &Application) -> Result<(), StoreError> {
        query(
            "INSERT INTO applications (id, name, description, platforms, config, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&app.id)
        .bind(&app.name)
        .bind(&app.description)
        .bind(serde_json::to_string(&app.platforms).map_err(corrupt)?)
        .bind(serde_json::to_string(&app.config).map_err(corrupt)?)
        .bind(timestamp(&app.created_at))
        .bind(timestamp(&app.updated_at))
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn update_application(&self, app: &Application) -> Result<(), StoreError> {
        let result = query(
            "UPDATE applications SET name = ?, description = ?, platforms = ?, config = ?, updated_at = ? \
             WHERE id = ?",
        )
        .bind(&app.name)
        .bind(&app.description)
        .bind(serde_json::to_string(&app.platforms).map_err(corrupt)?)
        .bind(serde_json::to_string(&app.config).map_err(corrupt)?)
        .bind(timestamp(&app.updated_at))
        .bind(&app.id)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_application(&self, id: &str) -> Result<(), StoreError> {
        let result = query("DELETE FROM applications WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn insert_release(&self, release: &Release) -> Result<(), StoreError> {
        let primary = release.primary_file();
        let (checksum, checksum_type) = release.primary_checksum();
        let file_size = i64::try_from(primary.size).map_err(corrupt)?;
        query(
            "INSERT INTO releases (application_id, version, platform, architecture, channel, \
             download_url, checksum, checksum_type, file_size, release_notes, release_date, required, \
             minimum_version, metadata, signature, created_at, rollout_percentage, rollout_paused, \
             yanked, yank_reason, files, minimum_system_version) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&release.key.application_id)
        .bind(release.key.version.to_string())
        .bind(&release.key.platform)
        .bind(&release.key.architecture)
        .bind(&release.channel)
        .bind(&primary.url)
        .bind(checksum)
        .bind(checksum_type.as_str())
        .bind(file_size)
        .bind(&release.release_notes)
        .bind(timestamp(&release.release_date))
        .bind(release.required)
        .bind(release.minimum_version.as_ref().map(ToString::to_string))
        .bind(serde_json::to_string(&release.metadata).map_err(corrupt)?)
        .bind(&primary.signature)
        .bind(timestamp(&release.created_at))
        .bind(i64::from(release.rollout.percentage))
        .bind(release.rollout.paused)
        .bind(release.yanked)
        .bind(&release.yank_reason)
        .bind(serde_json::to_string(&release.files).map_err(corrupt)?)
        .bind(&release.minimum_system_version)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn update_release(&self, release: &Release) -> Result<(), StoreError> {
        let key = &release.key;
        let result = query(
            "UPDATE releases SET rollout_percentage = ?, rollout_paused = ?, yanked = ?, yank_reason = ? \
             WHERE application_id = ? AND version = ? AND platform = ? AND architecture = ?",
        )
        .bind(i64::from(release.rollout.percentage))
        .bind(release.rollout.paused)
        .bind(release.yanked)
        .bind(&release.yank_reason)
        .bind(&key.application_id)
        .bind(key.version.to_string())
        .bind(&key.platform)
        .bind(&key.architecture)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_release(&self, key: &ReleaseKey) -> Result<(), StoreError> {
        let result = query(
            "DELETE FROM releases WHERE application_id = ? AND version = ? AND platform = ? AND architecture = ?",
        )
        .bind(&key.application_id)
        .bind(key.version.to_string())
        .bind(&key.platform)
        .bind(&key.architecture)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
