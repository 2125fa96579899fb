//! The rows of managed keys, the audit log, webhooks and publish jobs, shared by both SQL
//! backends, and their conversion to and from the domain records.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::StoreError;
use super::rows::Timestamp;
use crate::config::Permission;
use crate::domain::audit::{Actor, ActorKind, AuditEntry, Changes, FieldChange};
use crate::domain::job::{Job, JobStatus};
use crate::domain::keys::ManagedKey;
use crate::domain::webhook::{DeliveryAttempt, NextStep, Webhook};

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} `{}`", value.escape_debug()))
}

#[derive(sqlx::FromRow)]
pub(super) struct DbKey {
    pub id: String,
    pub name: String,
    pub permissions: String,
    pub applications: Option<String>,
    pub digest: String,
    pub created_at: Timestamp,
    pub created_by: String,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl TryFrom<DbKey> for ManagedKey {
    type Error = StoreError;

    fn try_from(row: DbKey) -> Result<Self, StoreError> {
        let names: Vec<String> = serde_json::from_str(&row.permissions)?;
        let permissions = names
            .iter()
            .map(|n| Permission::parse(n).ok_or_else(|| corrupt("permission", n)))
            .collect::<Result<_, _>>()?;
        let applications = match &row.applications {
            Some(text) => Some(serde_json::from_str::<BTreeSet<String>>(text)?),
            None => None,
        };
        Ok(Self {
            id: row.id,
            name: row.name,
            permissions,
            applications,
            digest: row.digest,
            created_at: row.created_at.0,
            created_by: row.created_by,
            expires_at: row.expires_at.map(|t| t.0),
            last_used_at: row.last_used_at.map(|t| t.0),
            revoked_at: row.revoked_at.map(|t| t.0),
        })
    }
}

impl TryFrom<&ManagedKey> for DbKey {
    type Error = StoreError;

    fn try_from(key: &ManagedKey) -> Result<Self, StoreError> {
        let names: Vec<&str> = key.permissions.iter().map(|p| p.as_str()).collect();
        Ok(Self {
            id: key.id.clone(),
            name: key.name.clone(),
            permissions: serde_json::to_string(&names)?,
            applications: key
                .applications
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?,
            digest: key.digest.clone(),
            created_at: Timestamp(key.created_at),
            created_by: key.created_by.clone(),
            expires_at: key.expires_at.map(Timestamp),
            last_used_at: key.last_used_at.map(Timestamp),
            revoked_at: key.revoked_at.map(Timestamp),
        })
    }
}

#[derive(Serialize, Deserialize)]
struct StoredChange {
    field: String,
    before: Option<String>,
    after: Option<String>,
}

pub(super) fn encode_changes(changes: &Changes) -> Result<String, StoreError> {
    let stored: Vec<StoredChange> = changes
        .0
        .iter()
        .map(|c| StoredChange {
            field: c.field.clone(),
            before: c.before.clone(),
            after: c.after.clone(),
        })
        .collect();
    Ok(serde_json::to_string(&stored)?)
}

#[derive(sqlx::FromRow)]
pub(super) struct DbAuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub actor_kind: String,
    pub actor_key_id: Option<String>,
    pub actor_name: String,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
    pub action: String,
    pub application_id: Option<String>,
    pub target: String,
    pub changes: String,
}

impl TryFrom<DbAuditEntry> for AuditEntry {
    type Error = StoreError;

