//! The store and the in-memory catalog kept in step.
//!
//! Writes are serialised: each goes to the store first and, once the store
//! has it durably, to the catalog, before the caller gets its answer. Reads
//! never reach the store.

mod breaker;
mod journal;

use std::sync::Arc;

use parking_lot::RwLock;
use tokio::sync::{MutexGuard, Notify};

pub use breaker::Open as StoreUnreachable;
use breaker::{Admission, Breaker, PROBE_TIMEOUT};

use crate::domain::audit::Origin;
use crate::domain::publish::{Batch, Difference, Planned, plan};
use crate::domain::validate::FieldErrors;
use crate::domain::{Application, Catalog, Change, Release, ReleaseKey};
use crate::store::{Journal, Store, StoreError};

/// Why a write did not happen. Each variant names what it is about, so the
/// HTTP layer writes every message once.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("application `{0}` not found")]
    ApplicationNotFound(String),
    #[error("release `{}` not found", .0.id())]
    ReleaseNotFound(ReleaseKey),
    #[error("application `{0}` already exists")]
    ApplicationExists(String),
    #[error("release `{}` already exists", .0.id())]
    ReleaseExists(ReleaseKey),
    #[error("application `{application_id}` has {count} release(s)")]
    HasReleases {
        application_id: String,
        count: usize,
    },
    /// A publish found targets already published with other content.
    #[error("{} field(s) differ from what is published", .0.len())]
    Differs(Vec<Difference>),
    #[error("invalid change")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Store(StoreError),
}

