//! The database file behind the pool, watched by readiness: SQLite keeps
//! answering from open descriptors after its file is deleted, replaced or
//! made read-only, so `SELECT 1` alone would report a store that has lost
//! (or can no longer make) every write.

use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::StoreError;

pub(super) struct DatabaseFile {
    path: PathBuf,
    /// Device and inode at open; a different pair is another file.
    identity: (u64, u64),
}

impl DatabaseFile {
    pub(super) async fn opened(path: &Path) -> Result<Self, StoreError> {
        let metadata = tokio::fs::metadata(path)
            .await
            .map_err(|e| unavailable(path, "cannot be read", &e))?;
        Ok(Self {
            path: path.to_path_buf(),
            identity: (metadata.dev(), metadata.ino()),
        })
    }

    /// The file is still the one opened, and can be written.
    pub(super) async fn check(&self) -> Result<(), StoreError> {
        let path = &self.path;
        let metadata = match tokio::fs::metadata(path).await {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(StoreError::Unavailable(format!(
                    "database file {} was removed; restart the service",
                    path.display()
                )));
            }
            Err(e) => return Err(unavailable(path, "cannot be read", &e)),
        };
        if (metadata.dev(), metadata.ino()) != self.identity {
            return Err(StoreError::Unavailable(format!(
                "database file {} was replaced by another file; restart the service",
                path.display()
            )));
        }
        tokio::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .await
            .map_err(|e| unavailable(path, "is not writable", &e))?;
        Ok(())
    }
}

fn unavailable(path: &Path, what: &str, error: &std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("database file {} {what}: {error}", path.display()))
}
