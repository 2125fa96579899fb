//! The `console:` section: the web console at `/console`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleSettings {
    /// Serve the console. Off by default: a server that only answers
    /// update checks exposes no sign-in form.
    pub enabled: bool,
    /// A session that sees no request for this long ends.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however busy.
    #[serde(with = "humantime_serde")]
    pub max_session_age: Duration,
    /// Sessions held in memory at once; signing in past it ends the one
    /// idle the longest.
    pub max_sessions: usize,
    /// Mark the session cookie `Secure` (and name it `__Host-…`) although
    /// this server speaks plain HTTP: TLS ends at a proxy in front of it.
    /// With `server.tls` the cookie is always `Secure`.
    pub secure_cookie: bool,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            idle_timeout: Duration::from_secs(30 * 60),
            max_session_age: Duration::from_secs(12 * 3600),
            max_sessions: 1000,
            secure_cookie: false,
        }
    }
}

impl ConsoleSettings {
    pub(super) fn validate(&self, errors: &mut Vec<String>) {
        if self.idle_timeout < Duration::from_secs(60)
            || self.idle_timeout > Duration::from_secs(24 * 3600)
        {
            errors.push("`console.idle_timeout` must be between 1m and 24h".into());
        }
        if self.max_session_age < self.idle_timeout
            || self.max_session_age > Duration::from_secs(7 * 24 * 3600)
        {
            errors.push(
                "`console.max_session_age` must be at least `console.idle_timeout` and at most 7d"
                    .into(),
            );
        }
        if !(1..=100_000).contains(&self.max_sessions) {
            errors.push("`console.max_sessions` must be between 1 and 100000".into());
        }
    }
}
