//! What every handler shares: settings, the catalog, the key table, limits,
//! health and the artifact downloader, behind one `Arc`.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Context;
use metrics_exporter_prometheus::PrometheusHandle;
use parking_lot::Mutex;

use crate::access::{ApiKeys, AuthLockout, ClientIpResolver, Pepper, RequestLimiter, SessionStore};
use crate::analytics::Analytics;
use crate::config::Settings;
use crate::registry::Registry;
use crate::verify::Downloader;

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub settings: Settings,
    pub registry: Arc<Registry>,
    pub keys: ApiKeys,
    pub client_ips: ClientIpResolver,
    pub request_limiter: Option<RequestLimiter>,
    pub lockout: AuthLockout,
    /// The same budgets as per IP, per managed key id.
    pub key_limiter: Option<RequestLimiter<String>>,
    pub key_lockout: AuthLockout<String>,
    pub health: HealthState,
    pub metrics: Option<PrometheusHandle>,
    pub downloader: Downloader,
    pub analytics: Arc<Analytics>,
    /// Console sign-ins of this replica (empty unless `console.enabled`).
    pub console_sessions: SessionStore,
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(
        settings: Settings,
        registry: Registry,
        metrics: Option<PrometheusHandle>,
    ) -> anyhow::Result<Self> {
        let security = &settings.security;
        let downloader = Downloader::new(
            &security.artifact_verification,
            security.allow_http_download_urls,
        )
        .context("building the artifact verification client")?;
        let registry = Arc::new(registry);
        Ok(Self(Arc::new(Shared {
            analytics: Arc::new(Analytics::new(&settings.analytics, registry.clone())),
            console_sessions: SessionStore::new(&settings.console),
            downloader,
            keys: ApiKeys::new(
                &security.api_keys,
                Pepper::resolve(&settings).context("resolving the key pepper")?,
            ),
            key_limiter: RequestLimiter::new(&security.rate_limit),
            key_lockout: AuthLockout::new(&security.auth_failure_limit),
            client_ips: ClientIpResolver::new(&security.trusted_proxies),
            request_limiter: RequestLimiter::new(&security.rate_limit),
            lockout: AuthLockout::new(&security.auth_failure_limit),
            health: HealthState::new(),
            metrics: metrics.filter(|_| settings.metrics.enabled),
            registry,
            settings,
        })))
    }
}

/// What liveness and readiness report, kept current by a background task so
/// probes never wait on the store.
pub struct HealthState {
    pub started: Instant,
    draining: AtomicBool,
    store: Mutex<StoreStatus>,
}

#[derive(Debug, Clone)]
pub struct StoreStatus {
    pub reachable: bool,
    pub message: String,
    pub checked_at: chrono::DateTime<chrono::Utc>,
}

impl HealthState {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            draining: AtomicBool::new(false),
            store: Mutex::new(StoreStatus {
                reachable: true,
                message: "opened".into(),
                checked_at: chrono::Utc::now(),
            }),
        }
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn store_status(&self) -> StoreStatus {
        self.store.lock().clone()
    }

    pub fn set_store_status(&self, reachable: bool, message: String) {
        *self.store.lock() = StoreStatus {
            reachable,
            message,
            checked_at: chrono::Utc::now(),
        };
    }
}
