//! Request rate limits and the lock-out after repeated failed
//! authentications, per client IP and per managed key id.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use parking_lot::Mutex;

use crate::config::{AuthFailureLimitSettings, RateLimitSettings};

fn wait_time(not_until: &governor::NotUntil<<DefaultClock as Clock>::Instant>) -> Duration {
    not_until.wait_time_from(DefaultClock::default().now())
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    let rate = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(rate).allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
}

pub struct RequestLimiter<K: Hash + Eq + Clone = IpAddr> {
    limiter: DefaultKeyedRateLimiter<K>,
}

impl<K: Hash + Eq + Clone> RequestLimiter<K> {
    pub fn new(settings: &RateLimitSettings) -> Option<Self> {
        settings.enabled.then(|| Self {
            limiter: RateLimiter::keyed(quota(settings.requests_per_minute, settings.burst)),
        })
    }

    pub fn check(&self, key: &K) -> Result<(), Duration> {
        self.limiter.check_key(key).map_err(|nu| wait_time(&nu))
    }

    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
    }
}

pub struct AuthLockout<K: Hash + Eq + Clone = IpAddr> {
    failures: DefaultKeyedRateLimiter<K>,
    locked_until: Mutex<HashMap<K, Instant>>,
    lockout: Duration,
}

impl<K: Hash + Eq + Clone> AuthLockout<K> {
    pub fn new(settings: &AuthFailureLimitSettings) -> Self {
        Self {
            failures: RateLimiter::keyed(quota(
                settings.failures_per_minute,
                settings.failures_per_minute,
            )),
            locked_until: Mutex::new(HashMap::new()),
            lockout: settings.lockout,
        }
    }

    pub fn locked_for(&self, key: &K) -> Option<Duration> {
        let until = *self.locked_until.lock().get(key)?;
        until.checked_duration_since(Instant::now())
    }

    /// Counts a failure; returns the lock-out when this one exceeds the budget.
    pub fn record_failure(&self, key: &K) -> Option<Duration> {
        self.failures.check_key(key).err()?;
        self.locked_until
            .lock()
            .insert(key.clone(), Instant::now() + self.lockout);
        Some(self.lockout)
    }

    pub fn forget_idle(&self) {
        self.failures.retain_recent();
        let now = Instant::now();
        self.locked_until.lock().retain(|_, until| *until > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_after_budget() {
        let lockout: AuthLockout = AuthLockout::new(&AuthFailureLimitSettings {
            failures_per_minute: 3,
            lockout: Duration::from_secs(30),
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert!(lockout.record_failure(&ip).is_none());
        }
        assert!(lockout.record_failure(&ip).is_some());
        assert!(lockout.locked_for(&ip).is_some());
        assert!(lockout.locked_for(&"192.0.2.2".parse().unwrap()).is_none());
    }
}
