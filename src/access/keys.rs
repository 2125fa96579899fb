//! Bearer API keys: the configured ones (SHA-256 digests, compared in
//! constant time against every entry) and the managed ones (looked up by the
//! id their token carries, checked against one HMAC digest).

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::HeaderValue;
use parking_lot::{Mutex, RwLock};
use subtle::ConstantTimeEq;

use super::pepper::Pepper;
use crate::config::{ApiKeySettings, KeyDigest, Permission, key_digest, parse_key_hash};
use crate::domain::audit::{Actor, ActorKind};
use crate::domain::keys::{KeyStatus, ManagedKey, Token};
use crate::store::{Store, StoreError};

/// The longest bearer token looked up; anything longer is malformed.
const MAX_TOKEN_LEN: usize = 512;

#[derive(Debug, Clone)]
pub struct Principal {
    pub name: String,
    /// A managed key's id; `None` for a configured key.
    pub key_id: Option<String>,
    pub permissions: BTreeSet<Permission>,
    /// `None`: every application.
    pub applications: Option<BTreeSet<String>>,
}

impl Principal {
    pub fn allows(&self, needed: Permission) -> bool {
        self.permissions.iter().any(|p| p.grants(needed))
    }

    pub fn allows_application(&self, id: &str) -> bool {
        self.applications
            .as_ref()
            .is_none_or(|apps| apps.contains(id))
    }

    pub fn is_scoped(&self) -> bool {
        self.applications.is_some()
    }

    pub fn actor(&self) -> Actor {
        Actor {
            kind: match self.key_id {
                Some(_) => ActorKind::Managed,
                None => ActorKind::Config,
            },
            key_id: self.key_id.clone(),
            name: self.name.clone(),
        }
    }
}

/// Why a request did not authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Malformed,
    Unknown,
    /// A managed key's id with the wrong secret, or a key no longer valid:
    /// these name a real key, so they are audited and counted per key.
    Refused {
        key: Actor,
        status: Refusal,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    WrongSecret,
    Expired,
    Revoked,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::WrongSecret => "wrong_secret",
            Refusal::Expired => "expired",
            Refusal::Revoked => "revoked",
        }
    }
}

/// Which key a console session signed in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyHandle {
    /// The position in `security.api_keys`, fixed until restart.
    Configured(usize),
    /// A managed key's id.
    Managed(String),
}

struct KeyEntry {
    digest: KeyDigest,
    principal: Principal,
}

