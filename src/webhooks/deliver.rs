//! The delivery worker: claims due outbox messages, POSTs each signed with
//! the Standard Webhooks headers, logs the attempt and schedules a retry
//! with exponential backoff until `webhooks.retry_for` has passed. Delivery
//! is at-least-once: a replica that dies mid-attempt leaves its claim to
//! expire, and another attempt follows with the same `webhook-id`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::task::{JoinHandle, JoinSet};

use crate::config::WebhookSettings;
use crate::domain::webhook::{Delivery, DeliveryAttempt, NextStep, sign};
use crate::registry::Registry;

/// How long the worker sleeps when nothing is due and no local write woke it.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
const IN_FLIGHT: usize = 16;
/// Kept of a receiver's error answer, for the delivery log.
const MAX_ERROR_LEN: usize = 300;

pub fn spawn_delivery(
    registry: Arc<Registry>,
    settings: &WebhookSettings,
) -> anyhow::Result<JoinHandle<()>> {
    let worker = Worker::new(registry, settings)?;
    Ok(tokio::spawn(worker.run()))
}

struct Worker {
    registry: Arc<Registry>,
    client: reqwest::Client,
    settings: WebhookSettings,
}

impl Worker {
    fn new(registry: Arc<Registry>, settings: &WebhookSettings) -> anyhow::Result<Self> {
        // No proxy: a proxy would resolve names itself, past the public-address rule.
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!(
                "updater/",
                env!("CARGO_PKG_VERSION"),
                " (webhooks)"
            ));
        if !settings.allow_private_addresses {
            builder = builder.dns_resolver(Arc::new(crate::verify::PublicOnly));
        }
        Ok(Self {
            registry,
            client: builder.build()?,
            settings: settings.clone(),
        })
    }

    /// A claim outlives the slowest attempt, so it is never taken twice
    /// while its attempt may still succeed.
    fn lease(&self) -> Duration {
        self.settings.timeout * 2 + Duration::from_secs(10)
    }

    /// Up to `IN_FLIGHT` attempts run at once; a slot freed by one
    /// finished attempt is filled at once, so a receiver that never answers
    /// holds one slot for `webhooks.timeout`, not everyone's deliveries.
    async fn run(self) {
        let this = Arc::new(self);
        let mut attempts = JoinSet::new();
        loop {
            let room = IN_FLIGHT - attempts.len();
            if room > 0 {
                let limit = u32::try_from(room).unwrap_or(u32::MAX);
                match this
                    .registry
                    .store()
                    .claim_deliveries(Utc::now(), this.lease(), limit)
                    .await
                {
                    Ok(deliveries) => {
                        let more_may_be_due = deliveries.len() == room;
                        for delivery in deliveries {
                            let worker = this.clone();
                            attempts.spawn(async move { worker.deliver(delivery).await });
                        }
                        if more_may_be_due {
                            continue;
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "claiming webhook deliveries failed"),
                }
            }
            let wake = this.registry.outbox_signal().notified();
            tokio::select! {
                Some(_) = attempts.join_next(), if !attempts.is_empty() => {}
                _ = wake => {}
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
            }
        }
    }

    async fn deliver(&self, delivery: Delivery) {
        let message = &delivery.message;
        let started = Instant::now();
        let at = crate::domain::now();
        let outcome = self.post(&delivery, at).await;
        let (status, error) = match &outcome {
            Ok(status) if (200..300).contains(status) => (Some(*status), None),
            Ok(status) => (Some(*status), Some(format!("receiver answered {status}"))),
            Err(e) => (None, Some(truncate(e.clone()))),
        };
        let succeeded = error.is_none();
        let next = if succeeded {
            NextStep::Delivered
        } else {
            self.after_failure(message.created_at, message.attempts + 1, at)
        };
        metrics::counter!("updater_webhook_deliveries_total", "outcome" => if succeeded { "delivered" } else { "failed" }).increment(1);
        if !succeeded {
            tracing::warn!(webhook_id = %message.webhook_id, message_id = %message.id, error = error.as_deref().unwrap_or(""), next = ?next, "webhook delivery failed");
        }
        let attempt = DeliveryAttempt {
            message_id: message.id.clone(),
            webhook_id: message.webhook_id.clone(),
            event_type: message.event_type.clone(),
            at,
            status,
            error,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            succeeded,
        };
        if let Err(e) = self.registry.store().finish_delivery(&attempt, next).await {
            // The claim expires and the message is attempted again: at least once.
            tracing::warn!(error = %e, message_id = %attempt.message_id, "recording a webhook delivery failed");
        }
    }

    /// The receiver's status, or why there was none.
    async fn post(&self, delivery: &Delivery, at: DateTime<Utc>) -> Result<u16, String> {
        let message = &delivery.message;
        let settings = &self.settings;
        super::check_target(
            &delivery.url,
            settings.allow_http,
            settings.allow_private_addresses,
        )
        .map_err(|e| format!("target {e}"))?;
        let timestamp = at.timestamp();
        let signature = sign(&delivery.secret, &message.id, timestamp, &message.body)
            .ok_or("the webhook's secret is not a whsec_ secret")?;
        let response = self
            .client
            .post(&delivery.url)
            .header("content-type", "application/json")
            .header("webhook-id", &message.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(message.body.clone())
            .send()
            .await
            // The URL may carry a receiver's token in its query: never logged.
            .map_err(|e| crate::verify::describe_error(&e.without_url()))?;
        Ok(response.status().as_u16())
    }

    fn after_failure(&self, created: DateTime<Utc>, attempts: u32, now: DateTime<Utc>) -> NextStep {
        let settings = &self.settings;
        let wait = settings
            .backoff_initial
            .saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1)))
            .min(settings.backoff_max);
        let wait = chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
        let give_up_at = created
            + chrono::Duration::from_std(settings.retry_for).unwrap_or(chrono::Duration::MAX);
        let next = now + wait;
        if next > give_up_at {
            NextStep::GiveUp
        } else {
            NextStep::RetryAt(next)
        }
    }
}

/// Keeps the delivery log's error text short.
fn truncate(mut text: String) -> String {
    if text.len() > MAX_ERROR_LEN {
        let mut end = MAX_ERROR_LEN;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}
