//! Idempotency records: the answer to a write sent with an `Idempotency-Key`,
//! kept per (principal, key) so a retry on any replica replays it instead of
//! writing again. A record is claimed (pending) before the write runs and
//! completed with the response after; both SQL backends run the same
//! statements, built here.

mod memory;

pub(super) use memory::MemoryIdempotency;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;

/// How long a completed record is replayed; the hourly prune removes older ones.
pub const IDEMPOTENCY_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// A response as stored for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// One attempt to claim a key for a request.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    /// Who sent the request (see `http::idempotency`).
    pub principal: String,
    pub key: String,
    /// What was asked: method, path and query, and the body's digest.
    pub fingerprint: String,
    /// Random per attempt: only the request that claimed a record completes
    /// or releases it, even after another took it over as abandoned.
    pub claim: String,
    pub now: DateTime<Utc>,
    /// A pending record claimed before this was abandoned (its replica
    /// stopped mid-request) and may be claimed again.
    pub abandoned_before: DateTime<Utc>,
    /// A record made before this has expired and counts as absent.
    pub expired_before: DateTime<Utc>,
}

/// What claiming found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The record is this request's: run the write, then complete or release.
    Claimed,
    /// Another request with this key is being served.
    InFlight { fingerprint: String },
    /// A request with this key was answered.
    Completed {
        fingerprint: String,
        response: StoredResponse,
    },
}

