//! Bearer API keys. Keys are held as SHA-256 digests and compared in constant
//! time against every configured key, so neither timing nor length leaks.

use std::collections::BTreeSet;
use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use super::limits::ClientIp;
use crate::app::AppState;
use crate::config::{ApiKeySettings, Permission};

pub type KeyDigest = [u8; 32];

pub fn digest(key: &str) -> KeyDigest {
    Sha256::digest(key.as_bytes()).into()
}

/// Parses `sha256:<64 hex>`.
pub fn parse_key_hash(value: &str) -> Option<KeyDigest> {
    let hex_part = value.strip_prefix("sha256:")?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut out).ok()?;
    Some(out)
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub name: String,
    pub permissions: BTreeSet<Permission>,
}

impl Principal {
    /// `read` < `write` < `admin` are cumulative; `monitor` stands apart and
    /// `admin` includes it.
    pub fn allows(&self, needed: Permission) -> bool {
        let has = |p| self.permissions.contains(&p);
        match needed {
            Permission::Read => {
                has(Permission::Read) || has(Permission::Write) || has(Permission::Admin)
            }
            Permission::Write => has(Permission::Write) || has(Permission::Admin),
            Permission::Admin => has(Permission::Admin),
            Permission::Monitor => has(Permission::Monitor) || has(Permission::Admin),
        }
    }
}

struct KeyEntry {
    digest: KeyDigest,
    principal: Principal,
}

pub struct ApiKeys {
    entries: Vec<KeyEntry>,
}

impl ApiKeys {
    /// Built from validated settings: every entry has exactly one of `key` or `key_hash`.
    pub fn from_settings(keys: &[ApiKeySettings]) -> Self {
        let entries = keys
            .iter()
            .filter_map(|k| {
                let digest = if k.key.is_empty() {
                    parse_key_hash(&k.key_hash)?
                } else {
                    digest(k.key.expose())
                };
                Some(KeyEntry {
                    digest,
                    principal: Principal {
                        name: k.name.clone(),
                        permissions: k.permissions.iter().copied().collect(),
                    },
                })
            })
            .collect();
        Self { entries }
    }

    fn find(&self, presented: &str) -> Option<&Principal> {
        let presented = digest(presented);
        let mut found = None;
        for entry in &self.entries {
            if bool::from(entry.digest.ct_eq(&presented)) {
                found = Some(&entry.principal);
            }
        }
        found
    }
}

/// Why a request did not authenticate.
enum Failure {
    Missing,
    Malformed,
    Unknown,
}

fn authenticate(parts: &Parts, keys: &ApiKeys) -> Result<Principal, Failure> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Err(Failure::Missing);
    };
    let value = value.to_str().map_err(|_| Failure::Malformed)?;
    let (scheme, token) = value.split_once(' ').ok_or(Failure::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Failure::Malformed);
    }
    let token = token.trim();
    if token.is_empty() || token.len() > 512 {
        return Err(Failure::Malformed);
    }
    keys.find(token).cloned().ok_or(Failure::Unknown)
}

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
    let failure = match authenticate(parts, &state.keys) {
        Ok(principal) => return Ok(principal),
        Err(failure) => failure,
    };
    let (reason, message) = match failure {
        Failure::Missing => ("missing", "Authorization required"),
        Failure::Malformed => (
            "malformed",
            "Invalid authorization format; use `Authorization: Bearer <key>`",
        ),
        Failure::Unknown => ("invalid_key", "Invalid API key"),
    };
    tracing::warn!(event = "auth_failure", reason, route = route(parts), client_ip = %ip, "authentication failed");
    metrics::counter!("updater_auth_failures_total", "reason" => reason).increment(1);
    if !matches!(failure, Failure::Missing)
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
