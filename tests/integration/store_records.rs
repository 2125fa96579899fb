//! The store contract for managed keys, the audit log and the webhook
//! outbox, run against every backend: a write and its journal commit
//! together, claims are exclusive for their lease, and the SQL backends
//! refuse to edit audit entries.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};

use crate::common::PgCluster;
use crate::common::sut::{
    Actor, ActorKind, Application, ApplicationConfig, AuditQuery, AuditRecord, Changes,
    DeliveryAttempt, Event, Journal, ManagedKey, MemoryStore, NextStep, Origin, Permission,
    PostgresSettings, PostgresStore, Secret, SqliteStore, Store, StoreError, Webhook,
};

fn origin(name: &str) -> Origin {
    Origin {
        actor: Actor {
            kind: ActorKind::Managed,
            key_id: Some("00112233aabbccdd".into()),
            name: name.into(),
        },
        client_ip: Some("192.0.2.7".into()),
        request_id: Some("req-1".into()),
    }
}

fn application(id: &str) -> Application {
    let at = Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap();
    Application {
        id: id.into(),
        name: format!("App {id}"),
        description: String::new(),
        platforms: vec!["linux".into()],
        config: ApplicationConfig::default(),
        created_at: at,
        updated_at: at,
    }
}

fn journal(action: &'static str, app: &str, events: &[&'static str]) -> Journal {
    let record = AuditRecord::new(&origin("pipeline"), action, app)
        .application(app)
        .changes(Changes::default().field("name", None::<&str>, Some("x")));
    events.iter().fold(Journal::new(record), |j, event_type| {
        j.event(Event {
            event_type,
            application_id: Some(app.into()),
            body: format!(r#"{{"type":"{event_type}"}}"#),
        })
    })
}

fn managed_key(id: &str) -> ManagedKey {
    ManagedKey {
        id: id.into(),
        name: "ci".into(),
        permissions: BTreeSet::from([Permission::Publish, Permission::Read]),
        applications: Some(BTreeSet::from(["app".to_string()])),
        digest: "ab".repeat(32),
        created_at: Utc.with_ymd_and_hms(2025, 5, 1, 0, 0, 0).unwrap(),
        created_by: "admin".into(),
        expires_at: None,
        last_used_at: None,
        revoked_at: None,
    }
}

fn webhook(id: &str, app: Option<&str>, events: &[&str]) -> Webhook {
    Webhook {
        id: id.into(),
        application_id: app.map(str::to_string),
        url: "https://hooks.example.com/in".into(),
        events: events.iter().map(|e| e.to_string()).collect(),
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        created_at: Utc::now(),
        created_by: "admin".into(),
    }
}

fn all() -> AuditQuery {
    AuditQuery {
        limit: 100,
        ..AuditQuery::default()
    }
}

async fn records_contract(store: Arc<dyn Store>) {
    // Keys: insert, duplicate, revoke, last use never moves backwards.
    let key = managed_key("00112233aabbccdd");
    store
        .insert_key(&key, &journal("key.created", "app", &[]))
        .await
        .unwrap();
    assert!(matches!(
        store
            .insert_key(&key, &journal("key.created", "app", &[]))
            .await,
        Err(StoreError::Conflict)
    ));
    let mut revoked = key.clone();
    revoked.revoked_at = Some(Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap());
    store
        .update_key(&revoked, &journal("key.revoked", "app", &[]))
        .await
        .unwrap();
    let later = Utc.with_ymd_and_hms(2025, 7, 1, 0, 0, 0).unwrap();
    let earlier = Utc.with_ymd_and_hms(2025, 6, 15, 0, 0, 0).unwrap();
    store.touch_keys(&[(key.id.clone(), later)]).await.unwrap();
    store
        .touch_keys(&[(key.id.clone(), earlier)])
        .await
        .unwrap();
    let keys = store.load_keys().await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].revoked_at, revoked.revoked_at);
    assert_eq!(keys[0].last_used_at, Some(later));
    assert_eq!(keys[0].applications, key.applications);
    assert_eq!(keys[0].permissions, key.permissions);
    assert!(matches!(
        store
            .update_key(
                &managed_key("ffffffffffffffff"),
                &journal("key.revoked", "app", &[])
            )
            .await,
        Err(StoreError::NotFound)
    ));

    // Webhooks: a message per interested webhook, in the write's transaction.
    for hook in [
        webhook("wh_a", Some("app"), &["release.*"]),
        webhook("wh_b", None, &["application.*"]),
        webhook("wh_c", Some("other"), &["*"]),
    ] {
        store
            .insert_webhook(&hook, &journal("webhook.created", "app", &[]))
            .await
            .unwrap();
    }
    store
        .insert_application(
            &application("app"),
            &journal("application.created", "app", &["application.created"]),
        )
        .await
        .unwrap();
    // A write that fails records nothing: no audit entry, no message.
    let before = store.audit(&all()).await.unwrap().len();
    assert!(matches!(
        store
            .insert_application(
                &application("app"),
                &journal("application.created", "app", &["application.created"]),
            )
            .await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(store.audit(&all()).await.unwrap().len(), before);

    let now = Utc::now();
    let lease = Duration::from_secs(30);
    let claimed = store.claim_deliveries(now, lease, 10).await.unwrap();
    let targets: Vec<&str> = claimed
        .iter()
        .map(|d| d.message.webhook_id.as_str())
        .collect();
    assert_eq!(
        targets,
        ["wh_b"],
        "only the webhook that wants application events"
    );
    assert_eq!(claimed[0].message.event_type, "application.created");
    assert!(claimed[0].message.id.starts_with("msg_"));
    assert!(
        store
            .claim_deliveries(now, lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "a claimed message is not claimed again within its lease"
    );
    let after_lease = now + chrono::Duration::seconds(31);
    let reclaimed = store
        .claim_deliveries(after_lease, lease, 10)
        .await
        .unwrap();
    assert_eq!(
        reclaimed.len(),
        1,
        "an expired claim (its replica died) is taken again"
    );
    let message = &reclaimed[0].message;
    let attempt = |succeeded: bool| DeliveryAttempt {
        message_id: message.id.clone(),
        webhook_id: message.webhook_id.clone(),
        event_type: message.event_type.clone(),
        at: after_lease,
        status: Some(if succeeded { 204 } else { 500 }),
        error: (!succeeded).then(|| "receiver answered 500".to_string()),
        duration_ms: 3,
        succeeded,
    };
    let retry_at = after_lease + chrono::Duration::seconds(60);
    store
        .finish_delivery(&attempt(false), NextStep::RetryAt(retry_at))
        .await
        .unwrap();
    assert!(
        store
            .claim_deliveries(after_lease, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let retried = store.claim_deliveries(retry_at, lease, 10).await.unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].message.attempts, 1);
    assert_eq!(
        retried[0].message.id, message.id,
        "retries keep the webhook-id"
    );
    store
        .finish_delivery(&attempt(true), NextStep::Delivered)
        .await
        .unwrap();
    let far = retry_at + chrono::Duration::days(30);
    assert!(
        store
            .claim_deliveries(far, lease, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let log = store.deliveries("wh_b", 10).await.unwrap();
    assert_eq!(
        log.iter().map(|a| a.succeeded).collect::<Vec<_>>(),
        [true, false],
        "newest first"
    );

    // Audit: newest first, with filters and the cursor.
    let entries = store.audit(&all()).await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "application.created",
            "webhook.created",
            "webhook.created",
            "webhook.created",
            "key.revoked",
            "key.created"
        ]
    );
    let first = &entries[0];
    assert_eq!(first.actor.name, "pipeline");
    assert_eq!(first.actor.key_id.as_deref(), Some("00112233aabbccdd"));
    assert_eq!(first.client_ip.as_deref(), Some("192.0.2.7"));
    assert_eq!(first.request_id.as_deref(), Some("req-1"));
    assert_eq!(first.changes.0[0].after.as_deref(), Some("x"));
    let prefix = store
        .audit(&AuditQuery {
            action: Some("key.".into()),
            ..all()
        })
        .await
        .unwrap();
    assert_eq!(prefix.len(), 2);
    let page = store
        .audit(&AuditQuery {
            limit: 2,
            before: Some(entries[1].id),
            ..all()
        })
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|e| e.id).collect::<Vec<_>>(),
        [entries[2].id, entries[3].id]
    );
    store
        .record_audit(&AuditRecord::new(
            &origin("intruder"),
            "auth.failed",
            "/api/v1/keys",
        ))
        .await
        .unwrap();
    let by_actor = store
        .audit(&AuditQuery {
            actor: Some("intruder".into()),
            ..all()
        })
        .await
        .unwrap();
    assert_eq!(by_actor.len(), 1);

    // Retention prunes old entries; deleting a webhook takes its messages.
    assert_eq!(
        store
            .prune(Utc::now() - chrono::Duration::days(1))
            .await
            .unwrap(),
        0
    );
    let pruned = store
        .prune(Utc::now() + chrono::Duration::days(1))
        .await
        .unwrap();
    assert_eq!(pruned as usize, entries.len() + 1);
    store
        .delete_webhook("wh_a", &journal("webhook.deleted", "app", &[]))
        .await
        .unwrap();
    assert!(matches!(
        store
            .delete_webhook("wh_a", &journal("webhook.deleted", "app", &[]))
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.webhooks().await.unwrap().len(), 2);
}

#[tokio::test]
async fn memory_store_keeps_keys_audit_and_outbox() {
    records_contract(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn sqlite_store_keeps_keys_audit_and_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("records.db");
    let store = SqliteStore::open(&path, Duration::from_secs(5))
        .await
        .unwrap();
    records_contract(Arc::new(store)).await;

    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("INSERT INTO audit_log (at, actor_kind, actor_name, action, target) VALUES ('2025-01-01T00:00:00Z', 'cli', 'x', 'test', 't')")
        .execute(&pool)
        .await
        .unwrap();
    let edit = sqlx::query("UPDATE audit_log SET actor_name = 'someone else'")
        .execute(&pool)
        .await;
    let message = edit.expect_err("the audit log refuses edits").to_string();
    assert!(message.contains("append-only"), "{message}");
}

#[tokio::test]
async fn postgres_store_keeps_keys_audit_and_outbox() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.database("records");
    let settings = PostgresSettings {
        url: Secret::new(url.clone()),
        max_connections: 5,
        acquire_timeout: Duration::from_secs(5),
    };
    let store = PostgresStore::open(&settings).await.unwrap();
    records_contract(Arc::new(store)).await;

    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query("INSERT INTO audit_log (at, actor_kind, actor_name, action, target) VALUES (now(), 'cli', 'x', 'test', 't')")
        .execute(&pool)
        .await
        .unwrap();
    let edit = sqlx::query("UPDATE audit_log SET actor_name = 'someone else'")
        .execute(&pool)
        .await;
    let message = edit.expect_err("the audit log refuses edits").to_string();
    assert!(message.contains("append-only"), "{message}");
}