    fn try_from(row: DbAuditEntry) -> Result<Self, StoreError> {
        let kind = ActorKind::parse(&row.actor_kind)
            .ok_or_else(|| corrupt("actor kind", &row.actor_kind))?;
        let stored: Vec<StoredChange> = serde_json::from_str(&row.changes)?;
        Ok(Self {
            id: row.id,
            at: row.at.0,
            actor: Actor {
                kind,
                key_id: row.actor_key_id,
                name: row.actor_name,
            },
            client_ip: row.client_ip,
            request_id: row.request_id,
            action: row.action,
            application_id: row.application_id,
            target: row.target,
            changes: Changes(
                stored
                    .into_iter()
                    .map(|c| FieldChange {
                        field: c.field,
                        before: c.before,
                        after: c.after,
                    })
                    .collect(),
            ),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct DbWebhook {
    pub id: String,
    pub application_id: Option<String>,
    pub url: String,
    pub events: String,
    pub secret: String,
    pub created_at: Timestamp,
    pub created_by: String,
}

impl TryFrom<DbWebhook> for Webhook {
    type Error = StoreError;

    fn try_from(row: DbWebhook) -> Result<Self, StoreError> {
        Ok(Self {
            events: serde_json::from_str(&row.events)?,
            id: row.id,
            application_id: row.application_id,
            url: row.url,
            secret: row.secret,
            created_at: row.created_at.0,
            created_by: row.created_by,
        })
    }
}

impl TryFrom<&Webhook> for DbWebhook {
    type Error = StoreError;

    fn try_from(hook: &Webhook) -> Result<Self, StoreError> {
        Ok(Self {
            id: hook.id.clone(),
            application_id: hook.application_id.clone(),
            url: hook.url.clone(),
            events: serde_json::to_string(&hook.events)?,
            secret: hook.secret.clone(),
            created_at: Timestamp(hook.created_at),
            created_by: hook.created_by.clone(),
        })
    }
}

/// A claimed outbox message joined with its webhook.
#[derive(sqlx::FromRow)]
pub(super) struct DbDelivery {
    pub id: String,
    pub webhook_id: String,
    pub event_type: String,
    pub body: String,
    pub created_at: Timestamp,
    pub attempts: i32,
    pub url: String,
    pub secret: String,
}

impl From<DbDelivery> for crate::domain::webhook::Delivery {
    fn from(row: DbDelivery) -> Self {
        Self {
            message: crate::domain::webhook::OutboxMessage {
                id: row.id,
                webhook_id: row.webhook_id,
                event_type: row.event_type,
                body: row.body,
                created_at: row.created_at.0,
                attempts: u32::try_from(row.attempts).unwrap_or(0),
            },
            url: row.url,
            secret: row.secret,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct DbAttempt {
    pub message_id: String,
    pub webhook_id: String,
    pub event_type: String,
    pub at: Timestamp,
    pub status: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub succeeded: bool,
}

impl From<DbAttempt> for DeliveryAttempt {
    fn from(row: DbAttempt) -> Self {
        Self {
            message_id: row.message_id,
            webhook_id: row.webhook_id,
            event_type: row.event_type,
            at: row.at.0,
            status: row.status.and_then(|s| u16::try_from(s).ok()),
            error: row.error,
            duration_ms: u64::try_from(row.duration_ms).unwrap_or(0),
            succeeded: row.succeeded,
        }
    }
}

/// The outbox state and next attempt time a step leaves a message in.
pub(super) fn outbox_state(next: NextStep) -> (&'static str, Option<Timestamp>) {
    match next {
        NextStep::Delivered => ("delivered", None),
        NextStep::RetryAt(at) => ("pending", Some(Timestamp(at))),
        NextStep::GiveUp => ("failed", None),
    }
}

/// A new outbox message id: `msg_` and a random UUID.
pub(super) fn message_id() -> String {
    format!("msg_{}", uuid::Uuid::new_v4().simple())
}

#[derive(sqlx::FromRow)]
pub(super) struct DbJob {
    pub id: String,
    pub application_id: String,
    pub version: String,
    pub status: String,
    pub created_at: Timestamp,
    pub deadline: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub result: Option<String>,
    pub error: Option<String>,
}

impl TryFrom<DbJob> for Job {
    type Error = StoreError;

    fn try_from(row: DbJob) -> Result<Self, StoreError> {
        Ok(Self {
            status: JobStatus::parse(&row.status)
                .ok_or_else(|| corrupt("job status", &row.status))?,
            id: row.id,
            application_id: row.application_id,
            version: row.version,
            created_at: row.created_at.0,
            deadline: row.deadline.0,
            finished_at: row.finished_at.map(|t| t.0),
            result: row.result,
            error: row.error,
        })
    }
}
