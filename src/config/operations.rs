//! Settings of the audit log and of webhook delivery.

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSettings {
    /// Entries older than this are pruned in the background.
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            retention: Duration::from_secs(400 * 24 * 3600),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Deadline for one delivery attempt (connect, send, response).
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Wait before the first retry; doubles with every failure.
    #[serde(with = "humantime_serde")]
    pub backoff_initial: Duration,
    /// The longest wait between two attempts.
    #[serde(with = "humantime_serde")]
    pub backoff_max: Duration,
    /// How long after the event deliveries are retried before giving up.
    #[serde(with = "humantime_serde")]
    pub retry_for: Duration,
    /// Let webhook targets be loopback, private or link-local addresses.
    pub allow_private_addresses: bool,
    /// Accept `http://` targets (loopback ones are accepted with
    /// `allow_private_addresses` alone).
    pub allow_http: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            backoff_initial: Duration::from_secs(5),
            backoff_max: Duration::from_secs(600),
            retry_for: Duration::from_secs(24 * 3600),
            allow_private_addresses: false,
            allow_http: false,
        }
    }
}
