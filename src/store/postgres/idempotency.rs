//! Idempotency records on PostgreSQL, shared by every replica.

use super::PostgresStore;

crate::store::idempotency::sql_idempotency_store!(PostgresStore);
