//! A store that keeps nothing across restarts: for tests and throwaway runs.
//! One lock over everything makes each write and its journal atomic.

use std::collections::BTreeMap;

use async_trait::async_trait;
use parking_lot::Mutex;

use chrono::{DateTime, Utc};

use super::idempotency::{
    ClaimOutcome, IdempotencyClaim, IdempotencyStore, MemoryIdempotency, StoredResponse,
};
use super::usage::{MemoryUsage, UsageStore};
use super::{Journal, Snapshot, Store, StoreError, outbox_messages, records::message_id};
use crate::domain::analytics::{CountRow, RollUp, SketchRow, UsageBatch, UsageFootprint};
use crate::domain::audit::{AuditEntry, AuditQuery, AuditRecord};
use crate::domain::job::Job;
use crate::domain::keys::ManagedKey;
use crate::domain::webhook::{Delivery, DeliveryAttempt, NextStep, OutboxMessage, Webhook};
use crate::domain::{Application, Release, ReleaseKey};

#[derive(Default)]
pub struct MemoryStore {
    data: Mutex<Data>,
    usage: Mutex<MemoryUsage>,
    idempotency: Mutex<MemoryIdempotency>,
}

#[derive(Default)]
struct Data {
    applications: BTreeMap<String, Application>,
    releases: BTreeMap<ReleaseKey, Release>,
    keys: BTreeMap<String, ManagedKey>,
    audit: Vec<AuditEntry>,
    webhooks: BTreeMap<String, Webhook>,
    jobs: BTreeMap<String, Job>,
    outbox: Vec<Message>,
    attempts: Vec<DeliveryAttempt>,
}

/// `RetryAt(t)`: pending, due at `t`.
struct Message {
    message: OutboxMessage,
    state: NextStep,
    lease_until: Option<DateTime<Utc>>,
}

impl Data {
    /// What a write records beside its change (under the same lock, so atomically).
    fn journal(&mut self, journal: &Journal) {
        self.append_audit(&journal.audit);
        let hooks: Vec<Webhook> = self.webhooks.values().cloned().collect();
        for (hook_id, event) in outbox_messages(&hooks, &journal.events) {
            self.outbox.push(Message {
                message: OutboxMessage {
                    id: message_id(),
                    webhook_id: hook_id.to_string(),
                    event_type: event.event_type.to_string(),
                    body: event.body.clone(),
                    created_at: journal.audit.at,
                    attempts: 0,
                },
                state: NextStep::RetryAt(journal.audit.at),
                lease_until: None,
            });
        }
    }

    fn append_audit(&mut self, record: &AuditRecord) {
        let id = self.audit.last().map_or(1, |e| e.id + 1);
        self.audit.push(AuditEntry {
            id,
            at: record.at,
            actor: record.origin.actor.clone(),
            client_ip: record.origin.client_ip.clone(),
            request_id: record.origin.request_id.clone(),
            action: record.action.to_string(),
            application_id: record.application_id.clone(),
            target: record.target.clone(),
            changes: record.changes.clone(),
        });
    }
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

    async fn insert_application(
        &self,
        app: &Application,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        if data.applications.contains_key(&app.id) {
            return Err(StoreError::Conflict);
        }
        data.applications.insert(app.id.clone(), app.clone());
        data.journal(journal);
        Ok(())
    }

    async fn update_application(
        &self,
        app: &Application,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        let slot = data
            .applications
            .get_mut(&app.id)
            .ok_or(StoreError::NotFound)?;
        *slot = app.clone();
        data.journal(journal);
        Ok(())
    }

