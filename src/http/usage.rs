//! What every update-check handler tells the analytics: the track asked
//! about, the version running, and the answer.

use semver::Version;

use crate::analytics::CheckRecord;
use crate::domain::analytics::Outcome;
use crate::domain::{Offer, UpdateQuery};
use crate::http::AppState;

/// A check of a known application, before its answer is counted.
pub struct Checked<'a> {
    pub app_id: &'a str,
    pub channel: &'a str,
    pub platform: &'a str,
    pub architecture: &'a str,
    /// `None` when the protocol does not send it.
    pub current: Option<&'a Version>,
    pub install_id: Option<&'a str>,
}

impl Checked<'_> {
    fn count(&self, state: &AppState, outcome: Outcome, offered: Option<&Version>) {
        state.analytics.record(
            CheckRecord {
                application_id: self.app_id,
                channel: self.channel,
                platform: self.platform,
                architecture: self.architecture,
                current_version: self.current,
                outcome,
                offered,
                install: None,
            },
            self.install_id,
        );
    }

    /// A release was offered (`rollback`: an older one, replacing a yanked release).
    pub fn offered(&self, state: &AppState, version: &Version, rollback: bool) {
        let outcome = if rollback {
            Outcome::Rollback
        } else {
            Outcome::Offered
        };
        self.count(state, outcome, Some(version));
    }

    /// Nothing was offered; `query` tells whether a rollout held an update back.
    pub fn nothing(&self, state: &AppState, query: &UpdateQuery<'_>) {
        let held_back =
            state.analytics.enabled() && state.registry.read(|c| c.held_back(self.app_id, query));
        let outcome = if held_back {
            Outcome::RolloutExcluded
        } else {
            Outcome::None
        };
        self.count(state, outcome, None);
    }

    /// The client was told of a release its rollout does not admit it to.
    pub fn held_back(&self, state: &AppState) {
        self.count(state, Outcome::RolloutExcluded, None);
    }

    /// A client protocol's answer: the offer it sent, or none.
    pub fn answered(&self, state: &AppState, query: &UpdateQuery<'_>, offer: Option<&Offer>) {
        match offer {
            Some(offer) => self.offered(state, offer.release.version(), offer.rollback),
            None => self.nothing(state, query),
        }
    }

    /// A feed listing releases for the client to choose from: counted as an
    /// offer of the newest one when it is newer than what the client runs
    /// (or the client does not say).
    pub fn listed(&self, state: &AppState, newest: Option<&Version>) {
        match newest.filter(|v| self.current.is_none_or(|current| *v > current)) {
            Some(version) => self.count(state, Outcome::Offered, Some(version)),
            None => self.count(state, Outcome::None, None),
        }
    }
}
