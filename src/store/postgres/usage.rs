//! The analytics tables on PostgreSQL (statements in `store::usage`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, query, query_as, query_scalar};

use super::PostgresStore;
use crate::domain::analytics::{CountRow, RollUp, SketchRow, UsageBatch, UsageFootprint};
use crate::store::StoreError;
use crate::store::usage::{
    DbCount, DbFootprint, DbSketch, ROWS_PER_STATEMENT, UsageStore, encoded_sketches, sql,
    upsert_counts, upsert_sketches,
};

/// The advisory lock key of the roll-up ("usage" in ASCII).
const ROLL_UP_LOCK: i64 = 0x0075_7361_6765;

#[async_trait]
impl UsageStore for PostgresStore {
    async fn analytics_secret(&self, candidate: &[u8]) -> Result<Vec<u8>, StoreError> {
        query(sql::SECRET_INSERT)
            .bind(candidate)
            .execute(&self.pool)
            .await?;
        Ok(query_scalar(sql::SECRET_SELECT)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn write_usage(&self, batch: &UsageBatch) -> Result<(), StoreError> {
        let sketches = encoded_sketches(batch);
        let mut tx = self.pool.begin().await?;
        for chunk in batch.counts.chunks(ROWS_PER_STATEMENT) {
            upsert_counts::<Postgres>(&batch.replica, chunk)
                .build()
                .execute(&mut *tx)
                .await?;
        }
        for chunk in sketches.chunks(ROWS_PER_STATEMENT) {
            upsert_sketches::<Postgres>(&batch.replica, chunk)
                .build()
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn usage_counts(
        &self,
        application_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<CountRow>, StoreError> {
        query_as::<_, DbCount>(sql::COUNTS)
            .bind(application_id)
            .bind(from.timestamp())
            .bind(to.timestamp())
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|row| row.into_row(application_id))
            .collect()
    }

    async fn usage_sketches(
        &self,
        application_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<SketchRow>, StoreError> {
        query_as::<_, DbSketch>(sql::SKETCHES)
            .bind(application_id)
            .bind(from.timestamp())
            .bind(to.timestamp())
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|row| row.into_row(application_id))
            .collect()
    }

    async fn roll_up_usage(
        &self,
        hourly_before: DateTime<Utc>,
        expire_before: DateTime<Utc>,
    ) -> Result<RollUp, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Replicas roll up on their own clocks: one at a time, or two would
        // both fold the same hourly rows in before either deletes them.
        query("SELECT pg_advisory_xact_lock($1)")
            .bind(ROLL_UP_LOCK)
            .execute(&mut *tx)
            .await?;
        let hourly = hourly_before.timestamp();
        let expire = expire_before.timestamp();
        query(sql::ROLL_UP).bind(hourly).execute(&mut *tx).await?;
        let rolled_up = query(sql::DROP_HOURLY)
            .bind(hourly)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let mut expired = query(sql::EXPIRE_COUNTS)
            .bind(expire)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        expired += query(sql::EXPIRE_SKETCHES)
            .bind(expire)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(RollUp { rolled_up, expired })
    }

    async fn usage_footprint(&self) -> Result<UsageFootprint, StoreError> {
        Ok(query_as::<_, DbFootprint>(sql::FOOTPRINT)
            .fetch_one(&self.pool)
            .await?
            .into())
    }
}
