//! The idempotency-record contract on every backend: one claim wins, a
//! completed record replays, a pending one reads as in flight until it is
//! abandoned, a release frees the key, only the claimant completes, prune
//! removes old records.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Duration as Span, Utc};

use crate::common::PgCluster;
use crate::common::sut::{
    ClaimOutcome, IdempotencyClaim, MemoryStore, PostgresSettings, PostgresStore, Secret,
    SqliteStore, Store, StoredResponse,
};

fn claim(claim: &str, fingerprint: &str) -> IdempotencyClaim {
    let now = Utc::now();
    IdempotencyClaim {
        principal: "managed:00112233aabbccdd".into(),
        key: "retry-1".into(),
        fingerprint: fingerprint.into(),
        claim: claim.into(),
        now,
        abandoned_before: now - Span::seconds(60),
        expired_before: now - Span::hours(24),
    }
}

async fn idempotency_contract(store: Arc<dyn Store>) {
    let first = claim("a", "f1");
    assert_eq!(
        store.claim_idempotency(&first).await.unwrap(),
        ClaimOutcome::Claimed
    );
    let second = claim("b", "f1");
    assert_eq!(
        store.claim_idempotency(&second).await.unwrap(),
        ClaimOutcome::InFlight {
            fingerprint: "f1".into()
        }
    );
    // Another principal's key of the same name is its own.
    let other = IdempotencyClaim {
        principal: "config:x".into(),
        ..claim("c", "f1")
    };
    assert_eq!(
        store.claim_idempotency(&other).await.unwrap(),
        ClaimOutcome::Claimed
    );

    let response = StoredResponse {
        status: 201,
        content_type: "application/json".into(),
        body: br#"{"id":"wh_1"}"#.to_vec(),
    };
    // Only the claimant completes.
    store
        .complete_idempotency(&second, &response)
        .await
        .unwrap();
    assert!(matches!(
        store.claim_idempotency(&second).await.unwrap(),
        ClaimOutcome::InFlight { .. }
    ));
    store.complete_idempotency(&first, &response).await.unwrap();
    assert_eq!(
        store.claim_idempotency(&second).await.unwrap(),
        ClaimOutcome::Completed {
            fingerprint: "f1".into(),
            response: response.clone()
        }
    );
    // A completed record is not released.
    store.release_idempotency(&first).await.unwrap();
    assert!(matches!(
        store.claim_idempotency(&second).await.unwrap(),
        ClaimOutcome::Completed { .. }
    ));

    // A released pending claim frees the key; an abandoned one is taken over.
    store.release_idempotency(&other).await.unwrap();
    let again = IdempotencyClaim {
        principal: "config:x".into(),
        ..claim("d", "f2")
    };
    assert_eq!(
        store.claim_idempotency(&again).await.unwrap(),
        ClaimOutcome::Claimed
    );
    let later = IdempotencyClaim {
        abandoned_before: Utc::now() + Span::seconds(1),
        ..IdempotencyClaim {
            principal: "config:x".into(),
            ..claim("e", "f3")
        }
    };
    assert_eq!(
        store.claim_idempotency(&later).await.unwrap(),
        ClaimOutcome::Claimed
    );

    let removed = store
        .prune_idempotency(Utc::now() + Span::seconds(1))
        .await
        .unwrap();
    assert_eq!(removed, 2);
    assert_eq!(
        store.claim_idempotency(&first).await.unwrap(),
        ClaimOutcome::Claimed
    );
}

#[tokio::test]
async fn memory_store_keeps_idempotency_records() {
    idempotency_contract(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn sqlite_store_keeps_idempotency_records() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("idem.db"), Duration::from_secs(5))
        .await
        .unwrap();
    idempotency_contract(Arc::new(store)).await;
}

#[tokio::test]
async fn postgres_store_keeps_idempotency_records() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let settings = PostgresSettings {
        url: Secret::new(cluster.database("idempotency")),
        max_connections: 5,
        acquire_timeout: Duration::from_secs(5),
    };
    idempotency_contract(Arc::new(PostgresStore::open(&settings).await.unwrap())).await;
}
