//! Creating, rotating and revoking managed keys, each with its audit entry
//! in the same transaction. Used by the admin API and by `updater keys`
//! run beside the database.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::pepper::{Pepper, random};
use crate::config::Permission;
use crate::domain::audit::{AuditRecord, Changes, Origin};
use crate::domain::keys::{KeyStatus, ManagedKey, TOKEN_RANDOM_BYTES, Token};
use crate::domain::validate::{FieldErrors, check_application_id, check_text};
use crate::store::{Journal, Store, StoreError};

const MAX_NAME_LEN: usize = 100;
const MAX_SCOPE: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("managed keys are disabled: set `security.key_pepper` (every replica must share it)")]
    Disabled,
    #[error("key `{0}` not found")]
    NotFound(String),
    #[error("invalid key")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A key as asked for, not yet checked.
#[derive(Debug, Clone, Default)]
pub struct KeyDraft {
    pub name: String,
    pub permissions: Vec<String>,
    /// `None`: every application.
    pub applications: Option<Vec<String>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// How long from now it works (`90d`); instead of `expires_at`.
    pub expires_in: Option<String>,
}

/// The longest lifetime a key may be given: ten years.
const MAX_LIFETIME: std::time::Duration = std::time::Duration::from_secs(10 * 366 * 24 * 3600);

/// A key's lifetime (`90d`, `12h`), between 1 s and ten years.
pub fn parse_lifetime(text: &str) -> Result<std::time::Duration, String> {
    let lifetime = humantime::parse_duration(text.trim())
        .map_err(|e| format!("is not a duration such as `90d`: {e}"))?;
    if lifetime.is_zero() || lifetime > MAX_LIFETIME {
        return Err("must be between 1s and 10 years".into());
    }
    Ok(lifetime)
}

/// When a key given `expires_in` stops working.
fn expiry(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    chrono::Duration::from_std(parse_lifetime(text)?)
        .map(|lifetime| now + lifetime)
        .map_err(|_| "is too long".into())
}

/// A key and its token, shown this once. Not `Debug`: nothing may log it.
#[derive(Clone)]
pub struct Issued {
    pub key: ManagedKey,
    pub token: String,
}

/// The rules a new key must meet; [`create`] applies them again.
pub fn check(draft: KeyDraft, now: DateTime<Utc>) -> Result<ManagedKey, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = draft.name.trim().to_string();
    if name.is_empty() {
        errors.add("name", "must not be empty");
    } else if let Err(e) = check_text(&name, MAX_NAME_LEN, false) {
        errors.add("name", e);
    }
    let mut permissions = BTreeSet::new();
    for text in &draft.permissions {
        match Permission::parse(text) {
            Some(p) => {
                permissions.insert(p);
            }
            None => errors.add(
                "permissions",
                format!(
                    "unknown permission `{}`; known: read, publish, rollout, delete, write, admin, monitor",
                    text.escape_debug()
                ),
            ),
        }
    }
    if draft.permissions.is_empty() {
        errors.add("permissions", "give at least one permission");
    }
    let applications = match draft.applications {
        None => None,
        Some(ids) if ids.is_empty() => {
            errors.add(
                "applications",
                "an empty list would allow nothing; omit it (or null) for every application",
            );
            None
        }
        Some(ids) if ids.len() > MAX_SCOPE => {
            errors.add("applications", format!("at most {MAX_SCOPE} applications"));
            None
        }
        Some(ids) => {
            for id in &ids {
                if let Err(e) = check_application_id(id) {
                    errors.add("applications", e);
                }
            }
            Some(ids.into_iter().collect())
        }
    };
    let expires_at = match (draft.expires_at, draft.expires_in) {
        (Some(_), Some(_)) => {
            errors.add("expires_in", "give `expires_at` or `expires_in`, not both");
            None
        }
        (Some(at), None) if at <= now => {
            errors.add("expires_at", "must be in the future");
            None
        }
        (at, None) => at,
        (None, Some(text)) => expiry(&text, now)
            .map_err(|e| errors.add("expires_in", e))
            .ok(),
    };
    errors.into_result(ManagedKey {
        id: String::new(),
        name,
        permissions,
        applications,
        digest: String::new(),
        created_at: now,
        created_by: String::new(),
        expires_at,
        last_used_at: None,
        revoked_at: None,
    })
}

