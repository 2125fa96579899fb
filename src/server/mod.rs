//! The accept loop, written on hyper-util rather than `axum::serve` because
//! axum 0.8 has no header-read timeout (slowloris), no connection limit and
//! no TLS; hyper-util's graceful shutdown gives the drain. [`activity`]
//! adds the deadlines hyper lacks.

mod activity;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::config::{ServerSettings, TlsSettings};

use activity::{Activity, TrackedBody};

const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP/2 keep-alive: a peer that stops answering pings while it holds
/// streams open is dropped after interval + timeout.
const HTTP2_PING_INTERVAL: Duration = Duration::from_secs(20);
const HTTP2_PING_TIMEOUT: Duration = Duration::from_secs(10);

pub struct ServeOptions {
    pub tls: Option<TlsAcceptor>,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub http2_max_concurrent_streams: u32,
    pub max_header_bytes: usize,
    pub max_connections: usize,
    pub shutdown_timeout: Duration,
}

impl ServeOptions {
    pub fn from_settings(server: &ServerSettings, tls: Option<TlsAcceptor>) -> Self {
        Self {
            tls,
            header_read_timeout: server.header_read_timeout,
            idle_timeout: server.idle_timeout,
            http2_max_concurrent_streams: server.http2_max_concurrent_streams,
            max_header_bytes: server.max_header_bytes,
            max_connections: server.max_connections,
            shutdown_timeout: server.shutdown_timeout,
        }
    }
}

pub fn install_crypto_provider() {
    // Fails only when a provider is already installed, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub fn tls_acceptor(tls: &TlsSettings) -> anyhow::Result<TlsAcceptor> {
    install_crypto_provider();
    let certs = CertificateDer::pem_file_iter(&tls.cert_file)
        .with_context(|| format!("reading certificates from {}", tls.cert_file))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing certificates in {}", tls.cert_file))?;
    let key = PrivateKeyDer::from_pem_file(&tls.key_file)
        .with_context(|| format!("reading the private key from {}", tls.key_file))?;
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("building the TLS configuration")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts connections until `stop_accepting` resolves, then waits up to
/// `shutdown_timeout` for open connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    stop_accepting: impl Future<Output = ()> + Send + 'static,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .max_buf_size(options.max_header_bytes);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(options.http2_max_concurrent_streams)
        .keep_alive_interval(Some(HTTP2_PING_INTERVAL))
        .keep_alive_timeout(HTTP2_PING_TIMEOUT)
        .max_header_list_size(u32::try_from(options.max_header_bytes).unwrap_or(u32::MAX));
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(options.max_connections));
    tokio::pin!(stop_accepting);

    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => permit.expect("semaphore is never closed"),
            () = &mut stop_accepting => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop_accepting => break,
        };
        spawn_connection(
            stream,
            peer,
            Some(permit),
            &router,
            &builder,
            &graceful,
            &options,
        );
    }
    // Connections the kernel has already completed would be reset when the
    // listener closes, after a proxy may have sent a request it must not
    // retry (a POST). Serve them; only later arrivals are refused, before
    // anything is sent, which a proxy retries safely.
    let mut late = 0;
    while let Ok(Ok((stream, peer))) = tokio::time::timeout(Duration::ZERO, listener.accept()).await
    {
        let permit = Arc::clone(&slots).try_acquire_owned().ok();
        spawn_connection(stream, peer, permit, &router, &builder, &graceful, &options);
        late += 1;
    }
    drop(listener);
    if late > 0 {
        // A graceful shutdown closes a connection whose first request has
        // not been read yet; give these connections that first read.
        tokio::time::sleep(LATE_CONNECTION_GRACE).await;
    }
    tracing::info!("listener closed; waiting for in-flight requests");
    match tokio::time::timeout(options.shutdown_timeout, graceful.shutdown()).await {
        Ok(()) => tracing::info!("all connections finished"),
        Err(_) => {
            tracing::warn!(timeout = ?options.shutdown_timeout, "shutdown deadline reached; closing remaining connections")
        }
    }
}

type ConnectionBuilder = auto::Builder<TokioExecutor>;

const LATE_CONNECTION_GRACE: Duration = Duration::from_millis(200);

fn spawn_connection(
    stream: TcpStream,
    peer: SocketAddr,
    permit: Option<OwnedSemaphorePermit>,
    router: &Router,
    builder: &Arc<ConnectionBuilder>,
    graceful: &GracefulShutdown,
    options: &ServeOptions,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new(
        options.header_read_timeout,
        options.idle_timeout,
    ));
    let service = {
        let activity = Arc::clone(&activity);
        let router = router.clone();
        tower::service_fn(move |mut request: axum::http::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let in_flight = activity.request_started();
            let response = router.clone().oneshot(request);
            async move {
                let response = response.await?;
                Ok::<_, Infallible>(response.map(|body| TrackedBody::wrap(body, in_flight)))
            }
        })
    };
    let service = TowerToHyperService::new(service);
    let builder = Arc::clone(builder);
    let watcher = graceful.watcher();
    let tls = options.tls.clone();
    tokio::spawn(async move {
        let _permit = permit;
        let serve = async {
            match tls {
                None => {
                    let connection =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    log_connection_end(watcher.watch(connection.into_owned()).await, peer);
                }
                Some(acceptor) => {
                    let Some(tls_stream) = tls_handshake(&acceptor, stream, peer).await else {
                        return;
                    };
                    let connection =
                        builder.serve_connection_with_upgrades(TokioIo::new(tls_stream), service);
                    log_connection_end(watcher.watch(connection.into_owned()).await, peer);
                }
            }
        };
        tokio::select! {
            () = serve => {}
            () = activity.expired() => tracing::debug!(%peer, "closed a connection with no request in flight"),
        }
    });
}

async fn tls_handshake(
    acceptor: &TlsAcceptor,
    stream: TcpStream,
    peer: SocketAddr,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            None
        }
    }
}

fn log_connection_end(
    result: Result<(), Box<dyn std::error::Error + Send + Sync>>,
    peer: SocketAddr,
) {
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}
