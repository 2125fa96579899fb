//! Rollout control: raise (or lower), pause, resume, yank and restore a
//! release, each behind a confirmation page that says how many installs the
//! change reaches, from the analytics: unique installs seen in the last 30
//! days on the release's track (platform, architecture, channel) that run
//! an older version (they are who a rollout change offers it to or holds it
//! back from), or for a yank, the installs running that very version (they
//! are who a newer release or a rollback is offered to next).
//!
//! The change needs the `rollout` permission, goes through the registry as
//! the API's `PATCH` does (the same audit entry and webhooks), and answers
//! with a redirect back to the application's page.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::page;
use super::session::{SessionForm, Viewer, WithCsrf};
use super::{ConsoleError, OrPage, app_path, encode};
use crate::config::Permission;
use crate::domain::Release;
use crate::domain::analytics::{TrackFilter, VersionFilter};
use crate::domain::validate::check_text;
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::releases::release_key;

const MAX_REASON_CHARS: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Raise,
    Pause,
    Resume,
    Yank,
    Restore,
}

impl Action {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "raise" => Self::Raise,
            "pause" => Self::Pause,
            "resume" => Self::Resume,
            "yank" => Self::Yank,
            "restore" => Self::Restore,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Raise => "raise",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Yank => "yank",
            Self::Restore => "restore",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::Raise => "Change the rollout",
            Self::Pause => "Pause the rollout",
            Self::Resume => "Resume the rollout",
            Self::Yank => "Yank the release",
            Self::Restore => "Restore the release",
        }
    }

    /// Whom the change reaches: installs below the version, or on it.
    fn versions(self, release: &Release) -> VersionFilter {
        match self {
            Self::Yank => VersionFilter::Exactly(release.version().clone()),
            _ => VersionFilter::Below(release.version().clone()),
        }
    }
}

pub fn action_path(release: &Release, action: Action) -> String {
    format!(
        "{}/releases/{}/{}/{}/{}",
        app_path(&release.key.application_id),
        encode(&release.version().to_string()),
        encode(&release.key.platform),
        encode(&release.key.architecture),
        action.as_str()
    )
}

type ActionPath = Path<(String, String, String, String, String)>;

/// What a confirmation or a change is about: the release, checked against
/// the key's scope and permission.
fn target(
    caller: &Caller,
    state: &AppState,
    Path((app_id, version, platform, arch, action)): ActionPath,
    headers: &HeaderMap,
) -> Result<(Action, Release), ConsoleError> {
    let action = Action::parse(&action)
        .ok_or_else(|| ApiError::not_found("no such rollout action"))
        .or_page(headers)?;
    let key = release_key(app_id, &version, &platform, &arch).or_page(headers)?;
    caller
        .check_application(state, &key.application_id)
        .or_page(headers)?;
    caller
        .check_permission(state, Permission::Rollout)
        .or_page(headers)?;
    let release = state
        .registry
        .read(|c| c.release(&key))
        .ok_or_else(|| ApiError::not_found(format!("no release {}", key.id())))
        .or_page(headers)?;
    let applies = match action {
        Action::Raise | Action::Pause | Action::Resume | Action::Yank => !release.yanked,
        Action::Restore => release.yanked,
    };
    if !applies {
        return Err(ApiError::conflict(match action {
            Action::Restore => "this release is not yanked",
            _ => "this release is yanked: restore it first",
        }))
        .or_page(headers);
    }
    Ok((action, Release::clone(&release)))
}

fn parse_percentage(text: Option<&str>) -> Result<u8, ApiError> {
    let text = text.ok_or_else(|| ApiError::field("percentage", "give the new rollout share"))?;
    text.trim()
        .parse::<u8>()
        .ok()
        .filter(|p| *p <= 100)
        .ok_or_else(|| ApiError::field("percentage", "must be a whole number from 0 to 100"))
}

/// The release after the change, or why the change is not one.
fn changed(
    action: Action,
    release: &Release,
    percentage: Option<&str>,
    reason: Option<&str>,
) -> Result<Release, ApiError> {
    let mut after = release.clone();
    match action {
        Action::Raise => {
            let percentage = parse_percentage(percentage)?;
            if percentage == release.rollout.percentage {
                return Err(ApiError::field(
                    "percentage",
                    format!("the rollout is at {percentage} % already"),
                ));
            }
            after.rollout.percentage = percentage;
        }
        Action::Pause => after.rollout.paused = true,
        Action::Resume => after.rollout.paused = false,
        Action::Yank => {
            after.yanked = true;
            after.yank_reason = reason.unwrap_or_default().trim().to_string();
            check_text(&after.yank_reason, MAX_REASON_CHARS, false)
                .map_err(|e| ApiError::field("reason", e))?;
        }
        Action::Restore => {
            after.yanked = false;
            after.yank_reason.clear();
        }
    }
    Ok(after)
}