pub struct ApiKeys {
    configured: Vec<KeyEntry>,
    managed: RwLock<HashMap<String, ManagedKey>>,
    pepper: Option<Pepper>,
    /// Uses since the last flush, written to the store in batches so a
    /// request never waits on a write.
    last_used: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl ApiKeys {
    /// Built from validated settings: every entry has exactly one of `key` or `key_hash`.
    pub fn new(keys: &[ApiKeySettings], pepper: Option<Pepper>) -> Self {
        let configured = keys
            .iter()
            .filter_map(|k| {
                let digest = if k.key.is_empty() {
                    parse_key_hash(&k.key_hash)?
                } else {
                    key_digest(k.key.expose())
                };
                Some(KeyEntry {
                    digest,
                    principal: Principal {
                        name: k.name.clone(),
                        key_id: None,
                        permissions: k.permissions.iter().copied().collect(),
                        applications: None,
                    },
                })
            })
            .collect();
        Self {
            configured,
            managed: RwLock::new(HashMap::new()),
            pepper,
            last_used: Mutex::new(HashMap::new()),
        }
    }

    /// `None` when managed keys are disabled (PostgreSQL without a pepper).
    pub fn pepper(&self) -> Option<&Pepper> {
        self.pepper.as_ref()
    }

    /// Replaces the managed keys with what the store holds, waiting at
    /// most `deadline` for it.
    pub async fn reload(&self, store: &dyn Store, deadline: Duration) -> Result<(), StoreError> {
        let keys = tokio::time::timeout(deadline, store.load_keys())
            .await
            .map_err(|_| StoreError::Unavailable("loading keys timed out".into()))??;
        *self.managed.write() = keys.into_iter().map(|k| (k.id.clone(), k)).collect();
        Ok(())
    }

    /// Takes the last-used times gathered since the previous call.
    pub fn take_last_used(&self) -> Vec<(String, DateTime<Utc>)> {
        std::mem::take(&mut *self.last_used.lock())
            .into_iter()
            .collect()
    }

    /// The principal an `Authorization: Bearer <key>` header names, and its handle.
    pub fn authenticate(
        &self,
        authorization: Option<&HeaderValue>,
    ) -> Result<(Principal, KeyHandle), AuthFailure> {
        let value = authorization.ok_or(AuthFailure::Missing)?;
        let value = value.to_str().map_err(|_| AuthFailure::Malformed)?;
        let (scheme, token) = value.split_once(' ').ok_or(AuthFailure::Malformed)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthFailure::Malformed);
        }
        if token.trim().is_empty() {
            return Err(AuthFailure::Malformed);
        }
        self.authenticate_token(token)
    }

    /// The principal a key names, and a handle to look it up again later
    /// (a console session keeps the handle, never the key).
    pub fn authenticate_token(&self, token: &str) -> Result<(Principal, KeyHandle), AuthFailure> {
        let token = token.trim();
        if token.is_empty() {
            return Err(AuthFailure::Missing);
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthFailure::Malformed);
        }
        if let Some(token) = Token::parse(token) {
            let principal = self.managed_principal(&token)?;
            return Ok((principal, KeyHandle::Managed(token.id)));
        }
        // Every entry is compared, so the time taken does not tell which matched.
        let presented = key_digest(token);
        let mut found = None;
        for (index, entry) in self.configured.iter().enumerate() {
            if bool::from(entry.digest.ct_eq(&presented)) {
                found = Some(index);
            }
        }
        found
            .map(|index| {
                (
                    self.configured[index].principal.clone(),
                    KeyHandle::Configured(index),
                )
            })
            .ok_or(AuthFailure::Unknown)
    }

    /// The key's principal as it is now: `None` once a managed key is
    /// revoked, expired or gone, so a session ends with its key.
    pub fn resolve(&self, handle: &KeyHandle) -> Option<Principal> {
        match handle {
            KeyHandle::Configured(index) => {
                self.configured.get(*index).map(|e| e.principal.clone())
            }
            KeyHandle::Managed(id) => {
                let managed = self.managed.read();
                let key = managed.get(id)?;
                let now = Utc::now();
                (key.status(now) == KeyStatus::Active).then(|| self.used(key, now))
            }
        }
    }

    fn managed_principal(&self, token: &Token) -> Result<Principal, AuthFailure> {
        let pepper = self.pepper.as_ref().ok_or(AuthFailure::Unknown)?;
        let managed = self.managed.read();
        let key = managed.get(&token.id).ok_or(AuthFailure::Unknown)?;
        let refused = |status| AuthFailure::Refused {
            key: Actor {
                kind: ActorKind::Managed,
                key_id: Some(key.id.clone()),
                name: key.name.clone(),
            },
            status,
        };
        if !pepper.matches(&token.text, &key.digest) {
            return Err(refused(Refusal::WrongSecret));
        }
        let now = Utc::now();
        match key.status(now) {
            KeyStatus::Active => {}
            KeyStatus::Expired => return Err(refused(Refusal::Expired)),
            KeyStatus::Revoked => return Err(refused(Refusal::Revoked)),
        }
        Ok(self.used(key, now))
    }

    /// An active managed key's principal, its use noted for `last_used_at`.
    fn used(&self, key: &ManagedKey, now: DateTime<Utc>) -> Principal {
        self.last_used.lock().insert(key.id.clone(), now);
        Principal {
            name: key.name.clone(),
            key_id: Some(key.id.clone()),
            permissions: key.permissions.clone(),
            applications: key.applications.clone(),
        }
    }
}
