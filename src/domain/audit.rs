//! The audit log's records: who changed what, from where, and how.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// A key created through `/api/v1/keys` or `updater keys`.
    Managed,
    /// A key from `security.api_keys` (bootstrap / break-glass).
    Config,
    /// `updater keys ...` run beside the database.
    Cli,
    /// A request that named no valid key (failed authentications).
    Anonymous,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Managed => "managed",
            ActorKind::Config => "config",
            ActorKind::Cli => "cli",
            ActorKind::Anonymous => "anonymous",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Managed, Self::Config, Self::Cli, Self::Anonymous]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// Who acted: a key's id and name, never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    pub key_id: Option<String>,
    pub name: String,
}

impl Actor {
    pub fn label(&self) -> String {
        match &self.key_id {
            Some(id) => format!("{} ({id})", self.name),
            None => self.name.clone(),
        }
    }
}

/// Where a change came from: the actor and the request that carried it.
#[derive(Debug, Clone)]
pub struct Origin {
    pub actor: Actor,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
}

impl Origin {
    /// The command line, run beside the database.
    pub fn cli() -> Self {
        let user = ["USER", "LOGNAME"]
            .into_iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| "unknown".into());
        Self {
            actor: Actor {
                kind: ActorKind::Cli,
                key_id: None,
                name: format!("cli:{user}"),
            },
            client_ip: None,
            request_id: None,
        }
    }
}

/// One field's value before and after a change, as text (`None`: absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Collects the fields a change touched; unchanged fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes(pub Vec<FieldChange>);

impl Changes {
    pub fn field(
        mut self,
        field: &str,
        before: Option<impl ToString>,
        after: Option<impl ToString>,
    ) -> Self {
        let (before, after) = (before.map(|v| v.to_string()), after.map(|v| v.to_string()));
        if before != after {
            self.0.push(FieldChange {
                field: field.to_string(),
                before,
                after,
            });
        }
        self
    }
}

/// An entry as written, before the store gives it an id.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub at: DateTime<Utc>,
    pub origin: Origin,
    /// `release.published`, `key.revoked`, ... (see `docs/security.md`).
    pub action: &'static str,
    pub application_id: Option<String>,
    pub target: String,
    pub changes: Changes,
}

impl AuditRecord {
    pub fn new(origin: &Origin, action: &'static str, target: impl Into<String>) -> Self {
        Self {
            at: super::now(),
            origin: origin.clone(),
            action,
            application_id: None,
            target: target.into(),
            changes: Changes::default(),
        }
    }

    pub fn application(mut self, id: &str) -> Self {
        self.application_id = Some(id.to_string());
        self
    }

    pub fn changes(mut self, changes: Changes) -> Self {
        self.changes = changes;
        self
    }
}

/// An entry read back. `action` is text here: older entries may name
/// actions this build does not write.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
    pub action: String,
    pub application_id: Option<String>,
    pub target: String,
    pub changes: Changes,
}

/// Newest first; `before` is the cursor (entries with a smaller id).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub application_id: Option<String>,
    /// A key id or an actor name.
    pub actor: Option<String>,
    /// An action, or a prefix ending in `.` (`release.`).
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub before: Option<i64>,
    pub limit: u32,
}

impl AuditQuery {
    pub fn matches(&self, entry: &AuditEntry) -> bool {
        let action_ok = self
            .action
            .as_deref()
            .is_none_or(|a| match a.strip_suffix('.') {
                Some(prefix) => {
                    entry.action.starts_with(prefix)
                        && entry.action[prefix.len()..].starts_with('.')
                }
                None => entry.action == a,
            });
        let actor_ok = self
            .actor
            .as_deref()
            .is_none_or(|a| entry.actor.key_id.as_deref() == Some(a) || entry.actor.name == a);
        action_ok
            && actor_ok
            && self
                .application_id
                .as_deref()
                .is_none_or(|a| entry.application_id.as_deref() == Some(a))
            && self.since.is_none_or(|t| entry.at >= t)
            && self.until.is_none_or(|t| entry.at < t)
            && self.before.is_none_or(|b| entry.id < b)
    }
}
