//! PostgreSQL, for several replicas sharing one database. Connections use
//! rustls when the URL's `sslmode` asks for TLS; migrations are embedded and
//! run under PostgreSQL's advisory lock, so replicas may start together.
//!
//! Longer than 500 lines because the `Store` implementation, its change
//! notices and their read-back are one unit; the rest is in `records.rs`.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use sqlx::{query, query_as};

mod idempotency;
mod records;
mod usage;

use chrono::{DateTime, Utc};

use super::decode_version;
use super::records::{DbKey, DbWebhook};
use super::rows::{DbApplication, DbRelease, Timestamp};
use super::{Journal, Snapshot, Store, StoreError, StoreEvent, describe};
use crate::config::PostgresSettings;
use crate::domain::audit::{AuditEntry, AuditQuery, AuditRecord};
use crate::domain::job::Job;
use crate::domain::keys::ManagedKey;
use crate::domain::webhook::{Delivery, DeliveryAttempt, NextStep, Webhook};
use crate::domain::{Application, Change, Release, ReleaseKey};

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
            .map_err(|e| {
                StoreError::Unavailable(format!("connecting to PostgreSQL: {}", describe(&e)))
            })?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migrating PostgreSQL: {e}")))?;
        let listener = subscribe(&pool).await?;
        Ok(Self {
            pool,
            listener: tokio::sync::Mutex::new(Some(listener)),
        })
    }

    /// Runs one write, its journal and its notification (if other replicas
    /// cache what it changes) in a transaction.
    async fn write(
        &self,
        statement: Statement<'_>,
        notice: Option<String>,
        journal: &Journal,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let affected = statement.execute(&mut *tx).await?.rows_affected();
        if affected > 0 {
            records::write_journal(&mut tx, journal).await?;
            if let Some(notice) = notice {
                notify(&mut tx, notice).await?;
            }
        }
        tx.commit().await?;
        Ok(affected)
    }

    /// Reads back what a notification names.
    async fn fetch(&self, notice: &str) -> Result<StoreEvent, StoreError> {
        let change = match Notice::parse(notice)? {
            Notice::Keys => return Ok(StoreEvent::KeysChanged),
            Notice::Application(id) => {
                let row = query_as::<_, DbApplication>("SELECT * FROM applications WHERE id = $1")
                    .bind(&id)
                    .fetch_optional(&self.pool)
                    .await?;
                match row {
                    Some(row) => Change::ApplicationUpserted(row.try_into()?),
                    None => Change::ApplicationDeleted(id),
                }
            }
            Notice::Release(key) => {
                let row = query_as::<_, DbRelease>(
                    "SELECT * FROM releases WHERE application_id = $1 AND version = $2 AND platform = $3 AND architecture = $4",
                )
                .bind(&key.application_id)
                .bind(key.version.to_string())
                .bind(&key.platform)
                .bind(&key.architecture)
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    Some(row) => Change::ReleaseUpserted(row.try_into()?),
                    None => Change::ReleaseDeleted(key),
                }
            }
        };
        Ok(StoreEvent::Changed(Box::new(change)))
    }
}

type Statement<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// Tells the other replicas, once the transaction commits, what changed.
async fn notify(tx: &mut sqlx::PgConnection, notice: String) -> Result<(), StoreError> {
    query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(notice)
        .execute(tx)
        .await?;
    Ok(())
}

fn insert_release(release: &Release) -> Result<Statement<'static>, StoreError> {
    let row = DbRelease::try_from(release)?;
    Ok(query(
            "INSERT INTO releases (application_id, version, platform, architecture, channel, files, \
             release_notes, release_date, required, minimum_version, minimum_system_version, metadata, \
             created_at, rollout_percentage, rollout_paused, yanked, yank_reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(row.application_id)
        .bind(row.version)
        .bind(row.platform)
        .bind(row.architecture)
        .bind(row.channel)
        .bind(row.files)
        .bind(row.release_notes)
        .bind(row.release_date)
        .bind(row.required)
        .bind(row.minimum_version)
        .bind(row.minimum_system_version)
        .bind(row.metadata)
        .bind(row.created_at)
        .bind(row.rollout_percentage)
        .bind(row.rollout_paused)
        .bind(row.yanked)
        .bind(row.yank_reason))
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
    Keys,
}

