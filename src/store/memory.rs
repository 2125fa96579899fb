//! A store that keeps nothing across restarts: for tests and throwaway runs.

use std::collections::BTreeMap;

use async_trait::async_trait;
use parking_lot::Mutex;

use super::{Snapshot, Store, StoreError};
use crate::domain::{Application, Release, ReleaseKey};

#[derive(Default)]
pub struct MemoryStore {
    data: Mutex<Data>,
}

#[derive(Default)]
struct Data {
    applications: BTreeMap<String, Application>,
    releases: BTreeMap<ReleaseKey, Release>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn load(&self) -> Result<Snapshot, StoreError> {
        let data = self.data.lock();
        Ok(Snapshot {
            applications: data.applications.values().cloned().collect(),
            releases: data.releases.values().cloned().collect(),
        })
    }

    async fn insert_application(&self, app: &Application) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        if data.applications.contains_key(&app.id) {
            return Err(StoreError::Conflict);
        }
        data.applications.insert(app.id.clone(), app.clone());
        Ok(())
    }

    async fn update_application(&self, app: &Application) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        let slot = data
            .applications
            .get_mut(&app.id)
            .ok_or(StoreError::NotFound)?;
        *slot = app.clone();
        Ok(())
    }

    async fn delete_application(&self, id: &str) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        data.applications.remove(id).ok_or(StoreError::NotFound)?;
        data.releases.retain(|key, _| key.application_id != id);
        Ok(())
    }

    async fn insert_release(&self, release: &Release) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        if !data.applications.contains_key(&release.key.application_id) {
            return Err(StoreError::NotFound);
        }
        if data.releases.contains_key(&release.key) {
            return Err(StoreError::Conflict);
        }
        data.releases.insert(release.key.clone(), release.clone());
        Ok(())
    }

    async fn update_release(&self, release: &Release) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        let slot = data
            .releases
            .get_mut(&release.key)
            .ok_or(StoreError::NotFound)?;
        *slot = release.clone();
        Ok(())
    }

    async fn delete_release(&self, key: &ReleaseKey) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        data.releases
            .remove(key)
            .map(|_| ())
            .ok_or(StoreError::NotFound)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn close(&self) {}
}
