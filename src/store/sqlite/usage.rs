//! The analytics tables on SQLite.

use super::SqliteStore;

crate::store::usage::sql_usage_store!(SqliteStore, sqlx::Sqlite, None::<&str>);
