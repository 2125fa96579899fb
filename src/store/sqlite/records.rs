//! SQLite: managed keys, the audit log, webhooks and their outbox, publish jobs.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqlitePool;
use sqlx::{SqliteConnection, query, query_as};

use crate::domain::audit::{AuditEntry, AuditQuery, AuditRecord};
use crate::domain::job::Job;
use crate::domain::keys::ManagedKey;
use crate::domain::webhook::{Delivery, DeliveryAttempt, NextStep, Webhook};
use crate::store::records::{
    DbAttempt, DbAuditEntry, DbDelivery, DbJob, DbKey, DbWebhook, encode_changes, message_id,
    outbox_state,
};
use crate::store::rows::Timestamp;
use crate::store::{Journal, StoreError, outbox_messages};

/// The audit entry and the outbox messages of one write, on its transaction.
pub(super) async fn write_journal(
    tx: &mut SqliteConnection,
    journal: &Journal,
) -> Result<(), StoreError> {
    insert_audit(&mut *tx, &journal.audit).await?;
    if journal.events.is_empty() {
        return Ok(());
    }
    let hooks: Vec<Webhook> = query_as::<_, DbWebhook>("SELECT * FROM webhooks")
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(Webhook::try_from)
        .collect::<Result<_, _>>()?;
    let now = Timestamp(journal.audit.at);
    for (hook_id, event) in outbox_messages(&hooks, &journal.events) {
        query(
            "INSERT INTO webhook_outbox (id, webhook_id, event_type, body, created_at, next_attempt_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(message_id())
        .bind(hook_id)
        .bind(event.event_type)
        .bind(&event.body)
        .bind(&now)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

pub(super) async fn insert_audit(
    conn: &mut SqliteConnection,
    record: &AuditRecord,
) -> Result<(), StoreError> {
    let actor = &record.origin.actor;
    query(
        "INSERT INTO audit_log (at, actor_kind, actor_key_id, actor_name, client_ip, request_id, \
         action, application_id, target, changes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(Timestamp(record.at))
    .bind(actor.kind.as_str())
    .bind(&actor.key_id)
    .bind(&actor.name)
    .bind(&record.origin.client_ip)
    .bind(&record.origin.request_id)
    .bind(record.action)
    .bind(&record.application_id)
    .bind(&record.target)
    .bind(encode_changes(&record.changes)?)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn load_keys(pool: &SqlitePool) -> Result<Vec<ManagedKey>, StoreError> {
    query_as::<_, DbKey>("SELECT * FROM api_keys ORDER BY created_at, id")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(ManagedKey::try_from)
        .collect()
}

pub(super) async fn insert_key(
    pool: &SqlitePool,
    key: &ManagedKey,
    journal: &Journal,
) -> Result<(), StoreError> {
    let row = DbKey::try_from(key)?;
    let mut tx = pool.begin().await?;
    query(
        "INSERT INTO api_keys (id, name, permissions, applications, digest, created_at, created_by, \
         expires_at, last_used_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(row.id)
    .bind(row.name)
    .bind(row.permissions)
    .bind(row.applications)
    .bind(row.digest)
    .bind(row.created_at)
    .bind(row.created_by)
    .bind(row.expires_at)
    .bind(row.last_used_at)
    .bind(row.revoked_at)
    .execute(&mut *tx)
    .await?;
    write_journal(&mut tx, journal).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn update_key(
    pool: &SqlitePool,
    key: &ManagedKey,
    journal: &Journal,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let result = query("UPDATE api_keys SET digest = ?, revoked_at = ? WHERE id = ?")
        .bind(&key.digest)
        .bind(key.revoked_at.map(Timestamp))
        .bind(&key.id)
        .execute(&mut *tx)
        .await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    write_journal(&mut tx, journal).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn touch_keys(
    pool: &SqlitePool,
    used: &[(String, DateTime<Utc>)],
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    for (id, at) in used {
        query(
            "UPDATE api_keys SET last_used_at = ? \
             WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
        )
        .bind(Timestamp(*at))
        .bind(id)
        .bind(Timestamp(*at))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn audit(
    pool: &SqlitePool,
    filter: &AuditQuery,
) -> Result<Vec<AuditEntry>, StoreError> {
    // Filters that narrow by index go to SQL; the rest are applied to what
    // comes back, fetched in batches until the page is full.
    let mut entries = Vec::new();
    let mut before = filter.before.unwrap_or(i64::MAX);
    let batch = i64::from(filter.limit.max(1)) * 4;
    loop {
        let rows = query_as::<_, DbAuditEntry>(
            "SELECT * FROM audit_log WHERE id < ? AND (? IS NULL OR application_id = ?) \
             AND (? IS NULL OR at >= ?) AND (? IS NULL OR at < ?) ORDER BY id DESC LIMIT ?",
        )
        .bind(before)
        .bind(&filter.application_id)
        .bind(&filter.application_id)
        .bind(filter.since.map(Timestamp))
        .bind(filter.since.map(Timestamp))
        .bind(filter.until.map(Timestamp))
        .bind(filter.until.map(Timestamp))
        .bind(batch)
        .fetch_all(pool)
        .await?;
        let exhausted = (rows.len() as i64) < batch;
        for row in rows {
            before = row.id;
            let entry = AuditEntry::try_from(row)?;
            if filter.matches(&entry) {
                entries.push(entry);
                if entries.len() >= filter.limit as usize {
                    return Ok(entries);
                }
            }
        }
        if exhausted {
            return Ok(entries);
        }
    }
}

pub(super) async fn prune(pool: &SqlitePool, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    let removed = query("DELETE FROM audit_log WHERE at < ?")
        .bind(Timestamp(before))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    query("DELETE FROM webhook_outbox WHERE state <> 'pending' AND created_at < ?")
        .bind(Timestamp(before))
        .execute(&mut *tx)
        .await?;
    query("DELETE FROM webhook_attempts WHERE at < ?")
        .bind(Timestamp(before))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(removed)
}

pub(super) async fn webhooks(pool: &SqlitePool) -> Result<Vec<Webhook>, StoreError> {
    query_as::<_, DbWebhook>("SELECT * FROM webhooks ORDER BY created_at, id")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(Webhook::try_from)
        .collect()
}

pub(super) async fn insert_webhook(
    pool: &SqlitePool,
    hook: &Webhook,
    journal: &Journal,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    query(
        "INSERT INTO webhooks (id, application_id, url, events, secret, created_at, created_by) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&hook.id)
    .bind(&hook.application_id)
    .bind(&hook.url)
    .bind(serde_json::to_string(&hook.events)?)
    .bind(&hook.secret)
    .bind(Timestamp(hook.created_at))
    .bind(&hook.created_by)
    .execute(&mut *tx)
    .await?;
    write_journal(&mut tx, journal).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn delete_webhook(
    pool: &SqlitePool,
    id: &str,
    journal: &Journal,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let result = query("DELETE FROM webhooks WHERE id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    write_journal(&mut tx, journal).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn claim_deliveries(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    lease: Duration,
    limit: u32,
) -> Result<Vec<Delivery>, StoreError> {
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    // One statement, so the claim is atomic; SQLite has a single writer.
    let rows = query_as::<_, DbDelivery>(
        "UPDATE webhook_outbox SET lease_until = ?1 WHERE id IN ( \
            SELECT id FROM webhook_outbox WHERE state = 'pending' AND next_attempt_at <= ?2 \
            AND (lease_until IS NULL OR lease_until <= ?2) ORDER BY created_at, id LIMIT ?3) \
         RETURNING id, webhook_id, event_type, body, created_at, attempts, \
            (SELECT url FROM webhooks w WHERE w.id = webhook_id) AS url, \
            (SELECT secret FROM webhooks w WHERE w.id = webhook_id) AS secret",
    )
    .bind(Timestamp(until))
    .bind(Timestamp(now))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Delivery::from).collect())
}

pub(super) async fn finish_delivery(
    pool: &SqlitePool,
    attempt: &DeliveryAttempt,
    next: NextStep,
) -> Result<(), StoreError> {
    let (state, next_at) = outbox_state(next);
    let mut tx = pool.begin().await?;
    let updated = query(
        "UPDATE webhook_outbox SET attempts = attempts + 1, state = ?, \
         next_attempt_at = COALESCE(?, next_attempt_at), lease_until = NULL WHERE id = ?",
    )
    .bind(state)
    .bind(next_at)
    .bind(&attempt.message_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // A webhook deleted mid-delivery took its message with it: nothing to log.
    if updated > 0 {
        query(
            "INSERT INTO webhook_attempts (message_id, webhook_id, event_type, at, status, error, \
             duration_ms, succeeded) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&attempt.message_id)
        .bind(&attempt.webhook_id)
        .bind(&attempt.event_type)
        .bind(Timestamp(attempt.at))
        .bind(attempt.status.map(i32::from))
        .bind(&attempt.error)
        .bind(i64::try_from(attempt.duration_ms).unwrap_or(i64::MAX))
        .bind(attempt.succeeded)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn deliveries(
    pool: &SqlitePool,
    webhook_id: &str,
    limit: u32,
) -> Result<Vec<DeliveryAttempt>, StoreError> {
    Ok(query_as::<_, DbAttempt>(
        "SELECT * FROM webhook_attempts WHERE webhook_id = ? ORDER BY id DESC LIMIT ?",
    )
    .bind(webhook_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(DeliveryAttempt::from)
    .collect())
}

pub(super) async fn insert_job(pool: &SqlitePool, job: &Job) -> Result<(), StoreError> {
    query(
        "INSERT INTO jobs (id, application_id, version, status, created_at, deadline, finished_at, \
         result, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&job.id)
    .bind(&job.application_id)
    .bind(&job.version)
    .bind(job.status.as_str())
    .bind(Timestamp(job.created_at))
    .bind(Timestamp(job.deadline))
    .bind(job.finished_at.map(Timestamp))
    .bind(&job.result)
    .bind(&job.error)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn update_job(pool: &SqlitePool, job: &Job) -> Result<(), StoreError> {
    let result =
        query("UPDATE jobs SET status = ?, finished_at = ?, result = ?, error = ? WHERE id = ?")
            .bind(job.status.as_str())
            .bind(job.finished_at.map(Timestamp))
            .bind(&job.result)
            .bind(&job.error)
            .bind(&job.id)
            .execute(pool)
            .await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) async fn job(pool: &SqlitePool, id: &str) -> Result<Option<Job>, StoreError> {
    query_as::<_, DbJob>("SELECT * FROM jobs WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .map(Job::try_from)
        .transpose()
}

pub(super) async fn prune_jobs(
    pool: &SqlitePool,
    before: DateTime<Utc>,
) -> Result<u64, StoreError> {
    Ok(query("DELETE FROM jobs WHERE finished_at < ?")
        .bind(Timestamp(before))
        .execute(pool)
        .await?
        .rows_affected())
}
