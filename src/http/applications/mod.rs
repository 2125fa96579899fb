//! Applications: listing and reading (read), creating (write), changing and
//! deleting (admin).

mod read;
mod write;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use std::collections::BTreeMap;

use crate::domain::ApplicationConfig;
use crate::domain::validate::ApplicationConfigDraft;
use crate::http::AppState;
use crate::http::body::{Fields, FromBody};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(read::list_applications, write::create_application))
        .routes(routes!(
            read::get_application,
            write::update_application,
            write::delete_application
        ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ApplicationSummary {
    id: String,
    name: String,
    description: String,
    platforms: Vec<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ApplicationStatsInfo {
    total_releases: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latest_release_date: Option<DateTime<Utc>>,
    platform_count: usize,
    required_releases: usize,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ApplicationInfo {
    id: String,
    name: String,
    description: String,
    platforms: Vec<String>,
    config: ApplicationConfigView,
    stats: ApplicationStatsInfo,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// Per-application update policy. Unlike the Go service, these fields drive
/// behaviour: `allow_prerelease`, `min_version`, `max_version` and
/// `required_update` are applied by the update decision.
#[derive(Default, Serialize, utoipa::ToSchema)]
#[schema(as = ApplicationConfig)]
#[serde(default, deny_unknown_fields)]
pub struct ApplicationConfigView {
    update_check_url: String,
    auto_update: bool,
    /// Seconds between client checks: advisory, stored and returned with the application.
    update_interval: i64,
    /// Every offered update is mandatory.
    required_update: bool,
    /// Clients below this version are told their update is required.
    min_version: Option<String>,
    /// Releases above this version are never offered.
    max_version: Option<String>,
    /// Offer pre-releases to every client of this application.
    allow_prerelease: bool,
    custom_fields: BTreeMap<String, String>,
    notification_url: String,
    analytics_enabled: bool,
    /// The Tauri / cargo-packager updater public key, as `tauri.conf.json`
    /// holds it (base64 of the minisign public key file). When set, every
    /// file's minisign signature must match it at registration.
    tauri_public_key: Option<String>,
    /// Sparkle's `SUPublicEDKey` (base64 Ed25519). When set, every macOS
    /// archive needs an `ed_signature` made with it.
    sparkle_public_key: Option<String>,
    /// Download every file at registration and check its size, digests and
    /// signatures before accepting the release.
    verify_on_register: bool,
    /// Publish a public download page at `/download/{id}`: the newest stable,
    /// fully rolled-out release of each platform and an Atom feed.
    download_page: bool,
}

/// Every field may be left out: it then has its default.
impl FromBody for ApplicationConfigView {
    fn from_body(fields: &mut Fields<'_>) -> Self {
        let mut config = Self::default();
        macro_rules! read {
            ($($field:ident),*) => { $( if let Some(v) = fields.optional(stringify!($field)) { config.$field = v; } )* };
        }
        read!(
            update_check_url,
            auto_update,
            update_interval,
            required_update,
            allow_prerelease,
            custom_fields,
            notification_url,
            analytics_enabled,
            verify_on_register,
            download_page
        );
        config.min_version = fields.optional("min_version");
        config.max_version = fields.optional("max_version");
        config.tauri_public_key = fields.optional("tauri_public_key");
        config.sparkle_public_key = fields.optional("sparkle_public_key");
        config
    }
}

impl From<&ApplicationConfig> for ApplicationConfigView {
    fn from(config: &ApplicationConfig) -> Self {
        let draft = ApplicationConfigDraft::from(config);
        Self {
            update_check_url: draft.update_check_url,
            auto_update: draft.auto_update,
            update_interval: draft.update_interval,
            required_update: draft.required_update,
            min_version: draft.min_version,
            max_version: draft.max_version,
            allow_prerelease: draft.allow_prerelease,
            custom_fields: draft.custom_fields,
            notification_url: draft.notification_url,
            analytics_enabled: draft.analytics_enabled,
            tauri_public_key: draft.tauri_public_key,
            sparkle_public_key: draft.sparkle_public_key,
            verify_on_register: draft.verify_on_register,
            download_page: draft.download_page,
        }
    }
}

impl From<ApplicationConfigView> for ApplicationConfigDraft {
    fn from(config: ApplicationConfigView) -> Self {
        Self {
            update_check_url: config.update_check_url,
            auto_update: config.auto_update,
            update_interval: config.update_interval,
            required_update: config.required_update,
            min_version: config.min_version,
            max_version: config.max_version,
            allow_prerelease: config.allow_prerelease,
            custom_fields: config.custom_fields,
            notification_url: config.notification_url,
            analytics_enabled: config.analytics_enabled,
            tauri_public_key: config.tauri_public_key,
            sparkle_public_key: config.sparkle_public_key,
            verify_on_register: config.verify_on_register,
            download_page: config.download_page,
        }
    }
}
