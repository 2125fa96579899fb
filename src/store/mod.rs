//! Durable storage behind one trait. Reads are served from the in-memory
//! [`crate::domain::Catalog`]; the store is written through and read in full
//! only at start.

mod idempotency;
mod json;
mod memory;
mod postgres;
mod records;
mod rows;
mod sqlite;
mod usage;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::audit::{AuditEntry, AuditQuery, AuditRecord};
use crate::domain::job::Job;
use crate::domain::keys::ManagedKey;
use crate::domain::webhook::{Delivery, DeliveryAttempt, Event, NextStep, Webhook};
use crate::domain::{Application, Change, Release, ReleaseKey};

pub use idempotency::{
    ClaimOutcome, IDEMPOTENCY_RETENTION, IdempotencyClaim, IdempotencyStore, StoredResponse,
};
pub use memory::MemoryStore;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use usage::UsageStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("already exists")]
    Conflict,
    #[error("not found")]
    NotFound,
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::Error;
        match &e {
            Error::Database(db) if db.is_unique_violation() => Self::Conflict,
            // A release whose application does not exist.
            Error::Database(db) if db.is_foreign_key_violation() => Self::NotFound,
            Error::RowNotFound => Self::NotFound,
            Error::ColumnDecode { .. }
            | Error::ColumnNotFound(_)
            | Error::ColumnIndexOutOfBounds { .. }
            | Error::Decode(_)
            | Error::TypeNotFound { .. } => Self::Corrupt(e.to_string()),
            // Pool timeouts, I/O, TLS, protocol errors, a closed pool, SQLite
            // still busy or locked after its busy timeout, and any other
            // database error: the database cannot serve this now.
            _ => Self::Unavailable(describe(&e)),
        }
    }
}

/// An sqlx error's message, except a configuration error's: the driver may
/// quote part of the password in it (PostgreSQL's SASLprep).
fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Configuration(_) => "invalid connection settings".into(),
        other => other.to_string(),
    }
}

/// JSON columns: encoding cannot fail, so an error is a bad stored value.
impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        Self::Corrupt(e.to_string())
    }
}

/// Everything the store holds, read once at start to build the catalog.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    pub applications: Vec<Application>,
    pub releases: Vec<Release>,
}

/// What a write records beside its change, in the same transaction: the
/// audit entry, and an outbox message per webhook that wants the events.
#[derive(Debug, Clone)]
pub struct Journal {
    pub audit: AuditRecord,
    pub events: Vec<Event>,
}

impl Journal {
    pub fn new(audit: AuditRecord) -> Self {
        Self {
            audit,
            events: Vec::new(),
        }
    }

    pub fn event(mut self, event: Event) -> Self {
        self.events.push(event);
        self
    }
}

/// What another writer (another replica) did to the shared store.
#[derive(Debug)]
pub enum StoreEvent {
    /// One change, read back from the store.
    Changed(Box<Change>),
    /// A managed key was created, rotated or revoked: reload the key table.
    KeysChanged,
    /// Changes may have been missed (the connection was lost): reload everything.
    Resync,
}

