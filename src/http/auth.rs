//! The authentication extractors: the bearer key checked against
//! [`crate::access::ApiKeys`], the needed permission, the lock-out, and the
//! log line and counter for every failure.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::error::ApiError;
use super::limits::ClientIp;
use super::state::AppState;
use crate::access::{AuthFailure, Principal};
use crate::config::Permission;

fn client_ip(parts: &Parts) -> std::net::IpAddr {
    parts
        .extensions
        .get::<ClientIp>()
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0)
}

fn route(parts: &Parts) -> &str {
    parts
        .extensions
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
}

/// Checks the bearer key and the needed permission; logs and counts failures.
pub fn require(parts: &Parts, state: &AppState, needed: Permission) -> Result<Principal, ApiError> {
    let principal = identify(parts, state)?;
    if principal.allows(needed) {
        return Ok(principal);
    }
    tracing::warn!(
        event = "permission_denied",
        key_name = %principal.name,
        needed = ?needed,
        route = route(parts),
        client_ip = %client_ip(parts),
        "API key lacks the permission for this operation"
    );
    metrics::counter!("updater_auth_failures_total", "reason" => "forbidden").increment(1);
    Err(ApiError::forbidden(
        "Insufficient permissions for this operation",
    ))
}

/// A valid key if one is presented; public endpoints use this to add detail.
pub fn optional(parts: &Parts, state: &AppState) -> Option<Principal> {
    if !parts.headers.contains_key(header::AUTHORIZATION) {
        return None;
    }
    identify(parts, state).ok()
}

fn identify(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    let ip = client_ip(parts);
    if let Some(wait) = state.lockout.locked_for(ip) {
        return Err(ApiError::too_many_requests(wait.as_secs().max(1)));
    }
    let failure = match state
        .keys
        .authenticate(parts.headers.get(header::AUTHORIZATION))
    {
        Ok(principal) => return Ok(principal),
        Err(failure) => failure,
    };
    let (reason, message) = match failure {
        AuthFailure::Missing => ("missing", "Authorization required"),
        AuthFailure::Malformed => (
            "malformed",
            "Invalid authorization format; use `Authorization: Bearer <key>`",
        ),
        AuthFailure::Unknown => ("invalid_key", "Invalid API key"),
    };
    tracing::warn!(event = "auth_failure", reason, route = route(parts), client_ip = %ip, "authentication failed");
    metrics::counter!("updater_auth_failures_total", "reason" => reason).increment(1);
    if !matches!(failure, AuthFailure::Missing)
        && let Some(wait) = state.lockout.record_failure(ip)
    {
        tracing::warn!(event = "auth_lockout", client_ip = %ip, seconds = wait.as_secs(), "too many failed authentications");
        return Err(ApiError::too_many_requests(wait.as_secs().max(1)));
    }
    Err(ApiError::unauthorized(message))
}

pub trait Level: Send + Sync + 'static {
    const NEEDED: Permission;
}

macro_rules! level {
    ($name:ident, $permission:ident) => {
        pub struct $name;
        impl Level for $name {
            const NEEDED: Permission = Permission::$permission;
        }
    };
}

level!(ReadAccess, Read);
level!(WriteAccess, Write);
level!(AdminAccess, Admin);
level!(MonitorAccess, Monitor);

/// Extractor: the request carries a key with at least permission `L`.
pub struct Authorized<L: Level>(pub Principal, pub PhantomData<L>);

impl<L: Level> FromRequestParts<AppState> for Authorized<L> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        require(parts, state, L::NEEDED).map(|p| Authorized(p, PhantomData))
    }
}
