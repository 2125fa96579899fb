//! What `updater keys` and `updater audit` print: the admin API's JSON
//! shapes, filled from the store (beside the database) or read from a
//! server's answer, so `--json` is the same either way.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::audit::AuditEntry;
use crate::domain::keys::ManagedKey;

/// A managed key: never its secret or digest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyView {
    pub id: String,
    pub name: String,
    pub permissions: Vec<String>,
    /// `None`: every application.
    #[serde(default)]
    pub applications: Option<Vec<String>>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub created_by: String,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub revoked_at: Option<DateTime<Utc>>,
    pub status: String,
}

impl From<&ManagedKey> for KeyView {
    fn from(key: &ManagedKey) -> Self {
        Self {
            id: key.id.clone(),
            name: key.name.clone(),
            permissions: key
                .permissions
                .iter()
                .map(|p| p.as_str().to_string())
                .collect(),
            applications: key
                .applications
                .as_ref()
                .map(|apps| apps.iter().cloned().collect()),
            created_at: key.created_at,
            created_by: key.created_by.clone(),
            expires_at: key.expires_at,
            last_used_at: key.last_used_at,
            revoked_at: key.revoked_at,
            status: key.status(Utc::now()).as_str().to_string(),
        }
    }
}

/// A key and its token, which is shown this once.
#[derive(Clone, Serialize, Deserialize)]
pub struct IssuedView {
    pub key: KeyView,
    pub token: String,
}

impl std::fmt::Debug for IssuedView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedView")
            .field("key", &self.key)
            .field("token", &"[REDACTED]")
            .finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyList {
    pub keys: Vec<KeyView>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActorView {
    pub kind: String,
    #[serde(default)]
    pub key_id: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FieldChangeView {
    pub field: String,
    #[serde(default)]
    pub before: Option<String>,
    #[serde(default)]
    pub after: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditEntryView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: ActorView,
    #[serde(default)]
    pub client_ip: Option<String>,
    #[serde(default)]
    pub request_id: Option<String>,
    pub action: String,
    #[serde(default)]
    pub application_id: Option<String>,
    pub target: String,
    #[serde(default)]
    pub changes: Vec<FieldChangeView>,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(entry: AuditEntry) -> Self {
        Self {
            id: entry.id,
            at: entry.at,
            actor: ActorView {
                kind: entry.actor.kind.as_str().to_string(),
                key_id: entry.actor.key_id,
                name: entry.actor.name,
            },
            client_ip: entry.client_ip,
            request_id: entry.request_id,
            action: entry.action,
            application_id: entry.application_id,
            target: entry.target,
            changes: entry
                .changes
                .0
                .into_iter()
                .map(|c| FieldChangeView {
                    field: c.field,
                    before: c.before,
                    after: c.after,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntryView>,
    /// Pass as `--cursor` for the next (older) page.
    #[serde(default)]
    pub next_cursor: Option<i64>,
}

/// The audit filters, as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub application: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub cursor: Option<i64>,
    pub limit: u32,
}
