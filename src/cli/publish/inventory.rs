//! The files under the given PATHS: each file given, and every file under
//! each directory given (symlinked directories are not followed; `.app`
//! bundles and electron-builder's `*-unpacked` trees are skipped), indexed
//! by file name so a feed's entries can be found.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::cli::failure::Failure;

/// Directory walks stop at this many files: a build output is not larger.
const MAX_FILES: usize = 100_000;

pub struct Entry {
    pub path: PathBuf,
    pub name: String,
    /// Given on the command line (not found by walking a directory).
    pub explicit: bool,
    /// Directory components between the PATH given and the file
    /// (`target/aarch64-apple-darwin/release/bundle/macos`).
    pub within: Vec<String>,
}

#[derive(Default)]
pub struct Inventory {
    pub entries: Vec<Entry>,
    by_name: HashMap<String, Vec<usize>>,
}

impl Inventory {
    pub fn walk(paths: &[PathBuf]) -> Result<Self, Failure> {
        let mut inventory = Self::default();
        for path in paths {
            let meta = std::fs::metadata(path)
                .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
            if meta.is_dir() {
                inventory.walk_dir(path, &mut Vec::new())?;
            } else {
                inventory.add(path.clone(), true, Vec::new());
            }
        }
        Ok(inventory)
    }

    fn walk_dir(&mut self, dir: &Path, within: &mut Vec<String>) -> Result<(), Failure> {
        let read = std::fs::read_dir(dir)
            .map_err(|e| Failure::new(format!("cannot list {}: {e}", dir.display())))?;
        let mut children: Vec<PathBuf> = Vec::new();
        for child in read {
            let child =
                child.map_err(|e| Failure::new(format!("cannot list {}: {e}", dir.display())))?;
            children.push(child.path());
        }
        children.sort();
        for child in children {
            let name = child
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let kind = std::fs::symlink_metadata(&child)
                .map_err(|e| Failure::new(format!("cannot read {}: {e}", child.display())))?;
            if kind.is_dir() {
                if name.starts_with('.') || name.ends_with(".app") || name.ends_with("-unpacked") {
                    continue;
                }
                within.push(name);
                self.walk_dir(&child, within)?;
                within.pop();
            } else if std::fs::metadata(&child).is_ok_and(|m| m.is_file()) {
                if self.entries.len() >= MAX_FILES {
                    return Err(Failure::new(format!(
                        "more than {MAX_FILES} files under the given paths; give the build's output directory"
                    )));
                }
                self.add(child, false, within.clone());
            }
        }
        Ok(())
    }

    fn add(&mut self, path: PathBuf, explicit: bool, within: Vec<String>) {
        if self.entries.iter().any(|e| e.path == path) {
            return;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.by_name
            .entry(name.clone())
            .or_default()
            .push(self.entries.len());
        self.entries.push(Entry {
            path,
            name,
            explicit,
            within,
        });
    }

    /// The file a feed names, preferring one in the feed's own directory.
    pub fn find(&self, name: &str, near: &Path) -> Option<usize> {
        let candidates = self.by_name.get(name)?;
        let dir = near.parent();
        candidates
            .iter()
            .copied()
            .find(|&i| self.entries[i].path.parent() == dir)
            .or_else(|| (candidates.len() == 1).then(|| candidates[0]))
    }

    /// A side file next to an entry (`<file>.sig`, `<file>.blockmap`).
    pub fn sibling(&self, index: usize, suffix: &str) -> Option<PathBuf> {
        let entry = &self.entries[index];
        let name = format!("{}{suffix}", entry.name);
        let path = entry.path.with_file_name(name);
        path.is_file().then_some(path)
    }
}
