//! Start-up: open the store, build the catalog, serve until a shutdown
//! signal, drain, close.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

use crate::config::{Settings, StorageType};
use crate::http::AppState;
use crate::registry::Registry;
use crate::server::{self, ServeOptions};
use crate::store::{
    IDEMPOTENCY_RETENTION, MemoryStore, PostgresStore, SqliteStore, Store, StoreEvent,
};

const STORE_PING_INTERVAL: Duration = Duration::from_secs(5);
const RESYNC_RETRY: Duration = Duration::from_secs(1);
const STORE_PING_TIMEOUT: Duration = Duration::from_secs(2);
const LIMITER_CLEANUP_INTERVAL: Duration = Duration::from_secs(60);
/// How often managed keys are reloaded from the store: the propagation
/// bound for keys changed by `updater keys` beside a SQLite file, and a
/// backstop for PostgreSQL's notifications.
const KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(5);
const LAST_USED_FLUSH_INTERVAL: Duration = Duration::from_secs(30);
const PRUNE_INTERVAL: Duration = Duration::from_secs(3600);
/// How long a finished publish job stays readable.
const JOB_RETENTION: Duration = Duration::from_secs(24 * 3600);

pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let storage = &settings.storage;
    Ok(match storage.kind {
        StorageType::Memory => Arc::new(MemoryStore::new()),
        StorageType::Postgres => Arc::new(PostgresStore::open(&storage.postgres).await?),
        StorageType::Sqlite => {
            create_private_dir(&storage.data_dir).with_context(|| {
                format!("creating data directory {}", storage.data_dir.display())
            })?;
            Arc::new(SqliteStore::open(&storage.sqlite_path(), storage.sqlite.busy_timeout).await?)
        }
    })
}

fn create_private_dir(path: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// Serves on `listener` until `shutdown` resolves, then drains: readiness
/// turns 503, `drain_delay` passes, the listener closes, in-flight requests
/// finish within `shutdown_timeout`, the store closes.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    metrics: Option<PrometheusHandle>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = open_store(&settings).await?;
    let registry = Registry::open(store)
        .await
        .context("loading the catalog from the store")?;
    let tls = match settings.server.tls.enabled() {
        true => Some(server::tls_acceptor(&settings.server.tls)?),
        false => None,
    };
    let options = ServeOptions::from_settings(&settings.server, tls);
    let state = AppState::new(settings, registry, metrics)?;
    reload_keys(&state)
        .await
        .context("loading managed API keys from the store")?;
    state
        .analytics
        .load_secret()
        .await
        .context("loading the analytics secret from the store")?;
    let analytics = state.analytics.spawn();
    let background = spawn_background(state.clone());
    let probe = spawn_store_probe(state.clone());
    let deliveries =
        crate::webhooks::spawn_delivery(state.registry.clone(), &state.settings.webhooks)?;
    let changes = spawn_change_feed(state.clone());
    let router = crate::http::build_router(state.clone());

    tracing::info!(
        address = %listener.local_addr()?,
        tls = options.tls.is_some(),
        store = state.registry.store().kind(),
        applications = state.registry.read(|c| c.applications(0, 0).total),
        "updater listening"
    );
    let drain_state = state.clone();
    let drain_delay = state.settings.server.drain_delay;
    let stop_accepting = async move {
        shutdown.await;
        drain_state.health.start_draining();
        tracing::info!(drain_delay = ?drain_delay, "shutdown requested: readiness is now 503");
        tokio::time::sleep(drain_delay).await;
    };
    server::serve(listener, router, options, stop_accepting).await;
    background.abort();
    probe.abort();
    changes.abort();
    deliveries.abort();
    state.analytics.stop();
    let _ = analytics.await;
    flush_last_used(&state).await;
    if let Err(e) = state.analytics.flush().await {
        tracing::warn!(error = %e, "writing the last analytics counts failed");
    }
    state.registry.store().close().await;
    tracing::info!("shutdown complete");
    Ok(())
}

/// Keeps the in-memory catalog in step with writes made by other replicas
/// (PostgreSQL); ends at once for stores with a single writer.
fn spawn_change_feed(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(event) = state.registry.store().next_event().await {
            match event {
                StoreEvent::Changed(change) => {
                    metrics::counter!("updater_replica_changes_total").increment(1);
                    state.registry.apply_remote(*change).await;
                }
                StoreEvent::KeysChanged => {
                    if let Err(e) = reload_keys(&state).await {
                        tracing::warn!(error = %e, "reloading managed keys failed; the next refresh retries");
                    }
                }
                StoreEvent::Resync => loop {
                    match state.registry.resync().await {
                        Ok(()) => {
                            let _ = reload_keys(&state).await;
                            metrics::counter!("updater_catalog_resyncs_total").increment(1);
                            tracing::info!("catalog reloaded from the store");
                            break;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "reloading the catalog failed; retrying");
                            tokio::time::sleep(RESYNC_RETRY).await;
                        }
                    }
                },
            }
        }
    })
}

