//! The `analytics:` section: counting update checks and unique installs.

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalyticsSettings {
    /// Count update checks and unique installs (`false`: nothing is
    /// recorded; stored figures stay readable).
    pub enabled: bool,
    /// How often the counts gathered in memory are written: the most a
    /// crash (`kill -9`) can lose.
    #[serde(with = "humantime_serde")]
    pub flush_interval: Duration,
    /// Hourly rows older than this are rolled up into daily rows.
    #[serde(with = "humantime_serde")]
    pub hourly_retention: Duration,
    /// Daily rows and install sketches older than this are removed.
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
    /// Series (application × channel × platform × architecture × version ×
    /// outcome) kept in memory per flush; checks of new series past it are
    /// counted under the version `other`.
    pub max_series: usize,
}

impl Default for AnalyticsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            flush_interval: Duration::from_secs(10),
            hourly_retention: Duration::from_secs(30 * 24 * 3600),
            retention: Duration::from_secs(400 * 24 * 3600),
            max_series: 10_000,
        }
    }
}

const DAY: Duration = Duration::from_secs(24 * 3600);

impl AnalyticsSettings {
    pub(super) fn validate(&self, errors: &mut Vec<String>) {
        if self.flush_interval < Duration::from_secs(1)
            || self.flush_interval > Duration::from_secs(600)
        {
            errors.push("`analytics.flush_interval` must be between 1s and 10m".into());
        }
        if self.hourly_retention < DAY
            || !self
                .hourly_retention
                .as_secs()
                .is_multiple_of(DAY.as_secs())
        {
            errors.push(
                "`analytics.hourly_retention` must be a whole number of days, at least 1d".into(),
            );
        }
        if self.retention < self.hourly_retention {
            errors.push(
                "`analytics.retention` must not be shorter than `analytics.hourly_retention`"
                    .into(),
            );
        }
        if !(100..=1_000_000).contains(&self.max_series) {
            errors.push("`analytics.max_series` must be between 100 and 1000000".into());
        }
    }
}