fn describe(release: &Release) -> String {
    if release.yanked {
        "yanked".into()
    } else if release.rollout.paused {
        format!("paused at {} %", release.rollout.percentage)
    } else {
        format!("offered to {} % of installs", release.rollout.percentage)
    }
}

#[derive(Deserialize)]
pub struct ReviewQuery {
    percentage: Option<String>,
}

pub async fn confirm(
    viewer: Viewer,
    State(state): State<AppState>,
    path: ActionPath,
    Query(query): Query<ReviewQuery>,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    let (action, release) = target(&viewer.caller, &state, path, &headers)?;
    let after = changed(action, &release, query.percentage.as_deref(), None).or_page(&headers)?;
    let key = &release.key;
    let track = TrackFilter {
        platform: key.platform.clone(),
        architecture: key.architecture.clone(),
        channel: release.channel.clone(),
        versions: action.versions(&release),
    };
    let affected = state
        .analytics
        .active_installs(&key.application_id, &track)
        .await
        .or_page(&headers)?;
    let content = confirmation(&viewer, action, &release, &after, affected);
    Ok(page(&viewer, action.title(), content))
}

fn confirmation(
    viewer: &Viewer,
    action: Action,
    release: &Release,
    after: &Release,
    affected: u64,
) -> Markup {
    let who = match action {
        Action::Yank => "run this version",
        _ => "run an older version",
    };
    html! {
        h1 { (action.title()) }
        dl.summary {
            dt { "Release" } dd { (release.key.application_id) " " (release.version()) }
            dt { "Target" } dd { (release.key.platform) " / " (release.key.architecture) ", channel " (release.channel) }
            dt { "Now" } dd { (describe(release)) }
            dt { "After" } dd { (describe(after)) }
        }
        p.affected role="status" {
            strong #affected-installs { (affected) }
            " install" @if affected != 1 { "s" } " on this track " (who)
            " (unique installs that checked in during the last 30 days)."
        }
        form.confirm method="post" action=(action_path(release, action)) {
            input type="hidden" name="csrf" value=(viewer.session.csrf_token);
            @if action == Action::Raise {
                input type="hidden" name="percentage" value=(after.rollout.percentage);
            }
            @if action == Action::Yank {
                label for="reason" { "Reason (shown to admins)" }
                input #reason type="text" name="reason" maxlength=(MAX_REASON_CHARS);
            }
            button type="submit" .danger[action == Action::Yank] { "Confirm: " (action.title().to_lowercase()) }
            " "
            a href=(app_path(&release.key.application_id)) { "Cancel" }
        }
    }
}

#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    csrf: String,
    percentage: Option<String>,
    reason: Option<String>,
}

impl WithCsrf for ChangeForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub async fn apply(
    State(state): State<AppState>,
    path: ActionPath,
    SessionForm {
        viewer,
        headers,
        form,
    }: SessionForm<ChangeForm>,
) -> Result<Response, ConsoleError> {
    let (action, release) = target(&viewer.caller, &state, path, &headers)?;
    let key = &release.key;
    let after = changed(
        action,
        &release,
        form.percentage.as_deref(),
        form.reason.as_deref(),
    )
    .or_page(&headers)?;
    let updated = state
        .registry
        .update_release(&viewer.caller.origin, key, |release| {
            release.rollout = after.rollout;
            release.yanked = after.yanked;
            release.yank_reason = after.yank_reason.clone();
        })
        .await
        .or_page(&headers)?;
    tracing::info!(
        event = "security_audit",
        action = "release_updated",
        release = %key.id(),
        rollout_percentage = updated.rollout.percentage,
        rollout_paused = updated.rollout.paused,
        yanked = updated.yanked,
        key_name = %viewer.caller.name(),
        via = "console"
    );
    // Back to the changed row. Release ids are plain (validated id, semver,
    // platform and architecture names), so the fragment needs no escaping.
    let back = format!("{}#release-{}", app_path(&key.application_id), key.id());
    Ok(Redirect::to(&back).into_response())
}
