//! Pure update logic: no HTTP, no SQL.

pub mod analytics;
pub mod artifact;
pub mod audit;
pub mod catalog;
pub mod job;
pub mod keys;
pub mod model;
pub mod platform;
pub mod publish;
pub mod register;
pub mod rollout;
pub mod signing;
pub mod validate;
mod version;
pub mod webhook;

pub use artifact::{Artifact, ArtifactKind};
pub use catalog::{
    ApplicationStats, Catalog, Change, Latest, Offer, Page, ReleaseFilter, ReleaseSortField,
    UpdateDecision, UpdateQuery, channels_followed,
};
pub use model::{Application, ApplicationConfig, ChecksumType, Release, ReleaseKey};
pub use platform::{
    DEFAULT_CHANNEL, Target, UNIVERSAL, normalize_architecture, normalize_channel,
    normalize_platform, parse_architecture, parse_channel, parse_platform, parse_target, runs_on,
    served_by_universal,
};
pub use rollout::Rollout;
pub use version::parse_version;

/// The current time at the precision the stores keep (microseconds), so a
/// timestamp reads back exactly as it was first returned.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}
