//! The audit log with filters (application, actor, action) and older pages,
//! for unscoped admin keys as in the API.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::admin::require_global_admin;
use super::layout::{columns, page, scrolling, when};
use super::session::Viewer;
use super::{ConsoleError, OrPage};
use crate::domain::audit::AuditQuery;
use crate::http::AppState;
use crate::http::audit::{MAX_FILTER_LEN, check_query};
use crate::http::error::ApiError;

const PAGE_SIZE: u32 = 50;

/// The filter form's fields; an empty field filters nothing.
#[derive(Deserialize, Default)]
pub struct AuditFilters {
    #[serde(default)]
    application: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    cursor: Option<String>,
}

impl AuditFilters {
    fn given(&self) -> [(&'static str, Option<&str>); 3] {
        fn given(value: &str) -> Option<&str> {
            Some(value.trim()).filter(|v| !v.is_empty())
        }
        [
            ("application", given(&self.application)),
            ("actor", given(&self.actor)),
            ("action", given(&self.action)),
        ]
    }
}

/// The query the form asks for, under the API's rules ([`check_query`]).
fn audit_query(filters: &AuditFilters) -> Result<AuditQuery, ApiError> {
    let before = match filters.cursor.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<i64>()
                .map_err(|_| ApiError::field("cursor", "must be a positive entry id"))?,
        ),
    };
    let [application, actor, action] = filters.given().map(|(_, v)| v.map(str::to_string));
    let query = AuditQuery {
        application_id: application,
        actor,
        action,
        before,
        limit: PAGE_SIZE,
        ..AuditQuery::default()
    };
    check_query(&query)?;
    Ok(query)
}

fn older_page(filters: &AuditFilters, cursor: i64) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in filters.given() {
        if let Some(value) = value {
            query.append_pair(name, value);
        }
    }
    query.append_pair("cursor", &cursor.to_string());
    format!("/console/audit?{}", query.finish())
}

pub async fn show(
    viewer: Viewer,
    State(state): State<AppState>,
    Query(filters): Query<AuditFilters>,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    require_global_admin(&viewer, &state, &headers)?;
    let query = audit_query(&filters).or_page(&headers)?;
    let entries = state
        .registry
        .store()
        .audit(&query)
        .await
        .or_page(&headers)?;
    let older = (entries.len() == PAGE_SIZE as usize)
        .then(|| entries.last().map(|e| older_page(&filters, e.id)))
        .flatten();
    let content = html! {
        h1 { "Audit log" }
        form.filters method="get" action="/console/audit" {
            div { label for="f-application" { "Application" } input #f-application type="text" name="application" value=(filters.application) maxlength=(MAX_FILTER_LEN); }
            div { label for="f-actor" { "Actor (key id or name)" } input #f-actor type="text" name="actor" value=(filters.actor) maxlength=(MAX_FILTER_LEN); }
            div { label for="f-action" { "Action (or prefix ending in .)" } input #f-action type="text" name="action" value=(filters.action) maxlength=(MAX_FILTER_LEN) placeholder="release."; }
            button type="submit" { "Filter" }
        }
        @if entries.is_empty() {
            p { "No entry matches." }
        } @else {
            (scrolling("Audit entries", html! {
                table.audit {
                    (columns(&["When", "Action", "Actor", "Application", "Target", "Changes"]))
                    tbody {
                        @for entry in &entries {
                            tr {
                                td { (when(entry.at)) }
                                th scope="row" { code { (entry.action) } }
                                td { (entry.actor.name) " " span.kind { "(" (entry.actor.kind.as_str()) ")" }
                                    @if let Some(ip) = &entry.client_ip { br; span.ip { (ip) } } }
                                td { (entry.application_id.as_deref().unwrap_or("\u{2013}")) }
                                td { code { (entry.target) } }
                                td {
                                    @if !entry.changes.0.is_empty() {
                                        ul.changes {
                                            @for change in &entry.changes.0 {
                                                li { (change.field) ": "
                                                    (change.before.as_deref().unwrap_or("\u{2013}")) " \u{2192} "
                                                    (change.after.as_deref().unwrap_or("\u{2013}")) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }))
        }
        @if let Some(older) = older {
            p { a href=(older) { "Older entries" } }
        }
    };
    Ok(page(&viewer, "Audit log", content))
}
