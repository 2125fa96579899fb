//! Webhooks: registering and removing them (each change audited in its
//! transaction), and the delivery worker that drains the outbox.

mod deliver;

use crate::access::random;
use crate::domain::audit::{AuditRecord, Changes, Origin};
use crate::domain::validate::{FieldErrors, check_application_id};
use crate::domain::webhook::{Webhook, secret_from, valid_event_pattern};
use crate::store::{Journal, Store, StoreError};

pub use deliver::spawn_delivery;

const MAX_URL_LEN: usize = 2048;
const MAX_EVENTS: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("webhook `{0}` not found")]
    NotFound(String),
    #[error("invalid webhook")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A webhook as asked for, not yet checked.
#[derive(Debug, Clone, Default)]
pub struct WebhookDraft {
    pub url: String,
    pub events: Vec<String>,
    pub application_id: Option<String>,
    /// `None`: one is generated.
    pub secret: Option<String>,
}

/// Whether `url` may be a webhook target: `https` (or `http` when allowed,
/// or to a loopback host when private addresses are), and unless private targets are allowed, not an
/// address on the server's own networks. Names are checked again when
/// resolved at delivery.
pub fn check_target(url: &str, allow_http: bool, allow_private: bool) -> Result<(), String> {
    if url.len() > MAX_URL_LEN {
        return Err(format!("must be at most {MAX_URL_LEN} characters"));
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("is not a valid URL: {e}"))?;
    if parsed.username() != "" || parsed.password().is_some() {
        return Err("must not carry credentials; receivers verify the signature instead".into());
    }
    let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match parsed.scheme() {
        "https" => {}
        "http" if allow_http || (loopback && allow_private) => {}
        "http" => return Err("must use https (set `webhooks.allow_http` to accept http)".into()),
        other => return Err(format!("scheme `{other}` is not http or https")),
    }
    if !allow_private && !crate::verify::host_allowed(&parsed) {
        return Err(
            "is not a public address (set `webhooks.allow_private_addresses` to allow it)".into(),
        );
    }
    Ok(())
}

/// The rules a new webhook must meet; [`create`] applies them again.
pub fn check(draft: &WebhookDraft, settings: &crate::config::WebhookSettings) -> FieldErrors {
    let mut errors = FieldErrors::default();
    if let Err(e) = check_target(
        &draft.url,
        settings.allow_http,
        settings.allow_private_addresses,
    ) {
        errors.add("url", e);
    }
    if draft.events.is_empty() {
        errors.add("events", "give at least one event type or pattern");
    } else if draft.events.len() > MAX_EVENTS {
        errors.add("events", format!("at most {MAX_EVENTS} entries"));
    }
    for pattern in &draft.events {
        if !valid_event_pattern(pattern) {
            errors.add(
                "events",
                format!(
                    "unknown event `{}`; known: {}, a group such as `application.*`, or `*`",
                    pattern.escape_debug(),
                    crate::domain::webhook::EVENT_TYPES.join(", ")
                ),
            );
        }
    }
    if let Some(app) = &draft.application_id
        && let Err(e) = check_application_id(app)
    {
        errors.add("application_id", e);
    }
    if let Some(secret) = &draft.secret
        && (crate::domain::webhook::sign(secret, "check", 0, "").is_none() || secret.len() < 30)
    {
        errors.add(
            "secret",
            "must be `whsec_` followed by base64 of at least 16 bytes",
        );
    }
    errors
}

pub async fn create(
    store: &dyn Store,
    origin: &Origin,
    draft: WebhookDraft,
    settings: &crate::config::WebhookSettings,
) -> Result<Webhook, WebhookError> {
    let errors = check(&draft, settings);
    let secret = match draft.secret {
        Some(secret) => secret,
        None => secret_from(&random::<32>().map_err(|e| StoreError::Unavailable(e.to_string()))?),
    };
    if !errors.is_empty() {
        return Err(WebhookError::Invalid(errors));
    }
    let hook = Webhook {
        id: format!("wh_{}", uuid::Uuid::new_v4().simple()),
        application_id: draft.application_id,
        url: draft.url,
        events: draft.events,
        secret,
        created_at: crate::domain::now(),
        created_by: origin.actor.label(),
    };
    let mut record = AuditRecord::new(origin, "webhook.created", &hook.id).changes(
        Changes::default()
            .field("url", None::<&str>, Some(&hook.url))
            .field("events", None::<&str>, Some(hook.events.join(","))),
    );
    record.application_id = hook.application_id.clone();
    store.insert_webhook(&hook, &Journal::new(record)).await?;
    Ok(hook)
}

pub async fn find(store: &dyn Store, id: &str) -> Result<Webhook, WebhookError> {
    store
        .webhooks()
        .await?
        .into_iter()
        .find(|h| h.id == id)
        .ok_or_else(|| WebhookError::NotFound(id.to_string()))
}

pub async fn delete(store: &dyn Store, origin: &Origin, id: &str) -> Result<(), WebhookError> {
    let hook = find(store, id).await?;
    let mut record = AuditRecord::new(origin, "webhook.deleted", id)
        .changes(Changes::default().field("url", Some(&hook.url), None::<&str>));
    record.application_id = hook.application_id;
    match store.delete_webhook(id, &Journal::new(record)).await {
        Err(StoreError::NotFound) => Err(WebhookError::NotFound(id.to_string())),
        other => Ok(other?),
    }
}
