//! The store and the in-memory catalog kept in step.
//!
//! Writes are serialised: each goes to the store first and, once the store
//! has it durably, to the catalog, before the caller gets its answer. Reads
//! never reach the store.

use std::sync::Arc;

use parking_lot::RwLock;

use crate::domain::{Application, Catalog, Change, Release, ReleaseKey};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("application not found")]
    ApplicationNotFound,
    #[error("release not found")]
    ReleaseNotFound,
    #[error("already exists")]
    Conflict,
    #[error("application has {0} release(s)")]
    HasReleases(usize),
    #[error(transparent)]
    Store(StoreError),
}

pub struct Registry {
    store: Arc<dyn Store>,
    catalog: RwLock<Catalog>,
    writes: tokio::sync::Mutex<()>,
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
        })
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
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

    pub async fn create_application(&self, app: Application) -> Result<(), WriteError> {
        let _guard = self.writes.lock().await;
        if self.read(|c| c.application(&app.id).is_some()) {
            return Err(WriteError::Conflict);
        }
        self.store
            .insert_application(&app)
            .await
            .map_err(|e| store_error("insert_application", e))?;
        self.apply(Change::ApplicationUpserted(app));
        Ok(())
    }

    /// Applies `edit` to the current application and stores the result.
    pub async fn update_application<E>(
        &self,
        id: &str,
        edit: impl FnOnce(&mut Application) -> Result<(), E>,
    ) -> Result<Result<Application, E>, WriteError> {
        let _guard = self.writes.lock().await;
        let Some(mut app) = self.read(|c| c.application(id).cloned()) else {
            return Err(WriteError::ApplicationNotFound);
        };
        if let Err(e) = edit(&mut app) {
            return Ok(Err(e));
        }
        self.store
            .update_application(&app)
            .await
            .map_err(|e| store_error("update_application", e))?;
        self.apply(Change::ApplicationUpserted(app.clone()));
        Ok(Ok(app))
    }

    pub async fn delete_application(&self, id: &str, force: bool) -> Result<(), WriteError> {
        let _guard = self.writes.lock().await;
        let releases = self.read(|c| c.application(id).map(|_| c.release_count(id)));
        match releases {
            None => return Err(WriteError::ApplicationNotFound),
            Some(n) if n > 0 && !force => return Err(WriteError::HasReleases(n)),
            Some(_) => {}
        }
        self.store
            .delete_application(id)
            .await
            .map_err(|e| store_error("delete_application", e))?;
        self.apply(Change::ApplicationDeleted(id.to_string()));
        Ok(())
    }

    pub async fn add_release(&self, release: Release) -> Result<(), WriteError> {
        let _guard = self.writes.lock().await;
        let (known, exists) = self.read(|c| {
            (
                c.application(&release.key.application_id).is_some(),
                c.has_version_twin(&release.key),
            )
        });
        if !known {
            return Err(WriteError::ApplicationNotFound);
        }
        if exists {
            return Err(WriteError::Conflict);
        }
        self.store
            .insert_release(&release)
            .await
            .map_err(|e| store_error("insert_release", e))?;
        self.apply(Change::ReleaseUpserted(release));
        Ok(())
    }

    /// Applies `edit` to a release's rollout or yank state and stores it.
    pub async fn update_release(
        &self,
        key: &ReleaseKey,
        edit: impl FnOnce(&mut Release),
    ) -> Result<Release, WriteError> {
        let _guard = self.writes.lock().await;
        let current = self.read(|c| c.release(key));
        let mut release = Release::clone(current.ok_or(WriteError::ReleaseNotFound)?.as_ref());
        edit(&mut release);
        self.store
            .update_release(&release)
            .await
            .map_err(|e| store_error("update_release", e))?;
        self.apply(Change::ReleaseUpserted(release.clone()));
        Ok(release)
    }

    pub async fn delete_release(&self, key: &ReleaseKey) -> Result<(), WriteError> {
        let _guard = self.writes.lock().await;
        if self.read(|c| c.release(key)).is_none() {
            return Err(WriteError::ReleaseNotFound);
        }
        self.store
            .delete_release(key)
            .await
            .map_err(|e| store_error("delete_release", e))?;
        self.apply(Change::ReleaseDeleted(key.clone()));
        Ok(())
    }
}

fn store_error(operation: &'static str, error: StoreError) -> WriteError {
    match error {
        StoreError::Conflict => WriteError::Conflict,
        StoreError::NotFound => WriteError::ApplicationNotFound,
        other => {
            metrics::counter!("updater_store_errors_total", "operation" => operation).increment(1);
            WriteError::Store(other)
        }
    }
}
