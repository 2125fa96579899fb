//! Signing in with an API key (which needs `read`) and signing out.
//!
//! The key is checked exactly as a bearer key is, under the same lock-outs,
//! and never kept: the session holds which key it was. Every sign-in gets
//! a new session id, and a session cookie the browser already had is ended,
//! so an id planted before sign-in (session fixation) is worth nothing.
//! There is no session to carry a CSRF token yet, so the sign-in form is
//! guarded by the same-origin check alone, which also stops a forged
//! sign-in into someone else's key (login CSRF).

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::public_page;
use super::session::{
    LOGIN_PATH, SessionForm, Viewer, WithCsrf, cleared_cookie, read_form, session_cookie,
    session_id,
};
use super::{ConsoleError, HOME, OrPage};
use crate::config::Permission;
use crate::domain::audit::AuditRecord;
use crate::http::AppState;
use crate::http::auth::{Caller, authenticate_key};
use crate::http::error::ApiError;

/// A sign-in or sign-out is audited; a store that does not answer in this
/// long does not hold the sign-in up (the failure is logged).
const AUDIT_DEADLINE: Duration = Duration::from_secs(5);

fn login_page(status: StatusCode, problem: Option<&str>) -> Response {
    let content: Markup = html! {
        h1 { "Sign in" }
        p { "Sign in with an API key that may read (managed or configured). "
            "What you see and may change is what the key allows." }
        @if let Some(problem) = problem {
            p.problem role="alert" #login-problem { (problem) }
        }
        form.login method="post" action=(LOGIN_PATH) {
            // Password managers file the key under this name; not sent.
            input type="text" autocomplete="username" value="updater console" hidden aria-hidden="true";
            label for="key" { "API key" }
            input #key type="password" name="key" required autocomplete="current-password"
                autofocus aria-describedby=[problem.map(|_| "login-problem")];
            button type="submit" { "Sign in" }
        }
    };
    let mut response = public_page("Sign in", content);
    *response.status_mut() = status;
    response
}

pub async fn form(viewer: Option<Viewer>) -> Response {
    if viewer.is_some() {
        return Redirect::to(HOME).into_response();
    }
    login_page(StatusCode::OK, None)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    key: String,
}

pub async fn sign_in(State(state): State<AppState>, request: Request) -> Response {
    match signed_in(&state, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn signed_in(state: &AppState, request: Request) -> Result<Response, ConsoleError> {
    let (parts, form): (_, LoginForm) = read_form(request).await?;
    let headers = &parts.headers;
    if form.key.trim().is_empty() {
        return Ok(login_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("Enter an API key."),
        ));
    }
    let (principal, handle) = match authenticate_key(&parts, state, &form.key) {
        Ok(found) => found,
        Err(error) if error.status() == StatusCode::UNAUTHORIZED => {
            return Ok(login_page(StatusCode::UNAUTHORIZED, Some(error.message())));
        }
        Err(error) => return Err(ConsoleError::new(error, headers)),
    };
    let caller = Caller::new(principal, &parts);
    caller
        .check_permission(state, Permission::Read)
        .or_page(headers)?;
    if let Some(planted) = session_id(headers, state) {
        state.console_sessions.end(&planted);
    }
    let session = state
        .console_sessions
        .create(handle)
        .map_err(ApiError::internal)
        .or_page(headers)?;
    audit(state, &caller, "console.signed_in").await;
    tracing::info!(event = "security_audit", action = "console_signed_in", key_name = %caller.name());
    let mut response = Redirect::to(HOME).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(state, &session.id));
    Ok(response)
}

#[derive(Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

impl WithCsrf for SignOutForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub async fn sign_out(
    State(state): State<AppState>,
    SessionForm { viewer, .. }: SessionForm<SignOutForm>,
) -> Response {
    state.console_sessions.end(&viewer.session_id);
    audit(&state, &viewer.caller, "console.signed_out").await;
    let mut response = Redirect::to(LOGIN_PATH).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cleared_cookie(&state));
    response
}

async fn audit(state: &AppState, caller: &Caller, action: &'static str) {
    let record = AuditRecord::new(&caller.origin, action, caller.name().to_string());
    let written =
        tokio::time::timeout(AUDIT_DEADLINE, state.registry.store().record_audit(&record)).await;
    match written {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, action, "writing an audit entry failed"),
        Err(_) => tracing::warn!(action, "writing an audit entry timed out"),
    }
}
