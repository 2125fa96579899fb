//! Managed API keys: the record the store keeps and the token format.
//!
//! A token is `upd_<id>_<secret>`: a fixed prefix so secret scanners find
//! leaked tokens (`upd_[0-9a-f]{16}_[0-9a-f]{64}`), the key's id so a request
//! is checked against one stored digest, and 256 random bits.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::config::Permission;

pub const TOKEN_PREFIX: &str = "upd_";
const ID_HEX: usize = 16;
const SECRET_HEX: usize = 64;
/// Random bytes a new token needs: the id's, then the secret's.
pub const TOKEN_RANDOM_BYTES: usize = (ID_HEX + SECRET_HEX) / 2;

#[derive(Debug, Clone, PartialEq)]
pub struct ManagedKey {
    pub id: String,
    pub name: String,
    pub permissions: BTreeSet<Permission>,
    /// `None`: every application.
    pub applications: Option<BTreeSet<String>>,
    /// Hex HMAC-SHA-256 of the whole token under the server's pepper.
    pub digest: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Expired,
    Revoked,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Expired => "expired",
            KeyStatus::Revoked => "revoked",
        }
    }
}

impl ManagedKey {
    pub fn status(&self, now: DateTime<Utc>) -> KeyStatus {
        if self.revoked_at.is_some() {
            KeyStatus::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            KeyStatus::Expired
        } else {
            KeyStatus::Active
        }
    }
}

/// A token split into the id it names and the whole text it was. Its
/// `Debug` shows the id only.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    pub id: String,
    pub text: String,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token({TOKEN_PREFIX}{}_[REDACTED])", self.id)
    }
}

impl Token {
    /// A token made from `random` (from the operating system's generator).
    pub fn generate(random: &[u8; TOKEN_RANDOM_BYTES]) -> Self {
        let (id, secret) = random.split_at(ID_HEX / 2);
        Self::with_id(hex::encode(id), secret)
    }

    /// A new secret for an existing id (rotation).
    pub fn with_id(id: String, secret: &[u8]) -> Self {
        let text = format!("{TOKEN_PREFIX}{id}_{}", hex::encode(secret));
        Self { id, text }
    }

    /// `Some` only for text of exactly the token shape; anything else is not
    /// a managed key (it may still be a configured key).
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix(TOKEN_PREFIX)?;
        let (id, secret) = rest.split_once('_')?;
        (Self::is_id(id) && secret.len() == SECRET_HEX && is_lower_hex(secret)).then(|| Self {
            id: id.to_string(),
            text: text.to_string(),
        })
    }

    /// Whether `text` is a key id (what the path parameter must be).
    pub fn is_id(text: &str) -> bool {
        text.len() == ID_HEX && is_lower_hex(text)
    }
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_back() {
        let random: [u8; TOKEN_RANDOM_BYTES] = std::array::from_fn(|i| (i * 7) as u8);
        let token = Token::generate(&random);
        assert_eq!(token.text.len(), 4 + 16 + 1 + 64);
        assert_eq!(Token::parse(&token.text), Some(token.clone()));
        assert!(Token::is_id(&token.id));
    }

    #[test]
    fn other_shapes_are_not_tokens() {
        for text in [
            "",
            "upd_",
            "upd_0123456789abcdef",
            "upd_0123456789ABCDEF_0000000000000000000000000000000000000000000000000000000000000000",
            "upd_0123456789abcdef_000000000000000000000000000000000000000000000000000000000000000",
            "dev-admin-key-do-not-use-in-production-0000",
            "upd_0123456789abcde_f0000000000000000000000000000000000000000000000000000000000000000",
        ] {
            assert_eq!(Token::parse(text), None, "{text}");
        }
    }
}
