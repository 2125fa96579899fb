//! Sizes and digests computed in one streaming pass, for `updater publish`
//! (local files) and `updater import feed --hash-files` (downloads).

use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

/// Lowercase hex digests of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    pub size: u64,
    pub sha256: String,
    pub sha512: String,
    pub sha1: String,
}

/// Feeds bytes to every digest a release file may carry.
#[derive(Default)]
pub struct Digester {
    size: u64,
    sha256: Sha256,
    sha512: Sha512,
    sha1: Sha1,
}

impl Digester {
    pub fn update(&mut self, chunk: &[u8]) {
        self.size += chunk.len() as u64;
        self.sha256.update(chunk);
        self.sha512.update(chunk);
        self.sha1.update(chunk);
    }

    /// Bytes fed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn finish(self) -> Digests {
        Digests {
            size: self.size,
            sha256: hex::encode(self.sha256.finalize()),
            sha512: hex::encode(self.sha512.finalize()),
            sha1: hex::encode(self.sha1.finalize()),
        }
    }
}
