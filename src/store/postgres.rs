//! PostgreSQL, for several replicas sharing one database. Connections use
//! rustls when the URL's `sslmode` asks for TLS; migrations are embedded and
//! run under PostgreSQL's advisory lock, so replicas may start together.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{Row, query};

use super::{Snapshot, Store, StoreError, StoreEvent, decode_files, decode_json, decode_version};
use crate::config::PostgresSettings;
use crate::domain::{Application, Change, Release, ReleaseKey, Rollout};

/// The channel every write notifies, in the write's own transaction, so a
/// notification is delivered only for a committed change.
const CHANNEL: &str = "updater_changes";
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

pub struct PostgresStore {
    pool: PgPool,
    /// Subscribed before the catalog is first loaded, so no change falls
    /// between the snapshot and the subscription.
    listener: tokio::sync::Mutex<Option<PgListener>>,
}

impl PostgresStore {
    /// Connects and applies migrations. Errors never carry the password.
    pub async fn open(settings: &PostgresSettings) -> Result<Self, StoreError> {
        let options: PgConnectOptions = settings.url.expose().parse().map_err(|_| {
            StoreError::Unavailable("storage.postgres.url is not a valid PostgreSQL URL".into())
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("connecting to PostgreSQL: {e}")))?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migrating PostgreSQL: {e}")))?;
        let listener = subscribe(&pool).await.map_err(unavailable)?;
        Ok(Self {
            pool,
            listener: tokio::sync::Mutex::new(Some(listener)),
        })
    }