fn new_token() -> Result<Token, StoreError> {
    let bytes =
        random::<TOKEN_RANDOM_BYTES>().map_err(|e| StoreError::Unavailable(e.to_string()))?;
    Ok(Token::generate(&bytes))
}

fn describe(key: &ManagedKey) -> Changes {
    let permissions: Vec<&str> = key.permissions.iter().map(|p| p.as_str()).collect();
    let scope = key.applications.as_ref().map_or_else(
        || "*".to_string(),
        |apps| apps.iter().cloned().collect::<Vec<_>>().join(","),
    );
    Changes::default()
        .field("name", None::<&str>, Some(&key.name))
        .field("permissions", None::<&str>, Some(permissions.join(",")))
        .field("applications", None::<&str>, Some(scope))
        .field(
            "expires_at",
            None::<&str>,
            key.expires_at.map(|t| t.to_rfc3339()),
        )
}

pub async fn create(
    store: &dyn Store,
    pepper: Option<&Pepper>,
    origin: &Origin,
    draft: KeyDraft,
) -> Result<Issued, KeyError> {
    let pepper = pepper.ok_or(KeyError::Disabled)?;
    let mut key = check(draft, crate::domain::now()).map_err(KeyError::Invalid)?;
    let token = new_token()?;
    key.id = token.id.clone();
    key.digest = pepper.digest(&token.text);
    key.created_by = origin.actor.label();
    let journal =
        Journal::new(AuditRecord::new(origin, "key.created", &key.id).changes(describe(&key)));
    store.insert_key(&key, &journal).await?;
    Ok(Issued {
        key,
        token: token.text,
    })
}

pub async fn find(store: &dyn Store, id: &str) -> Result<ManagedKey, KeyError> {
    let keys = store.load_keys().await?;
    keys.into_iter()
        .find(|k| k.id == id)
        .ok_or_else(|| KeyError::NotFound(id.to_string()))
}

/// A new secret for the same key: the old token stops working at once.
pub async fn rotate(
    store: &dyn Store,
    pepper: Option<&Pepper>,
    origin: &Origin,
    id: &str,
) -> Result<Issued, KeyError> {
    let pepper = pepper.ok_or(KeyError::Disabled)?;
    let mut key = find(store, id).await?;
    if key.status(Utc::now()) == KeyStatus::Revoked {
        let mut errors = FieldErrors::default();
        errors.add(
            "key_id",
            "a revoked key cannot be rotated; create a new one",
        );
        return Err(KeyError::Invalid(errors));
    }
    let secret = random::<32>().map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let token = Token::with_id(key.id.clone(), &secret);
    key.digest = pepper.digest(&token.text);
    let journal = Journal::new(
        AuditRecord::new(origin, "key.rotated", &key.id).changes(Changes::default().field(
            "secret",
            Some("previous"),
            Some("new"),
        )),
    );
    store.update_key(&key, &journal).await?;
    Ok(Issued {
        key,
        token: token.text,
    })
}

/// Revokes a key; revoking a revoked key changes nothing.
pub async fn revoke(store: &dyn Store, origin: &Origin, id: &str) -> Result<ManagedKey, KeyError> {
    let mut key = find(store, id).await?;
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    let now = crate::domain::now();
    key.revoked_at = Some(now);
    let journal = Journal::new(
        AuditRecord::new(origin, "key.revoked", &key.id).changes(Changes::default().field(
            "revoked_at",
            None::<&str>,
            Some(now.to_rfc3339()),
        )),
    );
    store.update_key(&key, &journal).await?;
    Ok(key)
}
