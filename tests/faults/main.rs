//! Fault injection against the real binary: a replica killed under load and
//! a rolling restart behind nginx fail no update check; acknowledged writes
//! survive a replica or the database dying (PostgreSQL) and `kill -9` during
//! a write burst (SQLite).
//!
//! nginx comes from Debian's `nginx` package (`/usr/sbin/nginx`), run as a
//! child with a private prefix; PostgreSQL from `PgCluster`. Without them the
//! tests print SKIPPED and pass, unless `CI=true`, where they fail.

#[path = "../common/mod.rs"]
mod common;

mod cluster;
mod load;
mod nginx;
mod restarts;
mod writes;

use std::time::Duration;

const NGINX: &str = "/usr/sbin/nginx";
const APP: &str = "demo";
/// The release every update check through nginx must be offered.
const LATEST: &str = "1.5.0";
/// Bounds how long a broken build may hang; propagation takes milliseconds.
const EVENTUALLY: Duration = Duration::from_secs(15);
