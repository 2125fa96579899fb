//! The applications the viewer's key may see, and one application's
//! releases by channel (all platforms, or one) with their files,
//! signatures and rollout state.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{columns, digest, page, scrolling, when};
use super::rollout::{Action, action_path};
use super::session::Viewer;
use super::{ConsoleError, OrPage, app_path};
use crate::config::Permission;
use crate::domain::catalog::{ReleaseFilter, ReleaseSortField};
use crate::domain::{Application, Artifact, Release, parse_platform};
use crate::http::AppState;
use crate::http::download::labels::{checksum, size};
use crate::http::error::ApiError;
use crate::http::extract::valid_app_id;

/// Releases shown on an application's page, newest first; the API pages
/// through the rest.
const RELEASES_SHOWN: usize = 200;
const APPLICATIONS_SHOWN: usize = 1000;

pub async fn list(viewer: Viewer, State(state): State<AppState>) -> Response {
    let principal = &viewer.caller.principal;
    let (apps, total) = state.registry.read(|catalog| {
        let page = catalog.applications_matching(
            |id| principal.allows_application(id),
            0,
            APPLICATIONS_SHOWN,
        );
        let apps: Vec<(Application, usize)> = page
            .items
            .into_iter()
            .map(|app| {
                let count = catalog.release_count(&app.id);
                (app, count)
            })
            .collect();
        (apps, page.total)
    });
    let content = html! {
        h1 { "Applications" }
        @if apps.is_empty() {
            p { "This key may see no application yet." }
        } @else {
            (scrolling("Applications", html! {
                table {
                    caption { (total) " application" @if total != 1 { "s" } }
                    (columns(&["Name", "Id", "Platforms", "Releases"]))
                    tbody {
                        @for (app, count) in &apps {
                            tr {
                                th scope="row" { a href=(app_path(&app.id)) { (app.name) } }
                                td { code { (app.id) } }
                                td { (app.platforms.join(", ")) }
                                td.number { (count) }
                            }
                        }
                    }
                }
            }))
        }
    };
    page(&viewer, "Applications", content)
}

/// The application, if the viewer's key may see it: the same 403 whether
/// it exists or not, then a 404.
pub(super) fn visible_application(
    viewer: &Viewer,
    state: &AppState,
    app_id: &str,
    headers: &HeaderMap,
) -> Result<Application, ConsoleError> {
    valid_app_id(app_id, "app").or_page(headers)?;
    viewer
        .caller
        .check_application(state, app_id)
        .or_page(headers)?;
    state
        .registry
        .read(|c| c.application(app_id).cloned())
        .ok_or_else(|| ApiError::application_not_found(app_id))
        .or_page(headers)
}

#[derive(Deserialize)]
pub struct ReleaseQuery {
    platform: Option<String>,
}

/// The platform the page is narrowed to; empty is every platform.
fn platform_filter(query: &ReleaseQuery) -> Result<Option<&'static str>, ApiError> {
    match query.platform.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => parse_platform(text)
            .map(Some)
            .map_err(|e| ApiError::field("platform", e)),
    }
}

pub async fn show(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    Query(query): Query<ReleaseQuery>,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    let app = visible_application(&viewer, &state, &app_id, &headers)?;
    let platform = platform_filter(&query).or_page(&headers)?;
    let filter = ReleaseFilter {
        platforms: platform.iter().map(|p| p.to_string()).collect(),
        ..ReleaseFilter::default()
    };
    let releases = state.registry.read(|c| {
        c.releases(
            &app_id,
            &filter,
            ReleaseSortField::Version,
            true,
            0,
            RELEASES_SHOWN,
        )
    });
    let (releases, total) = releases.map_or((Vec::new(), 0), |p| (p.items, p.total));
    let mut by_channel: BTreeMap<&str, Vec<&Arc<Release>>> = BTreeMap::new();
    for release in &releases {
        by_channel
            .entry(&release.channel)
            .or_default()
            .push(release);
    }
    let may_change = viewer.caller.principal.allows(Permission::Rollout);
    let content = html! {
        h1 { (app.name) }
        p.subtitle { code { (app.id) } @if !app.description.is_empty() { " \u{2013} " (app.description) } }
        p.actions {
            a href={ (app_path(&app.id)) "/adoption" } { "Adoption" }
            @if app.config.download_page {
                " \u{b7} " a href={ "/download/" (app.id) } { "Public download page" }
            }
        }
        (checks(&app))
        form.inline method="get" action=(app_path(&app.id)) {
            label for="platform" { "Platform" }
            select #platform name="platform" {
                option value="" selected[platform.is_none()] { "All platforms" }
                @for name in &app.platforms {
                    option value=(name) selected[platform == Some(name.as_str())] { (name) }
                }
            }
            button type="submit" { "Show" }
        }
        @if releases.is_empty() {
            p { "No release has been published yet." }
        }
        @if total > releases.len() {
            p.note { "The newest " (releases.len()) " of " (total) " releases; the API lists them all." }
        }
        @for (channel, releases) in &by_channel {
            section aria-labelledby={ "channel-" (channel) } {
                h2 id={ "channel-" (channel) } { "Channel " (channel) }
                (release_table(&app, channel, releases, may_change))
            }
        }
    };
    Ok(page(&viewer, &app.name, content))
}

