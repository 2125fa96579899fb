//! A circuit breaker for writes. While the store is known to be unreachable
//! (a write or a readiness ping found it so), writes are refused at once
//! instead of each waiting out the pool's acquire timeout behind the one
//! before it. Once `PROBE_AFTER` has passed, the next write first pings the
//! store (one prober at a time, for at most `PROBE_TIMEOUT`): an answer
//! closes the breaker, silence keeps it open for another period.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

pub const PROBE_AFTER: Duration = Duration::from_secs(1);
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// Why a write was not let through, and when to try again.
#[derive(Debug, Clone, Copy)]
pub struct Open {
    pub retry_after: Duration,
}

#[derive(Default)]
pub struct Breaker {
    /// When the store was last found unreachable; `None` while closed.
    opened: Mutex<Option<Instant>>,
    probing: AtomicBool,
}

pub enum Admission<'a> {
    Closed,
    /// This caller must probe the store and report with [`Probe::finish`].
    Probe(Probe<'a>),
}

pub struct Probe<'a> {
    breaker: &'a Breaker,
}

impl Probe<'_> {
    pub fn finish(self, reachable: bool) -> Result<(), Open> {
        if reachable {
            self.breaker.close();
            Ok(())
        } else {
            self.breaker.open();
            Err(Open {
                retry_after: PROBE_AFTER,
            })
        }
    }
}

impl Drop for Probe<'_> {
    fn drop(&mut self) {
        self.breaker.probing.store(false, Ordering::Release);
    }
}

impl Breaker {
    pub fn admit(&self) -> Result<Admission<'_>, Open> {
        let Some(opened) = *self.opened.lock() else {
            return Ok(Admission::Closed);
        };
        let elapsed = opened.elapsed();
        if elapsed < PROBE_AFTER {
            return Err(Open {
                retry_after: PROBE_AFTER - elapsed,
            });
        }
        if self.probing.swap(true, Ordering::AcqRel) {
            return Err(Open {
                retry_after: PROBE_AFTER,
            });
        }
        Ok(Admission::Probe(Probe { breaker: self }))
    }

    pub fn open(&self) {
        let mut opened = self.opened.lock();
        if opened.is_none() {
            tracing::warn!("storage unreachable: refusing writes until it answers again");
            metrics::gauge!("updater_store_breaker_open").set(1.0);
        }
        *opened = Some(Instant::now());
    }

    pub fn close(&self) {
        if self.opened.lock().take().is_some() {
            tracing::info!("storage answers again: writes accepted");
            metrics::gauge!("updater_store_breaker_open").set(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_while_open_then_lets_one_prober_through() {
        let breaker = Breaker::default();
        assert!(matches!(breaker.admit(), Ok(Admission::Closed)));
        breaker.open();
        let refused = breaker.admit().err().expect("open refuses");
        assert!(refused.retry_after <= PROBE_AFTER);
        *breaker.opened.lock() = Some(Instant::now() - PROBE_AFTER);
        let Ok(Admission::Probe(probe)) = breaker.admit() else {
            panic!("after the period one write probes");
        };
        assert!(
            breaker.admit().is_err(),
            "a second write does not probe too"
        );
        assert!(probe.finish(false).is_err());
        assert!(breaker.opened.lock().is_some());
        assert!(
            breaker.admit().is_err(),
            "a failed probe starts a new period"
        );
        *breaker.opened.lock() = Some(Instant::now() - PROBE_AFTER);
        let Ok(Admission::Probe(probe)) = breaker.admit() else {
            panic!("probes again");
        };
        assert!(probe.finish(true).is_ok());
        assert!(matches!(breaker.admit(), Ok(Admission::Closed)));
    }
}
