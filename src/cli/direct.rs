//! `updater keys` / `updater audit` beside the database: the server's own
//! configuration, its store opened directly, changes made through
//! `access::manage` with the command line as the audit actor. SQLite runs in
//! WAL mode, so this works while a server has the same file open; the server
//! picks key changes up within its key refresh interval (5 s).

use std::sync::Arc;

use crate::access::Pepper;
use crate::access::manage::{self, KeyDraft, KeyError};
use crate::config::{self, LoadOptions, Settings, StorageType};
use crate::domain::audit::{AuditQuery, Origin};
use crate::registry::Registry;
use crate::store::{MemoryStore, Store};

use super::failure::Failure;
use super::views::{AuditEntryView, AuditFilter, AuditPage, IssuedView, KeyList, KeyView};

pub struct Direct {
    settings: Settings,
    store: Arc<dyn Store>,
    origin: Origin,
}

/// What the command will do with the database: only `create` may start a
/// new one (a missing file is otherwise a wrong `--config` or `--section`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    MayCreate,
    Existing,
    /// A dry run: a missing SQLite database stays missing and reads as an
    /// empty store.
    Peek,
}

impl Direct {
    pub async fn open(options: &LoadOptions, intent: Intent) -> Result<Self, Failure> {
        let loaded = config::load(options).map_err(|e| {
            Failure::new(format!(
                "cannot load the configuration: {}",
                e.to_string().trim_end()
            ))
        })?;
        for warning in &loaded.warnings {
            eprintln!("warning: {warning}");
        }
        let settings = loaded.settings;
        let storage = &settings.storage;
        match storage.kind {
            StorageType::Memory => {
                return Err(Failure::new(format!(
                    "section `{}` uses `storage.type: memory`, which keeps nothing outside the server's process; \
                     use --server URL to talk to a running server",
                    loaded.section
                )));
            }
            StorageType::Sqlite => {
                let path = storage.sqlite_path();
                if !path.exists() {
                    match intent {
                        Intent::Existing => {
                            return Err(Failure::new(format!(
                                "no database at {}: check --config and --section (section `{}`)",
                                path.display(),
                                loaded.section
                            )));
                        }
                        Intent::Peek => {
                            eprintln!(
                                "note: no database at {} yet; comparing with an empty store",
                                path.display()
                            );
                            return Ok(Self {
                                settings,
                                store: Arc::new(MemoryStore::new()),
                                origin: Origin::cli(),
                            });
                        }
                        Intent::MayCreate => {
                            eprintln!("note: creating a new database at {}", path.display());
                        }
                    }
                }
            }
            StorageType::Postgres => {}
        }
        let store = crate::app::open_store(&settings)
            .await
            .map_err(|e| Failure::new(format!("cannot open the store: {e:#}")))?;
        Ok(Self {
            settings,
            store,
            origin: Origin::cli(),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The catalog as the server would load it, with writes going through
    /// the same rules and audit journal as the server's.
    pub async fn registry(&self) -> Result<Registry, Failure> {
        Registry::open(self.store.clone())
            .await
            .map_err(store_failure)
    }

    /// The server's pepper: the configured one, or SQLite's `key-pepper`
    /// file (made now if the server never ran). `None`: managed keys are
    /// disabled (PostgreSQL without `security.key_pepper`).
    fn pepper(&self) -> Result<Option<Pepper>, Failure> {
        match Pepper::resolve(&self.settings) {
            Ok(pepper) => Ok(pepper),
            // A server starting on the same directory may have just made
            // the file: read it again.
            Err(_) => Pepper::resolve(&self.settings)
                .map_err(|e| Failure::new(format!("cannot read the key pepper: {e:#}"))),
        }
    }

    pub async fn create(&self, draft: KeyDraft) -> Result<IssuedView, Failure> {
        let pepper = self.pepper()?;
        let issued = manage::create(&*self.store, pepper.as_ref(), &self.origin, draft)
            .await
            .map_err(key_failure)?;
        Ok(IssuedView {
            key: KeyView::from(&issued.key),
            token: issued.token,
        })
    }

    pub async fn list(&self) -> Result<KeyList, Failure> {
        let keys = self.store.load_keys().await.map_err(store_failure)?;
        Ok(KeyList {
            keys: keys.iter().map(KeyView::from).collect(),
        })
    }

    pub async fn rotate(&self, id: &str) -> Result<IssuedView, Failure> {
        let pepper = self.pepper()?;
        let issued = manage::rotate(&*self.store, pepper.as_ref(), &self.origin, id)
            .await
            .map_err(key_failure)?;
        Ok(IssuedView {
            key: KeyView::from(&issued.key),
            token: issued.token,
        })
    }

    pub async fn revoke(&self, id: &str) -> Result<KeyView, Failure> {
        let key = manage::revoke(&*self.store, &self.origin, id)
            .await
            .map_err(key_failure)?;
        Ok(KeyView::from(&key))
    }

    /// Newest first; `next_cursor` as the API gives it (a full page has one).
    pub async fn audit(&self, filter: &AuditFilter) -> Result<AuditPage, Failure> {
        let query = AuditQuery {
            application_id: filter.application.clone(),
            actor: filter.actor.clone(),
            action: filter.action.clone(),
            since: filter.since,
            until: filter.until,
            before: filter.cursor,
            limit: filter.limit,
        };
        let entries = self.store.audit(&query).await.map_err(store_failure)?;
        let next_cursor = (entries.len() == filter.limit as usize)
            .then(|| entries.last().map(|e| e.id))
            .flatten();
        Ok(AuditPage {
            entries: entries.into_iter().map(AuditEntryView::from).collect(),
            next_cursor,
        })
    }

    pub async fn close(self) {
        self.store.close().await;
    }
}

fn store_failure(e: crate::store::StoreError) -> Failure {
    Failure::new(format!("store: {e}"))
}

fn key_failure(e: KeyError) -> Failure {
    match e {
        KeyError::Invalid(errors) => {
            let summary = errors
                .0
                .iter()
                .map(|(field, problem)| format!("{field}: {problem}"))
                .collect::<Vec<_>>()
                .join("; ");
            Failure::new(format!("validation failed: {summary}"))
        }
        KeyError::Store(e) => store_failure(e),
        other => Failure::new(other.to_string()),
    }
}
