//! The session cookie, the signed-in viewer of a page, and the checks every
//! form post passes: same origin, the session's CSRF token, a small
//! url-encoded body.
//!
//! The cookie is `HttpOnly` and `SameSite=Strict`; with TLS (or
//! `console.secure_cookie`) it is also `Secure` and named `__Host-…`, which
//! a browser only accepts from this host over HTTPS with `Path=/`.

use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;

use super::{ConsoleError, OrPage};
use crate::access::SignedIn;
use crate::http::AppState;
use crate::http::auth::Caller;
use crate::http::error::ApiError;

const PLAIN_COOKIE: &str = "updater_console";
const SECURE_COOKIE: &str = "__Host-updater_console";
/// Console forms carry a token and a few short fields.
const MAX_FORM_BYTES: usize = 16 * 1024;
pub(super) const LOGIN_PATH: &str = "/console/login";

fn secure(state: &AppState) -> bool {
    state.settings.server.tls.enabled() || state.settings.console.secure_cookie
}

/// The cookie's name and attributes: `__Host-`, `Secure` and `Path=/` with TLS.
fn cookie_form(state: &AppState) -> (&'static str, &'static str) {
    if secure(state) {
        (SECURE_COOKIE, "Path=/; HttpOnly; Secure; SameSite=Strict")
    } else {
        (PLAIN_COOKIE, "Path=/console; HttpOnly; SameSite=Strict")
    }
}

/// The `Set-Cookie` value that starts a session.
pub(super) fn session_cookie(state: &AppState, id: &str) -> HeaderValue {
    let (name, attributes) = cookie_form(state);
    HeaderValue::from_str(&format!("{name}={id}; {attributes}")).expect("a session id is base64url")
}

/// The `Set-Cookie` value that removes the session cookie.
pub(super) fn cleared_cookie(state: &AppState) -> HeaderValue {
    let (name, attributes) = cookie_form(state);
    HeaderValue::from_str(&format!("{name}=; {attributes}; Max-Age=0"))
        .expect("the cookie's name and attributes are ASCII")
}

/// The session id the request's cookie carries, if any.
pub(super) fn session_id(headers: &HeaderMap, state: &AppState) -> Option<String> {
    let (name, _) = cookie_form(state);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
        .filter(|value| !value.is_empty())
}

/// The signed-in key of a console request, as it is now (a key revoked
/// since sign-in ends the session).
pub struct Viewer {
    pub caller: Caller,
    pub session: SignedIn,
    pub session_id: String,
}

impl Viewer {
    fn resolve(parts: &Parts, state: &AppState) -> Option<Self> {
        let session_id = session_id(&parts.headers, state)?;
        let session = state.console_sessions.touch(&session_id)?;
        let Some(principal) = state.keys.resolve(&session.handle) else {
            state.console_sessions.end(&session_id);
            return None;
        };
        Some(Self {
            caller: Caller::new(principal, parts),
            session,
            session_id,
        })
    }
}

/// Without a live session a page sends the browser to the sign-in form.
pub struct SignInFirst;

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        Redirect::to(LOGIN_PATH).into_response()
    }
}

impl OptionalFromRequestParts<AppState> for Viewer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(Viewer::resolve(parts, state))
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = SignInFirst;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, SignInFirst> {
        Viewer::resolve(parts, state).ok_or(SignInFirst)
    }
}

/// Refuses a post another site made the browser send. Browsers mark every
/// request with `Sec-Fetch-Site` and cross-origin posts with `Origin`; a
/// request with neither comes from no browser, so no other site made it.
pub(super) fn check_same_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let refused = || {
        ApiError::forbidden("This form was sent from another site; reload the page and try again")
    };
    if let Some(site) = headers.get("sec-fetch-site") {
        return match site.as_bytes() {
            b"same-origin" => Ok(()),
            _ => Err(refused()),
        };
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| url::Url::parse(o).ok())
        .and_then(|u| {
            let host = u.host_str()?.to_string();
            Some(match u.port() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            })
        });
    match (origin_host, host) {
        (Some(origin), Some(host)) if origin.eq_ignore_ascii_case(host) => Ok(()),
        _ => Err(refused()),
    }
}

/// A url-encoded form body of at most [`MAX_FORM_BYTES`], from this site.
pub(super) async fn read_form<T: DeserializeOwned>(
    request: Request,
) -> Result<(Parts, T), ConsoleError> {
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    check_same_origin(headers).or_page(headers)?;
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return Err(ApiError::bad_request(
            "send the form as application/x-www-form-urlencoded",
        ))
        .or_page(headers);
    }
    // Read up to the limit only: a larger body is refused before it is all sent.
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| {
            ApiError::bad_request(format!(
                "the form could not be read or is larger than {MAX_FORM_BYTES} bytes"
            ))
        })
        .or_page(headers)?;
    let form = serde_urlencoded::from_bytes(&bytes)
        .map_err(|e| ApiError::bad_request(format!("the form is not valid: {e}")))
        .or_page(headers)?;
    Ok((parts, form))
}

/// A form post of a signed-in viewer, with the session's CSRF token.
pub struct SessionForm<T> {
    pub viewer: Viewer,
    pub headers: HeaderMap,
    pub form: T,
}

/// The field every session form carries.
pub trait WithCsrf {
    fn csrf(&self) -> &str;
}

impl<T> FromRequest<AppState> for SessionForm<T>
where
    T: DeserializeOwned + WithCsrf + Send,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (parts, form): (Parts, T) = read_form(request)
            .await
            .map_err(IntoResponse::into_response)?;
        let viewer = Viewer::resolve(&parts, state).ok_or_else(|| SignInFirst.into_response())?;
        if !viewer.session.csrf_matches(form.csrf()) {
            tracing::warn!(event = "csrf_refused", key_name = %viewer.caller.name(), "a console form came without its session's token");
            return Err(ConsoleError::new(
                ApiError::forbidden("This form has expired; reload the page and try again"),
                &parts.headers,
            )
            .into_response());
        }
        Ok(Self {
            viewer,
            headers: parts.headers,
            form,
        })
    }
}
