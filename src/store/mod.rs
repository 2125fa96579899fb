//! Durable storage behind one trait. Reads are served from the in-memory
//! [`crate::domain::Catalog`]; the store is written through and read in full
//! only at start.

mod memory;
mod postgres;
mod sqlite;

use async_trait::async_trait;

use crate::domain::{Application, Artifact, Change, Release, ReleaseKey, parse_version};

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

/// A JSON column.
fn decode_json<T: serde::de::DeserializeOwned>(text: String) -> Result<T, StoreError> {
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A release's `files` column, which is never empty.
fn decode_files(text: String, version: &str) -> Result<Vec<Artifact>, StoreError> {
    let files: Vec<Artifact> = decode_json(text)?;
    if files.is_empty() {
        return Err(StoreError::Corrupt(format!(
            "release `{version}` has no files"
        )));
    }
    Ok(files)
}

fn decode_version(text: &str) -> Result<semver::Version, StoreError> {
    parse_version(text).map_err(StoreError::Corrupt)
}
