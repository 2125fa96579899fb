//! An application's adoption: the version distribution over time and the
//! rollout funnels as charts, each with the table it was drawn from (the
//! accessible reading of the chart). Figures: `docs/analytics.md`.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use super::apps::visible_application;
use super::charts::{self, MAX_LINES};
use super::layout::{columns, page, scrolling};
use super::session::Viewer;
use super::{ConsoleError, OrPage, app_path};
use crate::domain::analytics::{AppStats, StatsBy, StatsQuery};
use crate::http::AppState;
use crate::http::error::ApiError;

const RANGES: [u32; 3] = [7, 30, 90];

#[derive(Deserialize)]
pub struct AdoptionQuery {
    days: Option<String>,
}

fn range_days(query: &AdoptionQuery) -> Result<u32, ApiError> {
    match query.days.as_deref() {
        None => Ok(30),
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|d| RANGES.contains(d))
            .ok_or_else(|| ApiError::field("days", "must be 7, 30 or 90")),
    }
}

pub async fn show(
    viewer: Viewer,
    State(state): State<AppState>,
    Path(app_id): Path<String>,
    Query(query): Query<AdoptionQuery>,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    let app = visible_application(&viewer, &state, &app_id, &headers)?;
    let days = range_days(&query).or_page(&headers)?;
    let to = Utc::now();
    let query = StatsQuery {
        from: to - chrono::Duration::days(i64::from(days)),
        to,
        by: StatsBy::Version,
    };
    let stats = state
        .analytics
        .stats(&app_id, &query)
        .await
        .or_page(&headers)?;
    let content = html! {
        h1 { "Adoption of " (app.name) }
        p.actions { a href=(app_path(&app.id)) { "Releases" } }
        form.inline method="get" {
            label for="days" { "Range" }
            select #days name="days" {
                @for option in RANGES {
                    option value=(option) selected[option == days] { "Last " (option) " days" }
                }
            }
            button type="submit" { "Show" }
        }
        p.totals {
            strong { (stats.installs) } " unique installs and "
            strong { (stats.checks) } " update checks in the last " (days) " days."
        }
        (versions(&stats))
        (funnels(&stats))
    };
    Ok(page(&viewer, &format!("Adoption of {}", app.name), content))
}

fn chart(id: &str, label: &str, svg: String) -> Markup {
    html! {
        figure.chart id=(id) {
            @if svg.is_empty() {
                p { "The chart could not be drawn; the table below has its figures." }
            } @else {
                div.svg role="img" aria-label=(label) { (PreEscaped(svg)) }
            }
            figcaption { (label) }
        }
    }
}

fn versions(stats: &AppStats) -> Markup {
    let versions: Vec<String> = stats.groups.iter().map(|g| g.key.clone()).collect();
    html! {
        section aria-labelledby="versions-heading" {
            h2 #versions-heading { "Versions in use" }
            @if stats.groups.is_empty() {
                p { "No update check has been counted in this range yet." }
            } @else {
                (chart("versions-chart", "Share of each day's installs per version",
                    charts::share_over_time(&stats.series, &versions)))
                @if versions.len() > MAX_LINES {
                    p.note { "The chart draws the " (MAX_LINES) " versions with the most installs; the table has all." }
                }
                (scrolling("Versions in use", html! {
                    table {
                        (columns(&["Version", "Installs", "Share", "Checks"]))
                        tbody {
                            @for group in &stats.groups {
                                tr {
                                    th scope="row" { (group.key) }
                                    td.number { (group.installs) }
                                    td.number { (format!("{:.1} %", group.share * 100.0)) }
                                    td.number { (group.checks) }
                                }
                            }
                        }
                    }
                }))
            }
        }
    }
}

fn funnels(stats: &AppStats) -> Markup {
    html! {
        section aria-labelledby="funnel-heading" {
            h2 #funnel-heading { "Rollout funnel" }
            p { "Per release being rolled out and the newest of each track: installs of its track "
                "on an older version (eligible), those offered it, and those now running it." }
            @if stats.funnels.is_empty() {
                p { "No release to show." }
            } @else {
                (chart("funnel-chart", "Eligible, offered and running installs per release",
                    charts::funnel(&stats.funnels)))
                (scrolling("Rollout funnel", html! {
                    table {
                        (columns(&["Release", "Channel", "Rollout", "Eligible", "Offered", "Running"]))
                        tbody {
                            @for f in &stats.funnels {
                                tr {
                                    th scope="row" { (f.version) " " (f.platform) "/" (f.architecture) }
                                    td { (f.channel) }
                                    td { (f.rollout_percentage) " %" @if f.paused { ", paused" } }
                                    td.number { (f.eligible) }
                                    td.number { (f.offered) }
                                    td.number { (f.running) }
                                }
                            }
                        }
                    }
                }))
            }
        }
    }
}
