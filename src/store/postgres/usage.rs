//! The analytics tables on PostgreSQL.

use super::PostgresStore;

// Replicas roll up on their own clocks: one at a time (an advisory lock
// keyed "usage" in ASCII), or two would both fold the same hourly rows in
// before either deletes them.
crate::store::usage::sql_usage_store!(
    PostgresStore,
    sqlx::Postgres,
    Some("SELECT pg_advisory_xact_lock(504446936933)")
);
