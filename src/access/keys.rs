//! Bearer API keys. Keys are held as SHA-256 digests and compared in constant
//! time against every configured key, so neither timing nor length leaks.

use std::collections::BTreeSet;

use http::HeaderValue;
use subtle::ConstantTimeEq;

use crate::config::{ApiKeySettings, KeyDigest, Permission, key_digest, parse_key_hash};

/// The longest bearer token looked up; anything longer is malformed.
const MAX_TOKEN_LEN: usize = 512;

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

/// Why a request did not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Malformed,
    Unknown,
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
                    key_digest(k.key.expose())
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

    /// The principal an `Authorization: Bearer <key>` header names.
    pub fn authenticate(
        &self,
        authorization: Option<&HeaderValue>,
    ) -> Result<Principal, AuthFailure> {
        let value = authorization.ok_or(AuthFailure::Missing)?;
        let value = value.to_str().map_err(|_| AuthFailure::Malformed)?;
        let (scheme, token) = value.split_once(' ').ok_or(AuthFailure::Malformed)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(AuthFailure::Malformed);
        }
        let token = token.trim();
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(AuthFailure::Malformed);
        }
        self.find(token).cloned().ok_or(AuthFailure::Unknown)
    }

    fn find(&self, presented: &str) -> Option<&Principal> {
        let presented = key_digest(presented);
        let mut found = None;
        for entry in &self.entries {
            if bool::from(entry.digest.ct_eq(&presented)) {
                found = Some(&entry.principal);
            }
        }
        found
    }
}
