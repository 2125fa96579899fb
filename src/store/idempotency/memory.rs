//! Idempotency records in memory, for the memory store.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{ClaimOutcome, IdempotencyClaim, StoredResponse};

struct Record {
    fingerprint: String,
    claim: String,
    /// `None` while pending.
    response: Option<StoredResponse>,
    created_at: DateTime<Utc>,
}

/// Keyed by (principal, key).
#[derive(Default)]
pub struct MemoryIdempotency(HashMap<(String, String), Record>);

impl MemoryIdempotency {
    pub fn claim(&mut self, claim: &IdempotencyClaim) -> ClaimOutcome {
        let id = (claim.principal.clone(), claim.key.clone());
        if let Some(record) = self.0.get(&id) {
            let abandoned = record.response.is_none() && record.created_at < claim.abandoned_before;
            if !abandoned && record.created_at >= claim.expired_before {
                return match &record.response {
                    None => ClaimOutcome::InFlight {
                        fingerprint: record.fingerprint.clone(),
                    },
                    Some(response) => ClaimOutcome::Completed {
                        fingerprint: record.fingerprint.clone(),
                        response: response.clone(),
                    },
                };
            }
        }
        let record = Record {
            fingerprint: claim.fingerprint.clone(),
            claim: claim.claim.clone(),
            response: None,
            created_at: claim.now,
        };
        self.0.insert(id, record);
        ClaimOutcome::Claimed
    }

    /// The pending record `claim` holds, if it still does.
    fn pending(&mut self, claim: &IdempotencyClaim) -> Option<&mut Record> {
        let id = (claim.principal.clone(), claim.key.clone());
        self.0
            .get_mut(&id)
            .filter(|r| r.claim == claim.claim && r.response.is_none())
    }

    pub fn complete(&mut self, claim: &IdempotencyClaim, response: &StoredResponse) {
        if let Some(record) = self.pending(claim) {
            record.response = Some(response.clone());
            record.created_at = Utc::now();
        }
    }

    pub fn release(&mut self, claim: &IdempotencyClaim) {
        if self.pending(claim).is_some() {
            self.0.remove(&(claim.principal.clone(), claim.key.clone()));
        }
    }

    pub fn prune(&mut self, before: DateTime<Utc>) -> u64 {
        let count = self.0.len();
        self.0.retain(|_, r| r.created_at >= before);
        (count - self.0.len()) as u64
    }
}