/// What registration checks for this application.
fn checks(app: &Application) -> Markup {
    let config = &app.config;
    html! {
        dl.checks {
            dt { "Files at registration" }
            dd {
                @if config.verify_on_register { "downloaded and checked (size, digests, signatures)" }
                @else { "not downloaded (verify_on_register is off)" }
            }
            dt { "Tauri signatures" }
            dd { @if config.tauri_public_key.is_some() { "required, checked against the application's key" } @else { "not required (no tauri_public_key)" } }
            dt { "Sparkle signatures" }
            dd { @if config.sparkle_public_key.is_some() { "required, checked against the application's key" } @else { "not required (no sparkle_public_key)" } }
        }
    }
}

fn signature_status(app: &Application, file: &Artifact) -> &'static str {
    let config = &app.config;
    match (&file.signature, &file.ed_signature) {
        (Some(_), _) if config.tauri_public_key.is_some() => "minisign, checked",
        (Some(_), _) => "minisign, not checked",
        (None, Some(_)) if config.sparkle_public_key.is_some() => "EdDSA, checked",
        (None, Some(_)) => "EdDSA, not checked",
        (None, None) => "unsigned",
    }
}

fn rollout_state(release: &Release) -> Markup {
    html! {
        @if release.yanked {
            span.badge.yanked { "Yanked" }
            @if !release.yank_reason.is_empty() { " " span.reason { (release.yank_reason) } }
        } @else if release.rollout.paused {
            span.badge.paused { "Paused" } " at " (release.rollout.percentage) " %"
        } @else if release.rollout.percentage < 100 {
            span.badge.partial { (release.rollout.percentage) " %" }
        } @else {
            span.badge.full { "Everyone" }
        }
    }
}

fn release_table(
    app: &Application,
    channel: &str,
    releases: &[&Arc<Release>],
    may_change: bool,
) -> Markup {
    let mut headings = vec!["Version", "Target", "Released", "Files", "Rollout"];
    if may_change {
        headings.push("Change");
    }
    scrolling(
        &format!("Releases in channel {channel}"),
        html! {
            table.releases {
                (columns(&headings))
                tbody {
                    @for release in releases {
                        tr id={ "release-" (release.id()) } {
                            th scope="row" {
                                (release.version())
                                @if release.required { " " span.badge { "required" } }
                            }
                            td { (release.key.platform) " / " (release.key.architecture) }
                            td { (when(release.release_date)) }
                            td { (files(app, release)) }
                            td { (rollout_state(release)) }
                            @if may_change { td { (controls(release)) } }
                        }
                    }
                }
            }
        },
    )
}

fn files(app: &Application, release: &Release) -> Markup {
    html! {
        ul.files {
            @for file in &release.files {
                li {
                    a href=(file.url) rel="noreferrer" { (file.file_name()) }
                    " " span.kind { (file.kind.as_str()) } ", " (size(file.size))
                    @if let Some((algorithm, hex)) = checksum(file) { ", " (algorithm) " " (digest(hex)) }
                    ", " span.signature { (signature_status(app, file)) }
                }
            }
        }
    }
}

/// Links to the confirmation of each change this release can take.
fn controls(release: &Release) -> Markup {
    let raise = action_path(release, Action::Raise);
    html! {
        @if !release.yanked {
            form.inline method="get" action=(raise) {
                label for={ "pct-" (release.id()) } { "Rollout %" }
                input id={ "pct-" (release.id()) } type="number" name="percentage" min="0" max="100"
                    value=(release.rollout.percentage) required;
                button type="submit" { "Review" }
            }
            @if release.rollout.paused {
                a.button href=(action_path(release, Action::Resume)) { "Resume" }
            } @else {
                a.button href=(action_path(release, Action::Pause)) { "Pause" }
            }
            " "
            a.button.danger href=(action_path(release, Action::Yank)) { "Yank" }
        } @else {
            a.button href=(action_path(release, Action::Restore)) { "Restore" }
        }
    }
}
