//! The SHA-256 digest an API key is known by, so config validation and the
//! key table agree on what "the same key" means.

use sha2::{Digest, Sha256};

pub type KeyDigest = [u8; 32];

pub fn key_digest(key: &str) -> KeyDigest {
    Sha256::digest(key.as_bytes()).into()
}

/// Parses `sha256:<64 hex>`.
pub fn parse_key_hash(value: &str) -> Option<KeyDigest> {
    let hex_part = value.strip_prefix("sha256:")?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut out).ok()?;
    Some(out)
}
