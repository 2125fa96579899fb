//! The production server in this process: `test_settings`, the router over a
//! memory store driven without sockets (`router_with`, behind `TestApp`),
//! and `LiveServer`, the whole server on a real loopback port.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Request};

use super::fixtures::{ADMIN_KEY, MONITOR_KEY, READ_KEY, WRITE_KEY};
use super::sut::{
    ApiKeySettings, AppState, MemoryStore, Permission, Registry, Secret, Settings, StorageType,
    build_router, metrics_handle, run_server,
};

fn key(name: &str, key: &str, permission: Permission) -> ApiKeySettings {
    ApiKeySettings {
        name: name.into(),
        key: Secret::new(key),
        key_hash: String::new(),
        permissions: vec![permission],
    }
}

/// Settings for tests: memory store, the four test keys, no rate limit.
pub fn test_settings() -> Settings {
    let mut settings = Settings::default();
    settings.storage.kind = StorageType::Memory;
    settings.server.port = 0;
    settings.security.rate_limit.enabled = false;
    settings.security.auth_failure_limit.failures_per_minute = 10_000;
    settings.security.api_keys = vec![
        key("admin", ADMIN_KEY, Permission::Admin),
        key("publisher", WRITE_KEY, Permission::Write),
        key("reader", READ_KEY, Permission::Read),
        key("monitoring", MONITOR_KEY, Permission::Monitor),
    ];
    settings
}

/// The production router over a memory store, driven without sockets; every
/// request appears to come from 127.0.0.1.
pub async fn router_with(settings: Settings) -> Router {
    let registry = Registry::open(Arc::new(MemoryStore::new())).await.unwrap();
    let state = AppState::new(settings, registry, Some(metrics_handle())).unwrap();
    build_router(state).layer(axum::middleware::map_request(from_loopback))
}

/// The `ConnectInfo` a socket would give, unless the test set its own: the
/// client-IP layer reads that extension (axum's `MockConnectInfo` only
/// feeds the extractor).
async fn from_loopback(mut request: Request) -> Request {
    if request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_none()
    {
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    }
    request
}

/// The server in-process on a real ephemeral port.
pub struct LiveServer {
    pub base: String,
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl LiveServer {
    pub async fn start(settings: Settings) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(run_server(settings, listener, None, async move {
            let _ = stopped.await;
        }));
        Self {
            base: format!("http://{addr}"),
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}