/// Every write of the catalog, keys and webhooks takes the [`Journal`] it
/// records atomically with it: the change and its audit entry and outbox
/// messages commit together or not at all.
#[async_trait]
pub trait Store: UsageStore + IdempotencyStore + Send + Sync + 'static {
    /// A short name for logs and health output (`sqlite`, `memory`).
    fn kind(&self) -> &'static str;
    async fn load(&self) -> Result<Snapshot, StoreError>;
    /// `Conflict` when the id is taken.
    async fn insert_application(
        &self,
        app: &Application,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// `NotFound` when the application does not exist.
    async fn update_application(
        &self,
        app: &Application,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// Deletes the application and its releases; `NotFound` when absent.
    async fn delete_application(&self, id: &str, journal: &Journal) -> Result<(), StoreError>;
    /// Stores every release or none: `Conflict` when any (application,
    /// version, platform, architecture) exists; `NotFound` when an
    /// application does not exist.
    async fn insert_releases(
        &self,
        releases: &[Release],
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// Stores a release's rollout and yank state; `NotFound` when absent.
    async fn update_release(&self, release: &Release, journal: &Journal) -> Result<(), StoreError>;
    /// `NotFound` when absent.
    async fn delete_release(&self, key: &ReleaseKey, journal: &Journal) -> Result<(), StoreError>;

    async fn load_keys(&self) -> Result<Vec<ManagedKey>, StoreError>;
    /// `Conflict` when the id is taken.
    async fn insert_key(&self, key: &ManagedKey, journal: &Journal) -> Result<(), StoreError>;
    /// Stores a key's digest and revocation (rotate, revoke); `NotFound` when absent.
    async fn update_key(&self, key: &ManagedKey, journal: &Journal) -> Result<(), StoreError>;
    /// Records when keys were last used; never moves a time backwards.
    async fn touch_keys(&self, used: &[(String, DateTime<Utc>)]) -> Result<(), StoreError>;

    /// An entry with no change beside it (a failed authentication).
    async fn record_audit(&self, record: &AuditRecord) -> Result<(), StoreError>;
    /// Newest first, at most `query.limit`.
    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError>;
    /// Removes audit entries, finished outbox messages and delivery attempts
    /// older than `before`; returns the audit entries removed.
    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// `Conflict` when the id is taken.
    async fn insert_job(&self, job: &Job) -> Result<(), StoreError>;
    /// Stores a job's outcome; `NotFound` when absent.
    async fn update_job(&self, job: &Job) -> Result<(), StoreError>;
    async fn job(&self, id: &str) -> Result<Option<Job>, StoreError>;
    /// Removes jobs that finished before `before`; returns how many.
    async fn prune_jobs(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError>;
    /// `Conflict` when the id is taken.
    async fn insert_webhook(&self, hook: &Webhook, journal: &Journal) -> Result<(), StoreError>;
    /// Deletes the webhook, its pending messages and its delivery log; `NotFound` when absent.
    async fn delete_webhook(&self, id: &str, journal: &Journal) -> Result<(), StoreError>;
    /// Claims up to `limit` messages due at `now` that no one holds, for
    /// `lease`; a claim not finished by then (its replica died) is taken again.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError>;
    /// Logs an attempt and moves its message on.
    async fn finish_delivery(
        &self,
        attempt: &DeliveryAttempt,
        next: NextStep,
    ) -> Result<(), StoreError>;
    /// A webhook's attempts, newest first.
    async fn deliveries(
        &self,
        webhook_id: &str,
        limit: u32,
    ) -> Result<Vec<DeliveryAttempt>, StoreError>;

    async fn ping(&self) -> Result<(), StoreError>;
    /// How long a write may wait for a connection before the store gives up.
    fn write_wait(&self) -> std::time::Duration {
        std::time::Duration::from_secs(5)
    }
    async fn close(&self);
    /// Waits for the next change another writer made. `None` means this
    /// process is the only writer (SQLite, memory), so there is nothing to wait for.
    async fn next_event(&self) -> Option<StoreEvent> {
        None
    }
}

/// Each (webhook, event) pair an outbox message is written for.
fn outbox_messages<'a>(hooks: &'a [Webhook], events: &'a [Event]) -> Vec<(&'a str, &'a Event)> {
    events
        .iter()
        .flat_map(|event| {
            hooks
                .iter()
                .filter(|h| h.wants(event.event_type, event.application_id.as_deref()))
                .map(move |h| (h.id.as_str(), event))
        })
        .collect()
}

/// A version column or field.
fn decode_version(text: &str) -> Result<semver::Version, StoreError> {
    crate::domain::parse_version(text).map_err(StoreError::Corrupt)
}
