//! The authentication extractors: the bearer key checked against
//! [`crate::access::ApiKeys`], the needed permission, the application scope,
//! the lock-outs and rate limit per IP and per key, and the log line, counter
//! and (for a real managed key) audit entry of every failure.

use std::marker::PhantomData;
use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::error::{ApiError, current_request_id};
use super::limits::ClientIp;
use super::state::AppState;
use crate::access::{ApiKeys, AuthFailure, KeyHandle, Principal, Refusal};
use crate::config::Permission;
use crate::domain::audit::{Actor, AuditRecord, Changes, Origin};

fn client_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ClientIp>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0)
}

fn route(parts: &Parts) -> &str {
    parts
        .extensions
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
}

/// An authenticated request: the key's principal and where the request came from.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub origin: Origin,
    route: String,
}

impl Caller {
    pub(in crate::http) fn new(principal: Principal, parts: &Parts) -> Self {
        let origin = Origin {
            actor: principal.actor(),
            client_ip: Some(client_ip(parts).to_string()),
            request_id: Some(current_request_id()).filter(|id| !id.is_empty()),
        };
        Self {
            principal,
            origin,
            route: route(parts).to_string(),
        }
    }

    pub fn name(&self) -> &str {
        &self.principal.name
    }

    /// 403 unless the key may act on `app_id`. The answer is the same
    /// whether the application exists or not, so a scoped key learns
    /// nothing about applications outside its scope.
    pub fn check_application(&self, state: &AppState, app_id: &str) -> Result<(), ApiError> {
        if self.principal.allows_application(app_id) {
            return Ok(());
        }
        self.denied(state, "application_scope", Some(app_id));
        Err(ApiError::forbidden(
            "This API key is not allowed for this application",
        ))
    }

    /// 403 (logged, counted, audited) unless the key has `needed`.
    pub(in crate::http) fn check_permission(
        &self,
        state: &AppState,
        needed: Permission,
    ) -> Result<(), ApiError> {
        if self.principal.allows(needed) {
            return Ok(());
        }
        self.denied(state, needed.as_str(), None);
        Err(ApiError::forbidden(
            "Insufficient permissions for this operation",
        ))
    }

    /// 403 unless the key is unscoped: managing keys, webhooks and reading
    /// the audit log span every application.
    pub(in crate::http) fn check_unscoped(&self, state: &AppState) -> Result<(), ApiError> {
        if !self.principal.is_scoped() {
            return Ok(());
        }
        self.denied(state, "scoped_key", None);
        Err(ApiError::forbidden(
            "This operation needs a key that is not limited to some applications",
        ))
    }

    fn denied(&self, state: &AppState, reason: &'static str, application_id: Option<&str>) {
        tracing::warn!(
            event = "permission_denied",
            key_name = %self.principal.name,
            key_id = self.principal.key_id.as_deref().unwrap_or(""),
            reason,
            route = %self.route,
            client_ip = self.origin.client_ip.as_deref().unwrap_or(""),
            "API key lacks the permission for this operation"
        );
        metrics::counter!("updater_auth_failures_total", "reason" => "forbidden").increment(1);
        if self.principal.key_id.is_some() {
            let mut record = AuditRecord::new(&self.origin, "auth.denied", self.route.clone())
                .changes(Changes::default().field("reason", None::<&str>, Some(reason)));
            record.application_id = application_id.map(str::to_string);
            spawn_audit(state, record);
        }
    }
}

/// Failed authentications are audited off the request path; the lock-outs
/// bound how many a client can cause.
fn spawn_audit(state: &AppState, record: AuditRecord) {
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = state.registry.store().record_audit(&record).await {
            tracing::warn!(error = %e, action = record.action, "writing an audit entry failed");
        }
    });
}

/// Checks the bearer key and the needed permission; logs and counts failures.
pub fn require(parts: &Parts, state: &AppState, needed: Permission) -> Result<Caller, ApiError> {
    let caller = Caller::new(identify(parts, state)?, parts);
    caller.check_permission(state, needed)?;
    Ok(caller)
}

/// A valid key if one is presented; public endpoints use this to add detail.
pub fn optional(parts: &Parts, state: &AppState) -> Option<Principal> {
    if !parts.headers.contains_key(header::AUTHORIZATION) {
        return None;
    }
    identify(parts, state).ok()
}

fn identify(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    let authorization = parts.headers.get(header::AUTHORIZATION);
    authenticate_with(parts, state, |keys| keys.authenticate(authorization))
        .map(|(principal, _)| principal)
}

/// A key typed into the console's sign-in form, under the same lock-outs,
/// rate limits, logs and audit entries as a bearer key.
pub fn authenticate_key(
    parts: &Parts,
    state: &AppState,
    token: &str,
) -> Result<(Principal, KeyHandle), ApiError> {
    authenticate_with(parts, state, |keys| keys.authenticate_token(token))
}

