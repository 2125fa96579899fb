//! Who the client is (its IP, behind trusted proxies only), per-IP request
//! rate limits, and the lock-out after repeated failed authentications.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;
use parking_lot::Mutex;

use super::error::ApiError;
use crate::app::AppState;
use crate::config::{AuthFailureLimitSettings, RateLimitSettings};

/// The client address used for rate limits and logs.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

pub struct ClientIpResolver {
    trusted: Vec<IpNet>,
}

impl ClientIpResolver {
    /// `proxies` are validated IPs or CIDR ranges.
    pub fn new(proxies: &[String]) -> Self {
        let trusted = proxies
            .iter()
            .filter_map(|p| {
                p.parse::<IpNet>()
                    .ok()
                    .or_else(|| p.parse::<IpAddr>().ok().map(IpNet::from))
            })
            .collect();
        Self { trusted }
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// The peer, unless the peer is a trusted proxy: then the rightmost
    /// `X-Forwarded-For` entry that is not itself a trusted proxy. Entries to
    /// the left of that one are client-supplied and never believed.
    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.is_trusted(peer) {
            return peer;
        }
        let entries = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        let mut client = peer;
        for entry in entries.iter().rev() {
            match entry.parse::<IpAddr>() {
                Ok(ip) if self.is_trusted(ip) => client = ip,
                Ok(ip) => return ip,
                Err(_) => return client,
            }
        }
        client
    }
}

fn wait_time(not_until: &governor::NotUntil<<DefaultClock as Clock>::Instant>) -> Duration {
    not_until.wait_time_from(DefaultClock::default().now())
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    let rate = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(rate).allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
}

pub struct RequestLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl RequestLimiter {
    pub fn new(settings: &RateLimitSettings) -> Option<Self> {
        settings.enabled.then(|| Self {
            limiter: RateLimiter::keyed(quota(settings.requests_per_minute, settings.burst)),
        })
    }

    fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        self.limiter.check_key(&ip).map_err(|nu| wait_time(&nu))
    }

    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
    }
}

pub struct AuthLockout {
    failures: DefaultKeyedRateLimiter<IpAddr>,
    locked_until: Mutex<HashMap<IpAddr, Instant>>,
    lockout: Duration,
}

impl AuthLockout {
    pub fn new(settings: &AuthFailureLimitSettings) -> Self {
        Self {
            failures: RateLimiter::keyed(quota(
                settings.failures_per_minute,
                settings.failures_per_minute,
            )),
            locked_until: Mutex::new(HashMap::new()),
            lockout: settings.lockout,
        }
    }

    pub fn locked_for(&self, ip: IpAddr) -> Option<Duration> {
        let until = *self.locked_until.lock().get(&ip)?;
        until.checked_duration_since(Instant::now())
    }

    /// Counts a failure; returns the lock-out when this one exceeds the budget.
    pub fn record_failure(&self, ip: IpAddr) -> Option<Duration> {
        self.failures.check_key(&ip).err()?;
        self.locked_until
            .lock()
            .insert(ip, Instant::now() + self.lockout);
        Some(self.lockout)
    }

    pub fn forget_idle(&self) {
        self.failures.retain_recent();
        let now = Instant::now();
        self.locked_until.lock().retain(|_, until| *until > now);
    }
}

fn is_probe(path: &str) -> bool {
    matches!(path, "/health" | "/health/ready" | "/api/v1/health")
}

/// Resolves the client IP for everything after it (logs, limits, auth).
pub async fn client_ip(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let ip = state.client_ips.resolve(peer, request.headers());
    request.extensions_mut().insert(ClientIp(ip));
    next.run(request).await
}

/// The per-IP request limit. Probes are exempt, so a busy client cannot fail them.
/// Cuts a request off after `server.request_timeout` with a 408. Registering
/// a release may also download its files to verify them, so it gets the
/// verification deadline on top.
pub async fn request_deadline(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut limit = state.settings.server.request_timeout;
    if request.method() == axum::http::Method::POST && request.uri().path().ends_with("/register") {
        limit += state.settings.security.artifact_verification.timeout;
    }
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => axum::http::StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// While draining, every response asks the client (or proxy) to close its
/// connection, so nothing is sent on a keep-alive connection that is about
/// to close.
pub async fn close_when_draining(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if state.health.is_draining() {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

pub async fn rate_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let (Some(limiter), Some(ClientIp(ip))) = (
        &state.request_limiter,
        request.extensions().get::<ClientIp>(),
    ) && !is_probe(request.uri().path())
        && let Err(wait) = limiter.check(*ip)
    {
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        return ApiError::too_many_requests(seconds).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_peers() {
        let resolver = ClientIpResolver::new(&["10.0.0.0/8".into()]);
        let untrusted: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(resolver.resolve(untrusted, &headers("1.2.3.4")), untrusted);
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(
            resolver.resolve(proxy, &headers("6.6.6.6, 198.51.100.7, 10.0.0.1")),
            "198.51.100.7".parse::<IpAddr>().unwrap(),
            "the rightmost untrusted entry, not the spoofable leftmost"
        );
        assert_eq!(resolver.resolve(proxy, &HeaderMap::new()), proxy);
        assert_eq!(resolver.resolve(proxy, &headers("garbage")), proxy);
    }

    #[test]
    fn lockout_after_budget() {
        let lockout = AuthLockout::new(&AuthFailureLimitSettings {
            failures_per_minute: 3,
            lockout: Duration::from_secs(30),
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert!(lockout.record_failure(ip).is_none());
        }
        assert!(lockout.record_failure(ip).is_some());
        assert!(lockout.locked_for(ip).is_some());
        assert!(lockout.locked_for("192.0.2.2".parse().unwrap()).is_none());
    }
}
