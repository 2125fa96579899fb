//! Managed keys and webhooks, read-only here (they are created, rotated and
//! revoked through the API or `updater keys`), for unscoped admin keys.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Utc;
use maud::html;

use super::layout::{columns, page, scrolling, when};
use super::session::Viewer;
use super::{ConsoleError, OrPage};
use crate::config::Permission;
use crate::http::AppState;

/// As the API's keys, webhooks and audit routes: `admin`, not scoped.
pub(super) fn require_global_admin(
    viewer: &Viewer,
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(), ConsoleError> {
    let caller = &viewer.caller;
    caller
        .check_permission(state, Permission::Admin)
        .or_page(headers)?;
    caller.check_unscoped(state).or_page(headers)
}

pub async fn keys(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    require_global_admin(&viewer, &state, &headers)?;
    let keys = state.registry.store().load_keys().await.or_page(&headers)?;
    let now = Utc::now();
    let content = html! {
        h1 { "Managed keys" }
        p { "Keys are created, rotated and revoked with " code { "updater keys" } " or the API; "
            "configured keys (" code { "security.api_keys" } ") are not listed." }
        @if keys.is_empty() {
            p { "No managed key yet." }
        } @else {
            (scrolling("Managed keys", html! {
                table {
                    (columns(&["Name", "Id", "Permissions", "Applications", "Status", "Last used"]))
                    tbody {
                        @for key in &keys {
                            tr {
                                th scope="row" { (key.name) }
                                td { code { (key.id) } }
                                td { (key.permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")) }
                                td { @match &key.applications {
                                    None => "all",
                                    Some(apps) => (apps.iter().cloned().collect::<Vec<_>>().join(", ")),
                                } }
                                td { (key.status(now).as_str()) }
                                td { @match key.last_used_at { Some(at) => (when(at)), None => "never" } }
                            }
                        }
                    }
                }
            }))
        }
    };
    Ok(page(&viewer, "Managed keys", content))
}

pub async fn webhooks(
    viewer: Viewer,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    require_global_admin(&viewer, &state, &headers)?;
    let hooks = state.registry.store().webhooks().await.or_page(&headers)?;
    let content = html! {
        h1 { "Webhooks" }
        p { "Webhooks are added and removed through the API; their delivery log is at "
            code { "/api/v1/webhooks/{id}/deliveries" } "." }
        @if hooks.is_empty() {
            p { "No webhook yet." }
        } @else {
            (scrolling("Webhooks", html! {
                table {
                    (columns(&["URL", "Id", "Events", "Application", "Created"]))
                    tbody {
                        @for hook in &hooks {
                            tr {
                                th scope="row" { code { (hook.url) } }
                                td { code { (hook.id) } }
                                td { (hook.events.join(", ")) }
                                td { (hook.application_id.as_deref().unwrap_or("all")) }
                                td { (when(hook.created_at)) " by " (hook.created_by) }
                            }
                        }
                    }
                }
            }))
        }
    };
    Ok(page(&viewer, "Webhooks", content))
}