fn authenticate_with(
    parts: &Parts,
    state: &AppState,
    attempt: impl FnOnce(&ApiKeys) -> Result<(Principal, KeyHandle), AuthFailure>,
) -> Result<(Principal, KeyHandle), ApiError> {
    let ip = client_ip(parts);
    if let Some(wait) = state.lockout.locked_for(&ip) {
        return Err(ApiError::too_many_requests(wait.as_secs().max(1)));
    }
    let failure = match attempt(&state.keys) {
        Ok(found) => {
            admit(state, &found.0)?;
            return Ok(found);
        }
        Err(failure) => failure,
    };
    let (reason, message) = match &failure {
        AuthFailure::Missing => ("missing", "Authorization required"),
        AuthFailure::Malformed => (
            "malformed",
            "Invalid authorization format; use `Authorization: Bearer <key>`",
        ),
        AuthFailure::Unknown
        | AuthFailure::Refused {
            status: Refusal::WrongSecret,
            ..
        } => ("invalid_key", "Invalid API key"),
        AuthFailure::Refused {
            status: Refusal::Expired,
            ..
        } => ("expired_key", "This API key has expired"),
        AuthFailure::Refused {
            status: Refusal::Revoked,
            ..
        } => ("revoked_key", "This API key has been revoked"),
    };
    tracing::warn!(event = "auth_failure", reason, route = route(parts), client_ip = %ip, "authentication failed");
    metrics::counter!("updater_auth_failures_total", "reason" => reason).increment(1);
    if let AuthFailure::Refused { key, status } = &failure {
        refused_key(parts, state, ip, key, *status)?;
    }
    if !matches!(failure, AuthFailure::Missing)
        && let Some(wait) = state.lockout.record_failure(&ip)
    {
        tracing::warn!(event = "auth_lockout", client_ip = %ip, seconds = wait.as_secs(), "too many failed authentications");
        return Err(ApiError::too_many_requests(wait.as_secs().max(1)));
    }
    Err(ApiError::unauthorized(message))
}

/// A managed key that authenticated still answers to its own lock-out and
/// rate limit, so one key cannot use up what an IP allows others.
fn admit(state: &AppState, principal: &Principal) -> Result<(), ApiError> {
    let Some(id) = &principal.key_id else {
        return Ok(());
    };
    if let Some(wait) = state.key_lockout.locked_for(id) {
        return Err(ApiError::too_many_requests(wait.as_secs().max(1)));
    }
    if let Some(limiter) = &state.key_limiter
        && let Err(wait) = limiter.check(id)
    {
        metrics::counter!("updater_rate_limited_total", "scope" => "key").increment(1);
        return Err(ApiError::too_many_requests(wait.as_secs().max(1)));
    }
    Ok(())
}

/// A real managed key was presented wrongly (or is no longer valid): audit
/// it and count it against the key as well as the IP.
fn refused_key(
    parts: &Parts,
    state: &AppState,
    ip: IpAddr,
    key: &Actor,
    status: Refusal,
) -> Result<(), ApiError> {
    let origin = Origin {
        actor: key.clone(),
        client_ip: Some(ip.to_string()),
        request_id: Some(current_request_id()).filter(|id| !id.is_empty()),
    };
    let id = key.key_id.clone().unwrap_or_default();
    // A locked key answers before anything is written, so attempts from
    // many addresses cannot flood the audit log.
    if let Some(wait) = state.key_lockout.locked_for(&id) {
        return Err(ApiError::too_many_requests(wait.as_secs().max(1)));
    }
    let record = AuditRecord::new(&origin, "auth.failed", route(parts).to_string())
        .changes(Changes::default().field("reason", None::<&str>, Some(status.as_str())));
    spawn_audit(state, record);
    if let Some(wait) = state.key_lockout.record_failure(&id) {
        tracing::warn!(event = "auth_lockout", key_id = %id, seconds = wait.as_secs(), "too many failed authentications for one key");
        return Err(ApiError::too_many_requests(wait.as_secs().max(1)));
    }
    Ok(())
}

pub trait Level: Send + Sync + 'static {
    const NEEDED: Permission;
    /// The operation spans every application (keys, webhooks, the audit
    /// log, metrics), so a key limited to some applications may not use it.
    const UNSCOPED: bool = false;
}

macro_rules! level {
    ($name:ident, $permission:ident) => {
        pub struct $name;
        impl Level for $name {
            const NEEDED: Permission = Permission::$permission;
        }
    };
    ($name:ident, $permission:ident, unscoped) => {
        pub struct $name;
        impl Level for $name {
            const NEEDED: Permission = Permission::$permission;
            const UNSCOPED: bool = true;
        }
    };
}

level!(ReadAccess, Read);
level!(PublishAccess, Publish);
level!(WriteAccess, Write);
level!(RolloutAccess, Rollout);
level!(DeleteAccess, Delete);
level!(AdminAccess, Admin);
level!(MonitorAccess, Monitor);
level!(GlobalAdminAccess, Admin, unscoped);
level!(GlobalMonitorAccess, Monitor, unscoped);

/// Extractor: the request carries a key with at least permission `L`.
pub struct Authorized<L: Level>(pub Caller, pub PhantomData<L>);

impl<L: Level> FromRequestParts<AppState> for Authorized<L> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = require(parts, state, L::NEEDED)?;
        if L::UNSCOPED {
            caller.check_unscoped(state)?;
        }
        Ok(Authorized(caller, PhantomData))
    }
}