/// What a store `Conflict` or `NotFound` means for the write that got it.
enum Subject<'a> {
    Application(&'a str),
    /// A release being added: `NotFound` means its application is gone.
    NewRelease(&'a ReleaseKey),
    Release(&'a ReleaseKey),
}

pub struct Registry {
    store: Arc<dyn Store>,
    catalog: RwLock<Catalog>,
    writes: tokio::sync::Mutex<()>,
    breaker: Breaker,
    outbox: Notify,
}

impl Registry {
    pub async fn open(store: Arc<dyn Store>) -> Result<Self, StoreError> {
        let snapshot = store.load().await?;
        Ok(Self {
            store,
            catalog: RwLock::new(Catalog::from_snapshot(
                snapshot.applications,
                snapshot.releases,
            )),
            writes: tokio::sync::Mutex::new(()),
            breaker: Breaker::default(),
            outbox: Notify::new(),
        })
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Signalled after every local write that queued webhook messages.
    pub fn outbox_signal(&self) -> &Notify {
        &self.outbox
    }

    pub fn read<R>(&self, f: impl FnOnce(&Catalog) -> R) -> R {
        f(&self.catalog.read())
    }

    fn apply(&self, change: Change) {
        self.catalog.write().apply(change);
    }

    /// Applies a change another replica made. Serialised with local writes,
    /// so it never lands in the middle of one.
    pub async fn apply_remote(&self, change: Change) {
        let _guard = self.writes.lock().await;
        self.apply(change);
    }

    /// Rebuilds the catalog from the store, after changes may have been missed.
    pub async fn resync(&self) -> Result<(), StoreError> {
        let _guard = self.writes.lock().await;
        let snapshot = self.store.load().await?;
        *self.catalog.write() = Catalog::from_snapshot(snapshot.applications, snapshot.releases);
        Ok(())
    }

    /// Lets a write through unless the store is known to be unreachable;
    /// after the breaker's period the caller first probes it.
    pub async fn admit_write(&self) -> Result<(), StoreUnreachable> {
        match self.breaker.admit()? {
            Admission::Closed => Ok(()),
            Admission::Probe(probe) => {
                let answered = tokio::time::timeout(PROBE_TIMEOUT, self.store.ping()).await;
                probe.finish(matches!(answered, Ok(Ok(()))))
            }
        }
    }

    /// The readiness ping's verdict, which opens or closes the breaker.
    pub fn store_answered(&self, reachable: bool) {
        if reachable {
            self.breaker.close();
        } else {
            self.breaker.open();
        }
    }

    /// Writes go one at a time; none waits for its turn longer than the
    /// store would wait for a connection.
    async fn write_turn(&self) -> Result<MutexGuard<'_, ()>, WriteError> {
        let wait = self.store.write_wait();
        tokio::time::timeout(wait, self.writes.lock())
            .await
            .map_err(|_| {
                WriteError::Store(StoreError::Unavailable(format!(
                    "the write before this one held the store for over {wait:?}"
                )))
            })
    }

    pub async fn create_application(
        &self,
        origin: &Origin,
        app: Application,
    ) -> Result<(), WriteError> {
        let _guard = self.write_turn().await?;
        if self.read(|c| c.application(&app.id).is_some()) {
            return Err(WriteError::ApplicationExists(app.id));
        }
        let journal = journal::application_created(origin, &app);
        self.store
            .insert_application(&app, &journal)
            .await
            .map_err(|e| {
                self.store_error("insert_application", Subject::Application(&app.id), e)
            })?;
        self.apply(Change::ApplicationUpserted(app));
        self.outbox.notify_one();
        Ok(())
    }

    /// Applies `edit` to the current application and stores the result;
    /// an edit that finds problems stores nothing.
    pub async fn update_application(
        &self,
        origin: &Origin,
        id: &str,
        edit: impl FnOnce(&mut Application) -> Result<(), FieldErrors>,
    ) -> Result<Application, WriteError> {
        let _guard = self.write_turn().await?;
        let Some(before) = self.read(|c| c.application(id).cloned()) else {
            return Err(WriteError::ApplicationNotFound(id.to_string()));
        };
        let mut app = before.clone();
        edit(&mut app).map_err(WriteError::Invalid)?;
        let journal = journal::application_updated(origin, &before, &app);
        self.store
            .update_application(&app, &journal)
            .await
            .map_err(|e| self.store_error("update_application", Subject::Application(id), e))?;
        self.apply(Change::ApplicationUpserted(app.clone()));
        self.outbox.notify_one();
        Ok(app)
    }

    pub async fn delete_application(
        &self,
        origin: &Origin,
        id: &str,
        force: bool,
    ) -> Result<(), WriteError> {
        let _guard = self.write_turn().await?;
        let found = self.read(|c| c.application(id).map(|a| (a.clone(), c.release_count(id))));
        let journal = match found {
            None => return Err(WriteError::ApplicationNotFound(id.to_string())),
            Some((_, count)) if count > 0 && !force => {
                return Err(WriteError::HasReleases {
                    application_id: id.to_string(),
                    count,
                });
            }
            Some((app, count)) => journal::application_deleted(origin, &app, count),
        };
        self.store
            .delete_application(id, &journal)
            .await
            .map_err(|e| self.store_error("delete_application", Subject::Application(id), e))?;
        self.apply(Change::ApplicationDeleted(id.to_string()));
        self.outbox.notify_one();
        Ok(())
    }

    pub async fn add_release(&self, origin: &Origin, release: Release) -> Result<(), WriteError> {
        let _guard = self.write_turn().await?;
        let (known, exists) = self.read(|c| {
            (
                c.application(&release.key.application_id).is_some(),
                c.has_version_twin(&release.key),
            )
        });
        if !known {
            return Err(WriteError::ApplicationNotFound(
                release.key.application_id.clone(),
            ));
        }
        if exists {
            return Err(WriteError::ReleaseExists(release.key));
        }
        let journal = journal::release_published(origin, &release);
        self.insert(vec![release], journal).await
    }

    /// Publishes a version's targets together: targets already published
    /// with identical content are left as they are, new ones are stored in
    /// one transaction, and any target published with other content refuses
    /// the whole batch. Nothing is written when nothing is new.
    pub async fn add_releases(
        &self,
        origin: &Origin,
        batch: Batch,
    ) -> Result<Vec<Planned>, WriteError> {
        let _guard = self.write_turn().await?;
        let Some(first) = batch.releases.first() else {
            return Ok(Vec::new());
        };
        let app_id = first.key.application_id.clone();
        if self.read(|c| c.application(&app_id).is_none()) {
            return Err(WriteError::ApplicationNotFound(app_id));
        }
        let planned = self
            .read(|c| plan(batch, |key| c.version_twin(key)))
            .map_err(WriteError::Differs)?;
        let new: Vec<Release> = planned
            .iter()
            .filter(|p| p.new)
            .map(|p| p.release.clone())
            .collect();
        if !new.is_empty() {
            let journal = journal::releases_published(origin, &new);
            self.insert(new, journal).await?;
        }
        Ok(planned)
    }

    /// Stores new releases with their journal, then shows them to readers.
    async fn insert(&self, releases: Vec<Release>, journal: Journal) -> Result<(), WriteError> {
        self.store
            .insert_releases(&releases, &journal)
            .await
            .map_err(|e| {
                self.store_error("insert_releases", Subject::NewRelease(&releases[0].key), e)
            })?;
        for release in releases {
            self.apply(Change::ReleaseUpserted(release));
        }
        self.outbox.notify_one();
        Ok(())
    }

    /// Applies `edit` to a release's rollout or yank state and stores it.
    pub async fn update_release(
        &self,
        origin: &Origin,
        key: &ReleaseKey,
        edit: impl FnOnce(&mut Release),
    ) -> Result<Release, WriteError> {
        let _guard = self.write_turn().await?;
        let current = self.read(|c| c.release(key));
        let current = current.ok_or_else(|| WriteError::ReleaseNotFound(key.clone()))?;
        let mut release = Release::clone(current.as_ref());
        edit(&mut release);
        let journal = journal::release_updated(origin, &current, &release);
        self.store
            .update_release(&release, &journal)
            .await
            .map_err(|e| self.store_error("update_release", Subject::Release(key), e))?;
        self.apply(Change::ReleaseUpserted(release.clone()));
        self.outbox.notify_one();
        Ok(release)
    }

    pub async fn delete_release(
        &self,
        origin: &Origin,
        key: &ReleaseKey,
    ) -> Result<(), WriteError> {
        let _guard = self.write_turn().await?;
        let Some(current) = self.read(|c| c.release(key)) else {
            return Err(WriteError::ReleaseNotFound(key.clone()));
        };
        let journal = journal::release_deleted(origin, &current);
        self.store
            .delete_release(key, &journal)
            .await
            .map_err(|e| self.store_error("delete_release", Subject::Release(key), e))?;
        self.apply(Change::ReleaseDeleted(key.clone()));
        self.outbox.notify_one();
        Ok(())
    }
}

/// A store error as the write's outcome: a conflict or a missing row is
/// about the write's own subject (the catalog and the store disagreed, e.g.
/// another replica got there first); anything else is the store's failure.
impl Registry {
    /// Maps a store failure to what it means for the write; an unreachable
    /// store opens the breaker.
    fn store_error(
        &self,
        operation: &'static str,
        subject: Subject<'_>,
        error: StoreError,
    ) -> WriteError {
        if matches!(error, StoreError::Unavailable(_)) {
            self.breaker.open();
        }
        match (error, subject) {
            (StoreError::Conflict, Subject::Application(id)) => {
                WriteError::ApplicationExists(id.to_string())
            }
            (StoreError::Conflict, Subject::NewRelease(key) | Subject::Release(key)) => {
                WriteError::ReleaseExists(key.clone())
            }
            (StoreError::NotFound, Subject::Application(id)) => {
                WriteError::ApplicationNotFound(id.to_string())
            }
            (StoreError::NotFound, Subject::NewRelease(key)) => {
                WriteError::ApplicationNotFound(key.application_id.clone())
            }
            (StoreError::NotFound, Subject::Release(key)) => {
                WriteError::ReleaseNotFound(key.clone())
            }
            (other, _) => {
                metrics::counter!("updater_store_errors_total", "operation" => operation)
                    .increment(1);
                WriteError::Store(other)
            }
        }
    }
}
