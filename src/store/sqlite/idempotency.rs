//! Idempotency records on SQLite.

use super::SqliteStore;

crate::store::idempotency::sql_idempotency_store!(SqliteStore);
