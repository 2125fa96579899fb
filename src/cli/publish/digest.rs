//! Sizes and digests of the local files, computed in one streaming pass each,
//! with a progress bar on stderr when stderr is a terminal.

use std::io::{IsTerminal, Read};
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::digest::Digester;
pub use crate::cli::digest::Digests;
use crate::cli::failure::Failure;

/// Progress for a run of files: one bar, or nothing off a terminal.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    pub fn new(total_bytes: u64, what: &str) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = ProgressBar::new(total_bytes);
        if let Ok(style) = ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_string());
        Self(Some(bar))
    }

    pub fn advance(&self, bytes: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(bytes);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

pub fn digest(path: &Path, progress: &Progress) -> Result<Digests, Failure> {
    let failure = |e: std::io::Error| Failure::new(format!("cannot read {}: {e}", path.display()));
    let mut file = std::fs::File::open(path).map_err(failure)?;
    let mut digester = Digester::default();
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let read = file.read(&mut buffer).map_err(failure)?;
        if read == 0 {
            break;
        }
        digester.update(&buffer[..read]);
        progress.advance(read as u64);
    }
    Ok(digester.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        let digests = digest(&path, &Progress(None)).unwrap();
        assert_eq!(digests.size, 3);
        assert_eq!(
            digests.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(digests.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert!(digests.sha512.starts_with("ddaf35a193617aba"));
        let missing = digest(&dir.path().join("nope"), &Progress(None)).unwrap_err();
        assert!(missing.message.contains("nope"));
    }
}
