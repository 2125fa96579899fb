//! The `cache_control:` section: how long a CDN or browser may keep each
//! family of update feeds (`Cache-Control: public, max-age=…`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheControlSettings {
    /// `GET /api/v1/updates/{app}/check`, `/latest` and `/api/v1/latest`.
    #[serde(with = "humantime_serde")]
    pub checks: Duration,
    #[serde(with = "humantime_serde")]
    pub tauri: Duration,
    #[serde(with = "humantime_serde")]
    pub electron_updater: Duration,
    #[serde(with = "humantime_serde")]
    pub squirrel: Duration,
    #[serde(with = "humantime_serde")]
    pub sparkle: Duration,
    #[serde(with = "humantime_serde")]
    pub velopack: Duration,
}

const DEFAULT_MAX_AGE: Duration = Duration::from_secs(60);
const LONGEST_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

impl Default for CacheControlSettings {
    fn default() -> Self {
        Self {
            checks: DEFAULT_MAX_AGE,
            tauri: DEFAULT_MAX_AGE,
            electron_updater: DEFAULT_MAX_AGE,
            squirrel: DEFAULT_MAX_AGE,
            sparkle: DEFAULT_MAX_AGE,
            velopack: DEFAULT_MAX_AGE,
        }
    }
}

impl CacheControlSettings {
    fn families(&self) -> [(&'static str, Duration); 6] {
        [
            ("checks", self.checks),
            ("tauri", self.tauri),
            ("electron_updater", self.electron_updater),
            ("squirrel", self.squirrel),
            ("sparkle", self.sparkle),
            ("velopack", self.velopack),
        ]
    }

    pub(super) fn validate(&self, errors: &mut Vec<String>) {
        for (family, max_age) in self.families() {
            if max_age > LONGEST_MAX_AGE {
                errors.push(format!(
                    "`cache_control.{family}` must be at most 24h (a yank reaches cached clients only when it expires)"
                ));
            } else if max_age.subsec_nanos() != 0 {
                errors.push(format!(
                    "`cache_control.{family}` must be a whole number of seconds"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_max_age_past_a_day_or_with_a_fraction_is_refused_by_name() {
        let settings = CacheControlSettings {
            tauri: Duration::from_secs(24 * 3600 + 1),
            velopack: Duration::from_millis(1500),
            ..CacheControlSettings::default()
        };
        let mut errors = Vec::new();
        settings.validate(&mut errors);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("`cache_control.tauri` must be at most 24h"));
        assert!(errors[1].contains("`cache_control.velopack` must be a whole number"));
        let mut none = Vec::new();
        CacheControlSettings::default().validate(&mut none);
        assert!(none.is_empty());
    }
}