/// Readiness and the write breaker follow this probe, so it runs on its own:
/// a key reload waiting out the pool's acquire timeout must not delay it.
fn spawn_store_probe(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ping = tokio::time::interval(STORE_PING_INTERVAL);
        loop {
            ping.tick().await;
            let result =
                tokio::time::timeout(STORE_PING_TIMEOUT, state.registry.store().ping()).await;
            state.registry.store_answered(matches!(result, Ok(Ok(()))));
            match result {
                Ok(Ok(())) => state.health.set_store_status(true, "reachable".into()),
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "store ping failed");
                    metrics::counter!("updater_store_errors_total", "operation" => "ping")
                        .increment(1);
                    state
                        .health
                        .set_store_status(false, "store ping failed".into());
                }
                Err(_) => {
                    tracing::error!("store ping timed out");
                    metrics::counter!("updater_store_errors_total", "operation" => "ping")
                        .increment(1);
                    state
                        .health
                        .set_store_status(false, "store ping timed out".into());
                }
            }
        }
    })
}

fn spawn_background(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut cleanup = tokio::time::interval(LIMITER_CLEANUP_INTERVAL);
        let mut key_refresh = tokio::time::interval(KEY_REFRESH_INTERVAL);
        let mut last_used = tokio::time::interval(LAST_USED_FLUSH_INTERVAL);
        let mut prune = tokio::time::interval(PRUNE_INTERVAL);
        loop {
            tokio::select! {
                _ = key_refresh.tick() => {
                    if let Err(e) = reload_keys(&state).await {
                        tracing::warn!(error = %e, "reloading managed keys failed");
                    }
                }
                _ = last_used.tick() => flush_last_used(&state).await,
                _ = prune.tick() => {
                    prune_audit(&state).await;
                    prune_jobs(&state).await;
                    prune_idempotency(&state).await;
                }
                _ = cleanup.tick() => {
                    if let Some(limiter) = &state.request_limiter {
                        limiter.forget_idle();
                    }
                    state.lockout.forget_idle();
                    state.key_lockout.forget_idle();
                    if let Some(limiter) = &state.key_limiter {
                        limiter.forget_idle();
                    }
                }
            }
        }
    })
}

async fn reload_keys(state: &AppState) -> Result<(), crate::store::StoreError> {
    state
        .keys
        .reload(state.registry.store(), STORE_PING_TIMEOUT)
        .await
}

/// Writes the keys' last-used times gathered since the last flush; a failed
/// flush loses only those times, never a request.
async fn flush_last_used(state: &AppState) {
    let used = state.keys.take_last_used();
    if used.is_empty() {
        return;
    }
    let flush = state.registry.store().touch_keys(&used);
    match tokio::time::timeout(STORE_PING_TIMEOUT, flush).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "recording keys' last use failed"),
        Err(_) => tracing::warn!("recording keys' last use timed out"),
    }
}

async fn prune_audit(state: &AppState) {
    let retention =
        chrono::Duration::from_std(state.settings.audit.retention).unwrap_or(chrono::Duration::MAX);
    let before = chrono::Utc::now() - retention;
    match state.registry.store().prune(before).await {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "pruned audit entries past their retention"),
        Err(e) => tracing::warn!(error = %e, "pruning the audit log failed"),
    }
}

async fn prune_jobs(state: &AppState) {
    let before = chrono::Utc::now() - chrono::Duration::from_std(JOB_RETENTION).unwrap_or_default();
    match state.registry.store().prune_jobs(before).await {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "pruned finished publish jobs"),
        Err(e) => tracing::warn!(error = %e, "pruning publish jobs failed"),
    }
}

async fn prune_idempotency(state: &AppState) {
    let retention = chrono::Duration::from_std(IDEMPOTENCY_RETENTION).unwrap_or_default();
    let before = chrono::Utc::now() - retention;
    match state.registry.store().prune_idempotency(before).await {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "pruned idempotency records past 24 hours"),
        Err(e) => tracing::warn!(error = %e, "pruning idempotency records failed"),
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
