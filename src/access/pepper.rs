//! The server-side secret managed keys are digested with: HMAC-SHA-256 under
//! a pepper kept outside the database, so a stolen database alone does not
//! let anyone test guesses offline. The tokens carry 256 random bits, so a
//! fast keyed hash is as strong as a slow one here and keeps each request's
//! check at a microsecond (argon2id would cost tens of milliseconds).

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::config::{Settings, StorageType};

const PEPPER_FILE: &str = "key-pepper";

#[derive(Clone)]
pub struct Pepper(Vec<u8>);

impl std::fmt::Debug for Pepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pepper([REDACTED])")
    }
}

impl Pepper {
    pub fn new(secret: &[u8]) -> Self {
        Self(secret.to_vec())
    }

    /// The pepper `settings` name: `security.key_pepper`; else, for SQLite,
    /// the one kept in `<data_dir>/key-pepper` (made on first use); for the
    /// memory store a random one. `None` on PostgreSQL without a pepper:
    /// replicas must share it, so none is invented.
    pub fn resolve(settings: &Settings) -> anyhow::Result<Option<Self>> {
        let configured = &settings.security.key_pepper;
        if !configured.is_empty() {
            return Ok(Some(Self::new(configured.expose().as_bytes())));
        }
        match settings.storage.kind {
            StorageType::Postgres => Ok(None),
            StorageType::Memory => Ok(Some(Self::new(hex::encode(random::<32>()?).as_bytes()))),
            StorageType::Sqlite => {
                let path = settings.storage.data_dir.join(PEPPER_FILE);
                file_pepper(&path)
                    .with_context(|| format!("reading or creating {}", path.display()))
                    .map(Some)
            }
        }
    }

    pub fn digest(&self, token: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether `token` is the one `digest` was made from, in constant time.
    pub fn matches(&self, token: &str, digest: &str) -> bool {
        bool::from(self.digest(token).as_bytes().ct_eq(digest.as_bytes()))
    }
}

fn file_pepper(path: &Path) -> anyhow::Result<Pepper> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().len() >= 32 => return Ok(Pepper::new(text.trim().as_bytes())),
        Ok(_) => anyhow::bail!("the pepper file is shorter than 32 characters"),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        Err(_) => {}
    }
    let text = hex::encode(random::<32>()?);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(Pepper::new(text.as_bytes()))
}

/// Bytes from the operating system's generator.
pub fn random<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
    Ok(bytes)
}