    /// Runs one write and its notification in a transaction.
    async fn write(
        &self,
        statement: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
        notice: String,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        let affected = statement
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?
            .rows_affected();
        if affected > 0 {
            query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(notice)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(affected)
    }

    /// Reads back what a notification names.
    async fn fetch(&self, notice: &str) -> Result<Change, StoreError> {
        match Notice::parse(notice)? {
            Notice::Application(id) => {
                let row = query("SELECT * FROM applications WHERE id = $1")
                    .bind(&id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(unavailable)?;
                Ok(match row {
                    Some(row) => Change::ApplicationUpserted(application_from_row(&row)?),
                    None => Change::ApplicationDeleted(id),
                })
            }
            Notice::Release(key) => {
                let row = query(
                    "SELECT * FROM releases WHERE application_id = $1 AND version = $2 AND platform = $3 AND architecture = $4",
                )
                .bind(&key.application_id)
                .bind(key.version.to_string())
                .bind(&key.platform)
                .bind(&key.architecture)
                .fetch_optional(&self.pool)
                .await
                .map_err(unavailable)?;
                Ok(match row {
                    Some(row) => Change::ReleaseUpserted(release_from_row(&row)?),
                    None => Change::ReleaseDeleted(key),
                })
            }
        }
    }
}

async fn subscribe(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// A notification's payload: which record changed, never its content.
enum Notice {
    Application(String),
    Release(ReleaseKey),
}

impl Notice {
    fn application(id: &str) -> String {
        format!("a\t{id}")
    }

    fn release(key: &ReleaseKey) -> String {
        format!(
            "r\t{}\t{}\t{}\t{}",
            key.application_id, key.version, key.platform, key.architecture
        )
    }

    fn parse(payload: &str) -> Result<Self, StoreError> {
        let parts: Vec<&str> = payload.split('\t').collect();
        match parts.as_slice() {
            ["a", id] => Ok(Self::Application((*id).to_string())),
            ["r", app, version, platform, architecture] => Ok(Self::Release(ReleaseKey {
                application_id: (*app).to_string(),
                version: decode_version(version)?,
                platform: (*platform).to_string(),
                architecture: (*architecture).to_string(),
            })),
            _ => Err(StoreError::Corrupt(format!(
                "change notice `{}`",
                payload.escape_debug()
            ))),
        }
    }
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

fn application_from_row(row: &PgRow) -> Result<Application, StoreError> {
    Ok(Application {
        id: row.try_get("id").map_err(corrupt)?,
        name: row.try_get("name").map_err(corrupt)?,
        description: row.try_get("description").map_err(corrupt)?,
        platforms: decode_json(row.try_get("platforms").map_err(corrupt)?)?,
        config: decode_json(row.try_get("config").map_err(corrupt)?)?,
        created_at: row
            .try_get::<DateTime<Utc>, _>("created_at")
            .map_err(corrupt)?,
        updated_at: row
            .try_get::<DateTime<Utc>, _>("updated_at")
            .map_err(corrupt)?,
    })
}

fn release_from_row(row: &PgRow) -> Result<Release, StoreError> {
    let version: String = row.try_get("version").map_err(corrupt)?;
    let minimum: Option<String> = row.try_get("minimum_version").map_err(corrupt)?;
    let percentage: i16 = row.try_get("rollout_percentage").map_err(corrupt)?;
    Ok(Release {
        files: decode_files(row.try_get("files").map_err(corrupt)?, &version)?,
        key: ReleaseKey {
            application_id: row.try_get("application_id").map_err(corrupt)?,
            version: decode_version(&version)?,
            platform: row.try_get("platform").map_err(corrupt)?,
            architecture: row.try_get("architecture").map_err(corrupt)?,
        },
        channel: row.try_get("channel").map_err(corrupt)?,
        release_notes: row.try_get("release_notes").map_err(corrupt)?,
        release_date: row.try_get("release_date").map_err(corrupt)?,
        required: row.try_get("required").map_err(corrupt)?,
        minimum_version: minimum.as_deref().map(decode_version).transpose()?,
        minimum_system_version: row.try_get("minimum_system_version").map_err(corrupt)?,
        metadata: decode_json(row.try_get("metadata").map_err(corrupt)?)?,
        created_at: row.try_get("created_at").map_err(corrupt)?,
        rollout: Rollout {
            percentage: u8::try_from(percentage).map_err(corrupt)?,
            paused: row.try_get("rollout_paused").map_err(corrupt)?,
        },
        yanked: row.try_get("yanked").map_err(corrupt)?,
        yank_reason: row.try_get("yank_reason").map_err(corrupt)?,
    })
}

#[async_trait]
impl Store for PostgresStore {
    fn kind(&self) -> &'static str {
        "postgres"
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
        let statement = query(
            "INSERT INTO applications (id, name, description, platforms, config, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&app.id)
        .bind(&app.name)
        .bind(&app.description)
        .bind(serde_json::to_string(&app.platforms).map_err(corrupt)?)
        .bind(serde_json::to_string(&app.config).map_err(corrupt)?)
        .bind(app.created_at)
        .bind(app.updated_at);
        self.write(statement, Notice::application(&app.id)).await?;
        Ok(())
    }

    async fn update_application(&self, app: &Application) -> Result<(), StoreError> {
        let statement = query(
            "UPDATE applications SET name = $1, description = $2, platforms = $3, config = $4, updated_at = $5 \
             WHERE id = $6",
        )
        .bind(&app.name)
        .bind(&app.description)
        .bind(serde_json::to_string(&app.platforms).map_err(corrupt)?)
        .bind(serde_json::to_string(&app.config).map_err(corrupt)?)
        .bind(app.updated_at)
        .bind(&app.id);
        if self.write(statement, Notice::application(&app.id)).await? == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_application(&self, id: &str) -> Result<(), StoreError> {
        let statement = query("DELETE FROM applications WHERE id = $1").bind(id);
        if self.write(statement, Notice::application(id)).await? == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn insert_release(&self, release: &Release) -> Result<(), StoreError> {
        let statement = query(
            "INSERT INTO releases (application_id, version, platform, architecture, channel, files, \
             release_notes, release_date, required, minimum_version, minimum_system_version, metadata, \
             created_at, rollout_percentage, rollout_paused, yanked, yank_reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(&release.key.application_id)
        .bind(release.key.version.to_string())
        .bind(&release.key.platform)
        .bind(&release.key.architecture)
        .bind(&release.channel)
        .bind(serde_json::to_string(&release.files).map_err(corrupt)?)
        .bind(&release.release_notes)
        .bind(release.release_date)
        .bind(release.required)
        .bind(release.minimum_version.as_ref().map(ToString::to_string))
        .bind(&release.minimum_system_version)
        .bind(serde_json::to_string(&release.metadata).map_err(corrupt)?)
        .bind(release.created_at)
        .bind(i16::from(release.rollout.percentage))
        .bind(release.rollout.paused)
        .bind(release.yanked)
        .bind(&release.yank_reason);
        self.write(statement, Notice::release(&release.key)).await?;
        Ok(())
    }

    async fn update_release(&self, release: &Release) -> Result<(), StoreError> {
        let key = &release.key;
        let statement = query(
            "UPDATE releases SET rollout_percentage = $1, rollout_paused = $2, yanked = $3, yank_reason = $4 \
             WHERE application_id = $5 AND version = $6 AND platform = $7 AND architecture = $8",
        )
        .bind(i16::from(release.rollout.percentage))
        .bind(release.rollout.paused)
        .bind(release.yanked)
        .bind(&release.yank_reason)
        .bind(&key.application_id)
        .bind(key.version.to_string())
        .bind(&key.platform)
        .bind(&key.architecture);
        if self.write(statement, Notice::release(key)).await? == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_release(&self, key: &ReleaseKey) -> Result<(), StoreError> {
        let statement = query(
            "DELETE FROM releases WHERE application_id = $1 AND version = $2 AND platform = $3 AND architecture = $4",
        )
        .bind(&key.application_id)
        .bind(key.version.to_string())
        .bind(&key.platform)
        .bind(&key.architecture);
        if self.write(statement, Notice::release(key)).await? == 0 {
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
        // The subscription holds a pooled connection, which closing the pool
        // would wait for.
        self.listener.lock().await.take();
        self.pool.close().await;
    }

    /// Notifications, read back from the database. When the connection is
    /// lost, a new subscription is made (retrying every second while the
    /// database is down) before `Resync` is returned, so the reload that
    /// follows misses nothing.
    async fn next_event(&self) -> Option<StoreEvent> {
        let mut guard = self.listener.lock().await;
        match guard.as_mut()?.try_recv().await {
            Ok(Some(notification)) => {
                return Some(match self.fetch(notification.payload()).await {
                    Ok(change) => StoreEvent::Changed(Box::new(change)),
                    Err(e) => {
                        tracing::warn!(error = %e, "reading a change back failed; reloading everything");
                        StoreEvent::Resync
                    }
                });
            }
            Ok(None) => tracing::warn!("change notifications interrupted: connection lost"),
            Err(e) => tracing::warn!(error = %e, "change notifications interrupted"),
        }
        while !self.pool.is_closed() {
            match subscribe(&self.pool).await {
                Ok(listener) => {
                    *guard = Some(listener);
                    return Some(StoreEvent::Resync);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "resubscribing to change notifications failed; retrying");
                    tokio::time::sleep(RECONNECT_DELAY).await;
                }
            }
        }
        None
    }
}
