//! Webhooks: who is told about which events, the messages waiting in the
//! outbox, and the Standard Webhooks signature receivers check.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SECRET_PREFIX: &str = "whsec_";
pub const EVENT_TYPES: [&str; 7] = [
    "release.published",
    "release.yanked",
    "rollout.changed",
    "release.deleted",
    "application.created",
    "application.updated",
    "application.deleted",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: String,
    /// `None`: every application.
    pub application_id: Option<String>,
    pub url: String,
    /// Event types or patterns: `release.published`, `application.*`, `*`.
    pub events: Vec<String>,
    /// `whsec_<base64>`; kept in the store because every delivery is signed with it.
    pub secret: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// Whether `pattern` is an event type, `<group>.*` of a known group, or `*`.
pub fn valid_event_pattern(pattern: &str) -> bool {
    pattern == "*"
        || EVENT_TYPES.contains(&pattern)
        || pattern.strip_suffix(".*").is_some_and(|group| {
            EVENT_TYPES
                .iter()
                .any(|t| t.split('.').next() == Some(group))
        })
}

impl Webhook {
    pub fn wants(&self, event_type: &str, application_id: Option<&str>) -> bool {
        let scope_ok = match (&self.application_id, application_id) {
            (None, _) => true,
            (Some(own), Some(app)) => own == app,
            (Some(_), None) => false,
        };
        scope_ok
            && self.events.iter().any(|p| {
                p == "*"
                    || p == event_type
                    || p.strip_suffix(".*").is_some_and(|group| {
                        event_type
                            .strip_prefix(group)
                            .is_some_and(|r| r.starts_with('.'))
                    })
            })
    }
}

/// A change worth telling webhooks about; the store turns it into one
/// outbox message per interested webhook, in the change's transaction.
#[derive(Debug, Clone)]
pub struct Event {
    pub event_type: &'static str,
    pub application_id: Option<String>,
    /// The delivery body (JSON text), signed as it is.
    pub body: String,
}

/// One event waiting for (or done with) delivery to one webhook.
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    /// `msg_<uuid>`: the `webhook-id` header, the same on every retry so
    /// receivers can drop duplicates.
    pub id: String,
    pub webhook_id: String,
    pub event_type: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub attempts: u32,
}

/// A claimed message with what delivering it needs.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub message: OutboxMessage,
    pub url: String,
    pub secret: String,
}

/// How one attempt went.
#[derive(Debug, Clone)]
pub struct DeliveryAttempt {
    pub message_id: String,
    pub webhook_id: String,
    pub event_type: String,
    pub at: DateTime<Utc>,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration_ms: u64,
    pub succeeded: bool,
}

/// What happens to a message after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    Delivered,
    RetryAt(DateTime<Utc>),
    GiveUp,
}

/// The `webhook-signature` value: `v1,<base64 HMAC-SHA-256>` over
/// `{id}.{timestamp}.{body}`, keyed with the secret's decoded bytes.
/// `None` when the secret is not a `whsec_` base64 secret.
pub fn sign(secret: &str, message_id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{message_id}.{timestamp}.{body}").as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// A new `whsec_` secret from 32 random bytes.
pub fn secret_from(random: &[u8; 32]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(random))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The example in the Standard Webhooks specification.
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            signature.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn patterns() {
        let hook = Webhook {
            id: "w".into(),
            application_id: Some("app".into()),
            url: "https://example.com".into(),
            events: vec!["application.*".into(), "release.yanked".into()],
            secret: String::new(),
            created_at: Utc::now(),
            created_by: String::new(),
        };
        assert!(hook.wants("application.created", Some("app")));
        assert!(hook.wants("release.yanked", Some("app")));
        assert!(!hook.wants("release.published", Some("app")));
        assert!(!hook.wants("application.created", Some("other")));
        assert!(valid_event_pattern("release.*"));
        assert!(valid_event_pattern("*"));
        assert!(!valid_event_pattern("release"));
        assert!(!valid_event_pattern("nothing.*"));
    }
}
