//! The system under test: every path into the `updater` crate that test code
//! names, re-exported flat. When `src/` moves a module, only these lines change.
#![allow(
    unused_imports,
    reason = "only re-exports, and each test binary names a different subset"
)]

pub use updater::app::run as run_server;
pub use updater::config::{
    ApiKeySettings, ConfigError, Env, Environment, LoadOptions, Loaded, LogFormat, Permission,
    PostgresSettings, Secret, Settings, StorageType, load, load_server_only,
};
pub use updater::domain::validate::FieldErrors;
pub use updater::domain::{
    Application, ApplicationConfig, Artifact, ArtifactKind, Catalog, Change, Latest, Release,
    ReleaseKey, Rollout, Target, UpdateDecision, UpdateQuery, parse_architecture, parse_channel,
    parse_platform, parse_target, parse_version,
};
pub use updater::http::error::panic_response;
pub use updater::http::{AppState, build_router, openapi};
pub use updater::registry::Registry;
pub use updater::store::{Journal, MemoryStore, PostgresStore, SqliteStore, Store, StoreError};
pub use updater::telemetry::metrics_handle;

/// The journal a direct store write in a test records: a CLI-made change.
pub fn journal() -> Journal {
    use updater::domain::audit::{AuditRecord, Origin};
    Journal::new(AuditRecord::new(&Origin::cli(), "test.write", "test"))
}

pub use updater::domain::analytics::{
    CountRow, Granularity, InstallSketch, Outcome, SKETCH_RELATIVE_ERROR, Series, SketchRow,
    UsageBatch, UsageFootprint, install_hash,
};
pub use updater::domain::audit::{Actor, ActorKind, AuditQuery, AuditRecord, Changes, Origin};
pub use updater::domain::job::{Job, JobStatus};
pub use updater::domain::keys::{ManagedKey, Token};
pub use updater::domain::rollout::bucket as rollout_bucket;
pub use updater::domain::webhook::{DeliveryAttempt, Event, NextStep, Webhook};
pub use updater::store::UsageStore;
pub use updater::store::{ClaimOutcome, IdempotencyClaim, IdempotencyStore, StoredResponse};
