//! Console sessions: a random id (the cookie) exchanged for a signed-in key,
//! held in this process's memory only.
//!
//! The map is keyed by the SHA-256 of the id, so memory holds no cookie that
//! could be replayed; the key itself is never kept, only its [`KeyHandle`],
//! which is resolved again on every request (a revoked key ends its
//! sessions). Sessions end after `idle_timeout` without a request, after
//! `max_session_age` in any case, at sign-out and at restart. At most
//! `max_sessions` are held: signing in past it ends the session idle the
//! longest, so nobody is ever refused a sign-in.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::keys::KeyHandle;
use super::pepper::random;
use crate::config::ConsoleSettings;

type IdDigest = [u8; 32];

struct Session {
    handle: KeyHandle,
    csrf_token: String,
    signed_in: Instant,
    last_seen: Instant,
}

/// What a new session's cookie and forms carry.
pub struct NewSession {
    pub id: String,
    pub csrf_token: String,
}

/// A live session, as a request sees it.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub handle: KeyHandle,
    pub csrf_token: String,
}

impl SignedIn {
    /// Whether a form's token is this session's, in constant time.
    pub fn csrf_matches(&self, presented: &str) -> bool {
        bool::from(self.csrf_token.as_bytes().ct_eq(presented.as_bytes()))
    }
}

pub struct SessionStore {
    sessions: Mutex<HashMap<IdDigest, Session>>,
    idle_timeout: Duration,
    max_age: Duration,
    max_sessions: usize,
}

fn digest(id: &str) -> IdDigest {
    Sha256::digest(id.as_bytes()).into()
}

fn random_text() -> anyhow::Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random::<32>()?))
}

impl SessionStore {
    pub fn new(settings: &ConsoleSettings) -> Self {
        Self {
            sessions: Mutex::new(HashMap::new()),
            idle_timeout: settings.idle_timeout,
            max_age: settings.max_session_age,
            max_sessions: settings.max_sessions,
        }
    }

    /// A new session for the key, always with a fresh id.
    pub fn create(&self, handle: KeyHandle) -> anyhow::Result<NewSession> {
        self.create_at(handle, Instant::now())
    }

    fn create_at(&self, handle: KeyHandle, now: Instant) -> anyhow::Result<NewSession> {
        let created = NewSession {
            id: random_text()?,
            csrf_token: random_text()?,
        };
        let mut sessions = self.sessions.lock();
        sessions.retain(|_, s| self.alive(s, now));
        if sessions.len() >= self.max_sessions
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(id, _)| *id)
        {
            sessions.remove(&oldest);
        }
        sessions.insert(
            digest(&created.id),
            Session {
                handle,
                csrf_token: created.csrf_token.clone(),
                signed_in: now,
                last_seen: now,
            },
        );
        Ok(created)
    }

    /// The live session of a cookie value, which this request keeps alive.
    pub fn touch(&self, id: &str) -> Option<SignedIn> {
        self.touch_at(id, Instant::now())
    }

    fn touch_at(&self, id: &str, now: Instant) -> Option<SignedIn> {
        let key = digest(id);
        let mut sessions = self.sessions.lock();
        let session = sessions.get_mut(&key)?;
        if !self.alive(session, now) {
            sessions.remove(&key);
            return None;
        }
        session.last_seen = now;
        Some(SignedIn {
            handle: session.handle.clone(),
            csrf_token: session.csrf_token.clone(),
        })
    }

    /// Ends a session (sign-out, or its key is no longer valid).
    pub fn end(&self, id: &str) {
        self.sessions.lock().remove(&digest(id));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.sessions.lock().len()
    }

    fn alive(&self, session: &Session, now: Instant) -> bool {
        now.duration_since(session.last_seen) < self.idle_timeout
            && now.duration_since(session.signed_in) < self.max_age
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(max_sessions: usize) -> SessionStore {
        SessionStore::new(&ConsoleSettings {
            idle_timeout: Duration::from_secs(60),
            max_session_age: Duration::from_secs(300),
            max_sessions,
            ..ConsoleSettings::default()
        })
    }

    fn minutes(n: u64) -> Duration {
        Duration::from_secs(60 * n)
    }

    #[test]
    fn a_session_ends_when_idle_for_the_timeout() {
        let store = store(10);
        let start = Instant::now();
        let session = store.create_at(KeyHandle::Configured(0), start).unwrap();
        assert!(
            store
                .touch_at(&session.id, start + Duration::from_secs(59))
                .is_some()
        );
        let later = start + Duration::from_secs(59) + minutes(1);
        assert!(store.touch_at(&session.id, later).is_none());
        assert_eq!(store.len(), 0, "the expired session is dropped");
    }

    #[test]
    fn a_busy_session_still_ends_at_its_maximum_age() {
        let store = store(10);
        let start = Instant::now();
        let session = store.create_at(KeyHandle::Configured(0), start).unwrap();
        for second in (30..300).step_by(30) {
            let at = start + Duration::from_secs(second);
            assert!(
                store.touch_at(&session.id, at).is_some(),
                "alive at {second}s"
            );
        }
        assert!(store.touch_at(&session.id, start + minutes(5)).is_none());
    }

    #[test]
    fn every_session_has_its_own_id_and_csrf_token() {
        let store = store(10);
        let a = store.create(KeyHandle::Configured(0)).unwrap();
        let b = store.create(KeyHandle::Configured(0)).unwrap();
        assert_ne!(a.id, b.id);
        assert_ne!(a.csrf_token, b.csrf_token);
        assert_eq!(a.id.len(), 43, "32 random bytes, base64url");
        let signed_in = store.touch(&a.id).unwrap();
        assert!(signed_in.csrf_matches(&a.csrf_token));
        assert!(!signed_in.csrf_matches(&b.csrf_token));
        assert!(!signed_in.csrf_matches(""));
    }

    #[test]
    fn signing_out_ends_only_that_session() {
        let store = store(10);
        let a = store.create(KeyHandle::Configured(0)).unwrap();
        let b = store.create(KeyHandle::Managed("k".into())).unwrap();
        store.end(&a.id);
        assert!(store.touch(&a.id).is_none());
        assert_eq!(
            store.touch(&b.id).unwrap().handle,
            KeyHandle::Managed("k".into())
        );
    }

    #[test]
    fn past_the_limit_the_longest_idle_session_makes_room() {
        let store = store(2);
        let start = Instant::now();
        let first = store.create_at(KeyHandle::Configured(0), start).unwrap();
        let second = store
            .create_at(KeyHandle::Configured(1), start + Duration::from_secs(1))
            .unwrap();
        store.touch_at(&first.id, start + Duration::from_secs(2));
        let third = store
            .create_at(KeyHandle::Configured(2), start + Duration::from_secs(3))
            .unwrap();
        assert_eq!(store.len(), 2);
        let at = start + Duration::from_secs(4);
        assert!(store.touch_at(&second.id, at).is_none(), "idle the longest");
        assert!(store.touch_at(&first.id, at).is_some());
        assert!(store.touch_at(&third.id, at).is_some());
    }

    #[test]
    fn an_unknown_id_is_no_session() {
        let store = store(10);
        store.create(KeyHandle::Configured(0)).unwrap();
        assert!(store.touch("not-a-session").is_none());
        assert!(store.touch("").is_none());
    }
}
