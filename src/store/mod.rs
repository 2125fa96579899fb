//! Durable storage behind one trait. Reads are served from the in-memory
//! [`crate::domain::Catalog`]; the store is written through and read in full
//! only at start.

mod json;
mod memory;
mod postgres;
mod rows;
mod sqlite;

use async_trait::async_trait;

use crate::domain::{Application, Change, Release, ReleaseKey};

pub use memory::MemoryStore;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

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

/// What another writer (another replica) did to the shared store.
#[derive(Debug)]
pub enum StoreEvent {
    /// One change, read back from the store.
    Changed(Box<Change>),
    /// Changes may have been missed (the connection was lost): reload everything.
    Resync,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A short name for logs and health output (`sqlite`, `memory`).
    fn kind(&self) -> &'static str;
    async fn load(&self) -> Result<Snapshot, StoreError>;
    /// `Conflict` when the id is taken.
    async fn insert_application(&self, app: &Application) -> Result<(), StoreError>;
    /// `NotFound` when the application does not exist.
    async fn update_application(&self, app: &Application) -> Result<(), StoreError>;
    /// Deletes the application and its releases; `NotFound` when absent.
    async fn delete_application(&self, id: &str) -> Result<(), StoreError>;
    /// `Conflict` on an existing (application, version, platform, architecture);
    /// `NotFound` when the application does not exist.
    async fn insert_release(&self, release: &Release) -> Result<(), StoreError>;
    /// Stores a release's rollout and yank state; `NotFound` when absent.
    async fn update_release(&self, release: &Release) -> Result<(), StoreError>;
    /// `NotFound` when absent.
    async fn delete_release(&self, key: &ReleaseKey) -> Result<(), StoreError>;
    async fn ping(&self) -> Result<(), StoreError>;
    async fn close(&self);
    /// Waits for the next change another writer made. `None` means this
    /// process is the only writer (SQLite, memory), so there is nothing to wait for.
    async fn next_event(&self) -> Option<StoreEvent> {
        None
    }
}

/// A version column or field.
fn decode_version(text: &str) -> Result<semver::Version, StoreError> {
    crate::domain::parse_version(text).map_err(StoreError::Corrupt)
}
