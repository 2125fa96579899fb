//! Staged rollouts: a release reaches a deterministic share of installs.
//!
//! An install's bucket is derived from a SHA-256 of the application, the
//! release version and the install id, so the same install gets the same
//! answer on every check, and each release draws an independent sample.

use semver::Version;
use sha2::{Digest, Sha256};

/// Buckets per 100 %: percentages are applied with 0.01 % resolution.
const BUCKETS: u32 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rollout {
    /// Share of installs offered the release, 0 to 100.
    pub percentage: u8,
    /// A paused rollout offers the release to no one until resumed.
    pub paused: bool,
}

impl Default for Rollout {
    fn default() -> Self {
        Self {
            percentage: 100,
            paused: false,
        }
    }
}

/// The install's bucket for this release, in `0..10_000`.
pub fn bucket(app_id: &str, version: &Version, install_id: &str) -> u32 {
    let mut hasher = Sha256::new();
    for part in [app_id, &version.to_string(), install_id] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    let head = u64::from_be_bytes(digest[..8].try_into().expect("SHA-256 is 32 bytes"));
    (head % u64::from(BUCKETS)) as u32
}

impl Rollout {
    /// Whether this install is offered the release. Installs that send no id
    /// are offered only fully rolled-out releases.
    pub fn admits(&self, app_id: &str, version: &Version, install_id: Option<&str>) -> bool {
        if self.paused {
            return false;
        }
        if self.percentage >= 100 {
            return true;
        }
        install_id.is_some_and(|id| {
            bucket(app_id, version, id) < u32::from(self.percentage) * (BUCKETS / 100)
        })
    }
}

/// electron-updater's own staging rule, so the server and the client agree:
/// the big-endian `u32` of the staging UUID's bytes 12 to 15, over
/// `0xFFFFFFFF`, must be below the percentage. `None` when the id is not a UUID.
pub fn electron_staging_admits(percentage: u8, staging_id: &str) -> Option<bool> {
    let uuid = uuid::Uuid::parse_str(staging_id).ok()?;
    if percentage >= 100 {
        return Some(true);
    }
    let bytes = uuid.as_bytes();
    let value = u32::from_be_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
    Some(f64::from(value) / f64::from(u32::MAX) < f64::from(percentage) / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_and_paused_rollouts() {
        let v = Version::new(1, 0, 0);
        assert!(Rollout::default().admits("a", &v, None));
        let paused = Rollout {
            percentage: 100,
            paused: true,
        };
        assert!(!paused.admits("a", &v, Some("x")));
        let none = Rollout {
            percentage: 0,
            paused: false,
        };
        assert!(!none.admits("a", &v, Some("x")));
        let partial = Rollout {
            percentage: 50,
            paused: false,
        };
        assert!(
            !partial.admits("a", &v, None),
            "no id: only complete rollouts"
        );
    }

    #[test]
    fn electron_rule_matches_the_client() {
        // The examples electron-updater's rule gives at 10 %.
        assert_eq!(
            electron_staging_admits(10, "12345678-1234-4234-8234-ffffffffffff"),
            Some(false)
        );
        assert_eq!(
            electron_staging_admits(10, "12345678-1234-4234-8234-000000000001"),
            Some(true)
        );
        assert_eq!(
            electron_staging_admits(100, "12345678-1234-4234-8234-ffffffffffff"),
            Some(true)
        );
        assert_eq!(electron_staging_admits(10, "not-a-uuid"), None);
    }
}
