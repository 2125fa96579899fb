//! The page shell every console page shares, and small pieces of markup.
//! maud escapes every value it interpolates; the console has no
//! `PreEscaped` except the charts, which plotters drew from numbers and
//! escaped labels.

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

use super::session::Viewer;
use super::{HOME, ICON_PATH, STYLESHEET_PATH};
use crate::config::Permission;
use crate::http::assets::html as html_response;

/// Where the viewer may go: audit, keys and webhooks need an unscoped admin key.
fn navigation(viewer: &Viewer) -> Markup {
    let principal = &viewer.caller.principal;
    let admin = principal.allows(Permission::Admin) && !principal.is_scoped();
    html! {
        nav aria-label="Console" {
            ul {
                li { a href=(HOME) { "Applications" } }
                @if admin {
                    li { a href="/console/audit" { "Audit log" } }
                    li { a href="/console/keys" { "Keys" } }
                    li { a href="/console/webhooks" { "Webhooks" } }
                }
            }
        }
    }
}

fn document(title: &str, header: Markup, content: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " \u{2013} updater console" }
                link rel="stylesheet" href=(STYLESHEET_PATH);
                link rel="icon" type="image/svg+xml" href=(ICON_PATH);
            }
            body {
                a.skip href="#content" { "Skip to content" }
                header.top { (header) }
                main #content tabindex="-1" { (content) }
            }
        }
    }
    .into_string()
}

/// A page for a signed-in viewer: navigation, who is signed in, sign-out.
pub fn page(viewer: &Viewer, title: &str, content: Markup) -> Response {
    let header = html! {
        p.brand { a href=(HOME) { "updater console" } }
        (navigation(viewer))
        form.signout method="post" action="/console/logout" {
            input type="hidden" name="csrf" value=(viewer.session.csrf_token);
            span.who { "Signed in as " strong { (viewer.caller.name()) } }
            " "
            button type="submit" { "Sign out" }
        }
    };
    html_response(document(title, header, content))
}

/// A page for nobody in particular: sign-in, errors.
pub fn public_page(title: &str, content: Markup) -> Response {
    let header = html! { p.brand { a href=(HOME) { "updater console" } } };
    html_response(document(title, header, content))
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    public_page(
        reason,
        html! {
            h1 { (status.as_u16()) " " (reason) }
            p.problem role="alert" { (message) }
            p { a href=(HOME) { "Back to the console" } }
        },
    )
}

/// A table's header row, one column heading per name.
pub fn columns(names: &[&str]) -> Markup {
    html! {
        thead { tr { @for name in names { th scope="col" { (name) } } } }
    }
}

/// A table that scrolls sideways inside its own focusable region on a
/// narrow screen, instead of widening the page.
pub fn scrolling(label: &str, table: Markup) -> Markup {
    html! {
        div.scroll role="region" tabindex="0" aria-label=(label) { (table) }
    }
}

pub fn when(at: DateTime<Utc>) -> Markup {
    html! {
        time datetime=(at.to_rfc3339()) { (at.format("%Y-%m-%d %H:%M UTC")) }
    }
}

/// The first 12 characters of a digest, the whole of it in the title.
pub fn digest(hex: &str) -> Markup {
    let short: String = hex.chars().take(12).collect();
    html! { code title=(hex) { (short) "\u{2026}" } }
}