    async fn delete_application(&self, id: &str, journal: &Journal) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        data.applications.remove(id).ok_or(StoreError::NotFound)?;
        data.releases.retain(|key, _| key.application_id != id);
        data.journal(journal);
        Ok(())
    }

    async fn insert_releases(
        &self,
        releases: &[Release],
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        for (index, release) in releases.iter().enumerate() {
            if !data.applications.contains_key(&release.key.application_id) {
                return Err(StoreError::NotFound);
            }
            let repeated = releases[..index].iter().any(|r| r.key == release.key);
            if repeated || data.releases.contains_key(&release.key) {
                return Err(StoreError::Conflict);
            }
        }
        for release in releases {
            data.releases.insert(release.key.clone(), release.clone());
        }
        data.journal(journal);
        Ok(())
    }

    async fn update_release(&self, release: &Release, journal: &Journal) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        let slot = data
            .releases
            .get_mut(&release.key)
            .ok_or(StoreError::NotFound)?;
        *slot = release.clone();
        data.journal(journal);
        Ok(())
    }

    async fn delete_release(&self, key: &ReleaseKey, journal: &Journal) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        data.releases.remove(key).ok_or(StoreError::NotFound)?;
        data.journal(journal);
        Ok(())
    }

    async fn load_keys(&self) -> Result<Vec<ManagedKey>, StoreError> {
        let mut keys: Vec<ManagedKey> = self.data.lock().keys.values().cloned().collect();
        keys.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(keys)
    }

    async fn insert_key(&self, key: &ManagedKey, journal: &Journal) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        if data.keys.contains_key(&key.id) {
            return Err(StoreError::Conflict);
        }
        data.keys.insert(key.id.clone(), key.clone());
        data.journal(journal);
        Ok(())
    }

    async fn update_key(&self, key: &ManagedKey, journal: &Journal) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        let slot = data.keys.get_mut(&key.id).ok_or(StoreError::NotFound)?;
        slot.digest = key.digest.clone();
        slot.revoked_at = key.revoked_at;
        data.journal(journal);
        Ok(())
    }

    async fn touch_keys(&self, used: &[(String, DateTime<Utc>)]) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        for (id, at) in used {
            if let Some(key) = data.keys.get_mut(id) {
                key.last_used_at = key.last_used_at.max(Some(*at));
            }
        }
        Ok(())
    }

    async fn record_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        self.data.lock().append_audit(record);
        Ok(())
    }

    async fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let data = self.data.lock();
        Ok(data
            .audit
            .iter()
            .rev()
            .filter(|e| query.matches(e))
            .take(query.limit as usize)
            .cloned()
            .collect())
    }

    async fn prune(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut data = self.data.lock();
        let count = data.audit.len();
        data.audit.retain(|e| e.at >= before);
        data.outbox
            .retain(|m| matches!(m.state, NextStep::RetryAt(_)) || m.message.created_at >= before);
        data.attempts.retain(|a| a.at >= before);
        Ok((count - data.audit.len()) as u64)
    }

    async fn insert_job(&self, job: &Job) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        if data.jobs.contains_key(&job.id) {
            return Err(StoreError::Conflict);
        }
        data.jobs.insert(job.id.clone(), job.clone());
        Ok(())
    }

    async fn update_job(&self, job: &Job) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        let slot = data.jobs.get_mut(&job.id).ok_or(StoreError::NotFound)?;
        *slot = job.clone();
        Ok(())
    }

    async fn job(&self, id: &str) -> Result<Option<Job>, StoreError> {
        Ok(self.data.lock().jobs.get(id).cloned())
    }

    async fn prune_jobs(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut data = self.data.lock();
        let count = data.jobs.len();
        data.jobs
            .retain(|_, job| job.finished_at.is_none_or(|at| at >= before));
        Ok((count - data.jobs.len()) as u64)
    }

    async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        let mut hooks: Vec<Webhook> = self.data.lock().webhooks.values().cloned().collect();
        hooks.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(hooks)
    }

    async fn insert_webhook(&self, hook: &Webhook, journal: &Journal) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        if data.webhooks.contains_key(&hook.id) {
            return Err(StoreError::Conflict);
        }
        data.webhooks.insert(hook.id.clone(), hook.clone());
        data.journal(journal);
        Ok(())
    }

    async fn delete_webhook(&self, id: &str, journal: &Journal) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        data.webhooks.remove(id).ok_or(StoreError::NotFound)?;
        data.outbox.retain(|m| m.message.webhook_id != id);
        data.attempts.retain(|a| a.webhook_id != id);
        data.journal(journal);
        Ok(())
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: std::time::Duration,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        let mut data = self.data.lock();
        let Data {
            outbox, webhooks, ..
        } = &mut *data;
        let mut claimed = Vec::new();
        for m in outbox.iter_mut() {
            if claimed.len() >= limit as usize {
                break;
            }
            let due = matches!(m.state, NextStep::RetryAt(at) if at <= now)
                && m.lease_until.is_none_or(|l| l <= now);
            let Some(hook) = webhooks.get(&m.message.webhook_id).filter(|_| due) else {
                continue;
            };
            m.lease_until = Some(until);
            claimed.push(Delivery {
                message: m.message.clone(),
                url: hook.url.clone(),
                secret: hook.secret.clone(),
            });
        }
        Ok(claimed)
    }

    async fn finish_delivery(
        &self,
        attempt: &DeliveryAttempt,
        next: NextStep,
    ) -> Result<(), StoreError> {
        let mut data = self.data.lock();
        let Some(m) = data
            .outbox
            .iter_mut()
            .find(|m| m.message.id == attempt.message_id)
        else {
            return Ok(());
        };
        m.message.attempts += 1;
        m.state = next;
        m.lease_until = None;
        data.attempts.push(attempt.clone());
        Ok(())
    }

    async fn deliveries(
        &self,
        webhook_id: &str,
        limit: u32,
    ) -> Result<Vec<DeliveryAttempt>, StoreError> {
        let data = self.data.lock();
        Ok(data
            .attempts
            .iter()
            .rev()
            .filter(|a| a.webhook_id == webhook_id)
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn close(&self) {}
}

#[async_trait]
impl UsageStore for MemoryStore {
    async fn analytics_secret(&self, candidate: &[u8]) -> Result<Vec<u8>, StoreError> {
        Ok(self.usage.lock().secret(candidate))
    }

    async fn write_usage(&self, batch: &UsageBatch) -> Result<(), StoreError> {
        self.usage.lock().write(batch);
        Ok(())
    }

    async fn usage_counts(
        &self,
        application_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CountRow>, StoreError> {
        Ok(self.usage.lock().counts(application_id, from, to))
    }

    async fn usage_sketches(
        &self,
        application_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<SketchRow>, StoreError> {
        Ok(self.usage.lock().sketches(application_id, from, to))
    }

    async fn roll_up_usage(
        &self,
        hourly_before: DateTime<Utc>,
        expire_before: DateTime<Utc>,
    ) -> Result<RollUp, StoreError> {
        Ok(self.usage.lock().roll_up(hourly_before, expire_before))
    }

    async fn usage_footprint(&self) -> Result<UsageFootprint, StoreError> {
        Ok(self.usage.lock().footprint())
    }
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn claim_idempotency(
        &self,
        claim: &IdempotencyClaim,
    ) -> Result<ClaimOutcome, StoreError> {
        Ok(self.idempotency.lock().claim(claim))
    }

    async fn complete_idempotency(
        &self,
        claim: &IdempotencyClaim,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        self.idempotency.lock().complete(claim, response);
        Ok(())
    }

    async fn release_idempotency(&self, claim: &IdempotencyClaim) -> Result<(), StoreError> {
        self.idempotency.lock().release(claim);
        Ok(())
    }

    async fn prune_idempotency(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(self.idempotency.lock().prune(before))
    }
}