impl Notice {
    const KEYS: &str = "k";

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
            [Self::KEYS] => Ok(Self::Keys),
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

#[async_trait]
impl Store for PostgresStore {
    fn kind(&self) -> &'static str {
        "postgres"
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
        let row = DbApplication::try_from(app)?;
        let statement = query(
            "INSERT INTO applications (id, name, description, platforms, config, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(row.id)
        .bind(row.name)
        .bind(row.description)
        .bind(row.platforms)
        .bind(row.config)
        .bind(row.created_at)
        .bind(row.updated_at);
        self.write(statement, Some(Notice::application(&app.id)), journal)
            .await?;
        Ok(())
    }

    async fn update_application(
        &self,
        app: &Application,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let row = DbApplication::try_from(app)?;
        let statement = query(
            "UPDATE applications SET name = $1, description = $2, platforms = $3, config = $4, updated_at = $5 \
             WHERE id = $6",
        )
        .bind(row.name)
        .bind(row.description)
        .bind(row.platforms)
        .bind(row.config)
        .bind(row.updated_at)
        .bind(row.id);
        if self
            .write(statement, Some(Notice::application(&app.id)), journal)
            .await?
            == 0
        {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_application(&self, id: &str, journal: &Journal) -> Result<(), StoreError> {
        let statement = query("DELETE FROM applications WHERE id = $1").bind(id);
        if self
            .write(statement, Some(Notice::application(id)), journal)
            .await?
            == 0
        {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn insert_releases(
        &self,
        releases: &[Release],
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for release in releases {
            insert_release(release)?.execute(&mut *tx).await?;
            notify(&mut tx, Notice::release(&release.key)).await?;
        }
        records::write_journal(&mut tx, journal).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_release(&self, release: &Release, journal: &Journal) -> Result<(), StoreError> {
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
        if self
            .write(statement, Some(Notice::release(key)), journal)
            .await?
            == 0
        {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_release(&self, key: &ReleaseKey, journal: &Journal) -> Result<(), StoreError> {
        let statement = query(
            "DELETE FROM releases WHERE application_id = $1 AND version = $2 AND platform = $3 AND architecture = $4",
        )
        .bind(&key.application_id)
        .bind(key.version.to_string())
        .bind(&key.platform)
        .bind(&key.architecture);
        if self
            .write(statement, Some(Notice::release(key)), journal)
            .await?
            == 0
        {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn load_keys(&self) -> Result<Vec<ManagedKey>, StoreError> {
        records::load_keys(&self.pool).await
    }

    async fn insert_key(&self, key: &ManagedKey, journal: &Journal) -> Result<(), StoreError> {
        let row = DbKey::try_from(key)?;
        let statement = query(
            "INSERT INTO api_keys (id, name, permissions, applications, digest, created_at, created_by, \
             expires_at, last_used_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(row.id)
        .bind(row.name)
        .bind(row.permissions)
        .bind(row.applications)
        .bind(row.digest)
        .bind(row.created_at)
        .bind(row.created_by)
        .bind(row.expires_at)
        .bind(row.last_used_at)
        .bind(row.revoked_at);
        self.write(statement, Some(Notice::KEYS.into()), journal)
            .await?;
        Ok(())
    }

    async fn update_key(&self, key: &ManagedKey, journal: &Journal) -> Result<(), StoreError> {
        let statement = query("UPDATE api_keys SET digest = $1, revoked_at = $2 WHERE id = $3")
            .bind(&key.digest)
            .bind(key.revoked_at.map(Timestamp))
            .bind(&key.id);
        if self
            .write(statement, Some(Notice::KEYS.into()), journal)
            .await?
            == 0
        {
            return Err(StoreError::NotFound);
        }
        Ok(())
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
        let row = DbWebhook::try_from(hook)?;
        let statement = query(
            "INSERT INTO webhooks (id, application_id, url, events, secret, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(row.id)
        .bind(row.application_id)
        .bind(row.url)
        .bind(row.events)
        .bind(row.secret)
        .bind(row.created_at)
        .bind(row.created_by);
        self.write(statement, None, journal).await?;
        Ok(())
    }

    async fn delete_webhook(&self, id: &str, journal: &Journal) -> Result<(), StoreError> {
        let statement = query("DELETE FROM webhooks WHERE id = $1").bind(id);
        if self.write(statement, None, journal).await? == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
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
        Ok(())
    }

    fn write_wait(&self) -> std::time::Duration {
        self.pool.options().get_acquire_timeout()
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
                    Ok(event) => event,
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