#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims (principal, key) atomically: a new record, or one abandoned or
    /// expired; otherwise answers what the record holds.
    async fn claim_idempotency(&self, claim: &IdempotencyClaim)
    -> Result<ClaimOutcome, StoreError>;
    /// Stores the response of a claimed request (no-op if the claim was lost).
    async fn complete_idempotency(
        &self,
        claim: &IdempotencyClaim,
        response: &StoredResponse,
    ) -> Result<(), StoreError>;
    /// Drops a pending claim so the key can be sent again.
    async fn release_idempotency(&self, claim: &IdempotencyClaim) -> Result<(), StoreError>;
    /// Removes records made before `before`; returns how many.
    async fn prune_idempotency(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// The statements of both SQL backends. Parameters are numbered in the order
/// they appear, which SQLite needs for `$n` names.
pub(super) mod sql {
    pub const INSERT: &str = "INSERT INTO idempotency_keys \
        (principal, idempotency_key, fingerprint, claim, created_at) VALUES ($1, $2, $3, $4, $5) \
        ON CONFLICT (principal, idempotency_key) DO NOTHING";
    pub const TAKE_OVER: &str = "UPDATE idempotency_keys SET fingerprint = $1, claim = $2, \
        created_at = $3, status = NULL, content_type = NULL, body = NULL \
        WHERE principal = $4 AND idempotency_key = $5 \
        AND ((status IS NULL AND created_at < $6) OR created_at < $7)";
    pub const SELECT: &str = "SELECT fingerprint, status, content_type, body \
        FROM idempotency_keys WHERE principal = $1 AND idempotency_key = $2";
    pub const COMPLETE: &str = "UPDATE idempotency_keys SET status = $1, content_type = $2, \
        body = $3, created_at = $4 \
        WHERE principal = $5 AND idempotency_key = $6 AND claim = $7 AND status IS NULL";
    pub const RELEASE: &str = "DELETE FROM idempotency_keys \
        WHERE principal = $1 AND idempotency_key = $2 AND claim = $3 AND status IS NULL";
    pub const PRUNE: &str = "DELETE FROM idempotency_keys WHERE created_at < $1";
}

/// A record as read back: `status` is `None` while pending.
#[derive(sqlx::FromRow)]
pub(super) struct DbIdempotency {
    pub fingerprint: String,
    pub status: Option<i32>,
    pub content_type: Option<String>,
    pub body: Option<Vec<u8>>,
}

impl DbIdempotency {
    pub(super) fn outcome(self) -> Result<ClaimOutcome, StoreError> {
        let Some(status) = self.status else {
            return Ok(ClaimOutcome::InFlight {
                fingerprint: self.fingerprint,
            });
        };
        let status = u16::try_from(status)
            .map_err(|_| StoreError::Corrupt(format!("idempotency status {status}")))?;
        Ok(ClaimOutcome::Completed {
            fingerprint: self.fingerprint,
            response: StoredResponse {
                status,
                content_type: self.content_type.unwrap_or_default(),
                body: self.body.unwrap_or_default(),
            },
        })
    }
}

/// `IdempotencyStore` for a SQL backend (`self.pool`), the same statements on both.
macro_rules! sql_idempotency_store {
    ($store:ty) => {
        #[::async_trait::async_trait]
        impl $crate::store::idempotency::IdempotencyStore for $store {
            async fn claim_idempotency(
                &self,
                claim: &$crate::store::idempotency::IdempotencyClaim,
            ) -> ::std::result::Result<
                $crate::store::idempotency::ClaimOutcome,
                $crate::store::StoreError,
            > {
                use $crate::store::idempotency::{ClaimOutcome, DbIdempotency, sql};
                use $crate::store::rows::Timestamp;
                // A record released between the statements is claimed on the next round.
                for _ in 0..3 {
                    let inserted = ::sqlx::query(sql::INSERT)
                        .bind(&claim.principal)
                        .bind(&claim.key)
                        .bind(&claim.fingerprint)
                        .bind(&claim.claim)
                        .bind(Timestamp(claim.now))
                        .execute(&self.pool)
                        .await?;
                    if inserted.rows_affected() == 1 {
                        return Ok(ClaimOutcome::Claimed);
                    }
                    let taken = ::sqlx::query(sql::TAKE_OVER)
                        .bind(&claim.fingerprint)
                        .bind(&claim.claim)
                        .bind(Timestamp(claim.now))
                        .bind(&claim.principal)
                        .bind(&claim.key)
                        .bind(Timestamp(claim.abandoned_before))
                        .bind(Timestamp(claim.expired_before))
                        .execute(&self.pool)
                        .await?;
                    if taken.rows_affected() == 1 {
                        return Ok(ClaimOutcome::Claimed);
                    }
                    let found = ::sqlx::query_as::<_, DbIdempotency>(sql::SELECT)
                        .bind(&claim.principal)
                        .bind(&claim.key)
                        .fetch_optional(&self.pool)
                        .await?;
                    if let Some(found) = found {
                        return found.outcome();
                    }
                }
                Err($crate::store::StoreError::Unavailable(
                    "an idempotency record kept changing while being claimed".into(),
                ))
            }

            async fn complete_idempotency(
                &self,
                claim: &$crate::store::idempotency::IdempotencyClaim,
                response: &$crate::store::idempotency::StoredResponse,
            ) -> ::std::result::Result<(), $crate::store::StoreError> {
                ::sqlx::query($crate::store::idempotency::sql::COMPLETE)
                    .bind(i32::from(response.status))
                    .bind(&response.content_type)
                    .bind(&response.body)
                    .bind($crate::store::rows::Timestamp(::chrono::Utc::now()))
                    .bind(&claim.principal)
                    .bind(&claim.key)
                    .bind(&claim.claim)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn release_idempotency(
                &self,
                claim: &$crate::store::idempotency::IdempotencyClaim,
            ) -> ::std::result::Result<(), $crate::store::StoreError> {
                ::sqlx::query($crate::store::idempotency::sql::RELEASE)
                    .bind(&claim.principal)
                    .bind(&claim.key)
                    .bind(&claim.claim)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn prune_idempotency(
                &self,
                before: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::std::result::Result<u64, $crate::store::StoreError> {
                Ok(::sqlx::query($crate::store::idempotency::sql::PRUNE)
                    .bind($crate::store::rows::Timestamp(before))
                    .execute(&self.pool)
                    .await?
                    .rows_affected())
            }
        }
    };
}
pub(super) use sql_idempotency_store;
