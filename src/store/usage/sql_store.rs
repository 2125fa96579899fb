//! The `UsageStore` of both SQL backends, written once: the statements are
//! the same text for SQLite and PostgreSQL (built in `store::usage`).

/// `UsageStore` for a SQL backend (`self.pool`): the same statements on
/// both, and the lock a roll-up takes first, if any.
macro_rules! sql_usage_store {
    ($store:ty, $db:ty, $roll_up_lock:expr) => {
        #[::async_trait::async_trait]
        impl $crate::store::usage::UsageStore for $store {
            async fn analytics_secret(
                &self,
                candidate: &[u8],
            ) -> ::std::result::Result<Vec<u8>, $crate::store::StoreError> {
                ::sqlx::query($crate::store::usage::sql::SECRET_INSERT)
                    .bind(candidate)
                    .execute(&self.pool)
                    .await?;
                Ok(
                    ::sqlx::query_scalar($crate::store::usage::sql::SECRET_SELECT)
                        .fetch_one(&self.pool)
                        .await?,
                )
            }

            async fn write_usage(
                &self,
                batch: &$crate::domain::analytics::UsageBatch,
            ) -> ::std::result::Result<(), $crate::store::StoreError> {
                let sketches = $crate::store::usage::encoded_sketches(batch);
                let mut tx = self.pool.begin().await?;
                for chunk in batch
                    .counts
                    .chunks($crate::store::usage::ROWS_PER_STATEMENT)
                {
                    $crate::store::usage::upsert_counts::<$db>(&batch.replica, chunk)
                        .build()
                        .execute(&mut *tx)
                        .await?;
                }
                for chunk in sketches.chunks($crate::store::usage::ROWS_PER_STATEMENT) {
                    $crate::store::usage::upsert_sketches::<$db>(&batch.replica, chunk)
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
                from: ::chrono::DateTime<::chrono::Utc>,
                to: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::std::result::Result<
                Vec<$crate::domain::analytics::CountRow>,
                $crate::store::StoreError,
            > {
                ::sqlx::query_as::<_, $crate::store::usage::DbCount>(
                    $crate::store::usage::sql::COUNTS,
                )
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
                from: ::chrono::DateTime<::chrono::Utc>,
                to: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::std::result::Result<
                Vec<$crate::domain::analytics::SketchRow>,
                $crate::store::StoreError,
            > {
                ::sqlx::query_as::<_, $crate::store::usage::DbSketch>(
                    $crate::store::usage::sql::SKETCHES,
                )
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
                hourly_before: ::chrono::DateTime<::chrono::Utc>,
                expire_before: ::chrono::DateTime<::chrono::Utc>,
            ) -> ::std::result::Result<$crate::domain::analytics::RollUp, $crate::store::StoreError>
            {
                let mut tx = self.pool.begin().await?;
                if let Some(lock) = $roll_up_lock {
                    ::sqlx::query(lock).execute(&mut *tx).await?;
                }
                let hourly = hourly_before.timestamp();
                let expire = expire_before.timestamp();
                ::sqlx::query($crate::store::usage::sql::ROLL_UP)
                    .bind(hourly)
                    .execute(&mut *tx)
                    .await?;
                let rolled_up = ::sqlx::query($crate::store::usage::sql::DROP_HOURLY)
                    .bind(hourly)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let mut expired = ::sqlx::query($crate::store::usage::sql::EXPIRE_COUNTS)
                    .bind(expire)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                expired += ::sqlx::query($crate::store::usage::sql::EXPIRE_SKETCHES)
                    .bind(expire)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok($crate::domain::analytics::RollUp { rolled_up, expired })
            }

            async fn usage_footprint(
                &self,
            ) -> ::std::result::Result<
                $crate::domain::analytics::UsageFootprint,
                $crate::store::StoreError,
            > {
                Ok(::sqlx::query_as::<_, $crate::store::usage::DbFootprint>(
                    $crate::store::usage::sql::FOOTPRINT,
                )
                .fetch_one(&self.pool)
                .await?
                .into())
            }
        }
    };
}
pub(in crate::store) use sql_usage_store;
